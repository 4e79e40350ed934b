"""The vectorised table reader: exact numbers without floats, lines, comments, bad tokens."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.core.rational import ExpressionError, parse_rational
from proofs.worldmodel import fastread
from proofs.worldmodel.fastread import Kind, read_table

INDEX_NUMBER = (Kind.INDEX, Kind.NUMBER)


def test_decimals_are_exact_and_reduced() -> None:
    table = read_table(b"0 0.1\n1 0.123456\n2 -2.50\n3 +7\n4 .5\n5 3.\n", 0, 1, INDEX_NUMBER)
    values = table.number(1)
    assert values.fractions() == [
        Fraction(1, 10),
        Fraction(123456, 10**6),
        Fraction(-5, 2),
        7,
        Fraction(1, 2),
        3,
    ]
    assert values.den.tolist() == [10, 15625, 2, 1, 2, 1]  # lowest terms
    assert table.index(0).tolist() == [0, 1, 2, 3, 4, 5]


def test_tokens_beyond_the_fast_path_are_read_exactly() -> None:
    long = "0." + "3" * 30
    table = read_table(f"0 1/3\n1 2.5e-3\n2 {long}\n3 123456789012345678901\n".encode(), 0, 1, INDEX_NUMBER)
    assert table.number(1).fractions() == [
        Fraction(1, 3),
        Fraction(1, 400),
        Fraction(long),
        123456789012345678901,
    ]


def test_line_numbers_skip_comments_and_blank_lines() -> None:
    table = read_table(b"# head\n\n0 1\n   # indented comment\n1 2\r\n\n2 3", 0, 1, INDEX_NUMBER)
    assert table.line.tolist() == [3, 5, 7]
    assert table.number(1).fractions() == [1, 2, 3]


def test_bad_rows_and_tokens_are_listed_with_their_lines() -> None:
    table = read_table(b"0 1\n1\n2 x\n-3 1\n4 nan\n", 0, 1, INDEX_NUMBER)
    assert [(r.line, r.n_tokens) for r in table.bad_rows] == [(2, 1)]
    assert [(t.line, t.column, t.text) for t in table.bad_tokens] == [
        (3, 2, "x"),
        (4, 1, "-3"),
        (5, 2, "nan"),
    ]
    assert "finite" in table.bad_tokens[-1].reason


def test_optional_last_word_column() -> None:
    kinds = (Kind.INDEX, Kind.NUMBER, Kind.WORD)
    table = read_table(b"0 1 go\n1 1\n2 1 a_long_name\n", 0, 1, kinds, optional_last=True)
    assert table.word(2).tolist() == [b"go", b"", b"a_long_name"]


def test_rows_across_chunk_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastread, "_CHUNK", 64)
    rows = "".join(f"{i} 0.{i:06d}\n" for i in range(500))
    table = read_table(rows.encode(), 0, 1, INDEX_NUMBER)
    assert table.index(0).tolist() == list(range(500))
    assert table.number(1).fractions() == [Fraction(i, 10**6) for i in range(500)]
    assert table.line.tolist() == list(range(1, 501))


def test_irregular_rows_across_chunk_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastread, "_CHUNK", 50)
    lines = [f"{i}  0.{i:03d} " if i % 3 else f"# comment {i}\n\n{i}\t1/{i + 1}" for i in range(200)]
    table = read_table("\r\n".join(lines).encode(), 0, 1, INDEX_NUMBER)
    assert table.index(0).tolist() == list(range(200))
    expected = [Fraction(i, 1000) if i % 3 else Fraction(1, i + 1) for i in range(200)]
    assert table.number(1).fractions() == expected
    assert table.line.tolist()[:4] == [3, 4, 5, 8]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10**12), st.decimals(-(10**6), 10**6, places=8, allow_nan=False)), min_size=1
    )
)
def test_matches_fraction_on_random_decimals(rows: list[tuple[int, object]]) -> None:
    text = "".join(f"{i} {d}\n" for i, d in rows).encode()
    table = read_table(text, 0, 1, INDEX_NUMBER)
    assert table.index(0).tolist() == [i for i, _ in rows]
    assert table.number(1).fractions() == [Fraction(str(d)) for _, d in rows]
    assert all(d > 0 for d in table.number(1).den.tolist())


TOKEN_CHARS = "0123456789" * 3 + "..--++e/x"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(TOKEN_CHARS, min_size=1, max_size=22), min_size=1, max_size=40))
def test_every_token_reads_as_parse_rational_reads_it(tokens: list[str]) -> None:
    """Short tokens (the 8-byte path), long ones (Horner) and the rest (one by one) all agree
    with `parse_rational`, or are reported as bad tokens where it refuses them."""
    text = "".join(f"{i} {t}\n" for i, t in enumerate(tokens)).encode()
    table = read_table(text, 0, 1, INDEX_NUMBER)
    bad = {token.line for token in table.bad_tokens}
    values = table.number(1).fractions()
    for line, token in enumerate(tokens, start=1):
        try:
            expected = parse_rational(token)
        except ExpressionError:
            assert line in bad, token
            continue
        assert line not in bad, token
        assert values[line - 1] == expected, token


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text("0123456789" * 4 + "-+.a", min_size=1, max_size=20), min_size=1, max_size=30))
def test_every_index_token_reads_as_an_integer_or_is_reported(tokens: list[str]) -> None:
    text = "".join(f"{t} 1\n" for t in tokens).encode()
    table = read_table(text, 0, 1, INDEX_NUMBER)
    bad = {token.line for token in table.bad_tokens}
    for line, token in enumerate(tokens, start=1):
        if token.isdigit() and len(token) <= 18:
            assert line not in bad and table.index(0)[line - 1] == int(token), token
        else:
            assert line in bad, token


def test_a_file_is_read_in_chunks_whatever_its_line_lengths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastread, "_CHUNK", 64)
    rows = [f"{i} 0.{i:06d}" if i % 7 else f"{i} {'1' * 150}/{10**150}" for i in range(300)]
    path = tmp_path / "t.txt"
    path.write_text("# header\n" + "\n".join(rows))  # no newline after the last line
    table = read_table(path, len("# header\n"), 2, INDEX_NUMBER)
    assert table.index(0).tolist() == list(range(300))
    assert table.number(1).fractions() == [
        Fraction(i, 10**6) if i % 7 else Fraction(int("1" * 150), 10**150) for i in range(300)
    ]
    assert table.line.tolist() == list(range(2, 302))


def test_decimals_stay_as_read_until_reduced() -> None:
    table = read_table(b"0 0.250\n1 -3\n2 1/3\n", 0, 1, INDEX_NUMBER)
    decimals = table.decimals(1)
    assert decimals.num.tolist()[:2] == [250, -3] and decimals.exp.tolist()[:2] == [3, 0]
    assert decimals.exact == [(2, Fraction(1, 3))]
    assert table.number(1).fractions() == [Fraction(1, 4), -3, Fraction(1, 3)]
    with pytest.raises(AssertionError):
        table.decimals(1)  # reduced in place: the decimal numerators are gone


def test_an_index_column_widens_when_a_later_chunk_needs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastread, "_CHUNK", 64)
    values = [*range(50), 2**30, 2**40, *range(5)]
    table = read_table("".join(f"{v} 1\n" for v in values).encode(), 0, 1, INDEX_NUMBER)
    assert table.index(0).dtype == np.int64 and table.index(0).tolist() == values
    assert read_table(b"0 1\n1073741823 1\n", 0, 1, INDEX_NUMBER).index(0).dtype == np.int32
