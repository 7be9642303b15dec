"""Operations around the pipeline (docs/operations.md).

Downlink ingest: ``delivery`` (names, frame splitting), ``route`` (routing rules), ``ledger``
(state), ``ingest`` (one run), ``observations`` (per-observation files, readiness, sheet).
Housekeeping and monitoring: ``hkframes`` (channel catalogue, HK frames as column arrays),
``hkdb`` (schema, idempotent loading, queries; SQLite or PostgreSQL), ``hkquery``, ``clock``
(UTC <-> on-board time), ``opsconfig``, ``status`` (observation status from the stage JSONs),
``auth`` and ``webapp`` (the page).
"""
