"""Subcommands of the ``cassis-pipe`` CLI.

Each module in this package defines ``register(subparsers)`` which adds one subcommand whose
handler is set with ``parser.set_defaults(func=handler)``; ``handler(args) -> int`` returns the
exit status. Modules are discovered automatically, so adding a command touches no other file.
"""
