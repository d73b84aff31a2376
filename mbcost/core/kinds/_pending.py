"""Facets of the transformer-era kinds still being written, each said in words (tests/test_kinds.py
accepts a missing facet only with a reason, and the CLI prints it)."""
PENDING_PEERS = "what each FLOP counter charges for it is being measured (issue 22)"
