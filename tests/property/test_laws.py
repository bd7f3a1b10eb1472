"""Laws of differentiation that need no oracle, on random expressions."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from micrograd import Value
from micrograd.testing import Expr, expressions, laws
from micrograd.testing.opinfo import OPERATIONS

from .reference import gradient_scale, math_values


def _leaf_grads(expr: Expr, point: tuple[float, ...], index: int) -> list[float]:
    """Gradient of value ``index`` of ``expr`` with respect to its inputs, on a fresh graph."""
    leaves = [Value(x) for x in point]
    expr.build_values(leaves)[index].backward()
    return [leaf.grad for leaf in leaves]


def _close(a: float, b: float, scale: float) -> bool:
    """Equal up to rounding: ``scale`` is the size of the terms that were summed to get them.

    The floor of 1e-300 admits the lost precision of subnormal results.
    """
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12 * scale + 1e-300)


@given(expr=expressions(max_nodes=6, max_inputs=3), data=st.data())
def test_gradient_of_a_sum_is_the_sum_of_gradients(expr: Expr, data: st.DataObject) -> None:
    u, v = (data.draw(st.integers(0, expr.output), label=n) for n in ("u", "v"))
    assert laws.sum_rule(expr, u, v) is None


@given(expr=expressions(max_nodes=6, max_inputs=3), data=st.data())
def test_product_rule(expr: Expr, data: st.DataObject) -> None:
    u, v = (data.draw(st.integers(0, expr.output), label=n) for n in ("u", "v"))
    assert laws.product_rule(expr, u, v) is None


@given(f=expressions(max_nodes=4, max_inputs=1), g=expressions(max_nodes=4, max_inputs=1))
def test_chain_rule_through_composition(f: Expr, g: Expr) -> None:
    # d/dx0 f(g(x0, ...) + s, ...) = df/du(g + s) * dg/dx0, the shift s placing g where f's first
    # input was drawn
    g_leaves = [Value(x) for x in g.points[0]]
    inner = g.build(g_leaves)
    inner = inner + (f.points[0][0] - inner.data)
    f_rest = list(f.points[0][1:])
    f.build([inner, *[Value(x) for x in f_rest]]).backward()
    d_f = _leaf_grads(f, (inner.data, *f_rest), f.output)[0]
    d_g = _leaf_grads(g, g.points[0], g.output)[0]
    expected = d_f * d_g
    scale = gradient_scale(f, (inner.data, *f_rest), 0) * gradient_scale(g, g.points[0], 0)
    assert _close(g_leaves[0].grad, expected, scale), (g_leaves[0].grad, expected, scale)


@given(f=expressions(max_nodes=6), c=st.floats(-4, 4, allow_nan=False))
def test_constants_do_not_change_other_leaves_gradients(f: Expr, c: float) -> None:
    point = f.points[0]
    base = _leaf_grads(f, point, f.output)
    leaves = [Value(x) for x in point]
    bystander = Value(c)
    unrelated = bystander * 3.0  # built, but not part of the output
    out = f.build(leaves) * 1.0 + c
    out.backward()
    assert [leaf.grad for leaf in leaves] == base
    assert bystander.grad == 0.0
    assert unrelated.grad == 0.0


@given(f=expressions(max_nodes=8))
def test_a_graph_used_k_times_gets_k_times_the_gradient(f: Expr) -> None:
    for k in (2, 3, 5):
        assert laws.reuse(f, k) is None


@given(f=expressions(max_nodes=8))
def test_backward_twice_gives_exactly_double(f: Expr) -> None:
    assert laws.backward_twice(f) is None


@given(f=expressions(max_nodes=8))
def test_zero_grad_then_backward_reproduces_bit_for_bit(f: Expr) -> None:
    assert laws.zero_grad(f) is None


@given(f=expressions(max_nodes=8), data=st.data())
def test_gradient_does_not_depend_on_build_order(f: Expr, data: st.DataObject) -> None:
    # build independent nodes in another order (and interleave an unrelated graph)
    leaves = [Value(x) for x in f.points[0]]
    built: dict[int, Value] = dict(enumerate(leaves))
    done = set(built)
    remaining = list(range(len(f.nodes)))
    while remaining:
        ready = [k for k in remaining if all(i in done for i in f.nodes[k].args)]
        k = data.draw(st.sampled_from(ready))
        node = f.nodes[k]
        built[f.n_inputs + k] = OPERATIONS[node.op].apply(len(node.args), node.c)(
            *[built[i] for i in node.args]
        )
        _ = leaves[0] * 2.0 + 1.0  # unrelated nodes created in between
        remaining.remove(k)
        done.add(f.n_inputs + k)
    built[f.output].backward()
    _, in_order = f.value_and_grad(f.points[0])
    assert [leaf.grad for leaf in leaves] == list(in_order)


@given(f=expressions(max_nodes=8, points=3))
def test_forward_values_equal_plain_math(f: Expr) -> None:
    for point in f.points:
        got = f.build([Value(x) for x in point]).data
        want = math_values(f, point)[-1]
        assert math.isclose(got, want, rel_tol=4 * 2**-52), (got, want, str(f))
