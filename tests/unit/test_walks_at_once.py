"""Walks at the same time: inside one another, in threads, across fork(); and non-real numbers.

backward() has no lock: walks of disjoint graphs never wait for each other; a walk that needs a
node of a running walk raises RuntimeError if that walk runs in the same thread (it could never
go on) and waits for it if it runs in another thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from types import FrameType

import pytest

from micrograd import Value


class _Hook(float):
    """A float whose reflected product (``g * data`` in a rule) first calls ``hook``."""

    hook: Callable[[], object] = staticmethod(lambda: None)

    def __rmul__(self, other: float) -> float:
        type(self).hook()
        return float(other) * float(self)


def _hooked(hook: Callable[[], object]) -> tuple[Value, Value]:
    """``(x, out)``: ``out = x * h`` where the data of ``h`` calls ``hook`` during backward()."""
    cls = type("Hook", (_Hook,), {"hook": staticmethod(hook)})
    x = Value(3.0)
    h = Value(2.0)
    out = x * h
    h._data = cls(2.0)  # the rule of out computes g * h.data (assigning .data would convert it)
    return x, out


def _blocking(entered: threading.Event, release: threading.Event) -> Callable[[], None]:
    """A hook that says it was reached, then waits to be released."""

    def hook() -> None:
        entered.set()
        release.wait(10)

    return hook


def _unhook(out: Value) -> None:
    cls = type(out.parents[1].data)
    assert issubclass(cls, _Hook)
    cls.hook = staticmethod(lambda: None)


def _chain(n: int) -> tuple[Value, Value]:
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * 1.0 + 0.0
    return x, y


def test_backward_on_a_disjoint_graph_inside_a_walk_works() -> None:
    other_x, other = _chain(10)
    x, out = _hooked(other.backward)
    out.backward()
    assert (x.grad, other_x.grad) == (2.0, 1.0)


@contextlib.contextmanager
def _within(seconds: float) -> Iterator[None]:
    """A TimeoutError, instead of a hang, if the block takes longer (waiting is the failure)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_backward_on_the_same_graph_inside_a_walk_is_a_runtime_error() -> None:
    box: list[Value] = []
    x, out = _hooked(lambda: box[0].backward())
    box.append(out)
    with _within(10), pytest.raises(RuntimeError) as info:
        out.backward()
    assert str(info.value) == (
        "backward() cannot walk a graph while another backward() call of this thread walks it "
        "(this one was called from a signal handler or a finalizer inside that walk, which can "
        "only go on once this call returns)"
    )
    assert x.grad == 0.0  # the inner call changed nothing; the outer one stopped before x
    box[0] = Value(5.0)  # the hook now walks a graph of its own
    out.backward()
    assert x.grad == 2.0


def test_a_graph_sharing_one_leaf_with_a_running_walk_is_refused_too() -> None:
    shared = Value(1.5)
    box: list[Value] = []
    _, out = _hooked(lambda: box[0].backward())
    box.append(out * shared)
    outer = box[0] + shared
    with _within(10), pytest.raises(RuntimeError, match="backward"):
        (outer * 1.0).backward()
    box[0] = shared * 2.0  # a graph of its own, but for the leaf it shares with outer
    with _within(10), pytest.raises(RuntimeError, match="backward"):
        outer.backward()


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")
def test_backward_from_a_signal_handler_during_a_walk() -> None:
    small_x, small = _chain(3)
    landed = 0

    calls = 0

    def handler(signum: int, frame: object) -> None:
        nonlocal landed, calls
        codes = []
        f: FrameType | None = sys._getframe(1)
        while f is not None:
            codes.append(f.f_code)
            f = f.f_back
        if handler.__code__ in codes:
            return  # the timer went off inside this handler, where small is being walked
        landed += any("_steps" in code.co_name for code in codes)  # (or a mutant of it)
        calls += 1
        small.backward()

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        x, big = _chain(100_000)
        signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
        runs = 0
        while landed < 3 and runs < 50:
            big.backward()
            runs += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)
    assert landed >= 3  # the handler ran inside a walk, and called backward() there
    assert x.grad == runs
    assert small_x.grad == calls  # 1.0 per handler call


@contextlib.contextmanager
def _walk_blocked_in_a_thread() -> Iterator[tuple[Value, Value, threading.Thread, threading.Event]]:
    """``(x, out, thread, entered)``: ``out.backward()`` (``out = x * h``) runs in ``thread``,
    blocked inside the walk until the block ends; ``entered`` is set when a walk gets there."""
    entered, release = threading.Event(), threading.Event()
    x, out = _hooked(_blocking(entered, release))
    thread = threading.Thread(target=out.backward)
    thread.start()
    try:
        assert entered.wait(10)
        yield x, out, thread, entered
    finally:
        release.set()
        thread.join(10)


def test_a_thread_walks_while_another_thread_is_blocked_inside_its_walk() -> None:
    with _walk_blocked_in_a_thread() as (x, _, blocked, _):
        done = threading.Event()
        other_x, other = _chain(1000)

        def work() -> None:
            other.backward()
            done.set()

        threading.Thread(target=work).start()
        assert done.wait(10)  # while the first walk is blocked
        assert other_x.grad == 1.0
        assert blocked.is_alive()
    assert x.grad == 2.0


def test_a_thread_waits_for_another_threads_walk_of_the_same_graph() -> None:
    with _walk_blocked_in_a_thread() as (x, out, _, entered):
        entered.clear()
        second = threading.Thread(target=out.backward)
        second.start()
        time.sleep(0.05)
        assert second.is_alive()  # waiting, not walking
        assert not entered.is_set()
        assert x.grad == 0.0
    second.join(10)
    assert x.grad == 4.0  # both walks, one after the other


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_backward_works_in_a_child_forked_while_a_thread_walks() -> None:
    with _walk_blocked_in_a_thread() as (x, out, _, _):
        with warnings.catch_warnings():  # libraries that start threads warn at fork()
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: the thread inside backward() does not exist here
            code = 1
            try:
                other_x, other = _chain(100)
                other.backward()
                x.grad = 0.0
                _unhook(out)
                out.backward()  # the graph that thread was walking
                code = 0 if (other_x.grad, x.grad) == (1.0, 2.0) else 2
            finally:
                os._exit(code)
        deadline = time.monotonic() + 20
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail("backward() hung in the forked child")
            time.sleep(0.01)
        assert os.waitstatus_to_exitcode(status) == 0


# --- grad and data that are not real numbers ------------------------------------------------------


@pytest.mark.parametrize("bad", [1j, None, "1.0", [1.0]])
@pytest.mark.parametrize("attribute", ["data", "grad"])
def test_data_and_grad_take_real_numbers_only(attribute: str, bad: object) -> None:
    v = Value(2.0)
    with pytest.raises(TypeError, match=rf"Value\.{attribute} takes a real number .*got "):
        setattr(v, attribute, bad)
    assert (v.data, v.grad) == (2.0, 0.0)  # unchanged


def test_data_and_grad_of_another_real_type_are_stored_as_floats() -> None:
    from fractions import Fraction

    import numpy as np

    x = Value(2.0)
    out = x * 3.0
    x.grad = Fraction(1, 2)
    out.grad = 1
    x.data = np.float64(2.5)
    assert (type(x.data), x.data) == (float, 2.5)
    out.backward()
    assert (type(x.grad), x.grad, type(out.grad), out.grad) == (float, 3.5, float, 2.0)
