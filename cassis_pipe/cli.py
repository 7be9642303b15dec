"""``cassis-pipe`` command line: operator tools over the library (subcommands in commands/)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from cassis_pipe import __version__, commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cassis-pipe", description=__doc__)
    parser.add_argument("--version", action="version", version=f"cassis-pipe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
