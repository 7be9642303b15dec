"""One vocabulary (issue 10, "Move 2"): each shared domain concept exists once in cassis_pipe.

The checks read the package source (ast), so they fail the moment a second ``Window``, a second
DAT reader or a second module of the same name is added, and they import the production
modules in a fresh interpreter to prove none of them drags in the simulator.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cassis_pipe"

#: concept -> the one module (relative to cassis_pipe/) that defines it
ONE_CLASS = {
    "Window": "instrument/detector.py",
    "MapGrid": "mapping/grid.py",
    "Framelet": "model.py",
}
ONE_FUNCTION = {
    "read_dat": "labels/dat.py",
    "read_product": "products/pds4.py",
    "write_calset": "calibrate/calfiles.py",
    "measure_shift": "register/correlate.py",   # register/mapshift.py has measure_map_shift
    "near_for_ratio_id": "codec/ratio.py",
}
#: module file names that still occur twice, with the reason; the list may only shrink (the
#: test fails for a new twin and for an entry that is no longer one)
KNOWN_TWIN_MODULES = {
    # stages/ modules are named after their Snakemake rule and commands/ modules after their
    # CLI command, which reuse library words (accepted: the rule <-> stage module <-> stage
    # JSON name is the contract of issue #10; commands/ are plug-ins named like the command)
    "accuracy.py": {"stages/accuracy.py", "sim/oracle/accuracy.py"},
    "bern.py": {"stages/bern.py", "labels/bern.py"},
    "frames.py": {"commands/frames.py", "instrument/frames.py"},
    "level0.py": {"stages/level0.py", "sim/synthetic/level0.py"},
    "rotation.py": {"stages/rotation.py", "register/rotation.py"},
    "simulate.py": {"stages/simulate.py", "commands/simulate.py"},
    "stitch.py": {"stages/stitch.py", "register/stitch.py"},
    "validate.py": {"stages/validate.py", "level0/validate.py", "products/validate.py"},
    "ingest.py": {"stages/ingest.py", "ops/ingest.py", "commands/ingest.py"},
    "targets.py": {"stages/targets.py", "archive/targets.py", "commands/targets.py"},
    "deliver.py": {"commands/deliver.py", "archive/deliver.py"},
    "downlink.py": {"commands/downlink.py", "sim/downlink.py"},
    "hk.py": {"commands/hk.py", "stages/hk.py", "telemetry/hk.py"},
    # the settings of the simulator and of the archive tools
    "config.py": {"sim/config.py", "archive/config.py"},
    # text-kernel parser (instrument) and the simulator's SPK/CK writer
    "kernels.py": {"instrument/kernels.py", "sim/kernels.py"},
    # one exception module per package (the usual Python layout)
    "errors.py": {"codec/errors.py", "telemetry/errors.py", "products/errors.py"},
    # the PDS4 label reader and the PDS4 product writer (+ read_product built on the reader);
    # products.pds4 is imported by most stages, so its rename is left to the lead
    "pds4.py": {"labels/pds4.py", "products/pds4.py"},
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _rel(p: Path) -> str:
    return p.relative_to(PACKAGE).as_posix()


def _definitions() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Module-level class and function names -> modules defining them."""
    classes: dict[str, list[str]] = defaultdict(list)
    functions: dict[str, list[str]] = defaultdict(list)
    for p in _modules():
        for node in ast.parse(p.read_text(encoding="utf-8"), str(p)).body:
            if isinstance(node, ast.ClassDef):
                classes[node.name].append(_rel(p))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions[node.name].append(_rel(p))
    return classes, functions


def test_scan_sees_the_package() -> None:
    """Positive control: the scan finds the package and its known definitions."""
    classes, functions = _definitions()
    assert len(_modules()) > 100
    assert classes["FrameCamera"] == ["geometry/camera.py"]
    assert "measure_map_shift" in functions and "TruthGrid" in classes


@pytest.mark.parametrize("name", sorted(ONE_CLASS))
def test_one_class(name: str) -> None:
    classes, _ = _definitions()
    assert classes[name] == [ONE_CLASS[name]], f"class {name} defined in {classes[name]}"


def test_no_class_name_twice() -> None:
    """No two classes share a name anywhere in the package (KernelError, MapGrid, Window...
    each had a twin)."""
    classes, _ = _definitions()
    twins = {k: v for k, v in classes.items() if len(v) > 1}
    assert not twins, twins


@pytest.mark.parametrize("name", sorted(ONE_FUNCTION))
def test_one_function(name: str) -> None:
    _, functions = _definitions()
    assert functions[name] == [ONE_FUNCTION[name]], f"{name} defined in {functions[name]}"


def test_no_two_modules_with_the_same_name() -> None:
    by_name: dict[str, set[str]] = defaultdict(set)
    for p in _modules():
        if p.name not in ("__init__.py", "__main__.py"):
            by_name[p.name].add(_rel(p))
    twins = {k: v for k, v in by_name.items() if len(v) > 1}
    new = {k: v for k, v in twins.items() if KNOWN_TWIN_MODULES.get(k) != v}
    assert not new, f"modules with the same file name: {new}"
    gone = set(KNOWN_TWIN_MODULES) - set(twins)
    assert not gone, f"no longer twins, drop from KNOWN_TWIN_MODULES: {sorted(gone)}"


# module names from the file tree (pkgutil.walk_packages would import cassis_pipe.sim itself)
_IMPORT_ALL = """
import importlib, pathlib, sys
names = sorted(".".join(p.with_suffix("").parts).removesuffix(".__init__")
               for p in pathlib.Path("cassis_pipe").rglob("*.py"))
names = [n for n in names if not n.startswith("cassis_pipe.sim") and not n.endswith("__main__")]
for name in names:
    importlib.import_module(name)
    if "cassis_pipe.sim" in sys.modules:
        print("SIM", name)
        break
print("IMPORTED", len(names))
"""


def test_production_modules_do_not_import_the_simulator() -> None:
    """Every module outside cassis_pipe/sim imports without loading cassis_pipe.sim (the
    simulator stages import it inside their functions)."""
    out = subprocess.run([sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True,
                         cwd=PACKAGE.parent, timeout=300, check=True).stdout
    assert "SIM" not in out, out
    assert int(out.split("IMPORTED")[1]) > 80, out
    # the check is live: importing a simulator module does load it
    probe = _IMPORT_ALL.replace('not n.startswith("cassis_pipe.sim") and ', "")
    assert probe != _IMPORT_ALL
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=PACKAGE.parent, timeout=300, check=True).stdout
    assert "SIM cassis_pipe.sim" in out, out
