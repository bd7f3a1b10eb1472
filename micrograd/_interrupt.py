"""Ctrl-C during a long run: stop at once and say so, wherever the signal lands.

A ``KeyboardInterrupt`` raised while a garbage-collector callback runs (Hypothesis installs
one) is printed as "Exception ignored" and lost, and the run would go on to a verdict. Under
:func:`interruptible`, the handler sets a flag and raises only outside such callbacks (and
outside :func:`deferred` blocks); :func:`check`, called before each example, raises once the
flag is set.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["check", "deferred", "interruptible"]

_interrupted = False
_deferring = 0


def _handler(signum: int, frame: FrameType | None) -> None:
    global _interrupted
    _interrupted = True
    if _deferring:
        return  # deferred(): it is raised at the end of the block
    callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    if frame is not None and frame.f_code in callbacks:
        return  # it would be lost here: check() raises it at the next example
    raise KeyboardInterrupt


def check() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed under :func:`interruptible`."""
    if _interrupted:
        raise KeyboardInterrupt


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Ctrl-C within this block is raised at its end, under :func:`interruptible`. For the
    imports of the oracles' backends: a ``KeyboardInterrupt`` in the middle of PyTorch's left
    NumPy half imported (``numpy.exceptions`` loaded, not bound) without stopping the run, and
    JAX's import then failed with ``RecursionError``."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
    check()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT sets the flag :func:`check` reads, then interrupts as usual (in the main thread,
    where SIGINT has Python's default handler)."""
    global _interrupted
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield  # Ctrl-C is ignored (a background job) or handled by the caller: leave it so
        return
    previous = signal.signal(signal.SIGINT, _handler)
    _interrupted = False
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _interrupted = False
