"""The bottom layer: plain data types that every other package shares, the kernel included.

TRUSTED (with `proofs.kernel`). Imports only the standard library and numpy, and nothing else of
`proofs`: exact rationals (`rational`, `numbers`), enclosures, the canonical world model
(`model`) and policy table (`policy`), Φ's syntax trees (`formula`), the objective J, errors, and
the certificate file format (`certificate`, read strictly by `schema`).
"""
