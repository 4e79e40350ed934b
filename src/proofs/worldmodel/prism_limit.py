"""A state limit for Storm's build of PRISM programs, enforced before the builder can exhaust memory.

TRUSTED (reading base), though it never changes a model: it only decides whether Storm may build
one. A program counting to 10**8 would otherwise make Storm's builder take minutes and gigabytes
and then abort inside GMP, killing the process. Two guards, the cheap one first:

1. The product of the variables' ranges (2 per boolean, ``hi - lo + 1`` per integer) bounds the
   number of states. Within the limit, the program is built at once (the usual case).
2. Otherwise a forked child process explores the program with Storm's float builder (about a
   quarter of the exact builder's memory) under an address-space limit proportional to the state
   limit and a timeout, and reports how many states it found. The exact build happens only if the
   count is within the limit; a child that runs out of its memory or time means "more than the limit".

The limit is `DEFAULT_MAX_STATES`, or the environment variable ``PROOFS_MAX_STATES``, or (for one
call) `state_limit`, which `proofs show --max-states` uses.
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from proofs.errors import InputError, Location, quote

__all__ = ["DEFAULT_MAX_STATES", "ENVIRONMENT_VARIABLE", "check_state_space", "max_states", "state_limit"]

DEFAULT_MAX_STATES = 5_000_000
ENVIRONMENT_VARIABLE = "PROOFS_MAX_STATES"
_BYTES_PER_STATE = 250  # Storm's float builder needs 85-110 bytes per state of a simple program
_MARGIN_BYTES = 64 << 20
_SECONDS = 30.0
_SECONDS_PER_STATE = 10e-6  # the float builder explores about a million simple states a second
_LIMIT: ContextVar[int | None] = ContextVar("proofs_max_states", default=None)


def max_states() -> int:
    """The state limit in force: `state_limit`'s, else ``PROOFS_MAX_STATES``, else the default.

    Raises
    ------
    InputError
        ``PROOFS_MAX_STATES`` is not a positive integer.
    """
    override = _LIMIT.get()
    if override is not None:
        return override
    text = os.environ.get(ENVIRONMENT_VARIABLE)
    if text is None or not text.strip():
        return DEFAULT_MAX_STATES
    value = text.strip().replace("_", "")
    if not (value.isascii() and value.isdigit() and 0 < len(value) <= 18 and int(value) > 0):
        raise InputError(Location("environment", key=ENVIRONMENT_VARIABLE),
                         f"{quote(text)} is not a positive number of states",
                         f"Set {ENVIRONMENT_VARIABLE} to an integer such as 10000000, or unset it for the "
                         f"default {DEFAULT_MAX_STATES:,}")
    return int(value)


@contextmanager
def state_limit(n: int | None) -> Iterator[None]:
    """Within the block, PRISM programs may have at most `n` states (None: the usual limit)."""
    token = _LIMIT.set(n)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def check_state_space(stormpy: Any, program: Any, path: Path) -> None:
    """Raise `InputError` when `program` has more reachable states than `max_states` allows.

    Called before Storm builds the program exactly; returns quickly when the variables' ranges
    already fit the limit.
    """
    limit = max_states()
    bound = _range_bound(program)
    if bound is not None and bound <= limit:
        return
    count, reason = _count_states(stormpy, program, limit)
    span = f" (its variables span {bound:,} valuations)" if bound is not None else ""
    fix = (f"Make the program smaller, or raise the limit: {ENVIRONMENT_VARIABLE}=N in the environment, "
           "or proofs show --max-states N")
    if count is None and reason is not None:
        raise InputError(Location(path), f"the program has more than {limit:,} reachable states, the state "
                         f"limit{span}: exploring it {reason}", fix)
    if count is not None and count > limit:
        raise InputError(Location(path), f"the program has {count:,} reachable states, more than the state "
                         f"limit of {limit:,}", fix)


def _range_bound(program: Any) -> int | None:
    """The product of the variables' ranges (an upper bound on the states), or None if unknown."""
    try:
        program = program.substitute_constants()
        integers = [*program.global_integer_variables, *(v for m in program.modules for v in m.integer_variables)]
        booleans = [*program.global_boolean_variables, *(v for m in program.modules for v in m.boolean_variables)]
        bound: int = 2 ** len(booleans)
        for v in integers:
            lo, hi = v.lower_bound_expression.evaluate_as_int(), v.upper_bound_expression.evaluate_as_int()
            bound *= max(int(hi) - int(lo) + 1, 1)
        return bound
    except Exception:  # unbounded variables, clocks, expressions Storm cannot evaluate: no cheap bound
        return None


def _virtual_memory() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _count_states(stormpy: Any, program: Any, limit: int) -> tuple[int | None, str | None]:
    """Explore `program` in a forked child with bounded memory and time: ``(states, None)``, or
    ``(None, why it stopped)``, or ``(None, None)`` when the child could not build it at all (the
    exact build then reports the reason)."""
    if not hasattr(os, "fork"):
        return None, None
    base = _virtual_memory()
    budget = None if base is None else base + _MARGIN_BYTES + _BYTES_PER_STATE * limit
    seconds = _SECONDS + _SECONDS_PER_STATE * limit
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        try:
            os.close(read_end)
            _explore(stormpy, program, budget, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        return _await_count(pid, read_end, seconds, budget)
    finally:
        os.close(read_end)


def _explore(stormpy: Any, program: Any, budget: int | None, out: int) -> None:
    import resource

    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)  # GMP and Storm print to stderr when they run out of memory
    if budget is not None:
        resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    try:
        model = stormpy.build_model(program)
    except MemoryError:
        os.write(out, b"memory")
        return
    except Exception:
        try:
            model = stormpy.build_model[stormpy.Interval](program)
        except MemoryError:
            os.write(out, b"memory")
            return
        except Exception:
            os.write(out, b"error")
            return
    os.write(out, str(int(model.nr_states)).encode())


def _await_count(pid: int, read_end: int, seconds: float, budget: int | None) -> tuple[int | None, str | None]:
    deadline = time.monotonic() + seconds
    data = b""
    while True:
        ready, _, _ = select.select([read_end], [], [], max(0.0, min(1.0, deadline - time.monotonic())))
        if ready:
            chunk = os.read(read_end, 64)
            data += chunk
            if chunk:
                continue
            break  # end of file: the child has finished or died
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None, f"took more than {seconds:.0f} s"
    os.waitpid(pid, 0)
    text = data.decode("ascii", errors="replace")
    if text.isdigit():
        return int(text), None
    if text == "error":
        return None, None
    memory = f"{budget / 2**30:.1f} GB of address space" if budget is not None else "its memory"
    return None, f"needed more than {memory}"
