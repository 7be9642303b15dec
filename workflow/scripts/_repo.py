"""Imported first by every script: the scripts use the cassis_pipe of this checkout (the
repository holding this workflow), even when another copy is installed."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path[:1]:
    sys.path.insert(0, _ROOT)
