"""The operator registry: every primitive operator of the engine, described once.

A graph node stores a reference to one :class:`Op` of this registry, its parents and, for the
``*_const`` operators, a number argument. Everything that needs to know about operators — the
engine, the README's operator table, the property suite, the reference oracles — reads them from
:data:`OPS`, so an operator cannot be added without every suite seeing it.

The numeric contract (see the README) is implemented here: rules compute with the IEEE-safe
functions of :mod:`micrograd._math` and mirror PyTorch float64 at the special points (how it treats
``x ** 0.5``, the gradient of ``relu`` at 0, where it uses a *select* rather than a product).

Composite operators are not entries: ``a - b`` is ``a + (-b)``, ``a - c`` is ``a + (-c)`` and
``c - a`` is ``(-a) + c`` (all exact in IEEE arithmetic), and ``v.sqrt()`` is ``v ** 0.5``.
Division is a primitive: ``a * b**-1`` would round twice where PyTorch rounds once. The dot product
``Value.dot(a, b)`` is a primitive too: one node instead of ``2n - 1``, and its sum is rounded once.
"""

from __future__ import annotations

import math
import operator
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from . import _math

if TYPE_CHECKING:
    from .engine import Value

__all__ = ["OPS", "REPLAY_NAMES", "Op", "Replay", "float_literal"]


@dataclass(frozen=True, slots=True)
class Replay:
    """How :mod:`micrograd.tape` replays a recorded node of an operator: its two rules again, as
    Python source templates, from which a tape generates its straight-line code and compiles its
    interpreter's vjp kernels.

    Attributes:
        forward: An expression for the value, over ``{0}``, ``{1}``, ... (the operands) and
            ``{c}`` (the number argument). For a variadic operator ``{0}``, ``{1}``, ... stand
            for its operand groups, each written as a tuple display: ``dot({0}, {1})`` applied to
            ``w1, w2, x1, x2`` is ``dot((w1, w2), (x1, x2))``.
        vjp: One expression per operand, in order (for a variadic operator: one per operand
            group, applied to each operand of the group, with ``{0}``, ``{1}``, ... standing for
            the operands at the same position in each group), over ``{g}`` (the gradient flowing
            into the node), ``{out}`` (the node's value), ``{0}``, ``{1}``, ... and ``{c}``.
        term: For a variadic operator, optionally, one term of ``forward``: an expression over
            the operands at the same position in each group (as in ``vjp``); ``{terms}`` in
            ``forward`` then stands for every term, in order, as a tuple display. ``dot``'s
            forward ``sum_terms({terms})`` with the term ``{0} * {1}`` computes the products in
            line, which is twice as fast as passing the two groups to ``_math.dot``.

    Placeholders are replaced by local names or exact float literals (:func:`float_literal`),
    never by other expressions, so a template is evaluated as written. Templates call only the
    functions of :data:`REPLAY_NAMES` and builtins. Each must give, bit for bit, what the
    operator's ``forward`` and ``vjp`` give (signed zeros, ``inf`` and ``nan`` included): the
    tests (``tests/unit/test_tape.py``, ``tests/property/test_tape.py``) check every template
    against them, at special values and at random floats.
    """

    forward: str
    vjp: tuple[str, ...]
    term: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Op:
    """One primitive operator.

    Attributes:
        name: Identifier, unique in :data:`OPS`.
        arity: Number of :class:`~micrograd.Value` operands, or ``-1`` for a variadic operator:
            one taking any number of operands ``>= 1`` that its ``syntax`` can group (below).
        has_const: Whether the operator also takes a number argument ``c`` (stored on the node).
        forward: The value, from the operands' floats followed by ``c`` when ``has_const``.
        vjp: ``vjp(node, g)`` returns ``g * d(node)/d(operand)`` for each operand, in order — the
            vector-Jacobian product, written so that it equals PyTorch's at the special points.
        syntax: Python source for the node, with ``{0}``, ``{1}`` for operands and ``{c}`` for the
            number argument. For a variadic operator, ``{0}``, ``{1}``, ... stand for equally long
            *groups* of consecutive operands, each written as a list: ``dot``'s syntax
            ``Value.dot({0}, {1})`` applied to ``w1, w2, x1, x2`` is
            ``Value.dot([w1, w2], [x1, x2])``, so its operand count is a multiple of 2.
        formula: The function in mathematical notation (operands ``a``, ``b``; ``x``; ``c``; for
            a variadic operator, ``a``, ``b`` name its operand groups).
        derivatives: The partial derivative for each operand (each operand group), in
            mathematical notation.
        domain: Where the operator is defined and differentiable, and what it does elsewhere.
        replay: ``forward`` and ``vjp`` as source templates, for :mod:`micrograd.tape`
            (:class:`Replay`); ``None`` only for an operator a tape cannot record yet
            (``micrograd.tape.coverage()`` names it).

    What checking an operator needs (its domain for random examples, reference formulas, edge
    cases, oracle translations) is in its record, :data:`micrograd.testing.opinfo.RECORDS`.
    """

    name: str
    arity: int
    has_const: bool
    forward: Callable[..., float]
    vjp: Callable[[Value, float], tuple[float, ...]]
    syntax: str
    formula: str
    derivatives: tuple[str, ...]
    domain: str
    replay: Replay | None = None

    def __repr__(self) -> str:
        return f"<Op {self.name}>"

    @property
    def groups(self) -> int:
        """How many operand groups a variadic operator's ``syntax`` has (its ``{0}``, ``{1}``…)."""
        fields = [f for _, f, _, _ in string.Formatter().parse(self.syntax) if f and f.isdigit()]
        return 1 + max(map(int, fields))  # every syntax has a {0}

    def accepts(self, n: int) -> bool:
        """Whether this operator takes ``n`` operands."""
        if self.arity >= 0:
            return n == self.arity
        return n >= 1 and n % self.groups == 0

    def source(self, *operands: str, c: float | None = None) -> str:
        """Python source for this operator applied to ``operands`` (names or parenthesised code).

        >>> OPS["rpow_const"].source("x", c=-2.0)
        '(-2.0) ** x'
        >>> OPS["dot"].source("w1", "w2", "x1", "x2")
        'Value.dot([w1, w2], [x1, x2])'
        """
        if not self.accepts(len(operands)):
            takes = self.arity if self.arity >= 0 else f"a positive multiple of {self.groups}"
            raise ValueError(f"{self.name} takes {takes} operand(s), got {len(operands)}")
        if self.has_const != (c is not None):
            need = "needs a" if self.has_const else "takes no"
            raise ValueError(f"{self.name} {need} number argument c")
        if self.arity < 0:
            n = len(operands) // self.groups
            operands = tuple(
                f"[{', '.join(operands[i : i + n])}]" for i in range(0, len(operands), n)
            )
        if c is None:
            return self.syntax.format(*operands)
        return self.syntax.format(*operands, c=float_literal(c))


