"""A walk stopped by anomaly mode: every node keeps its old gradient plus what it was passed.

The graph below is stopped in the middle, so that it holds a node of every kind the restoration
must handle: finished nodes, nodes waiting on the stack, a node still waiting for one of its two
consumers, nodes never reached (with and without an old gradient), and leaves that received
contributions on top of an old gradient.
"""

from __future__ import annotations

import math

import pytest

from micrograd import AnomalyError, Value, detect_anomaly


def _bits(x: float) -> tuple[float, float]:
    return (x, math.copysign(1.0, x))


def test_an_interrupted_walk_keeps_old_gradients_plus_what_arrived() -> None:
    x = Value(0.0)
    x.grad = 2.0  # leaf below the failing node: nothing arrives
    y = Value(3.0)
    y.grad = 4.0  # leaf that receives 6.0 before the walk stops
    s = y * 2.0
    s.grad = 7.0  # two consumers: t passes 3.0, w never does
    t = s * y
    m = x * 1.0
    m.grad = 0.75  # never reached, with an old gradient
    n = x + 0.0  # never reached, no old gradient
    z = (m * n).sqrt()  # d sqrt/dx is inf at 0: the walk stops here
    m2 = y + 0.5  # waiting on the stack when the walk stops
    u = m2 * z
    w = s * 1.5
    w.grad = 0.25  # waiting on the stack, with an old gradient
    out = Value.dot([w, u, t], [1.0, 1.0, 1.0])
    out.grad = 0.5

    with detect_anomaly(), pytest.raises(AnomalyError, match="pow_const"):
        out.backward()

    expected = {
        "out": (out, 1.5),  # 0.5 + 1.0
        "t": (t, 1.0),  # finished
        "u": (u, 1.0),  # finished
        "z": (z, 3.5),  # the failing node: its own gradient arrived (u: 1.0 * m2 = 3.5)
        "w": (w, 1.25),  # 0.25 + 1.0, waiting
        "m2": (m2, 0.0),  # 0.0 + 1.0 * z = 0.0, waiting
        "s": (s, 10.0),  # 7.0 + 3.0 from t; w never passed its share
        "y": (y, 10.0),  # 4.0 + 6.0 from t
        "m": (m, 0.75),  # nothing arrived
        "n": (n, 0.0),
        "x": (x, 2.0),
    }
    for name, (node, grad) in expected.items():
        assert _bits(node.grad) == _bits(grad), name
        assert node._uses == 0, name  # no count is left behind

    # the graph is usable again: a full walk adds exactly the true gradients
    for node, _ in expected.values():
        node.grad = 0.0
    out.backward()
    assert (t.grad, s.grad, y.grad) == (1.0, 3.0 + 1.5, 6.0 + 2.0 * 4.5 + 0.0)
    assert math.isnan(x.grad)  # inf * 0 through m * n


def test_a_walk_stopped_at_its_first_node_restores_everything() -> None:
    x = Value(0.0)
    x.grad = -1.0
    h = x * 1.0
    h.grad = 0.5
    out = h.sqrt()  # the root's own rule fails: nothing is passed at all
    out.grad = 2.0
    with detect_anomaly(), pytest.raises(AnomalyError):
        out.backward()
    assert (out.grad, h.grad, x.grad) == (3.0, 0.5, -1.0)
    assert out._uses == h._uses == 0


def test_restoration_keeps_the_sign_of_zero_gradients() -> None:
    """Restoration is exact: ``old + what arrived`` even where both are -0.0, or nothing arrived.

    The sign of a zero gradient is not part of the numeric contract, but this is the one place a
    slip in the bookkeeping would show: each node below is restored once, with its old gradient
    added once, and a node that received nothing keeps its old gradient bit for bit.
    """
    y = Value(0.5)
    f = y * 2.0
    f.grad = -0.0  # finished before the walk stops: -0.0 + (-0.0 from c0)
    c0 = f * -0.0
    w = Value(3.0) * 1.0
    w.grad = -0.0  # both consumers passed -0.0; waiting on the stack, reached by two paths
    c1 = w * -0.0
    v = Value(2.0)
    v.grad = -0.0  # a leaf below the failing node: nothing arrives
    n = v * 0.0
    n.grad = -0.0  # below the failing node: nothing arrives
    z = n.sqrt()  # d sqrt/dx is inf at 0: the walk stops here
    c2 = w * z
    out = Value.dot([c2, c1, c0], [-1.0, 1.0, 1.0])

    with detect_anomaly(), pytest.raises(AnomalyError, match="pow_const"):
        out.backward()

    assert _bits(f.grad) == _bits(-0.0)
    assert _bits(w.grad) == _bits(-0.0)
    assert _bits(n.grad) == _bits(-0.0)
    assert _bits(v.grad) == _bits(-0.0)
    assert _bits(y.grad) == _bits(0.0)  # +0.0 + (-0.0 * 2.0)
    assert (z.grad, c2.grad, c1.grad, c0.grad, out.grad) == (-3.0, -1.0, 1.0, 1.0, 1.0)
    assert f._uses == w._uses == n._uses == z._uses == v._uses == y._uses == 0
