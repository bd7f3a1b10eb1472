"""Deliberately broken engines: each a patch of the real one with one typical bug.

Used to show that the suites catch what they claim to catch. Each patch is a context manager
that installs the bug and restores the real engine on exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from micrograd import OPS, Op, Value

from ..unit.support import plain_backward


def _assign_instead_of_add(self: Value, gradient: float = 1.0) -> None:
    """The plain walk, but a node's pending gradient is overwritten: ``=`` instead of ``+=``."""
    plain_backward(self, gradient, accumulate=False)


def _topological_order_with_repeats(self: Value, gradient: float = 1.0) -> None:
    """A depth-first order without a visited set: shared nodes are processed more than once."""
    order: list[Value] = []
    stack: list[tuple[Value, bool]] = [(self, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((p, False) for p in node._prev)  # BUG: no visited check
    seen_grad = {id(n): 0.0 for n in order}
    seen_grad[id(self)] = gradient
    for node in reversed(order):
        g = seen_grad[id(node)]
        node.grad += g if node is self else 0.0
        if node._op is None:
            continue
        for parent, d in zip(node._prev, node._op.vjp(node, g), strict=True):
            seen_grad[id(parent)] += d
            parent.grad += d


@contextlib.contextmanager
def _patched_walk(walk: Callable[[Value, float], None]) -> Iterator[None]:
    real = Value.backward
    Value.backward = walk  # type: ignore[assignment, method-assign]
    try:
        yield
    finally:
        Value.backward = real  # type: ignore[method-assign]


@contextlib.contextmanager
def _patched_rule(op: Op, vjp: Callable[[Value, float], tuple[float, ...]]) -> Iterator[None]:
    real = op.vjp
    object.__setattr__(op, "vjp", vjp)
    try:
        yield
    finally:
        object.__setattr__(op, "vjp", real)


def _tanh_derivative_of_the_input(node: Value, g: float) -> tuple[float, ...]:
    x = node._prev[0].data
    return (g * (1.0 - x * x),)  # BUG: 1 - x**2 instead of 1 - tanh(x)**2


def _relu_one_at_zero(node: Value, g: float) -> tuple[float, ...]:
    return (0.0 if node.data < 0.0 else g,)  # BUG: gradient 1 at 0


def _division_sign(node: Value, g: float) -> tuple[float, ...]:
    b = node._prev[1].data
    return (g / b, g * (node.data / b))  # BUG: +a/b**2


BROKEN: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "assign instead of accumulate": lambda: _patched_walk(_assign_instead_of_add),
    "topological order with repeats": lambda: _patched_walk(_topological_order_with_repeats),
    "tanh derivative of the input": lambda: _patched_rule(
        OPS["tanh"], _tanh_derivative_of_the_input
    ),
    "relu gradient 1 at 0": lambda: _patched_rule(OPS["relu"], _relu_one_at_zero),
    "division derivative sign": lambda: _patched_rule(OPS["div"], _division_sign),
}
