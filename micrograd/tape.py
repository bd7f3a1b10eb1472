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
import operator
import re
import string
import struct
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial, reduce
from itertools import repeat
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, TypeVar, get_args

from . import engine as _engine
from .engine import Value
from .ops import OPS, REPLAY_NAMES, Op, float_literal

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

_SUM_CHUNK: Final = 64  # terms per statement of a generated sum (the compiler recurses on each)
_UNPACK_CHUNK: Final = 256  # names per generated tuple display or unpacking

_add = operator.add
_T = TypeVar("_T")


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
        fields = set(_template_fields(template))
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
            text = _forward_source(op, xs if op.arity < 0 else xs[:parts], "c")
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


# --- recording ----------------------------------------------------------------------------------
#
# Slots: every value a tape knows has a slot, in this order: the leaves given to record() (slot i
# is leaves[i]), the constants (the graph's other leaves, the nodes that depend on no given leaf,
# and the number arguments c of *_const nodes), then the interior nodes in an order where operands
# come before the nodes that use them (node k is slot ``base + k``). Edges are numbered node by
# node, operand by operand: edge ``first[k] + j`` is operand j of node k, the contribution
# ``vjp(node k, g)[j]`` that the walk passes to that operand.


class _Graph:
    """A recorded graph as flat data: what both ways of replaying it are made from."""

    def __init__(self, n_leaves: int) -> None:
        self.n_leaves = n_leaves
        self.constants: list[float] = []  # slot n_leaves + i
        self.ops: list[Op] = []  # node k's operator
        self.operands: list[tuple[int, ...]] = []  # node k's operand slots, in order
        self.consts: list[float | None] = []  # node k's number argument c
        self.const_slots: list[int | None] = []  # the slot holding it
        self.values: list[float] = []  # node k's value when recorded
        self.root = -1  # the output's slot

    @property
    def base(self) -> int:
        """The slot of node 0."""
        return self.n_leaves + len(self.constants)

    def waves(self) -> tuple[list[int], list[tuple[tuple[int, Op, int], list[int]]]]:
        """``(level, waves)``: each node's level (1 + the highest of its operands'), and the
        nodes grouped by level, operator and operand count, by increasing level."""
        base, ops = self.base, self.ops
        level = [0] * len(ops)
        waves: dict[tuple[int, Op, int], list[int]] = {}
        for k, slots in enumerate(self.operands):
            level[k] = 1 + max([level[s - base] for s in slots if s >= base], default=0)
            waves.setdefault((level[k], ops[k], len(slots)), []).append(k)
        return level, sorted(waves.items(), key=lambda item: item[0][0])


def _nodes(out: Value, leaf_slots: Mapping[int, int]) -> tuple[list[Value], list[Value]]:
    """The interior nodes of ``out``'s graph, operands before the nodes that use them, and its
    leaves that are not in ``leaf_slots`` (keyed by ``id``), in the order they are met."""
    order: list[Value] = []
    others: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(out, False)]
    push, pop = stack.append, stack.pop
    while stack:  # iterative post-order
        node, expanded = pop()
        if expanded:
            order.append(node)
            continue
        key = id(node)
        if key in seen or key in leaf_slots:
            continue
        seen.add(key)
        if node._op is None:
            others.append(node)
            continue
        push((node, True))
        for parent in reversed(node._prev):
            push((parent, False))
    return order, others


def _signature(
    out: Value, leaf_slots: Mapping[int, int], order: list[Value], others: list[Value]
) -> list[tuple[object, ...]]:
    """The graph's structure, what the structure check compares: per node its operator, its
    operands (given leaves, numbers, earlier nodes) and ``c``; then the output."""
    refs: dict[int, tuple[object, ...]] = {key: ("leaf", s) for key, s in leaf_slots.items()}
    for leaf in others:
        refs[id(leaf)] = ("number", _bits(leaf._data))
    signature: list[tuple[object, ...]] = []
    for k, node in enumerate(order):
        assert node._op is not None
        signature.append((node._op.name, tuple(refs[id(p)] for p in node._prev), _bits(node._arg)))
        refs[id(node)] = ("node", k)
    signature.append(("output", refs[id(out)]))
    return signature


