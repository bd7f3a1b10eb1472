"""``Tape.batch`` gives, at every point, bit for bit what the engine gives for that point alone.

Random expressions over every registry operator (and every other spelling), recorded once as a
small batch (see ``test_tape.py``), then replayed for several points at once: some of the tape's
leaves take a value per point (points inside every operator's domain, and special values), the
others keep theirs. Each point is compared with ``backward()`` on a graph built anew from leaves
holding that point's values and zero gradients: the output and every leaf's gradient.

``dot``'s exactly rounded sum has an array form of its own; it is checked against the scalar
rule on sums chosen to be hard: exact ties, cancellation, huge and tiny terms, overflow.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import OPS, Value
from micrograd import _batch as batch_module
from micrograd.ops import REPLAY_NAMES
from micrograd.tape import record
from micrograd.testing import Expr, expressions
from micrograd.testing.opinfo import OPERATIONS

from .replays import SEEDS, batch, given_leaves, leaf_values, same


@st.composite
def batches(draw: st.DrawFn, expr: Expr, copies: int) -> tuple[list[bool], list[list[float]]]:
    """Which inputs take a value per point, and one to six points (a value per input each)."""
    n = expr.n_inputs + copies - 1
    varying = draw(st.lists(st.booleans(), min_size=n, max_size=n), label="varying")
    points = []
    for _ in range(draw(st.integers(1, 6), label="points")):
        points.append(leaf_values(draw, expr, n))
    return varying, points


def assert_batch_matches(expr: Expr, copies: int, data: st.DataObject) -> None:
    listed = data.draw(given_leaves(expr, copies), label="listed")
    varying, points = data.draw(batches(expr, copies), label="batch")
    seed = data.draw(st.sampled_from([1.0, 1.0, *SEEDS]), label="seed")
    values = [Value(x) for x in points[0]]
    leaves = [v for v, is_leaf in zip(values, listed, strict=True) if is_leaf]
    tape = record(lambda: batch(expr, values, copies), leaves)
    columns = {
        v: [p[i] for p in points]
        for i, (v, is_leaf, var) in enumerate(zip(values, listed, varying, strict=True))
        if is_leaf and var
    }
    if not columns:
        return  # nothing varies: Tape.batch asks for one leaf at least (a unit test checks it)
    before = [(v.data, v.grad) for v in values]
    result = tape.batch(columns, seed)
    assert [(v.data, v.grad) for v in values] == before  # nothing written
    assert result.values.shape == (len(points),)
    assert result.grads.shape == (len(leaves), len(points))
    for k, point in enumerate(points):
        here = [
            p if (is_leaf and var) else v.data
            for p, v, is_leaf, var in zip(point, values, listed, varying, strict=True)
        ]
        fresh = [Value(x) for x in here]
        out = batch(expr, fresh, copies)
        out.backward(seed)
        where = f"point {k} of {points}, varying {varying}, leaves {listed}, seed {seed}\n"
        where += expr.snippet()
        assert same(float(result.values[k]), out.data), (result.values[k], out.data, where)
        mine = [f for f, is_leaf in zip(fresh, listed, strict=True) if is_leaf]
        for j, leaf in enumerate(mine):
            got = float(result.grads[j, k])
            assert same(got, leaf.grad), f"leaf {j}: {got!r}, engine {leaf.grad!r}: {where}"


@pytest.mark.parametrize("op", list(OPS))
@given(data=st.data())
def test_each_operator_batches_bit_for_bit(op: str, data: st.DataObject) -> None:
    expr = data.draw(expressions(ops=[op], require=op, max_nodes=4, points=3), label="expr")
    assert_batch_matches(expr, data.draw(st.integers(1, 3), label="copies"), data)


@given(data=st.data())
def test_mixed_expressions_batch_bit_for_bit(data: st.DataObject) -> None:
    expr = data.draw(
        expressions(ops=list(OPERATIONS), max_nodes=8, max_inputs=4, points=3, kinks=True),
        label="expr",
    )
    assert_batch_matches(expr, data.draw(st.integers(1, 4), label="copies"), data)


def _hard_terms() -> st.SearchStrategy[list[float]]:
    """Terms whose exact sum is hard to round: near-ties, cancellation, wide exponent ranges."""
    base = st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([1.0, -1.0, 2.0**-53, 2.0**-54, -(2.0**-53), 1e308, -1e308, 5e-324]),
        st.integers(-(2**20), 2**20).map(float),
        st.floats(-1e3, 1e3).map(lambda x: x * 2.0**-60),
        st.floats(-1e3, 1e3).map(lambda x: x * 2.0**-1040),  # rounding errors subnormal
    )
    special = st.sampled_from([math.inf, -math.inf, math.nan, 0.0, -0.0])
    return st.lists(st.one_of(base, base, base, special), min_size=1, max_size=40)


@given(columns=st.lists(_hard_terms(), min_size=1, max_size=8), mirror=st.booleans())
def test_the_array_sum_is_the_scalar_rule_bit_for_bit(
    columns: list[list[float]], mirror: bool
) -> None:
    m = max(map(len, columns))
    padded = [c + [-0.0] * (m - len(c)) for c in columns]  # -0.0 changes no exact sum
    if mirror:  # every sum next to a tie: x + 2**-53 * x rounds to even
        padded = [[*c, c[0] * 2.0**-53] for c in padded]
    terms = np.array(padded).T  # a column per sum
    with np.errstate(all="ignore"):  # as Tape.batch runs it
        got = batch_module._sum_terms(terms)
    for k, column in enumerate(padded):
        want = REPLAY_NAMES["sum_terms"](tuple(column))
        assert same(float(got[k]), want), (column, got[k], want)


@st.composite
def _broken_ties(draw: st.DrawFn) -> list[float]:
    """A sum a hair away from a tie: ``b``, half an ulp of ``b``, and a term far below both
    that decides the rounding, which the float sum of the terms gets wrong; shuffled among
    pairs that cancel exactly (each a large rounding error of the pairwise sum)."""
    b = draw(st.floats(1e-290, 1e290) | st.floats(-1e290, -1e-290))
    sign = draw(st.sampled_from([1.0, -1.0]))
    half = math.ulp(b) / 2.0 * sign
    tiny = math.ulp(b) * 2.0 ** -draw(st.integers(2, 60)) * draw(st.sampled_from([1.0, -1.0]))
    pairs = draw(st.lists(st.floats(-1e3, 1e3, allow_subnormal=False), max_size=7))
    return draw(st.permutations([b, half, tiny, *pairs, *(-p for p in pairs)]))


@given(columns=st.lists(_broken_ties(), min_size=1, max_size=6))
def test_the_array_sum_rounds_a_broken_tie_as_the_scalar_rule(columns: list[list[float]]) -> None:
    m = max(map(len, columns))
    padded = [c + [0.0] * (m - len(c)) for c in columns]
    terms = np.array(padded).T
    with np.errstate(all="ignore"):
        got = batch_module._sum_terms(terms)
    for k, column in enumerate(padded):
        want = REPLAY_NAMES["sum_terms"](tuple(column))
        assert same(float(got[k]), want), (column, got[k], want)


def test_every_replay_template_has_a_batched_form() -> None:
    assert batch_module.coverage() == []


def test_a_template_without_a_batched_form_is_named() -> None:
    from micrograd.ops import Replay

    op = OPS["add"]
    odd = type(op)(**{**{f: getattr(op, f) for f in op.__dataclass_fields__}, "name": "odd"})
    object.__setattr__(odd, "replay", Replay("{0} / {1}", ("{g}", "[{g}][0]")))
    problems = batch_module.coverage({"odd": odd})
    assert problems == [
        "operator 'odd': its replay template '{0} / {1}' has no batched form (it uses the "
        "operator of x0 / x1; micrograd/_batch.py translates + - *, comparisons, 'a if c else b' "
        "(with 'and' and 'or' in c) and calls of REPLAY_NAMES)",
        "operator 'odd': its replay template '[{g}][0]' has no batched form (it uses Subscript "
        "([g][0]); micrograd/_batch.py translates + - *, comparisons, 'a if c else b' (with 'and' "
        "and 'or' in c) and calls of REPLAY_NAMES)",
    ]


# templates no operator has yet: every form the translation takes, and every one it refuses
_TRANSLATED = [
    "{0} + {1} * {g} - {0}",
    "-{0} * {g}",
    "({0} > {1}) * {g}",
    "0.0 if {0} < 0.0 else {g}",
    "{g} if ({0} > 0.0 and {1} > 0.0) else -{g}",
    "{g} if ({0} > 0.0 or {1} < 0.0 or {0} == {1}) else 0.0",
    "{g} if ({0} >= 0.0 and ({1} <= 0.0 or {1} != 1.0)) else {1}",
    "div({g}, {0}) + sign({1}) * abs({0})",
    "exp({0}) * {g}",
]


@pytest.mark.parametrize("template", _TRANSLATED)
def test_a_translated_template_gives_the_scalar_template_bit_for_bit(template: str) -> None:
    fn, params, problem = batch_module._translate(template, 2)
    assert fn is not None, problem
    values = [-2.0, -0.0, 0.0, 1.0, 0.5, 3.0, math.inf, -math.inf, math.nan]
    grid = [(a, b, g) for a in values for b in values for g in (1.5, -0.0, -2.0)]
    scope = {"x0": 0, "x1": 1, "g": 2}
    columns = [np.array([point[scope[p]] for point in grid]) for p in params]
    scalar = eval(  # the template as the interpreter runs it, on floats
        "lambda x0, x1, g: " + template.format("x0", "x1", g="g"), dict(REPLAY_NAMES)
    )
    with np.errstate(all="ignore"):
        got = fn(*columns)
    for k, (a, b, g) in enumerate(grid):
        try:
            want = scalar(a, b, g)
        except (ArithmeticError, ValueError):  # math.exp(inf) is inf; math raises elsewhere
            continue
        assert same(float(got[k]), float(want)), (template, a, b, g, got[k], want)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{0} / {1}", "it uses the operator of x0 / x1"),
        ("{0} ** 2.0", "it uses the operator of x0 ** 2.0"),
        ("+{0}", "it uses the operator of +x0"),
        ("not {0}", "it uses the operator of not x0"),
        ("{0} < {1} < {g}", "it uses the chained comparison x0 < x1 < g"),
        ("{0} in {1}", "it uses the operator of x0 in x1"),
        ("{0} + 1", "it uses the constant 1"),
        ("{0} > 0.0 and {g}", "it uses 'x0 > 0.0 and g' outside the condition of 'a if c else b'"),
        ("({0} or {1}) + {g}", "it uses 'x0 or x1' outside the condition of 'a if c else b'"),
        ("{g} if ({0} and {1}) > 0.0 else 0.0", "it uses 'x0 and x1' outside the condition"),
        ("exp({0}, base=2.0)", "it uses keyword (base=2.0), the call of exp"),
        ("math.exp({0})", "it uses Attribute (math.exp), the call of math.exp"),
        ("print({0})", "it uses the call of print"),
        ("[{g}][0]", "it uses Subscript ([g][0])"),
        ("{2} + {0}", "it has a field other than ['0', '1', 'c', 'g', 'out', 'terms']"),
        ("{0} +", "it does not parse (invalid syntax)"),
    ],
)
def test_a_template_the_translation_refuses_is_named(template: str, problem: str) -> None:
    fn, params, found = batch_module._translate(template, 2)
    assert (fn, params) == (None, ())
    assert found.startswith(problem), found
