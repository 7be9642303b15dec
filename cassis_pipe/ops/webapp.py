"""The CaSSIS monitoring page ("data panel"): a read-only WSGI application behind a login.

Serves the page (static HTML/JS/CSS from ``ops/static``, no network resources) and JSON:
``/api/channels``, ``/api/hk`` (one channel over a time range with limits and out-of-limit
episodes), ``/api/rotation`` (rotation-offset history), ``/api/observations`` (stage status),
``/api/deliveries`` (ingest state), ``/api/tc`` (telecommand history), and the quick-looks.
Reads the HK database (read-only connection per request) and the stage JSONs; writes nothing.
Unauthenticated requests: pages redirect to ``/login``, API calls get 401.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cassis_pipe.ops import webdata
from cassis_pipe.ops.auth import Sessions, read_users, verify_password
from cassis_pipe.ops.clock import Clock
from cassis_pipe.ops.hkframes import HkDbError
from cassis_pipe.ops.opsconfig import OpsConfig
from cassis_pipe.ops.status import quicklook_path

COOKIE = "cassis_session"
MAX_BODY = 4096
STATIC = {"panel.js": "text/javascript", "panel.css": "text/css"}
HEADERS = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
           ("X-Frame-Options", "DENY"),
           ("Content-Security-Policy", "default-src 'self'; img-src 'self'; "
            "script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'")]
Start = Callable[..., Any]


def _static(name: str) -> bytes:
    return resources.files("cassis_pipe.ops").joinpath("static", name).read_bytes()


class MonitoringApp:
    """WSGI callable: ``MonitoringApp(cfg)``; one instance holds the login sessions."""

    def __init__(self, cfg: OpsConfig) -> None:
        self.cfg = cfg
        self.clock = Clock(cfg.sclk, cfg.lsk)
        self.sessions = Sessions(cfg.session_hours * 3600.0)
        self.api: dict[str, Callable[[dict[str, str]], Any]] = {
            "/api/channels": lambda q: webdata.channels(cfg, self.clock),
            "/api/hk": lambda q: webdata.hk_series(cfg, self.clock, q),
            "/api/rotation": lambda q: webdata.rotation(cfg),
            "/api/observations": lambda q: webdata.observations_list(cfg),
            "/api/deliveries": lambda q: webdata.deliveries(cfg),
            "/api/tc": lambda q: webdata.telecommands(cfg, self.clock),
        }

    # -- responses ------------------------------------------------------------------------------
    @staticmethod
    def _send(start: Start, status: str, body: bytes, ctype: str,
              extra: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body))),
                   ("Cache-Control", "no-store"), *HEADERS, *(extra or [])]
        start(status, headers)
        return [body]

    def _json(self, start: Start, status: str, data: Any) -> Iterable[bytes]:
        return self._send(start, status, json.dumps(data).encode(), "application/json")

    def _redirect(self, start: Start, where: str,
                  extra: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
        return self._send(start, "303 See Other", b"", "text/plain",
                          [("Location", where), *(extra or [])])

    def _login_page(self, start: Start, status: str, message: str = "") -> Iterable[bytes]:
        html = _static("login.html").decode().replace("{message}", message)
        return self._send(start, status, html.encode(), "text/html; charset=utf-8")

    # -- login ----------------------------------------------------------------------------------
    def _token(self, environ: dict[str, Any]) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(environ.get("HTTP_COOKIE", ""))
        except CookieError:  # malformed cookie header: treat as absent
            return None
        morsel = cookie.get(COOKIE)
        return morsel.value if morsel else None

    def _login(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = MAX_BODY + 1
        if length > MAX_BODY:
            return self._send(start, "413 Payload Too Large", b"too large", "text/plain")
        form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8", "replace"))
        user = form.get("username", [""])[0]
        password = form.get("password", [""])[0]
        try:
            users = read_users(self.cfg.users_file)
        except HkDbError:
            users = {}
        if user in users and verify_password(password, users[user]):
            token = self.sessions.new(user)
            cookie = (f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; "
                      f"Max-Age={int(self.sessions.lifetime_s)}")
            return self._redirect(start, "/", [("Set-Cookie", cookie)])
        return self._login_page(start, "401 Unauthorized", "Wrong user name or password.")

    # -- dispatch -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/login":
            if method == "POST":
                return self._login(environ, start)
            return self._login_page(start, "200 OK")
        if path.startswith("/static/") and path[8:] in STATIC and method == "GET":
            return self._send(start, "200 OK", _static(path[8:]), STATIC[path[8:]])
        if method not in ("GET", "HEAD", "POST"):
            return self._send(start, "405 Method Not Allowed", b"read-only", "text/plain")
        user = self.sessions.user(self._token(environ))
        if user is None:
            if path.startswith("/api/"):
                return self._json(start, "401 Unauthorized", {"error": "login required"})
            return self._redirect(start, "/login")
        if path == "/logout" and method == "POST":
            self.sessions.drop(self._token(environ))
            return self._redirect(start, "/login", [("Set-Cookie", f"{COOKIE}=; Path=/; "
                                                     "HttpOnly; SameSite=Strict; Max-Age=0")])
        if method == "POST":
            return self._send(start, "405 Method Not Allowed", b"read-only", "text/plain")
        if path == "/":
            html = _static("panel.html").decode().replace("{user}", user)
            return self._send(start, "200 OK", html.encode(), "text/html; charset=utf-8")
        if path.startswith("/quicklook/"):
            parts = path.split("/")
            p = (quicklook_path(self.cfg.results_dir, parts[2], parts[3])
                 if len(parts) == 4 else None)
            if p is None:
                return self._send(start, "404 Not Found", b"not found", "text/plain")
            return self._send(start, "200 OK", p.read_bytes(), "image/jpeg")
        handler = self.api.get(path)
        if handler is None:
            return self._send(start, "404 Not Found", b"not found", "text/plain")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            return self._json(start, "200 OK", handler(query))
        except HkDbError as exc:
            return self._json(start, "400 Bad Request", {"error": str(exc)})


def make_server(app: MonitoringApp, host: str, port: int) -> Any:
    """A waitress server for ``app`` bound to ``host:port`` (``effective_port``, ``run()``,
    ``close()``); port 0 picks a free port."""
    from waitress import create_server

    return create_server(app, host=host, port=port, threads=4, ident="cassis-pipe")


def users_file_hint(path: Path) -> str:
    return (f"no users in {path}: add one with `cassis-pipe web passwd USER --users {path}`")
