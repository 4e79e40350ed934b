"""The binary canonical policy table (`proofs.table/1`): canonical bytes, and a strict reading.

The kernel reads a large policy table only through `decode_table`; its hash binds the bytes, so
these tests forge tables whose bytes are *well formed* but whose content is not a policy: each
must be a `TableError`, never a policy the kernel would then evaluate.
"""

from fractions import Fraction

import numpy as np
import pytest
from tests.support.mdps import make_mdp

from proofs.core.model import narrowest, pack
from proofs.core.numbers import Rationals
from proofs.core.policy import TABLE_FORMAT, Policy, PolicyLayer, TableError, decode_table, encode_table

MDP = make_mdp(["s", "t", "u"],
               {"s": [("a", {"t": 1}), ("b", {"u": 1}), ("c", {"s": 1})],
                "t": [("a", {"t": 1})],
                "u": [("a", {"s": "1/2", "u": "1/2"}), ("b", {"u": 1})]})


def layer(table: dict[int, list[tuple[int, Fraction]]]) -> PolicyLayer:
    return PolicyLayer.from_table(MDP, table)


MIXED = Policy((layer({0: [(0, Fraction(1, 3)), (1, Fraction(2, 3))]}),
                layer({0: [(2, Fraction(1))], 1: [(3, Fraction(1))], 2: [(4, Fraction(1, 4)), (5, Fraction(3, 4))]})))


def forged(counts: list[int], local: list[int], num: list[int], den: int, states: int = 3) -> bytes:
    """A one-layer table with exactly these arrays (well-formed bytes, any content)."""
    arrays = [("0.count", narrowest(np.array(counts, dtype=np.int64))),
              ("0.local", narrowest(np.array(local, dtype=np.int64))),
              ("0.probability.num", narrowest(np.array(num, dtype=np.int64)))]
    layers = [{"name": "0.probability", "den": str(den)}]
    return pack(TABLE_FORMAT, {"format": TABLE_FORMAT, "states": states, "layers": layers}, arrays)


def test_a_table_reads_back_to_the_same_behaviour_and_the_same_bytes():
    data = encode_table(MDP, MIXED)
    again = decode_table(MDP, data)
    assert encode_table(MDP, again) == data
    for ours, theirs in zip(again.layers, MIXED.layers):
        assert [ours.distribution(s) for s in range(3)] == [theirs.distribution(s) for s in range(3)]


def test_a_well_formed_forgery_of_a_valid_policy_reads():
    policy = decode_table(MDP, forged([2, 1, 0], [0, 2, 0], [1, 1, 2], 2))
    assert policy.layers[0].distribution(0) == [(0, Fraction(1, 2)), (2, Fraction(1, 2))]


@pytest.mark.parametrize("counts, local, num, den, states, message", [
    ([1, 1, 0], [3, 0], [1, 1], 1, 3, r"state 's' has no choice number 3"),
    ([1, 1, 0], [0, -1], [1, 1], 1, 3, r"state 't' has no choice number -1"),
    ([2, 0, 0], [1, 0], [1, 1], 2, 3, r"choices of state 's' are not in increasing order"),
    ([2, 0, 0], [1, 1], [1, 1], 2, 3, r"choices of state 's' are not in increasing order"),
    ([2, 0, 0], [0, 1], [0, 1], 1, 3, r"state 's' has a probability that is not positive"),
    ([2, 0, 0], [0, 1], [-1, 2], 1, 3, r"state 's' has a probability that is not positive"),
    ([2, 0, 0], [0, 1], [1, 1], 3, 3, r"probabilities of state 's' do not sum to 1"),
    ([1, 0, 0], [0], [1], 2, 3, r"probabilities of state 's' do not sum to 1"),
    ([1, 0, 0], [0, 1], [1, 1], 1, 3, r"entry counts that do not match"),
    ([1, 0], [0], [1], 1, 2, r"not one over the model's 3 states"),
])
def test_a_table_that_is_not_a_policy_is_rejected(counts, local, num, den, states, message):
    with pytest.raises(TableError, match=message):
        decode_table(MDP, forged(counts, local, num, den, states))


def test_damaged_bytes_are_rejected():
    data = encode_table(MDP, MIXED)
    for cut in (5, len(data) // 2, len(data) - 1):
        with pytest.raises(TableError):
            decode_table(MDP, data[:cut])
    with pytest.raises(TableError, match="not a proofs.table/1 file"):
        decode_table(MDP, b"proofs.model/1\n{}\n")
    with pytest.raises(TableError, match="bytes after the last array"):
        decode_table(MDP, data + b"\0")


def test_probabilities_are_exact_rationals():
    third = Policy((PolicyLayer(np.array([0, 3, 3, 3]), np.array([0, 1, 2]),
                                Rationals.from_fractions([Fraction(1, 3)] * 3)),))
    assert decode_table(MDP, encode_table(MDP, third)).layers[0].distribution(0) == [
        (0, Fraction(1, 3)), (1, Fraction(1, 3)), (2, Fraction(1, 3))]
