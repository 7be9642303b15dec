"""Shared by the level-2 scripts: the level-1 input of a rule (framelets with cameras)."""

import _repo  # noqa: F401 - this checkout first on sys.path (workflow/scripts/_repo.py)

from cassis_pipe.pipeline.level2 import load_level1


def level1(sm):
    """(framelets, info) of the rule's level-1 inputs."""
    return load_level1(sm.input.level0_json, sm.input.calibrate_json, sm.input.level1_dir,
                       sm.params.geometry_dir, sclk=sm.params.sclk, lsk=sm.params.lsk)
