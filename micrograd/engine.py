"""The scalar reverse-mode autograd engine: :class:`Value` and its graph walk."""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence, Set
from numbers import Real
from types import GeneratorType
from typing import ClassVar, Self

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
    ``_mark``, and ``_arg`` of a leaf, are :meth:`backward`'s bookkeeping: see the walk's contract
    in this module.)

    A value may carry a name, ``label``: ``Value(2.0, label="a")``, ``(a * b).named("e")`` or
    ``e.label = "e"``, shown by :mod:`micrograd.graph` and in ``repr``. Labels are kept outside
    the nodes, so a value without one costs nothing for them: naming a value gives it a type of
    its own, a subclass of its class with the same layout (``isinstance(v, Value)`` still holds,
    ``type(v) is Value`` no longer does), and its label lives in a table of this module that the
    value removes itself from when it is freed.
    """

    __slots__ = ("_arg", "_data", "_grad", "_mark", "_op", "_prev")

    # NumPy scalars on the left of an operator defer to Value's reflected operators.
    __array_ufunc__ = None

    _data: float
    _grad: float
    _op: Op | None
    _prev: tuple[Value, ...]
    _arg: float | None
    _mark: _Walk | _Tally
    _labelled: ClassVar[bool] = False  # True on the types of labelled values

    def __init__(self, data: float | Real, *, label: str | None = None) -> None:
        self._data = data if type(data) is float else _to_float(data, "Value()")
        self._grad = 0.0
        self._op = None
        self._prev = ()
        self._arg = None
        self._mark = _NO_WALK
        if label is not None:
            _set_label(self, label, "Value(label=...)")

    # --- value and gradient ----------------------------------------------------------------------

    @property
    def data(self) -> float:
        """The value, a Python ``float``; any real number may be assigned (it is converted)."""
        return self._data

    @data.setter
    def data(self, x: float | Real) -> None:
        self._data = _to_float(x, "Value.data")

    @property
    def grad(self) -> float:
        """The gradient :meth:`backward` accumulates, a Python ``float``; any real number may be
        assigned (``v.grad = 0.0`` resets it)."""
        return self._grad

    @grad.setter
    def grad(self, x: float | Real) -> None:
        self._grad = _to_float(x, "Value.grad")

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
        return None if self._op is None else self._arg  # a leaf's is backward()'s

    # --- names -----------------------------------------------------------------------------------

    @property
    def label(self) -> str | None:
        """This value's name, or ``None``: shown in graph pictures and in ``repr``.

        Assign a ``str`` to name the value, ``None`` or ``""`` to remove its name (the label is then
        ``None``); anything else is a ``TypeError``. Names need not be unique.
        """
        return _LABELS.get(id(self)) if self._labelled else None

    @label.setter
    def label(self, label: str | None) -> None:
        _set_label(self, label, "Value.label")

    def named(self, label: str | None) -> Self:
        """Set :attr:`label` and return this same value: ``e = (a * b).named("e")``."""
        _set_label(self, label, "Value.named(label)")
        return self

    def __reduce__(self) -> tuple[object, ...]:
        """For ``pickle`` and ``copy.deepcopy`` (of a model, say): the value, its gradient, how
        it was made and its label; not :meth:`backward`'s bookkeeping."""
        op, arg = (None, None) if self._op is None else (self._op.name, self._arg)
        return (_restored, (self._data, self._grad, op, self._prev, arg, self.label))

    def __repr__(self) -> str:
        op = "" if self._op is None else f", op={self._op.name!r}"
        name = _LABELS.get(id(self)) if self._labelled else None
        label = "" if name is None else f", label={name!r}"
        return f"Value(data={self._data!r}, grad={self._grad!r}{op}{label})"

    # --- arithmetic ------------------------------------------------------------------------------

    def __add__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _node(_ADD.forward(self._data, other._data), _ADD, (self, other))
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "+")
        return _node(_ADD_CONST.forward(self._data, c), _ADD_CONST, (self,), c)

    __radd__ = __add__  # c + x == x + c exactly

    def __mul__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _node(_MUL.forward(self._data, other._data), _MUL, (self, other))
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "*")
        return _node(_MUL_CONST.forward(self._data, c), _MUL_CONST, (self,), c)

    __rmul__ = __mul__  # c * x == x * c exactly

    def __neg__(self) -> Value:
        return _node(_NEG.forward(self._data), _NEG, (self,))

    def __pos__(self) -> Value:
        return self

    def __sub__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return self + (-other)  # a - b == a + (-b) exactly
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "-")
        return _node(_ADD_CONST.forward(self._data, -c), _ADD_CONST, (self,), -c)

    def __rsub__(self, other: float) -> Value:
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "-")
        return -self + c  # c - x == (-x) + c exactly

    def __truediv__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _node(_DIV.forward(self._data, other._data), _DIV, (self, other))
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "/")
        return _node(_DIV_CONST.forward(self._data, c), _DIV_CONST, (self,), c)

    def __rtruediv__(self, other: float) -> Value:
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "/")
        return _node(_RDIV_CONST.forward(self._data, c), _RDIV_CONST, (self,), c)

    def __pow__(self, other: Value | float, modulo: None = None) -> Value:
        if modulo is not None:
            raise TypeError("pow() with a modulus is not defined for Value")
        if isinstance(other, Value):
            return _node(_POW.forward(self._data, other._data), _POW, (self, other))
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "**")
        return _node(_POW_CONST.forward(self._data, c), _POW_CONST, (self,), c)

    def __rpow__(self, other: float) -> Value:
        c = other if type(other) is float else _operand(other)
        if c is None:
            return _not_a_number(other, "**")
        return _node(_RPOW_CONST.forward(self._data, c), _RPOW_CONST, (self,), c)

    def __abs__(self) -> Value:
        return _node(_ABS.forward(self._data), _ABS, (self,))

    def abs(self) -> Value:
        """``|x|``; the gradient at 0 is 0."""
        return self.__abs__()

    def exp(self) -> Value:
        """``e ** x``; ``inf`` above about 709.78."""
        return _node(_EXP.forward(self._data), _EXP, (self,))

    def log(self) -> Value:
        """Natural logarithm; ``-inf`` at 0 and ``nan`` below."""
        return _node(_LOG.forward(self._data), _LOG, (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _node(_TANH.forward(self._data), _TANH, (self,))

    def sigmoid(self) -> Value:
        """Logistic function ``1 / (1 + e**-x)``."""
        return _node(_SIGMOID.forward(self._data), _SIGMOID, (self,))

    def relu(self) -> Value:
        """``max(x, 0)``; the gradient at 0 is 0."""
        return _node(_RELU.forward(self._data), _RELU, (self,))

    def sin(self) -> Value:
        """Sine (radians); ``nan`` at ``±inf``."""
        return _node(_SIN.forward(self._data), _SIN, (self,))

    def cos(self) -> Value:
        """Cosine (radians); ``nan`` at ``±inf``."""
        return _node(_COS.forward(self._data), _COS, (self,))

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
        by the graph's structure alone, so results are bit-for-bit reproducible.

        Each gradient is assigned once, its final value, so a walk stopped by an exception
        (:class:`AnomalyError`, ``KeyboardInterrupt``, ...) leaves every gradient either as it was
        or final, and the next call is correct. Walks of disjoint graphs run at the same time
        (threads, signal handlers); a call that needs a node of a walk running in another thread
        waits for it, one that needs a node of a walk this thread is running (from a signal
        handler inside it) raises ``RuntimeError``.
        """
        seed = _to_float(gradient, "backward(gradient=...)")
        _walk(self, seed, _anomaly_contexts > 0 and _ANOMALY.get())

    @staticmethod
    def dot(a: Iterable[Value | float], b: Iterable[Value | float]) -> Value:
        """``a[0] * b[0] + ... + a[n-1] * b[n-1]`` as one node: the registry operator ``dot``.

        Each product is rounded as ``a[i] * b[i]`` rounds it, and their sum is rounded once
        (exactly rounded, not added left to right); the gradients are those of the products.
        Numbers in ``a`` or ``b`` become new leaves.

        >>> Value.dot([Value(1e16), Value(1.0), Value(-1e16)], [1.0, 1.0, 1.0]).data
        1.0
        """
        xs = _ordered(a, "Value.dot(a)", "Values or numbers")
        ys = _ordered(b, "Value.dot(b)", "Values or numbers")
        if len(xs) != len(ys) or not xs:
            raise ValueError(
                f"Value.dot takes two sequences of the same length >= 1, got {len(xs)} and "
                f"{len(ys)}"
            )
        return _dot((*_as_values(xs), *_as_values(ys)))  # type: ignore[arg-type]


# --- labels -------------------------------------------------------------------------------------
#
# A labelled value's label is in _LABELS, under its id(). Its type is _labelled_type(its class):
# that class with no slots of its own (so __class__ can be assigned either way) and a __del__
# that removes the entry before the value's memory, and so its id, can be reused. Reading a
# label asks the type first, so an entry a value could not remove (one resurrected by a
# finalizer, say) is never read for another value; labelling always overwrites the entry.

_LABELS: dict[int, str] = {}
_LABELLED_TYPES: dict[type[Value], type[Value]] = {}


def _set_label(v: Value, label: object, role: str) -> None:
    """Give ``v`` the name ``label`` (``None`` or ``""``: no name), checked, for ``role``."""
    if label is not None and not isinstance(label, str):
        raise TypeError(f"{role} takes a str or None, got {type(label).__name__}")
    cls = type(v)
    if not label:
        if cls._labelled:
            v.__class__ = cls.__base__  # type: ignore[assignment]
            _LABELS.pop(id(v), None)
        return
    if not cls._labelled:
        v.__class__ = _labelled_type(cls)  # first, so that the value will remove its entry
    _LABELS[id(v)] = str(label)


def _labelled_type(cls: type[Value]) -> type[Value]:
    """The type of labelled values of class ``cls``: a subclass with the same layout."""
    labelled = _LABELLED_TYPES.get(cls)
    if labelled is None:
        inherited = getattr(cls, "__del__", None)
        forget = _LABELS.pop  # bound now: module globals may be gone when a value is freed late

        def __del__(self: Value) -> None:
            forget(id(self), None)
            if inherited is not None:
                inherited(self)

        namespace = {
            "__slots__": (),
            "__module__": cls.__module__,
            "__qualname__": f"{cls.__qualname__}[labelled]",
            "__doc__": cls.__doc__,
            "_labelled": True,
            "__del__": __del__,
        }
        labelled = _LABELLED_TYPES[cls] = type(cls.__name__, (cls,), namespace)
    return labelled


def _ordered(xs: object, role: str, of: str) -> Sequence[object]:
    """The items of ``xs``, in order: any iterable (a list, a tuple, a NumPy array, a generator)
    but a lone Value, a string, or an unordered collection (a set, or a dict: its keys)."""
    if type(xs) is list or type(xs) is tuple:  # the usual case, without the ABC checks below
        return xs
    if isinstance(xs, (Value, str, bytes, bytearray)) or not isinstance(xs, Iterable):
        raise TypeError(f"{role} takes a sequence of {of}, got {type(xs).__name__}")
    if isinstance(xs, (Set, Mapping)):
        raise TypeError(
            f"{role} takes a sequence of {of}, got a {type(xs).__name__}, which has no order of "
            "its own (make it a list in the order you mean)"
        )
    return tuple(xs)


def _as_values(xs: Iterable[Value | float]) -> tuple[Value, ...]:
    """``xs`` as Values: Values as they are, numbers as new leaves."""
    return tuple(x if isinstance(x, Value) else Value(x) for x in xs)


def _dot(operands: tuple[Value, ...]) -> Value:
    """``Value.dot(operands[:n], operands[n:])`` for Values the caller has checked."""
    return _node(_DOT.forward(*[v._data for v in operands]), _DOT, operands)


# --- the walk -----------------------------------------------------------------------------------
#
# backward() is Kahn's algorithm: count the consumers every interior node has in the graph; then,
# from the output down, finish each node once all its consumers have passed it their
# contributions, and pass its own to its operands. What it promises, also when an exception (a
# KeyboardInterrupt, an AnomalyError, ...) stops it at any point:
#
#   Each gradient is assigned once, with its final value ``old + (d1 + d2 + ...)`` (the
#   contributions added in the order they arrive, which the graph's structure alone fixes): an
#   interior node's when the walk finishes it, the leaves' at the end. Nothing else of a node
#   changes but its mark. So after an interrupted walk each gradient is either as it was or
#   final, nothing is left to undo, and the next backward() is correct.
#
# The bookkeeping is local to the walk (a stack of finished nodes with their gradients, a list
# of the leaves) but for one slot, the node's ``_mark``: the walk that last reached the node
# or, for a node with several consumers, a _Tally of that walk (the contributions summed so far,
# from -0.0, which adds nothing, and the consumers still to come). A leaf's sum so far is in its
# ``_arg`` slot, which only ``*_const`` nodes use otherwise. A walk reads a tally or a leaf's sum
# only if the node's mark is its own, and sets it when it marks the node, so a mark means nothing
# once its walk has stopped: there is nothing to reset, so nothing an exception could leave
# half reset. (Dictionaries of every node would do the same in more memory and time: the
# benchmark's ``y = y * c + d`` chain takes 610 bytes a step at peak with them, 328 with marks,
# and the demo step 16% longer.)
#
# Two walks must not share a node while both run. A walk that reaches a node whose mark is a
# walk still running (in this process: a fork copies marks, not threads) gives up before it has
# changed any gradient. backward() then raises RuntimeError if that walk runs in this thread (a
# signal handler or a finalizer called backward(): that walk can only go on once this call
# returns), or waits for it to end and starts again if it runs in another thread. Walks of
# disjoint graphs never wait for each other. A walk runs as a generator, so ``gi_running``,
# kept by the interpreter, says whether it runs: there is no flag to clear at the end, which an
# exception could skip. CPython (with its GIL) switches threads and runs signal handlers only at
# calls and backward jumps: between reading a mark and writing its own, a walk makes neither, so
# no other walk can take the node in between.


_getpid = os.getpid
_get_ident = threading.get_ident
_sleep = time.sleep


class _Walk:
    """One attempt of a backward() call; as a node's mark, "reached by this walk"."""

    __slots__ = ("pid", "run", "thread", "walk")

    def __init__(self) -> None:
        self.walk = self  # a mark's walk: the walk itself, or a tally's
        self.pid = _getpid()
        self.thread = _get_ident()
        self.run: GeneratorType[None, None, _Walk | None] = _STOPPED


class _Tally:
    """The mark of an interior node with several consumers, in the walk ``walk``."""

    __slots__ = ("sum", "uses", "walk")

    sum: float  # of the contributions so far, from -0.0
    uses: int  # consumers still to pass their contribution
    walk: _Walk


def _stopped() -> Generator[None, None, _Walk | None]:
    yield from ()
    return None


_STOPPED: GeneratorType[None, None, _Walk | None] = _stopped()  # type: ignore[assignment]

_NO_WALK = _Walk()  # the mark of a node no walk has reached


def _walk(root: Value, seed: float, check: bool) -> None:
    """``root.backward(seed)``: run the walk, waiting for walks of other threads it meets."""
    while True:
        w = _Walk()
        w.run = _steps(w, root, seed, check)  # type: ignore[assignment]
        try:
            next(w.run)  # the whole walk: _steps never yields
        except StopIteration as stop:
            other: _Walk | None = stop.value
        if other is None:
            return
        if other.thread == w.thread:
            raise RuntimeError(
                "backward() cannot walk a graph while another backward() call of this thread "
                "walks it (this one was called from a signal handler or a finalizer inside that "
                "walk, which can only go on once this call returns)"
            )
        while other.run.gi_running:
            _sleep(0.0002)


def _steps(w: _Walk, root: Value, seed: float, check: bool) -> Generator[None, None, _Walk | None]:
    """The walk: returns ``None`` when done, or a running walk that holds one of its nodes."""
    yield from ()  # makes this a generator, for ``gi_running``; it never yields
    pid = w.pid
    owner = root._mark.walk
    if owner.run.gi_running and owner.pid == pid:
        return owner
    root._mark = w
    if root._op is None:  # a leaf: nothing to pass on
        root._grad = _plus(root._grad, seed)
        return None

    leaves: list[Value] = []
    new = _NO_WALK  # the mark of a node no walk has reached: most nodes, as graphs are rebuilt
    stack = [root]
    push, pop = stack.append, stack.pop
    while stack:  # count the consumers of every interior node, marking each node reached
        for parent in pop()._prev:
            if parent._op is None:  # a leaf
                if parent._mark is not w:  # reached for the first time
                    owner = parent._mark.walk
                    if owner.run.gi_running and owner.pid == pid:
                        return owner
                    parent._mark = w
                    parent._arg = -0.0  # a leaf's slot for the sum of its contributions
                    leaves.append(parent)
                continue
            mark = parent._mark
            if mark is new:  # an interior node reached for the first time
                parent._mark = w
                push(parent)
            elif mark is w:  # a second consumer
                tally = _new(_Tally)
                tally.sum = -0.0
                tally.uses = 2
                tally.walk = w
                parent._mark = tally
            elif mark.walk is w:  # a third one, or more
                mark.uses += 1  # type: ignore[union-attr]
            else:  # reached for the first time, marked by an earlier walk
                owner = mark.walk
                if owner.run.gi_running and owner.pid == pid:
                    return owner
                parent._mark = w
                push(parent)
    todo = [(root, seed)]  # finished nodes, each with its gradient d1 + d2 + ...
    put, take = todo.append, todo.pop
    while todo:  # finish each node, then pass its contributions on
        node, g = take()
        old = node._grad
        node._grad = old + g if old or not g else g  # ±0.0 + g is g: no new float a node
        contributions = node._op.vjp(node, g)  # type: ignore[union-attr]
        if check:
            _check_backward(node, g, contributions)
        # one contribution per operand (the tests check every vjp; a keyword doubles zip's cost)
        for parent, d in zip(node._prev, contributions):  # noqa: B905
            if parent._op is None:  # a leaf: its gradient is assigned at the end
                parent._arg += d
                continue
            mark = parent._mark
            if mark is w:  # the only consumer of an interior node: it is finished
                put((parent, d))
                continue
            mark.sum += d  # type: ignore[union-attr]
            n = mark.uses - 1  # type: ignore[union-attr]
            mark.uses = n  # type: ignore[union-attr]
            if not n:  # the last of several consumers
                put((parent, mark.sum))  # type: ignore[union-attr]
                parent._mark = w
    for leaf in leaves:
        leaf._grad = _plus(leaf._grad, leaf._arg)  # type: ignore[arg-type]
        leaf._arg = None
    return None


def _plus(old: float, g: float) -> float:
    """``old + g``, keeping ``g``'s float when ``old`` is a zero (the walk's loop has it inline)."""
    return old + g if old or not g else g


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


def _node(data: float, op: Op, prev: tuple[Value, ...], arg: float | None = None) -> Value:
    """Make an interior node (no conversion or checks of ``data``: the rules return floats)."""
    v: Value = _new(Value)
    v._data = data
    v._grad = 0.0
    v._op = op
    v._prev = prev
    v._arg = arg
    v._mark = _NO_WALK
    if _anomaly_contexts and _ANOMALY.get() and not math.isfinite(data):
        raise AnomalyError(f"{op.name} produced {data!r}: {_describe(v)}")
    return v


def _restored(
    data: float,
    grad: float,
    op: str | None,
    prev: tuple[Value, ...],
    arg: float | None,
    label: str | None,
) -> Value:
    """A value as :meth:`Value.__reduce__` describes it."""
    v: Value = _new(Value)
    v._data, v._grad, v._prev, v._arg, v._mark = data, grad, prev, arg, _NO_WALK
    v._op = None if op is None else _ops.OPS[op]
    if label is not None:
        _set_label(v, label, "Value (unpickled)")
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
    if type(x).__name__ == "bool" and type(x).__module__ == "numpy":  # NumPy's bool, not an int
        return 1.0 if x else 0.0
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
    args = [repr(p._data) for p in node._prev]
    if node._arg is not None:
        args.append(f"c={node._arg!r}")
    return f"{op.name}({', '.join(args)}) = {node._data!r}"


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
