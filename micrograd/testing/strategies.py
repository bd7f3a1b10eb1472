"""Hypothesis strategies that draw random expressions over the operations of the registry.

Requires the ``testing`` extra (``pip install "micrograd-verified[testing]"``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from hypothesis import strategies as st

from ..ops import OPS, Op
from .domains import ANY, BOUND, MARGIN, Interval
from .expr import Expr, Node
from .opinfo import ALIASES, OPERATIONS, Operation

__all__ = ["constants", "expressions", "floats_within"]


def expressions(
    *,
    ops: Iterable[str | Op | Operation] | None = None,
    require: str | Op | Operation | None = None,
    max_inputs: int = 3,
    max_nodes: int = 6,
    max_depth: int | None = None,
    points: int = 1,
    kinks: bool = False,
    shared: bool = True,
) -> st.SearchStrategy[Expr]:
    """Random expressions (trees and DAGs) over the operator registry, with evaluation points.

    Args:
        ops: Operations to draw from (names of :data:`~micrograd.testing.opinfo.OPERATIONS`,
            registry operators or operations); default: every registry operator.
        require: An operation every drawn expression uses at least once.
        max_inputs: Most input variables drawn up front (1 or more). An operator whose operands
            would fall outside its domain gets fresh inputs drawn inside it instead, so an
            expression may have a few more.
        max_nodes: Most operator applications (1 or more).
        max_depth: Longest input-to-output path; ``None`` for no limit beyond ``max_nodes``.
        points: How many input points to draw; every operator is inside its domain, away from
            its kinks, at every point.
        kinks: Also apply operators exactly at their kinks (``relu`` and ``abs`` at 0), to check
            the gradient the numeric contract chooses there. Finite differences do not apply to
            such expressions.
        shared: Whether an intermediate value may be an operand more than once (DAGs such as
            ``t = x.exp(); t * t``). With ``False`` only inputs are reused: the expressions are
            trees over their inputs, which isolates the chain rule from the graph walk.

    Operands are drawn from earlier values, so values are reused (``x*x``, ``(a+b)*(a+b)``) and
    several inputs appear; numbers enter through the ``*_const`` operators (``x + c``,
    ``c / x``, ``c ** x``). Inputs lie within ``[-4, 4]``, values within ``±1e4``, and every
    operator at least ``0.1`` from its kinks and poles (see :mod:`micrograd.testing.domains`).
    Nothing is filtered: invalid operands are replaced by fresh valid inputs.

    Examples shrink towards fewer nodes, fewer inputs, earlier operators of ``ops``, operands
    that are the most recent value, and simple numbers.
    """
    allowed = _resolve(ops, "ops") if ops is not None else [OPERATIONS[n] for n in OPS]
    required = _resolve([require], "require")[0] if require is not None else None
    for name, n in (("max_inputs", max_inputs), ("max_nodes", max_nodes), ("points", points)):
        _check_count(name, n)
    if max_depth is not None:
        _check_count("max_depth", max_depth)
    if not allowed:
        raise ValueError("ops must name at least one operator")
    cfg = _Config(
        tuple(allowed),
        required,
        max_inputs,
        max_nodes,
        max_depth,
        points,
        kinks,
        shared,
    )
    return draw_program(cfg).map(_to_expr)


@dataclass(frozen=True)
class _Config:
    ops: tuple[Operation, ...]
    require: Operation | None
    max_inputs: int
    max_nodes: int
    max_depth: int | None
    points: int
    kinks: bool
    shared: bool = True


#: A drawn program: number of inputs, nodes as ``(name, operand indices, c)``, and the points.
RawProgram = tuple[
    int, tuple[tuple[str, tuple[int, ...], float | None], ...], tuple[tuple[float, ...], ...]
]


def _to_expr(raw: RawProgram) -> Expr:
    n_inputs, nodes, pts = raw
    return Expr(n_inputs, tuple(Node(name, args, c) for name, args, c in nodes), pts)


def _check_count(name: str, n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be an int of at least 1, got {n!r}")


def _resolve(ops: Iterable[str | Op | Operation], what: str) -> list[Operation]:
    out = []
    for op in ops:
        if isinstance(op, Operation) and OPERATIONS.get(op.name) == op:
            out.append(op)
        elif isinstance(op, Op) and OPS.get(op.name) is op:
            out.append(OPERATIONS[op.name])
        elif isinstance(op, str) and ALIASES.get(op, op) in OPERATIONS:
            out.append(OPERATIONS[ALIASES.get(op, op)])
        else:
            raise ValueError(f"{what}: {op!r} is not an operation ({', '.join(OPERATIONS)})")
    return out


def floats_within(intervals: tuple[Interval, ...]) -> st.SearchStrategy[float]:
    """Finite, normal floats from the union of ``intervals``."""
    parts = [
        st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)
        for lo, hi in intervals
    ]
    return parts[0] if len(parts) == 1 else st.one_of(parts)


# First inputs shrink towards 1.0, inside every operator's domain, so that minimal counterexamples
# keep their structure; the second branch still draws 0, -0.0 and tiny magnitudes.
_INPUTS: st.SearchStrategy[float] = st.one_of(
    floats_within(ANY).map(lambda u: 1.0 - u / 4.0 * 3.0), floats_within(ANY)
)


def constants(op: Operation) -> st.SearchStrategy[float]:
    """Number arguments ``c`` for ``op``, as the drawn expressions use them."""
    domain = op.domain
    drawn = floats_within(domain.constants or ANY)
    return st.one_of(st.sampled_from(domain.favoured), drawn) if domain.favoured else drawn


#: Each further node is drawn with probability ``_GO_ON / (_GO_ON + 1)``.
_GO_ON = 7


@st.composite
def draw_program(draw: st.DrawFn, cfg: _Config) -> RawProgram:
    # Values are built as "items": ("input", per-point values) or ("node", Node over item indices);
    # inputs drawn along the way are renumbered in front of the nodes at the end.
    values: list[tuple[float, ...]] = []
    is_input: list[bool] = []
    depth: list[int] = []
    nodes: list[tuple[int, Node]] = []
    consumed: list[bool] = []  # an intermediate value already used as an operand

    def fresh(intervals: tuple[Interval, ...]) -> int:
        values.append(tuple(draw(floats_within(intervals)) for _ in range(cfg.points)))
        is_input.append(True)
        depth.append(0)
        consumed.append(False)
        return len(values) - 1

    for _ in range(draw(st.integers(1, cfg.max_inputs))):
        values.append(tuple(draw(_INPUTS) for _ in range(cfg.points)))
        is_input.append(True)
        depth.append(0)
        consumed.append(False)

    # The required operator sits at node ``forced``; after it, each further node is preceded by
    # a "go on" draw (shrinking to "stop"), so that the shrinker can delete any run of nodes —
    # a node count drawn up front would have to shrink together with the nodes it counts.
    forced = draw(st.integers(0, cfg.max_nodes - 1)) if cfg.require is not None else 0
    for k in range(cfg.max_nodes):
        if k > forced and draw(st.integers(0, _GO_ON)) == 0:
            break
        op = (
            cfg.require
            if k == forced and cfg.require is not None
            else draw(st.sampled_from(cfg.ops))
        )
        domain = op.domain
        arity = op.arity if op.arity >= 0 else op.groups * draw(st.integers(1, 3))
        c = draw(constants(op)) if op.has_const else None
        chosen: list[int] = []
        if cfg.kinks and domain.kinks and draw(st.booleans()):
            kink = draw(st.sampled_from(domain.kinks))
            values.append((kink,) * cfg.points)
            is_input.append(True)
            depth.append(0)
            values.append(tuple(op.forward(kink) for _ in range(cfg.points)))
            is_input.append(False)
            depth.append(1)
            consumed += [True, False]
            nodes.append((len(values) - 1, Node(op.name, (len(values) - 2,), c)))
            continue
        for _ in range(arity):
            if cfg.shared:
                back = draw(st.integers(0, len(values) - 1))
                index = len(values) - 1 - back
            else:
                free = [
                    i for i in range(len(values)) if is_input[i] or not (consumed[i] or i in chosen)
                ]
                index = free[len(free) - 1 - draw(st.integers(0, len(free) - 1))]
            if cfg.max_depth is not None and depth[index] >= cfg.max_depth:
                index = fresh(domain.fresh(len(chosen), c))
            chosen.append(index)
        result = _apply_everywhere(op, chosen, c, values)
        if result is None:  # outside the domain somewhere: replace one operand, else all of them
            for slot in range(arity):
                trial = list(chosen)
                trial[slot] = fresh(domain.fresh(slot, c))
                result = _apply_everywhere(op, trial, c, values)
                if result is not None:
                    chosen = trial
                    break
            else:
                chosen = [fresh(domain.fresh(slot, c)) for slot in range(arity)]
                result = _apply_everywhere(op, chosen, c, values)
                assert result is not None, f"fresh operands must be valid for {op.name}"
        values.append(result)
        is_input.append(False)
        depth.append(1 + max(depth[i] for i in chosen))
        for i in chosen:
            consumed[i] = True
        consumed.append(False)
        nodes.append((len(values) - 1, Node(op.name, tuple(chosen), c)))

    # renumber: inputs first (in the order drawn), then nodes; drop inputs nothing uses
    used = {i for _, node in nodes for i in node.args}
    inputs = [i for i, flag in enumerate(is_input) if flag and i in used]
    number = {item: n for n, item in enumerate(inputs)}
    for n, (item, _) in enumerate(nodes):
        number[item] = len(inputs) + n
    renumbered = tuple((nd.op, tuple(number[i] for i in nd.args), nd.c) for _, nd in nodes)
    pts = tuple(tuple(values[i][p] for i in inputs) for p in range(cfg.points))
    return len(inputs), renumbered, pts


def _apply_everywhere(
    op: Operation, chosen: list[int], c: float | None, values: list[tuple[float, ...]]
) -> tuple[float, ...] | None:
    """The op's value at every point, or ``None`` if its operands are not valid at one of them."""
    domain = op.domain
    out = []
    for p in range(len(values[0])):
        operands = [values[i][p] for i in chosen]
        if not (domain.clear(operands, c, MARGIN) and domain.tame(operands, c)):
            return None
        v = op.forward(*operands, *(() if c is None else (c,)))
        if not (math.isfinite(v) and abs(v) <= BOUND):
            return None
        out.append(v)
    return tuple(out)
