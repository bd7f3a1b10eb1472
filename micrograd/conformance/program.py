"""The operations the kit checks, and programs over them.

An engine is checked through Python syntax (``c - a`` is ``__rsub__``), not through micrograd's
primitive operators (``c - a`` is ``neg`` then ``add_const`` here), because the syntax is what the
engine implements and what its bugs are attached to. Each :class:`Operation` knows its syntax,
how many values and numbers it takes, and which registry operator's domain its operands keep to;
a :class:`Program` is a straight-line program of such operations, the kit's counterpart of
:class:`micrograd.testing.Expr`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine import Value
from ..ops import float_literal
from ..testing.expr import Expr
from ..testing.opinfo import RECORDS
from . import _worker
from .adapter import Adapter

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from ..testing.strategies import OpSpec

__all__ = ["OPERATIONS", "Operation", "Program", "Step", "programs"]


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the engine's API: ``syntax`` over ``{0}``, ``{1}`` (values) and ``{c}``."""

    name: str
    syntax: str
    values: int
    has_const: bool
    registry: str  # the registry operator whose domain the operands keep to

    @property
    def label(self) -> str:
        """The syntax over ``a``, ``b`` and ``c``, as the report shows it."""
        return self.syntax.format("a", "b", c="c")

    def render(self, operands: Sequence[str], c: float | None) -> str:
        return self.syntax.format(*operands, c=float_literal(c) if c is not None else "")


def _op(name: str, syntax: str, registry: str) -> Operation:
    return Operation(name, syntax, 2 if "{1}" in syntax else 1, "{c}" in syntax, registry)


#: Every operation, in report order: each registry operator's spellings (``OpInfo.kit``). The
#: names are :class:`Adapter`'s methods; an operation spelled as a method call (``{0}.sin()``)
#: that the adapter does not define is called on the value.
OPERATIONS: dict[str, Operation] = {
    method: _op(method, syntax, info.name)
    for info in RECORDS.values()
    for method, syntax in info.kit
}


def wire_table() -> dict[str, list[Any]]:
    """What the engine's process needs to know of each operation (it cannot import micrograd):
    ``[values, takes a number, the method name if spelled as a call on the value]``."""
    return {
        name: [op.values, op.has_const, _called_method(op.syntax)]
        for name, op in OPERATIONS.items()
    }


def _called_method(syntax: str) -> str | None:
    """``sin`` for ``{0}.sin()``; ``None`` for any other syntax."""
    call = re.fullmatch(r"\{0\}\.([A-Za-z_]\w*)\(\)", syntax)
    return call.group(1) if call else None


_worker.OPERATIONS.update(wire_table())  # the kit runs programs on micrograd with the worker's code

_OURS = Adapter(Value)


@dataclass(frozen=True, slots=True)
class Step:
    """``OPERATIONS[op]`` applied to the values at ``args`` (and the number ``c``)."""

    op: str
    args: tuple[int, ...]
    c: float | None = None


