"""The rarely taken paths of the numeric helpers: dot products whose partial sums overflow,
number literals in generated source, and the modulus error."""

from __future__ import annotations

import math
import re

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
    assert OPS["add_const"].source("x", c=x) == f"x + {text}"


def test_pow_with_a_modulus_says_so() -> None:
    message = "pow() with a modulus is not defined for Value"
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        pow(Value(2.0), 2, 3)  # type: ignore[misc]
