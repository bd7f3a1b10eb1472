"""IEEE-754 double arithmetic without Python exceptions.

Python's ``math`` module and the ``/`` operator raise ``OverflowError``, ``ValueError`` and
``ZeroDivisionError`` where IEEE-754 (and PyTorch float64) return ``inf``, ``-inf`` or ``nan``.
Every operator rule in the registry computes through these functions, so no such exception can
escape from arithmetic on :class:`~micrograd.Value`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

__all__ = [
    "INF",
    "NAN",
    "div",
    "dot",
    "exp",
    "is_odd_integer",
    "log",
    "pow",
    "pow_scalar_exponent",
    "sigmoid",
    "sigmoid_derivative",
    "sign",
    "sqrt",
    "tanh_derivative",
]

INF = math.inf
NAN = math.nan

_copysign = math.copysign
_exp = math.exp
_fsum = math.fsum
_isfinite = math.isfinite
_mul = operator.mul
_log = math.log
_pow = math.pow
_sqrt = math.sqrt


def is_odd_integer(y: float) -> bool:
    """Whether ``y`` is a finite odd integer (``3.0``, ``-1.0``; not ``2.0``, ``0.5``, ``inf``)."""
    return y % 2.0 == 1.0


def div(a: float, b: float) -> float:
    """``a / b``, with ``±inf`` for a zero divisor (``nan`` for ``0/0`` and ``nan/0``)."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return NAN
        return _copysign(INF, a) * _copysign(1.0, b)


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    """``a[0]*b[0] + a[1]*b[1] + ...``: each product rounded, their exact sum rounded once.

    The sum is ``math.fsum``'s, with IEEE-754 special values: ``nan`` if a product is ``nan`` or
    the products hold both infinities, else ``±inf`` if a product is infinite or the exact sum
    overflows; a zero sum is ``+0.0`` (as ``torch.dot``, whose accumulator starts at ``+0.0``).
    """
    try:
        return _fsum(map(_mul, a, b)) or 0.0
    except (OverflowError, ValueError):
        pass
    # math.fsum gives up on inf - inf, and on an overflowing partial sum even when the
    # final sum is representable (1e308 + 1e308 - 1e308): redo these rare cases exactly.
    terms = list(map(_mul, a, b))
    special = [t for t in terms if not _isfinite(t)]
    if special:
        return sum(special, 0.0)  # nan, or the one infinity; inf + -inf is nan
    from fractions import Fraction

    exact = sum(map(Fraction, terms), Fraction(0))
    try:
        return float(exact)
    except OverflowError:
        return INF if exact > 0 else -INF


def exp(x: float) -> float:
    """``e ** x``; ``inf`` on overflow."""
    try:
        return _exp(x)
    except OverflowError:
        return INF


def log(x: float) -> float:
    """Natural logarithm: ``-inf`` at ``±0``, ``nan`` below zero."""
    try:
        return _log(x)
    except ValueError:
        return -INF if x == 0.0 else NAN


def sqrt(x: float) -> float:
    """Square root: ``sqrt(-0.0) == -0.0``, ``nan`` below zero (including ``-inf``)."""
    try:
        return _sqrt(x)
    except ValueError:
        return NAN


def pow(x: float, y: float) -> float:
    """C99 ``pow`` (Annex F), as PyTorch computes ``Tensor ** Tensor``.

    Overflow gives ``±inf``; ``0 ** negative`` gives ``inf`` (``-inf`` for ``-0.0`` raised to an odd
    integer); a negative finite base with a non-integer exponent gives ``nan``.
    """
    try:
        return _pow(x, y)
    except OverflowError:
        return -INF if (x < 0.0 and is_odd_integer(y)) else INF
    except ValueError:
        if x == 0.0:
            return -INF if (_copysign(1.0, x) < 0.0 and is_odd_integer(y)) else INF
        return NAN


def pow_scalar_exponent(x: float, e: float) -> float:
    """``x ** e`` for a number exponent ``e``, with PyTorch's special cases.

    PyTorch computes ``tensor ** 0.5`` as ``sqrt`` and ``tensor ** -0.5`` as ``1 / sqrt``, which
    differ from C ``pow`` at ``-0.0`` and ``-inf`` (``(-inf) ** 0.5`` is ``nan``,
    ``(-0.0) ** -0.5`` is ``-inf``); ``x ** 2`` is ``x * x`` (correctly rounded). Everywhere else
    this is C99 ``pow``.
    """
    if e == 2.0:
        return x * x
    if e == 0.5:
        return sqrt(x)
    if e == -0.5 and (x == 0.0 or x == -INF):
        return div(1.0, sqrt(x))
    return pow(x, e)


def sigmoid(x: float) -> float:
    """Logistic function ``1 / (1 + e**-x)``; saturates to exactly ``0.0`` and ``1.0``."""
    return 1.0 / (1.0 + exp(-x))


def sigmoid_derivative(x: float) -> float:
    """``sigmoid'(x) = t / (1 + t)**2`` with ``t = e**-|x|``.

    Accurate to a few ulps for every ``x``; the textbook ``(1 - s) * s`` cancels to ``0.0`` for
    ``x > 37`` where the true derivative is still about ``1e-16``.
    """
    t = exp(-abs(x))
    u = 1.0 + t
    return t / (u * u)


def tanh_derivative(x: float) -> float:
    """``tanh'(x) = 4t / (1 + t)**2`` with ``t = e**(-2|x|)``.

    Accurate to a few ulps for every ``x``; the textbook ``1 - tanh(x)**2`` cancels to ``0.0`` for
    ``|x| > 19`` where the true derivative is still about ``1e-16``.
    """
    t = exp(-2.0 * abs(x))
    u = 1.0 + t
    return 4.0 * t / (u * u)


def sign(x: float) -> float:
    """``-1.0``, ``0.0`` or ``1.0``; ``0.0`` for ``±0`` and for ``nan`` (as ``torch.sgn``)."""
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)
