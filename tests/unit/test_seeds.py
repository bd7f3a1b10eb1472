"""The examples in the documents users know, with their documented numbers."""

from __future__ import annotations

import itertools
from typing import Any

from micrograd import MLP, Value


def test_a_times_b_plus_ten() -> None:
    a = Value(2.0)
    b = Value(-3.0)
    c = a * b + Value(10.0)
    assert c.data == 4.0
    c.backward()
    assert a.grad == -3.0
    assert b.grad == 2.0


def test_x_times_y_plus_x_squared() -> None:
    x, y = Value(2.0), Value(3.0)
    z = x * y + x**2
    assert z.data == 10.0
    z.backward()
    assert x.grad == 7.0
    assert y.grad == 2.0


def test_four_sample_training_loop_lowers_the_loss() -> None:
    n = MLP(3, [4, 4, 1], nonlin="tanh", rng=0)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for _ in range(20):
        ypred = n.forward
        loss = sum(((ypred(x)[0] - ygt) ** 2 for x, ygt in zip(xs, ys, strict=True)), Value(0.0))
        n.zero_grad()
        loss.backward()
        for p in n.parameters():
            p.data += -0.1 * p.grad
        losses.append(loss.data)
    assert losses[-1] < 0.1 * losses[0], losses
    assert sum(b < a for a, b in itertools.pairwise(losses)) >= 15, losses


def test_training_loop_in_the_documented_form() -> None:
    # exactly as the seed documents write it: default network, Python's sum, p.data += -0.1 * p.grad
    n = MLP(3, [4, 4, 1], rng=1)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    first = last = None
    for _ in range(20):
        ypred: list[Any] = [n(x) for x in xs]  # untyped, as the documents write it
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True))
        assert isinstance(loss, Value)
        n.zero_grad()
        loss.backward()
        for p in n.parameters():
            p.data += -0.1 * p.grad
        first = loss.data if first is None else first
        last = loss.data
    assert first is not None
    assert last is not None
    assert last < first
