"""Each registry operator: value and gradient at ordinary points and at the numeric contract's
edges.

Ordinary points are checked against hand derivations with the standard library's ``math``. The
edge table is the numeric contract (README): IEEE-754 double results as PyTorch 2.13 float64
produces them — the reference suite re-checks every row against torch itself.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import pytest

from micrograd import OPS, Op, Value

from .support import apply, run, same, same_ignoring_zero_sign

inf, nan = math.inf, math.nan
ln2, ln10 = math.log(2.0), math.log(10.0)
s = 1.0 / (1.0 + math.exp(-0.5))  # sigmoid(0.5)


class Case(NamedTuple):
    operands: tuple[float, ...]
    c: float | None
    value: float
    grads: tuple[float, ...]


# Hand-derived values and derivatives at ordinary points.
ORDINARY: dict[str, list[Case]] = {
    "add": [Case((1.5, -2.25), None, -0.75, (1.0, 1.0))],
    "mul": [Case((1.5, -2.25), None, -3.375, (-2.25, 1.5))],
    "div": [
        Case((3.0, 4.0), None, 0.75, (0.25, -3.0 / 16.0)),
        Case((-1.0, 3.0), None, -1 / 3, (1 / 3, 1 / 9)),
    ],
    "pow": [
        Case((2.0, 3.0), None, 8.0, (12.0, 8.0 * ln2)),
        Case((1.5, -0.5), None, 1.5**-0.5, (-0.5 * 1.5**-1.5, 1.5**-0.5 * math.log(1.5))),
        Case((-2.0, 3.0), None, -8.0, (12.0, nan)),  # defined for the base, not the exponent
    ],
    "neg": [Case((2.5,), None, -2.5, (-1.0,))],
    "add_const": [Case((2.5,), 1.25, 3.75, (1.0,))],
    "mul_const": [Case((2.5,), -4.0, -10.0, (-4.0,))],
    "div_const": [Case((3.0,), 4.0, 0.75, (0.25,))],
    "rdiv_const": [Case((4.0,), 3.0, 0.75, (-3.0 / 16.0,))],
    "pow_const": [
        Case((3.0,), 2.0, 9.0, (6.0,)),
        Case((2.0,), 0.5, math.sqrt(2.0), (0.5 / math.sqrt(2.0),)),
        Case((-2.0,), 3.0, -8.0, (12.0,)),
        Case((4.0,), -0.5, 0.5, (-1.0 / 16.0,)),
        Case((2.0,), -1.0, 0.5, (-0.25,)),
        Case((8.0,), 1.0 / 3.0, 2.0, (1.0 / 12.0,)),
        Case((5.0,), 0.0, 1.0, (0.0,)),
    ],
    "rpow_const": [
        Case((3.0,), 2.0, 8.0, (8.0 * ln2,)),
        Case((0.5,), 10.0, math.sqrt(10.0), (math.sqrt(10.0) * ln10,)),
    ],
    "exp": [
        Case((1.0,), None, math.e, (math.e,)),
        Case((-2.0,), None, math.exp(-2), (math.exp(-2),)),
    ],
    "log": [Case((2.0,), None, ln2, (0.5,)), Case((0.1,), None, math.log(0.1), (10.0,))],
    "tanh": [Case((0.5,), None, math.tanh(0.5), (1.0 - math.tanh(0.5) ** 2,))],
    "sigmoid": [Case((0.5,), None, s, (s * (1.0 - s),))],
    "relu": [Case((2.0,), None, 2.0, (1.0,)), Case((-2.0,), None, 0.0, (0.0,))],
    "abs": [Case((-2.0,), None, 2.0, (-1.0,)), Case((3.0,), None, 3.0, (1.0,))],
    # operands a_1..a_n, b_1..b_n
    "dot": [
        Case((2.0, -3.0), None, -6.0, (-3.0, 2.0)),
        Case((1.5, -2.0, 0.5, 4.0), None, -7.25, (0.5, 4.0, 1.5, -2.0)),
        Case(
            (0.1, 0.2, 0.3, 3.0, 2.0, 1.0),
            None,
            math.fsum([0.1 * 3.0, 0.2 * 2.0, 0.3 * 1.0]),
            (3.0, 2.0, 1.0, 0.1, 0.2, 0.3),
        ),
        # rounded once: left to right, 1e16 + 1.0 - 1e16 is 0.0
        Case((1e16, 1.0, -1e16, 1.0, 1.0, 1.0), None, 1.0, (1.0, 1.0, 1.0, 1e16, 1.0, -1e16)),
        # a partial sum overflows, the sum does not
        Case(
            (1e308, 1e308, -1e308, 1.0, 1.0, 1.0), None, 1e308, (1.0,) * 3 + (1e308, 1e308, -1e308)
        ),
    ],
}

# The numeric contract at special points: values compared exactly (sign of zero included),
# gradients exactly (nan matches nan; the sign of a zero gradient is not part of the contract).
EDGES: dict[str, list[Case]] = {
    "add": [Case((inf, -inf), None, nan, (1.0, 1.0)), Case((1e308, 1e308), None, inf, (1.0, 1.0))],
    "mul": [Case((inf, 0.0), None, nan, (0.0, inf)), Case((1e308, 10.0), None, inf, (10.0, 1e308))],
    "div": [
        Case((1.0, 0.0), None, inf, (inf, -inf)),
        Case((0.0, 0.0), None, nan, (inf, nan)),
        Case((-1.0, 0.0), None, -inf, (inf, inf)),
        Case((1.0, -0.0), None, -inf, (-inf, -inf)),
        Case((1.0, inf), None, 0.0, (0.0, 0.0)),
        Case((inf, inf), None, nan, (0.0, nan)),
    ],
    "pow": [
        Case((0.0, 0.0), None, 1.0, (0.0, 0.0)),
        Case((0.0, 1.0), None, 0.0, (1.0, 0.0)),
        Case((0.0, -1.0), None, inf, (-inf, -inf)),
        Case((0.0, 0.5), None, 0.0, (inf, 0.0)),
        Case((-8.0, 1.0 / 3.0), None, nan, (nan, nan)),
        Case((-2.0, 2.0), None, 4.0, (-4.0, nan)),
        Case((2.0, 0.0), None, 1.0, (0.0, ln2)),
        Case((1.0, inf), None, 1.0, (inf, 0.0)),
        Case((-1.0, inf), None, 1.0, (inf, nan)),
        Case((inf, 0.0), None, 1.0, (0.0, inf)),
        Case((nan, 0.0), None, 1.0, (0.0, nan)),
        Case((1.0, nan), None, 1.0, (nan, 0.0)),
        Case((2.0, -inf), None, 0.0, (nan, 0.0)),
        Case((10.0, 400.0), None, inf, (inf, inf)),
        Case((-10.0, 401.0), None, -inf, (inf, nan)),
    ],
    "neg": [
        Case((inf,), None, -inf, (-1.0,)),
        Case((nan,), None, nan, (-1.0,)),
        Case((0.0,), None, -0.0, (-1.0,)),
    ],
    "add_const": [Case((inf,), -inf, nan, (1.0,)), Case((-0.0,), -0.0, -0.0, (1.0,))],
    "mul_const": [Case((inf,), 0.0, nan, (0.0,)), Case((0.0,), inf, nan, (inf,))],
    "div_const": [
        Case((1.0,), 0.0, inf, (inf,)),
        Case((0.0,), 0.0, nan, (inf,)),
        Case((-1.0,), -0.0, inf, (-inf,)),
        Case((inf,), inf, nan, (0.0,)),
    ],
    "rdiv_const": [
        Case((0.0,), 1.0, inf, (-inf,)),
        Case((0.0,), 0.0, nan, (nan,)),
        Case((-0.0,), 1.0, -inf, (-inf,)),
        Case((inf,), 1.0, 0.0, (0.0,)),
    ],
    "pow_const": [
        Case((nan,), 0.0, 1.0, (0.0,)),
        Case((0.0,), 0.0, 1.0, (0.0,)),
        Case((-0.0,), 0.5, -0.0, (-inf,)),
        Case((-inf,), 0.5, nan, (nan,)),
        Case((-1.0,), 0.5, nan, (nan,)),
        Case((-0.0,), -0.5, -inf, (-inf,)),
        Case((-inf,), -0.5, nan, (0.0,)),
        Case((0.0,), -1.0, inf, (-inf,)),
        Case((-0.0,), -1.0, -inf, (-inf,)),
        Case((-0.0,), -2.0, inf, (inf,)),
        Case((-8.0,), 1.0 / 3.0, nan, (nan,)),
        Case((-inf,), 1.0 / 3.0, inf, (0.0,)),
        Case((-0.0,), 2.0, 0.0, (0.0,)),
        Case((-inf,), 3.0, -inf, (inf,)),
        Case((-inf,), 2.5, inf, (inf,)),
        Case((0.0,), 2.5, 0.0, (0.0,)),
        Case((1e200,), 2.0, inf, (2e200,)),
    ],
    "rpow_const": [
        Case((0.0,), 0.0, 1.0, (0.0,)),
        Case((-1.0,), 0.0, inf, (-inf,)),
        Case((-inf,), 0.0, inf, (-inf,)),
        Case((0.5,), -2.0, nan, (nan,)),
        Case((1.0,), -2.0, -2.0, (nan,)),
        Case((inf,), 1.0, 1.0, (0.0,)),
        Case((-1.0,), inf, 0.0, (nan,)),
        Case((inf,), 2.0, inf, (inf,)),
        Case((-inf,), 0.5, inf, (-inf,)),
        Case((2000.0,), 2.0, inf, (inf,)),
    ],
    "exp": [
        Case((1000.0,), None, inf, (inf,)),
        Case((-1000.0,), None, 0.0, (0.0,)),
        Case((-inf,), None, 0.0, (0.0,)),
        Case((nan,), None, nan, (nan,)),
    ],
    "log": [
        Case((0.0,), None, -inf, (inf,)),
        Case((-0.0,), None, -inf, (-inf,)),
        Case((-1.0,), None, nan, (-1.0,)),
        Case((inf,), None, inf, (0.0,)),
        Case((-inf,), None, nan, (0.0,)),
    ],
    "tanh": [
        Case((1000.0,), None, 1.0, (0.0,)),
        Case((-inf,), None, -1.0, (0.0,)),
        Case((nan,), None, nan, (nan,)),
        Case((-0.0,), None, -0.0, (1.0,)),
    ],
    "sigmoid": [
        Case((1000.0,), None, 1.0, (0.0,)),
        Case((-1000.0,), None, 0.0, (0.0,)),
        Case((inf,), None, 1.0, (0.0,)),
        Case((-inf,), None, 0.0, (0.0,)),
        Case((nan,), None, nan, (nan,)),
    ],
    "relu": [
        Case((0.0,), None, 0.0, (0.0,)),
        Case((-0.0,), None, -0.0, (0.0,)),
        Case((nan,), None, nan, (1.0,)),
        Case((-inf,), None, 0.0, (0.0,)),
        Case((inf,), None, inf, (1.0,)),
    ],
    "abs": [
        Case((0.0,), None, 0.0, (0.0,)),
        Case((-0.0,), None, 0.0, (0.0,)),
        Case((nan,), None, nan, (0.0,)),
        Case((-inf,), None, inf, (-1.0,)),
    ],
    "dot": [
        Case((inf, -inf, 1.0, 1.0), None, nan, (1.0, 1.0, inf, -inf)),
        Case((inf, 0.0), None, nan, (0.0, inf)),
        Case((inf, 1.0, 1.0, 1.0), None, inf, (1.0, 1.0, inf, 1.0)),
        Case((nan, 1.0, 1.0, 1.0), None, nan, (1.0, 1.0, nan, 1.0)),
        Case((-0.0, 1.0), None, 0.0, (1.0, -0.0)),
        Case((-0.0, -0.0, 1.0, 1.0), None, 0.0, (1.0, 1.0, -0.0, -0.0)),
        Case((1e308, 1e308, 1.0, 1.0), None, inf, (1.0, 1.0, 1e308, 1e308)),
        Case((1e200, 1e200), None, inf, (1e200, 1e200)),
        Case((5e-324, -1.0), None, -5e-324, (-1.0, 5e-324)),
    ],
}


def _cases(table: dict[str, list[Case]]) -> list[tuple[str, Case]]:
    return [(name, case) for name, cases in table.items() for case in cases]


def _id(item: object) -> str:
    return repr(item)


@pytest.mark.parametrize(("name", "case"), _cases(ORDINARY), ids=_id)
def test_ordinary_points(name: str, case: Case) -> None:
    value, grads = run(OPS[name], case.operands, case.c)
    assert math.isclose(value, case.value, rel_tol=2**-50), (name, case, value)
    for i, (got, want) in enumerate(zip(grads, case.grads, strict=True)):
        ok = (math.isnan(want) and math.isnan(got)) or math.isclose(got, want, rel_tol=2**-50)
        assert ok, f"{name}{case.operands} c={case.c}: d/d operand {i} = {got!r}, want {want!r}"


@pytest.mark.parametrize(("name", "case"), _cases(EDGES), ids=_id)
def test_numeric_contract_edges(name: str, case: Case) -> None:
    value, grads = run(OPS[name], case.operands, case.c)
    assert same(value, case.value), (
        f"{name}{case.operands} c={case.c}: value {value!r}, want {case.value!r}"
    )
    for i, (got, want) in enumerate(zip(grads, case.grads, strict=True)):
        assert same_ignoring_zero_sign(got, want), (
            f"{name}{case.operands} c={case.c}: d/d operand {i} = {got!r}, want {want!r}"
        )


@pytest.mark.parametrize("table", [ORDINARY, EDGES], ids=["ordinary", "edges"])
def test_every_registry_operator_has_cases(table: dict[str, list[Case]]) -> None:
    assert set(table) == set(OPS), "the tables must cover exactly the registry's operators"
    for name, cases in table.items():
        op = OPS[name]
        assert cases, name
        for case in cases:
            assert op.accepts(len(case.operands)), (name, case)
            assert len(case.operands) == len(case.grads), (name, case)
            assert (case.c is not None) == op.has_const, (name, case)


@pytest.mark.parametrize("op", OPS.values(), ids=lambda op: op.name)
def test_arity_is_one_two_or_variadic(op: Op) -> None:
    """No operator takes zero operands: a node without parents would be a second kind of leaf."""
    assert op.arity in (1, 2, -1)
    assert op.accepts(op.arity if op.arity > 0 else 2 * op.groups)
    assert not op.accepts(0)


@pytest.mark.parametrize("op", OPS.values(), ids=lambda op: op.name)
def test_syntax_builds_a_node_of_that_operator(op: Op) -> None:
    leaves = [Value(1.5) for _ in range(op.arity if op.arity >= 0 else 2 * op.groups)]
    out = apply(op, leaves, 2.0 if op.has_const else None)
    assert out.op is op
    assert out.parents == tuple(leaves)
    assert out.arg == (2.0 if op.has_const else None)


SPECIALS = (
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -2.5,
    3.0,
    710.0,
    -745.5,
    1e308,
    -1e308,
    5e-324,
    inf,
    -inf,
    nan,
)


@pytest.mark.parametrize("op", OPS.values(), ids=lambda op: op.name)
def test_no_python_exception_escapes_and_results_are_floats(op: Op) -> None:
    consts: tuple[float | None, ...] = SPECIALS if op.has_const else (None,)
    grid = (
        [(x,) for x in SPECIALS] if op.arity == 1 else [(a, b) for a in SPECIALS for b in SPECIALS]
    )
    for operands in grid:
        for c in consts:
            leaves = [Value(x) for x in operands]
            out = apply(op, leaves, c)
            out.backward(gradient=inf if operands[0] == 3.0 else 1.0)
            assert type(out.data) is float, (op.name, operands, c)
            assert all(type(leaf.grad) is float for leaf in leaves), (op.name, operands, c)


def test_select_rather_than_multiply_where_pytorch_selects() -> None:
    # An infinite incoming gradient meets a zero local derivative: PyTorch selects 0 for relu's
    # gradient, for x**0 and for the base of a**0, but multiplies (inf * 0 = nan) for abs and
    # for the exponent of 0**b.
    x = Value(-1.0)
    (x.relu() * inf).backward()
    assert x.grad == 0.0
    y = Value(3.0)
    (y**0 * inf).backward()
    assert y.grad == 0.0
    a, b = Value(3.0), Value(0.0)
    ((a**b) * inf).backward()
    assert a.grad == 0.0
    z = Value(0.0)
    (abs(z) * inf).backward()
    assert math.isnan(z.grad)
    a, b = Value(0.0), Value(2.0)
    ((a**b) * inf).backward()
    assert math.isnan(b.grad)


def test_saturated_derivatives_keep_their_true_tiny_values() -> None:
    # 1 - tanh(x)**2 and s * (1 - s) cancel to 0 here; the true derivatives are about 1e-17.
    x = Value(20.0)
    x.tanh().backward()
    assert math.isclose(x.grad, 4.0 / (math.exp(20.0) + math.exp(-20.0)) ** 2, rel_tol=1e-14)
    y = Value(40.0)
    y.sigmoid().backward()
    assert math.isclose(y.grad, math.exp(-40.0) / (1.0 + math.exp(-40.0)) ** 2, rel_tol=1e-14)
    z = Value(-40.0)
    z.sigmoid().backward()
    assert math.isclose(z.grad, math.exp(-40.0) / (1.0 + math.exp(-40.0)) ** 2, rel_tol=1e-14)
