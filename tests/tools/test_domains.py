"""Each operator's domain (in its record): where it is defined, finite and differentiable.

``domain.smooth`` and ``domain.clear`` come from one ``distance`` to the nearest pole, kink or
boundary; these tables pin them at the boundary of each domain, where an off-by-one comparison
(``>`` for ``>=``, ``0`` for ``1``) would change the answer.
"""

from __future__ import annotations

import math

import pytest

from micrograd import OPS
from micrograd.testing.opinfo import RECORDS

inf, nan = math.inf, math.nan

# (operator, operands followed by c for the *_const operators, expected)
SMOOTH: list[tuple[str, tuple[float, ...], bool]] = [
    # defined everywhere: even at zeros, infinities and nan the rule says yes
    *[
        (name, args, True)
        for name, args in [
            ("add", (0.0, -0.0)),
            ("add", (inf, nan)),
            ("mul", (0.0, inf)),
            ("neg", (0.0,)),
            ("add_const", (0.0, -1.0)),
            ("mul_const", (0.0, 0.0)),
            ("exp", (1000.0,)),
            ("tanh", (0.0,)),
            ("sigmoid", (-1000.0,)),
            ("sin", (0.0,)),
            ("cos", (1e300,)),
            ("dot", (0.0, 0.0)),
            ("dot", (1.0, 2.0, 3.0, 4.0)),
        ]
    ],
    # a / b: a pole at b = 0 only
    ("div", (1.0, 0.0), False),
    ("div", (1.0, -0.0), False),
    ("div", (0.0, 1.0), True),
    ("div", (1.0, 2.0), True),
    ("div_const", (1.0, 0.0), False),
    ("div_const", (0.0, 1.0), True),
    ("div_const", (1.0, -3.0), True),
    ("rdiv_const", (0.0, 1.0), False),
    ("rdiv_const", (1.0, 0.0), True),
    ("rdiv_const", (-3.0, 1.0), True),
    # a ** b: a > 0 (the exponent's derivative needs log(a))
    ("pow", (0.0, 2.0), False),
    ("pow", (-1.0, 2.0), False),
    ("pow", (0.5, 2.0), True),
    ("pow", (2.0, -0.5), True),
    # x ** c
    ("pow_const", (2.0, inf), False),
    ("pow_const", (2.0, -inf), False),
    ("pow_const", (2.0, nan), False),
    ("pow_const", (0.0, 0.0), False),  # 1 everywhere, but its rule is 0 * 0 ** -1 here
    ("pow_const", (0.5, 0.0), True),
    ("pow_const", (0.0, 2.0), True),
    ("pow_const", (0.0, 1.0), True),
    ("pow_const", (0.0, -1.0), False),  # a pole
    ("pow_const", (-2.0, -1.0), True),
    ("pow_const", (-2.0, 3.0), True),  # integer powers of negatives are fine
    ("pow_const", (0.5, 0.5), True),
    ("pow_const", (2.0, 1.5), True),
    ("pow_const", (0.0, 0.5), False),  # sqrt's kink
    ("pow_const", (-0.5, 0.5), False),  # outside the domain
    # c ** x: c > 0
    ("rpow_const", (1.0, 0.0), False),
    ("rpow_const", (1.0, -2.0), False),
    ("rpow_const", (1.0, 0.5), True),
    ("rpow_const", (-1.0, 2.0), True),
    # ln(x): x > 0
    ("log", (0.0,), False),
    ("log", (-1.0,), False),
    ("log", (0.5,), True),
    ("log", (2.0,), True),
    # kinks at 0
    ("relu", (0.0,), False),
    ("relu", (-0.0,), False),
    ("relu", (1.0,), True),
    ("relu", (-1.0,), True),
    ("abs", (0.0,), False),
    ("abs", (-0.0,), False),
    ("abs", (1.0,), True),
    ("abs", (-1.0,), True),
]


@pytest.mark.parametrize(("name", "args", "expected"), SMOOTH)
def test_smooth_at_the_edge_of_each_domain(
    name: str, args: tuple[float, ...], expected: bool
) -> None:
    op, domain = OPS[name], RECORDS[name].domain
    operands, c = (args[:-1], args[-1]) if op.has_const else (args, None)
    assert domain.smooth(operands, c) is expected


@pytest.mark.parametrize(
    ("name", "args", "margin", "expected"),
    [
        ("log", (0.1,), 0.1, True),  # at the margin exactly: clear
        ("log", (0.0999,), 0.1, False),
        ("div", (5.0, -0.1), 0.1, True),
        ("div", (5.0, 0.05), 0.1, False),
        ("relu", (-0.1,), 0.1, True),
        ("pow_const", (0.0, 2.0), 0.1, True),  # no pole: any margin
        ("pow_const", (-0.05, -1.0), 0.1, False),
        ("exp", (1e6,), 0.1, True),  # exp has no pole; tame() keeps it moderate
    ],
)
def test_clear_of_a_margin(
    name: str, args: tuple[float, ...], margin: float, expected: bool
) -> None:
    op, domain = OPS[name], RECORDS[name].domain
    operands, c = (args[:-1], args[-1]) if op.has_const else (args, None)
    assert domain.clear(operands, c, margin) is expected


def test_every_operator_has_smooth_cases() -> None:
    assert {name for name, _, _ in SMOOTH} == set(OPS)
