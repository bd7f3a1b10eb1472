"""An interrupted backward(): every gradient is either as it was or final, and nothing is left over.

The contract (see the walk in ``micrograd/engine.py``): each gradient is assigned once, its final
value, an interior node's when the walk finishes it and the leaves' at the end. These tests stop
walks with anomaly mode, and with an exception injected at every line and bytecode of the walk's
code, once and twice in a row, and check the contract and that the next backward() gives the
bits a fresh copy of the graph gives.
"""

from __future__ import annotations

import gc
import math
import struct
import sys
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

import micrograd.engine as engine
from micrograd import AnomalyError, Value, detect_anomaly


def _bits(x: float) -> bytes:
    """The float's bits; any nan is one nan (CPython itself does not fix which nan a + b gives)."""
    return struct.pack("<d", math.nan if x != x else x)


def _graph() -> list[Value]:
    """Every node of a small graph of every kind the walk handles, with gradients already present:
    leaves used once and many times, nodes with one and several consumers, zeros of both signs;
    the output last."""
    x, y, z = Value(0.5), Value(-1.25), Value(3.0)
    x.grad, y.grad = 2.0, -0.0
    s = x * y  # two consumers
    s.grad = 7.0
    t = s * x + z  # x has three consumers in all
    u = (s * 2.0).tanh()
    u.grad = -0.0
    v = Value.dot([t, u, x], [y, s, 1.0])
    out = v * v + t.exp()
    out.grad = 0.5
    nodes: list[Value] = []
    seen: set[Value] = set()
    stack = [out]
    while stack:  # every node once, in a fixed order
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            nodes.append(node)
            stack.extend(node.parents)
    return nodes[::-1]


def _state(nodes: list[Value]) -> list[bytes]:
    return [_bits(v.grad) for v in nodes]


def _walked_from(state: list[float]) -> list[bytes]:
    """The gradients a complete backward() gives from gradients ``state``, on a fresh graph."""
    fresh = _graph()
    for v, g in zip(fresh, state, strict=True):
        v.grad = g
    fresh[-1].backward()
    return _state(fresh)


class _Injected(Exception):
    """The exception a trace function raises inside the walk."""


#: The walk is all the code of the engine's module that backward() runs (its file, not a list of
#: functions: a mutation-testing run replaces each function by a trampoline to a copy).
_ENGINE_FILE = engine.__file__


def _interrupted_at(
    k: int, fn: Callable[[], object], seen: Counter[tuple[str, str]] | None = None
) -> bool:
    """Run ``fn`` raising _Injected at the ``k``-th trace event (call, line, opcode, return)
    inside the walk's code; whether it was interrupted. ``seen`` counts the events by function
    and kind."""
    events = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal events
        events += 1
        if seen is not None:
            seen[frame.f_code.co_name, event] += 1
        if events == k:
            raise _Injected
        return local

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != _ENGINE_FILE:
            return None
        frame.f_trace = local  # before f_trace_opcodes: Python 3.13 wants it so
        frame.f_trace_opcodes = True
        return local(frame, event, arg)

    # No garbage collection while traced: a walk stopped between making its generator and
    # starting it leaves a cycle (the walk and its generator), and finalizing that generator
    # runs the walk's code, so a collection in a later traced call would inject there, outside
    # the call under test, where the exception can only be reported as unraisable.
    collecting = gc.isenabled()
    gc.disable()
    here = sys._getframe()
    here.f_trace_opcodes = True  # before settrace(): Python 3.12 wants it so
    sys.settrace(trace)
    try:
        fn()
    except _Injected:
        return True
    finally:
        sys.settrace(None)
        here.f_trace_opcodes = False
        if collecting:
            gc.enable()
    return False


def _assert_old_or_final(nodes: list[Value], old: list[bytes], final: list[bytes]) -> None:
    for i, (now, before, after) in enumerate(zip(_state(nodes), old, final, strict=True)):
        assert now in (before, after), (i, nodes[i])


