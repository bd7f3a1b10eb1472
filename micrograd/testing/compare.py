"""Comparing evaluations of one expression: the tolerance policy of ``tolerances.py`` in code."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..engine import Value
from .expr import Expr
from .opinfo import RECORDS
from .oracles import Evaluation
from .tolerances import EPS, ORACLE_ULPS

__all__ = ["Disagreement", "compare", "error_scales", "reusing_scales", "ulps", "within"]


def error_scales(
    expr: Expr, point: Sequence[float], *, absolute: frozenset[str] = frozenset()
) -> tuple[float, tuple[float, ...]]:
    """Rounding-error scales at ``point`` (see ``tolerances.py``): one for the value, one per input
    gradient, in units of eps per operation.

    The value's is first-order error propagation: ``sum_k r_k * A_k``, with ``r_k`` the size of
    node k's own rounding (``|v_k|``; for ``dot``, whose products are rounded before their sum,
    ``|v_k| + sum |a_i b_i|``: its record's ``rounding``) and ``A_k`` the sum over
    paths from node k to the output of the products of absolute local derivatives (micrograd's
    own, from the registry; an operator in ``absolute`` counts as ``|p| + 1``). A gradient's is
    ``A_i`` plus, measured rather than estimated, how far the gradient moves when each node's
    value moves by its own forward error bound (propagated downstream): partials computed from
    rounded values carry that error even where they are 0, as ``ln(t)`` at a ``t`` that rounded
    to 1.
    """
    expr = expr.lower()
    leaves = [Value(x) for x in point]
    vals = expr.build_values(leaves)
    n_in = expr.n_inputs
    reach = [0.0] * len(vals)
    reach[-1] = 1.0
    local: list[list[float]] = []
    for k in range(len(vals) - 1, n_in - 1, -1):
        node = vals[k]
        op = node.op
        assert op is not None
        extra = 1.0 if op.name in absolute else 0.0
        partials = [abs(p) for p in op.vjp(node, 1.0)]
        local.insert(0, partials)
        for j, p in zip(expr.nodes[k - n_in].args, partials, strict=True):
            reach[j] += (p + extra) * reach[k]
    # each node's own rounding error (|v_k| for one rounding of its result; more for dot)
    own = [0.0] * len(vals)
    for k in range(n_in, len(vals)):
        step = expr.nodes[k - n_in]
        operands = [vals[i].data for i in step.args]
        own[k] = RECORDS[step.op].rounding_size(operands, step.c, vals[k].data)
    value_scale = math.fsum(own[k] * reach[k] for k in range(n_in, len(vals)))

    # forward error bound of every node, in units of eps (running error analysis)
    bound = [0.0] * len(vals)
    for k in range(n_in, len(vals)):
        args = expr.nodes[k - n_in].args
        inherited = math.fsum(p * bound[j] for p, j in zip(local[k - n_in], args, strict=True))
        bound[k] = own[k] + inherited

    base = _gradients(vals, leaves)
    shift = [0.0] * n_in
    data = [v.data for v in vals]
    for k in range(n_in, len(vals)):
        delta = EPS * bound[k]
        if delta == 0.0 or not math.isfinite(delta):
            continue
        vals[k].data = data[k] + delta
        for j in range(k + 1, len(vals)):
            _recompute(vals[j], expr.nodes[j - n_in].c)
        moved = _gradients(vals, leaves)
        for i in range(n_in):
            if math.isfinite(moved[i]):
                shift[i] += abs(moved[i] - base[i]) / EPS
        for v, d in zip(vals, data, strict=True):
            v.data = d
    return value_scale, tuple(r + s for r, s in zip(reach[:n_in], shift, strict=True))


_reused: dict[tuple[Expr, tuple[float, ...], frozenset[str]], tuple[float, tuple[float, ...]]]
_reused = {}
_reusing = 0  # how many reusing_scales() blocks are open


@contextlib.contextmanager
def reusing_scales() -> Iterator[None]:
    """Within the block, :func:`compare` computes the error scales of an expression at a point
    once, for every evaluation it compares there (the references of one check). The scales
    depend on the registry's rules, so they are kept for the block only."""
    global _reusing
    _reusing += 1
    try:
        yield
    finally:
        _reusing -= 1
        if not _reusing:
            _reused.clear()


def _scales(
    lowered: Expr, point: tuple[float, ...], absolute: frozenset[str]
) -> tuple[float, tuple[float, ...]]:
    if not _reusing:
        return error_scales(lowered, point, absolute=absolute)
    key = (lowered, point, absolute)
    found = _reused.get(key)
    if found is None:
        found = _reused[key] = error_scales(lowered, point, absolute=absolute)
    return found


def _recompute(node: Value, c: float | None) -> None:
    op = node.op
    assert op is not None
    operands = [p.data for p in node.parents]
    node.data = op.forward(*operands, c) if op.has_const else op.forward(*operands)


def _gradients(vals: list[Value], leaves: list[Value]) -> list[float]:
    for v in vals:
        v.grad = 0.0
    vals[-1].backward()
    return [leaf.grad for leaf in leaves]


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One quantity on which two evaluations differ by more than the policy allows."""

    point: tuple[float, ...]
    what: str  # "the value" or "d/dx<i>"
    ours: float
    theirs: float
    tolerance: float

    def __str__(self) -> str:
        tolerance = f"tolerance {self.tolerance:.2g}"
        return f"{self.what} is {self.ours!r}, expected {self.theirs!r} ({tolerance})"


def compare(
    expr: Expr,
    ours: Evaluation,
    theirs: Evaluation,
    *,
    ulps: float = ORACLE_ULPS,
    absolute: frozenset[str] = frozenset(),
    atol: float = 0.0,
) -> list[Disagreement]:
    """Every value and gradient where the two evaluations of ``expr`` disagree: by more than
    ``ulps`` per operation of the rounding-error scale, plus ``atol``.

    ``absolute`` names operators whose derivative the other engine computes with an absolute
    rather than a relative error (``SATURATING`` for PyTorch and JAX).
    """
    lowered = expr.lower()  # once: a spelling is traced through micrograd
    n_ops = len(lowered.nodes)
    out = []
    for p, point in enumerate(expr.points):
        value_scale, grad_scales = _scales(lowered, tuple(point), absolute)
        budget = ulps * EPS * n_ops
        checks = [("the value", ours.values[p], theirs.values[p], budget * value_scale + atol)]
        checks += [
            (f"d/dx{i}", ours.grads[p][i], theirs.grads[p][i], budget * grad_scales[i] + atol)
            for i in range(expr.n_inputs)
        ]
        for what, a, b, tol in checks:
            if not within(a, b, tol):
                out.append(Disagreement(point, what, a, b, tol))
    return out


def within(a: float, b: float, tol: float) -> bool:
    """``|a - b| <= tol``, nan only matching nan and an infinity only itself."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol + 1e-300  # the floor admits subnormal results


def ulps(computed: float, exact: float) -> float:
    """Error of ``computed`` in units of the last place of ``exact`` (both finite)."""
    if computed == exact:
        return 0.0
    return abs(computed - exact) / math.ulp(exact) if exact != 0.0 else math.inf
