"""One record per registry operator: everything the verification knows about it, in one place.

:data:`micrograd.OPS` holds what the engine needs (the rule and its derivatives); the
:class:`OpInfo` beside each entry holds what checking it needs:

- ``domain``: where random examples may apply it (:class:`~micrograd.testing.domains.Domain`:
  one ``distance`` to the nearest pole or kink, how to keep results tame, how to draw inputs
  and constants, its kinks). ``domain.smooth(...)`` is where it is defined, finite and
  differentiable.
- ``value`` and ``partials``: an independent reference, re-derived from mathematics with the
  standard library (the property suite checks micrograd against them, forward mode against
  reverse mode).
- ``ordinary`` and ``edges``: hand-derived cases at ordinary points, and the numeric contract
  at special points (IEEE results as PyTorch float64 gives them); ``wide``: operands far out in
  the finite domain (``exp`` at 709), where the value and the gradient are finite.
- ``torch``, ``jax``, ``sympy``: how each oracle writes the operator, as Python source over
  ``{0}``, ``{1}`` (operands; for ``dot``, operand lists) and ``{c}``, evaluated with the
  backend's names (``torch``; ``jnp`` and ``jax``; ``sympy``, ``Tanh``). The exact oracle gets
  ``c`` as the exact rational of its double.
- ``method``: the :class:`~micrograd.conformance.Adapter` method through which other engines
  are driven (default: the operator's name; ``""`` for an operator outside the API other
  engines are checked on), and ``spellings``: the other ways Python writes it (``a - b`` and
  ``c - a`` are ``add`` and ``add_const`` written otherwise), which an engine implements as
  operations of their own (``__sub__``, ``__rsub__``), so they are checked as such.

:data:`OPERATIONS` lists every operator and every spelling: the operations expressions are made
of, and the rows of the verification report.

Every suite iterates these records. :func:`coverage` runs at import and names any operator
whose record is missing a piece; ``docs/adding-an-operator.md`` says how to add one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ..engine import Value
from ..ops import OPS, Op, float_literal
from .domains import (
    ANY,
    AWAY_FROM_ZERO,
    EXP_MAX,
    POSITIVE,
    TRIG_MAX,
    Domain,
    R,
    away_from_zero,
    positive,
)

__all__ = [
    "ALIASES",
    "OPERATIONS",
    "RECORDS",
    "Case",
    "OpInfo",
    "Operation",
    "RecordError",
    "Spelling",
    "coverage",
    "translation",
]

inf, nan = math.inf, math.nan


@dataclass(frozen=True, slots=True)
class Case:
    """The operator at ``operands`` (and ``c``): its ``value`` and ``grads``, one per operand."""

    operands: tuple[float, ...]
    c: float | None
    value: float
    grads: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Spelling:
    """Another way Python writes an operator: ``syntax`` over ``{0}``, ``{1}`` and ``{c}``, and the
    adapter ``method`` (default: ``name``)."""

    name: str
    syntax: str
    method: str = ""


@dataclass(frozen=True, slots=True)
class OpInfo:
    """What checking one registry operator needs; see the module docstring."""

    name: str
    domain: Domain = field(repr=False)
    value: Callable[..., float] | None = field(default=None, repr=False)
    partials: Callable[..., tuple[float, ...]] | None = field(default=None, repr=False)
    ordinary: tuple[Case, ...] = ()
    edges: tuple[Case, ...] = ()
    torch: str = ""
    jax: str = ""
    sympy: str = ""
    method: str | None = None
    spellings: tuple[Spelling, ...] = ()
    #: Operands (then ``c``) far out in the finite domain, where random examples do not go but
    #: a range-limited implementation (an ``exp`` clamped at 700, a ``log`` at 1e-7) fails.
    wide: tuple[tuple[float, ...], ...] = ()
    #: The size of the operator's own rounding error, in units of eps, from the operands, ``c``
    #: and the result: ``None`` for one rounding of the result (``|value|``).
    rounding: Callable[[Sequence[float], float | None, float], float] | None = field(
        default=None, repr=False
    )

    @property
    def op(self) -> Op:
        """The registry entry."""
        return OPS[self.name]

    def reference(self, operands: Sequence[float], c: float | None) -> float:
        """The independent reference value."""
        assert self.value is not None  # coverage() checks every record has one
        return self.value(*operands, *([] if c is None else [c]))

    def rounding_size(self, operands: Sequence[float], c: float | None, value: float) -> float:
        """The size of this operator's own rounding error at ``operands``, in units of eps."""
        return abs(value) if self.rounding is None else self.rounding(operands, c, value)

    def reference_partials(self, operands: Sequence[float], c: float | None) -> tuple[float, ...]:
        """The independent reference derivatives, one per operand."""
        assert self.partials is not None  # coverage() checks every record has one
        return self.partials(*operands, *([] if c is None else [c]))


