"""The laws of differentiation, checked on any engine without an oracle.

Each law builds a *composite* expression from a drawn one (the graph used three times, the sum
of two of its values, ...) and states what the composite's gradient must be in terms of the
gradients of its parts, all computed by the engine under test: ``evaluate(expr, mode)``
(micrograd's :func:`~micrograd.testing.oracles.micrograd_evaluation` by default; the
verification passes another engine's). Both sides are float computations of the same exact
quantity, so they are compared as two float64 engines are: by
:func:`~micrograd.testing.compare.compare`, within the rounding-error scale of the composite
(``tolerances.py``). A bound relative to the result itself would be wrong here: the gradient of
``(x / x) ** x + x / x`` cancels to 0 in exact arithmetic and to ``2.2e-16`` in floats, while
the separately computed parts give ``0.0 + 0.0``.

Laws whose two sides are the same float operations on the same values (``backward()`` twice is
exactly double; ``zero_grad`` then ``backward()`` reproduces) are checked bit for bit under a
policy that says so (micrograd's contract), else within the policy's bound.

Every law takes an :class:`~micrograd.testing.Expr` and returns a description of what broke at
its first point, or ``None`` when the law holds; :data:`LAWS` lists them for the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .compare import compare
from .expr import Expr, Node
from .oracles import Evaluation, micrograd_evaluation
from .tolerances import MICROGRAD, Policy

__all__ = [
    "LAWS",
    "Evaluate",
    "Law",
    "backward_twice",
    "product_rule",
    "repeated",
    "reuse",
    "sum_rule",
    "with_node",
    "zero_grad",
]

#: ``evaluate(expr, mode)``: the engine's values and gradients at every point of ``expr``;
#: ``mode`` ``"twice"`` gives the gradients after a second ``backward()``, ``"zeroed"`` after
#: zeroing the inputs' gradients and calling it again (three times).
Evaluate = Callable[[Expr, str], Evaluation]
Law = Callable[..., "str | None"]


def with_node(expr: Expr, node: Node) -> Expr:
    """``expr`` with one more node, which becomes the output."""
    return Expr(expr.n_inputs, (*expr.nodes, node), expr.points)


def repeated(expr: Expr, k: int) -> Expr:
    """The sum of ``k`` separate copies of ``expr``'s graph on the same inputs."""
    if k < 1:
        raise ValueError(f"repeated: k must be at least 1, got {k}")
    n, size = expr.n_inputs, len(expr.nodes)
    nodes = list(expr.nodes)
    outputs = [expr.output]
    for copy in range(1, k):
        shift = copy * size

        def moved(i: int, shift: int = shift) -> int:
            return i if i < n else i + shift

        nodes += [Node(m.op, tuple(map(moved, m.args)), m.c) for m in expr.nodes]
        outputs.append(expr.output + shift)
    total = outputs[0]
    for out in outputs[1:]:
        nodes.append(Node("add", (total, out)))
        total = n + len(nodes) - 1
    return Expr(n, tuple(nodes), expr.points)


def _first(expr: Expr) -> Expr:
    return expr.with_points(expr.points[:1])


def _part(expr: Expr, index: int, evaluate: Evaluate) -> tuple[float, list[float]]:
    """Value ``index`` of ``expr`` at its first point and its gradient, on a graph of its own."""
    if index < expr.n_inputs:
        return expr.points[0][index], [float(i == index) for i in range(expr.n_inputs)]
    part = Expr(expr.n_inputs, expr.nodes[: index - expr.n_inputs + 1], expr.points[:1])
    ev = evaluate(part, "")
    return ev.values[0], list(ev.grads[0])


def _judge(
    composite: Expr,
    value: float,
    grads: Sequence[float],
    what: str,
    evaluate: Evaluate,
    policy: Policy,
) -> str | None:
    """Compare the engine's evaluation of ``composite`` with the law's prediction."""
    single = _first(composite)
    expected = Evaluation((value,), (tuple(grads),))
    problems = compare(single, evaluate(single, ""), expected, ulps=policy.ulps, atol=policy.atol)
    return f"{what}: {problems[0]}" if problems else None


