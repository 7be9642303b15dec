"""The whole level-0 chain in one call: plan -> pseudo packets -> validation/reassembly ->
decompression -> stage counts. For pipeline rules and scripts; no I/O except ``process_files``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cassis_pipe.level0.decompress import OK, Level0Framelet, decompress, decompress_summary
from cassis_pipe.level0.plan import CommandPlan, plan_from_tc
from cassis_pipe.level0.pseudo import DEFAULT_RAW_RATIO_IDS, PseudoPacket
from cassis_pipe.level0.reassemble import COMPLETE
from cassis_pipe.level0.report import pipeline_counts
from cassis_pipe.level0.validate import ValidationReport, validate_bytes


@dataclass(slots=True)
class Level0Result:
    """Everything level 0 produced; ``framelets`` are the decoded DN framelets (key order)."""

    plan: CommandPlan
    packets: list[PseudoPacket]
    validation: ValidationReport
    framelets: list[Level0Framelet]
    counts: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.validation.ok and self.counts["ok"] and not self.plan.tc_rejects

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready report: plan, validation, decompression summary and stage counts."""
        return {"ok": self.ok, "plan": self.plan.as_dict(),
                "validation": self.validation.as_dict(),
                "decompression": decompress_summary(self.framelets), "counts": self.counts}

    def summary(self) -> str:
        d = decompress_summary(self.framelets)
        return (f"{self.validation.summary()}\n  TC rejects {len(self.plan.tc_rejects)}, "
                f"plan issues {len(self.plan.issues)}; decoded {d['decoded']}, corrupt "
                f"{d['corrupt']}, skipped {d['skipped']}")


def process_level0(
    science: bytes,
    tc: bytes | CommandPlan,
    threads: int | None = None,
    raw_ratio_ids: Collection[int] = DEFAULT_RAW_RATIO_IDS,
    compression_word: int | None = None,
    max_frame_data: int | None = None,
    initial_position_mdeg: int | None = None,
    time_tolerance_s: float = 1e-4,
) -> Level0Result:
    """Run the level-0 chain on the bytes of science.bin and tc.bin, or on science.bin and the
    command plan already parsed from tc.bin (see docs/level0.md)."""
    plan = tc if isinstance(tc, CommandPlan) else plan_from_tc(tc, initial_position_mdeg)
    rep, _, packets = validate_bytes(science, plan, raw_ratio_ids, compression_word,
                                     max_frame_data, time_tolerance_s)
    dec = decompress(rep.framelets.values(), packets, threads=threads)
    counts = pipeline_counts(packets, {
        "received": list(rep.framelets),
        "complete": [k for k, f in rep.framelets.items() if f.status == COMPLETE],
        "decoded": [r.key for r in dec if r.status == OK],
    })
    return Level0Result(plan, packets, rep, dec, counts)


def process_files(science_path: str | Path, tc_path: str | Path, **kwargs: Any) -> Level0Result:
    """:func:`process_level0` on two files."""
    return process_level0(Path(science_path).read_bytes(), Path(tc_path).read_bytes(), **kwargs)
