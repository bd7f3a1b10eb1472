"""A tape's graph replayed for many points at once, with NumPy: :meth:`micrograd.Tape.batch`.

Every value of the graph becomes a row of an array, one column per point, and each wave of the
interpreter (nodes of one operator that do not depend on each other) becomes a few array
operations. The rules are the registry's replay templates (:attr:`micrograd.Op.replay`), each
translated once into array code: ``+``, ``-``, ``*``, comparisons and ``a if cond else b`` (with
``and`` and ``or`` in ``cond``, where a truth value is all they give) as NumPy's elementwise
operations, which are the same IEEE-754 operations on every element as Python's on floats; a
function of :data:`micrograd.ops.REPLAY_NAMES` as its array form in
:data:`_ARRAY_FORMS` where one is known to give the same bits, else the function itself applied
to each element. So every point's value and gradients are, bit for bit, what the scalar engine
gives for that point alone; the property tests check it for every operator.

``dot``'s exactly rounded sum is the one array form that is not one NumPy call: the products'
sum is computed with its rounding errors (error-free additions), and a point's result is kept
only where the error bound proves it is the exactly rounded sum; the few others (sums next to a
rounding boundary, overflow, inf and nan) are summed again by the scalar rule itself.

This module imports NumPy; :mod:`micrograd.tape` imports it only when :meth:`Tape.batch` is
called.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from .ops import OPS, REPLAY_NAMES, Op

__all__ = ["Program", "coverage"]

Array = npt.NDArray[np.float64]


def _pairwise(x: Array) -> tuple[Array, Array | None]:
    """``(s, e)``: the sum of ``x`` along axis 0 by pairwise float additions, and the rounding
    error of each addition (Knuth's TwoSum: exact without overflow), so that the exact sum is
    ``s + sum(e)``; ``e`` is ``None`` for a single term."""
    errors = []
    while len(x) > 1:
        h = len(x) // 2
        a, b = x[:h], x[h : 2 * h]
        t = a + b
        bp = t - a
        errors.append((a - (t - bp)) + (b - bp))
        x = t if len(x) == 2 * h else np.concatenate([t, x[2 * h :]])
    return x[0], np.concatenate(errors) if errors else None


def _sum_terms(terms: Array) -> Array:
    """The exactly rounded sum of ``terms`` along axis 0 (a zero sum is ``+0.0``), as
    ``dot``'s rule (``ops._sum_terms``) sums one node's rounded products.

    Error-free pairwise additions give the exact sum ``S = s + E``: ``s`` the terms' float sum,
    ``E`` the exact sum of its ``m - 1`` rounding errors ``e``. Their float sum ``c`` is within
    ``(m - 2) u sum|e|`` of ``E`` (``u = 2**-53``, any order). With ``r = fl(s + c)`` and
    ``s + c = r + t`` (exact), ``S - r = t + (E - c)``: ``r`` is the double nearest ``S`` where
    ``|t|`` plus twice that bound is below half the gap between ``r`` and its nearer neighbour.
    Where it is not (mostly exact ties, ``|t|`` half the gap: adding two floats of one binade
    often errs by exactly half an ulp), and for two or three terms throughout, the errors are
    summed error-free in turn (see :func:`_settle`); the scalar rule sums what is left: sums
    still too close to call, overflow, inf, nan.
    """
    s, e = _pairwise(terms)
    if e is None:
        return s + 0.0
    if len(e) <= 2:  # summing two errors error-free costs less than proving their float sum
        return _settle(terms, s, e) + 0.0
    c = e.sum(axis=0)
    # a bound that underflows to 0 is right: the errors are then subnormal, and so is every
    # partial sum of them, and sums of subnormals are exact
    r, proven = _rounded(s, c, np.abs(e).sum(axis=0) * (len(terms) * 2.3e-16))
    if not proven.all():
        unproven = ~proven
        r[unproven] = _settle(terms[:, unproven], s[unproven], e[:, unproven])
    return r + 0.0  # a zero sum is +0.0


def _rounded(s: Array, c: Array, bound: Array) -> tuple[Array, npt.NDArray[np.bool_]]:
    """``(r, proven)``: ``r = fl(s + c)``, and where it is the double nearest ``s + c + d`` for
    any ``|d| <= bound`` (and finite, with a finite neighbour above: ``|r| < 1e300``)."""
    r = s + c
    rp = r - s
    t = (s - (r - rp)) + (c - rp)
    size = np.abs(r)
    gap = size - np.nextafter(size, 0.0)  # to the neighbour below: the nearer one
    proven = (bound == 0.0) | ((np.abs(t) + bound) * (1.0 + 2.0**-50) < gap * 0.5)
    return r, proven & (size < 1e300)


def _settle(terms: Array, s: Array, e: Array) -> Array:
    """The exact sums of the columns ``terms`` (``s + sum(e)``, from :func:`_pairwise`) that
    :func:`_sum_terms` could not prove: ``sum(e)`` as ``c + sum(e2)`` error-free; ``r`` is then
    proven where every ``e2`` is zero, or by the bound ``sum|e2|``; the scalar rule does the
    rest."""
    c, e2 = _pairwise(e)
    bound = np.zeros_like(c) if e2 is None else np.abs(e2).sum(axis=0) * 1.01
    r, proven = _rounded(s, c, bound)
    scalar = REPLAY_NAMES["sum_terms"]
    for where in zip(*np.nonzero(~proven), strict=True):
        r[where] = scalar(tuple(terms[:, *where].tolist()))
    return r


def _sign(x: Array) -> Array:
    return np.where(x > 0.0, 1.0, np.where(x < 0.0, -1.0, 0.0))


#: Array forms of the functions replay templates call, where NumPy gives the same bits as the
#: scalar function on every element (IEEE-754 division is correctly rounded; ``_math.div`` gives
#: its infinities and nan at a zero divisor). The tests check each against the scalar function.
_ARRAY_FORMS: Final[Mapping[str, Callable[..., Array]]] = {
    "div": np.divide,
    "sign": _sign,
    "sum_terms": _sum_terms,
    "abs": np.abs,
}

_ELEMENTWISE: dict[tuple[str, int], Any] = {}


def _each(name: str) -> Callable[..., Array]:
    """``REPLAY_NAMES[name]`` applied to every element (operands broadcast), as a float array."""
    fn = REPLAY_NAMES[name]

    def each(*args: Array) -> Array:
        ufunc = _ELEMENTWISE.get((name, len(args)))
        if ufunc is None:
            ufunc = _ELEMENTWISE[name, len(args)] = np.frompyfunc(fn, len(args), 1)
        return np.asarray(ufunc(*args), dtype=np.float64)

    return each


_COMPARE: Final = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_ALLOWED: Final = (
    *(ast.Expression, ast.Name, ast.Load, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare),
    *(ast.BoolOp, ast.IfExp, ast.Call),
)


class _Translate(ast.NodeTransformer):
    """A replay template's expression as array code; what it cannot translate, it names."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.truths: list[ast.AST] = []  # nodes used as truth values: conditions, and in them

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
            return node  # its expression says whether it is allowed
        if not isinstance(node, _ALLOWED):
            self.problems.append(f"{type(node).__name__} ({ast.unparse(node)})")
            return node
        if isinstance(node, ast.BinOp) and not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            self.problems.append(f"the operator of {ast.unparse(node)}")
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.USub):
            self.problems.append(f"the operator of {ast.unparse(node)}")
        if isinstance(node, ast.Compare) and not isinstance(node.ops[0], _COMPARE):
            self.problems.append(f"the operator of {ast.unparse(node)}")
        if isinstance(node, ast.Compare) and len(node.ops) != 1:
            self.problems.append(f"the chained comparison {ast.unparse(node)}")
        if isinstance(node, ast.Constant) and type(node.value) is not float:
            self.problems.append(f"the constant {node.value!r}")
        return super().generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        # `a and b` is a or b, a value; np.logical_and gives a truth value: the same only where
        # the result is used as one (the condition of 'a if c else b', or an operand of such)
        if not any(node is truth for truth in self.truths):
            self.problems.append(f"'{ast.unparse(node)}' outside the condition of 'a if c else b'")
        self.truths += node.values
        self.generic_visit(node)
        fn = "_and" if isinstance(node.op, ast.And) else "_or"
        out: ast.expr = node.values[0]
        for v in node.values[1:]:
            out = ast.Call(ast.Name(fn, ast.Load()), [out, v], [])
        return out

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.truths.append(node.test)
        self.generic_visit(node)
        return ast.Call(ast.Name("_where", ast.Load()), [node.test, node.body, node.orelse], [])

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        if node.keywords or name not in {*_ARRAY_FORMS, *REPLAY_NAMES}:
            self.problems.append(f"the call of {name}")
            return node
        callee = f"_array_{name}" if name in _ARRAY_FORMS else f"_each_{name}"
        return ast.Call(ast.Name(callee, ast.Load()), node.args, [])


