"""``cassis-pipe web serve|passwd``: the monitoring page and its users.

``serve`` runs the read-only page (waitress) on the ops config's host and port (127.0.0.1:8765
by default). ``passwd USER`` asks for a password (or reads one line from stdin with
``--password-stdin``) and writes USER's salted scrypt hash into the users file.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from cassis_pipe.ops.auth import read_users, set_user
from cassis_pipe.ops.hkframes import HkDbError
from cassis_pipe.ops.opsconfig import load_ops_config
from cassis_pipe.ops.webapp import MonitoringApp, make_server, users_file_hint
from cassis_pipe.telemetry.timecode import KernelError


def _serve(args: argparse.Namespace) -> int:
    try:
        cfg = load_ops_config(args.config)
        if args.host:
            cfg.host = args.host
        if args.port is not None:
            cfg.port = args.port
        if not read_users(cfg.users_file):
            print(f"cassis-pipe web: {users_file_hint(cfg.users_file)}", file=sys.stderr)
            return 2
        server = make_server(MonitoringApp(cfg), cfg.host, cfg.port)
    except (HkDbError, KernelError, OSError) as exc:
        print(f"cassis-pipe web: {exc}", file=sys.stderr)
        return 2
    if cfg.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"cassis-pipe web: warning: listening on {cfg.host}, not loopback; serve through "
              "a TLS reverse proxy", file=sys.stderr)
    print(f"cassis-pipe web: serving http://{cfg.host}:{server.effective_port}/ "
          f"(database {cfg.database}, results {cfg.results_dir})", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def _passwd(args: argparse.Namespace) -> int:
    try:
        cfg = load_ops_config(args.config)
        path = args.users or cfg.users_file
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"password for {args.user}: ")
            if getpass.getpass("again: ") != password:
                print("cassis-pipe web: passwords differ", file=sys.stderr)
                return 2
        set_user(path, args.user, password)
    except (HkDbError, KernelError, OSError) as exc:
        print(f"cassis-pipe web: {exc}", file=sys.stderr)
        return 2
    print(f"{args.user}: hash written to {path}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``web`` subcommand."""
    p = subparsers.add_parser("web", help="monitoring page: serve, passwd", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="web_action", required=True)
    sp = sub.add_parser("serve", help="serve the read-only monitoring page")
    sp.add_argument("--config", help="ops config (default config/ops.yaml if present)")
    sp.add_argument("--host", help="bind address (default from config: 127.0.0.1)")
    sp.add_argument("--port", type=int, help="port (default from config: 8765; 0 = any free)")
    sp.set_defaults(func=_serve)
    sp = sub.add_parser("passwd", help="set a user's password hash in the users file")
    sp.add_argument("user")
    sp.add_argument("--config", help="ops config (its web.users_file)")
    sp.add_argument("--users", help="users file (overrides the config)")
    sp.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sp.set_defaults(func=_passwd)
