"""Pipeline stages with I/O at the edges, called by the Snakemake scripts (workflow/scripts/).

Each ``run_*`` function reads its inputs, writes its products and returns its stage JSON
(also written to disk): ``simulate.run_simulate``, ``level0.run_validate``,
``level0.run_level0``, ``calibrate.run_calibrate``, ``summary.run_summary``.
"""
