"""A state limit for Storm's build of PRISM programs, enforced before the builder can exhaust memory.

TRUSTED (reading base), though it never changes a model: it only decides whether Storm may build
one. A program counting to 10**8 would otherwise make Storm's builder take minutes and gigabytes
and then abort inside GMP, killing the process. So a forked child process builds the program
under an address-space limit proportional to the state limit and a timeout, and reports how
many states it found: exactly at once when the product of the variables' ranges (2 per boolean,
``hi - lo + 1`` per integer) is within the limit, else first with Storm's float builder (about a
quarter of the exact builder's memory), and exactly only if the count is within the limit. A
child that runs out of its memory or time means "more than the limit", and the range product is
named in the message. The child can hand the exact model to the caller (`check_state_space`'s
``export``), so that a program is built once. The child also shields the caller from crashes of
Storm's builder: an integer division by zero in a variable's bound kills the process with
SIGFPE, and is reported instead.

The limit is `DEFAULT_MAX_STATES`, or the environment variable ``PROOFS_MAX_STATES``, or (for one
call) `state_limit`, which `proofs show --max-states` uses.
"""

from __future__ import annotations

import io
import os
import select
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from proofs.core.errors import InputError, Location, quote

__all__ = ["DEFAULT_MAX_STATES", "ENVIRONMENT_VARIABLE", "Export", "check_parse", "check_state_space", "max_states",
           "state_limit"]

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


@dataclass(frozen=True)
class Export:
    """How the child hands its exact model to the caller while writing it.

    ``write(model)`` runs in the child and writes the model's text into the named pipe ``fifo``;
    ``read(stream, sizes)`` runs in the caller at the same time and reads that text from the pipe
    as it comes, given the model's (states, choices, transitions). The two overlap on two cores:
    the caller's reading costs no time of its own. ``rest(model)`` then runs in the child once
    the pipe is closed (anything else, into ordinary files) while the caller reads the tail. The
    caller's result counts only if the child then reports that `write` and `rest` returned true.
    ``begin()``, if given, runs in the child just before its exact build (to start work beside it)."""

    fifo: Path
    write: Callable[[Any], bool]
    read: Callable[[BinaryIO, tuple[int, int, int]], Any]
    rest: Callable[[Any], bool]
    begin: Callable[[], None] | None = None


def check_state_space(stormpy: Any, program: Any, path: Path, export: Export | None = None) -> Any:
    """Raise `InputError` when Storm cannot safely build `program`: more reachable states than
    `max_states` allows, or a crash of Storm's builder (an integer division by zero in a bound
    kills the process with SIGFPE), found in a forked child so that the caller survives it.

    The child builds the program exactly and hands the model over through ``export`` (so that the
    caller need not build it again). Returns what ``export.read`` gave when the child reported its
    export complete, else None."""
    limit = max_states()
    probe = _probe(stormpy, program, limit, export)
    if probe is None or probe.failure == "error":
        return None  # no fork here, or Storm refused the program: its exact build reports why
    span = f" (its variables span {probe.bound:,} valuations)" if probe.bound is not None else ""
    fix = (f"Make the program smaller, or raise the limit: {ENVIRONMENT_VARIABLE}=N in the environment, "
           "or proofs show --max-states N")
    if probe.count is not None:
        if probe.count > limit:
            raise InputError(Location(path), f"the program has {probe.count:,} reachable states, more than the "
                             f"state limit of {limit:,}", fix)
        return probe.received
    if probe.failure is not None and probe.failure.startswith("SIG"):
        raise InputError(Location(path), f"Storm's builder crashed on the program ({_describe(probe.failure)})",
                         "Check the program's bounds, guards, updates and rewards for a division or modulo by zero "
                         "or an integer overflow")
    raise InputError(Location(path), f"the program has more than {limit:,} reachable states, the state "
                     f"limit{span}: exploring it {probe.failure}", fix)


@dataclass(frozen=True)
class _Probe:
    """What the child found: the variables' range product, the number of states, or why it stopped
    (``"error"``: Storm refused the program; ``"SIG…"``: it crashed; else the exhausted budget)."""

    bound: int | None
    count: int | None
    failure: str | None
    received: Any = None   # what export.read gave, when the child reported its export complete


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