def _translate(
    template: str, parts: int
) -> tuple[Callable[..., Array] | None, tuple[str, ...], str]:
    """``(function, its parameters, "")``: ``template`` as a function of the fields it uses
    (``x0``, ``x1``, ... for ``{0}``, ``{1}``, ...; ``g``, ``out``, ``c``, ``terms``); or
    ``(None, (), what could not be translated)``."""
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    allowed = {*map(str, range(parts)), "g", "out", "c", "terms"}
    if not set(fields) <= allowed:
        return None, (), f"it has a field other than {sorted(allowed)}"
    names = {f: f"x{f}" if f.isdigit() else f for f in allowed}
    try:
        positional = [f"x{i}" for i in range(parts)]
        text = template.format(*positional, g="g", out="out", c="c", terms="terms")
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        return None, (), f"it does not parse ({error.msg})"
    translate = _Translate()
    body = ast.fix_missing_locations(translate.visit(tree))
    if translate.problems:
        return None, (), "it uses " + ", ".join(translate.problems)
    scope: dict[str, Any] = {"_where": np.where, "_and": np.logical_and, "_or": np.logical_or}
    for name in REPLAY_NAMES:
        scope[f"_each_{name}"] = _each(name)
    for name, form in _ARRAY_FORMS.items():
        scope[f"_array_{name}"] = form
    params = tuple(dict.fromkeys(names[f] for f in fields))
    source = f"lambda {', '.join(params)}: {ast.unparse(body)}"
    return eval(compile(source, "<batched replay>", "eval"), scope), params, ""


