"""What the replay property tests share: graphs recorded as small batches, values to replay
them at, and bitwise comparison."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from hypothesis import strategies as st

from micrograd import Value
from micrograd.testing import Expr

SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e308, -1e308, 5e-324, -5e-324, 1.0, -1.0]
SEEDS = [1.0, -0.0, 0.0, -2.5, 3e-310, math.inf, math.nan]


def same(a: float, b: float) -> bool:
    """Equal bit for bit; any nan equals any nan (CPython does not fix a nan's sign or payload)."""
    return (a != a and b != b) or struct.pack("<d", a) == struct.pack("<d", b)


def batch(expr: Expr, leaves: Sequence[Value], copies: int) -> Value:
    """``expr`` on ``copies`` windows of ``leaves`` (consecutive copies share all but one leaf),
    summed with ``sum(..., Value(0.0))``."""
    n = expr.n_inputs
    outs = [expr.build(leaves[i : i + n]) for i in range(copies)]
    return sum(outs, Value(0.0))


def leaf_values(draw: st.DrawFn, expr: Expr, n: int) -> list[float]:
    """Values for ``n`` leaves: one of the expression's points repeated, some values replaced
    by special ones."""
    point = list(draw(st.sampled_from(expr.points), label="point"))
    data = [point[i % len(point)] for i in range(n)]
    for i in range(n):
        if draw(st.integers(0, 4), label="special?") == 0:
            data[i] = draw(st.sampled_from(SPECIAL), label="special")
    return data


def given_leaves(expr: Expr, copies: int) -> st.SearchStrategy[list[bool]]:
    """Which inputs are the tape's leaves: mostly all, sometimes some (the rest are constants)."""
    n = expr.n_inputs + copies - 1
    return st.one_of(st.just([True] * n), st.lists(st.booleans(), min_size=n, max_size=n))