def float_literal(x: float) -> str:
    """Python source that evaluates to ``x`` exactly and binds tighter than any operator."""
    if x != x or x in (math.inf, -math.inf):
        return f"float('{float(x)!r}')"  # float('nan'), float('inf'), float('-inf')
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def _const(node: Value) -> float:
    c = node._arg
    assert c is not None  # a *_const node always carries its number argument
    return c


# --- vector-Jacobian products -------------------------------------------------------------------
# Each takes the output node and the gradient g flowing into it and returns one contribution per
# operand. Where PyTorch selects 0 (``where(cond, 0, ...)``) rather than multiplying by 0, so do we:
# the difference shows when g is inf or nan.


def _add_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (g, g)


def _mul_vjp(node: Value, g: float) -> tuple[float, ...]:
    a, b = node._prev
    return (g * b._data, g * a._data)


def _div_vjp(node: Value, g: float) -> tuple[float, ...]:
    b = node._prev[1]._data
    # d(a/b)/db = -a/b**2, computed as PyTorch does: -g * ((a / b) / b)
    return (_math.div(g, b), -g * _math.div(node._data, b))


def _pow_vjp(node: Value, g: float) -> tuple[float, ...]:
    a_node, b_node = node._prev
    a, b = a_node._data, b_node._data
    d_base = 0.0 if b == 0.0 else g * (b * _math.pow(a, b - 1.0))
    d_exponent = g * (0.0 if (a == 0.0 and b >= 0.0) else node._data * _math.log(a))
    return (d_base, d_exponent)


