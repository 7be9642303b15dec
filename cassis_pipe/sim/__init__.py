"""CaSSIS instrument simulator with ground truth (see docs/sim.md).

Modules: ``config`` (parameters), ``orbit``/``acquisition`` (orbit; acquisition plan: times,
angles, ISDs), ``noise``/``scene`` (procedural surface I/F), ``radiometry``/``calibration``
(detector), ``render`` (framelets), ``codec``/``telemetry``/``faults`` (downlink), ``truthmap``
and ``writer`` (I/O).
Entry point: ``writer.simulate(config, out_dir)``; CLI ``cassis-pipe simulate``.
"""
