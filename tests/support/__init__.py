"""Shared helpers for the test suite (model constructors and hypothesis strategies)."""
