"""Values and gradients of random expressions agree with every oracle, per operator and mixed."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import OPS
from micrograd.testing import Expr, Node, expressions
from micrograd.testing.compare import compare
from micrograd.testing.opinfo import RECORDS
from micrograd.testing.oracles import ORACLES, Oracle, micrograd_evaluation

from ..oracles import require


@pytest.mark.parametrize("name", list(OPS))
def test_every_oracle_translates_every_operator(name: str) -> None:
    case = RECORDS[name].ordinary[0]  # the plainest case (later ones probe rounding and domains)
    n = len(case.operands)
    expr = Expr(n, (Node(name, tuple(range(n)), case.c),), (case.operands,))
    for oracle in ORACLES.values():
        require(oracle)
        got = oracle.evaluate(expr).values[0]
        assert math.isclose(got, case.value, rel_tol=2**-50), (oracle.name, case, got)


def _check(oracle: Oracle, data: st.DataObject, **kwargs: object) -> None:
    expr = data.draw(expressions(points=8, **kwargs), label="expr")  # type: ignore[arg-type]
    disagreements = compare(
        expr, micrograd_evaluation(expr), oracle.evaluate(expr), absolute=oracle.absolute
    )
    assert not disagreements, (
        f"micrograd and {oracle.name} disagree on {expr.source()}:\n"
        + "\n".join(f"  {d}" for d in disagreements)
        + f"\nReproduce with:\n\n{expr.snippet(disagreements[0].point)}\n"
    )


@pytest.mark.parametrize("op", list(OPS))
@given(data=st.data())
def test_per_operator(oracle: Oracle, op: str, data: st.DataObject) -> None:
    _check(oracle, data, ops=[op], require=op, max_nodes=3)


@given(data=st.data())
def test_mixed_trees_and_dags(oracle: Oracle, data: st.DataObject) -> None:
    _check(oracle, data, max_nodes=8, max_inputs=4)


def test_a_dot_product_that_cancels_is_judged_by_its_terms_rounding() -> None:
    # `micrograd verify --seed 2952744160`: Value.dot([x1, x1, x1], [x1, x0, x0]) is -0.0092
    # from terms of about 0.6 each rounded on its own: ours and the exact value differ by
    # 8.3e-17, under an ulp of the terms but not of the result
    expr = Expr(2, (Node("dot", (1, 1, 1, 1, 0, 0)),), ((0.5588340524150253, -1.109375),))
    sympy = require(ORACLES["sympy"])
    assert not compare(expr, micrograd_evaluation(expr), sympy.evaluate(expr))
