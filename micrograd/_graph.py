"""A tape's recorded graph as flat data: slots, operands, the walk's order, the structure.

:mod:`micrograd.tape` records a graph with :func:`trace` into a :class:`Graph`; :class:`Walk`
works out, once, the order in which ``Value.backward`` would pass each contribution on, which
the interpreter (:mod:`micrograd._interpreter`), the generated code (:mod:`micrograd._codegen`)
and the batched replay (:mod:`micrograd._batch`) all follow. :func:`signature` and
:func:`difference` are the structure check's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .engine import Value
from .ops import Op

__all__ = ["Graph", "Walk", "difference", "nodes", "signature", "trace"]

# Slots: every value a tape knows has a slot, in this order: the leaves given to record() (slot i
# is leaves[i]), the constants (the graph's other leaves, the nodes that depend on no given leaf,
# and the number arguments c of *_const nodes), then the interior nodes in an order where operands
# come before the nodes that use them (node k is slot ``base + k``). Edges are numbered node by
# node, operand by operand: edge ``first[k] + j`` is operand j of node k, the contribution
# ``vjp(node k, g)[j]`` that the walk passes to that operand.


class Graph:
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


def nodes(out: Value, leaf_slots: Mapping[int, int]) -> tuple[list[Value], list[Value]]:
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


def signature(
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


def trace(
    out: Value, leaf_slots: Mapping[int, int], order: list[Value], others: list[Value]
) -> Graph:
    """``out``'s graph as flat data, from :func:`nodes`' ``order`` and ``others``.

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
    graph = Graph(n_leaves)
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


class Walk:
    """The order in which ``backward()`` walks the graph, worked out from its structure.

    ``pops``: the interior nodes in the order the walk finishes them, each with where its gradient
    comes from: ``None`` for the output (the seed), an edge for a node with one consumer (the
    contribution itself), or a list of edges (their sum from ``-0.0``, in that order).
    ``leaves``: for each given leaf the walk reaches, the edges of its contributions, in order.
    ``first``: node k's first edge (and, at the end, the number of edges).
    """

    def __init__(self, graph: Graph) -> None:
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


def difference(old: Sequence[tuple[object, ...]], new: Sequence[tuple[object, ...]]) -> str:
    """How structure ``new`` differs from ``old`` (see :func:`signature`), or ``""``."""
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
