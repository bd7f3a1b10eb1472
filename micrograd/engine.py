"""The scalar reverse-mode autograd engine: :class:`Value` and its graph walk."""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from numbers import Real

from . import ops as _ops
from .ops import Op

__all__ = ["AnomalyError", "Value", "detect_anomaly"]


class AnomalyError(FloatingPointError):
    """Raised in :func:`detect_anomaly` at the first non-finite value or gradient."""


class Value:
    """A scalar in a computation graph: its value ``data``, gradient ``grad``, and how it was made.

    ``Value(data)`` makes a leaf from any real number (``int``, ``float``, ``bool``,
    ``fractions.Fraction``, NumPy scalars: anything registered as :class:`numbers.Real`); ``data``
    is always a Python ``float``. Arithmetic with other values or plain numbers (on either side)
    builds the graph; :meth:`backward` fills in ``grad`` on every node of it.

    Nodes are plain data — an operator from :data:`micrograd.OPS`, the parent nodes and, for the
    ``*_const`` operators, a number — so a graph holds no reference cycles and is freed as soon as
    the last reference to its output goes. Values hash and compare by identity. (One more slot,
    ``_uses``, is :meth:`backward`'s count of a node's consumers; it is 0 outside a walk.)
    """

    __slots__ = ("_arg", "_op", "_prev", "_uses", "data", "grad")

    # NumPy scalars on the left of an operator defer to Value's reflected operators.
    __array_ufunc__ = None

    data: float
    grad: float
    _op: Op | None
    _prev: tuple[Value, ...]
    _arg: float | None
    _uses: int

    def __init__(self, data: float | Real) -> None:
        self.data = data if type(data) is float else _to_float(data, "Value()")
        self.grad = 0.0
        self._op = None
        self._prev = ()
        self._arg = None
        self._uses = 0

    # --- introspection ---------------------------------------------------------------------------

    @property
    def op(self) -> Op | None:
        """The operator that produced this value, or ``None`` for a leaf."""
        return self._op

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands this value was computed from, in order (a leaf has none)."""
        return self._prev

    @property
    def arg(self) -> float | None:
        """The number argument of a ``*_const`` operator (``2.0`` in ``v * 2``), else ``None``."""
        return self._arg

    def __repr__(self) -> str:
        op = "" if self._op is None else f", op={self._op.name!r}"
        return f"Value(data={self.data!r}, grad={self.grad!r}{op})"

    # --- arithmetic ------------------------------------------------------------------------------

    def __add__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _node(_ADD.forward(self.data, other.data), _ADD, (self, other))
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "+")
        return _node(_ADD_CONST.forward(self.data, c), _ADD_CONST, (self,), c)

    __radd__ = __add__  # c + x == x + c exactly

    def __mul__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _node(_MUL.forward(self.data, other.data), _MUL, (self, other))
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "*")
        return _node(_MUL_CONST.forward(self.data, c), _MUL_CONST, (self,), c)

    __rmul__ = __mul__  # c * x == x * c exactly

    def __neg__(self) -> Value:
        return _node(_NEG.forward(self.data), _NEG, (self,))

    def __pos__(self) -> Value:
        return self

    def __sub__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return self + (-other)  # a - b == a + (-b) exactly
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "-")
        return _node(_ADD_CONST.forward(self.data, -c), _ADD_CONST, (self,), -c)

    def __rsub__(self, other: float) -> Value:
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "-")
        return -self + c  # c - x == (-x) + c exactly

    def __truediv__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _node(_DIV.forward(self.data, other.data), _DIV, (self, other))
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "/")
        return _node(_DIV_CONST.forward(self.data, c), _DIV_CONST, (self,), c)

    def __rtruediv__(self, other: float) -> Value:
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "/")
        return _node(_RDIV_CONST.forward(self.data, c), _RDIV_CONST, (self,), c)

    def __pow__(self, other: Value | float, modulo: None = None) -> Value:
        if modulo is not None:
            raise TypeError("pow() with a modulus is not defined for Value")
        if isinstance(other, Value):
            return _node(_POW.forward(self.data, other.data), _POW, (self, other))
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "**")
        return _node(_POW_CONST.forward(self.data, c), _POW_CONST, (self,), c)

    def __rpow__(self, other: float) -> Value:
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "**")
        return _node(_RPOW_CONST.forward(self.data, c), _RPOW_CONST, (self,), c)

    def __abs__(self) -> Value:
        return _node(_ABS.forward(self.data), _ABS, (self,))

    def abs(self) -> Value:
        """``|x|``; the gradient at 0 is 0."""
        return self.__abs__()

    def exp(self) -> Value:
        """``e ** x``; ``inf`` above about 709.78."""
        return _node(_EXP.forward(self.data), _EXP, (self,))

    def log(self) -> Value:
        """Natural logarithm; ``-inf`` at 0 and ``nan`` below."""
        return _node(_LOG.forward(self.data), _LOG, (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _node(_TANH.forward(self.data), _TANH, (self,))

    def sigmoid(self) -> Value:
        """Logistic function ``1 / (1 + e**-x)``."""
        return _node(_SIGMOID.forward(self.data), _SIGMOID, (self,))

    def relu(self) -> Value:
        """``max(x, 0)``; the gradient at 0 is 0."""
        return _node(_RELU.forward(self.data), _RELU, (self,))

    def sin(self) -> Value:
        """Sine (radians); ``nan`` at ``±inf``."""
        return _node(_SIN.forward(self.data), _SIN, (self,))

    def cos(self) -> Value:
        """Cosine (radians); ``nan`` at ``±inf``."""
        return _node(_COS.forward(self.data), _COS, (self,))

    def sqrt(self) -> Value:
        """Square root, as ``self ** 0.5``."""
        return self**0.5

    # --- differentiation -------------------------------------------------------------------------

    def backward(self, gradient: float = 1.0) -> None:
        """Add ``gradient * d(self)/d(node)`` to ``node.grad`` for every node of this graph.

        Gradients accumulate: calling ``backward()`` twice gives exactly twice the gradients, and
        gradients already present (from another output, say) are added to. Reset leaves with
        ``v.grad = 0.0`` (or ``Module.zero_grad()``) between steps.

        The walk is iterative, so graphs of any depth work: first every node reachable from
        ``self`` has its consumers counted; then each node, once all its consumers have passed
        their contributions, passes its own to its parents (Kahn's algorithm). The order is fixed
        by the graph's structure alone, so results are bit-for-bit reproducible. The counts are
        kept on the nodes, so one ``backward()`` runs at a time (others wait). If it raises —
        in :func:`detect_anomaly` — gradients already passed on stay where they arrived.
        """
        seed = _to_float(gradient, "backward(gradient=...)")
        with _walking:
            _walk(self, seed, _anomaly_contexts > 0 and _ANOMALY.get())

    @staticmethod
    def dot(a: Sequence[Value | float], b: Sequence[Value | float]) -> Value:
        """``a[0] * b[0] + ... + a[n-1] * b[n-1]`` as one node: the registry operator ``dot``.

        Each product is rounded as ``a[i] * b[i]`` rounds it, and their sum is rounded once
        (exactly rounded, not added left to right); the gradients are those of the products.
        Numbers in ``a`` or ``b`` become new leaves.

        >>> Value.dot([Value(1e16), Value(1.0), Value(-1e16)], [1.0, 1.0, 1.0]).data
        1.0
        """
        if isinstance(a, (Value, str, bytes)) or isinstance(b, (Value, str, bytes)):
            raise TypeError("Value.dot takes two sequences of Values or numbers")
        if len(a) != len(b) or not a:
            raise ValueError(
                f"Value.dot takes two sequences of the same length >= 1, got {len(a)} and {len(b)}"
            )
        return _dot((*_as_values(a), *_as_values(b)))


def _as_values(xs: Iterable[Value | float]) -> tuple[Value, ...]:
    """``xs`` as Values: Values as they are, numbers as new leaves."""
    return tuple(x if isinstance(x, Value) else Value(x) for x in xs)


def _dot(operands: tuple[Value, ...]) -> Value:
    """``Value.dot(operands[:n], operands[n:])`` for Values the caller has checked."""
    return _node(_DOT.forward(*[v.data for v in operands]), _DOT, operands)


# --- the walk -----------------------------------------------------------------------------------
#
# During backward() an interior node's ``grad`` slot is where the contributions of its consumers
# are summed, in the order they arrive: it holds _UNSET until the first one (which is then stored
# as it is, as a dictionary of pending sums would) and ``_uses`` counts the consumers still to
# come. The gradient the node had before the walk is set aside (in ``carried``, unless it is the
# usual +0.0) and added back when the node is finished: ``grad = old + (d1 + d2 + ...)``, exactly.
#
# A leaf passes nothing on, so it is neither counted nor waited for: its contributions are added
# straight to its ``grad``, in the same order. From ±0.0 that is bit-for-bit ``old + (d1 + ...)``
# (adding to a zero changes at most the sign of a zero result, and so does adding ``old`` last);
# a leaf with any other gradient has it set aside, starts from -0.0 (-0.0 + d is d exactly) and
# gets it back at the end.

# "no contribution yet": tested by identity; as a value it is -0.0, which adds nothing (_restore)
_UNSET = float("-0.0")


def _walk(root: Value, seed: float, check: bool) -> None:
    """``root.backward(seed)``: count consumers, then pass gradients down (see above)."""
    if root._op is None:
        root.grad += seed
        return
    carried: dict[Value, float] = {}
    stack = [root]
    push, pop = stack.append, stack.pop
    try:
        while stack:  # count the consumers of every interior node
            for parent in pop()._prev:
                if parent._op is None:
                    if parent.grad:
                        carried[parent] = parent.grad
                        parent.grad = -0.0
                    continue
                n = parent._uses
                if not n:
                    old = parent.grad
                    if old or _copysign(1.0, old) < 0.0:  # anything but +0.0
                        carried[parent] = old
                    parent.grad = _UNSET
                    push(parent)
                parent._uses = n + 1

        old = root.grad
        if old or _copysign(1.0, old) < 0.0:
            carried[root] = old
        root.grad = seed
        push(root)
        while stack:  # pass gradients down, each node once all its consumers have passed theirs
            node = pop()
            g = node.grad
            if carried and node in carried:
                node.grad = carried.pop(node) + g
            else:
                node.grad = g or 0.0  # 0.0 + g (keeping g's float when g is not zero)
            contributions = node._op.vjp(node, g)  # type: ignore[union-attr]
            if check:
                _check_backward(node, g, contributions)
            # one contribution per operand (the tests check every vjp; a keyword doubles zip's cost)
            for parent, d in zip(node._prev, contributions):  # noqa: B905
                if parent._op is None:
                    parent.grad += d
                    continue
                acc = parent.grad
                parent.grad = d if acc is _UNSET else acc + d
                n = parent._uses - 1
                parent._uses = n
                if not n:
                    push(parent)
    except BaseException:
        _restore(root, carried, stack)
        raise
    for leaf, old in carried.items():
        leaf.grad = old + leaf.grad


def _restore(root: Value, carried: dict[Value, float], waiting: list[Value]) -> None:
    """After an interrupted walk: nodes keep their old gradient plus what they were passed."""
    unfinished = set(waiting)
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        if node._uses or node in unfinished or node.grad is _UNSET:
            # _UNSET is -0.0, the exact identity of +: nothing arrived leaves the old gradient as is
            node.grad = carried.pop(node, 0.0) + node.grad
            node._uses = 0
        for parent in node._prev:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    for node, old in carried.items():  # leaves (and an interior node not yet set aside)
        node.grad = old + node.grad if node._op is None else old


_ADD = _ops.ADD
_MUL = _ops.MUL
_DIV = _ops.DIV
_POW = _ops.POW
_NEG = _ops.NEG
_ADD_CONST = _ops.ADD_CONST
_MUL_CONST = _ops.MUL_CONST
_DIV_CONST = _ops.DIV_CONST
_RDIV_CONST = _ops.RDIV_CONST
_POW_CONST = _ops.POW_CONST
_RPOW_CONST = _ops.RPOW_CONST
_EXP = _ops.EXP
_LOG = _ops.LOG
_TANH = _ops.TANH
_SIGMOID = _ops.SIGMOID
_RELU = _ops.RELU
_ABS = _ops.ABS
_SIN = _ops.SIN
_COS = _ops.COS
_DOT = _ops.DOT

_new = object.__new__
_copysign = math.copysign
_walking = threading.Lock()  # backward() keeps its counts on the nodes: one walk at a time


def _node(data: float, op: Op, prev: tuple[Value, ...], arg: float | None = None) -> Value:
    """Make an interior node (no conversion or checks of ``data``: the rules return floats)."""
    v: Value = _new(Value)
    v.data = data
    v.grad = 0.0
    v._op = op
    v._prev = prev
    v._arg = arg
    v._uses = 0
    if _anomaly_contexts and _ANOMALY.get() and not math.isfinite(data):
        raise AnomalyError(f"{op.name} produced {data!r}: {_describe(v)}")
    return v


def _to_float(x: object, role: str) -> float:
    """``x`` as a float if it is a real number, else an error naming ``role``."""
    c = _operand(x, role)
    if c is None:
        kind = (
            "a Value (use the Value itself, or its .data)"
            if isinstance(x, Value)
            else type(x).__name__
        )
        raise TypeError(f"{role} takes a real number (int, float, Fraction, ...), got {kind}")
    return c


def _operand(x: object, role: str = "operand") -> float | None:
    """A number operand as a float, or ``None`` if ``x`` is not a real number."""
    if type(x) is float:
        return x
    if isinstance(x, int):  # bool included
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(
                f"{role}: an int of {x.bit_length()} bits is too large to convert to a float"
            ) from None
    if isinstance(x, Real):
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(f"{role}: {x!r:.40} is too large to convert to a float") from None
    return None


def _not_a_number(other: object, symbol: str) -> Value:
    """Reject a non-number operand, naming it.

    Unknown types get ``NotImplemented``, so they may implement the operation themselves (and
    Python's ``TypeError`` names both types if they do not). Sequences are rejected here: their
    reflected ``*`` would otherwise fail with a message about the Value, not about them.
    """
    if isinstance(other, (str, bytes, bytearray, list, tuple)):
        raise TypeError(
            f"unsupported operand type(s) for {symbol}: 'Value' and '{type(other).__name__}' "
            "(a Value combines with Values and real numbers)"
        )
    return NotImplemented  # type: ignore[no-any-return]


def _describe(node: Value) -> str:
    """``name(operands[, c=...])`` with the operand values, for error messages."""
    op = node._op
    assert op is not None
    args = [repr(p.data) for p in node._prev]
    if node._arg is not None:
        args.append(f"c={node._arg!r}")
    return f"{op.name}({', '.join(args)}) = {node.data!r}"


# --- anomaly mode -------------------------------------------------------------------------------

_ANOMALY: contextvars.ContextVar[bool] = contextvars.ContextVar("micrograd_anomaly", default=False)
_anomaly_contexts = 0  # open detect_anomaly() blocks in any thread: keeps the check free when 0
_anomaly_lock = threading.Lock()


@contextlib.contextmanager
def detect_anomaly(enabled: bool = True) -> Iterator[None]:
    """Within this block, the first non-finite value or gradient raises :class:`AnomalyError`.

    The error names the operator and its operands, e.g. ``log produced nan: log(-1.0) = nan``.
    The setting follows the current thread / async context; ``detect_anomaly(False)`` switches it
    off inside an enclosing block.
    """
    global _anomaly_contexts
    token = _ANOMALY.set(enabled)
    with _anomaly_lock:
        _anomaly_contexts += 1
    try:
        yield
    finally:
        with _anomaly_lock:
            _anomaly_contexts -= 1
        _ANOMALY.reset(token)


def _check_backward(node: Value, g: float, contributions: tuple[float, ...]) -> None:
    if len(contributions) != len(node._prev):
        raise AnomalyError(
            f"the vjp of {_describe(node)} gave {len(contributions)} gradients for "
            f"{len(node._prev)} operands"
        )
    for i, d in enumerate(contributions):
        if not math.isfinite(d):
            raise AnomalyError(
                f"gradient of {_describe(node)} with respect to operand {i} is {d!r} "
                f"(incoming gradient {g!r})"
            )
