"""An independent reference for the property suite: the operators re-derived from mathematics.

Nothing here reads the registry's rules. ``MATH`` evaluates each operator with the standard
library; ``DUAL`` gives its derivative with formulas derived separately (``1/cosh(x)**2`` for
tanh, ``s(x) * s(-x)`` for the sigmoid), and :func:`forward_mode` differentiates a whole
expression with dual numbers — forward mode, where micrograd is reverse mode. Both tables must
cover the registry exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from micrograd.testing import Expr


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _relu(x: float) -> float:
    return x if x > 0 else 0.0


def _tanh_slope(x: float) -> float:
    return 4.0 * math.exp(-2.0 * abs(x)) if abs(x) > 20.0 else 1.0 / math.cosh(x) ** 2


# value(operands..., [c])
MATH: dict[str, Callable[..., float]] = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": math.pow,
    "neg": lambda x: -x,
    "add_const": lambda x, c: x + c,
    "mul_const": lambda x, c: x * c,
    "div_const": lambda x, c: x / c,
    "rdiv_const": lambda x, c: c / x,
    "pow_const": lambda x, c: math.sqrt(x) if c == 0.5 else math.pow(x, c),
    "rpow_const": lambda x, c: math.pow(c, x),
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "relu": _relu,
    "abs": abs,
    "dot": lambda *xs: math.fsum(
        a * b for a, b in zip(xs[: len(xs) // 2], xs[len(xs) // 2 :], strict=True)
    ),
}

# the partial derivative for each operand: (operands..., [c]) -> tuple of partials
DUAL: dict[str, Callable[..., tuple[float, ...]]] = {
    "add": lambda a, b: (1.0, 1.0),
    "mul": lambda a, b: (b, a),
    "div": lambda a, b: (1.0 / b, -a / (b * b)),
    "pow": lambda a, b: (b * math.pow(a, b - 1.0), math.pow(a, b) * math.log(a)),
    "neg": lambda x: (-1.0,),
    "add_const": lambda x, c: (1.0,),
    "mul_const": lambda x, c: (c,),
    "div_const": lambda x, c: (1.0 / c,),
    "rdiv_const": lambda x, c: (-c / (x * x),),
    "pow_const": lambda x, c: (0.0 if c == 0 else c * math.pow(x, c - 1.0),),
    "rpow_const": lambda x, c: (math.pow(c, x) * math.log(c),),
    "exp": lambda x: (math.exp(x),),
    "log": lambda x: (1.0 / x,),
    "tanh": lambda x: (_tanh_slope(x),),
    "sigmoid": lambda x: (_sigmoid(x) * _sigmoid(-x),),
    "relu": lambda x: (1.0 if x > 0 else 0.0,),  # 0 at the kink, as the contract says
    "abs": lambda x: (1.0 if x > 0 else (-1.0 if x < 0 else 0.0),),
    "dot": lambda *xs: (*xs[len(xs) // 2 :], *xs[: len(xs) // 2]),
}


def math_values(expr: Expr, point: Sequence[float]) -> list[float]:
    """Every value of ``expr`` at ``point``, computed with ``MATH``."""
    vals = [float(x) for x in point]
    for node in expr.nodes:
        args = [vals[i] for i in node.args] + ([node.c] if node.c is not None else [])
        vals.append(MATH[node.op](*args))
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
        args = [vals[i] for i in node.args] + ([node.c] if node.c is not None else [])
        partials = DUAL[node.op](*args)
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
        args = [vals[i] for i in node.args] + ([node.c] if node.c is not None else [])
        partials = DUAL[node.op](*args)
        size[index] = math.fsum(abs(p) * size[i] for p, i in zip(partials, node.args, strict=True))
    return size[-1 if target is None else target]
