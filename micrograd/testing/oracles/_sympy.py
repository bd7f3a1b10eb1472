"""The exact oracle: every operator's derivative by ``sympy.diff``, the expression's value and
gradient evaluated with mpmath at high precision and rounded once to double.

Constants enter as the exact rationals of their doubles, so the oracle differentiates exactly
the function micrograd computes (before micrograd's rounding). Evaluation starts at 60
significant digits and doubles the precision until two successive precisions agree to well
beyond double precision, so cancellation in the symbolic formulas cannot leak into the result.
``tanh`` is differentiated as ``1 / cosh(x)**2`` rather than SymPy's ``1 - tanh(x)**2``, which would
need about ``0.87 * |x|`` digits to resolve.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import sympy

from ..expr import Expr
from . import Evaluation, translator

DIGITS = 60
MAX_DIGITS = 20_000

S = Any


class _Tanh(sympy.tanh):  # type: ignore[misc]
    """``tanh`` whose derivative is written without cancellation."""

    def fdiff(self, argindex: int = 1) -> S:
        return 1 / sympy.cosh(self.args[0]) ** 2


def _exact(c: float) -> S:
    return sympy.Rational(c)


_translate = translator("sympy", {"sympy": sympy, "Tanh": _Tanh})


def symbolic(expr: Expr) -> tuple[list[S], S]:
    """The input symbols and the output as one SymPy expression (for inspection)."""
    xs = list(sympy.symbols(f"x0:{expr.n_inputs}", real=True))
    vals: list[S] = list(xs)
    for node in expr.nodes:
        vals.append(_call(node.op, [vals[i] for i in node.args], node.c))
    return xs, vals[-1]


def _call(op: str, operands: Sequence[S], c: float | None) -> S:
    return _translate(op, len(operands))(*operands, None if c is None else _exact(c))


@functools.lru_cache(maxsize=4096)
def _local(op: str, n: int, c: float | None, sign: float) -> Callable[..., Sequence[Any]]:
    """mpmath function of one node's operands: its value and ``sympy.diff`` of it by each.

    ``sign`` keeps ``-0.0`` and ``0.0`` apart in the cache key.
    """
    ys = list(sympy.symbols(f"y0:{n}", real=True))
    f = _call(op, ys, c)
    outputs = [f, *[sympy.diff(f, y) for y in ys]]
    # a Piecewise branch that the points never take may hold complex infinity: make it nan
    outputs = [o.xreplace({sympy.zoo: sympy.nan}) for o in outputs]
    fn: Callable[..., Sequence[Any]] = sympy.lambdify(
        ys, outputs, modules=[{"_Tanh": mpmath.tanh}, "mpmath"]
    )
    return fn


def exact(expr: Expr) -> Callable[..., list[Any]]:
    """An mpmath function of the inputs returning the value and the gradient.

    Each node's value and local derivatives come from SymPy (``sympy.diff`` of that node's own
    function); the chain rule is then accumulated in mpmath at the working precision. Composing
    the whole expression symbolically first would be no more exact, and can make SymPy's
    simplification and assumption queries arbitrarily slow.
    """
    locals_ = [
        _local(n.op, len(n.args), n.c, math.copysign(1.0, n.c) if n.c is not None else 1.0)
        for n in expr.nodes
    ]

    def fn(*inputs: Any) -> list[Any]:
        vals = list(inputs)
        partials = []
        for node, local in zip(expr.nodes, locals_, strict=True):
            out = local(*[vals[i] for i in node.args])
            vals.append(out[0])
            partials.append(out[1:])
        adjoint = [mpmath.mpf(0)] * len(vals)
        adjoint[-1] = mpmath.mpf(1)
        for k in range(len(expr.nodes) - 1, -1, -1):
            a = adjoint[expr.n_inputs + k]
            if a == 0:
                continue
            for i, p in zip(expr.nodes[k].args, partials[k], strict=True):
                adjoint[i] += a * p
        return [vals[-1], *adjoint[: expr.n_inputs]]

    return fn


def _settle(a: Sequence[Any], b: Sequence[Any], digits: int) -> list[float] | None:
    """The results, if those at ``digits`` (``a``) and ``2 * digits`` (``b``) agree to
    ``digits / 2`` significant digits, each one, or are cancellation noise around an exact zero
    (shrinking with the precision: below ``10 ** (-0.9 * digits)`` at each); else ``None``."""
    tol = mpmath.mpf(10) ** (-(digits // 2))
    out = []
    for x, y in zip(a, b, strict=True):
        if x == y or abs(x - y) <= tol * max(abs(x), abs(y)):
            out.append(float(y))
        elif _noise(x, digits) and _noise(y, 2 * digits):
            out.append(0.0)
        else:
            return None
    return out


def _noise(x: Any, digits: int) -> bool:
    return bool(abs(x) <= mpmath.mpf(10) ** (-0.9 * digits))


def evaluate_point(fn: Callable[..., Sequence[Any]], point: Sequence[float]) -> list[float]:
    """Value and gradient at ``point``, to ``DIGITS`` digits at least, rounded once."""
    digits = DIGITS
    with mpmath.workdps(digits):
        previous = list(fn(*[mpmath.mpf(x) for x in point]))
    while True:
        digits *= 2
        with mpmath.workdps(digits):
            current = list(fn(*[mpmath.mpf(x) for x in point]))
            settled = _settle(previous, current, digits // 2)
            if settled is not None:
                return settled
        if digits >= MAX_DIGITS:
            raise ArithmeticError(f"no convergence up to {digits} digits at {list(point)}")
        previous = current


def evaluate(expr: Expr) -> Evaluation:
    fn = exact(expr)
    values, grads = [], []
    for point in expr.points:
        results = evaluate_point(fn, point)
        values.append(results[0])
        grads.append(tuple(results[1:]))
    return Evaluation(tuple(values), tuple(grads))
