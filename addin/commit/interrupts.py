"""Ctrl-C and SIGTERM during a commit: undo before the point of no return, wait after it.

Before the first export file is visible, an interrupt undoes the batch (SIGTERM raises
``Terminated`` so that the same clean-up runs as for Ctrl-C). From the first visible file to
the end of the batch, interrupts are held and take effect once the batch is complete. A kill
that cannot be caught (SIGKILL, power loss) is finished or undone by the next command.
Signals can only be handled on the main thread; elsewhere this changes nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_CAUGHT = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))


class Terminated(BaseException):
    """SIGTERM (or SIGHUP) asked the process to stop."""


class Interrupts:
    def __init__(self) -> None:
        self.holding = False
        self.held: list[int] = []

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.holding:
            self.held.append(number)
            return
        raise _exception(number)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """The block runs to its end; an interrupt that came meanwhile is raised after it.
        For a database transaction: raised inside its commit, it leaves the driver's state
        broken and the interrupt lost in an AssertionError."""
        with self.held_back():
            yield
        if self.held:
            raise _exception(self.held.pop(0))

    @contextmanager
    def held_back(self) -> Iterator[None]:
        """The block runs to its end; interrupts that came meanwhile are kept in ``held``."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False


def _exception(number: int) -> BaseException:
    if number == signal.SIGINT:
        return KeyboardInterrupt()
    return Terminated(signal.Signals(number).name)


@contextmanager
def interruptible() -> Iterator[Interrupts]:
    interrupts = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield interrupts
        return
    previous = {number: signal.getsignal(number) for number in _CAUGHT}
    for number in _CAUGHT:
        signal.signal(number, interrupts._handle)
    try:
        yield interrupts
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
