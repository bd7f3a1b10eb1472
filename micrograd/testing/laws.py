"""The laws of differentiation, checked on micrograd without any oracle.

Each law builds a *composite* expression from a drawn one (the graph used three times, the sum
of two of its values, ...) and states what the composite's gradient must be in terms of the
gradients of its parts. Both sides are float computations of the same exact quantity, so they
are compared exactly as micrograd is compared with another float64 engine: by
:func:`~micrograd.testing.compare.compare`, within the rounding-error scale of the composite
(``tolerances.py``). A bound relative to the result itself would be wrong here: the gradient of
``(x / x) ** x + x / x`` cancels to 0 in exact arithmetic and to ``2.2e-16`` in floats, while
the separately computed parts give ``0.0 + 0.0``.

Laws whose two sides are the same float operations on the same values (``backward()`` twice is
exactly double; ``zero_grad`` then ``backward()`` reproduces) are checked bit for bit.

Every law takes an :class:`~micrograd.testing.Expr` and returns a description of what broke at
its first point, or ``None`` when the law holds; :data:`LAWS` lists them for the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..engine import Value
from .compare import compare
from .expr import Expr, Node
from .oracles import Evaluation, micrograd_evaluation

__all__ = [
    "LAWS",
    "Law",
    "backward_twice",
    "product_rule",
    "repeated",
    "reuse",
    "sum_rule",
    "with_node",
    "zero_grad",
]

Law = Callable[[Expr], "str | None"]


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


def _grads_of(expr: Expr, point: Sequence[float], index: int) -> tuple[float, list[float]]:
    """Value ``index`` of ``expr`` at ``point`` and its gradient, on a freshly built graph."""
    leaves = [Value(x) for x in point]
    value = expr.build_values(leaves)[index]
    value.backward()
    return value.data, [leaf.grad for leaf in leaves]


def _judge(composite: Expr, value: float, grads: Sequence[float], what: str) -> str | None:
    """Compare micrograd's evaluation of ``composite`` with the law's prediction."""
    point = composite.points[0]
    single = composite.with_points([point])
    expected = Evaluation((value,), (tuple(grads),))
    problems = compare(single, micrograd_evaluation(single), expected)
    if not problems:
        return None
    return f"{what}: " + "; ".join(str(p).replace("theirs", "law") for p in problems)


def reuse(expr: Expr, k: int = 3) -> str | None:
    """A graph used ``k`` times (summed) gets ``k`` times the gradient."""
    value, once = _grads_of(expr, expr.points[0], expr.output)
    total = value
    for _ in range(k - 1):
        total = total + value  # the composite's own additions, in its order
    return _judge(
        repeated(expr, k), total, [k * g for g in once], f"a graph used {k} times != {k} x once"
    )


def _combined(
    expr: Expr,
    u: int | None,
    v: int | None,
    op: str,
    rule: Callable[[float, float, float, float], tuple[float, float]],
    what: str,
) -> str | None:
    """``op`` applied to values ``u`` and ``v`` (default: output and first node), against
    ``rule(f_u, g_u, f_v, g_v) -> (value, gradient)`` applied to their separate gradients."""
    u = expr.output if u is None else u
    v = expr.n_inputs if v is None else v
    point = expr.points[0]
    fu, gu = _grads_of(expr, point, u)
    fv, gv = _grads_of(expr, point, v)
    value = rule(fu, 0.0, fv, 0.0)[0]
    grads = [rule(fu, a, fv, b)[1] for a, b in zip(gu, gv, strict=True)]
    return _judge(with_node(expr, Node(op, (u, v))), value, grads, what)


def sum_rule(expr: Expr, u: int | None = None, v: int | None = None) -> str | None:
    """d(f_u + f_v) = d f_u + d f_v, for values ``u`` and ``v`` (default: output, first node)."""
    return _combined(
        expr, u, v, "add", lambda fu, a, fv, b: (fu + fv, a + b), "gradient of a sum != sum"
    )


def product_rule(expr: Expr, u: int | None = None, v: int | None = None) -> str | None:
    """d(f_u * f_v) = f_v d f_u + f_u d f_v (default: output and first node)."""
    return _combined(
        expr,
        u,
        v,
        "mul",
        lambda fu, a, fv, b: (fu * fv, a * fv + fu * b),
        "gradient of a product != product rule",
    )


def backward_twice(expr: Expr) -> str | None:
    """``backward()`` twice gives exactly twice the leaves' gradients (doubling is exact)."""
    leaves = [Value(x) for x in expr.points[0]]
    out = expr.build(leaves)
    out.backward()
    first = [leaf.grad for leaf in leaves]
    out.backward()
    second = [leaf.grad for leaf in leaves]
    if second != [2.0 * g for g in first]:
        return f"backward() twice gives {second}, not exactly 2 x {first}"
    return None


def zero_grad(expr: Expr) -> str | None:
    """Zeroing the leaves and calling ``backward()`` again reproduces the gradient bit for bit,
    every time (three times here)."""
    leaves = [Value(x) for x in expr.points[0]]
    out = expr.build(leaves)
    out.backward()
    first = [leaf.grad for leaf in leaves]
    for _ in range(3):
        for leaf in leaves:
            leaf.grad = 0.0
        out.backward()
        again = [leaf.grad for leaf in leaves]
        if again != first:
            return f"zero_grad() then backward() gives {again}, not {first}"
    return None


#: The laws the verification report checks, by their row name.
LAWS: tuple[tuple[str, Law], ...] = (
    ("backward twice is exactly double", backward_twice),
    ("zero_grad then backward reproduces", zero_grad),
    ("a graph used 3 times gets 3x", reuse),
    ("sum rule", sum_rule),
    ("product rule", product_rule),
)
