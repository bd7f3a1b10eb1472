"""Helpers for the unit tests: apply a registry operator through its public Python syntax."""

from __future__ import annotations

import math
from collections.abc import Sequence

from micrograd import Op, Value


def apply(op: Op, operands: Sequence[Value], c: float | None = None) -> Value:
    """Evaluate ``op``'s Python syntax on ``operands``, exercising the public operator path."""
    names = [f"x{i}" for i in range(len(operands))]
    out = eval(op.source(*names, c=c), {"Value": Value}, dict(zip(names, operands, strict=True)))
    assert isinstance(out, Value)
    return out


def run(op: Op, operands: Sequence[float], c: float | None = None) -> tuple[float, list[float]]:
    """Value and gradients of ``op`` at fresh leaves holding ``operands``."""
    leaves = [Value(x) for x in operands]
    out = apply(op, leaves, c)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def same(a: float, b: float) -> bool:
    """Equal including the sign of zero, or both nan."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def same_ignoring_zero_sign(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def plain_backward(root: Value, seed: float = 1.0, *, accumulate: bool = True) -> None:
    """Kahn's algorithm with dictionaries of counts and pending sums: the walk, written plainly.

    ``accumulate=False`` is the classic bug: a pending gradient is overwritten (``=``, not ``+=``).
    """
    consumers: dict[Value, int] = {}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            n = consumers.get(parent, 0)
            if not n:
                stack.append(parent)
            consumers[parent] = n + 1
    pending = {root: seed}
    stack = [root]
    while stack:
        node = stack.pop()
        g = pending.pop(node)
        node.grad += g
        if node.op is None:
            continue
        for parent, d in zip(node.parents, node.op.vjp(node, g), strict=True):
            acc = pending.get(parent)
            pending[parent] = d if acc is None or not accumulate else acc + d
            n = consumers[parent] - 1
            consumers[parent] = n
            if not n:
                stack.append(parent)
