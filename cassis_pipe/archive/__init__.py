"""Archive delivery (PDS4 bundle ``urn:esa:psa:em16_tgo_cas``, validation, transfer manifest,
post-delivery check) and target retirement (suggested-targets store, coverage, e-mail).
See docs/archive.md."""