class RecordError(LookupError):
    """A registry operator's record is missing, or misses a piece."""


def translation(text: str, op: Op, n: int) -> str:
    """``lambda x0, ..., [c]: ...``: an oracle's translation ``text`` applied to ``n`` operands.

    >>> translation("{0} + {c}", OPS["add_const"], 1)
    'lambda x0, c: x0 + c'
    >>> translation("f({0}, {1})", OPS["dot"], 4)
    'lambda x0, x1, x2, x3, c=None: f([x0, x1], [x2, x3])'
    """
    names = [f"x{i}" for i in range(n)]
    operands = names
    if op.arity < 0:
        size = n // op.groups
        operands = [f"[{', '.join(names[i : i + size])}]" for i in range(0, n, size)]
    body = text.format(*operands, c="c")
    return f"lambda {', '.join([*names, 'c' if op.has_const else 'c=None'])}: {body}"


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _tanh_slope(x: float) -> float:
    return 4.0 * math.exp(-2.0 * abs(x)) if abs(x) > 20.0 else 1.0 / math.cosh(x) ** 2


def _c_nonzero(v: Sequence[float], c: float | None) -> float:
    assert c is not None
    return abs(c)


def _c_positive(v: Sequence[float], c: float | None) -> float:
    assert c is not None
    return c


def _dot_rounding(operands: Sequence[float], c: float | None, value: float) -> float:
    # each product is rounded, then their sum once: sum |a_i b_i| (1 + d_i) (1 + d). Where the
    # sum cancels (|value| << sum |a_i b_i|), the products' roundings dominate.
    n = len(operands) // 2
    return abs(value) + math.fsum(
        abs(a * b) for a, b in zip(operands[:n], operands[n:], strict=True)
    )


def _pow_const_distance(v: Sequence[float], c: float | None) -> float:
    # the rule c * x ** (c - 1) is defined at x = 0 for integers c >= 1 only: at c = 0 it is
    # 0 * 0 ** -1 (micrograd's contract says 0, a textbook engine divides by zero: an edge)
    assert c is not None
    if not math.isfinite(c):
        return 0.0
    if c.is_integer():
        return inf if c >= 1.0 else abs(v[0])
    return v[0]


def _pow_const_fresh(i: int, c: float | None) -> tuple[tuple[float, float], ...]:
    assert c is not None
    if c.is_integer():
        return ANY if c >= 1.0 else AWAY_FROM_ZERO
    return POSITIVE


