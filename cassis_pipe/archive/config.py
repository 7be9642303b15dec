"""The ``archive:`` section of config/config.yaml (deliveries, targets database, SMTP)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class ArchiveConfig:
    """Archive delivery and target-retirement settings; paths relative to the working dir."""

    deliveries_dir: Path = Path("deliveries")
    targets_db: Path = Path("resources/targets.sqlite")
    coverage_fraction: float = 0.8     # share of a target's area to cover to retire it
    smtp_host: str = "localhost"
    smtp_port: int = 25
    sender: str = "cassis-operations@localhost"

    @classmethod
    def load(cls, path: Path | None) -> ArchiveConfig:
        """Read ``archive:`` from a config YAML (missing file or section: defaults)."""
        if path is None or not Path(path).is_file():
            return cls()
        data = (yaml.safe_load(Path(path).read_text()) or {}).get("archive") or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: archive must be a mapping")
        smtp = data.get("smtp") or {}
        frac = float(data.get("coverage_fraction", cls.coverage_fraction))
        if not 0.0 < frac <= 1.0:
            raise ValueError(f"{path}: archive.coverage_fraction {frac} not in (0, 1]")
        return cls(Path(data.get("deliveries_dir", cls.deliveries_dir)),
                   Path(data.get("targets_db", cls.targets_db)), frac,
                   str(smtp.get("host", cls.smtp_host)), int(smtp.get("port", cls.smtp_port)),
                   str(smtp.get("sender", cls.sender)))
