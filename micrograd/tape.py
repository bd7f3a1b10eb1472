"""Record the graph of a computation once, replay it for new leaf values: forward and backward.

A training loop rebuilds the same graph every step and walks it. :func:`record` calls a function
that builds the graph, once, and keeps it as flat arrays: a :class:`Tape`. The tape then replays
that computation for the current ``.data`` of the leaves it was given (parameters after an SGD
update, new inputs) and adds the gradients into their ``.grad``, as ``backward()`` on a freshly
built graph would, bit for bit:

>>> from micrograd import Value, record
>>> x, w = Value(2.0), Value(-3.0)
>>> tape = record(lambda: (x * w + 1.0).relu() + w * w, [x, w])
>>> tape.run(), x.grad, w.grad  # forward, then backward: the value, and the gradients added
(9.0, 0.0, -6.0)
>>> x.data, w.grad = -2.0, 0.0
>>> tape.run(), x.grad, w.grad
(16.0, -3.0, -8.0)

**What is replayed.** Values come from each operator's ``forward`` rule, gradients from its
``vjp``: the registry's rules themselves, or their :class:`~micrograd.ops.Replay` templates
(:attr:`micrograd.Op.replay`), which the tests check against the rules bit for bit. Gradients
are summed as :meth:`Value.backward <micrograd.Value.backward>` sums them: the walk's order (its
stack of finished nodes) is worked out once, when recording, from the graph's structure, which
alone fixes it; each sum is then the same float additions in the same order: the contributions
to a node with several consumers, and a leaf's, added from ``-0.0`` in the order the walk passes
them, and a leaf's sum added to its gradient as ``old + s`` (``s`` itself where ``old`` is a
zero). Signed zeros, ``inf`` and ``nan`` come out as the engine's (a ``nan``'s sign and payload,
which CPython does not fix, aside).

**What is recorded.** The leaves given to :func:`record` are the tape's variables: it reads their
``.data`` on every forward pass and adds into their ``.grad``. Every other leaf of the graph is a
constant of the tape, with the value it had when recorded: the numbers ``fn`` turns into leaves
(``Value.dot`` with numbers, a neuron's constant input 1.0, ``sum(..., Value(0.0))``) and Values
``fn`` reads from elsewhere; so is a node that depends on constants only. Pass a leaf whose value
changes between replays in ``leaves``. Interior nodes are not kept: the tape holds floats, not
Values; it writes no interior node's gradient (``backward()`` on a graph built anew gives each
the sum of its contributions, which nothing reads), and the Value ``fn`` returned when recording
keeps its recorded value. Gradients that flow into constants are not computed.

**Graphs that depend on the data.** The tape is the graph ``fn`` built when recorded, as
``torch.jit.trace`` records one path: a branch on a value (``if x.data > 0``), a loop whose length
depends on one, is not taken again. (Operators are not branches: ``relu``'s rule is a select, and
replays follow it at any value.) ``record(fn, leaves, check=n)`` calls ``fn`` again on each of the
first ``n`` replays and raises :class:`StructureError` if the graph it builds differs from the
recorded one (another operator, other operands, another constant), or if it reuses an interior
node made outside ``fn`` (which a replay recomputes from the leaves and a rebuilt graph would not).

**Two ways to replay.** The interpreter (``mode="interpret"``) runs the graph in waves of nodes
that do not depend on each other, each wave a few C-level calls (``map`` of the operator's
``forward`` over columns of operands, then of its vjp templates over columns of gradients); it is
ready as soon as the graph is recorded. Generated code (``mode="generate"``) is the whole forward
pass and the whole backward walk as straight-line Python, each node written out from its
templates; compiling it costs about as much as the time it saves over 150 replays of the demo
step (:attr:`Tape.codegen_seconds`), after which a replay takes about a third of an interpreted
one. (CPython specializes a function after its first 8 calls: the first replays of generated code
are about a quarter slower.) ``mode="auto"``, the default, interprets the first
:data:`GENERATE_AFTER` replays, then generates the code. :attr:`Tape.record_seconds` is the cost
of recording.

**Anomaly mode.** Within :func:`micrograd.detect_anomaly`, the tape does not replay: it calls
``fn`` and runs the dynamic engine (``forward`` builds the graph, ``backward`` walks it), so the
:class:`~micrograd.AnomalyError` raised is the engine's own, naming the node.

A tape is not safe to use from several threads at once, and its replays do not take part in the
engine's protection of walks that share nodes: do not replay it while a ``backward()`` of another
thread walks a graph of the same leaves.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, get_args

from . import engine as _engine
from ._codegen import forward_source, generate
from ._graph import Walk, difference, nodes, signature, trace
from ._interpreter import Interpreter, template_fields
from .engine import Value
from .ops import OPS, REPLAY_NAMES, Op

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["GENERATE_AFTER", "Batch", "Mode", "StructureError", "Tape", "coverage", "record"]

Mode = Literal["auto", "interpret", "generate"]
"""How a tape replays: ``"interpret"``, ``"generate"`` (straight-line code), or ``"auto"``."""

_MODES: Final = get_args(Mode)

#: Under ``mode="auto"``, how many replays are interpreted before the code is generated (on the
#: next one). Generating it costs about as much as the time it then saves over 60 (a chain of
#: single nodes) to 160 (the demo step) replays (benchmarks/RESULTS.md): waiting for 100 replays
#: keeps any run within about twice the cost of the better mode chosen from the start.
GENERATE_AFTER: Final = 100


class StructureError(RuntimeError):
    """The graph ``fn`` builds on a replay differs from the one its tape recorded."""


def coverage(ops: Mapping[str, Op] = OPS) -> list[str]:
    """What the operators of ``ops`` lack for a tape, one readable line per problem (empty when
    every operator can be recorded): a replay rule (:attr:`micrograd.Op.replay`), one ``vjp``
    template per operand (per operand group), templates that compile and call only the functions
    of :data:`micrograd.ops.REPLAY_NAMES` or builtins."""
    problems = []
    for name, op in ops.items():
        rule = op.replay
        if rule is None:
            problems.append(
                f"operator {name!r} has no replay rule (Op.replay in micrograd/ops.py: its forward "
                "and vjp as source templates), so a tape cannot record it"
            )
            continue
        parts = op.arity if op.arity >= 0 else op.groups
        what = "operand(s)" if op.arity >= 0 else "operand group(s)"
        if len(rule.vjp) != parts:
            problems.append(
                f"operator {name!r}: its replay rule has {len(rule.vjp)} vjp template(s) for "
                f"{parts} {what}"
            )
        templates = [("forward", rule.forward), *(("vjp", t) for t in rule.vjp)]
        if rule.term:
            if op.arity >= 0:
                problems.append(f"operator {name!r}: a term template is for variadic operators")
                continue
            templates.append(("term", rule.term))
        for role, template in templates:
            problem = _template_problem(op, template, role)
            if problem:
                problems.append(
                    f"operator {name!r}: its replay {role} template {template!r} {problem}"
                )
    return problems


def _template_problem(op: Op, template: str, role: str) -> str:
    """Why ``template``, ``op``'s replay template for ``role`` (``"forward"``, ``"vjp"`` or
    ``"term"``), is not a valid one, or ``""``."""
    rule = op.replay
    assert rule is not None
    parts = op.arity if op.arity >= 0 else op.groups
    allowed = {str(i) for i in range(parts)}
    if role != "term" and op.has_const:
        allowed.add("c")
    if role == "vjp":
        allowed |= {"g", "out"}
    elif role == "forward" and rule.term:
        allowed.add("terms")
    try:
        fields = set(template_fields(template))
    except ValueError as e:
        return f"is not a format string ({e})"
    unknown = sorted(fields - allowed)
    if unknown:
        used = ", ".join("{" + f + "}" for f in unknown)
        return f"uses {used}, which it cannot ({_fields(allowed)})"
    if role == "forward" and rule.term and "terms" not in fields:
        return f"does not use {{terms}}, though the rule has a term ({rule.term!r})"
    if role == "forward" and rule.term and _template_problem(op, rule.term, "term"):
        return ""  # it is written out with the term, whose own problem is named
    xs = [f"x{i}" for i in range(2 * parts)]
    try:
        if role == "forward":
            text = forward_source(op, xs if op.arity < 0 else xs[:parts], "c")
        else:
            text = template.format(*xs, g="g", out="out", c="c")
        code = compile(text, "<template>", "eval")
    except (SyntaxError, ValueError, IndexError, KeyError) as e:
        return f"is not a Python expression ({getattr(e, 'msg', e)})"
    names = set(code.co_names) - set(xs) - {"g", "out", "c"}
    strange = sorted(n for n in names if n not in REPLAY_NAMES and not hasattr(builtins, n))
    if strange:
        return f"calls {', '.join(strange)}, which is neither in REPLAY_NAMES nor a builtin"
    return ""


def _fields(allowed: set[str]) -> str:
    return "it may use " + ", ".join("{" + f + "}" for f in sorted(allowed))


# --- the tape -----------------------------------------------------------------------------------


_CHECKED: dict[Op, list[str]] = {}  # coverage() of each operator recorded so far


class Batch(NamedTuple):
    """What :meth:`Tape.batch` returns: NumPy arrays, a column per point."""

    values: npt.NDArray[np.float64]
    """The output at each point, shape ``(n,)``."""
    grads: npt.NDArray[np.float64]
    """Shape ``(len(tape.leaves), n)``: row ``j`` holds ``tape.leaves[j]``'s gradient at each
    point, as ``backward(gradient)`` on that point's graph leaves it from a zero ``.grad``."""


