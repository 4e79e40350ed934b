"""The long-trained Q-learning policy of policies/frozenlake-q-long.csv, as a Python function.

The same behaviour as the table (scripts/train_q.py wrote it), so the same canonical table and
the same certificate: ``policy = "../policies/frozenlake_q.py:choose"`` needs ``--allow-code``.
"""

# The 8x8 lake seen from above, row 0 at the top: the move the policy makes in each cell
# (L left, D down, R right, U up, Gymnasium's actions 0-3). In a hole (H) or at the goal (G) the
# episode is over; the policy plays action 0 there, as a greedy policy over zero values does.
MAP = """
URRRRRRR
UUUURRRD
UULHRURD
UUUULHRD
UUUHRDUR
LHHRULHR
LHDUHRHR
LDLHRDDG
"""
ACTIONS = "LDRU"


def choose(state: str, labels: frozenset[str]) -> str:
    """The action (``"0"``-``"3"``) in the state named by its Gymnasium index."""
    if "terminal" in labels:
        return "0"
    rows = MAP.split()
    cell = int(state)
    return str(ACTIONS.index(rows[cell // 8][cell % 8]))
