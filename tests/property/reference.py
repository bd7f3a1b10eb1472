"""An independent reference for the property suite: the operators re-derived from mathematics.

Nothing here reads the registry's rules. Each operator's record (``OpInfo.value`` and
``OpInfo.partials``) evaluates it with the standard library and gives its derivatives with
formulas derived separately (``1/cosh(x)**2`` for tanh, ``s(x) * s(-x)`` for the sigmoid);
:func:`forward_mode` differentiates a whole expression with dual numbers — forward mode, where
micrograd is reverse mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from micrograd.testing import Expr
from micrograd.testing.opinfo import RECORDS


def math_values(expr: Expr, point: Sequence[float]) -> list[float]:
    """Every value of ``expr`` at ``point``, computed with the records' reference formulas."""
    vals = [float(x) for x in point]
    for node in expr.nodes:
        vals.append(RECORDS[node.op].reference([vals[i] for i in node.args], node.c))
    return vals


def forward_mode(expr: Expr, point: Sequence[float], seed: int) -> float:
    """d(output)/d(value ``seed``) by dual numbers; ``seed`` may be an input or a node index.

    For a node, its own operands' tangents are ignored: the derivative treats that node's value
    as the variable.
    """
    vals = math_values(expr, point)
    tangent = [0.0] * len(vals)
    if seed < expr.n_inputs:
        tangent[seed] = 1.0
    for k, node in enumerate(expr.nodes):
        index = expr.n_inputs + k
        if index == seed:
            tangent[index] = 1.0
            continue
        partials = RECORDS[node.op].reference_partials([vals[i] for i in node.args], node.c)
        tangent[index] = math.fsum(
            p * tangent[i] for p, i in zip(partials, node.args, strict=True) if tangent[i] != 0.0
        )
    return tangent[-1]


def gradient_scale(
    expr: Expr, point: Sequence[float], seed: int, target: int | None = None
) -> float:
    """The sum, over every path from value ``seed`` to value ``target`` (default: the output), of
    the product of absolute partial derivatives: the size against which a derivative's rounding
    error is measured (a derivative that cancels to 0 still has a rounding error of this order)."""
    vals = math_values(expr, point)
    size = [0.0] * len(vals)
    size[seed] = 1.0
    for k, node in enumerate(expr.nodes):
        index = expr.n_inputs + k
        if index <= seed:
            continue
        partials = RECORDS[node.op].reference_partials([vals[i] for i in node.args], node.c)
        size[index] = math.fsum(abs(p) * size[i] for p, i in zip(partials, node.args, strict=True))
    return size[-1 if target is None else target]
