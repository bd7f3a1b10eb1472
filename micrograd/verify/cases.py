"""Fixed cases, checked before any random example: small programs that find a rule's bug first.

Every case is an :class:`~micrograd.testing.Expr` at points inside its operations' domains (as
the strategies keep them), except the deliberate ones: the kinks of ``relu`` and ``abs``,
integer powers at 0, operands far out in the finite domain (each record's ``wide``), and the
edges: the points where a textbook rule is not defined
(``x ** 0`` at 0 is ``0 * 0 ** -1``, ``1 / 0``, ``log 0``, overflow), where micrograd's contract
gives PyTorch's IEEE results and Python's ``math`` raises or returns ``complex``. An engine
that differs there *differs*; it fails only under ``--strict``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from ..testing.expr import Expr, Node
from ..testing.opinfo import OPERATIONS
from ..testing.oracles import micrograd_evaluation

__all__ = ["EDGES", "operation_cases", "reuse_cases", "shared_cases"]

_POINTS: Final = ((0.75, 1.25), (0.0, 2.0), (-1.5, 2.5), (2.0, -0.5), (0.3, 3.0))
_CONSTANTS: Final = (2.0, -0.5, 3.0, 0.5)


def _at_valid_points(nodes: tuple[Node, ...], n_inputs: int, limit: int = 3) -> list[Expr]:
    """``nodes`` at up to ``limit`` of the fixed points where every node is inside its domain
    and the gradient is finite; none if there is no such point."""
    bare = Expr(n_inputs, nodes)
    good = []
    for p in (p[:n_inputs] for p in _POINTS):
        if bare.inside(p):
            grads = micrograd_evaluation(bare.with_points([p])).grads[0]
            if all(math.isfinite(g) for g in grads):
                good.append(p)
    return [bare.with_points(good[:limit])] if good else []


def operation_cases(name: str) -> list[Expr]:
    """Fixed programs for one operation: once, on one input twice, composed with itself."""
    op = OPERATIONS[name]
    domain = op.domain
    consts: Sequence[float | None] = (None,)
    if op.has_const:
        consts = [
            c for c in _CONSTANTS if any(lo <= c <= hi for lo, hi in domain.constants)
        ] or list(domain.favoured)
    out: list[Expr] = []
    for c in consts[:2]:
        if op.arity != 1:  # binary, or dot on vectors of one
            shapes = [
                ((Node(name, (0, 1), c),), 2),
                ((Node(name, (0, 0), c),), 1),
                ((Node(name, (0, 1), c), Node(name, (2, 0), c)), 2),
            ]
        else:
            shapes = [((Node(name, (0,), c),), 1), ((Node(name, (0,), c), Node(name, (1,), c)), 1)]
        for nodes, n in shapes:
            out += _at_valid_points(nodes, n)
    for kink in domain.kinks:
        out.append(Expr(1, (Node(name, (0,)),), ((kink,),)))
    for wide in op.info.wide:  # far out in the finite domain: a clamped rule fails here
        n = len(wide) - op.has_const
        c = wide[-1] if op.has_const else None
        out.append(Expr(n, (Node(name, tuple(range(n)), c),), (wide[:n],)))
    if name == "pow_const":  # integer powers at 0, where the rule c * x ** (c - 1) is defined
        out += [Expr(1, (Node(name, (0,), c),), ((0.0,),)) for c in (1.0, 2.0)]
    return out


def _first(ok: Sequence[str], *names: str) -> str | None:
    return next((n for n in names if n in ok), None)


def reuse_cases(ok: Sequence[str]) -> list[Expr]:
    """An input used twice: ``x op x`` and ``(x op 2) op2 x``, over operations that passed their
    own rows (a rule's bug fails its own row, not this one)."""
    out = []
    for name in ("add", "mul", "sub", "div", "pow"):
        if name in ok:
            out += _at_valid_points((Node(name, (0, 0)),), 1)
    inner = _first(ok, "mul_const", "add_const", "rmul_const", "radd_const")
    outer = _first(ok, "add", "mul", "sub")
    if inner and outer:
        out += _at_valid_points((Node(inner, (0,), 2.0), Node(outer, (1, 0))), 1)
    return out


def shared_cases(ok: Sequence[str]) -> list[Expr]:
    """A subexpression used twice: ``t = op(x); t + t`` — needs a topological order; over
    operations that passed their own rows."""
    combine = _first(ok, "add", "mul", "sub")
    if combine is None:
        return []
    out = []
    for name in (n for n in ("mul", "add", "tanh", "exp", "mul_const") if n in ok):
        op = OPERATIONS[name]
        n = 1 if op.arity == 1 else 2
        first = Node(name, tuple(range(n)), 2.0 if op.has_const else None)
        out += _at_valid_points((first, Node(combine, (n, n))), n)
        # a longer chain: t reaches the output along paths of different lengths
        out += _at_valid_points((first, Node(combine, (n, 0)), Node(combine, (n + 1, n))), n)
    return out


def _edge(name: str, c: float | None, *points: float) -> Expr:
    return Expr(1, (Node(name, (0,), c),), tuple((x,) for x in points))


#: The edge cases: IEEE results where Python's ``math`` raises or returns ``complex``.
EDGES: Final[tuple[tuple[str, str, Expr], ...]] = (
    ("edge_exp", "edge: exp(1000) overflows to inf", _edge("exp", None, 1000.0)),
    ("edge_tanh", "edge: tanh(±1000) is ±1, gradient 0", _edge("tanh", None, 1000.0, -1000.0)),
    (
        "edge_sigmoid",
        "edge: sigmoid(±1000) is 1 or 0, gradient 0",
        _edge("sigmoid", None, 1000.0, -1000.0),
    ),
    ("edge_log", "edge: log(0) is -inf", _edge("log", None, 0.0)),
    (
        "edge_div_zero",
        "edge: division by zero gives inf",
        Expr(2, (Node("div", (0, 1)),), ((1.0, 0.0),)),
    ),
    ("edge_pow_zero", "edge: x ** 0 at 0 is 1, gradient 0", _edge("pow_const", 0.0, 0.0)),
    ("edge_sqrt", "edge: x ** 0.5 at 0 has gradient inf", _edge("pow_const", 0.5, 0.0)),
    ("edge_complex", "edge: (-4) ** 0.5 is nan, not complex", _edge("pow_const", 0.5, -4.0)),
)
