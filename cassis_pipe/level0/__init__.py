"""Level-0 processing: command plan, pseudo packets, packet validation, reassembly,
decompression and file-count checks (see docs/level0.md)."""

from cassis_pipe.level0.decompress import Level0Framelet, decompress, decompress_summary
from cassis_pipe.level0.plan import CommandPlan, ImagingPlan, WindowPlan, build_plan, plan_from_tc
from cassis_pipe.level0.pseudo import PseudoPacket, predict_packets
from cassis_pipe.level0.reassemble import ReassembledFramelet, reassemble
from cassis_pipe.level0.report import pipeline_counts, stage_check
from cassis_pipe.level0.run import Level0Result, process_files, process_level0
from cassis_pipe.level0.validate import ValidationReport, validate, validate_bytes

__all__ = [
    "CommandPlan", "ReassembledFramelet", "ImagingPlan", "Level0Framelet", "Level0Result",
    "PseudoPacket",
    "ValidationReport", "WindowPlan", "build_plan", "decompress", "decompress_summary",
    "pipeline_counts", "plan_from_tc", "predict_packets", "process_files", "process_level0",
    "reassemble", "stage_check",
    "validate", "validate_bytes",
]