def check_parse(stormpy: Any, path: Path) -> None:
    """Raise `InputError` if Storm's parser crashes on `path` (checked in a forked child first).

    Storm simplifies constant expressions while parsing: ``const int W = 0/0;`` kills the process
    with SIGFPE. After this check the caller's own parse is safe (it does the same work).
    """
    def parse(out: int) -> None:
        try:
            stormpy.parse_prism_program(str(path))
        except Exception:
            pass  # the caller's parse reports the error itself
        os.write(out, b"P\n")

    found = _in_child(parse, None, _SECONDS * 2)
    if found is None or found.data.endswith(b"P\n"):
        return
    if found.timed_out:
        raise InputError(Location(path), f"Storm's parser did not finish within {_SECONDS * 2:.0f} s",
                         "Simplify the program")
    raise InputError(Location(path), f"Storm's parser crashed on the program ({_describe(found.signal)})",
                     "Check the constants and formulas for an integer division or modulo by zero")


def _exact_build(stormpy: Any, program: Any, budget: int | None, valuations: bool = True) -> Any:
    """The caller's exact build, in the child (about four times the float build's memory); None
    if Storm refuses the program. Without ``valuations``, a point model is built without the
    variables' values (a fifth less time, and the DRN export without them half the time): the
    exporter reads them from a float build (`proofs.worldmodel.prism`)."""
    if budget is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (4 * budget, resource.getrlimit(resource.RLIMIT_AS)[1]))
    lean = stormpy.BuilderOptions()
    lean.set_build_all_reward_models()
    lean.set_build_all_labels()
    lean.set_build_choice_labels()
    for value_type in (stormpy.Rational, stormpy.RationalInterval):
        options = lean if value_type is stormpy.Rational and not valuations else stormpy.BuilderOptions(build_full=True)
        try:
            return stormpy.build_model[value_type](program, options=options)
        except MemoryError:
            raise
        except Exception:
            continue
    return None


def _describe(signal_name: str | None) -> str:
    if signal_name == "SIGFPE":
        return "SIGFPE: an arithmetic error such as an integer division or modulo by zero"
    return f"{signal_name or 'no answer'}: an internal error"


@dataclass(frozen=True)
class _Child:
    """What a forked child wrote before it ended, and how it ended."""

    data: bytes
    signal: str | None  # the signal that killed it (None: it exited)
    timed_out: bool


