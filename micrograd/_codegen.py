"""A tape's graph as generated code: the forward pass and the backward walk as straight-line
Python, each node written out from its replay templates (see the notes below)."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

from ._graph import Graph, Walk
from ._interpreter import template_fields
from .ops import REPLAY_NAMES, Op, float_literal

__all__ = ["forward_source", "generate", "vjp_template"]

_SUM_CHUNK: Final = 64  # terms per statement of a generated sum (the compiler recurses on each)
_UNPACK_CHUNK: Final = 256  # names per generated tuple display or unpacking
_T = TypeVar("_T")

# Two functions of straight-line code. ``forward(L)`` reads the given leaves L (a tuple), computes
# every node as its forward template says, with operands as local names and constants as exact
# literals, and returns the output with the values the backward pass reads. ``backward(L, S,
# seed)`` finishes the nodes in the walk's order, ``g<k> = ...`` each, and ends with one sum per
# leaf. A contribution is written where it is added, as its vjp template says: computing one has
# no effect but its value, so only the order of the additions into each sum is the engine's to
# keep, and it is.


def forward_source(op: Op, operands: Sequence[str], c: str) -> str:
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


def vjp_template(op: Op, j: int, operands: Sequence[_T]) -> tuple[str, Sequence[_T]]:
    """The vjp template of ``op``'s operand ``j`` and the operands its ``{0}``, ``{1}``, ...
    stand for: all of them, or for a variadic operator those at ``j``'s position in each group."""
    rule = op.replay
    assert rule is not None
    if op.arity >= 0:
        return rule.vjp[j], operands
    m = len(operands) // op.groups
    return rule.vjp[j // m], operands[j % m :: m]


def generate(graph: Graph, walk: Walk) -> tuple[Callable[..., Any], Callable[..., Any], str]:
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
        template, picked = vjp_template(op, e - first[k], slots)
        used = fields.get(template)
        if used is None:
            used = fields[template] = template_fields(template)
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
        text = forward_source(op, [names[s] for s in slots], literal(c))
        forward.append(f"    v{base + k} = {text}")
    tuples = "".join(f"({''.join(f'v{s}, ' for s in chunk)}), " for chunk in chunks)
    forward.append(f"    return {names[graph.root]}, ({tuples})")

    text = "\n".join(forward) + "\n\n" + "\n".join(backward) + "\n"
    exec(compile(text, "<micrograd.tape generated code>", "exec"), namespace)
    return namespace["forward"], namespace["backward"], text
