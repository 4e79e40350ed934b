"""Policies in Python: `Policy` and `load_policy`.

UNTRUSTED. A policy is known only by what it does on a world model: the canonical table of its
choices on the states it reaches (`proofs.policy.canonical.reachable_table`). Two encodings that
act the same (a table file, a Python function, a Q-table, a Stable-Baselines3 agent) give the same
table, hence the same certificate.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from proofs.core.policy import Policy as Table

if TYPE_CHECKING:
    from proofs.api.model import Model
    from proofs.core.objective import Objective

__all__ = ["Episode", "Policy", "load_policy"]

Action = str | int | Mapping[str, Any] | None
"""What a policy function returns for a state: an action name (an ``int`` is the action named by
its decimal text), a mapping ``{action: probability}`` of exact probabilities, or ``None``."""


@dataclass(frozen=True)
class Episode:
    """One episode of a rollout in the environment: what was observed, done and earned.

    Examples
    --------
    >>> Episode(observations=(0, 4), actions=(1,), rewards=(0.0,), terminated=False).total
    0.0
    """

    observations: tuple[int, ...]
    actions: tuple[int, ...]
    rewards: tuple[float, ...]
    terminated: bool

    @property
    def total(self) -> float:
        """The episode's undiscounted return."""
        return float(sum(self.rewards))