def _bits(x: float | None) -> str | None:
    """``x`` as a key that tells ``-0.0`` from ``0.0`` and matches ``nan`` with ``nan``."""
    return None if x is None else float.hex(x)


def _trace(
    out: Value, leaf_slots: Mapping[int, int], order: list[Value], others: list[Value]
) -> _Graph:
    """``out``'s graph as flat data, from :func:`_nodes`' ``order`` and ``others``.

    A node none of whose operands depends on a given leaf is a constant too, with its recorded
    value: replaying it would give that value again, and the gradients it passes on reach
    constants only.
    """
    n_leaves = len(leaf_slots)
    variable = set(leaf_slots)  # ids of the values that depend on a given leaf
    live: list[Value] = []
    folded: list[Value] = []
    for node in order:
        if any(id(p) in variable for p in node._prev):
            variable.add(id(node))
            live.append(node)
        else:
            folded.append(node)
    graph = _Graph(n_leaves)
    slot = dict(leaf_slots)
    constants = graph.constants
    for v in (*others, *folded):
        slot[id(v)] = n_leaves + len(constants)
        constants.append(v._data)
    for node in live:
        if node._arg is None:
            graph.const_slots.append(None)
        else:
            graph.const_slots.append(n_leaves + len(constants))
            constants.append(node._arg)
    base = graph.base
    for k, node in enumerate(live):
        slot[id(node)] = base + k
    for node in live:
        assert node._op is not None
        graph.ops.append(node._op)
        graph.operands.append(tuple([slot[id(p)] for p in node._prev]))
        graph.consts.append(node._arg)
        graph.values.append(node._data)
    graph.root = slot[id(out)]
    return graph


class _Walk:
    """The order in which ``backward()`` walks the graph, worked out from its structure.

    ``pops``: the interior nodes in the order the walk finishes them, each with where its gradient
    comes from: ``None`` for the output (the seed), an edge for a node with one consumer (the
    contribution itself), or a list of edges (their sum from ``-0.0``, in that order).
    ``leaves``: for each given leaf the walk reaches, the edges of its contributions, in order.
    ``first``: node k's first edge (and, at the end, the number of edges).
    """

    def __init__(self, graph: _Graph) -> None:
        base, n_leaves, operands = graph.base, graph.n_leaves, graph.operands
        self.first = first = [0]
        for slots in operands:
            first.append(first[-1] + len(slots))
        self.pops: list[tuple[int, int | list[int] | None]] = []
        self.leaves: dict[int, list[int]] = {}
        root = graph.root - base
        if root < 0:  # the output is a leaf or a constant: there is no node to walk
            return
        # engine._steps, first pass: count each interior node's consumers (edges: t * t counts t
        # twice); a node met for the first time is pushed, to count its operands' consumers
        uses = [0] * len(operands)
        uses[root] = 1
        stack = [root]
        while stack:
            for s in operands[stack.pop()]:
                p = s - base
                if p >= 0:
                    uses[p] += 1
                    if uses[p] == 1:
                        stack.append(p)
        # second pass: a stack of finished nodes; each passes its contributions to its operands in
        # order: a leaf adds it to its sum, a node with one consumer is finished with it, a node
        # with several adds it to its tally and is finished (pushed) by the last one
        tallies: dict[int, list[int]] = {}
        todo: list[tuple[int, int | list[int] | None]] = [(root, None)]
        pops, leaves = self.pops, self.leaves
        while todo:
            k, source = todo.pop()
            pops.append((k, source))
            e = first[k]
            for s in operands[k]:
                p = s - base
                if p < 0:
                    if s < n_leaves:  # a given leaf; contributions to constants go nowhere
                        leaves.setdefault(s, []).append(e)
                elif uses[p] == 1:
                    todo.append((p, e))
                else:
                    tally = tallies.setdefault(p, [])
                    tally.append(e)
                    if len(tally) == uses[p]:
                        todo.append((p, tally))
                e += 1


