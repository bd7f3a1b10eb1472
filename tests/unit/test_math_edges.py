"""The rarely taken paths of the numeric helpers: dot products whose partial sums overflow,
number literals in generated source, and the modulus error."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from micrograd import OPS, Value
from micrograd.ops import float_literal


def test_dot_with_an_overflowing_partial_sum_is_exact() -> None:
    # math.fsum gives up on these; the exact fallback must not add anything of its own
    big = 1e308
    out = Value.dot([big, big, -big, -big, 0.5], [1.0] * 5)
    assert out.data == 0.5
    out = Value.dot([big, big, -big], [1.0, 1.0, 1.0])
    assert out.data == big


def test_dot_whose_exact_sum_overflows_has_the_sign_of_the_sum() -> None:
    big = 1e308
    assert Value.dot([big, big, big, -big], [1.0] * 4).data == math.inf
    assert Value.dot([-big, -big, -big, big], [1.0] * 4).data == -math.inf


def test_dot_with_infinite_products() -> None:
    assert Value.dot([math.inf, 1.0], [1.0, 2.0]).data == math.inf
    assert Value.dot([-math.inf, 1.0], [1.0, 2.0]).data == -math.inf
    assert math.isnan(Value.dot([math.inf, -math.inf], [1.0, 1.0]).data)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (2.0, "2.0"),
        (0.0, "0.0"),
        (-2.0, "(-2.0)"),
        (-0.0, "(-0.0)"),
        (math.inf, "float('inf')"),
        (-math.inf, "float('-inf')"),
        (math.nan, "float('nan')"),
    ],
)
def test_float_literals_are_parenthesised_only_when_negative(x: float, text: str) -> None:
    assert float_literal(x) == text
    assert float_literal(np.float64(x)) == text  # a float subclass is written as the float
    assert OPS["add_const"].source("x", c=x) == f"x + {text}"


def test_pow_with_a_modulus_says_so() -> None:
    message = "pow() with a modulus is not defined for Value"
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        pow(Value(2.0), 2, 3)  # type: ignore[misc]


def test_pow_overflow_sign() -> None:
    # only a negative base to an odd power overflows to -inf
    assert (Value(0.5) ** Value(-2001.0)).data == math.inf
    assert (Value(-0.5) ** Value(-2001.0)).data == -math.inf
    assert (Value(-2.0) ** Value(2001.0)).data == -math.inf
    assert (Value(-2.0) ** Value(2000.0)).data == math.inf


@pytest.mark.parametrize(
    ("name", "operands", "c", "message"),
    [
        ("add", ("x",), None, "add takes 2 operand(s), got 1"),
        ("neg", ("x", "y"), None, "neg takes 1 operand(s), got 2"),
        ("dot", ("x", "y", "z"), None, "dot takes a positive multiple of 2 operand(s), got 3"),
        ("add_const", ("x",), None, "add_const needs a number argument c"),
        ("add", ("x", "y"), 1.0, "add takes no number argument c"),
    ],
)
def test_source_rejects_wrong_operands_saying_what_it_takes(
    name: str, operands: tuple[str, ...], c: float | None, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        OPS[name].source(*operands, c=c)


def test_c_over_a_subnormal_is_the_ieee_quotient_not_a_product_with_the_reciprocal() -> None:
    # The README's one exception to "as PyTorch computes it": PyTorch's c / t is c * (1 / t),
    # which is nan and inf here; the derivative -c / x**2 is -0 and overflows to -inf.
    for c, x, quotient, slope, product in (
        (0.0, 5e-324, 0.0, 0.0, "nan"),
        (1e-8, 1e-310, 1.0000000000000031e302, -math.inf, "inf"),
    ):
        v = Value(x)
        out = c / v
        out.backward()
        assert (out.data, v.grad) == (quotient, slope)
        assert repr(c * (1.0 / x)) == product
