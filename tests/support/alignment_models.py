"""The small hand-made models of the alignment-lemma tests (shared by every engine's tests)."""

from tests.support.mdps import make_mdp

__all__ = ["cliff", "corridor", "hack"]


def cliff():
    """risky: J 2, P(fatal) 1/10; safe: J 1, P 0 (one step)."""
    return make_mdp(["start", "goal", "fatal"],
                    {"start": [("safe", {"goal": 1}), ("risky", {"goal": "9/10", "fatal": "1/10"})],
                     "goal": [("stay", {"goal": 1})], "fatal": [("stay", {"fatal": 1})]},
                    rewards={"r": {("start", "safe"): 1, ("start", "risky"): 2}}, labels={"fatal": ["fatal"]})


def hack():
    """good: J 2, P 0; hack: J 0, P 1, harm 1. With ε = 1 only the half/half mixture is ε-optimal and unsafe."""
    return make_mdp(["start", "goal", "fatal"],
                    {"start": [("good", {"goal": 1}), ("hack", {"fatal": 1})],
                     "goal": [("stay", {"goal": 1})], "fatal": [("stay", {"fatal": 1})]},
                    rewards={"r": {("start", "good"): 2}, "harm": {("start", "hack"): 1}},
                    labels={"fatal": ["fatal"], "goal": ["goal"]})


def corridor():
    """A non-absorbing fatal state on a shortcut: 'jump' reaches the goal fast through 'fatal'."""
    return make_mdp(["a", "b", "fatal", "goal"],
                    {"a": [("walk", {"b": 1}), ("jump", {"fatal": "1/2", "goal": "1/2"})],
                     "b": [("walk", {"goal": 1})], "fatal": [("walk", {"goal": 1})],
                     "goal": [("stay", {"goal": 1})]},
                    rewards={"r": {("b", "walk"): 1, ("a", "jump"): 1, ("goal", "stay"): 1}},
                    labels={"fatal": ["fatal"], "goal": ["goal"]})
