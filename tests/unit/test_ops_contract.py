"""Each registry operator: value and gradient at ordinary points and at the numeric contract's
edges, as its record (``micrograd.testing.opinfo``) states them.

Ordinary points are hand derivations with the standard library's ``math``. The edges are the
numeric contract (README): IEEE-754 double results as PyTorch 2.13 float64 produces them — the
reference suite re-checks every edge against torch itself.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from micrograd import OPS, Op, Value
from micrograd.testing.opinfo import RECORDS, Case, coverage

from .support import apply, run, same, same_ignoring_zero_sign

inf, nan = math.inf, math.nan


ORDINARY = [(name, case) for name, info in RECORDS.items() for case in info.ordinary]
EDGES = [(name, case) for name, info in RECORDS.items() for case in info.edges]


def _id(item: object) -> str:
    return repr(item)


@pytest.mark.parametrize(("name", "case"), ORDINARY, ids=_id)
def test_ordinary_points(name: str, case: Case) -> None:
    value, grads = run(OPS[name], case.operands, case.c)
    assert math.isclose(value, case.value, rel_tol=2**-50), (name, case, value)
    for i, (got, want) in enumerate(zip(grads, case.grads, strict=True)):
        ok = (math.isnan(want) and math.isnan(got)) or math.isclose(got, want, rel_tol=2**-50)
        assert ok, f"{name}{case.operands} c={case.c}: d/d operand {i} = {got!r}, want {want!r}"


@pytest.mark.parametrize(("name", "case"), EDGES, ids=_id)
def test_numeric_contract_edges(name: str, case: Case) -> None:
    value, grads = run(OPS[name], case.operands, case.c)
    assert same(value, case.value), (
        f"{name}{case.operands} c={case.c}: value {value!r}, want {case.value!r}"
    )
    for i, (got, want) in enumerate(zip(grads, case.grads, strict=True)):
        assert same_ignoring_zero_sign(got, want), (
            f"{name}{case.operands} c={case.c}: d/d operand {i} = {got!r}, want {want!r}"
        )


def test_every_registry_operator_has_a_complete_record() -> None:
    assert coverage() == []
    assert set(RECORDS) == set(OPS)


def test_the_coverage_check_names_the_operator_and_the_missing_piece() -> None:
    records = dict(RECORDS)
    records["sin"] = dataclasses.replace(records["sin"], edges=(), jax="")
    del records["cos"]
    assert coverage(records) == [
        "operator 'sin': its record lacks edges (the numeric contract at special points); "
        "jax (its JAX translation)",
        "operator 'cos' has no record in micrograd/testing/opinfo.py",
    ]


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