def reuse(
    expr: Expr, k: int = 3, *, evaluate: Evaluate = micrograd_evaluation, policy: Policy = MICROGRAD
) -> str | None:
    """A graph used ``k`` times (summed) gets ``k`` times the gradient."""
    value, once = _part(expr, expr.output, evaluate)
    total = value
    for _ in range(k - 1):
        total = total + value  # the composite's own additions, in its order
    what = f"a graph used {k} times != {k} x once"
    return _judge(repeated(expr, k), total, [k * g for g in once], what, evaluate, policy)


def _combined(
    expr: Expr,
    u: int | None,
    v: int | None,
    op: str,
    rule: Callable[[float, float, float, float], tuple[float, float]],
    what: str,
    evaluate: Evaluate,
    policy: Policy,
) -> str | None:
    """``op`` applied to values ``u`` and ``v`` (default: output and first node), against
    ``rule(f_u, g_u, f_v, g_v) -> (value, gradient)`` applied to their separate gradients."""
    u = expr.output if u is None else u
    v = expr.n_inputs if v is None else v
    fu, gu = _part(expr, u, evaluate)
    fv, gv = _part(expr, v, evaluate)
    value = rule(fu, 0.0, fv, 0.0)[0]
    grads = [rule(fu, a, fv, b)[1] for a, b in zip(gu, gv, strict=True)]
    return _judge(with_node(expr, Node(op, (u, v))), value, grads, what, evaluate, policy)


def sum_rule(
    expr: Expr,
    u: int | None = None,
    v: int | None = None,
    *,
    evaluate: Evaluate = micrograd_evaluation,
    policy: Policy = MICROGRAD,
) -> str | None:
    """d(f_u + f_v) = d f_u + d f_v, for values ``u`` and ``v`` (default: output, first node)."""

    def rule(fu: float, a: float, fv: float, b: float) -> tuple[float, float]:
        return fu + fv, a + b

    return _combined(expr, u, v, "add", rule, "gradient of a sum != sum", evaluate, policy)


def product_rule(
    expr: Expr,
    u: int | None = None,
    v: int | None = None,
    *,
    evaluate: Evaluate = micrograd_evaluation,
    policy: Policy = MICROGRAD,
) -> str | None:
    """d(f_u * f_v) = f_v d f_u + f_u d f_v (default: output and first node)."""

    def rule(fu: float, a: float, fv: float, b: float) -> tuple[float, float]:
        return fu * fv, a * fv + fu * b

    what = "gradient of a product != product rule"
    return _combined(expr, u, v, "mul", rule, what, evaluate, policy)


def _again(
    expr: Expr, mode: str, factor: float, what: str, evaluate: Evaluate, policy: Policy
) -> str | None:
    single = _first(expr)
    first = evaluate(single, "")
    again = evaluate(single, mode)
    want = [factor * g for g in first.grads[0]]
    if policy.bitwise:
        if list(again.grads[0]) != want:
            return f"{what} gives {list(again.grads[0])}, not exactly {want}"
        return None
    expected = Evaluation(first.values, (tuple(want),))
    problems = compare(single, again, expected, ulps=policy.ulps * factor, atol=policy.atol)
    return f"{what}: {problems[0]}" if problems else None


def backward_twice(
    expr: Expr, *, evaluate: Evaluate = micrograd_evaluation, policy: Policy = MICROGRAD
) -> str | None:
    """``backward()`` twice gives twice the inputs' gradients (exactly, under micrograd's
    contract: doubling is exact)."""
    return _again(expr, "twice", 2.0, "backward() twice", evaluate, policy)


def zero_grad(
    expr: Expr, *, evaluate: Evaluate = micrograd_evaluation, policy: Policy = MICROGRAD
) -> str | None:
    """Zeroing the inputs' gradients and calling ``backward()`` again reproduces the gradient
    (bit for bit under micrograd's contract), every time (three times here)."""
    return _again(expr, "zeroed", 1.0, "zero_grad() then backward()", evaluate, policy)


#: The laws the verification report checks, by their row name.
LAWS: tuple[tuple[str, Law], ...] = (
    ("backward() twice doubles the gradients", backward_twice),
    ("zero_grad then backward() reproduces", zero_grad),
    ("a graph used 3 times gets 3x", reuse),
    ("sum rule", sum_rule),
    ("product rule", product_rule),
)
