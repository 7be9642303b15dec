"""Kernel sets: meta-kernels resolved to a list of loadable files, transfer-format kernels
converted to binary in a content-addressed cache.

A meta-kernel is a SPICE text kernel with ``KERNELS_TO_LOAD`` (and optional ``PATH_VALUES`` /
``PATH_SYMBOLS``: ``$SYMBOL`` in a file name stands for the matching path value). Unlike the
SPICE toolkit, relative file names are resolved against the meta-kernel's own directory (not
the current directory), so a meta-kernel written next to its kernels works from anywhere.
No SPICE call here: loading lives in :mod:`cassis_pipe.geometry.spice_provider`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...instrument.kernels import TextKernelError, read_text_kernel
from .transfer import convert_transfer, is_transfer_file, read_transfer

_BINARY_EXT = {"DAF/SPK": ".bsp", "DAF/CK": ".bc", "DAF/PCK": ".bpc"}
_TRANSFER_EXT = {".xsp": ".bsp", ".xc": ".bc", ".xbc": ".bc", ".xpc": ".bpc"}


class KernelSetError(ValueError):
    """A meta-kernel or a kernel it names is missing or unusable."""


@dataclass(frozen=True)
class KernelSet:
    """Kernels to load, in load order (later kernels take precedence), all loadable by CSPICE
    (text kernels and binary DAFs; transfer files already converted)."""

    files: tuple[Path, ...]
    sources: tuple[Path, ...]
    """The file each entry came from (the transfer file for converted kernels)."""

    def describe(self) -> list[str]:
        """File names in load order (for logs and stage JSON)."""
        return [p.name for p in self.sources]


def meta_kernel_files(path: str | Path) -> list[Path]:
    """Files named by the meta-kernel ``path`` (``$SYMBOL`` substituted, relative names
    resolved against the meta-kernel's directory)."""
    p = Path(path)
    if not p.is_file():
        raise KernelSetError(f"meta-kernel not found: {p}")
    try:
        pool = read_text_kernel(p)
    except TextKernelError as exc:
        raise KernelSetError(f"meta-kernel {p}: {exc}") from exc
    names = [str(v) for v in pool.get("KERNELS_TO_LOAD", [])]
    if not names:
        raise KernelSetError(f"meta-kernel {p} has no KERNELS_TO_LOAD")
    values = [str(v) for v in pool.get("PATH_VALUES", [])]
    symbols = [str(v) for v in pool.get("PATH_SYMBOLS", [])]
    if len(values) != len(symbols):
        raise KernelSetError(f"meta-kernel {p}: {len(symbols)} PATH_SYMBOLS but "
                             f"{len(values)} PATH_VALUES")
    # longest symbol first so that $KERNELS is not eaten by $KERNEL
    subs = sorted(zip(symbols, values, strict=True), key=lambda sv: -len(sv[0]))
    out = []
    for name in names:
        for sym, val in subs:
            name = name.replace("$" + sym, val)
        if "$" in name:
            raise KernelSetError(f"meta-kernel {p}: undefined path symbol in {name!r}")
        f = Path(name)
        out.append(f if f.is_absolute() else p.parent / f)
    return out


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cached_binary(path: Path, cache_dir: Path) -> Path:
    """Binary DAF for the transfer file ``path``, converted once into ``cache_dir`` under a
    content-hash name (same transfer bytes -> same file name and bytes)."""
    digest = file_digest(path)
    ext = _TRANSFER_EXT.get(path.suffix.lower())
    if ext is None:
        ext = _BINARY_EXT.get(read_transfer(path).idword.strip(), ".bdaf")
    out = cache_dir / f"{path.stem}.{digest[:16]}{ext}"
    if out.is_file() and out.stat().st_size > 0:
        return out
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{out.name}.{os.getpid()}.part"
    try:
        convert_transfer(path, tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _expand(entries: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for e in entries:
        p = Path(e)
        if not p.is_file():
            raise KernelSetError(f"kernel not found: {p}")
        if p.suffix.lower() in (".tm", ".mk") or _is_meta(p):
            out.extend(_expand(meta_kernel_files(p)))
        else:
            out.append(p)
    return out


def expand_kernels(entries: Iterable[str | Path]) -> list[Path]:
    """Kernel files of ``entries`` in load order, meta-kernels replaced by the files they name
    (recursively); :class:`KernelSetError` for a file that does not exist. No conversion."""
    return _expand(entries)


def _is_meta(p: Path) -> bool:
    with open(p, "rb") as fh:
        head = fh.read(4096)
    return b"KPL/MK" in head[:16]


def kernel_set(entries: str | Path | Sequence[str | Path], cache_dir: str | Path) -> KernelSet:
    """Resolve meta-kernels and kernel files into a :class:`KernelSet`; transfer-format
    kernels are converted to binary in ``cache_dir`` (content-hash names, reused)."""
    items = [entries] if isinstance(entries, str | Path) else list(entries)
    cache = Path(cache_dir)
    files, sources = [], []
    for p in _expand(items):
        with open(p, "rb") as fh:
            head = fh.read(64)
        files.append(cached_binary(p, cache) if is_transfer_file(head) else p)
        sources.append(p)
    if not files:
        raise KernelSetError("empty kernel set")
    return KernelSet(tuple(files), tuple(sources))


def write_meta_kernel(path: str | Path, kernels: Sequence[str | Path],
                      comment: str = "") -> Path:
    """Write a meta-kernel listing ``kernels`` (names relative to the meta-kernel's directory
    when they lie below it). Deterministic text."""
    p = Path(path)
    base = p.parent.resolve()
    names = []
    for k in kernels:
        kp = Path(k).resolve()
        try:
            names.append(kp.relative_to(base).as_posix())
        except ValueError:
            names.append(kp.as_posix())
    lines = ["KPL/MK", "", comment.strip() or "Meta-kernel written by cassis-pipe.", "",
             "\\begindata", "", "KERNELS_TO_LOAD = ("]
    lines += [f"  '{n}'" for n in names]
    lines += [")", "", "\\begintext", ""]
    p.write_text("\n".join(lines), encoding="ascii")
    return p
