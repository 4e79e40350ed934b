"""Where a key of a TOML or JSON document is written: its line, for error messages.

TRUSTED (reading base), but it decides nothing: `tomllib` and `json` keep no positions, so
after a world model is found to have problems, these scanners re-read the text lexically and
map each key path (``("states", "s0", "actions", "go", "to", "s1")``) to the line where it is
written. A key whose own line is not known (an element of an array, a table implied by a dotted
key) falls back to the nearest enclosing key that is known (`line_of`). They run only on a file
that already parsed, and only when there is something to report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from proofs.core.errors import InputError, InputErrors, Location

__all__ = ["KeyLines", "json_key_lines", "line_of", "toml_key_lines", "with_lines"]

KeyLines = dict[tuple[str, ...], int]

_TOML_TOKEN = re.compile(
    r'''(?P<newline>\r?\n)
      | (?P<space>[ \t]+)
      | (?P<comment>\#[^\r\n]*)
      | (?P<mlstring>"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\')
      | (?P<string>"(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*')
      | (?P<bare>[A-Za-z0-9_+\-:]+)
      | (?P<punct>[\[\]{}=,.])
      | (?P<other>.)''',
    re.VERBOSE | re.DOTALL,
)
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|\n')


def line_of(lines: Mapping[tuple[str, ...], int], parts: tuple[str, ...]) -> int | None:
    """The line of the longest prefix of `parts` that `lines` knows (None when none is known).

    >>> line_of({("states",): 3, ("states", "a"): 5}, ("states", "a", "actions", "go"))
    5
    """
    for n in range(len(parts), 0, -1):
        found = lines.get(parts[:n])
        if found is not None:
            return found
    return None


def _unquote(token: str) -> str:
    if token.startswith("'"):
        return token[1:-1]
    try:
        value = json.loads(token)  # TOML basic strings use JSON's escapes (and a few more)
    except ValueError:
        return token[1:-1]
    return value if isinstance(value, str) else token[1:-1]


def _record(lines: KeyLines, path: tuple[str, ...], line: int) -> None:
    """Record a key and every table its dotted path implies (first mention wins)."""
    for n in range(1, len(path) + 1):
        lines.setdefault(path[:n], line)


class _TomlScan:
    """One pass over the tokens; `mode` is what the next token is expected to be."""

    def __init__(self) -> None:
        self.lines: KeyLines = {}
        self.table: tuple[str, ...] = ()
        self.stack: list[tuple[str, tuple[str, ...] | None]] = []  # ("inline"|"array", prefix)
        self.mode = "key"  # "key", "value", "header", "skip" (rest of a header line)
        self.parts: list[str] = []
        self.line = 1
        self.key_line = 1

    def prefix(self) -> tuple[str, ...] | None:
        return self.stack[-1][1] if self.stack else self.table

    def token(self, kind: str, text: str) -> None:
        if self.mode in ("key", "header") and kind in ("bare", "string"):
            if not self.parts:
                self.key_line = self.line
            self.parts.append(_unquote(text) if kind == "string" else text)
        elif self.mode == "key" and text == "[" and not self.stack and not self.parts:
            self.mode = "header"
        elif self.mode == "header" and text == "]":
            self.table = tuple(self.parts)
            _record(self.lines, self.table, self.key_line)
            self.parts, self.mode = [], "skip"
        elif self.mode == "key" and text == "=":
            prefix = self.prefix()
            if prefix is not None and self.parts:
                _record(self.lines, (*prefix, *self.parts), self.key_line)
            self.mode = "value"
        elif self.mode == "value":
            self.value(text)
        elif self.mode == "key" and text == "}" and self.stack:  # an empty inline table
            self.stack.pop()
            self.mode = "value"

    def value(self, text: str) -> None:
        if text == "{":
            prefix = self.prefix()
            path = (*prefix, *self.parts) if prefix is not None and self.parts else None
            self.stack.append(("inline", path))
            self.parts, self.mode = [], "key"
        elif text == "[":
            self.stack.append(("array", None))
        elif text in ("]", "}") and self.stack:
            self.stack.pop()
        elif text == "," and self.stack and self.stack[-1][0] == "inline":
            self.parts, self.mode = [], "key"

    def newline(self) -> None:
        self.line += 1
        if not self.stack:
            self.parts, self.mode = [], "key"


def toml_key_lines(text: str) -> KeyLines:
    """The line of every table header and key of a TOML text, inline tables included.

    >>> lines = toml_key_lines('[states.a]\\nlabels = ["x"]\\n[states.a.actions.go]\\nto = { a = "1" }\\n')
    >>> lines[("states", "a", "labels")], lines[("states", "a", "actions", "go", "to", "a")]
    (2, 4)
    """
    scan = _TomlScan()
    for match in _TOML_TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "newline":
            scan.newline()
        elif kind == "mlstring":
            scan.line += token.count("\n")
            if scan.mode == "value":
                scan.value(token)
        elif kind not in ("space", "comment") and scan.mode != "skip":
            scan.token(kind or "", token)
    return scan.lines


class _Container:
    """An open JSON object or array: its key path, and the key (or index) of its current member."""

    def __init__(self, path: tuple[str, ...], is_object: bool) -> None:
        self.path, self.is_object = path, is_object
        self.member = "" if is_object else "0"
        self.expecting_key = is_object


def json_key_lines(text: str) -> KeyLines:
    """The line of every object key of a JSON text (array elements by their index).

    >>> json_key_lines('{"states": {\\n  "a": {"actions": {}}\\n}}')[("states", "a", "actions")]
    2
    """
    lines: KeyLines = {}
    line = 1
    stack: list[_Container] = []
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
        elif token in "{[":
            path = (*stack[-1].path, stack[-1].member) if stack else ()
            stack.append(_Container(path, token == "{"))
        elif token in "}]":
            stack.pop()
        elif not stack:
            continue
        elif token == ",":
            top = stack[-1]
            if top.is_object:
                top.expecting_key = True
            else:
                top.member = str(int(top.member) + 1)
        elif token.startswith('"') and stack[-1].is_object and stack[-1].expecting_key:
            top = stack[-1]
            top.member, top.expecting_key = json.loads(token), False
            lines[(*top.path, top.member)] = line  # a key given twice: the last, as `json` keeps it
    return lines


def with_lines(
    exc: InputError | InputErrors, parts: Mapping[str, tuple[str, ...]], lines: Mapping[tuple[str, ...], int]
) -> InputError | InputErrors:
    """The same errors, each at the line of its key (`parts` maps a key's text to its parts).

    An error that already has a line, or whose key is not in `parts`, is kept as it is.
    """
    errors = exc.errors if isinstance(exc, InputErrors) else (exc,)
    placed = []
    for e in errors:
        key = e.where.key
        found = parts.get(key) if key is not None and e.where.line is None else None
        line = line_of(lines, found) if found else None
        placed.append(e if line is None else InputError(Location(e.where.path, line, key), e.problem, e.fix))
    return InputErrors(placed, exc.total) if isinstance(exc, InputErrors) else placed[0]
