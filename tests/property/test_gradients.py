"""backward() agrees with finite differences and with forward-mode dual numbers.

One test per registry operator (expressions built from that operator alone, so a failure points
to it), plus mixed expressions over every operator.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import OPS
from micrograd.testing import Expr, check_expr, expressions

from .reference import forward_mode

OPERATORS = list(OPS)


@pytest.mark.parametrize("op", OPERATORS)
@given(data=st.data())
def test_finite_differences_per_operator(op: str, data: st.DataObject) -> None:
    expr = data.draw(expressions(ops=[op], require=op, max_nodes=4, points=2), label="expr")
    check_expr(expr)


@given(expr=expressions(max_nodes=8, points=2))
def test_finite_differences_mixed(expr: Expr) -> None:
    check_expr(expr)


@given(expr=expressions(max_nodes=8, max_inputs=4, points=2))
def test_reverse_mode_matches_forward_mode(expr: Expr) -> None:
    for point in expr.points:
        value, grads = expr.value_and_grad(point)
        for i, g in enumerate(grads):
            expected = forward_mode(expr, point, i)
            tol = 1e-9 * max(1.0, abs(value)) + 1e-9 * abs(expected)
            assert abs(g - expected) <= tol, (
                f"d/dx{i}: backward {g!r}, forward mode {expected!r}\n{expr.snippet(point)}"
            )


@given(expr=expressions(max_nodes=8, kinks=True, points=2))
def test_gradients_at_kinks_follow_the_contract(expr: Expr) -> None:
    # relu and abs are applied exactly at 0 too: their gradient there is 0 (no finite differences)
    for point in expr.points:
        _, grads = expr.value_and_grad(point)
        for i, g in enumerate(grads):
            expected = forward_mode(expr, point, i)
            assert math.isclose(g, expected, rel_tol=1e-9, abs_tol=1e-9), (
                f"d/dx{i}: backward {g!r}, forward mode {expected!r}\n{expr.snippet(point)}"
            )
