"""Worker processes of `proofs prove`: one per lemma being discharged, never outliving the run.

UNTRUSTED orchestration. Each lemma is discharged in a forked child process, so that a timeout
can stop it. A worker must die with the run that started it, however the run ends:
- normally, on an exception or on Ctrl-C: `stopping_workers` kills every worker still running;
- on SIGTERM or SIGHUP: the run turns the signal into `SystemExit` (exit code 128 + the signal),
  which unwinds through the same path (and lets `write_atomic` remove its temporary file);
- on SIGKILL, which no process can catch: on Linux the kernel sends SIGKILL to each worker when
  its parent dies (``prctl(PR_SET_PDEATHSIG)``), and on every system a watchdog thread in the
  worker exits once its parent process id changes (the worker was re-parented).
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

__all__ = ["Worker", "poll", "start_worker", "stopping_workers"]

_PR_SET_PDEATHSIG = 1          # from <linux/prctl.h>
_WATCH_INTERVAL = 0.2          # seconds between the watchdog's looks at the parent
_FORWARDED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@dataclass
class Worker:
    start: float
    proc: Any
    out: Any


def _die_with(parent: int) -> None:
    """In a worker: make sure it ends when the process `parent` does."""
    for number in _FORWARDED:
        signal.signal(number, signal.SIG_DFL)  # the parent's handler is not the worker's
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCH_INTERVAL)
        os._exit(1)

    threading.Thread(target=watch, name="proofs-watchdog", daemon=True).start()


def _run(out: Any, parent: int, work: Callable[[], Any]) -> None:
    _die_with(parent)
    try:
        out.put(("ok", work()))
    except BaseException as exc:  # reported to the parent as an error verdict
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def start_worker(work: Callable[[], Any]) -> Worker:
    """Run ``work()`` in a forked child process; its answer is read with `poll`."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=_run, args=(out, os.getpid(), work), daemon=True)
    proc.start()
    return Worker(time.perf_counter(), proc, out)


def poll(worker: Worker, timeout: float | None) -> tuple[str, Any] | None:
    """The worker's answer (``("ok", value)`` or ``("error", message)``), ``("timeout", message)``
    once `timeout` seconds have passed since it started, or None while it is still working."""
    remaining = None if timeout is None else timeout - (time.perf_counter() - worker.start)
    if remaining is not None and remaining <= 0:
        _stop(worker)
        return "timeout", f"no answer within {timeout:g} s (limit reached)"
    try:
        result: tuple[str, Any] = worker.out.get(timeout=0.05 if remaining is None else min(0.05, remaining))
    except queue.Empty:
        if not worker.proc.is_alive() and worker.out.empty():
            return "error", f"the engine process died (exit code {worker.proc.exitcode})"
        return None
    worker.proc.join()
    return result


def _stop(worker: Worker) -> None:
    worker.proc.kill()
    worker.proc.join()


def _exit_on_signal(number: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + number)


@contextmanager
def stopping_workers(workers: Mapping[str, Worker]) -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP end it with `SystemExit`; when it ends, however it
    ends, every worker still in `workers` is killed and reaped."""
    main = threading.current_thread() is threading.main_thread()
    previous = {number: signal.signal(number, _exit_on_signal) for number in _FORWARDED} if main else {}
    try:
        yield
    finally:
        for number in previous:
            signal.signal(number, signal.SIG_IGN)  # a second signal must not cut the clean-up short
        try:
            for worker in list(workers.values()):
                _stop(worker)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