def _neg_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (-g,)


def _add_const_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (g,)


def _mul_const_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (g * _const(node),)


def _div_const_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (_math.div(g, _const(node)),)


def _rdiv_const_vjp(node: Value, g: float) -> tuple[float, ...]:
    # d(c/x)/dx = -c/x**2 = -(c/x)/x
    return (-g * _math.div(node._data, node._prev[0]._data),)


def _pow_const_vjp(node: Value, g: float) -> tuple[float, ...]:
    e = _const(node)
    if e == 0.0:
        return (0.0,)
    return (g * (e * _math.pow_scalar_exponent(node._prev[0]._data, e - 1.0)),)


def _rpow_const_vjp(node: Value, g: float) -> tuple[float, ...]:
    c = _const(node)
    x = node._prev[0]._data
    return (g * (0.0 if (c == 0.0 and x >= 0.0) else node._data * _math.log(c)),)


def _exp_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (g * node._data,)


def _log_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (_math.div(g, node._prev[0]._data),)


def _tanh_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (g * _math.tanh_derivative(node._prev[0]._data),)


def _sigmoid_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (g * _math.sigmoid_derivative(node._prev[0]._data),)


def _relu_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (0.0 if node._data <= 0.0 else g,)


def _sin_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (g * _cos_forward(node._prev[0]._data),)


def _cos_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (-g * _sin_forward(node._prev[0]._data),)


def _abs_vjp(node: Value, g: float) -> tuple[float, ...]:
    return (g * _math.sign(node._prev[0]._data),)


def _dot_vjp(node: Value, g: float) -> tuple[float, ...]:
    # d(a · b)/da_i = b_i and d(a · b)/db_i = a_i: each product's own vjp, as for a * b
    prev = node._prev
    n = len(prev) // 2
    return (*[g * b._data for b in prev[n:]], *[g * a._data for a in prev[:n]])


# --- forward rules that are not plain library functions -----------------------------------------


def _rdiv_forward(x: float, c: float) -> float:
    return _math.div(c, x)


def _rpow_forward(x: float, c: float) -> float:
    return _math.pow(c, x)


def _relu_forward(x: float) -> float:
    # -0.0 and nan pass through unchanged, as torch.relu
    return 0.0 if x < 0.0 else x


def _sin_forward(x: float) -> float:
    # math.sin(±inf) raises ValueError; IEEE (and torch.sin) give nan
    return math.sin(x) if math.isfinite(x) else math.nan


def _cos_forward(x: float) -> float:
    return math.cos(x) if math.isfinite(x) else math.nan


def _dot_forward(*operands: float) -> float:
    n = len(operands) // 2  # a_1..a_n, b_1..b_n
    return _math.dot(operands[:n], operands[n:])


def _sum_terms(terms: tuple[float, ...]) -> float:
    """``_math.dot(terms, (1.0, ...))``, the sum of ``dot``'s rounded products ``terms`` as its
    rule sums them (``t * 1.0`` is ``t``): ``math.fsum``, or ``_math.dot`` itself where that
    raises (inf - inf, an overflowing partial sum)."""
    try:
        return math.fsum(terms) or 0.0
    except (OverflowError, ValueError):
        return _math.dot(terms, (1.0,) * len(terms))


