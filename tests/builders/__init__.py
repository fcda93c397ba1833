"""Builders of test data (events, submissions) shared by several test modules; no I/O."""