_RULES: dict[tuple[Op, str], tuple[Callable[..., Array], tuple[str, ...]]] = {}


def _rule(op: Op, template: str) -> tuple[Callable[..., Array], tuple[str, ...]]:
    """``template`` of ``op`` as array code, and its parameters."""
    rule = _RULES.get((op, template))
    if rule is None:
        fn, params, problem = _translate(template, op.arity if op.arity >= 0 else op.groups)
        if fn is None:
            raise ValueError(_problem(op, template, problem))
        rule = _RULES[op, template] = fn, params
    return rule


def _problem(op: Op, template: str, problem: str) -> str:
    return (
        f"operator {op.name!r}: its replay template {template!r} has no batched form ({problem}; "
        "micrograd/_batch.py translates + - *, comparisons, 'a if c else b' (with 'and' and 'or' "
        "in c) and calls of REPLAY_NAMES)"
    )


def coverage(ops: Mapping[str, Op] = OPS) -> list[str]:
    """One sentence per replay template that :meth:`Tape.batch` cannot translate."""
    problems = []
    for op in ops.values():
        rule = op.replay
        if rule is None:
            continue  # micrograd.tape.coverage() names it
        if op.arity < 0 and not rule.term:
            problems.append(_problem(op, rule.forward, "a variadic forward needs a term template"))
        for template in (rule.forward, *rule.vjp, *([rule.term] if rule.term else [])):
            _, _, problem = _translate(template, op.arity if op.arity >= 0 else op.groups)
            if problem:
                problems.append(_problem(op, template, problem))
    return problems


def _total(D: Array, rows: npt.NDArray[np.intp]) -> Array:
    """For each row of ``rows``, the sum of those rows of ``D``, added left to right."""
    total = D[rows[:, 0]]
    for j in range(1, rows.shape[1]):
        total += D[rows[:, j]]
    return total


