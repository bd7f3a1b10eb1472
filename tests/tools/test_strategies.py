"""Meta-tests of the strategies, the expression objects and the registry coverage."""

from __future__ import annotations

import contextlib
import io
import math

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from micrograd import OPS
from micrograd.testing import Expr, Node, expressions
from micrograd.testing.domains import BOUND, MARGIN
from micrograd.testing.opinfo import RECORDS
from micrograd.testing.oracles import micrograd_evaluation

FIND = settings(max_examples=2000, database=None, derandomize=True)


@pytest.mark.parametrize("op", list(OPS))
def test_every_operator_is_reachable_from_the_default_strategy(op: str) -> None:
    found = find(expressions(), lambda e: op in e.ops, settings=FIND)
    assert op in found.ops


@given(expr=expressions(max_nodes=8, points=3))
def test_drawn_expressions_are_valid_everywhere(expr: Expr) -> None:
    assert len(expr.points) == 3
    for point in expr.points:
        vals = expr.values(point)
        assert all(math.isfinite(v) and abs(v) <= BOUND for v in vals), vals
        for node in expr.nodes:
            operands = [vals[i] for i in node.args]
            domain = RECORDS[node.op].domain
            assert domain.clear(operands, node.c, MARGIN), (node, operands)
            assert domain.tame(operands, node.c), (node, operands)


@given(expr=expressions(max_nodes=6, max_depth=2))
def test_depth_is_bounded(expr: Expr) -> None:
    assert expr.depth() <= 2


@given(expr=expressions(ops=["exp", "mul"], max_nodes=6))
def test_operator_subsets_are_respected(expr: Expr) -> None:
    assert expr.ops <= {"exp", "mul"}


@given(expr=expressions(max_nodes=6), mode=st.sampled_from(["", "twice", "zeroed"]))
def test_snippet_runs_and_reproduces_the_results(expr: Expr, mode: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(expr.snippet(mode=mode), {})
    ev = micrograd_evaluation(expr.with_points(expr.points[:1]), mode)
    assert out.getvalue().strip() == f"{ev.values[0]!r} {list(ev.grads[0])!r}"


def test_shared_subexpressions_and_reused_leaves_occur() -> None:
    reuse = find(
        expressions(), lambda e: max(e.uses()[e.n_inputs :], default=0) >= 2, settings=FIND
    )
    assert max(reuse.uses()[reuse.n_inputs :]) >= 2
    square = find(expressions(), lambda e: any(len(set(n.args)) < len(n.args) for n in e.nodes))
    assert any(len(set(n.args)) < len(n.args) for n in square.nodes)


def test_shrinks_to_small_readable_examples() -> None:
    three = find(expressions(), lambda e: len(e.nodes) >= 3, settings=FIND)
    assert len(three.nodes) == 3
    assert three.n_inputs == 1
    assert "x0" in three.snippet()


def test_kinks_are_reached_on_request() -> None:
    found = find(
        expressions(kinks=True),
        lambda e: any(n.op == "relu" and e.values(e.points[0])[n.args[0]] == 0.0 for n in e.nodes),
        settings=FIND,
    )
    assert "relu" in found.ops


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_nodes": 0}, "max_nodes must be an int of at least 1"),
        ({"max_inputs": True}, "max_inputs"),
        ({"points": 0}, "points"),
        ({"max_depth": 0}, "max_depth"),
        ({"ops": ["nope"]}, "'nope' is not an operation"),
        ({"ops": []}, "at least one operator"),
        ({"require": "nope"}, "'nope' is not an operation"),
    ],
)
def test_bad_strategy_arguments_are_named(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        expressions(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Expr(0, (Node("neg", (0,)),)), "at least one input"),
        (lambda: Expr(1, ()), "at least one node"),
        (lambda: Expr(1, (Node("nope", (0,)),)), "unknown operation"),
        (lambda: Expr(1, (Node("add", (0,)),)), "takes 2 operands"),
        (lambda: Expr(1, (Node("neg", (1,)),)), "earlier values"),
        (lambda: Expr(1, (Node("add_const", (0,)),)), "needs c"),
        (lambda: Expr(1, (Node("neg", (0,), 2.0),)), "takes no c"),
        (lambda: Expr(2, (Node("add", (0, 1)),), ((1.0,),)), "has 1 values for 2 inputs"),
    ],
)
def test_malformed_expressions_are_rejected(build: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build()  # type: ignore[operator]


def test_source_and_snippet_forms() -> None:
    expr = Expr(
        2,
        (
            Node("add", (0, 1)),
            Node("mul", (2, 2)),
            Node("rpow_const", (3,), -2.0),
            Node("neg", (4,)),
        ),
        ((0.5, -1.5),),
    )
    assert expr.source() == "-((-2.0) ** ((x0 + x1) * (x0 + x1)))"
    assert expr.snippet().splitlines()[4:6] == [
        "t2 = x0 + x1",
        "out = -((-2.0) ** (t2 * t2))",
    ]
    assert expr.depth() == 4
    assert expr.uses() == [1, 1, 2, 1, 1, 0]


def test_constants_differing_only_in_the_sign_of_zero_stay_distinct() -> None:
    plus = Expr(1, (Node("mul_const", (0,), 0.0),), ((1.0,),))
    minus = Expr(1, (Node("mul_const", (0,), -0.0),), ((1.0,),))
    assert math.copysign(1.0, plus.value_and_grad((1.0,))[0]) == 1.0
    assert math.copysign(1.0, minus.value_and_grad((1.0,))[0]) == -1.0
