"""Operations: downlink ingest (delivery files -> per-observation raw telemetry), see
docs/operations.md."""
