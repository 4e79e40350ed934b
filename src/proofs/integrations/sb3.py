"""Stable-Baselines3: certify the agent's greedy policy while it trains (`CertifyCallback`).

UNTRUSTED, like the rest of the Python API: the callback asks `proofs.prove_policy` (and
`proofs.compose`), whose every result the trusted kernel checks before it is returned, and
reports what they say. Needs the ``sb3`` extra: ``pip install 'proofs[sb3]'``.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

try:
    from stable_baselines3.common.callbacks import BaseCallback
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError("proofs.integrations.sb3 needs Stable-Baselines3 and PyTorch: "
                      "install them with pip install 'proofs[sb3]'") from exc

from proofs.api import (
    AlignmentResult,
    Model,
    Objective,
    Policy,
    PolicyResult,
    Result,
    SafetyResult,
    compose,
    prove_policy,
)
from proofs.api.prove import Number, exact

__all__ = ["STATUS_CODES", "CertifyCallback"]

STATUS_CODES = {"proved": 1.0, "unknown": 0.0, "refuted": -1.0}
"""How a status is logged as a number (``proofs/status``): proved 1, unknown 0, refuted −1."""


class CertifyCallback(BaseCallback):
    """Prove the policy lemma J(π) ≥ J* − ε for the agent's greedy policy while it trains.

    Every ``every`` calls (environment steps of the vectorized environment) and once more when
    training ends, the callback reads the agent's greedy action (``predict(obs,
    deterministic=True)``) on every state of the world model, proves the policy lemma for that
    policy (`proofs.prove_policy`) and, given a proved alignment lemma, composes the two into the
    safety claim "the policy satisfies Φ" (`proofs.compose`). A check whose policy acts as the
    previous one did on the states it reaches reuses that result.

    Each check is logged through the agent's logger (so TensorBoard shows it) at the current
    timestep:

    ``proofs/gap_lo``, ``proofs/gap_hi``
        Exact bounds on the gap J* − J(π), as floats.
    ``proofs/j_policy``, ``proofs/j_star``
        J(π) and J* (the midpoint of their enclosures).
    ``proofs/status``
        The policy lemma's status: 1 proved, 0 unknown, −1 refuted (`STATUS_CODES`).
    ``proofs/safety_status``
        The composition's status, when an alignment lemma is given.
    ``proofs/certified``
        1 when the claim is proved (the composition's when an alignment lemma is given, else the
        policy lemma's), 0 otherwise.

    Parameters
    ----------
    model : proofs.Model
        The world model of the agent's environment, from `proofs.from_gym` (states ``"0"``,
        ``"1"``, ... are the observations, actions ``"0"``, ``"1"``, ... the agent's actions).
    objective : proofs.Objective
        J, over the model's reward structure ``"reward"``.
    epsilon : Fraction, int or str
        The allowed gap ε ≥ 0, exact (``"1/100"``, not ``0.01``).
    every : int
        Check after every this many calls (``every * n_envs`` timesteps).
    alignment : proofs.AlignmentResult, optional
        A proved alignment lemma about the same model and J, with an ε at least ``epsilon``:
        every check then also composes it with the policy lemma (on ``alignment.model``, the
        model with Φ's atoms as labels).
    stop_when_certified : bool
        Stop training at the first check whose claim is proved.
    save_path : str or pathlib.Path, optional
        Where to write the final certificate (``*.json``) when training ends: the composition
        (its premises are saved beside it) when an alignment lemma is given, else the policy
        lemma. The certificate names the world model's file, so save the model first
        (`proofs.Model.save`).
    verbose : int
        1 prints a line per check.

    Attributes
    ----------
    world_model : proofs.Model
        The model the policy lemma is proved on.
    last_result : proofs.PolicyResult or None
        The policy lemma at the latest check.
    last_safety : proofs.SafetyResult or None
        The composition at the latest check (with an alignment lemma).
    history : list of (int, proofs.PolicyResult)
        Every check: the agent's timesteps then, and the policy lemma.
    saved : pathlib.Path or None
        The certificate written when training ended.

    Raises
    ------
    ValueError
        At construction, for a bad ``epsilon``, ``every`` or ``save_path``, a model not saved to a
        file while ``save_path`` is given, or an alignment lemma that is not proved or is about
        another model or J; when training starts, for an agent observing fewer states than the
        model has.
    TypeError
        For arguments of the wrong type; when training starts, for an agent whose observation or
        action space is not discrete.

    Examples
    --------
    >>> import gymnasium, proofs
    >>> from stable_baselines3 import PPO
    >>> from proofs.integrations.sb3 import CertifyCallback
    >>> lake = proofs.from_gym("FrozenLake-v1", is_slippery=False)
    >>> _ = lake.save("worldmodels/lake.json")  # doctest: +SKIP
    >>> callback = CertifyCallback(lake, proofs.Objective("reward", horizon=20), epsilon="1/100", every=512,
    ...                            stop_when_certified=True)  # add save_path="certificates/lake.json"
    >>> agent = PPO("MlpPolicy", gymnasium.make("FrozenLake-v1", is_slippery=False), n_steps=256, seed=0,
    ...             device="cpu")
    >>> _ = agent.learn(20_000, callback=callback)  # doctest: +SKIP
    >>> callback.last_result.status.value, callback.last_result.gap.hi  # doctest: +SKIP
    ('proved', Fraction(0, 1))
    """

    def __init__(self, model: Model, objective: Objective, epsilon: Number, *, every: int = 1000,
                 alignment: AlignmentResult | None = None, stop_when_certified: bool = False,
                 save_path: str | Path | None = None, verbose: int = 0) -> None:
        super().__init__(verbose)
        if not isinstance(model, Model):
            raise TypeError(f"model must be a proofs.Model (from proofs.from_gym), got {model!r}")
        if not isinstance(objective, Objective):
            raise TypeError(f"objective must be a proofs.Objective, got {objective!r}")
        eps = exact(epsilon, "epsilon")
        if eps < 0:
            raise ValueError(f"epsilon must be at least 0, got {eps}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number of calls, at least 1, got {every!r}")
        world = model if alignment is None else _alignment_model(alignment, model, objective, eps)
        target = None if save_path is None else Path(save_path)
        if target is not None:
            if target.suffix != ".json":
                raise ValueError(f"a certificate file is named *.json, not {target.name!r}: change save_path")
            if world.path is None:
                when = " before proving the alignment lemma" if alignment is not None else ""
                raise ValueError("the world model is in memory only, and a certificate names its model's file: "
                                 f"save it first{when} (model.save('worldmodels/NAME.json')), or drop save_path")
        self.world_model = world
        self.objective = objective
        self.epsilon = eps
        self.every = every
        self.alignment = alignment
        self.stop_when_certified = stop_when_certified
        self.save_path = target
        self.last_result: PolicyResult | None = None
        self.last_safety: SafetyResult | None = None
        self.history: list[tuple[int, PolicyResult]] = []
        self.saved: Path | None = None
        self._last_table: bytes | None = None

    # -- what it found --------------------------------------------------------------------------
    @property
    def final(self) -> Result | None:
        """The claim of the latest check: the composition with an alignment lemma, else the policy lemma."""
        return self.last_safety if self.alignment is not None else self.last_result

    @property
    def certified(self) -> bool:
        """Whether the latest check proved the claim (`final`)."""
        final = self.final
        return final is not None and final.proved

    # -- SB3's hooks ----------------------------------------------------------------------------
    def _init_callback(self) -> None:
        from gymnasium import spaces

        from proofs.policy.load import gym_rows

        observations, actions = self.model.observation_space, self.model.action_space
        if not isinstance(observations, spaces.Discrete) or not isinstance(actions, spaces.Discrete):
            raise TypeError("CertifyCallback reads the greedy policy of an agent with discrete observation and "
                            f"action spaces (observation i is model state \"i\"); this agent has {observations} "
                            f"and {actions}")
        needed = int(gym_rows(self.world_model.mdp, "the world model").max()) + 1
        if int(observations.n) < needed or int(observations.start) != 0:
            raise ValueError(f"the world model has states 0..{needed - 1}, but the agent observes {observations}: "
                             "import the model from the environment the agent trains on")

    def _on_step(self) -> bool:
        if self.n_calls % self.every:
            return True
        self.certify()
        if self.stop_when_certified and self.certified:
            if self.verbose >= 1:
                print(f"proofs: certified at {self.num_timesteps} timesteps: stopping training")
            return False
        return True

    def _on_training_end(self) -> None:
        self.certify()
        if self.save_path is not None:
            final = self.final
            assert final is not None
            self.saved = final.save(self.save_path)
            if self.verbose >= 1:
                print(f"proofs: saved the {final.status.value} certificate {self.saved}")

    # -- a check --------------------------------------------------------------------------------
    def certify(self) -> PolicyResult:
        """Check the agent's greedy policy now: prove the policy lemma (and compose), log the
        numbers, and return the policy lemma. Called by the hooks; callable by hand too."""
        from proofs.core.policy import encode_table

        policy = Policy.from_sb3(self.model, self.world_model)
        table = encode_table(self.world_model.mdp, policy.table(self.objective.horizon))
        result = self.last_result
        if result is None or table != self._last_table:
            result = prove_policy(self.world_model, self.objective, epsilon=self.epsilon, policy=policy)
            self.last_result, self._last_table = result, table
            if self.alignment is not None:
                self.last_safety = compose(self.alignment, result)
        elif self.history and self.history[-1] == (self.num_timesteps, result):
            return result  # nothing new since the last check
        self.history.append((self.num_timesteps, result))
        self._log(result)
        return result

    def _log(self, result: PolicyResult) -> None:
        record = self.logger.record
        record("proofs/gap_lo", float(result.gap.lo))
        record("proofs/gap_hi", float(result.gap.hi))
        record("proofs/j_policy", float(result.j_policy))
        record("proofs/j_star", float(result.j_star))
        record("proofs/status", STATUS_CODES[result.status.value])
        if self.last_safety is not None:
            record("proofs/safety_status", STATUS_CODES[self.last_safety.status.value])
        record("proofs/certified", 1.0 if self.certified else 0.0)
        # as SB3's EvalCallback does: the row is written at this check's timestep
        record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(self.num_timesteps)
        if self.verbose >= 1:
            line = (f"proofs: {self.num_timesteps} timesteps: policy lemma {result.status.value}, "
                    f"gap {result.gap} (epsilon {self.epsilon})")
            if self.last_safety is not None:
                line += f"; safety {self.last_safety.status.value}"
            print(line)


def _alignment_model(alignment: object, model: Model, objective: Objective, epsilon: Fraction) -> Model:
    """The model to prove the policy lemma on so that it composes with `alignment`."""
    if not isinstance(alignment, AlignmentResult):
        raise TypeError(f"alignment must be a proofs.AlignmentResult (from proofs.prove_alignment), got {alignment!r}")
    if not alignment.proved:
        raise ValueError(f"the alignment lemma is {alignment.status.value}, not proved: only a proved one composes "
                         "into a safety certificate (see its .explain())")
    world = alignment.model
    assert world is not None
    if model.with_atoms(world.atoms).sha256 != world.sha256:
        raise ValueError("the alignment lemma is about another world model: prove it on this model")
    if alignment.statement.objective != objective:
        raise ValueError(f"the alignment lemma scores policies with {alignment.statement.objective}, not {objective}: "
                         "use the same objective J")
    if epsilon > alignment.epsilon:
        raise ValueError(f"epsilon ({epsilon}) is larger than the alignment lemma's ({alignment.epsilon}): the "
                         "composition needs the policy lemma's ε to be at most the alignment lemma's")
    return world
