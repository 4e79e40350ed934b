"""Engines: UNTRUSTED search that produces verdicts with witnesses for the trusted kernel.

Every engine module names its method, not a library; every result it reports is re-checked by
the matching checker in `proofs.kernel`.
"""