@pytest.mark.parametrize("anomaly", [False, True])
def test_an_exception_at_any_point_of_the_walk_leaves_each_gradient_old_or_final(
    anomaly: bool,
) -> None:
    k = 0
    while True:
        k += 1
        nodes = _graph()
        root = nodes[-1]
        old = _state(nodes)
        final = _walked_from([v.grad for v in nodes])
        seen: Counter[tuple[str, str]] = Counter()
        with detect_anomaly(anomaly):
            interrupted = _interrupted_at(k, root.backward, seen)
        if not interrupted:
            assert _state(nodes) == final  # the walk ran to its end
            break
        _assert_old_or_final(nodes, old, final)

        # a second interruption, at the same point of the next walk, then a walk to the end
        after_one = [v.grad for v in nodes]
        final = _walked_from(after_one)
        with detect_anomaly(anomaly):
            _interrupted_at(k, root.backward)
        _assert_old_or_final(nodes, [_bits(g) for g in after_one], final)
        state = [v.grad for v in nodes]
        root.backward()
        assert _state(nodes) == _walked_from(state), k
    # the trace saw the walk's code line by line and instruction by instruction (how many
    # instructions depends on the interpreter's version), so every point of it was a target
    assert seen["_steps", "line"] > 20
    assert seen["_steps", "opcode"] > seen["_steps", "line"]
    assert k - 1 == seen.total()
    print(f"walk interrupted at each of its {k - 1} trace events")


def test_a_walk_stopped_by_anomaly_mode_has_assigned_the_finished_nodes_only() -> None:
    x = Value(0.0)
    x.grad = 2.0  # a leaf below the failing node
    y = Value(3.0)
    y.grad = 4.0  # a leaf that t passes 6.0 to before the walk stops: leaves wait for the end
    s = y * 2.0
    s.grad = 7.0  # two consumers: t passes 3.0, w never does
    t = s * y
    m = x * 1.0
    m.grad = 0.75  # never reached, with an old gradient
    n = x + 0.0  # never reached
    z = (m * n).sqrt()  # d sqrt/dx is inf at 0: the walk stops here
    m2 = y + 0.5  # to be finished when the walk stops
    u = m2 * z
    w = s * 1.5
    w.grad = 0.25  # to be finished, with an old gradient
    out = Value.dot([w, u, t], [1.0, 1.0, 1.0])
    out.grad = 0.5

    with detect_anomaly(), pytest.raises(AnomalyError, match="pow_const"):
        out.backward()

    expected = {
        "out": (out, 1.5),  # 0.5 + 1.0: finished
        "t": (t, 1.0),  # finished
        "u": (u, 1.0),  # finished
        "z": (z, 3.5),  # finished (u passed 1.0 * m2 = 3.5), then its rule failed
        "w": (w, 0.25),  # not finished: as it was
        "m2": (m2, 0.0),
        "s": (s, 7.0),  # t passed its share, w did not
        "y": (y, 4.0),
        "m": (m, 0.75),
        "n": (n, 0.0),
        "x": (x, 2.0),
    }
    for name, (node, grad) in expected.items():
        assert _bits(node.grad) == _bits(grad), name

    # the graph is usable again: a full walk adds exactly the true gradients
    for node, _ in expected.values():
        node.grad = 0.0
    out.backward()
    assert (t.grad, s.grad, y.grad) == (1.0, 3.0 + 1.5, 6.0 + 2.0 * 4.5 + 0.0)
    assert math.isnan(x.grad)  # inf * 0 through m * n


def test_a_walk_stopped_at_its_first_node_changes_nothing_below_it() -> None:
    x = Value(0.0)
    x.grad = -1.0
    h = x * 1.0
    h.grad = 0.5
    out = h.sqrt()  # the root's own rule fails: it is finished, nothing is passed on
    out.grad = 2.0
    with detect_anomaly(), pytest.raises(AnomalyError):
        out.backward()
    assert (out.grad, h.grad, x.grad) == (3.0, 0.5, -1.0)


def test_a_leaf_says_it_has_no_number_argument_even_after_an_interrupted_walk() -> None:
    # A walk keeps a leaf's running sum in the slot a *_const node keeps its number in.
    x, y = Value(2.0), Value(3.0)
    out = (x * y).log() * 2.0
    k = 0
    while _interrupted_at(k := k + 1, out.backward):
        assert (x.arg, y.arg) == (None, None)
    assert (x.arg, y.arg, out.arg) == (None, None, 2.0)