ADD = Op(
    "add", 2, False, operator.add, _add_vjp,
    syntax="{0} + {1}", formula="a + b", derivatives=("1", "1"),
    domain="all reals",
    replay=Replay("{0} + {1}", ("{g}", "{g}")),
)  # fmt: skip
MUL = Op(
    "mul", 2, False, operator.mul, _mul_vjp,
    syntax="{0} * {1}", formula="a * b", derivatives=("b", "a"),
    domain="all reals",
    replay=Replay("{0} * {1}", ("{g} * {1}", "{g} * {0}")),
)  # fmt: skip
DIV = Op(
    "div", 2, False, _math.div, _div_vjp,
    syntax="{0} / {1}", formula="a / b", derivatives=("1/b", "-a/b^2"),
    domain="b != 0; a/0 is ±inf, 0/0 is nan",
    replay=Replay("div({0}, {1})", ("div({g}, {1})", "-{g} * div({out}, {1})")),
)  # fmt: skip
POW = Op(
    "pow", 2, False, _math.pow, _pow_vjp,
    syntax="{0} ** {1}", formula="a ^ b", derivatives=("b * a^(b-1)", "a^b * ln(a)"),
    domain="a > 0 (C99 pow elsewhere: 0**0 = 1, negative a with non-integer b is nan); "
    "d/da is 0 where b = 0, d/db is 0 where a = 0 and b >= 0",
    replay=Replay("c99_pow({0}, {1})", (
        "0.0 if {1} == 0.0 else {g} * ({1} * c99_pow({0}, {1} - 1.0))",
        "{g} * (0.0 if ({0} == 0.0 and {1} >= 0.0) else {out} * log({0}))",
    )),
)  # fmt: skip
NEG = Op(
    "neg", 1, False, operator.neg, _neg_vjp,
    syntax="-{0}", formula="-x", derivatives=("-1",),
    domain="all reals",
    replay=Replay("-{0}", ("-{g}",)),
)  # fmt: skip
ADD_CONST = Op(
    "add_const", 1, True, operator.add, _add_const_vjp,
    syntax="{0} + {c}", formula="x + c", derivatives=("1",),
    domain="all reals",
    replay=Replay("{0} + {c}", ("{g}",)),
)  # fmt: skip
MUL_CONST = Op(
    "mul_const", 1, True, operator.mul, _mul_const_vjp,
    syntax="{0} * {c}", formula="x * c", derivatives=("c",),
    domain="all reals",
    replay=Replay("{0} * {c}", ("{g} * {c}",)),
)  # fmt: skip
DIV_CONST = Op(
    "div_const", 1, True, _math.div, _div_const_vjp,
    syntax="{0} / {c}", formula="x / c", derivatives=("1/c",),
    domain="c != 0; x/0 is ±inf, 0/0 is nan",
    replay=Replay("div({0}, {c})", ("div({g}, {c})",)),
)  # fmt: skip
RDIV_CONST = Op(
    "rdiv_const", 1, True, _rdiv_forward, _rdiv_const_vjp,
    syntax="{c} / {0}", formula="c / x", derivatives=("-c/x^2",),
    domain="x != 0; c/0 is ±inf, 0/0 is nan",
    replay=Replay("div({c}, {0})", ("-{g} * div({out}, {0})",)),
)  # fmt: skip
POW_CONST = Op(
    "pow_const", 1, True, _math.pow_scalar_exponent, _pow_const_vjp,
    syntax="{0} ** {c}", formula="x ^ c", derivatives=("c * x^(c-1)",),
    domain="x > 0 for non-integer c, x != 0 for negative integer c, else all reals; x**0 = 1 "
    "with gradient 0; x**0.5 is sqrt(x) and x**-0.5 is 1/sqrt(x) at -0.0 and -inf (as PyTorch)",
    replay=Replay("pow_number({0}, {c})", (
        "0.0 if {c} == 0.0 else {g} * ({c} * pow_number({0}, {c} - 1.0))",
    )),
)  # fmt: skip
RPOW_CONST = Op(
    "rpow_const", 1, True, _rpow_forward, _rpow_const_vjp,
    syntax="{c} ** {0}", formula="c ^ x", derivatives=("c^x * ln(c)",),
    domain="c > 0 (c < 0 is nan except at integer x; 0**x is 0 with gradient 0 for x >= 0)",
    replay=Replay("c99_pow({c}, {0})", (
        "{g} * (0.0 if ({c} == 0.0 and {0} >= 0.0) else {out} * log({c}))",
    )),
)  # fmt: skip
EXP = Op(
    "exp", 1, False, _math.exp, _exp_vjp,
    syntax="{0}.exp()", formula="e^x", derivatives=("e^x",),
    domain="all reals; inf above 709.78",
    replay=Replay("exp({0})", ("{g} * {out}",)),
)  # fmt: skip
LOG = Op(
    "log", 1, False, _math.log, _log_vjp,
    syntax="{0}.log()", formula="ln(x)", derivatives=("1/x",),
    domain="x > 0; log(0) is -inf, negative x is nan",
    replay=Replay("log({0})", ("div({g}, {0})",)),
)  # fmt: skip
TANH = Op(
    "tanh", 1, False, math.tanh, _tanh_vjp,
    syntax="{0}.tanh()", formula="tanh(x)", derivatives=("1 - tanh(x)^2",),
    domain="all reals; saturates to ±1",
    replay=Replay("tanh({0})", ("{g} * tanh_derivative({0})",)),
)  # fmt: skip
SIGMOID = Op(
    "sigmoid", 1, False, _math.sigmoid, _sigmoid_vjp,
    syntax="{0}.sigmoid()", formula="s(x) = 1 / (1 + e^-x)", derivatives=("s(x) * (1 - s(x))",),
    domain="all reals; saturates to 0 and 1",
    replay=Replay("sigmoid({0})", ("{g} * sigmoid_derivative({0})",)),
)  # fmt: skip
RELU = Op(
    "relu", 1, False, _relu_forward, _relu_vjp,
    syntax="{0}.relu()", formula="max(x, 0)", derivatives=("1 if x > 0 else 0",),
    domain="all reals; kink at 0, where the gradient is 0",
    replay=Replay("0.0 if {0} < 0.0 else {0}", ("0.0 if {out} <= 0.0 else {g}",)),
)  # fmt: skip
ABS = Op(
    "abs", 1, False, abs, _abs_vjp,
    syntax="abs({0})", formula="abs(x)", derivatives=("sign(x)",),
    domain="all reals; kink at 0, where the gradient is 0",
    replay=Replay("abs({0})", ("{g} * sign({0})",)),
)  # fmt: skip
SIN = Op(
    "sin", 1, False, _sin_forward, _sin_vjp,
    syntax="{0}.sin()", formula="sin(x)", derivatives=("cos(x)",),
    domain="all reals; sin(±inf) is nan",
    replay=Replay("sin({0})", ("{g} * cos({0})",)),
)  # fmt: skip
COS = Op(
    "cos", 1, False, _cos_forward, _cos_vjp,
    syntax="{0}.cos()", formula="cos(x)", derivatives=("-sin(x)",),
    domain="all reals; cos(±inf) is nan",
    replay=Replay("cos({0})", ("-{g} * sin({0})",)),
)  # fmt: skip