@dataclass(frozen=True, slots=True)
class Program:
    """Inputs ``0 .. n_inputs-1``, then step ``k`` makes value ``n_inputs + k``; the last step is
    the output. ``points`` are input values at which to evaluate it."""

    n_inputs: int
    steps: tuple[Step, ...]
    points: tuple[tuple[float, ...], ...] = ()

    def __post_init__(self) -> None:
        for k, step in enumerate(self.steps):
            op = OPERATIONS.get(step.op)
            if op is None:
                raise ValueError(f"step {k}: unknown operation {step.op!r}")
            if len(step.args) != op.values or (step.c is not None) != op.has_const:
                raise ValueError(f"step {k}: {op.label} does not take {step.args}, c={step.c}")
            if any(not 0 <= i < self.n_inputs + k for i in step.args):
                raise ValueError(f"step {k}: operands {step.args} must refer to earlier values")
        if not self.steps:
            raise ValueError("a program needs at least one step")

    @property
    def ops(self) -> frozenset[str]:
        return frozenset(step.op for step in self.steps)

    def with_points(self, points: Sequence[Sequence[float]]) -> Program:
        return Program(self.n_inputs, self.steps, tuple(tuple(map(float, p)) for p in points))

    def wire(self) -> dict[str, Any]:
        """The program as JSON-ready data, for the process that runs the engine."""
        return {
            "n_inputs": self.n_inputs,
            "steps": [[s.op, list(s.args), s.c] for s in self.steps],
        }

    def source(self) -> str:
        """The output as one expression over ``x0, x1, ...`` (shared values repeated)."""
        code = [f"x{i}" for i in range(self.n_inputs)]
        for step in self.steps:
            code.append(OPERATIONS[step.op].render([_wrap(code[i]) for i in step.args], step.c))
        return code[-1]

    def lines(
        self, point: Sequence[float], *, adapter: str | None = None, twice: bool = False
    ) -> list[str]:
        """Statements that build the program at ``point``, backpropagate (``twice``: two times)
        and print the results: in plain syntax on ``Value``, or as calls on the adapter object
        named ``adapter``."""
        out = self.n_inputs + len(self.steps) - 1
        names = [f"x{i}" for i in range(self.n_inputs)] + [
            "out" if k == out else f"t{k}" for k in range(self.n_inputs, out + 1)
        ]
        if adapter is None:
            lines = [f"x{i} = Value({_literal(x)})" for i, x in enumerate(point)]
        else:
            lines = [f"x{i} = {adapter}.value({_literal(x)})" for i, x in enumerate(point)]
        for k, step in enumerate(self.steps):
            operands = [names[i] for i in step.args]
            if adapter is None:
                text = OPERATIONS[step.op].render(operands, step.c)
            else:
                extra = [_literal(step.c)] if step.c is not None else []
                text = f"{adapter}.{step.op}({', '.join(operands + extra)})"
            lines.append(f"{names[self.n_inputs + k]} = {text}")
        inputs = [f"x{i}" for i in range(self.n_inputs)]
        times = 2 if twice else 1
        if adapter is None:
            grads = ", ".join(f"{x}.grad" for x in inputs)
            lines += ["out.backward()"] * times + [f"print(out.data, [{grads}])"]
        else:
            grads = ", ".join(f"{adapter}.grad({x})" for x in inputs)
            lines += [f"{adapter}.backward(out)"] * times
            lines.append(f"print({adapter}.data(out), [{grads}])")
        return lines

    def lower(self, point: Sequence[float] | None = None) -> Expr:
        """The registry expression micrograd builds for this program (for the oracles)."""
        point = point if point is not None else self.points[0]
        leaves = [Value(x) for x in point]
        vals = list(leaves)
        for step in self.steps:
            vals.append(apply_step(_OURS, step, vals))
        return Expr.trace(vals[-1], leaves, [point])

    def __str__(self) -> str:
        return self.source()


def apply_step(adapter: Any, step: Step, vals: Sequence[Any]) -> Any:
    """Apply one step through ``adapter`` to the values computed so far."""
    operands = [vals[i] for i in step.args]
    method = _worker.operation(adapter, step.op)
    return method(*operands, step.c) if step.c is not None else method(*operands)


def _literal(x: float) -> str:
    text = float_literal(float(x))
    return text[1:-1] if text.startswith("(") else text


def _wrap(code: str) -> str:
    return code if code.isidentifier() else f"({code})"


def _forward(name: str) -> Any:
    def forward(*args: float) -> float:
        op = OPERATIONS[name]
        operands = [Value(a) for a in args[: op.values]]
        c = args[op.values] if op.has_const else None
        result: Value = apply_step(_OURS, Step(name, tuple(range(op.values)), c), operands)
        return result.data

    return forward


def op_spec(name: str) -> OpSpec:
    """What the strategies need to know of an operation: its shape, float rule and domain."""
    from ..testing.strategies import OpSpec

    op = OPERATIONS[name]
    return OpSpec(name, op.values, 1, op.has_const, _forward(name), RECORDS[op.registry].domain)


def programs(
    *,
    ops: Sequence[str],
    require: str | None = None,
    max_inputs: int = 2,
    max_steps: int = 4,
    points: int = 4,
    shared: bool = True,
) -> st.SearchStrategy[Program]:
    """Random programs over ``ops``: the strategy of :func:`micrograd.testing.expressions`
    (same domains, no filtering, same shrinking) drawn over the operations' syntax."""
    from ..testing.strategies import RawProgram, _Config, draw_program

    spec = op_spec
    specs = tuple(spec(name) for name in ops)
    if not specs:
        raise ValueError("ops must name at least one operation")
    cfg = _Config(
        specs,
        spec(require) if require is not None else None,
        max_inputs,
        max_steps,
        None,
        points,
        False,
        shared,
    )

    def to_program(raw: RawProgram) -> Program:
        n, nodes, pts = raw
        return Program(n, tuple(Step(name, args, c) for name, args, c in nodes), pts)

    return draw_program(cfg).map(to_program)