class Policy:
    """A policy over a world model, known by what it does (its table of choices).

    Make one with `load_policy`, `from_callable`, `from_q_table` or `from_sb3`; a refuted alignment
    result's `counterexample` is one too (then possibly a *mixture*: at the start of an episode
    one of its `components` is drawn with its weight and followed throughout).

    Examples
    --------
    >>> from proofs import load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> walk = Policy.from_callable(model, lambda state: "stay" if state in ("goal", "fatal") else "walk")
    >>> walk.action("start")
    'walk'
    """

    def __init__(self, model: Model, parts: Sequence[tuple[Fraction, Callable[[int | None], Table]]], *,
                 source: str = "a policy") -> None:
        self.model = model
        self._parts = tuple(parts)
        self._tables: dict[tuple[int, int | None], Table] = {}
        self.source = source

    # -- making policies ------------------------------------------------------------------------
    @classmethod
    def from_callable(cls, model: Model, fn: Callable[..., Action]) -> Policy:
        """A policy given as a Python function of the state.

        ``fn(state)`` (or ``fn(state, labels)``) is called once per state the policy reaches,
        with the state's name (``"0"``, ``"1"``, ... for a model from Gymnasium) and, if it takes
        two arguments, the frozenset of its labels. It returns an `Action`.

        Examples
        --------
        >>> from proofs import load_model
        >>> model = load_model("worldmodels/cliff.toml")
        >>> def careless(state):
        ...     return {"walk": "1/2", "run": "1/2"} if state == "start" else "stay" if state in ("goal", "fatal") else "walk"
        >>> mixed = Policy.from_callable(model, careless)
        >>> mixed.action("start")
        {'run': Fraction(1, 2), 'walk': Fraction(1, 2)}
        """
        from proofs.policy.load import tabulate

        two = _arity(fn) >= 2
        function = fn if two else (lambda state, labels: fn(state))
        name = getattr(fn, "__qualname__", "function")

        def build(horizon: int | None) -> Table:
            return tabulate(f"python:{name}", function, model.mdp, horizon)

        return cls(model, [(Fraction(1), build)], source=f"the Python function {name}")

    @classmethod
    def from_q_table(cls, model: Model, q: npt.ArrayLike) -> Policy:
        """The greedy policy of a Q-table over a model from Gymnasium (`from_gym` or ``proofs
        import gym``): row i is Gymnasium state i, column j action j; ties go to the lowest index.

        Examples
        --------
        >>> import numpy as np
        >>> from proofs import from_gym
        >>> lake = from_gym("FrozenLake-v1", is_slippery=False)
        >>> right = Policy.from_q_table(lake, np.eye(4)[[2] * 16])
        >>> right.action("0")
        '2'
        """
        from proofs.policy.load import q_table_policy

        table = q_table_policy(np.asarray(q), model.mdp, "the Q-table")
        return cls(model, [(Fraction(1), lambda horizon: table)], source="a Q-table")

    @classmethod
    def from_sb3(cls, agent: Any, model: Model | None = None) -> Policy:
        """The greedy policy of a Stable-Baselines3 agent (``agent.predict(obs, deterministic=True)``)
        on every state of a model from Gymnasium (a discrete observation space: the observation
        of state ``"i"`` is ``i``). Without ``model``, the model is `from_gym` of the agent's
        (first) training environment."""
        from proofs.policy.load import gym_rows

        if model is None:
            from proofs.api.model import from_gym

            envs = getattr(agent.get_env(), "envs", None)
            if not envs:
                raise ValueError("the agent has no environment to read a model from: pass model=from_gym(...)")
            model = from_gym(envs[0])

        rows = gym_rows(model.mdp, "the agent")
        n = int(rows.max()) + 1 if len(rows) else 0
        actions, _ = agent.predict(np.arange(n), deterministic=True)
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        columns = max(int(actions.max()) + 1 if len(actions) else 1, *(int(a) + 1 for a in model.mdp.action_names
                                                                         if a.isdigit()))
        return cls.from_q_table(model, np.eye(columns)[actions]).with_source(f"the agent {type(agent).__name__}")

    def with_source(self, source: str) -> Policy:
        """The same policy described as `source` (in messages and `explain`)."""
        out = Policy(self.model, self._parts, source=source)
        out._tables = self._tables
        return out

    # -- what it does ---------------------------------------------------------------------------
    @property
    def components(self) -> tuple[tuple[Fraction, Policy], ...]:
        """The weighted components of a mixture (one component of weight 1 otherwise)."""
        return tuple((w, Policy(self.model, [(Fraction(1), build)], source=f"{self.source}, component {k}"))
                     for k, (w, build) in enumerate(self._parts))

    @property
    def is_mixture(self) -> bool:
        return len(self._parts) > 1

    def table(self, horizon: int | None, component: int = 0) -> Table:
        """The policy's behaviour over an episode of ``horizon`` steps (``None``: geometric):
        its canonical table over the states it reaches (what certificates bind)."""
        from proofs.policy.canonical import UndefinedState, reachable_table
        from proofs.policy.load import _undefined

        key = (component, horizon)
        if key not in self._tables:
            try:
                self._tables[key] = reachable_table(self.model.mdp, self._parts[component][1](horizon), horizon)
            except UndefinedState as exc:
                raise _undefined(self.source, self.model.mdp, exc, 1, "code") from None
        return self._tables[key]

    def _single(self) -> None:
        if self.is_mixture:
            raise ValueError(f"{self.source} is a mixture of {len(self._parts)} policies: "
                             "use .components to take them one by one")

    def action(self, state: str | int, step: int = 0, horizon: int | None = None) -> str | dict[str, Fraction] | None:
        """What the policy does in a state at a step: an action name when it is sure, else
        ``{action: probability}``; ``None`` where it is undefined (a state it never reaches)."""
        self._single()
        s = self.model.index(state)
        layer = self.table(horizon).at(step)
        dist = {self.model.mdp.action(c): p for c, p in layer.distribution(s)}
        if not dist:
            return None
        if len(dist) == 1:
            return next(iter(dist))
        return dict(sorted(dist.items()))

    def evaluate(self, objective: Objective, properties: Sequence[str] = ()) -> Any:
        """`proofs.evaluate` of this policy: J and each property, exactly or as sound enclosures."""
        from proofs.api.prove import evaluate

        return evaluate(self.model, objective, self, properties)

    def save(self, path: str | Path, horizon: int | None = None) -> Path:
        """Write the policy as a ``proofs.policy/1`` JSON table (its behaviour over ``horizon``
        steps, ``None``: every state it reaches), which `load_policy` and obligations read."""
        from proofs.policy.canonical import write_policy_json

        self._single()
        write_policy_json(path, self.model.mdp, self.table(horizon))
        return Path(path)

    def __repr__(self) -> str:
        kind = f"mixture of {len(self._parts)}" if self.is_mixture else "policy"
        return f"<proofs.Policy {kind}: {self.source}>"

    # -- acting in the environment --------------------------------------------------------------
    def rollout(self, env: Any, episodes: int = 1, *, seed: int | None = None,
                max_steps: int | None = None) -> list[Episode]:
        """Run the policy in a Gymnasium environment (the one the model was imported from).

        The observation ``i`` is the model's state ``"i"``; the chosen action ``"j"`` is sent as
        ``j``. A mixture draws one component per episode. An episode ends when the environment
        terminates or truncates it, after ``max_steps`` steps, or where the policy is undefined.

        Examples
        --------
        >>> import gymnasium
        >>> from proofs import from_gym
        >>> lake = from_gym("FrozenLake-v1", is_slippery=False)
        >>> path = {"0": 1, "4": 1, "8": 2, "9": 1, "13": 2, "14": 2}
        >>> policy = Policy.from_callable(lake, lambda s: path.get(s, 0))
        >>> [e.total for e in policy.rollout(gymnasium.make("FrozenLake-v1", is_slippery=False), seed=0)]
        [1.0]
        """
        rng = np.random.default_rng(seed)
        weights = np.array([float(w) for w, _ in self._parts])
        out = []
        for episode in range(episodes):
            k = int(rng.choice(len(self._parts), p=weights / weights.sum()))
            table = self.table(None, k)
            obs, _ = env.reset(seed=None if seed is None else seed + episode)
            observations, actions, rewards, terminated = [int(obs)], [], [], False
            step = 0
            while max_steps is None or step < max_steps:
                s = self.model.mdp.state_index.get(str(int(obs)))
                dist = [] if s is None else table.at(step).distribution(s)
                if not dist:
                    break
                choices = [c for c, _ in dist]
                c = choices[int(rng.choice(len(choices), p=[float(p) for _, p in dist]))]
                action = int(self.model.mdp.action(c))
                obs, reward, terminated, truncated, _ = env.step(action)
                observations.append(int(obs))
                actions.append(action)
                rewards.append(float(reward))
                step += 1
                if terminated or truncated:
                    break
            out.append(Episode(tuple(observations), tuple(actions), tuple(rewards), bool(terminated)))
        return out


def load_policy(path: str | Path, model: Model) -> Policy:
    """Read a policy file: a ``.json`` or ``.csv`` table, or a ``.npy`` Q-table (see
    docs/policy-format.md). Python code is given with `Policy.from_callable` instead.

    Examples
    --------
    >>> from proofs import load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> load_policy("policies/cliff-walk.json", model).action("mid")
    'walk'
    """
    from proofs.policy.load import load_policy as read

    source = Path(path)

    def build(horizon: int | None) -> Table:
        return read(source, model.mdp, allow_code=False, horizon=horizon)

    return Policy(model, [(Fraction(1), build)], source=source.as_posix())


def mixture(model: Model, parts: Sequence[tuple[Fraction, Table]], source: str) -> Policy:
    """A mixture of tables over `model` (a counterexample's components)."""
    def fixed(table: Table) -> Callable[[int | None], Table]:
        return lambda horizon: table

    return Policy(model, [(w, fixed(t)) for w, t in parts], source=source)


def _arity(fn: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in parameters)