# --- the interpreter ----------------------------------------------------------------------------
#
# The interpreter runs the graph in waves: nodes of one operator that do not depend on each other
# run together, so that the work per node is done in C (map, itemgetter, sums) rather
# than in bytecode. Nodes are grouped by level, 1 + the highest level of their operands; the
# forward pass runs the waves by increasing level, the backward pass by decreasing level (all the
# consumers of a node have higher levels). Values live in one array V, the nodes of a wave in
# consecutive slots; every contribution the walk passes on has a place in a second array D.
#
# Forward, a wave is ``V[a:b] = map(op.forward, *columns)``: the registry's own rule, applied to
# columns of operands (operand j of every node of the wave) gathered from V by an itemgetter.
# Backward, a wave reads its nodes' gradients from D (a sum is ``_total(its places, -0.0)``:
# the engine's additions, from -0.0, in the walk's order), then writes its contributions into D a
# column at a time, each by the operator's vjp template compiled for one element. A template that
# is one operation on its placeholders (``{g}``, ``-{g}``, ``{g} * {1}``) runs as that function of
# the ``operator`` module over the columns: the same float operation, with no Python code per
# element. Columns whose contributions all go to constants are not computed.
#
# A wave of one node (a chain, such as a sum written ``sum(xs, Value(0.0))``) runs as one node:
# ``V[a] = op.forward(*operands)``, and backward a kernel compiled from the vjp templates returns
# the node's contributions as one tuple, written into D at once.


def _adds_left_to_right(total: Callable[[list[float], float], float]) -> bool:
    """Whether ``total(xs, start)`` is ``start + xs[0] + xs[1] + ...`` added left to right."""
    cases = [[1.0, 1e100, 1.0, -1e100], [0.1] * 10, [1e308, 1e308, -1e308], [-0.0, -0.0]]
    return all(
        struct.pack("<d", total(xs, start)) == struct.pack("<d", reduce(_add, xs, start))
        for xs in cases
        for start in (-0.0, 0.0, 1.0)
    )


#: ``_total(xs, start)``: ``start + xs[0] + xs[1] + ...``, left to right, the walk's sums. The
#: builtin ``sum`` adds floats that way in CPython 3.11, in a C loop, several times faster than
#: ``reduce(add, ...)``; from 3.12 it compensates the rounding (another result), and the reduce
#: is used.
_total: Callable[[Iterable[float], float], float] = (
    sum if _adds_left_to_right(sum) else partial(reduce, _add)
)


