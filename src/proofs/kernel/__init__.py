"""The trusted kernel: re-checks certificates without trusting any solver.

TRUSTED. Imports only the standard library and numpy (for rigorous interval arithmetic on
large models). Never z3, scipy, sympy, networkx or stormpy.
"""
