"""A tape replays, bit for bit, what ``backward()`` on a freshly built graph gives; its replay
templates give what the registry's rules give, at any floats.

Random expressions over every registry operator (and every other spelling), recorded once, then
replayed several times at other leaf values (points inside every operator's domain, and special
values: signed zeros, infinities, nan, huge and tiny numbers), with gradients already present on
the leaves and other seeds for ``backward``; in both modes. Each replay is compared with the
dynamic engine on a graph built anew from leaves holding the same values and gradients: the
output and every leaf's gradient, bit for bit (a nan equals a nan).

Some inputs are left out of the tape's leaves: they are constants of the tape, written into the
generated code as literals, and the nodes that depend on constants only are not replayed at all.

The graph recorded is a small batch: the expression applied to several sets of leaves, some
shared, the results summed, as a training step sums a loss over points. That gives the
interpreter waves of several nodes and the walk nodes with several consumers, as well as chains.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrograd._codegen as codegen
import micrograd._interpreter as interpreter
from micrograd import OPS, Op, Value
from micrograd.ops import REPLAY_NAMES, float_literal
from micrograd.tape import Mode, record
from micrograd.testing import Expr, expressions
from micrograd.testing.opinfo import OPERATIONS

from ..unit.support import apply
from .replays import SEEDS, SPECIAL, batch, given_leaves, leaf_values, same

MODES: list[Mode] = ["interpret", "generate"]


def dynamic(
    expr: Expr, data: Sequence[float], grads: Sequence[float], copies: int, seed: float
) -> tuple[float, list[float]]:
    """The engine on a graph built anew: the output and the leaves' gradients after backward."""
    leaves = [Value(x) for x in data]
    for leaf, g in zip(leaves, grads, strict=True):
        leaf.grad = g
    out = batch(expr, leaves, copies)
    out.backward(seed)
    return out.data, [leaf.grad for leaf in leaves]


def assert_replays_match(
    expr: Expr,
    mode: Mode,
    copies: int,
    listed: Sequence[bool],
    rounds: list[tuple[list[float], list[float], float]],
) -> None:
    """Record the batch with the values where ``listed`` says as the tape's leaves (the others are
    constants, at their first values), replay each round and compare it with the engine."""
    values = [Value(x) for x in rounds[0][0]]
    leaves = [v for v, is_leaf in zip(values, listed, strict=True) if is_leaf]
    tape = record(lambda: batch(expr, values, copies), leaves, mode=mode)
    assert tape.mode == mode
    for r, (data, grads, seed) in enumerate(rounds):
        data = [
            x if is_leaf else v.data for x, v, is_leaf in zip(data, values, listed, strict=True)
        ]
        for v, x, g, is_leaf in zip(values, data, grads, listed, strict=True):
            if is_leaf:
                v.data, v.grad = x, g
        value = tape.run(seed)
        want_value, want_grads = dynamic(expr, data, grads, copies, seed)
        where = (
            f"replay {r} ({mode}) at {data}, grads {grads}, seed {seed}, leaves {listed}\n"
            f"{expr.snippet()}"
        )
        assert same(value, want_value), f"value {value!r}, engine {want_value!r}: {where}"
        for i, (v, want, is_leaf) in enumerate(zip(values, want_grads, listed, strict=True)):
            if is_leaf:
                assert same(v.grad, want), f"input {i}: {v.grad!r}, engine {want!r}: {where}"


@st.composite
def rounds(
    draw: st.DrawFn, expr: Expr, copies: int
) -> list[tuple[list[float], list[float], float]]:
    """Three to five replays: leaf values (the expression's points, or special values), the
    gradients the leaves hold before it, and the seed."""
    n = expr.n_inputs + copies - 1
    out = []
    for _ in range(draw(st.integers(3, 5), label="replays")):
        data = leaf_values(draw, expr, n)
        grads = [
            draw(st.sampled_from([0.0, -0.0, 0.0, 1.5, -7.0, math.inf]), label="grad")
            for _ in range(n)
        ]
        seed = draw(st.sampled_from([1.0, 1.0, *SEEDS]), label="seed")
        out.append((data, grads, seed))
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", list(OPS))
@given(data=st.data())
def test_each_operator_replays_bit_for_bit(op: str, mode: Mode, data: st.DataObject) -> None:
    expr = data.draw(expressions(ops=[op], require=op, max_nodes=4, points=3), label="expr")
    copies = data.draw(st.integers(1, 3), label="copies")
    listed = data.draw(given_leaves(expr, copies), label="listed")
    assert_replays_match(
        expr, mode, copies, listed, data.draw(rounds(expr, copies), label="rounds")
    )


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_mixed_expressions_replay_bit_for_bit(mode: Mode, data: st.DataObject) -> None:
    expr = data.draw(
        expressions(ops=list(OPERATIONS), max_nodes=8, max_inputs=4, points=3, kinks=True),
        label="expr",
    )
    copies = data.draw(st.integers(1, 4), label="copies")
    listed = data.draw(given_leaves(expr, copies), label="listed")
    assert_replays_match(
        expr, mode, copies, listed, data.draw(rounds(expr, copies), label="rounds")
    )


@st.composite
def operator_cases(draw: st.DrawFn) -> tuple[Op, tuple[float, ...], float | None, float]:
    """An operator, operands and ``c`` (any floats: infinities, nan and signed zeros included),
    and an incoming gradient."""
    op = draw(st.sampled_from(list(OPS.values())), label="op")
    n = op.arity if op.arity >= 0 else op.groups * draw(st.integers(1, 4), label="n")
    numbers = st.one_of(st.floats(), st.sampled_from(SPECIAL))
    operands = tuple(draw(numbers, label="operand") for _ in range(n))
    c = draw(numbers, label="c") if op.has_const else None
    return op, operands, c, draw(numbers, label="g")


@given(case=operator_cases(), literals=st.booleans())
def test_templates_give_the_rules_bit_for_bit_at_any_floats(
    case: tuple[Op, tuple[float, ...], float | None, float], literals: bool
) -> None:
    # as generated code writes them (operands as names, or as exact literals like constants),
    # and as the interpreter compiles them (per node, and per column of a wave)
    op, operands, c, g = case
    out = apply(op, [Value(x) for x in operands], c)
    want = op.vjp(out, g)
    names = [
        float_literal(x) if literals and math.isfinite(x) else f"x{i}"
        for i, x in enumerate(operands)
    ]
    bound: dict[str, float] = {f"x{i}": x for i, x in enumerate(operands)}
    bound.update(g=g, out=out.data, c=0.0 if c is None else c)
    c_text = "" if c is None else float_literal(c) if literals and math.isfinite(c) else "c"
    value = eval(codegen.forward_source(op, names, c_text), dict(REPLAY_NAMES), bound)
    assert same(value, out.data), (op.name, operands, c, value, out.data)
    extra = () if c is None else (c,)
    assert all(map(same, interpreter.kernel(op)(g, out.data, *operands, *extra), want))
    for j in range(len(operands)):
        template, picked = codegen.vjp_template(op, j, names)
        text = template.format(*picked, g="g", out="out", c=c_text)
        assert same(eval(text, dict(REPLAY_NAMES), bound), want[j]), (op.name, j, text)
        fn, fields = interpreter.element_rule(op, template)
        items = codegen.vjp_template(op, j, operands)[1]
        args = [bound[f] if not f.isdigit() else items[int(f)] for f in fields]
        assert same(args[0] if fn is None else fn(*args), want[j]), (op.name, j, template)
