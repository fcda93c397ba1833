"""Builders of the events tests send and expect, one module per service; no I/O."""
