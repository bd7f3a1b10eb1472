"""The interpreter of a tape: its graph replayed in waves of nodes that do not depend on each
other, each wave a few C-level calls (see the notes below)."""

from __future__ import annotations

import operator
import re
import string
import struct
from collections.abc import Callable, Iterable, Sequence
from functools import partial, reduce
from itertools import repeat
from typing import Any, Final

from ._graph import Graph, Walk
from .engine import Value
from .ops import REPLAY_NAMES, Op

__all__ = [
    "Interpreter",
    "adds_left_to_right",
    "element_rule",
    "kernel",
    "sum_left_to_right",
    "template_fields",
]

_add = operator.add

# The interpreter runs the graph in waves: nodes of one operator that do not depend on each other
# run together, so that the work per node is done in C (map, itemgetter, sums) rather
# than in bytecode. Nodes are grouped by level, 1 + the highest level of their operands; the
# forward pass runs the waves by increasing level, the backward pass by decreasing level (all the
# consumers of a node have higher levels). Values live in one array V, the nodes of a wave in
# consecutive slots; every contribution the walk passes on has a place in a second array D.
#
# Forward, a wave is ``V[a:b] = map(op.forward, *columns)``: the registry's own rule, applied to
# columns of operands (operand j of every node of the wave) gathered from V by an itemgetter.
# Backward, a wave reads its nodes' gradients from D (a sum is ``sum_left_to_right(its places,
# -0.0)``: the engine's additions, from -0.0, in the walk's order), then writes its contributions
# into D a column at a time, each by the operator's vjp template compiled for one element. A
# template that
# is one operation on its placeholders (``{g}``, ``-{g}``, ``{g} * {1}``) runs as that function of
# the ``operator`` module over the columns: the same float operation, with no Python code per
# element. Columns whose contributions all go to constants are not computed.
#
# A wave of one node (a chain, such as a sum written ``sum(xs, Value(0.0))``) runs as one node:
# ``V[a] = op.forward(*operands)``, and backward a kernel compiled from the vjp templates returns
# the node's contributions as one tuple, written into D at once.


def adds_left_to_right(total: Callable[[list[float], float], float]) -> bool:
    """Whether ``total(xs, start)`` is ``start + xs[0] + xs[1] + ...`` added left to right."""
    cases = [[1.0, 1e100, 1.0, -1e100], [0.1] * 10, [1e308, 1e308, -1e308], [-0.0, -0.0]]
    return all(
        struct.pack("<d", total(xs, start)) == struct.pack("<d", reduce(_add, xs, start))
        for xs in cases
        for start in (-0.0, 0.0, 1.0)
    )


#: ``sum_left_to_right(xs, start)``: ``start + xs[0] + xs[1] + ...``, left to right, the walk's
#: sums. The builtin ``sum`` adds floats that way in CPython 3.11, in a C loop, several times
#: faster than ``reduce(add, ...)``; from 3.12 it compensates the rounding (another result), and
#: the reduce is used.
sum_left_to_right: Callable[[Iterable[float], float], float] = (
    sum if adds_left_to_right(sum) else partial(reduce, _add)
)


def _compile_def(source: str, name: str, filename: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = dict(REPLAY_NAMES)
    exec(compile(source, filename, "exec"), namespace)
    function: Callable[..., Any] = namespace[name]
    return function


_KERNELS: dict[Op, Callable[..., tuple[float, ...]]] = {}  # by identity: Op compares so
_RULES: dict[tuple[Op, str], tuple[Callable[..., float] | None, tuple[str, ...]]] = {}


def kernel(op: Op) -> Callable[..., tuple[float, ...]]:
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


def element_rule(op: Op, template: str) -> tuple[Callable[..., float] | None, tuple[str, ...]]:
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
            fields = template_fields(template)
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
    template is one operation on its fields (``{0} * {1}``, see :func:`element_rule`):
    ``(the function called name, the term's function, its fields)``; else ``None``."""
    rule = op.replay
    assert rule is not None
    match = re.fullmatch(r"(\w+)\(\{terms\}\)", rule.forward)
    if op.arity >= 0 or not rule.term or match is None or match[1] not in REPLAY_NAMES:
        return None
    term, fields = element_rule(op, rule.term)
    if term is None or term not in _ONE_OPERATION.values():
        return None
    return REPLAY_NAMES[match[1]], term, fields


def template_fields(template: str) -> tuple[str, ...]:
    """The placeholders of ``template``, each once, in the order they first appear."""
    return tuple(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(template) if f))


def _gather(slots: Sequence[int]) -> Callable[[list[float]], Sequence[float]]:
    """A function returning ``[array[s] for s in slots]`` (a list or a tuple), as one C call."""
    first, n = slots[0], len(slots)
    if slots[-1] == first + n - 1 and list(slots) == list(range(first, first + n)):
        return operator.itemgetter(slice(first, first + n))
    return operator.itemgetter(*slots)


class Interpreter:
    """The recorded graph as waves over a value array V and a contribution array D."""

    def __init__(self, graph: Graph, walk: Walk, leaf_values: Sequence[float]) -> None:
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
        return kernel(op), self._gradient(source), inputs, start

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
            fn, fields = element_rule(op, template)
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
        total, call, zero = sum_left_to_right, operator.call, -0.0
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
