"""The proof tree: obligations -> dependency DAG -> discharged lemmas -> certificate files.

UNTRUSTED orchestration: every certificate it writes is checked by `proofs.kernel` before a
verdict is reported.
"""
