"""Logins of the monitoring page: salted scrypt password hashes in a users file, sessions.

Users file (YAML): ``user: "scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>"``, written by
``cassis-pipe web passwd USER``. Sessions are random 256-bit tokens held in server memory with
an expiry; the browser holds only the token (HttpOnly, SameSite=Strict cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path

import yaml

from cassis_pipe.ops.hkframes import HkDbError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
USER_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``password`` with a fresh 16-byte salt."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches the stored hash (constant-time compare); False if the
    stored string is malformed."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt" or int(n) > 2**20:
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(bytes.fromhex(digest)), maxmem=2**27)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def read_users(path: str | Path) -> dict[str, str]:
    """user -> hash from the users file (empty if the file is absent)."""
    p = Path(path)
    if not p.is_file():
        return {}
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise HkDbError(f"users file {p} is not YAML: {exc}") from exc
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise HkDbError(f"users file {p}: expected lines 'user: scrypt$...'")
    return data


def set_user(path: str | Path, user: str, password: str) -> None:
    """Add or replace ``user`` in the users file (written atomically, mode 0600)."""
    if not USER_RE.match(user):
        raise HkDbError("user names are 1-64 characters of A-Z a-z 0-9 _ . -")
    if len(password) < 8:
        raise HkDbError("passwords need at least 8 characters")
    p = Path(path)
    users = read_users(p)
    users[user] = hash_password(password)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".users.")
    with os.fdopen(fd, "w") as fh:
        fh.write("# cassis-pipe web users (cassis-pipe web passwd USER); scrypt hashes\n")
        yaml.safe_dump(users, fh, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)


class Sessions:
    """Server-side sessions: token -> (user, expiry); thread-safe."""

    def __init__(self, lifetime_s: float) -> None:
        self.lifetime_s = lifetime_s
        self._lock = threading.Lock()
        self._by_token: dict[str, tuple[str, float]] = {}

    def new(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._by_token = {k: v for k, v in self._by_token.items() if v[1] > now}
            self._by_token[token] = (user, now + self.lifetime_s)
        return token

    def user(self, token: str | None) -> str | None:
        if not token:
            return None
        with self._lock:
            got = self._by_token.get(token)
            if got is None or got[1] <= time.monotonic():
                self._by_token.pop(token, None)
                return None
            return got[0]

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)
