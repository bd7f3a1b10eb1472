"""Expressions as plain data, evaluable by micrograd and by any other backend.

An :class:`Expr` is a straight-line program over the operator registry: ``n_inputs`` input
variables, then a list of :class:`Node`, each applying one registry operator to earlier values
(inputs or nodes, by index). Sharing an index builds a DAG (``x*x``, ``(a+b)*(a+b)``); the last
node is the output. An ``Expr`` also carries the input points at which it is meant to be
evaluated — drawn so that every operator sits inside its domain there.

Being plain data, the same object can be evaluated with micrograd (:meth:`Expr.value_and_grad`),
with plain floats (:meth:`Expr.evaluate`), translated for PyTorch, JAX or SymPy, and printed as a
short runnable Python snippet (:meth:`Expr.snippet`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..engine import Value
from ..ops import OPS, Op, float_literal

__all__ = ["Const", "Expr", "Node"]

Const = float | None
"""A node's number argument: a float for the ``*_const`` operators, else ``None``."""


@dataclass(frozen=True, slots=True)
class Node:
    """One operator application: ``OPS[op]`` applied to the values at ``args`` (and ``c``)."""

    op: str
    args: tuple[int, ...]
    c: Const = None

    @property
    def spec(self) -> Op:
        """The registry entry."""
        return OPS[self.op]


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
            op = OPS.get(node.op)
            if op is None:
                raise ValueError(f"node {k}: unknown operator {node.op!r}")
            if not node.args or not _accepts(op, len(node.args)):
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
            op = OPS[node.op]
            vals.append(op.forward(*operands, node.c) if op.has_const else op.forward(*operands))
        return vals

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
            vals.append(_apply(node.op, len(node.args), node.c)(*[vals[i] for i in node.args]))
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

    def snippet(self, point: Sequence[float] | None = None) -> str:
        """A runnable Python snippet that builds this expression at ``point`` and prints results.

        Nodes used more than once get a name (``t3 = ...``); the others are written inline.
        """
        if point is None:
            if not self.points:
                raise ValueError("no point given and the expression has none")
            point = self.points[0]
        uses = self.uses()
        code = [f"x{i}" for i in range(self.n_inputs)]
        lines = ["from micrograd import Value", ""]
        lines += [f"x{i} = Value({float_literal(float(x))})" for i, x in enumerate(point)]
        for k, node in enumerate(self.nodes):
            index = self.n_inputs + k
            text = _render(node, [code[i] for i in node.args])
            if index == self.output:
                lines.append(f"out = {text}")
            elif uses[index] > 1:
                lines.append(f"t{index} = {text}")
                code.append(f"t{index}")
            else:
                code.append(_wrap(text))
        grads = ", ".join(f"x{i}.grad" for i in range(self.n_inputs))
        lines += ["out.backward()", f"print(out.data, {grads})"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.source()


def _accepts(op: Op, n: int) -> bool:
    return n == op.arity if op.arity >= 0 else op.accepts(n)


def _render(node: Node, operands: Sequence[str]) -> str:
    return OPS[node.op].source(*operands, c=node.c)


def _wrap(code: str) -> str:
    return code if code.isidentifier() else f"({code})"


def _apply(op_name: str, n: int, c: Const) -> Callable[..., Value]:
    """A function applying ``op_name`` to ``n`` values through its public Python syntax."""
    names = [f"x{i}" for i in range(n)]
    return _compile(
        f"lambda {', '.join(names)}: {_render(Node(op_name, tuple(range(n)), c), names)}"
    )


@functools.lru_cache(maxsize=4096)
def _compile(src: str) -> Callable[..., Value]:
    # keyed by the source, not the constant: -0.0 == 0.0 and nan != nan would confuse the cache
    fn: Callable[..., Value] = eval(src, {"Value": Value, "micrograd": _micrograd()})
    return fn


def _micrograd() -> object:
    import micrograd

    return micrograd
