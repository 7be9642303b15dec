"""Operations tools: the housekeeping (HK) database and the monitoring web page.

``hkframes`` (channel catalogue, HK frames as column arrays), ``hkdb`` (schema, idempotent
loading, queries; SQLite or PostgreSQL), ``clock`` (UTC <-> on-board time), ``opsconfig``,
``status`` (observation status from the stage JSONs), ``auth`` and ``webapp`` (the page).
"""
