"""Reading the PRISM property subset of SPEC §2 from text into `proofs.core.formula` trees.

TRUSTED (reading base): the kernel re-reads the desirability Φ of an obligation through this
parser. A hand-written tokenizer and recursive-descent parser, no parser generator:

.. code-block:: text

    constraint := "P" cmp NUMBER "[" path "]"
                | "R" "{" STRING "}" cmp NUMBER "[" "C" bound? "]"
    path       := ("F" | "G") bound? state  |  state "U" bound? state
    bound      := "<=" INTEGER
    state      := conj ("|" conj)*                  (left-associative)
    conj       := unary ("&" unary)*                (left-associative)
    unary      := "!" unary | STRING | "true" | "false" | "(" state ")" | atom
    atom       := WORD | expr ("=" | "!=" | "<" | "<=" | ">" | ">=") expr
                                                    (PRISM variables: s=9, t>=deadline, b, d1+d2=2)
    expr       := term (("+" | "-") term)*          (integer arithmetic over variables and
    term       := factor ("*" factor)*               constants of the program)
    factor     := "-" factor | INTEGER | WORD
    query      := ("P" | "Pmax" | "Pmin") "=" "?" "[" path "]"
                | ("R" | "Rmax" | "Rmin") ("{" STRING "}" ("max" | "min")?)? "=" "?"
                  "[" ("C" bound? | "F" state) "]"      (`proofs eval` only)
    cmp        := "<=" | "<" | ">=" | ">"

Thresholds are exact rationals (`proofs.core.rational.parse_rational`), never floats. Every
error is an `InputError` at the caller's `Location` that names the column of the bad token and
shows the text with a caret under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from proofs.core.errors import InputError, Location
from proofs.core.formula import (
    And,
    Atom,
    Comparison,
    Constraint,
    Eventually,
    Globally,
    Label,
    Not,
    Or,
    PathFormula,
    ProbabilityConstraint,
    Query,
    RewardConstraint,
    StateFormula,
    Truth,
    Until,
)
from proofs.core.objective import Objective
from proofs.core.rational import ExpressionError, parse_rational

__all__ = ["parse_constraint", "parse_objective", "parse_property", "parse_state_formula"]

_CONSTRAINT_FIX = (
    'Write a constraint of the PRISM subset of SPEC §2, such as P<=0.01 [ F "fatal" ], '
    'P>=0.9 [ "safe" U<=20 "goal" ] or R{"harm"}<=0.1 [ C ]'
)
_STATE_FIX = 'Write a state formula such as "goal" & !("fatal" | "lava"), with labels in double quotes'
_MAX_NESTING = 100
_KEYWORDS = frozenset({"U", "F", "G", "C", "P", "R"})
_RELATIONS = frozenset({"=", "!=", "<", "<=", ">", ">="})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[+-]?(?:\d+\s*/\s*\d+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
  | (?P<string>"[^"]*")
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|[<>=?\[\]{}()!&|+*-])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "string", "word", "op" or "end"
    text: str
    offset: int


class _Parser:
    """One pass over the tokens of one text; raises `InputError` at the first bad token."""

    def __init__(self, text: str, where: Location, fix: str) -> None:
        self.text, self.where, self.fix = text, where, fix
        self.tokens = self._tokenize()
        self.pos = 0
        self.depth = 0

    # -- errors --------------------------------------------------------------------------------
    def error_at(self, offset: int, problem: str, expected: str) -> InputError:
        shown = self.text.replace("\n", " ").replace("\t", " ").replace("\r", " ")
        caret = " " * offset + "^"
        return InputError(
            self.where,
            f"{problem} at column {offset + 1} in {self.text!r}\n    {shown}\n    {caret}\n  {expected}",
            self.fix,
        )

    def unexpected(self, expected: str) -> InputError:
        tok = self.peek()
        what = "end of text" if tok.kind == "end" else repr(tok.text)
        return self.error_at(tok.offset, f"unexpected {what}", f"expected {expected}")

    def _tokenize(self) -> list[_Token]:
        tokens: list[_Token] = []
        offset = 0
        while offset < len(self.text):
            match = _TOKEN.match(self.text, offset)
            if match is None:
                char = self.text[offset]
                if char == '"':
                    raise self.error_at(offset, "unterminated label", 'expected a closing " for this label')
                raise self.error_at(offset, f"unexpected {char!r}", "expected a PRISM property token")
            kind = match.lastgroup
            assert kind is not None
            if kind != "space":
                tokens.append(_Token(kind, match.group(), offset))
            offset = match.end()
        tokens.append(_Token("end", "", len(self.text)))
        return tokens

    # -- token stream --------------------------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok.kind in ("op", "word") and tok.text == text

    def take(self) -> _Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def expect(self, text: str, expected: str) -> _Token:
        if not self.at(text):
            raise self.unexpected(expected)
        return self.take()

    def finish(self) -> None:
        if self.peek().kind != "end":
            raise self.unexpected("the end of the text")

    # -- state formulas ------------------------------------------------------------------------
    def state(self) -> StateFormula:
        left = self.conjunction()
        while self.at("|"):
            self.take()
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> StateFormula:
        left = self.unary()
        while self.at("&"):
            self.take()
            left = And(left, self.unary())
        return left

    def unary(self) -> StateFormula:
        tok = self.peek()
        if self.at("!") or self.at("("):
            self.depth += 1
            if self.depth > _MAX_NESTING:
                raise self.error_at(tok.offset, "formula nested too deeply", f"at most {_MAX_NESTING} levels")
            self.take()
            inner: StateFormula = Not(self.unary()) if tok.text == "!" else self.state()
            if tok.text == "(":
                self.expect(")", "')' to close the '(' at column " + str(tok.offset + 1))
            self.depth -= 1
            return inner
        if tok.kind == "string":
            return Label(self.label(self.take()))
        if self.at("true") or self.at("false"):
            return Truth(self.take().text == "true")
        if (tok.kind == "word" and tok.text not in _KEYWORDS) or self.at("-") or (
                tok.kind == "number" and re.fullmatch(r"[+-]?\d+", tok.text)):
            return self.atom()
        raise self.unexpected('a state formula (a "label", true, false, a variable such as s=9, ! or a parenthesis)')

    def atom(self) -> Atom:
        start = self.peek()
        left = self.expression()
        tok = self.peek()
        if not (tok.kind == "op" and tok.text in _RELATIONS):
            if left == start.text:          # a bare boolean variable b
                return Atom(left, "=", "true")
            raise self.unexpected(f"a comparison =, !=, <, <=, > or >= after {left}")
        op = self.take().text
        return Atom(left, op, self.expression())

    def expression(self) -> str:
        """Integer arithmetic over variables and constants, as canonical text (``d1+d2``, ``2*x-1``)."""
        parts = [self.factor()]
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in ("+", "-", "*"):
                parts += [self.take().text, self.factor()]
            elif tok.kind == "number" and re.fullmatch(r"[+-]\d+", tok.text):   # x+1 reads "+1" as one token
                self.take()
                parts += [tok.text[0], tok.text[1:]]
            else:
                return "".join(parts)

    def factor(self) -> str:
        tok = self.peek()
        if self.at("-"):
            self.take()
            return "-" + self.factor()
        if (tok.kind == "word" and tok.text not in _KEYWORDS) or (
                tok.kind == "number" and re.fullmatch(r"[+-]?\d+", tok.text)):
            return self.take().text
        raise self.unexpected("an integer, true, false, a variable or a constant's name")

    def label(self, tok: _Token) -> str:
        name = tok.text[1:-1]
        if not name:
            raise self.error_at(tok.offset, "empty name", 'expected a name between the quotes, e.g. "fatal"')
        return name

    # -- path formulas and constraints ---------------------------------------------------------
    def bound(self) -> int | None:
        if not self.at("<="):
            return None
        self.take()
        tok = self.peek()
        if tok.kind != "number" or not tok.text.isdigit():
            raise self.unexpected("a step bound: a non-negative integer such as 10")
        return int(self.take().text)

    def path(self) -> PathFormula:
        if self.at("F") or self.at("G"):
            op = self.take().text
            k = self.bound()
            body = self.state()
            return Eventually(body, k) if op == "F" else Globally(body, k)
        left = self.state()
        self.expect("U", "'U' (a path formula is F φ, G φ or φ U ψ)")
        k = self.bound()
        return Until(left, self.state(), k)

    def comparison(self) -> Comparison:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("<=", "<", ">=", ">"):
            return Comparison(self.take().text)
        raise self.unexpected(
            "a comparison <=, <, >= or > and a threshold (a query such as =? is not a constraint)"
        )

    def threshold(self, probability: bool) -> Fraction:
        tok = self.peek()
        if tok.kind != "number":
            raise self.unexpected("a threshold such as 0.01, 1/100 or 1e-2")
        self.take()
        try:
            value = parse_rational(tok.text)
        except ExpressionError as exc:
            raise self.error_at(tok.offset, f"bad threshold {tok.text!r}", str(exc)) from None
        if probability and not 0 <= value <= 1:
            raise self.error_at(tok.offset, f"probability threshold {tok.text} is outside [0, 1]",
                                "expected a probability between 0 and 1")
        return value

    def reward_name(self) -> str:
        """``"name" }`` after an ``R{``."""
        if self.peek().kind != "string":
            raise self.unexpected('a reward structure name in double quotes, as in R{"harm"}')
        reward = self.label(self.take())
        self.expect("}", "'}' to close the reward structure name")
        return reward

    def constraint(self) -> Constraint:
        if self.at("P"):
            self.take()
            comparison = self.comparison()
            threshold = self.threshold(probability=True)
            self.expect("[", "'[' to open the path formula")
            path = self.path()
            self.expect("]", "']' to close the path formula")
            return ProbabilityConstraint(comparison, threshold, path)
        if self.at("R"):
            self.take()
            self.expect("{", '\'{\' and a reward structure name, as in R{"harm"}')
            reward = self.reward_name()
            comparison = self.comparison()
            threshold = self.threshold(probability=False)
            self.expect("[", "'[' to open the reward formula [ C ] or [ C<=k ]")
            self.expect("C", "'C' (cumulative reward: [ C ] or [ C<=k ])")
            k = self.bound()
            self.expect("]", "']' to close the reward formula")
            return RewardConstraint(reward, comparison, threshold, k)
        if self.peek().text in ("Pmax", "Pmin", "Rmax", "Rmin"):
            raise self.unexpected("a constraint with a threshold such as P<=0.01: a query such as Pmax=? is "
                                  "answered by `proofs eval`, not part of Φ")
        raise self.unexpected("'P' or 'R' to start a constraint")


class _QueryParser(_Parser):
    """Constraints and the numerical queries ``proofs eval`` answers (``Pmax=? [...]``, ...)."""

    def query_or_constraint(self) -> Constraint | Query:
        tok = self.peek()
        if tok.kind == "word" and tok.text in ("Pmax", "Pmin", "Rmax", "Rmin"):
            self.take()
            return self.query(tok.text[0], tok.text[1:])
        if self.at("P") and self.tokens[self.pos + 1].text == "=":
            self.take()
            return self.query("P", None)
        if self.at("R"):
            start = self.pos
            self.take()
            reward = None
            if self.at("{"):
                self.take()
                reward = self.reward_name()
            direction = self.take().text if self.at("max") or self.at("min") else None
            if self.at("="):
                return self.query("R", direction, reward)
            self.pos = start
        return self.constraint()

    def query(self, operator: str, direction: str | None, reward: str | None = None) -> Query:
        self.expect("=", "'=?' (a query such as Pmax=? [ F \"goal\" ])")
        self.expect("?", "'?' after '=' (a query such as Pmax=? [ F \"goal\" ])")
        self.expect("[", "'[' to open the formula")
        if operator == "P":
            result = Query(direction, path=self.path())
        elif self.at("F"):
            self.take()
            result = Query(direction, reward=reward, target=self.state())
        else:
            self.expect("C", "'C' or 'F' (reward formulas: [ C ], [ C<=k ] or [ F φ ])")
            result = Query(direction, reward=reward, bound=self.bound())
        self.expect("]", "']' to close the formula")
        return result


def parse_property(text: str, where: Location) -> Constraint | Query:
    """Read a constraint of Φ or a numerical query (``Pmax=?``, ``Pmin=?``, ``P=?``, ``R{"c"}max=?``, ...).

    Examples
    --------
    >>> str(parse_property('Pmax=? [ F<=10 "goal" ]', Location("--property")))
    'Pmax=? [ F<=10 "goal" ]'
    >>> str(parse_property('R{"time"}min=? [ F s=9 ]', Location("--property")))
    'R{"time"}min=? [ F s=9 ]'
    >>> str(parse_property('P>=1/2 [ !(s=2) U t>=deadline ]', Location("--property")))
    'P>=1/2 [ !(s=2) U t>=deadline ]'
    """
    parser = _QueryParser(text, where, _CONSTRAINT_FIX)
    result = parser.query_or_constraint()
    parser.finish()
    return result


def parse_constraint(text: str, where: Location) -> Constraint:
    """Read one constraint of the desirability Φ.

    Parameters
    ----------
    text
        A constraint in the PRISM subset of SPEC §2, e.g. ``'P<=0.01 [ F "fatal" ]'``.
    where
        The obligation file and key the text comes from; every error is reported there.

    Returns
    -------
    Constraint
        A `ProbabilityConstraint` or `RewardConstraint`; ``str()`` of it re-parses to an equal tree.

    Raises
    ------
    InputError
        At the first bad token, naming its column and showing the text with a caret.

    Examples
    --------
    >>> str(parse_constraint('P<=1/100 [ F<=5 "fatal" ]', Location("o.toml")))
    'P<=1/100 [ F<=5 "fatal" ]'
    >>> str(parse_constraint('R{"harm"}<0.5 [ C ]', Location("o.toml")))
    'R{"harm"}<1/2 [ C ]'
    """
    parser = _Parser(text, where, _CONSTRAINT_FIX)
    result = parser.constraint()
    parser.finish()
    return result


def parse_state_formula(text: str, where: Location) -> StateFormula:
    """Read a state formula: labels, ``true``, ``false``, ``!``, ``&``, ``|`` and parentheses.

    ``!`` binds tightest, then ``&``, then ``|``; binary operators associate to the left.

    Parameters
    ----------
    text
        The formula, e.g. ``'"goal" & !"fatal"'``.
    where
        The file and key the text comes from; every error is reported there.

    Returns
    -------
    StateFormula

    Raises
    ------
    InputError
        At the first bad token, naming its column and showing the text with a caret.

    Examples
    --------
    >>> parse_state_formula('!"a" & "b" | "c"', Location("o.toml"))
    Or(left=And(left=Not(operand=Label(name='a')), right=Label(name='b')), right=Label(name='c'))
    """
    parser = _Parser(text, where, _STATE_FIX)
    result = parser.state()
    parser.finish()
    return result


def parse_objective(text: str, where: Location) -> Objective:
    """``REWARD,horizon=H|geometric[,discount=D]`` (the command line's ``--objective``) -> `Objective`.

    Examples
    --------
    >>> parse_objective("score,horizon=geometric,discount=0.95", Location("--objective"))
    Objective(reward='score', horizon=None, discount=Fraction(19, 20))
    """
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    if not parts or "=" in parts[0]:
        raise InputError(where, f"objective {text!r} does not start with a reward name",
                         "Write it as REWARD,horizon=H[,discount=D] or REWARD,horizon=geometric,discount=G")
    fields = {"reward": parts[0]}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if not sep or key not in ("horizon", "discount"):
            raise InputError(where, f"unknown objective field {part!r}", "Use horizon=… and discount=…")
        fields[key] = value
    if "horizon" not in fields:
        raise InputError(where, "the objective has no horizon", "Add horizon=H (an integer) or horizon=geometric")
    try:
        horizon = None if fields["horizon"] == "geometric" else int(fields["horizon"])
        return Objective(fields["reward"], horizon, parse_rational(fields.get("discount", "1")))
    except ValueError as exc:
        raise InputError(where, f"bad objective {text!r}: {exc}",
                         "A finite horizon is an integer >= 1 with discount in (0, 1]; "
                         "a geometric horizon needs discount in (0, 1)") from None