class Program:
    """A recorded graph (a :class:`~micrograd._graph.Graph` and its ``Walk``) as array operations
    by wave.

    ``V`` holds a row per slot of the graph (leaves, constants, nodes). ``D`` holds a row per
    edge (a node's contribution to one operand), a row of ``-0.0``, a row holding the seed, and
    a row per given leaf: its gradient. A gradient is a sum of rows of ``D`` from ``-0.0``
    (``-0.0 + x`` is ``x``), in the walk's order: a matrix of rows, padded with the row of
    ``-0.0``. The one contribution to a leaf with one is written into the leaf's row directly.
    """

    def __init__(self, graph: Any, walk: Any) -> None:
        base, ops, operands = graph.base, graph.ops, graph.operands
        self.n_leaves, self.base, self.root = graph.n_leaves, base, graph.root
        self.n_slots = base + len(ops)
        self.constants = np.array(graph.constants, dtype=np.float64)
        first = walk.first
        self.n_edges = pad = first[-1]
        self.leaf_row = leaf_row = pad + 2
        row_of = list(range(pad))  # where each edge's contribution is written
        self.leaf_sums: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
        by_count: dict[int, list[int]] = {}  # the given leaves reached, by their edges' count
        for leaf, edges in walk.leaves.items():
            if len(edges) == 1:
                row_of[edges[0]] = leaf_row + leaf
            else:
                by_count.setdefault(len(edges), []).append(leaf)
        source = {
            k: [pad + 1] if src is None else [src] if isinstance(src, int) else src
            for k, src in walk.pops
        }
        needed = np.zeros(pad + 2, dtype=bool)
        for edges in (*source.values(), *walk.leaves.values()):
            needed[edges] = True

        def rows(lists: Sequence[Sequence[int]]) -> npt.NDArray[np.intp]:
            width = max(map(len, lists))
            return np.array([[*r, *[pad] * (width - len(r))] for r in lists], dtype=np.intp)

        for leaves in by_count.values():
            self.leaf_sums.append(
                (np.array(leaves) + leaf_row, rows([walk.leaves[j] for j in leaves]))
            )
        # a step per wave, by increasing level: (nodes, forward, term, gather, gradients,
        # columns); gather maps a field to the rows of V it reads for every node of the wave,
        # gradients are the rows of D summed into each node's, columns the vjp of each operand
        # and where its contributions go
        self.program: list[tuple[Any, ...]] = []
        for (_, op, width), wave in graph.waves()[1]:
            rule = op.replay
            assert rule is not None
            variadic = op.arity < 0
            parts = op.groups if variadic else op.arity
            m = width // parts if variadic else 1
            nodes = np.array([base + k for k in wave], dtype=np.intp)
            gather: dict[str, Any] = {}
            for j in range(parts):  # operand j (group j: a row per position)
                index = np.array([operands[k][j * m : j * m + m] for k in wave], dtype=np.intp)
                gather[f"x{j}"] = index.T if variadic else index[:, 0]
            if op.has_const:
                gather["c"] = np.array([graph.const_slots[k] for k in wave], dtype=np.intp)
                if variadic:
                    gather["c"] = gather["c"][None]
            columns = []
            for j in range(parts):
                edges = [[first[k] + j * m + i for i in range(m)] for k in wave]
                if needed[edges].any():  # else all its contributions go to constants
                    where = np.array([[row_of[e] for e in es] for es in edges], dtype=np.intp)
                    columns.append((_rule(op, rule.vjp[j]), where.T if variadic else where[:, 0]))
            term = _rule(op, rule.term) if variadic else None
            gradients = rows([source[k] for k in wave])
            step = (nodes, _rule(op, rule.forward), term, gather, gradients, columns, variadic)
            self.program.append(step)

    def run(self, leaf_rows: Array, seed: float) -> tuple[Array, Array]:
        """``(values, gradients)`` for leaf values ``leaf_rows`` (a row per leaf, a column per
        point): the output at each point, and each leaf's gradient at each point, as
        ``backward(seed)`` on that point's graph leaves it from a zero ``.grad``."""
        n = leaf_rows.shape[1]
        V = np.empty((self.n_slots, n))
        V[: self.n_leaves] = leaf_rows
        V[self.n_leaves : self.base] = self.constants[:, None]
        read = []  # each wave's fields, for the backward pass
        with np.errstate(all="ignore"):
            for nodes, (fn, params), term, gather, *_ in self.program:
                fields = {name: V[index] for name, index in gather.items()}
                read.append(fields)
                if term is not None:
                    term_fn, term_params = term
                    value = fn(term_fn(*[fields[p] for p in term_params]))
                else:
                    value = fn(*[fields[p] for p in params])
                V[nodes] = value
                fields["out"] = value[None] if term is not None else value
            D = np.empty((self.leaf_row + self.n_leaves, n))
            D[self.n_edges] = -0.0
            D[self.n_edges + 1] = seed
            D[self.leaf_row :] = 0.0
            if self.root < self.n_leaves:  # the output is a given leaf
                D[self.leaf_row + self.root] = seed
            for step, fields in zip(reversed(self.program), reversed(read), strict=True):
                *_, rows, columns, variadic = step
                g = _total(D, rows)
                fields["g"] = g[None] if variadic else g
                for (fn, params), where in columns:
                    D[where] = fn(*[fields[p] for p in params])
            for where, rows in self.leaf_sums:
                D[where] = _total(D, rows)
            return V[self.root].copy(), D[self.leaf_row :] + 0.0
