"""File-count validation: what the plan says each pipeline stage must produce vs what it did.

Every stage product is identified by its framelet key (UID, window counter, sequence counter);
the expected set comes from the pseudo packets (optionally only some filters, e.g. the four
colour windows for calibrated products). Used after every pipeline stage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from cassis_pipe.level0.pseudo import Key, PseudoPacket


def expected_keys(packets: Sequence[PseudoPacket],
                  filters: Collection[str] | None = None) -> dict[Key, PseudoPacket]:
    """Pseudo packets by key, restricted to ``filters`` (None: every window)."""
    return {p.key: p for p in packets if filters is None or p.filter in filters}


def _ident(k: Key, p: PseudoPacket | None) -> dict[str, Any]:
    d: dict[str, Any] = {"uid": k[0], "window": k[1], "sequence": k[2]}
    if p is not None:
        d["filter"] = p.filter
    return d


def stage_check(
    stage: str,
    packets: Sequence[PseudoPacket],
    produced: Iterable[Key],
    filters: Collection[str] | None = None,
) -> dict[str, Any]:
    """Expected vs produced products of one stage (JSON-ready).

    Lists every missing framelet, every product with no commanded framelet (unexpected) and
    every key produced more than once; counts are also given per filter.
    """
    exp = expected_keys(packets, filters)
    made = Counter(tuple(k) for k in produced)
    missing = [k for k in exp if k not in made]
    unexpected = sorted(k for k in made if k not in exp)
    repeated = sorted(k for k, n in made.items() if n > 1)
    per_filter: dict[str, dict[str, int]] = {}
    for k, p in exp.items():
        c = per_filter.setdefault(p.filter, {"expected": 0, "produced": 0})
        c["expected"] += 1
        c["produced"] += int(k in made)
    return {
        "stage": stage,
        "expected": len(exp),
        "produced": sum(made.values()),
        "distinct": len(made),
        "ok": not (missing or unexpected or repeated),
        "per_filter": dict(sorted(per_filter.items())),
        "missing": [_ident(k, exp[k]) for k in missing],
        "unexpected": [_ident(k, None) for k in unexpected],
        "repeated": [{**_ident(k, exp.get(k)), "count": made[k]} for k in repeated],
    }


def pipeline_counts(
    packets: Sequence[PseudoPacket],
    stages: Mapping[str, Iterable[Key]],
    filters: Mapping[str, Collection[str] | None] | None = None,
) -> dict[str, Any]:
    """:func:`stage_check` for every stage (in the given order) plus an overall ``ok``.

    ``filters`` optionally restricts the expected set per stage name.
    """
    filters = filters or {}
    checks = [stage_check(name, packets, keys, filters.get(name))
              for name, keys in stages.items()]
    return {"ok": all(c["ok"] for c in checks), "stages": checks}


def stage_line(stage: str, produced: int, check: Mapping[str, Any]) -> str:
    """``stage: produced/expected`` plus what is missing, unexpected or repeated."""
    line = f"{stage}: {produced}/{check['expected']}"
    for what in ("missing", "unexpected", "repeated"):
        if check[what]:
            line += f", {what} {len(check[what])}"
    return line + ("" if check["ok"] else "  <-- MISMATCH")


def summary_text(counts: Mapping[str, Any]) -> str:
    """One line per stage: produced/expected and what is missing or extra."""
    return "\n".join(stage_line(c["stage"], c["distinct"], c) for c in counts["stages"])