class Tape:
    """A recorded computation, replayed for the current values of its leaves; made by
    :func:`record` (see :mod:`micrograd.tape` for the contract)."""

    def __init__(
        self,
        fn: Callable[[], Value],
        leaves: tuple[Value, ...],
        mode: Mode,
        check: int,
        out: Value,
        seconds: float,
    ) -> None:
        t0 = time.perf_counter()
        self._fn = fn
        self._name = _name(fn)
        self._leaves = leaves
        self._leaf_slots = {id(leaf): i for i, leaf in enumerate(leaves)}
        order, others = nodes(out, self._leaf_slots)
        graph = trace(out, self._leaf_slots, order, others)
        for op in dict.fromkeys(graph.ops):
            problems = _CHECKED.get(op)
            if problems is None:
                problems = _CHECKED[op] = coverage({op.name: op})
            if problems:
                raise ValueError(
                    f"record(fn={self._name}): the graph has a node a tape cannot replay: "
                    + "; ".join(problems)
                )
        self._graph = graph
        self._walk = Walk(graph)
        self._interpreter = Interpreter(graph, self._walk, [leaf._data for leaf in leaves])
        self._auto = mode == "auto"
        self._checks = check
        # for the structure check: the recorded structure, and its nodes (is a node fn's own?)
        self._signature = signature(out, self._leaf_slots, order, others) if check else []
        self._recorded = order if check else []
        self._generated: tuple[Callable[..., Any], Callable[..., Any]] | None = None
        self._saved: Any = None  # what the generated backward reads, from its forward
        self._dynamic: Value | None = None  # the output of a forward run by the engine
        self._replays = 0
        self._codegen_seconds: float | None = None
        self._program: Any = None  # the batched replay's, made on the first batch()
        self._record_seconds = seconds + time.perf_counter() - t0
        if mode == "generate":
            self._generate()

    # --- what it is ------------------------------------------------------------------------------

    @property
    def leaves(self) -> tuple[Value, ...]:
        """The leaves given to :func:`record`, in order: read by every forward pass, their
        gradients added to by every backward pass."""
        return self._leaves

    @property
    def nodes(self) -> int:
        """How many interior nodes a replay computes (nodes of constants only are not replayed)."""
        return len(self._graph.ops)

    @property
    def mode(self) -> Literal["interpret", "generate"]:
        """How the next replay runs: ``"generate"`` once the code is generated, else
        ``"interpret"``."""
        return "interpret" if self._generated is None else "generate"

    @property
    def replays(self) -> int:
        """How many forward passes (:meth:`forward`, :meth:`run`) this tape has replayed."""
        return self._replays

    @property
    def record_seconds(self) -> float:
        """What recording took: calling ``fn`` and laying out the graph, its walk and the
        interpreter's program."""
        return self._record_seconds

    @property
    def codegen_seconds(self) -> float | None:
        """What generating and compiling the code took; ``None`` until it is generated."""
        return self._codegen_seconds

    def __repr__(self) -> str:
        return (
            f"<Tape of {self._name}: {self.nodes} nodes, {len(self._leaves)} leaves, "
            f"{self.mode}, {self._replays} replays>"
        )

    # --- replaying -------------------------------------------------------------------------------

    def forward(self) -> float:
        """The output's value for the leaves' current ``.data``, kept for :meth:`backward`."""
        if _anomaly():
            out = self._dynamic = _call(self._fn, self._name)
            return out._data
        return self._forward()

    def backward(self, gradient: float = 1.0) -> None:
        """Add ``gradient * d(output)/d(leaf)`` to each leaf's ``.grad``, at the values of the
        last :meth:`forward` (of the recording, before any), bit for bit as ``backward(gradient)``
        on the graph ``fn`` builds at those values. Leaves the output does not depend on keep
        their gradients."""
        seed = _engine._to_float(gradient, "Tape.backward(gradient=...)")
        if self._dynamic is not None or _anomaly():
            out = self._dynamic if self._dynamic is not None else _call(self._fn, self._name)
            out.backward(seed)
            return
        self._backward(seed)

    def run(self, gradient: float = 1.0) -> float:
        """:meth:`forward`, then :meth:`backward`: returns the output's value."""
        seed = _engine._to_float(gradient, "Tape.run(gradient=...)")
        if _anomaly():
            out = self._dynamic = _call(self._fn, self._name)
            out.backward(seed)
            return out._data
        value = self._forward()
        self._backward(seed)
        return value

    def batch(
        self, points: Mapping[Value, Sequence[float] | npt.ArrayLike], gradient: float = 1.0
    ) -> Batch:
        """Replay the tape for ``n`` points at once, with NumPy (the extra ``batch``).

        ``points`` maps some of the tape's leaves to ``n`` values each; every other leaf keeps
        its ``.data`` at every point. Point ``i`` is the computation with each leaf in
        ``points`` at its ``i``-th value: its output and its leaves' gradients are, bit for bit,
        what :meth:`run` gives for that point alone (``Batch.grads`` from a zero ``.grad``). The
        leaves are left as they are: no ``.data`` or ``.grad`` is written. Sum the gradient rows
        of shared leaves (parameters) yourself, in the order and precision you choose.

        Every wave of the interpreter runs as array operations over the points, from the same
        replay templates; the functions without a known array form (``exp``, ``tanh``, ...) are
        applied to each element, which is correct and slower. Within
        :func:`~micrograd.detect_anomaly`, each point runs through ``fn`` and the dynamic engine
        instead, so that an :class:`~micrograd.AnomalyError` names the node (and the point).

        Raises:
            TypeError: ``points`` is not a mapping of Values to sequences of numbers;
                ``gradient`` is not a number.
            ValueError: a key is not one of the tape's leaves; the sequences are empty, not
                one-dimensional, or of different lengths.
            ImportError: NumPy is not installed.
        """
        seed = _engine._to_float(gradient, "Tape.batch(gradient=...)")
        try:
            import numpy as np
        except ImportError as error:
            from ._install import install_command

            raise ImportError(f"Tape.batch() needs NumPy: {install_command('batch')}") from error
        if not isinstance(points, Mapping):
            raise TypeError(
                f"Tape.batch(points): takes a mapping of the tape's leaves to sequences of "
                f"values, got {type(points).__name__}"
            )
        columns: dict[int, Any] = {}
        n = -1
        for leaf, given in points.items():
            if not isinstance(leaf, Value):
                raise TypeError(
                    f"Tape.batch(points): a key is a {type(leaf).__name__}, not a Value"
                )
            slot = self._leaf_slots.get(id(leaf))
            if slot is None:
                raise ValueError(f"Tape.batch(points): {leaf!r} is not one of the tape's leaves")
            column = np.asarray(given)
            if column.dtype.kind not in "iuf":
                raise TypeError(
                    f"Tape.batch(points): the values of leaves[{slot}] are not real numbers "
                    f"(dtype {column.dtype})"
                )
            if column.ndim != 1 or not len(column) or n not in (-1, len(column)):
                raise ValueError(
                    f"Tape.batch(points): the values of leaves[{slot}] have shape "
                    f"{column.shape}; every leaf takes one value per point, the same number of "
                    f"points each{f' ({n})' if n > 0 else ''}, at least one"
                )
            n = len(column)
            columns[slot] = column.astype(np.float64)
        if n < 0:
            raise ValueError("Tape.batch(points): takes at least one leaf with its values")
        if _anomaly():
            return self._batch_dynamic(columns, n, seed)
        rows = np.empty((len(self._leaves), n))
        rows[:] = np.array([leaf._data for leaf in self._leaves])[:, None]
        for j, column in columns.items():
            rows[j] = column
        if self._program is None:
            from ._batch import Program

            self._program = Program(self._graph, self._walk)
        values, grads = self._program.run(rows, seed)
        return Batch(values, grads)

    def _batch_dynamic(self, columns: Mapping[int, Any], n: int, seed: float) -> Batch:
        """:meth:`batch` in anomaly mode: each point through ``fn`` and ``backward()``."""
        import numpy as np

        leaves = self._leaves
        saved = [(leaf._data, leaf._grad) for leaf in leaves]
        values, grads = np.empty(n), np.empty((len(leaves), n))
        try:
            for i in range(n):
                for j, column in columns.items():
                    leaves[j]._data = float(column[i])
                for leaf in leaves:
                    leaf._grad = 0.0
                out = _call(self._fn, self._name)
                try:
                    out.backward(seed)
                except Exception as error:
                    error.add_note(f"(at point {i} of Tape.batch)")
                    raise
                values[i] = out._data
                grads[:, i] = [leaf._grad for leaf in leaves]
        finally:
            for leaf, (data, grad) in zip(leaves, saved, strict=True):
                leaf._data, leaf._grad = data, grad
        return Batch(values, grads)

    def _forward(self) -> float:
        if self._checks:
            self._check()
        self._replays += 1
        if self._auto and self._generated is None and self._replays > GENERATE_AFTER:
            self._generate()
        self._dynamic = None
        if self._generated is not None:
            value, self._saved = self._generated[0](self._leaves)
            return float(value)
        self._saved = None
        return self._interpreter.forward(self._leaves)

    def _backward(self, seed: float) -> None:
        graph = self._graph
        if graph.root < graph.base:  # the output is a leaf or a constant: no node to walk
            if graph.root < graph.n_leaves:
                leaf = self._leaves[graph.root]
                leaf._grad = _engine._plus(leaf._grad, seed)
        elif self._saved is not None:
            assert self._generated is not None
            self._generated[1](self._leaves, self._saved, seed)
        else:
            self._interpreter.backward(self._leaves, seed)

    def _generate(self) -> None:
        t0 = time.perf_counter()
        forward, backward, _ = generate(self._graph, self._walk)
        self._generated = (forward, backward)
        self._codegen_seconds = time.perf_counter() - t0

    def _check(self) -> None:
        """Call ``fn`` again and compare the graph it builds with the recorded one."""
        self._checks -= 1
        replay = self._replays + 1
        out = _call(self._fn, self._name)
        order, others = nodes(out, self._leaf_slots)
        problem = difference(self._signature, signature(out, self._leaf_slots, order, others))
        if not problem:
            mine = {id(node) for node in self._recorded}
            for k, node in enumerate(order):
                if id(node) in mine:
                    assert node._op is not None
                    problem = (
                        f"node {k} ({node._op.name}) is the same Value in both, made before fn "
                        "was recorded: a replay recomputes it from the leaves, the graph fn "
                        "builds does not (make it inside fn, or a leaf of its own)"
                    )
                    break
        if not self._checks:
            self._signature, self._recorded = [], []
        if problem:
            raise StructureError(
                f"Tape of {self._name}: on replay {replay}, fn built a graph other than the "
                f"recorded one: {problem}. A tape replays the graph fn built when it was "
                "recorded; a computation whose graph depends on the values must be recorded again"
            )


