"""``python -m proofs``: the same as the ``proofs`` console script."""

from proofs.cli import main

main()
