"""Integrations with training libraries, each an optional extra imported on its own.

* `proofs.integrations.sb3` -- Stable-Baselines3: `CertifyCallback` proves the policy lemma for
  the agent's greedy policy while it trains (``pip install 'proofs[sb3]'``).

Importing this package loads none of them (``import proofs`` stays light).
"""
