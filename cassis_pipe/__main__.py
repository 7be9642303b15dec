"""``python -m cassis_pipe`` runs the CLI."""

import sys

from cassis_pipe.cli import main

sys.exit(main())