def _in_child(work: Callable[[int], None], budget: int | None, seconds: float,
              on_line: tuple[bytes, Callable[[bytes, float], None]] | None = None) -> _Child | None:
    """Run ``work(fd)`` in a forked child (stdout and stderr silenced, address space capped at
    `budget`, killed after `seconds`); None where there is no fork. ``on_line`` = (prefix,
    hook): the first line the child writes that starts with the prefix is handed to the hook
    (with the deadline) while the child goes on."""
    if not hasattr(os, "fork"):
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        try:
            os.close(read_end)
            import faulthandler

            faulthandler.disable()  # a crash of Storm here is expected and reported by the parent
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)  # GMP and Storm print to stderr when they fail
            if budget is not None:
                import resource

                resource.setrlimit(resource.RLIMIT_AS, (budget, resource.getrlimit(resource.RLIMIT_AS)[1]))
            work(write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        return _await_child(pid, read_end, seconds, on_line)
    finally:
        os.close(read_end)


def _await_child(pid: int, read_end: int, seconds: float,
                 on_line: tuple[bytes, Callable[[bytes, float], None]] | None = None) -> _Child:
    deadline = time.monotonic() + seconds
    data = b""
    while True:
        ready, _, _ = select.select([read_end], [], [], max(0.0, min(1.0, deadline - time.monotonic())))
        if ready:
            chunk = os.read(read_end, 4096)
            data += chunk
            if on_line is not None:
                prefix, hook = on_line
                lines = data.split(b"\n")[:-1]
                found = next((line for line in lines if line.startswith(prefix)), None)
                if found is not None:
                    on_line = None
                    hook(found, deadline)
            if chunk:
                continue
            break  # end of file: the child has finished or died
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return _Child(data, None, True)
    _, status = os.waitpid(pid, 0)
    killed = signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else None
    return _Child(data, killed, False)


def _probe(stormpy: Any, program: Any, limit: int, export: Export | None) -> _Probe | None:
    """Explore `program` in a forked child with bounded memory and time (None: no fork here).

    The child reports ``B<bound>`` and then ``N<states>`` (followed, when it exports the model,
    by ``S<states> <choices> <transitions>`` once the pipe is open, and by ``D`` when
    `export.write` succeeded), ``M`` (out of memory) or ``E`` (Storm refused the program). A program whose
    variables span at most `limit` valuations cannot exceed the limit, and is built exactly at
    once; any other is first explored with the float builder (a quarter of the memory)."""
    def explore(out: int) -> None:
        if reader is not None:
            os.close(reader)   # else the pipe keeps a reader here, and a caller who stops reading blocks the writer
        bound = _range_bound(program)
        os.write(out, f"B{'' if bound is None else bound}\n".encode())
        try:
            if bound is None or bound > limit:
                states = _float_states(stormpy, program)
                if states is None or states > limit:
                    os.write(out, b"E\n" if states is None else f"N{states}\n".encode())
                    return
            if export is not None and export.begin is not None:
                export.begin()
            model = _exact_build(stormpy, program, budget, export is None)  # alone may crash (GMP: a reward of 1/0)
        except MemoryError:
            os.write(out, b"M\n")
            return
        if model is None:
            os.write(out, b"E\n")
            return
        os.write(out, f"N{model.nr_states}\n".encode())
        if export is not None and int(model.nr_states) <= limit:
            try:
                writer = os.open(export.fifo, os.O_WRONLY)   # the caller's end is open: no wait
                try:
                    os.write(out, f"S{model.nr_states} {model.nr_choices} {model.nr_transitions}\n".encode())
                    exported = export.write(model)
                finally:
                    os.close(writer)   # with the writer's own, the caller's end of file
                if exported and export.rest(model):
                    os.write(out, b"D\n")
            except Exception:
                pass  # the caller builds and reads the model itself

    received: list[Any] = []

    def receive(line: bytes, deadline: float) -> None:
        """In the caller: read the model's text from the pipe as the child writes it."""
        assert export is not None and reader is not None
        sizes = tuple(int(n) for n in line[1:].split())
        os.set_blocking(reader, True)
        stream = io.BufferedReader(_Timed(reader, deadline), buffer_size=1 << 20)
        try:
            received.append(export.read(stream, (sizes[0], sizes[1], sizes[2])))
        except TimeoutError:
            return   # the child is killed at the deadline
        except Exception:
            pass  # the careful route reads the model instead
        try:
            while stream.read(1 << 20):
                pass   # a reader that gave up early: drain the pipe, or the child waits to write forever
        except Exception:
            pass

    base = _virtual_memory()
    budget = None if base is None else base + _MARGIN_BYTES + _BYTES_PER_STATE * limit
    seconds = _SECONDS + 5 * _SECONDS_PER_STATE * limit
    reader = None
    if export is not None and hasattr(os, "fork"):
        os.mkfifo(export.fifo)
        reader = os.open(export.fifo, os.O_RDONLY | os.O_NONBLOCK)   # open now: the child's open never waits
        _widen_pipe(reader)
    try:
        found = _in_child(explore, budget, seconds, None if reader is None else (b"S", receive))
    finally:
        if reader is not None:
            os.close(reader)
    if found is None:
        return None
    bound = _bound(found.data)
    if found.timed_out:
        return _Probe(bound, None, f"took more than {seconds:.0f} s")
    lines = [line.strip() for line in found.data.decode("ascii", errors="replace").splitlines()
             if line.strip() and not line.startswith("S")]
    done = bool(lines) and lines[-1] == "D"   # the child exported; this process may have read it
    result = lines[-1 - done] if len(lines) > 1 + done else ""
    if result.startswith("N") and result[1:].isdigit():
        complete = done and found.signal is None and bool(received)
        return _Probe(bound, int(result[1:]), None, received[0] if complete else None)
    if result == "E":
        return _Probe(bound, None, "error")
    if result != "M" and found.signal is not None and found.signal not in ("SIGABRT", "SIGKILL"):
        return _Probe(bound, None, found.signal)
    memory = f"needed more than {budget / 2**30:.1f} GB of address space" if budget is not None \
        else "ran out of memory"
    return _Probe(bound, None, memory)  # MemoryError, or an abort when an allocation failed


def _widen_pipe(fd: int) -> None:
    """Give the pipe 1 MB instead of 64 kB where Linux allows it: fewer switches between writer and reader."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


class _Timed(io.RawIOBase):
    """A blocking pipe's read end that gives up at a deadline (the child is then killed)."""

    def __init__(self, fd: int, deadline: float) -> None:
        self.fd, self.deadline = fd, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0 or not select.select([self.fd], [], [], left)[0]:
            raise TimeoutError("the child's export did not arrive in time")
        return os.readv(self.fd, [buffer])


def _float_states(stormpy: Any, program: Any) -> int | None:
    """The number of states Storm's float builder finds; None when it refuses the program (a
    `MemoryError` propagates)."""
    for value_type in (float, stormpy.Interval):
        try:
            model = stormpy.build_model[value_type](program)
        except MemoryError:
            raise
        except Exception:
            continue
        return int(model.nr_states)
    return None


def _bound(data: bytes) -> int | None:
    first = data.decode("ascii", errors="replace").split("\n")[0]
    return int(first[1:]) if first.startswith("B") and first[1:].isdigit() else None
