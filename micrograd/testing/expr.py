"""Expressions as plain data, evaluable by micrograd and by any other backend.

An :class:`Expr` is a straight-line program: ``n_inputs`` input variables, then a list of
:class:`Node`, each applying one operation (a registry operator, or another Python spelling of
one such as ``a - b``: :data:`~micrograd.testing.opinfo.OPERATIONS`) to earlier values (inputs
or nodes, by index). Sharing an index builds a DAG (``x*x``, ``(a+b)*(a+b)``); the last
node is the output. An ``Expr`` also carries the input points at which it is meant to be
evaluated — drawn so that every operator sits inside its domain there.

Being plain data, the same object can be evaluated with micrograd (:meth:`Expr.value_and_grad`),
with plain floats (:meth:`Expr.evaluate`), by another engine (:meth:`Expr.wire`, through the
conformance kit's adapter), translated for PyTorch, JAX or SymPy (:meth:`Expr.lower` writes
spellings as the registry operators micrograd builds them from), and printed as a short
runnable Python snippet (:meth:`Expr.snippet`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import Value
from ..ops import float_literal
from .domains import BOUND, MARGIN
from .opinfo import OPERATIONS, Operation

__all__ = ["Const", "Expr", "Node"]

Const = float | None
"""A node's number argument: a float for the ``*_const`` operators, else ``None``."""

#: Each operation's float rule (:meth:`Operation.forward`), looked up once: values() is the
#: innermost loop of finite differences and of the strategies' domain checks.
_FORWARD = {o.name: o.op.forward if o.primitive else o.forward for o in OPERATIONS.values()}


@dataclass(frozen=True, slots=True)
class Node:
    """One operation: ``OPERATIONS[op]`` applied to the values at ``args`` (and ``c``)."""

    op: str
    args: tuple[int, ...]
    c: Const = None

    @property
    def operation(self) -> Operation:
        return OPERATIONS[self.op]


