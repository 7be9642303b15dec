# Level-2 settings and helpers (used by level2.smk). Needs common.smk (RESULTS, OBSERVATIONS,
# SIMULATED, raw_dir).

LEVEL2 = config.get("level2", {})
L2_PIXEL_M = float(LEVEL2.get("pixel_m", 4.0))
L2_HISTORY = LEVEL2.get("offset_history", f"{RESULTS}/rotation_offsets.csv")


def level2_targets():
    """Final level-2 outputs: map stage JSON of every observation, accuracy of simulated ones."""
    out = [f"{RESULTS}/{obs}/level2/map.json" for obs in OBSERVATIONS]
    out += [f"{RESULTS}/{obs}/level1c/stitch.json" for obs in OBSERVATIONS]
    out += [f"{RESULTS}/{obs}/level2/accuracy.json" for obs in SIMULATED]
    return out


def truth_dir(wildcards):
    """The simulator's truth directory of a simulated observation."""
    return f"{raw_dir(wildcards.obs)}/truth"
