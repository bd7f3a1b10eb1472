"""The numeric contract's special points: our values and gradients equal PyTorch's, nan matching
nan, including on random expressions fed infinities, nans, zeros and huge numbers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd.testing import Expr, expressions
from micrograd.testing.compare import compare
from micrograd.testing.opinfo import RECORDS, Case
from micrograd.testing.oracles import Evaluation, Oracle, micrograd_evaluation
from micrograd.testing.tolerances import SATURATING

from ..unit.support import same

EDGES = [(name, case) for name, info in RECORDS.items() for case in info.edges]


@pytest.mark.parametrize(("name", "case"), EDGES, ids=repr)
def test_contract_table_matches_torch(torch_oracle: Oracle, name: str, case: Case) -> None:
    from micrograd.testing.expr import Node

    n = len(case.operands)
    expr = Expr(n, (Node(name, tuple(range(n)), case.c),), (case.operands,))
    ours, theirs = micrograd_evaluation(expr), torch_oracle.evaluate(expr)
    assert same(ours.values[0], theirs.values[0]), (name, case, theirs)
    for a, b in zip(ours.grads[0], theirs.grads[0], strict=True):
        assert _equal(a, b), (name, case, ours, theirs)


SPECIAL = st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e308, -1e308, 5e-324, 1.0])


def _equal(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _close(a: float, b: float) -> bool:
    # Non-finite results must match exactly. Finite ones may differ by rounding; with infinities
    # among the intermediate values the first-order bounds of the tolerance policy do not apply,
    # so the bound is relative: 1e-9 admits PyTorch's tanh' and sigmoid' (up to 512 ulps off in
    # saturation) and no wrong rule.
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b) or a == b:
        return _equal(a, b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)


@given(expr=expressions(max_nodes=4), data=st.data())
def test_random_expressions_at_special_inputs(
    torch_oracle: Oracle, expr: Expr, data: st.DataObject
) -> None:
    point = tuple(
        data.draw(SPECIAL, label=f"x{i}") if data.draw(st.booleans()) else x
        for i, x in enumerate(expr.points[0])
    )
    special = expr.with_points([point])
    ours, theirs = micrograd_evaluation(special), torch_oracle.evaluate(special)
    pairs = [(ours.values[0], theirs.values[0]), *zip(ours.grads[0], theirs.grads[0], strict=True)]
    if all(_close(a, b) for a, b in pairs) or _within_first_order(special, ours, theirs):
        return
    raise AssertionError((special.snippet(), ours, theirs))


def _within_first_order(expr: Expr, ours: Evaluation, theirs: Evaluation) -> bool:
    """The policy of the oracle tests, where it applies: every value and gradient finite and
    the error scales computable. Unlike a relative bound it admits the rounding residue of a
    derivative that cancels to 0 (d/dt (t / t) is 0 in micrograd, -4.7e-17 in PyTorch)."""
    if not all(math.isfinite(v) for v in expr.values(expr.points[0])):
        return False
    if not all(math.isfinite(g) for g in (*ours.grads[0], *theirs.grads[0])):
        return False
    try:
        problems = compare(expr, ours, theirs, absolute=SATURATING)
    except OverflowError:  # scales beyond float range: the policy does not apply
        return False
    return not problems