def _compile_def(source: str, name: str, filename: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = dict(REPLAY_NAMES)
    exec(compile(source, filename, "exec"), namespace)
    function: Callable[..., Any] = namespace[name]
    return function


_KERNELS: dict[Op, Callable[..., tuple[float, ...]]] = {}  # by identity: Op compares so
_RULES: dict[tuple[Op, str], tuple[Callable[..., float] | None, tuple[str, ...]]] = {}


def _kernel(op: Op) -> Callable[..., tuple[float, ...]]:
    """``kernel(g, out, *operands[, c])``: the contributions of one node, from its templates."""
    kernel = _KERNELS.get(op)
    if kernel is None:
        rule = op.replay
        assert rule is not None
        if op.arity >= 0:
            xs = [f"x{i}" for i in range(op.arity)]
            params = ["g", "out", *xs, *(["c"] if op.has_const else [])]
            body = "".join(t.format(*xs, g="g", out="out", c="c") + ", " for t in rule.vjp)
            source = f"def kernel({', '.join(params)}):\n    return ({body})\n"
        else:
            ys = [f"y{i}" for i in range(op.groups)]
            lines = ["def kernel(g, out, *xs):"]
            if op.has_const:
                lines.append("    c = xs[-1]; xs = xs[:-1]")
            lines.append(f"    n = len(xs) // {op.groups}")
            groups = ", ".join(f"xs[{i} * n:{i + 1} * n]" for i in range(op.groups))
            items = ", ".join(
                f"*[{t.format(*ys, g='g', out='out', c='c')} for {', '.join(ys)} in zip({groups})]"
                for t in rule.vjp
            )
            lines.append(f"    return ({items},)")
            source = "\n".join(lines) + "\n"
        kernel = _KERNELS[op] = _compile_def(source, "kernel", f"<vjp of {op.name}>")
    return kernel


_ONE_OPERATION: Final = {"*": operator.mul, "+": operator.add}
_FIELD: Final = r"\{(\w+)\}"


def _element_rule(op: Op, template: str) -> tuple[Callable[..., float] | None, tuple[str, ...]]:
    """``(function, fields)``: one contribution is ``function(*fields)`` (the field itself when
    ``function`` is ``None``), for one node and, for a variadic operator, one position."""
    key = (op, template)
    rule = _RULES.get(key)
    if rule is None:
        if match := re.fullmatch(_FIELD, template):
            rule = None, (match[1],)
        elif match := re.fullmatch("-" + _FIELD, template):
            rule = operator.neg, (match[1],)
        elif match := re.fullmatch(rf"{_FIELD} ([*+]) {_FIELD}", template):
            rule = _ONE_OPERATION[match[2]], (match[1], match[3])
        else:
            fields = _template_fields(template)
            parts = op.arity if op.arity >= 0 else op.groups
            body = template.format(*[f"x{i}" for i in range(parts)], g="g", out="out", c="c")
            params = ", ".join(f"x{f}" if f.isdigit() else f for f in fields)
            source = f"def rule({params}):\n    return {body}\n"
            rule = _compile_def(source, "rule", f"<vjp of {op.name}>"), fields
        _RULES[key] = rule
    return rule


def _summed_terms(
    op: Op,
) -> tuple[Callable[..., float], Callable[..., float], tuple[str, ...]] | None:
    """For a variadic operator whose forward template is ``name({terms})`` and whose term
    template is one operation on its fields (``{0} * {1}``, see :func:`_element_rule`):
    ``(the function called name, the term's function, its fields)``; else ``None``."""
    rule = op.replay
    assert rule is not None
    match = re.fullmatch(r"(\w+)\(\{terms\}\)", rule.forward)
    if op.arity >= 0 or not rule.term or match is None or match[1] not in REPLAY_NAMES:
        return None
    term, fields = _element_rule(op, rule.term)
    if term is None or term not in _ONE_OPERATION.values():
        return None
    return REPLAY_NAMES[match[1]], term, fields


def _template_fields(template: str) -> tuple[str, ...]:
    """The placeholders of ``template``, each once, in the order they first appear."""
    return tuple(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(template) if f))


def _gather(slots: Sequence[int]) -> Callable[[list[float]], Sequence[float]]:
    """A function returning ``[array[s] for s in slots]`` (a list or a tuple), as one C call."""
    first, n = slots[0], len(slots)
    if slots[-1] == first + n - 1 and list(slots) == list(range(first, first + n)):
        return operator.itemgetter(slice(first, first + n))
    return operator.itemgetter(*slots)