@dataclass(frozen=True, slots=True)
class Expr:
    """A straight-line program: inputs ``0 .. n_inputs-1``, then node ``k`` is value ``n_inputs+k``.

    ``points`` holds the input values at which the expression is meant to be evaluated, one
    tuple of ``n_inputs`` floats per point.
    """

    n_inputs: int
    nodes: tuple[Node, ...]
    points: tuple[tuple[float, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.n_inputs < 1:
            raise ValueError(
                f"an expression needs at least one input, got n_inputs={self.n_inputs}"
            )
        if not self.nodes:
            raise ValueError("an expression needs at least one node")
        for k, node in enumerate(self.nodes):
            op = OPERATIONS.get(node.op)
            if op is None:
                raise ValueError(f"node {k}: unknown operation {node.op!r}")
            if not node.args or not op.accepts(len(node.args)):
                raise ValueError(f"node {k}: {op.name} takes {op.arity} operands, got {node.args}")
            if any(not 0 <= i < self.n_inputs + k for i in node.args):
                raise ValueError(f"node {k}: operands {node.args} must refer to earlier values")
            if (node.c is not None) != op.has_const:
                raise ValueError(f"node {k}: {op.name} {'needs' if op.has_const else 'takes no'} c")
        for p in self.points:
            if len(p) != self.n_inputs:
                raise ValueError(f"point {p} has {len(p)} values for {self.n_inputs} inputs")

    # --- structure -----------------------------------------------------------------------------

    @property
    def output(self) -> int:
        """Index of the output value (the last node)."""
        return self.n_inputs + len(self.nodes) - 1

    @property
    def ops(self) -> frozenset[str]:
        """Names of the operators used."""
        return frozenset(node.op for node in self.nodes)

    def uses(self) -> list[int]:
        """How many times each value (inputs, then nodes) is used as an operand."""
        counts = [0] * (self.n_inputs + len(self.nodes))
        for node in self.nodes:
            for i in node.args:
                counts[i] += 1
        return counts

    def depth(self) -> int:
        """Length of the longest path from an input to the output."""
        d = [0] * self.n_inputs
        for node in self.nodes:
            d.append(1 + max(d[i] for i in node.args))
        return d[-1]

    @classmethod
    def trace(
        cls,
        output: Value,
        inputs: Sequence[Value],
        points: Sequence[Sequence[float]] | None = None,
    ) -> Expr:
        """The expression a micrograd graph computes: ``output`` as a function of ``inputs``.

        Every leaf the output depends on must be one of ``inputs``. ``points`` defaults to the
        inputs' current values. Use it to check any graph built with the public API (composite
        operators such as ``a - b`` appear as the primitives they are built from).
        """
        index = {id(v): i for i, v in enumerate(inputs)}
        if len(index) != len(inputs):
            raise ValueError("inputs must be distinct Values")
        order: list[Value] = []
        seen = set(index)
        stack: list[tuple[Value, bool]] = [(output, False)]
        while stack:  # iterative post-order: parents before the nodes that use them
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.op is None:
                raise ValueError(f"{node!r} is a leaf the output depends on but not an input")
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node.parents))
        nodes = []
        for node in order:
            assert node.op is not None
            nodes.append(Node(node.op.name, tuple(index[id(p)] for p in node.parents), node.arg))
            index[id(node)] = len(inputs) + len(nodes) - 1
        if not nodes:
            raise ValueError("the output is an input: there is nothing to trace")
        pts = [[v.data for v in inputs]] if points is None else points
        return cls(len(inputs), tuple(nodes), tuple(tuple(map(float, p)) for p in pts))

    def with_points(self, points: Sequence[Sequence[float]]) -> Expr:
        """The same program, to be evaluated at other points."""
        return Expr(self.n_inputs, self.nodes, tuple(tuple(map(float, p)) for p in points))

    # --- evaluation ----------------------------------------------------------------------------

    def values(self, point: Sequence[float]) -> list[float]:
        """Every value (inputs, then nodes) at ``point``: plain floats and the registry rules."""
        vals = [float(x) for x in point]
        for node in self.nodes:
            operands = [vals[i] for i in node.args]
            if node.c is not None:
                operands.append(node.c)
            vals.append(_FORWARD[node.op](*operands))
        return vals

    def inside(self, point: Sequence[float]) -> bool:
        """Whether every node at ``point`` is inside its domain as random examples keep it (clear
        of poles and kinks, tame, its value finite and within ``BOUND``)."""
        vals = self.values(point)
        for k, node in enumerate(self.nodes):
            operands = [vals[i] for i in node.args]
            domain = OPERATIONS[node.op].domain
            if not (domain.clear(operands, node.c, MARGIN) and domain.tame(operands, node.c)):
                return False
            v = vals[self.n_inputs + k]
            if not (math.isfinite(v) and abs(v) <= BOUND):
                return False
        return True

    def at_kink(self) -> bool:
        """Whether a node is applied exactly at one of its kinks (``relu`` or ``abs`` at 0) at
        one of the points, where conventions for the gradient differ between engines."""
        for point in self.points:
            vals = self.values(point)
            for node in self.nodes:
                kinks = OPERATIONS[node.op].domain.kinks
                if any(vals[i] in kinks for i in node.args):
                    return True
        return False

    def lower(self) -> Expr:
        """The same function over registry operators only, as micrograd builds it (``a - b`` is
        ``a + (-b)``): what the oracles and the error analysis read."""
        if all(OPERATIONS[node.op].primitive for node in self.nodes):
            return self
        leaves = [Value(x) for x in (self.points[0] if self.points else [1.0] * self.n_inputs)]
        return Expr.trace(self.build(leaves), leaves, self.points)

    def wire(self) -> dict[str, Any]:
        """The program as JSON-ready data for another engine's process: adapter method names."""
        steps = []
        for node in self.nodes:
            method = OPERATIONS[node.op].method
            if method is None:
                raise ValueError(f"{node.op} is micrograd's own API: other engines lack it")
            steps.append([method, list(node.args), node.c])
        return {"n_inputs": self.n_inputs, "steps": steps}

    def evaluate(self, point: Sequence[float]) -> float:
        """The output at ``point`` with plain floats (no graph is built)."""
        return self.values(point)[-1]

    def build(self, inputs: Sequence[Value]) -> Value:
        """The micrograd graph of this expression on ``inputs``, built by the public operators."""
        return self.build_values(inputs)[-1]

    def build_values(self, inputs: Sequence[Value]) -> list[Value]:
        """Like :meth:`build`, returning every value: the inputs, then one per node."""
        if len(inputs) != self.n_inputs:
            raise ValueError(f"expected {self.n_inputs} inputs, got {len(inputs)}")
        vals: list[Value] = list(inputs)
        for node in self.nodes:
            apply = OPERATIONS[node.op].apply(len(node.args), node.c)
            vals.append(apply(*[vals[i] for i in node.args]))
        return vals

    def value_and_grad(self, point: Sequence[float]) -> tuple[float, tuple[float, ...]]:
        """The output and its gradient with respect to each input, by micrograd's ``backward()``."""
        leaves = [Value(x) for x in point]
        out = self.build(leaves)
        out.backward()
        return out.data, tuple(leaf.grad for leaf in leaves)

    # --- source --------------------------------------------------------------------------------

    def source(self, names: Sequence[str] | None = None) -> str:
        """The output as one Python expression over input names (shared nodes are repeated)."""
        names = list(names) if names is not None else [f"x{i}" for i in range(self.n_inputs)]
        code = list(names)
        for node in self.nodes:
            code.append(_render(node, [_wrap(code[i]) for i in node.args]))
        return code[-1]

    def snippet(
        self,
        point: Sequence[float] | None = None,
        *,
        header: Sequence[str] = ("from micrograd import Value",),
        adapter: str | None = None,
        mode: str = "",
    ) -> str:
        """A runnable Python snippet that builds this expression at ``point`` and prints the
        output's value and the inputs' gradients.

        Nodes used more than once get a name (``t3 = ...``); the others are written inline.
        ``header`` makes ``Value`` (or the adapter) available; with ``adapter``, every step is a
        call of that adapter object's methods (``A.mul(x0, x1)``). ``mode`` ``"twice"`` calls
        ``backward()`` again; ``"zeroed"`` zeroes the inputs' gradients and calls it again, three
        times (as the laws do).
        """
        if point is None:
            if not self.points:
                raise ValueError("no point given and the expression has none")
            point = self.points[0]
        uses = self.uses()
        code = [f"x{i}" for i in range(self.n_inputs)]
        make = "Value" if adapter is None else f"{adapter}.value"
        lines = [*header, ""]
        lines += [f"x{i} = {make}({_literal(x)})" for i, x in enumerate(point)]
        for k, node in enumerate(self.nodes):
            index = self.n_inputs + k
            operands = [code[i] for i in node.args]
            if adapter is None:
                text = OPERATIONS[node.op].source(*operands, c=node.c)
            else:
                method = self.wire()["steps"][k][0]
                extra = [] if node.c is None else [_literal(node.c)]
                text = f"{adapter}.{method}({', '.join(operands + extra)})"
            if index == self.output:
                lines.append(f"out = {text}")
            elif uses[index] > 1:
                lines.append(f"t{index} = {text}")
                code.append(f"t{index}")
            else:
                code.append(_wrap(text) if adapter is None else text)
        xs = [f"x{i}" for i in range(self.n_inputs)]
        if adapter is None:
            backward, zero = "out.backward()", "; ".join(f"{x}.grad = 0.0" for x in xs)
            grads = ", ".join(f"{x}.grad" for x in xs)
            data = "out.data"
        else:
            backward = f"{adapter}.backward(out)"
            zero = "; ".join(f"{adapter}.zero_grad({x})" for x in xs)
            grads = ", ".join(f"{adapter}.grad({x})" for x in xs)
            data = f"{adapter}.data(out)"
        lines.append(backward)
        if mode == "twice":
            lines.append(backward)
        elif mode == "zeroed":
            lines += ["for _ in range(3):", f"    {zero}", f"    {backward}"]
        lines.append(f"print({data}, [{grads}])")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.source()


def _literal(x: float) -> str:
    text = float_literal(float(x))
    return text[1:-1] if text.startswith("(") else text


def _render(node: Node, operands: Sequence[str]) -> str:
    return OPERATIONS[node.op].source(*operands, c=node.c)


def _wrap(code: str) -> str:
    return code if code.isidentifier() else f"({code})"