DOT = Op(
    "dot", -1, False, _dot_forward, _dot_vjp,
    syntax="Value.dot({0}, {1})", formula="a · b = a_1 b_1 + ... + a_n b_n", derivatives=("b", "a"),
    domain="all reals, n >= 1; each product is rounded, then their sum is rounded once (exactly "
    "rounded, not left to right): ±inf only where that sum overflows, nan for inf - inf; a zero "
    "sum is +0.0",
    replay=Replay("sum_terms({terms})", ("{g} * {1}", "{g} * {0}"), term="{0} * {1}"),
)  # fmt: skip

#: Every primitive operator, by name, in a fixed order. Read-only.
OPS: Mapping[str, Op] = MappingProxyType(
    {
        op.name: op
        for op in (
            ADD, MUL, DIV, POW, NEG,
            ADD_CONST, MUL_CONST, DIV_CONST, RDIV_CONST, POW_CONST, RPOW_CONST,
            EXP, LOG, TANH, SIGMOID, RELU, ABS, SIN, COS, DOT,
        )
    }
)  # fmt: skip

#: The functions replay templates (:attr:`Op.replay`) call, by the name they use. Read-only.
REPLAY_NAMES: Mapping[str, Callable[..., float]] = MappingProxyType(
    {
        "div": _math.div,
        "c99_pow": _math.pow,
        "pow_number": _math.pow_scalar_exponent,
        "exp": _math.exp,
        "log": _math.log,
        "tanh": math.tanh,
        "sigmoid": _math.sigmoid,
        "tanh_derivative": _math.tanh_derivative,
        "sigmoid_derivative": _math.sigmoid_derivative,
        "sign": _math.sign,
        "sin": _sin_forward,
        "cos": _cos_forward,
        "dot": _math.dot,
        "sum_terms": _sum_terms,
    }
)