class _Interpreter:
    """The recorded graph as waves over a value array V and a contribution array D."""

    def __init__(self, graph: _Graph, walk: _Walk, leaf_values: Sequence[float]) -> None:
        n_nodes, base = len(graph.ops), graph.base
        operands, ops = graph.operands, graph.ops
        level, forward_waves = graph.waves()
        slot_of = [0] * n_nodes  # node k's slot in V: the nodes of a wave are consecutive
        n = base
        for _, wave in forward_waves:
            for k in wave:
                slot_of[k] = n
                n += 1
        self._slot_of = slot_of
        # each node's operands' slots in V, then its number argument's
        self._inputs = [
            tuple([s if s < base else slot_of[s - base] for s in slots])
            + (() if c is None else (c,))
            for slots, c in zip(operands, graph.const_slots, strict=True)
        ]
        self.values = values = [*leaf_values, *graph.constants, *graph.values]
        for k, v in enumerate(graph.values):
            values[slot_of[k]] = v
        self.n_leaves = graph.n_leaves
        self.root = graph.root if graph.root < base else slot_of[graph.root - base]

        # forward steps (f, a, b, inputs, summed): for one node (b is None) V[a] = f(*inputs(V)),
        # f being op.forward; for a wave V[a:b] = map(f, *[column(V) for column in inputs]); for
        # a wave of a variadic operator with a term template (summed), its terms are computed a
        # column at a time, then f, its forward template's function, sums each node's terms
        self.forward_program: list[tuple[Callable[..., float], int, int | None, Any, bool]] = []
        for (_, op, width), wave in forward_waves:
            a, inputs = slot_of[wave[0]], self._inputs
            step: tuple[Callable[..., float], int, int | None, Any, bool]
            if len(wave) == 1:
                step = (op.forward, a, None, _gather(inputs[wave[0]]), False)
            elif (summed := _summed_terms(op)) is not None:
                outer, term, named = summed
                fields = [int(f) for f in named]  # operand groups
                m = width // op.groups
                columns: Any = tuple(
                    (term, tuple([_gather([inputs[k][j * m + i] for k in wave]) for j in fields]))
                    for i in range(m)
                )
                step = (outer, a, a + len(wave), columns, True)
            else:
                n_inputs = len(inputs[wave[0]])  # the operands, then c
                columns = tuple([_gather([inputs[k][j] for k in wave]) for j in range(n_inputs)])
                step = (op.forward, a, a + len(wave), columns, False)
            self.forward_program.append(step)

        # backward steps, by decreasing level, a wave holding nodes whose gradients come the
        # same way: the seed (kind 0), one contribution (1), a sum (2)
        first = walk.first
        self._needed = needed = bytearray(first[-1])  # the contributions something reads
        groups: dict[tuple[int, Op, int, int], list[tuple[int, int | list[int] | None]]] = {}
        for k, src in walk.pops:
            if src is None:
                kind = 0
            elif isinstance(src, int):
                kind, needed[src] = 1, 1
            else:
                kind = 2
                for e in src:
                    needed[e] = 1
            groups.setdefault((-level[k], ops[k], len(operands[k]), kind), []).append((k, src))
        for edges in walk.leaves.values():
            for e in edges:
                needed[e] = 1
        self._first = first
        self._place = [0] * first[-1]  # each contribution's place in D
        self.n_places = 0
        self.backward_program: list[tuple[Any, ...]] = []
        for (_, op, width, kind), members in sorted(groups.items(), key=lambda item: item[0][0]):
            if len(members) == 1:
                self.backward_program.append(self._one(op, width, *members[0]))
            else:
                self.backward_program.append(self._wave(op, width, kind, members))
        place = self._place
        self.leaf_order = list(walk.leaves)
        self.leaf_sums = tuple([_gather([place[e] for e in es]) for es in walk.leaves.values()])

    def _gradient(self, source: int | list[int] | None) -> Any:
        """Where a node's gradient is: ``None`` (the seed), a place in D, or an itemgetter of
        places (their sum)."""
        if source is None or isinstance(source, int):
            return None if source is None else self._place[source]
        return operator.itemgetter(*[self._place[e] for e in source])

    def _one(self, op: Op, width: int, k: int, source: int | list[int] | None) -> tuple[Any, ...]:
        """One node's backward step: ``(kernel, gradient, inputs, start)``, its contributions
        ``kernel(g, out, *inputs)`` at ``D[start:start + width]``."""
        start = self.n_places
        self.n_places += width
        e = self._first[k]
        self._place[e : e + width] = range(start, start + width)
        inputs = _gather([self._slot_of[k], *self._inputs[k]])
        return _kernel(op), self._gradient(source), inputs, start

    def _wave(
        self, op: Op, width: int, kind: int, wave: list[tuple[int, int | list[int] | None]]
    ) -> tuple[Any, ...]:
        """A wave's backward step: ``(None, kind, gradients, fetch, columns)``: ``fetch`` gathers
        the columns of V the rules read, each column of contributions is ``(rule, sources,
        start, end)``, ``sources`` indexing ``[gradients, *fetched columns]``."""
        rule = op.replay
        assert rule is not None
        nodes = [k for k, _ in wave]
        if kind == 0:
            gradients: Any = None
        elif kind == 1:
            gradients = _gather([self._place[src] for _, src in wave])  # type: ignore[index]
        else:
            gradients = tuple([self._gradient(src) for _, src in wave])
        fetch: list[Callable[[list[float]], Sequence[float]]] = []
        index: dict[object, int] = {"g": 0}
        m = width if op.arity >= 0 else width // op.groups

        def column(field: str, pos: int) -> int:
            """Where the column of ``field`` is among the wave's sources."""
            if field == "out":
                key: object = field
                slots = [self._slot_of[k] for k in nodes]
            elif field == "c":
                key = field
                slots = [self._inputs[k][-1] for k in nodes]
            elif field != "g":
                j = int(field) if op.arity >= 0 else int(field) * m + pos
                key = j
                slots = [self._inputs[k][j] for k in nodes]
            else:
                return 0
            if key not in index:
                fetch.append(_gather(slots))
                index[key] = len(fetch)
            return index[key]

        columns = []
        first, needed, place = self._first, self._needed, self._place
        for j in range(width):
            if not any(needed[first[k] + j] for k in nodes):
                continue  # every contribution of this column goes to a constant
            template, pos = (rule.vjp[j], 0) if op.arity >= 0 else (rule.vjp[j // m], j % m)
            fn, fields = _element_rule(op, template)
            start = self.n_places
            for i, k in enumerate(nodes):
                place[first[k] + j] = start + i
            self.n_places += len(nodes)
            columns.append((fn, tuple([column(f, pos) for f in fields]), start, self.n_places))
        return None, kind, gradients, tuple(fetch), tuple(columns)

    def forward(self, leaves: Sequence[Value]) -> float:
        V = self.values
        V[: self.n_leaves] = [leaf._data for leaf in leaves]
        for f, a, b, inputs, summed in self.forward_program:
            if b is None:
                V[a] = f(*inputs(V))
            elif summed:
                terms = zip(*[map(t, *[get(V) for get in gets]) for t, gets in inputs])  # noqa: B905
                V[a:b] = map(f, terms)
            else:
                V[a:b] = map(f, *[column(V) for column in inputs])
        return V[self.root]

    def backward(self, leaves: Sequence[Value], seed: float) -> None:
        V = self.values
        D = [0.0] * self.n_places
        total, call, zero = _total, operator.call, -0.0
        for step in self.backward_program:
            kernel = step[0]
            if kernel is not None:  # one node: (kernel, gradient, inputs, start)
                _, a, inputs, start = step
                g = seed if a is None else D[a] if type(a) is int else total(a(D), zero)
                contributions = kernel(g, *inputs(V))
                D[start : start + len(contributions)] = contributions
                continue
            _, kind, gradients, fetch, columns = step  # a wave
            if kind == 0:
                G: Sequence[float] = [seed]
            elif kind == 1:
                G = gradients(D)
            else:
                G = list(map(total, map(call, gradients, repeat(D)), repeat(zero)))
            sources = [G, *[get(V) for get in fetch]]
            for fn, args, start, end in columns:
                if fn is None:
                    D[start:end] = sources[args[0]]
                else:
                    D[start:end] = map(fn, *[sources[i] for i in args])
        sums = map(total, map(call, self.leaf_sums, repeat(D)), repeat(zero))
        for s, t in zip(self.leaf_order, sums):  # noqa: B905 (as long as each other)
            leaf = leaves[s]
            old = leaf._grad
            leaf._grad = old + t if old or not t else t


# --- generated code -----------------------------------------------------------------------------
#
# Two functions of straight-line code. ``forward(L)`` reads the given leaves L (a tuple), computes
# every node as its forward template says, with operands as local names and constants as exact
# literals, and returns the output with the values the backward pass reads. ``backward(L, S,
# seed)`` finishes the nodes in the walk's order, ``g<k> = ...`` each, and ends with one sum per
# leaf. A contribution is written where it is added, as its vjp template says: computing one has
# no effect but its value, so only the order of the additions into each sum is the engine's to
# keep, and it is.


def _forward_source(op: Op, operands: Sequence[str], c: str) -> str:
    """``op``'s forward template applied to ``operands`` (names or literals) and ``c``."""
    rule = op.replay
    assert rule is not None
    if op.arity >= 0:
        return rule.forward.format(*operands, c=c)
    m = len(operands) // op.groups
    terms = ""
    if rule.term:
        terms = "".join(rule.term.format(*operands[i::m]) + ", " for i in range(m))
    groups = [
        f"({''.join(x + ', ' for x in operands[i : i + m])})" for i in range(0, len(operands), m)
    ]
    return rule.forward.format(*groups, c=c, terms=f"({terms})")


def _vjp_template(op: Op, j: int, operands: Sequence[_T]) -> tuple[str, Sequence[_T]]:
    """The vjp template of ``op``'s operand ``j`` and the operands its ``{0}``, ``{1}``, ...
    stand for: all of them, or for a variadic operator those at ``j``'s position in each group."""
    rule = op.replay
    assert rule is not None
    if op.arity >= 0:
        return rule.vjp[j], operands
    m = len(operands) // op.groups
    return rule.vjp[j // m], operands[j % m :: m]


def _generate(graph: _Graph, walk: _Walk) -> tuple[Callable[..., Any], Callable[..., Any], str]:
    """The generated ``forward`` and ``backward`` functions, and their source."""
    n, base, first = graph.n_leaves, graph.base, walk.first
    namespace: dict[str, Any] = dict(REPLAY_NAMES)
    owner = [k for k, slots in enumerate(graph.operands) for _ in slots]
    fields: dict[str, tuple[str, ...]] = {}

    def literal(x: float | None) -> str:
        if x is None:
            return ""
        if x - x == 0.0:  # finite: an exact literal
            return float_literal(x)
        name = f"K{struct.pack('>d', x).hex()}"  # inf, -inf, a nan: a global, by its bits
        namespace[name] = x
        return name

    names = [f"v{s}" if s < n else literal(x) for s, x in enumerate([0.0] * n + graph.constants)]
    names += [f"v{base + k}" for k in range(len(graph.ops))]
    saved: set[int] = set()

    def contribution(e: int) -> str:
        k = owner[e]
        op, slots = graph.ops[k], graph.operands[k]
        template, picked = _vjp_template(op, e - first[k], slots)
        used = fields.get(template)
        if used is None:
            used = fields[template] = _template_fields(template)
        for field in used:
            if field == "out":
                saved.add(base + k)
            elif field.isdigit():
                s = picked[int(field)]
                if s < n or s >= base:
                    saved.add(s)
        c = graph.consts[k]
        return template.format(
            *[names[s] for s in picked], g=f"g{k}", out=f"v{base + k}", c=literal(c)
        )

    def summed(target: str, edges: Sequence[int]) -> list[str]:
        terms = [f"({contribution(e)})" for e in edges]
        lines = []
        for i in range(0, len(terms), _SUM_CHUNK):
            start = "-0.0" if i == 0 else target
            lines.append(f"    {target} = {start} + {' + '.join(terms[i : i + _SUM_CHUNK])}")
        return lines

    body: list[str] = []
    for k, source in walk.pops:
        if source is None:
            body.append(f"    g{k} = seed")
        elif isinstance(source, int):
            body.append(f"    g{k} = {contribution(source)}")
        else:
            body += summed(f"g{k}", source)
    for s, edges in walk.leaves.items():
        body += summed("t", edges)
        body += [
            f"    leaf = L[{s}]",
            "    old = leaf._grad",
            "    leaf._grad = old + t if old or not t else t",
        ]
    kept = sorted(saved)
    chunks = [kept[i : i + _UNPACK_CHUNK] for i in range(0, len(kept), _UNPACK_CHUNK)]
    backward = ["def backward(L, S, seed):"]
    backward += [
        f"    {''.join(f'v{s}, ' for s in chunk)}= S[{i}]" for i, chunk in enumerate(chunks)
    ]
    backward += body or ["    pass"]

    forward = ["def forward(L):"]
    read = {s for slots in graph.operands for s in slots if s < n}
    if graph.root < n:
        read.add(graph.root)
    forward += [f"    v{s} = L[{s}]._data" for s in sorted(read)]
    for k, (op, slots, c) in enumerate(zip(graph.ops, graph.operands, graph.consts, strict=True)):
        text = _forward_source(op, [names[s] for s in slots], literal(c))
        forward.append(f"    v{base + k} = {text}")
    tuples = "".join(f"({''.join(f'v{s}, ' for s in chunk)}), " for chunk in chunks)
    forward.append(f"    return {names[graph.root]}, ({tuples})")

    text = "\n".join(forward) + "\n\n" + "\n".join(backward) + "\n"
    exec(compile(text, "<micrograd.tape generated code>", "exec"), namespace)
    return namespace["forward"], namespace["backward"], text


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
        order, others = _nodes(out, self._leaf_slots)
        graph = _trace(out, self._leaf_slots, order, others)
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
        self._walk = _Walk(graph)
        self._interpreter = _Interpreter(graph, self._walk, [leaf._data for leaf in leaves])
        self._auto = mode == "auto"
        self._checks = check
        # for the structure check: the recorded structure, and its nodes (is a node fn's own?)
        self._signature = _signature(out, self._leaf_slots, order, others) if check else []
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
        forward, backward, _ = _generate(self._graph, self._walk)
        self._generated = (forward, backward)
        self._codegen_seconds = time.perf_counter() - t0

    def _check(self) -> None:
        """Call ``fn`` again and compare the graph it builds with the recorded one."""
        self._checks -= 1
        replay = self._replays + 1
        out = _call(self._fn, self._name)
        order, others = _nodes(out, self._leaf_slots)
        problem = _difference(self._signature, _signature(out, self._leaf_slots, order, others))
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


def _difference(old: Sequence[tuple[object, ...]], new: Sequence[tuple[object, ...]]) -> str:
    """How structure ``new`` differs from ``old`` (see :func:`_signature`), or ``""``."""
    if len(old) != len(new):
        return f"it has {len(new) - 1} nodes, the recorded one {len(old) - 1}"
    for k, (a, b) in enumerate(zip(old, new, strict=True)):
        if a == b:
            continue
        if a[0] == "output" or b[0] == "output":
            return f"its output is {_ref(b[1])}, the recorded one's {_ref(a[1])}"
        if a[0] == b[0] and a[2] == b[2]:
            old_refs, new_refs = a[1], b[1]
            assert isinstance(old_refs, tuple)
            assert isinstance(new_refs, tuple)
            for j, (x, y) in enumerate(zip(old_refs, new_refs)):  # noqa: B905 (lengths may differ)
                if x != y:
                    note = ""
                    if x[0] == y[0] == "number":
                        note = (
                            " (a leaf not among the tape's leaves is a constant of the tape: pass "
                            "it in leaves if its value changes)"
                        )
                    return (
                        f"operand {j} of node {k} ({b[0]}) is {_ref(y)}, recorded as {_ref(x)}"
                        + note
                    )
        return f"node {k} is {_describe(b)}, recorded as {_describe(a)}"
    return ""


def _ref(ref: object) -> str:
    assert isinstance(ref, tuple)
    kind, what = ref
    if kind == "leaf":
        return f"leaves[{what}]"
    if kind == "number":
        return f"the number {float.fromhex(what)!r}"
    return f"node {what}"


def _describe(entry: tuple[object, ...]) -> str:
    name, refs, c = entry
    assert isinstance(refs, tuple)
    args = [_ref(r) for r in refs]
    if c is not None:
        assert isinstance(c, str)
        args.append(f"c={float.fromhex(c)!r}")
    return f"{name}({', '.join(args)})"


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
