"""What a running training loop is watched and stopped with: its progress bar and its stop flag.

Both loops (PPO, :mod:`~agents.train.loop`; distillation, :mod:`~agents.train.distill`) use
these, so a run shows the same bar and stops the same way whichever loop it is:

* :func:`progress_bar` -- a tqdm bar over ``config.total_steps`` steps, starting at the
  resumed step, hidden with ``progress=False``;
* :func:`stop_on_signals` -- while the ``with`` block runs, SIGTERM and SIGINT (Ctrl-C) set
  :attr:`StopFlag.requested` instead of killing the process; the loop checks it at a clean
  point, writes a checkpoint and returns ``stopped=True``. The previous handlers are restored
  on exit, even after an error. Off the main thread (where Python cannot install handlers)
  the flag is never set by a signal.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["StopFlag", "stop_on_signals", "progress_bar"]


@dataclass
class StopFlag:
    """Set when a stop was asked for (SIGTERM or Ctrl-C inside :func:`stop_on_signals`)."""

    requested: bool = False


@contextmanager
def stop_on_signals(flag: StopFlag | None = None) -> Iterator[StopFlag]:
    """``flag`` (a new :class:`StopFlag` by default), set by SIGTERM and SIGINT while the
    block runs.

    The previous handlers come back afterwards:

    >>> before = signal.getsignal(signal.SIGTERM)
    >>> with stop_on_signals() as stop:
    ...     signal.raise_signal(signal.SIGTERM)
    >>> stop.requested, signal.getsignal(signal.SIGTERM) is before
    (True, True)
    """
    flag = StopFlag() if flag is None else flag

    def request_stop(signum, frame) -> None:
        flag.requested = True

    old_handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            old_handlers[sig] = signal.signal(sig, request_stop)
    try:
        yield flag
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)


def progress_bar(config, start_steps: int):
    """The run's tqdm bar: ``config.total_steps`` steps, at ``start_steps`` already done,
    shown when ``config.progress`` is true. The caller closes it."""
    from tqdm.auto import tqdm

    return tqdm(
        total=config.total_steps,
        initial=min(start_steps, config.total_steps),
        unit="step",
        unit_scale=True,
        disable=not config.progress,
        dynamic_ncols=True,
    )