def _anomaly() -> bool:
    return _engine._anomaly_contexts > 0 and _engine._ANOMALY.get()


def _name(fn: object) -> str:
    return str(getattr(fn, "__qualname__", None) or type(fn).__name__)


def _call(fn: Callable[[], Value], name: str) -> Value:
    out = fn()
    if not isinstance(out, Value):
        raise TypeError(f"record(fn={name}): fn() must return a Value, got {type(out).__name__}")
    return out


def record(
    fn: Callable[[], Value],
    leaves: Iterable[Value],
    *,
    mode: Mode = "auto",
    check: int = 0,
) -> Tape:
    """Call ``fn()`` once, record the graph it returns, and return it as a :class:`Tape`.

    Args:
        fn: A function of no arguments that builds the computation from ``leaves`` (and
            anything else, which the tape keeps as constants) and returns its output, a
            :class:`~micrograd.Value`. It is called once now, and again only by ``check`` and in
            anomaly mode.
        leaves: The tape's variables, distinct leaves (``Value``s that are not the result of an
            operation): typically ``model.parameters()`` and the input values. Replays read their
            ``.data`` and add to their ``.grad``.
        mode: ``"interpret"``, ``"generate"`` (generate the code now), or ``"auto"``: interpret the
            first :data:`GENERATE_AFTER` replays, then generate the code.
        check: On each of the first ``check`` replays, call ``fn`` again and raise
            :class:`StructureError` if the graph it builds is not the recorded one.

    Raises:
        TypeError: ``fn`` is not callable or does not return a Value; an item of ``leaves`` is not a
            Value; ``check`` is not an int.
        ValueError: an item of ``leaves`` is not a leaf, or is given twice; ``mode`` or ``check``
            is not one of the values above; the graph has an operator without a replay rule.
    """
    t0 = time.perf_counter()
    if not callable(fn):
        raise TypeError(
            f"record(fn): takes a function of no arguments that returns a Value, got "
            f"{type(fn).__name__}"
        )
    name = _name(fn)
    if isinstance(leaves, (Value, str, bytes)) or not isinstance(leaves, Iterable):
        raise TypeError(
            f"record(fn={name}, leaves): takes a sequence of Values, got {type(leaves).__name__}"
        )
    given = tuple(leaves)
    where: dict[int, int] = {}
    for i, leaf in enumerate(given):
        if not isinstance(leaf, Value):
            raise TypeError(
                f"record(fn={name}, leaves): item {i} is a {type(leaf).__name__}, not a Value"
            )
        if leaf._op is not None:
            raise ValueError(
                f"record(fn={name}, leaves): item {i} is not a leaf but the result of "
                f"{leaf._op.name} (a tape's leaves are its variables; Value(x.data) is a leaf)"
            )
        if id(leaf) in where:
            raise ValueError(f"record(fn={name}, leaves): item {i} is item {where[id(leaf)]} again")
        where[id(leaf)] = i
    if mode not in _MODES:
        raise ValueError(f"record(fn={name}, mode): takes one of {_MODES}, got {mode!r}")
    if isinstance(check, bool) or not isinstance(check, int):
        raise TypeError(f"record(fn={name}, check): takes an int, got {type(check).__name__}")
    if check < 0:
        raise ValueError(f"record(fn={name}, check): takes an int >= 0, got {check}")
    out = _call(fn, name)
    return Tape(fn, given, mode, check, out, time.perf_counter() - t0)
