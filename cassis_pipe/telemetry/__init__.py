"""Telemetry layer: CRC, CaSSIS time code, telecommands, housekeeping and SpaceWire science frames.

Every byte layout is defined once in this package and documented in docs/icd.md.
"""
