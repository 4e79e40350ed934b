"""Source lines of the commands of a PRISM program, for messages about the choices they make.

TRUSTED (reading base), for messages only: Storm's program objects carry no line numbers, so the
commands are found in the source text, module by module, in declaration order (the order of
Storm's global command indices). A command is a statement of a module body (statements end with
``;``) that starts with ``[``; a renamed module (``module m2 = m1 [x=y] endmodule``) has the lines
of the module it copies. When the text and the program disagree on the number of commands of a
module, that module's commands get no line (a message then names the state and action only).
"""

from __future__ import annotations

import bisect
import re
from typing import Any

__all__ = ["command_lines"]

_COMMENT = re.compile(r"//[^\n]*")
_MODULE = re.compile(r"\bmodule\s+([A-Za-z_][\w']*)(.*?)\bendmodule\b", re.DOTALL)
_RENAMED = re.compile(r"^\s*=\s*([A-Za-z_][\w']*)")


def command_lines(program: Any, text: str) -> dict[int, int]:
    """Storm's global command index -> 1-based source line of the command, where it can be found.

    >>> class C:
    ...     def __init__(self, i): self.global_index = i
    >>> class M:
    ...     def __init__(self, name, n, at): self.name, self.commands = name, [C(at + k) for k in range(n)]
    >>> class P:
    ...     modules = [M("a", 2, 0), M("b", 2, 2)]
    >>> command_lines(P(), "mdp\\nmodule a\\n x : [0..1] init 0;\\n [go] x=0 -> (x'=1);\\n [] true -> true;\\n"
    ...               "endmodule\\nmodule b = a [x=y] endmodule\\n")
    {0: 4, 1: 5, 2: 4, 3: 5}
    """
    source = _COMMENT.sub(lambda m: " " * len(m.group(0)), text)  # same offsets, so same lines
    newlines = [m.start() for m in re.finditer("\n", source)]
    bodies: dict[str, list[int]] = {}
    renamed: dict[str, str] = {}
    for found in _MODULE.finditer(source):
        name, body = found.group(1), found.group(2)
        copy = _RENAMED.match(body)
        if copy:
            renamed[name] = copy.group(1)
            continue
        bodies[name] = [bisect.bisect_left(newlines, found.start(2) + at) + 1 for at in _command_offsets(body)]
    out: dict[int, int] = {}
    for module in program.modules:
        lines = bodies.get(module.name) or bodies.get(renamed.get(module.name, ""), [])
        commands = list(module.commands)
        if len(lines) == len(commands):
            out.update((int(c.global_index), line) for c, line in zip(commands, lines))
    return out


def _command_offsets(body: str) -> list[int]:
    """Offsets in `body` of the statements that start with ``[``."""
    offsets, start = [], 0
    for end in [m.start() for m in re.finditer(";", body)]:
        statement = body[start:end]
        stripped = statement.lstrip()
        if stripped.startswith("["):
            offsets.append(start + len(statement) - len(stripped))
        start = end + 1
    return offsets