_RECORDS: Final = (
    OpInfo(
        "add",
        Domain(),
        lambda a, b: a + b,
        lambda a, b: (1.0, 1.0),
        ordinary=(Case((1.5, -2.25), None, -0.75, (1.0, 1.0)),),
        edges=(
            Case((inf, -inf), None, nan, (1.0, 1.0)),
            Case((1e308, 1e308), None, inf, (1.0, 1.0)),
        ),
        wide=((1e300, -1e300), (1e300, 1e-300)),
        torch="{0} + {1}",
        jax="jnp.add({0}, {1})",
        sympy="{0} + {1}",
        spellings=(Spelling("sub", "{0} - {1}"),),
    ),
    OpInfo(
        "mul",
        Domain(),
        lambda a, b: a * b,
        lambda a, b: (b, a),
        ordinary=(Case((1.5, -2.25), None, -3.375, (-2.25, 1.5)),),
        edges=(
            Case((inf, 0.0), None, nan, (0.0, inf)),
            Case((1e308, 10.0), None, inf, (10.0, 1e308)),
        ),
        wide=((1e150, 1e150), (1e-150, 1e-150)),
        torch="{0} * {1}",
        jax="jnp.multiply({0}, {1})",
        sympy="{0} * {1}",
    ),
    OpInfo(
        "div",
        Domain(distance=away_from_zero(1), fresh=lambda i, c: AWAY_FROM_ZERO if i == 1 else ANY),
        lambda a, b: a / b,
        lambda a, b: (1.0 / b, -a / (b * b)),
        ordinary=(
            Case((3.0, 4.0), None, 0.75, (0.25, -3.0 / 16.0)),
            Case((-1.0, 3.0), None, -1 / 3, (1 / 3, 1 / 9)),
        ),
        edges=(
            Case((1.0, 0.0), None, inf, (inf, -inf)),
            Case((0.0, 0.0), None, nan, (inf, nan)),
            Case((-1.0, 0.0), None, -inf, (inf, inf)),
            Case((1.0, -0.0), None, -inf, (-inf, -inf)),
            Case((1.0, inf), None, 0.0, (0.0, 0.0)),
            Case((inf, inf), None, nan, (0.0, nan)),
        ),
        wide=((1e300, 1e5), (1e-300, 1e5), (1e150, 1e150)),
        torch="{0} / {1}",
        jax="jnp.divide({0}, {1})",
        sympy="{0} / {1}",
        method="truediv",
    ),
    OpInfo(
        "pow",
        Domain(
            distance=positive(0),
            tame=lambda v, c: abs(v[1]) <= R,
            fresh=lambda i, c: POSITIVE if i == 0 else ANY,
        ),
        math.pow,
        lambda a, b: (b * math.pow(a, b - 1.0), math.pow(a, b) * math.log(a)),
        ordinary=(
            Case((2.0, 3.0), None, 8.0, (12.0, 8.0 * math.log(2.0))),
            Case((1.5, -0.5), None, 1.5**-0.5, (-0.5 * 1.5**-1.5, 1.5**-0.5 * math.log(1.5))),
            Case((-2.0, 3.0), None, -8.0, (12.0, nan)),  # defined for the base, not the exponent
        ),
        edges=(
            Case((0.0, 0.0), None, 1.0, (0.0, 0.0)),
            Case((0.0, 1.0), None, 0.0, (1.0, 0.0)),
            Case((0.0, -1.0), None, inf, (-inf, -inf)),
            Case((0.0, 0.5), None, 0.0, (inf, 0.0)),
            Case((-8.0, 1.0 / 3.0), None, nan, (nan, nan)),
            Case((-2.0, 2.0), None, 4.0, (-4.0, nan)),
            Case((2.0, 0.0), None, 1.0, (0.0, math.log(2.0))),
            Case((1.0, inf), None, 1.0, (inf, 0.0)),
            Case((-1.0, inf), None, 1.0, (inf, nan)),
            Case((inf, 0.0), None, 1.0, (0.0, inf)),
            Case((nan, 0.0), None, 1.0, (0.0, nan)),
            Case((1.0, nan), None, 1.0, (nan, 0.0)),
            Case((2.0, -inf), None, 0.0, (nan, 0.0)),
            Case((10.0, 400.0), None, inf, (inf, inf)),
            Case((-10.0, 401.0), None, -inf, (inf, nan)),
        ),
        wide=((1e10, 30.0), (1e-5, -30.0), (0.5, 1000.0)),
        torch="{0} ** {1}",
        jax="jnp.power({0}, {1})",
        sympy="{0} ** {1}",
    ),
    OpInfo(
        "neg",
        Domain(),
        lambda x: -x,
        lambda x: (-1.0,),
        ordinary=(Case((2.5,), None, -2.5, (-1.0,)),),
        edges=(
            Case((inf,), None, -inf, (-1.0,)),
            Case((nan,), None, nan, (-1.0,)),
            Case((0.0,), None, -0.0, (-1.0,)),
        ),
        wide=((1e308,), (5e-324,)),
        torch="-{0}",
        jax="jnp.negative({0})",
        sympy="-{0}",
    ),
    OpInfo(
        "add_const",
        Domain(constants=ANY, favoured=(1.0, -1.0, 0.5)),
        lambda x, c: x + c,
        lambda x, c: (1.0,),
        ordinary=(Case((2.5,), 1.25, 3.75, (1.0,)),),
        edges=(Case((inf,), -inf, nan, (1.0,)), Case((-0.0,), -0.0, -0.0, (1.0,))),
        wide=((1e300, -1e290), (1e-300, 1e300)),
        torch="{0} + {c}",
        jax="{0} + {c}",
        sympy="{0} + {c}",
        method="add_number",
        spellings=(
            Spelling("sub_const", "{0} - {c}", "sub_number"),
            Spelling("radd_const", "{c} + {0}", "radd"),
            Spelling("rsub_const", "{c} - {0}", "rsub"),
        ),
    ),
    OpInfo(
        "mul_const",
        Domain(constants=ANY, favoured=(2.0, -1.0, 0.5, 0.0)),
        lambda x, c: x * c,
        lambda x, c: (c,),
        ordinary=(Case((2.5,), -4.0, -10.0, (-4.0,)),),
        edges=(Case((inf,), 0.0, nan, (0.0,)), Case((0.0,), inf, nan, (inf,))),
        wide=((1e300, 1e5), (1e-300, 1e-5)),
        torch="{0} * {c}",
        jax="{0} * {c}",
        sympy="{0} * {c}",
        method="mul_number",
        spellings=(Spelling("rmul_const", "{c} * {0}", "rmul"),),
    ),
    OpInfo(
        "div_const",
        Domain(distance=_c_nonzero, constants=AWAY_FROM_ZERO, favoured=(2.0, -1.0, 0.5)),
        lambda x, c: x / c,
        lambda x, c: (1.0 / c,),
        ordinary=(Case((3.0,), 4.0, 0.75, (0.25,)),),
        edges=(
            Case((1.0,), 0.0, inf, (inf,)),
            Case((0.0,), 0.0, nan, (inf,)),
            Case((-1.0,), -0.0, inf, (-inf,)),
            Case((inf,), inf, nan, (0.0,)),
        ),
        wide=((1e300, 1e-5), (1e-300, 1e5)),
        torch="{0} / {c}",
        jax="{0} / {c}",
        sympy="{0} / {c}",
        method="truediv_number",
    ),
    OpInfo(
        "rdiv_const",
        Domain(
            distance=away_from_zero(0),
            fresh=lambda i, c: AWAY_FROM_ZERO,
            constants=ANY,
            favoured=(1.0, -2.0),
        ),
        lambda x, c: c / x,
        lambda x, c: (-c / (x * x),),
        ordinary=(Case((4.0,), 3.0, 0.75, (-3.0 / 16.0,)),),
        edges=(
            Case((0.0,), 1.0, inf, (-inf,)),
            Case((0.0,), 0.0, nan, (nan,)),
            Case((-0.0,), 1.0, -inf, (-inf,)),
            Case((inf,), 1.0, 0.0, (0.0,)),
        ),
        wide=((1e-150, 1.0), (1e150, 1e300)),
        torch="{c} / {0}",
        jax="{c} / {0}",
        sympy="{c} / {0}",
        method="rtruediv",
    ),
    OpInfo(
        "pow_const",
        Domain(
            distance=_pow_const_distance,
            fresh=_pow_const_fresh,
            constants=((-3.0, 3.0),),
            favoured=(2.0, 3.0, 0.5, -1.0, -0.5, 0.0, 1.0, 1.5, -2.0, 1.0 / 3.0),
        ),
        lambda x, c: math.sqrt(x) if c == 0.5 else math.pow(x, c),
        lambda x, c: (0.0 if c == 0 else c * math.pow(x, c - 1.0),),
        ordinary=(
            Case((3.0,), 2.0, 9.0, (6.0,)),
            Case((2.0,), 0.5, math.sqrt(2.0), (0.5 / math.sqrt(2.0),)),
            Case((-2.0,), 3.0, -8.0, (12.0,)),
            Case((4.0,), -0.5, 0.5, (-1.0 / 16.0,)),
            Case((2.0,), -1.0, 0.5, (-0.25,)),
            Case((8.0,), 1.0 / 3.0, 2.0, (1.0 / 12.0,)),
            Case((5.0,), 0.0, 1.0, (0.0,)),
        ),
        edges=(
            Case((nan,), 0.0, 1.0, (0.0,)),
            Case((0.0,), 0.0, 1.0, (0.0,)),
            Case((-0.0,), 0.5, -0.0, (-inf,)),
            Case((-inf,), 0.5, nan, (nan,)),
            Case((-1.0,), 0.5, nan, (nan,)),
            Case((-0.0,), -0.5, -inf, (-inf,)),
            Case((-inf,), -0.5, nan, (0.0,)),
            Case((0.0,), -1.0, inf, (-inf,)),
            Case((-0.0,), -1.0, -inf, (-inf,)),
            Case((-0.0,), -2.0, inf, (inf,)),
            Case((-8.0,), 1.0 / 3.0, nan, (nan,)),
            Case((-inf,), 1.0 / 3.0, inf, (0.0,)),
            Case((-0.0,), 2.0, 0.0, (0.0,)),
            Case((-inf,), 3.0, -inf, (inf,)),
            Case((-inf,), 2.5, inf, (inf,)),
            Case((0.0,), 2.5, 0.0, (0.0,)),
            Case((1e200,), 2.0, inf, (2e200,)),
        ),
        wide=((1e100, 3.0), (1e-50, -3.0), (1e300, 0.5)),
        torch="{0} ** {c}",
        # JAX differentiates x ** 0.0 at x = 0 as 0 * 0 ** -1 = nan; the derivative is 0
        jax="jnp.ones_like({0}) if {c} == 0.0 else {0} ** {c}",
        sympy="{0} ** {c}",
        method="pow_number",
    ),
    OpInfo(
        "rpow_const",
        Domain(
            distance=_c_positive,
            tame=lambda v, c: abs(v[0]) <= R,
            constants=POSITIVE,
            favoured=(2.0, 0.5, 1.0, 3.0),
        ),
        lambda x, c: math.pow(c, x),
        lambda x, c: (math.pow(c, x) * math.log(c),),
        ordinary=(
            Case((3.0,), 2.0, 8.0, (8.0 * math.log(2.0),)),
            Case((0.5,), 10.0, math.sqrt(10.0), (math.sqrt(10.0) * math.log(10.0),)),
        ),
        edges=(
            Case((0.0,), 0.0, 1.0, (0.0,)),
            Case((-1.0,), 0.0, inf, (-inf,)),
            Case((-inf,), 0.0, inf, (-inf,)),
            Case((0.5,), -2.0, nan, (nan,)),
            Case((1.0,), -2.0, -2.0, (nan,)),
            Case((inf,), 1.0, 1.0, (0.0,)),
            Case((-1.0,), inf, 0.0, (nan,)),
            Case((inf,), 2.0, inf, (inf,)),
            Case((-inf,), 0.5, inf, (-inf,)),
            Case((2000.0,), 2.0, inf, (inf,)),
        ),
        wide=((1000.0, 2.0), (-1000.0, 2.0), (700.0, 2.718281828459045)),
        torch="{c} ** {0}",
        jax="{c} ** {0}",
        sympy="{c} ** {0}",
        method="rpow",
    ),
    OpInfo(
        "exp",
        Domain(tame=lambda v, c: v[0] <= EXP_MAX),
        math.exp,
        lambda x: (math.exp(x),),
        ordinary=(
            Case((1.0,), None, math.e, (math.e,)),
            Case((-2.0,), None, math.exp(-2), (math.exp(-2),)),
        ),
        edges=(
            Case((1000.0,), None, inf, (inf,)),
            Case((-1000.0,), None, 0.0, (0.0,)),
            Case((-inf,), None, 0.0, (0.0,)),
            Case((nan,), None, nan, (nan,)),
        ),
        wide=((709.0,), (700.0,), (-700.0,), (-745.0,)),
        torch="torch.exp({0})",
        jax="jnp.exp({0})",
        sympy="sympy.exp({0})",
    ),
    OpInfo(
        "log",
        Domain(distance=positive(0), fresh=lambda i, c: POSITIVE),
        math.log,
        lambda x: (1.0 / x,),
        ordinary=(
            Case((2.0,), None, math.log(2.0), (0.5,)),
            Case((0.1,), None, math.log(0.1), (10.0,)),
        ),
        edges=(
            Case((0.0,), None, -inf, (inf,)),
            Case((-0.0,), None, -inf, (-inf,)),
            Case((-1.0,), None, nan, (-1.0,)),
            Case((inf,), None, inf, (0.0,)),
            Case((-inf,), None, nan, (0.0,)),
        ),
        wide=((1e-300,), (2.2250738585072014e-308,), (1e300,)),
        torch="torch.log({0})",
        jax="jnp.log({0})",
        sympy="sympy.log({0})",
    ),
    OpInfo(
        "tanh",
        Domain(),
        math.tanh,
        lambda x: (_tanh_slope(x),),
        ordinary=(Case((0.5,), None, math.tanh(0.5), (1.0 - math.tanh(0.5) ** 2,)),),
        edges=(
            Case((1000.0,), None, 1.0, (0.0,)),
            Case((-inf,), None, -1.0, (0.0,)),
            Case((nan,), None, nan, (nan,)),
            Case((-0.0,), None, -0.0, (1.0,)),
        ),
        wide=((20.0,), (-20.0,), (1e-300,)),
        torch="torch.tanh({0})",
        jax="jnp.tanh({0})",
        # 1 / cosh(x)**2 as its derivative: SymPy's 1 - tanh(x)**2 cancels (see _sympy.py)
        sympy="Tanh({0})",
    ),
    OpInfo(
        "sigmoid",
        Domain(),
        _sigmoid,
        lambda x: (_sigmoid(x) * _sigmoid(-x),),
        ordinary=(Case((0.5,), None, _sigmoid(0.5), (_sigmoid(0.5) * (1.0 - _sigmoid(0.5)),)),),
        edges=(
            Case((1000.0,), None, 1.0, (0.0,)),
            Case((-1000.0,), None, 0.0, (0.0,)),
            Case((inf,), None, 1.0, (0.0,)),
            Case((-inf,), None, 0.0, (0.0,)),
            Case((nan,), None, nan, (nan,)),
        ),
        wide=((30.0,), (-700.0,), (700.0,)),
        torch="torch.sigmoid({0})",
        jax="jax.nn.sigmoid({0})",
        sympy="1 / (1 + sympy.exp(-{0}))",
    ),
    OpInfo(
        "relu",
        Domain(distance=away_from_zero(0), fresh=lambda i, c: AWAY_FROM_ZERO, kinks=(0.0,)),
        lambda x: x if x > 0 else 0.0,
        lambda x: (1.0 if x > 0 else 0.0,),  # 0 at the kink, as the contract says
        ordinary=(Case((2.0,), None, 2.0, (1.0,)), Case((-2.0,), None, 0.0, (0.0,))),
        edges=(
            Case((0.0,), None, 0.0, (0.0,)),
            Case((-0.0,), None, -0.0, (0.0,)),
            Case((nan,), None, nan, (1.0,)),
            Case((-inf,), None, 0.0, (0.0,)),
            Case((inf,), None, inf, (1.0,)),
        ),
        wide=((1e308,), (-1e308,)),
        torch="torch.relu({0})",
        jax="jax.nn.relu({0})",
        sympy="sympy.Piecewise(({0}, {0} > 0), (0, True))",
    ),
    OpInfo(
        "abs",
        Domain(distance=away_from_zero(0), fresh=lambda i, c: AWAY_FROM_ZERO, kinks=(0.0,)),
        abs,
        lambda x: (1.0 if x > 0 else (-1.0 if x < 0 else 0.0),),
        ordinary=(Case((-2.0,), None, 2.0, (-1.0,)), Case((3.0,), None, 3.0, (1.0,))),
        edges=(
            Case((0.0,), None, 0.0, (0.0,)),
            Case((-0.0,), None, 0.0, (0.0,)),
            Case((nan,), None, nan, (0.0,)),
            Case((-inf,), None, inf, (-1.0,)),
        ),
        wide=((1e308,), (-1e308,)),
        torch="torch.abs({0})",
        jax="jnp.abs({0})",
        sympy="sympy.Abs({0})",
    ),
    OpInfo(
        "sin",
        Domain(tame=lambda v, c: abs(v[0]) <= TRIG_MAX),
        math.sin,
        lambda x: (math.cos(x),),
        ordinary=(
            Case((1.0,), None, math.sin(1.0), (math.cos(1.0),)),
            Case((-2.5,), None, math.sin(-2.5), (math.cos(-2.5),)),
        ),
        edges=(
            Case((inf,), None, nan, (nan,)),
            Case((-inf,), None, nan, (nan,)),
            Case((nan,), None, nan, (nan,)),
            Case((-0.0,), None, -0.0, (1.0,)),
            Case((1e300,), None, math.sin(1e300), (math.cos(1e300),)),
        ),
        wide=((1e5,), (-1e10,)),
        torch="torch.sin({0})",
        jax="jnp.sin({0})",
        sympy="sympy.sin({0})",
    ),
    OpInfo(
        "cos",
        Domain(tame=lambda v, c: abs(v[0]) <= TRIG_MAX),
        math.cos,
        lambda x: (-math.sin(x),),
        ordinary=(
            Case((1.0,), None, math.cos(1.0), (-math.sin(1.0),)),
            Case((-2.5,), None, math.cos(-2.5), (-math.sin(-2.5),)),
        ),
        edges=(
            Case((inf,), None, nan, (nan,)),
            Case((-inf,), None, nan, (nan,)),
            Case((nan,), None, nan, (nan,)),
            Case((-0.0,), None, 1.0, (0.0,)),
            Case((1e300,), None, math.cos(1e300), (-math.sin(1e300),)),
        ),
        wide=((1e5,), (-1e10,)),
        torch="torch.cos({0})",
        jax="jnp.cos({0})",
        sympy="sympy.cos({0})",
    ),
    OpInfo(
        "dot",
        Domain(),
        lambda *xs: math.fsum(
            a * b for a, b in zip(xs[: len(xs) // 2], xs[len(xs) // 2 :], strict=True)
        ),
        lambda *xs: (*xs[len(xs) // 2 :], *xs[: len(xs) // 2]),
        # operands a_1..a_n, b_1..b_n
        ordinary=(
            Case((2.0, -3.0), None, -6.0, (-3.0, 2.0)),
            Case((1.5, -2.0, 0.5, 4.0), None, -7.25, (0.5, 4.0, 1.5, -2.0)),
            Case(
                (0.1, 0.2, 0.3, 3.0, 2.0, 1.0),
                None,
                math.fsum([0.1 * 3.0, 0.2 * 2.0, 0.3 * 1.0]),
                (3.0, 2.0, 1.0, 0.1, 0.2, 0.3),
            ),
            # rounded once: left to right, 1e16 + 1.0 - 1e16 is 0.0
            Case((1e16, 1.0, -1e16, 1.0, 1.0, 1.0), None, 1.0, (1.0, 1.0, 1.0, 1e16, 1.0, -1e16)),
            # a partial sum overflows, the sum does not
            Case(
                (1e308, 1e308, -1e308, 1.0, 1.0, 1.0),
                None,
                1e308,
                (1.0,) * 3 + (1e308, 1e308, -1e308),
            ),
        ),
        edges=(
            Case((inf, -inf, 1.0, 1.0), None, nan, (1.0, 1.0, inf, -inf)),
            Case((inf, 0.0), None, nan, (0.0, inf)),
            Case((inf, 1.0, 1.0, 1.0), None, inf, (1.0, 1.0, inf, 1.0)),
            Case((nan, 1.0, 1.0, 1.0), None, nan, (1.0, 1.0, nan, 1.0)),
            Case((-0.0, 1.0), None, 0.0, (1.0, -0.0)),
            Case((-0.0, -0.0, 1.0, 1.0), None, 0.0, (1.0, 1.0, -0.0, -0.0)),
            Case((1e308, 1e308, 1.0, 1.0), None, inf, (1.0, 1.0, 1e308, 1e308)),
            Case((1e200, 1e200), None, inf, (1e200, 1e200)),
            Case((5e-324, -1.0), None, -5e-324, (-1.0, 5e-324)),
        ),
        wide=((1e150, 1e150, 1e150, 1e150), (1e-300, 1e300, 1.0, 1.0)),
        torch="(torch.stack({0}) * torch.stack({1})).sum(0)",
        jax="(jnp.stack({0}) * jnp.stack({1})).sum(0)",
        sympy="sympy.Add(*[a * b for a, b in zip({0}, {1}, strict=True)])",
        method="",  # Value.dot is micrograd's own API, not part of the karpathy surface
        rounding=_dot_rounding,
    ),
)

#: The record of every registry operator, by name, in registry order. Read-only.
RECORDS: Mapping[str, OpInfo] = MappingProxyType({info.name: info for info in _RECORDS})


def coverage(records: Mapping[str, OpInfo] = RECORDS) -> list[str]:
    """What is missing, one readable line per problem (empty when every operator is covered)."""
    problems = []
    for name, op in OPS.items():
        info = records.get(name)
        if info is None:
            problems.append(f"operator {name!r} has no record in micrograd/testing/opinfo.py")
            continue
        missing = [
            piece
            for piece, present in (
                ("value (a reference formula)", info.value is not None),
                ("partials (reference derivatives)", info.partials is not None),
                ("ordinary cases", bool(info.ordinary)),
                ("edges (the numeric contract at special points)", bool(info.edges)),
                ("torch (its PyTorch translation)", bool(info.torch)),
                ("jax (its JAX translation)", bool(info.jax)),
                ("sympy (its SymPy translation)", bool(info.sympy)),
            )
            if not present
        ]
        if missing:
            problems.append(f"operator {name!r}: its record lacks {'; '.join(missing)}")
        for case in (*info.ordinary, *info.edges):
            if not op.accepts(len(case.operands)) or len(case.grads) != len(case.operands):
                problems.append(f"operator {name!r}: case {case} has the wrong number of operands")
            if (case.c is not None) != op.has_const:
                need = "needs" if op.has_const else "takes no"
                problems.append(f"operator {name!r}: case {case} {need} c")
        for wide in info.wide:
            if not op.accepts(len(wide) - op.has_const):
                problems.append(
                    f"operator {name!r}: wide case {wide} has the wrong number of operands"
                )
        for spelling in info.spellings:
            if ("{c}" in spelling.syntax) != op.has_const or ("{1}" in spelling.syntax) != (
                op.arity == 2
            ):
                problems.append(
                    f"operator {name!r}: spelling {spelling.name} = {spelling.syntax!r} does not "
                    f"take {op.arity} operand(s){' and c' if op.has_const else ''}"
                )
    problems += [
        f"record {name!r} names no registry operator" for name in records if name not in OPS
    ]
    names = [n for info in records.values() for n in (info.name, *(s.name for s in info.spellings))]
    methods = [m for info in records.values() for m in _methods(info)]
    problems += [
        f"{what} {n!r} is used twice"
        for what, used in (("operation name", names), ("adapter method", methods))
        for n in sorted({n for n in used if used.count(n) > 1})
    ]
    return problems


def _methods(info: OpInfo) -> list[str]:
    own = info.name if info.method is None else info.method
    return [m for m in (own, *(s.method or s.name for s in info.spellings)) if m]


_problems = coverage()
if _problems:
    raise RecordError("the operator records are incomplete:\n  " + "\n  ".join(_problems))


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation expressions are made of: a registry operator written its own way, or one of
    its other spellings (``a - b``). Operands keep to the operator's domain."""

    name: str
    syntax: str
    info: OpInfo = field(repr=False)
    #: The adapter method other engines are driven through; ``None`` for micrograd's own API.
    method: str | None

    @property
    def primitive(self) -> bool:
        """Whether this is the registry operator itself (one node in micrograd's graph)."""
        return self.name == self.info.name

    @property
    def op(self) -> Op:
        return self.info.op

    @property
    def arity(self) -> int:
        """Operands; ``-1`` for a variadic operator (``dot``), drawn in ``groups`` groups."""
        return self.op.arity if self.primitive else 2 if "{1}" in self.syntax else 1

    @property
    def groups(self) -> int:
        return self.op.groups if self.primitive else 1

    @property
    def has_const(self) -> bool:
        return self.op.has_const

    @property
    def domain(self) -> Domain:
        return self.info.domain

    @property
    def label(self) -> str:
        """The syntax over ``a``, ``b`` and ``c``, as reports show it."""
        return self.syntax.format("a", "b", c="c")

    def accepts(self, n: int) -> bool:
        return self.op.accepts(n) if self.primitive else n == self.arity

    def source(self, *operands: str, c: float | None = None) -> str:
        """Python source applying this operation to ``operands`` (names or parenthesised code)."""
        if self.primitive:
            return self.op.source(*operands, c=c)
        return self.syntax.format(*operands, c="" if c is None else float_literal(c))

    def forward(self, *args: float) -> float:
        """The value from the operands' floats (then ``c``): the registry rule, or micrograd."""
        if self.primitive:
            return self.op.forward(*args)
        n = self.arity
        c = args[n] if self.has_const else None
        result: float = self.apply(n, c)(*[Value(a) for a in args[:n]]).data
        return result

    def apply(self, n: int, c: float | None) -> Callable[..., Value]:
        """A function applying this operation to ``n`` Values through its Python syntax."""
        # keyed by the constant's bits: -0.0 == 0.0 and nan != nan would confuse the cache
        return _applier(self, n, None if c is None else c.hex())


@functools.lru_cache(maxsize=4096)
def _applier(op: Operation, n: int, bits: str | None) -> Callable[..., Value]:
    names = [f"x{i}" for i in range(n)]
    c = None if bits is None else float.fromhex(bits)
    fn: Callable[..., Value] = eval(
        f"lambda {', '.join(names)}: {op.source(*names, c=c)}", {"Value": Value}
    )
    return fn


def _operations(info: OpInfo) -> list[Operation]:
    method = info.name if info.method is None else info.method or None
    own = Operation(info.name, info.op.syntax, info, method)
    others = [Operation(s.name, s.syntax, info, s.method or s.name) for s in info.spellings]
    return [own, *others]


#: Every operation, by name: each registry operator, followed by its other spellings. Read-only.
OPERATIONS: Mapping[str, Operation] = MappingProxyType(
    {o.name: o for info in RECORDS.values() for o in _operations(info)}
)
#: Adapter method names that differ from their operation's name (``truediv`` is ``div``): older
#: names of the kit's rows, accepted wherever an operation is named.
ALIASES: Mapping[str, str] = MappingProxyType(
    {o.method: o.name for o in OPERATIONS.values() if o.method and o.method != o.name}
)
