"""micrograd.tape: recording, both replay modes, the replay templates, errors and the checks."""

from __future__ import annotations

import dataclasses
import doctest
import functools
import importlib.util
import math
import operator
import random
import re
import struct
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import micrograd
import micrograd._codegen as codegen
import micrograd._interpreter as interpreter
import micrograd.tape as tape_module
from micrograd import MLP, OPS, AnomalyError, Op, StructureError, Tape, Value, detect_anomaly
from micrograd import engine as engine_module
from micrograd.ops import REPLAY_NAMES, float_literal
from micrograd.tape import Mode, coverage, record
from micrograd.testing.opinfo import RECORDS

from .support import apply

inf, nan = math.inf, math.nan
MODES: list[Mode] = ["interpret", "generate"]


def same(a: float, b: float) -> bool:
    """Equal bit for bit; any nan equals any nan."""
    return (a != a and b != b) or struct.pack("<d", a) == struct.pack("<d", b)


def same_all(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))


def test_the_module_examples_run() -> None:
    assert doctest.testmod(tape_module).failed == 0


# --- the replay templates against the rules ------------------------------------------------------

SPECIALS: tuple[float, ...] = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 710.0, -745.5, 1e308)
SPECIALS += (-1e308, 5e-324, inf, -inf, nan)
GRADIENTS = (1.0, -0.0, 0.0, -2.5, 1e-310, 1e308, inf, -inf, nan)


def _cases(op: Op) -> list[tuple[tuple[float, ...], float | None]]:
    """Operands and ``c``: the grid of special values, the records' cases, random draws."""
    consts: tuple[float | None, ...] = SPECIALS if op.has_const else (None,)
    cases: list[tuple[tuple[float, ...], float | None]] = []
    if op.arity == 1:
        cases += [((x,), c) for x in SPECIALS for c in consts]
    elif op.arity == 2:
        cases += [((a, b), None) for a in SPECIALS for b in SPECIALS]
    else:  # dot: one pair of every two specials, and random longer ones
        cases += [((a, b), None) for a in SPECIALS for b in SPECIALS]
        r = random.Random(0)
        for n in (2, 3):
            cases += [(tuple(r.choice(SPECIALS) for _ in range(2 * n)), None) for _ in range(300)]
    info = RECORDS[op.name]
    for case in (*info.ordinary, *info.edges):
        cases.append((case.operands, case.c))
    for wide in info.wide:
        cases.append((wide[: len(wide) - op.has_const], wide[-1] if op.has_const else None))
    return cases


def _names(n: int, operands: Sequence[float], literals: bool) -> tuple[list[str], dict[str, float]]:
    """Names for ``operands`` (or exact literals of the finite ones, as generated code writes
    constants), with the namespace binding the names."""
    names, bound = [], {}
    for i, x in enumerate(operands):
        if literals and math.isfinite(x):
            names.append(float_literal(x))
        else:
            names.append(f"x{i}")
            bound[f"x{i}"] = x
    return names, bound


def _evaluate(source: str, bound: dict[str, float]) -> float:
    value: float = eval(source, dict(REPLAY_NAMES), bound)
    return value


@pytest.mark.parametrize("literals", [False, True], ids=["names", "literals"])
@pytest.mark.parametrize("op", OPS.values(), ids=lambda op: op.name)
def test_generated_templates_give_the_rules_bit_for_bit(op: Op, literals: bool) -> None:
    for operands, c in _cases(op):
        out = apply(op, [Value(x) for x in operands], c)
        names, bound = _names(len(operands), operands, literals)
        c_text = ""
        if c is not None:
            c_text = float_literal(c) if literals and math.isfinite(c) else "c"
            bound["c"] = c
        value = _evaluate(codegen.forward_source(op, names, c_text), bound)
        assert same(value, op.forward(*operands, *(() if c is None else (c,))))
        assert same(value, out.data), (op.name, operands, c)
        for g in GRADIENTS:
            want = op.vjp(out, g)
            for j in range(len(operands)):
                template, picked = codegen.vjp_template(op, j, names)
                text = template.format(*picked, g="g", out="out", c=c_text)
                got = _evaluate(text, {**bound, "g": g, "out": out.data})
                assert same(got, want[j]), (op.name, operands, c, g, j, got, want[j], text)


@pytest.mark.parametrize("op", OPS.values(), ids=lambda op: op.name)
def test_interpreter_kernels_give_the_rules_bit_for_bit(op: Op) -> None:
    kernel = interpreter.kernel(op)
    for operands, c in _cases(op):
        out = apply(op, [Value(x) for x in operands], c)
        extra = () if c is None else (c,)
        for g in GRADIENTS:
            want = op.vjp(out, g)
            assert same_all(kernel(g, out.data, *operands, *extra), want), (op.name, operands, g)
            for j in range(len(operands)):  # the rule a wave applies to a column
                template, picked = codegen.vjp_template(op, j, operands)
                fn, fields = interpreter.element_rule(op, template)
                named = {"g": g, "out": out.data, "c": 0.0 if c is None else c}
                args = [named[f] if not f.isdigit() else picked[int(f)] for f in fields]
                got = args[0] if fn is None else fn(*args)
                assert same(got, want[j]), (op.name, operands, c, g, j, template)


def test_every_operator_has_a_replay_rule() -> None:
    problems = coverage()
    assert problems == [], "\n".join(problems)


def test_the_coverage_check_names_the_operator_and_the_missing_piece() -> None:
    ops = dict(OPS)
    ops["exp"] = dataclasses.replace(OPS["exp"], replay=None)
    rule = OPS["mul"].replay
    assert rule is not None
    ops["mul"] = dataclasses.replace(OPS["mul"], replay=dataclasses.replace(rule, vjp=("{g}",)))
    ops["neg"] = dataclasses.replace(OPS["neg"], replay=micrograd.ops.Replay("-{1}", ("{x}",)))
    ops["log"] = dataclasses.replace(OPS["log"], replay=micrograd.ops.Replay("ln({0})", ("{g}",)))
    ops["sin"] = dataclasses.replace(OPS["sin"], replay=micrograd.ops.Replay("sin({0}", ("{g}",)))
    assert coverage(ops) == [
        "operator 'mul': its replay rule has 1 vjp template(s) for 2 operand(s)",
        "operator 'neg': its replay forward template '-{1}' uses {1}, which it cannot (it may "
        "use {0})",
        "operator 'neg': its replay vjp template '{x}' uses {x}, which it cannot (it may use "
        "{0}, {g}, {out})",
        "operator 'exp' has no replay rule (Op.replay in micrograd/ops.py: its forward and vjp "
        "as source templates), so a tape cannot record it",
        "operator 'log': its replay forward template 'ln({0})' calls ln, which is neither in "
        "REPLAY_NAMES nor a builtin",
        "operator 'sin': its replay forward template 'sin({0}' is not a Python expression "
        "('(' was never closed)",
    ]


def test_the_coverage_check_names_each_kind_of_bad_template() -> None:
    replay, dot = micrograd.ops.Replay, OPS["dot"].replay
    assert dot is not None
    add = OPS["add"].replay
    assert add is not None

    def op(name: str, like: str, rule: micrograd.ops.Replay) -> Op:
        return dataclasses.replace(OPS[like], name=name, replay=rule)

    ops = {
        "dot1": op("dot1", "dot", dataclasses.replace(dot, vjp=dot.vjp[:1])),
        "add1": op("add1", "add", dataclasses.replace(add, term="{0}")),
        "dot2": op("dot2", "dot", dataclasses.replace(dot, forward="0.0")),
        "dot3": op("dot3", "dot", dataclasses.replace(dot, term="{0} * {1} * {c}")),
        "mul_c": op("mul_c", "mul_const", replay("{0} * {c} * {out}", ("{g} * {c}",))),
        "exp1": op("exp1", "exp", replay("exp({0", ("{g} * {out}",))),
        "exp2": op("exp2", "exp", replay("exp({0})", ("{g} * {out} * {c}",))),
    }
    assert coverage(ops) == [
        "operator 'dot1': its replay rule has 1 vjp template(s) for 2 operand group(s)",
        "operator 'add1': a term template is for variadic operators",
        "operator 'dot2': its replay forward template '0.0' does not use {terms}, though the rule "
        "has a term ('{0} * {1}')",
        "operator 'dot3': its replay term template '{0} * {1} * {c}' uses {c}, which it cannot "
        "(it may use {0}, {1})",
        "operator 'mul_c': its replay forward template '{0} * {c} * {out}' uses {out}, which it "
        "cannot (it may use {0}, {c})",
        "operator 'exp1': its replay forward template 'exp({0' is not a format string (expected "
        "'}' before end of string)",
        "operator 'exp2': its replay vjp template '{g} * {out} * {c}' uses {c}, which it cannot "
        "(it may use {0}, {g}, {out})",
    ]


def test_recording_an_operator_without_a_replay_rule_names_it() -> None:
    bare = dataclasses.replace(OPS["exp"], name="exp2", replay=None)
    x = Value(1.0)

    def fn() -> Value:
        return engine_module._node(math.e, bare, (x,)) + 1.0

    with pytest.raises(
        ValueError,
        match=r"record\(fn=.*fn\): the graph has a node a tape cannot replay: operator 'exp2' has",
    ):
        record(fn, [x])


# --- replay against the engine -------------------------------------------------------------------


def _engine_grads(
    build: Callable[[list[Value]], Value],
    data: Sequence[float],
    grads: Sequence[float],
    seed: float,
) -> tuple[float, list[float]]:
    leaves = [Value(x) for x in data]
    for leaf, g in zip(leaves, grads, strict=True):
        leaf.grad = g
    out = build(leaves)
    out.backward(seed)
    return out.data, [leaf.grad for leaf in leaves]


def _compare(
    build: Callable[[list[Value]], Value],
    points: Sequence[Sequence[float]],
    mode: Mode,
    seed: float = 1.0,
    grads: Sequence[float] | None = None,
) -> None:
    leaves = [Value(x) for x in points[0]]
    tape = record(lambda: build(leaves), leaves, mode=mode)
    for point in points:
        start = list(grads) if grads is not None else [0.0] * len(point)
        for leaf, x, g in zip(leaves, point, start, strict=True):
            leaf.data, leaf.grad = x, g
        value = tape.run(seed)
        want_value, want_grads = _engine_grads(build, point, start, seed)
        assert same(value, want_value), (point, value, want_value)
        assert same_all([leaf.grad for leaf in leaves], want_grads), (point, want_grads)


@pytest.mark.parametrize("mode", MODES)
def test_signed_zeros_infinities_and_nan_come_out_as_the_engine_gives_them(mode: Mode) -> None:
    def build(v: list[Value]) -> Value:
        x, y, z = v
        t = x * y
        u = (t + z).relu() + abs(x) * 2.0 + Value.dot([x, y, z], [z, 1.0, t])
        return u + t * t + (-x) + x / y + z**2.0 + (0.5 * y).exp()

    points = [
        (0.0, -0.0, -0.0),
        (-0.0, -0.0, 0.0),
        (inf, 0.0, 1.0),
        (nan, 1.0, -1.0),
        (-inf, -inf, inf),
        (1e308, 1e308, -1e308),
        (5e-324, -5e-324, -0.0),
        (1.0, 2.0, 3.0),
    ]
    for seed in (1.0, -0.0, 0.0, inf, nan, -3.5):
        _compare(build, points, mode, seed)
        _compare(build, points, mode, seed, grads=[-0.0, 0.0, inf])


@pytest.mark.parametrize("mode", MODES)
def test_a_sum_of_zeros_keeps_its_sign(mode: Mode) -> None:
    # the contributions to x are -0.0 and -0.0: from -0.0, their sum is -0.0, and -0.0 is what
    # backward() leaves in a gradient of 0.0... as 0.0 + -0.0: the tape must give the same
    x = Value(-0.0)
    tape = record(lambda: x * 0.0 + x * 0.0, [x], mode=mode)
    for old in (0.0, -0.0):
        x.grad = old
        tape.run(-1.0)
        y = Value(-0.0)
        y.grad = old
        (y * 0.0 + y * 0.0).backward(-1.0)
        assert same(x.grad, y.grad)


@pytest.mark.parametrize("mode", MODES)
def test_an_mlp_trained_by_a_tape_is_trained_bit_for_bit(mode: Mode) -> None:
    r = random.Random(1)
    xs = [[r.uniform(-2, 2), r.uniform(-2, 2)] for _ in range(8)]
    ys = [r.choice([-1.0, 1.0]) for _ in xs]
    dyn = MLP(2, [6, 6, 1], rng=5)
    rep = MLP(2, [6, 6, 1], rng=5)

    def loss(model: MLP) -> Value:
        scores = [model.forward(x)[0] for x in xs]
        losses = [(1 + -y * s).relu() for y, s in zip(ys, scores, strict=True)]
        return sum(losses, Value(0.0)) * (1.0 / len(losses)) + 1e-4 * sum(
            (p * p for p in model.parameters()), Value(0.0)
        )

    tape = record(lambda: loss(rep), rep.parameters(), mode=mode)
    for k in range(6):
        a = loss(dyn)
        dyn.zero_grad()
        a.backward()
        rep.zero_grad()
        b = tape.run()
        assert same(a.data, b)
        for p, q in zip(dyn.parameters(), rep.parameters(), strict=True):
            assert same(p.grad, q.grad)
            p.data -= (1.0 - 0.09 * k) * p.grad
            q.data -= (1.0 - 0.09 * k) * q.grad


@pytest.mark.parametrize("mode", MODES)
def test_gradients_accumulate_as_backward_accumulates(mode: Mode) -> None:
    x, y = Value(0.3), Value(-1.7)
    tape = record(lambda: (x * y).tanh() * x + y.sigmoid(), [x, y], mode=mode)
    tape.run()
    once = (x.grad, y.grad)
    tape.backward()  # again, at the same values: exactly twice, as backward() twice
    twice = (x.grad, y.grad)
    a, b = Value(0.3), Value(-1.7)
    out = (a * b).tanh() * a + b.sigmoid()
    out.backward()
    assert (a.grad, b.grad) == once
    out.backward()
    assert (a.grad, b.grad) == twice
    x.grad = y.grad = 0.0
    tape.run()
    assert (x.grad, y.grad) == once  # zero_grad, then a replay, reproduces them


@pytest.mark.parametrize("mode", MODES)
def test_backward_uses_the_values_of_the_last_forward(mode: Mode) -> None:
    x = Value(2.0)
    tape = record(lambda: x * x * x, [x], mode=mode)
    tape.backward()  # before any forward: the values recorded
    assert x.grad == 12.0
    x.data, x.grad = 3.0, 0.0
    assert tape.forward() == 27.0
    x.data = 100.0  # after the forward: backward() still differentiates at 3
    tape.backward(0.5)
    assert x.grad == 13.5


@pytest.mark.parametrize("mode", MODES)
def test_leaves_the_output_does_not_depend_on_keep_their_gradients(mode: Mode) -> None:
    x, unused = Value(2.0), Value(5.0)
    unused.grad = -0.0
    tape = record(lambda: x + 1.0, [x, unused], mode=mode)
    assert tape.run() == 3.0
    assert x.grad == 1.0
    assert same(unused.grad, -0.0)


@pytest.mark.parametrize("mode", MODES)
def test_an_output_that_is_a_leaf_or_a_constant(mode: Mode) -> None:
    x, c = Value(2.0), Value(7.0)
    tape = record(lambda: x, [x], mode=mode)
    assert (tape.run(3.0), x.grad) == (2.0, 3.0)
    x.data = 4.0
    assert (tape.run(), x.grad) == (4.0, 4.0)
    assert tape.nodes == 0
    tape = record(lambda: c * 2.0 + 1.0, [x], mode=mode)  # depends on no leaf of the tape
    assert (tape.run(), x.grad, c.grad) == (15.0, 4.0, 0.0)
    assert tape.nodes == 0


@pytest.mark.parametrize("mode", MODES)
def test_other_leaves_are_constants_and_get_no_gradient(mode: Mode) -> None:
    x, w = Value(3.0), Value(0.5)
    tape = record(lambda: Value.dot([w, 2.0], [x, x]) * w, [w], mode=mode)  # x, 2.0: constants
    assert tape.run() == 3.75
    x.data = 100.0  # not a leaf of the tape: its recorded value stays
    assert tape.run() == 3.75
    assert (w.grad, x.grad) == (2 * (2 * 0.5 * 3.0 + 2.0 * 3.0), 0.0)  # two replays of 2wx + 2x


def test_nodes_of_constants_only_are_not_replayed() -> None:
    x, c = Value(2.0), Value(3.0)
    tape = record(lambda: x * (c.exp() + c * c), [x])
    assert tape.nodes == 1  # the mul; exp, mul and add of c are constants
    assert tape.run() == 2.0 * (math.exp(3.0) + 9.0)


# --- modes ---------------------------------------------------------------------------------------


def test_modes_and_their_costs() -> None:
    x = Value(1.5)
    tape = record(lambda: x.exp() * x, [x], mode="interpret")
    assert (tape.mode, tape.codegen_seconds) == ("interpret", None)
    assert tape.record_seconds > 0.0
    t0 = time.perf_counter()
    tape = record(lambda: x.exp() * x, [x], mode="generate")
    elapsed = time.perf_counter() - t0
    assert tape.mode == "generate"
    assert tape.codegen_seconds is not None
    assert 0.0 < tape.codegen_seconds < tape.codegen_seconds + tape.record_seconds <= elapsed
    assert repr(tape).startswith("<Tape of test_modes_and_their_costs.<locals>.<lambda>: 2 nodes")


def test_auto_mode_interprets_then_generates_the_code() -> None:
    x = Value(0.25)
    with mock.patch.object(tape_module, "GENERATE_AFTER", 3):
        tape = record(lambda: (x * x).sin() + x, [x])
        values = []
        for k in range(5):
            assert tape.mode == ("interpret" if k <= 3 else "generate")
            x.data, x.grad = 0.25 * k, 0.0
            values.append((tape.run(), x.grad))
            assert tape.replays == k + 1
        assert tape.mode == "generate"
    assert tape.codegen_seconds is not None
    for k, (value, grad) in enumerate(values):
        y = Value(0.25 * k)
        out = (y * y).sin() + y
        out.backward()
        assert (out.data, y.grad) == (value, grad)


def test_generated_code_of_a_long_sum_splits_its_statements() -> None:
    # a leaf used 1,000 times: its sum is written in statements of _SUM_CHUNK terms
    x = Value(1.0)
    xs = [x * float(i) for i in range(1000)]
    tape = record(lambda: sum(xs, Value(0.0)) + Value.dot(xs, xs), [x], mode="generate")
    y = Value(1.0)
    terms = [y * float(i) for i in range(1000)]
    (sum(terms, Value(0.0)) + Value.dot(terms, terms)).backward()
    assert tape.run() == sum(float(i) for i in range(1000)) + sum(float(i * i) for i in range(1000))
    assert x.grad == y.grad


# --- anomaly mode --------------------------------------------------------------------------------


def test_anomaly_mode_runs_the_engine_and_raises_its_error() -> None:
    x = Value(1.0)
    tape = record(lambda: (x - 1.0).log() * x, [x], mode="generate")
    assert tape.run() == -inf
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"log produced -inf: log\(0.0\) = -inf"):
            tape.run()
        with pytest.raises(AnomalyError, match=r"log produced -inf"):
            tape.forward()
        x.data, x.grad = 3.0, 0.0
        assert tape.forward() == math.log(2.0) * 3.0
        tape.backward()  # of the graph that forward built
    assert x.grad == math.log(2.0) + 3.0 / 2.0
    # a non-finite gradient: the same error as backward() on the graph built anew
    y = Value(0.0)
    t2 = record(lambda: (y * y).sqrt() + y, [y])
    with pytest.raises(AnomalyError) as replayed, detect_anomaly():
        t2.run()
    z = Value(0.0)
    rebuilt = (z * z).sqrt() + z
    with pytest.raises(AnomalyError) as dynamic, detect_anomaly():
        rebuilt.backward()
    assert "gradient of pow_const(0.0, c=0.5)" in str(dynamic.value)
    assert str(replayed.value) == str(dynamic.value)


def test_after_a_forward_in_anomaly_mode_backward_walks_the_graph_it_built() -> None:
    x = Value(1.0)
    calls = [0]

    def square_plus() -> Value:
        calls[0] += 1
        return x * x + x

    tape = record(square_plus, [x])  # recorded at x = 1
    x.data = 3.0
    with detect_anomaly():
        assert tape.forward() == 12.0
    tape.backward()  # out of anomaly mode: still the graph that forward built, at x = 3
    assert (x.grad, calls[0]) == (7.0, 2)
    x.grad = 0.0
    with detect_anomaly():
        tape.backward()
    assert (x.grad, calls[0]) == (7.0, 2)
    fresh = record(square_plus, [x])
    x.grad = 0.0
    with detect_anomaly():
        fresh.backward()  # no forward yet: the graph fn builds now
    assert (x.grad, calls[0]) == (7.0, 4)


@pytest.mark.parametrize("call", ["forward", "backward", "run", "batch", "check"])
def test_a_function_that_stops_returning_a_value_is_named(call: str) -> None:
    x = Value(2.0)
    calls = [0]

    def sometimes() -> Value:
        calls[0] += 1
        return x * x if calls[0] == 1 else 4.0  # type: ignore[return-value]

    tape = record(sometimes, [x], check=1 if call == "check" else 0)
    message = r"record\(fn=.*sometimes\): fn\(\) must return a Value, got float"
    if call == "batch":
        pytest.importorskip("numpy")
    replays: dict[str, Callable[[], object]] = {
        "check": tape.run,
        "batch": lambda: tape.batch({x: [1.0]}),
    }
    replay = replays.get(call) or getattr(tape, call)
    with pytest.raises(TypeError, match=message), detect_anomaly(call != "check"):
        replay()


# --- the structure check -------------------------------------------------------------------------


def test_a_branch_on_a_value_is_recorded_once_and_the_check_sees_it_change() -> None:
    x = Value(1.0)

    def branchy() -> Value:
        return x * x if x.data > 0 else x + x

    plain = record(branchy, [x])
    x.data = -2.0
    assert plain.run() == 4.0  # the branch recorded, x * x, as torch.jit.trace would
    x.data = 1.0
    checked = record(branchy, [x], check=2)
    x.data = 3.0
    assert checked.run() == 9.0
    x.data = -3.0
    with pytest.raises(StructureError) as error:
        checked.run()
    message = str(error.value)
    assert message.startswith(
        "Tape of test_a_branch_on_a_value_is_recorded_once_and_the_check_sees_it_change."
        "<locals>.branchy: on replay 2, fn built a graph other than the recorded one: node 0 is "
        "add(leaves[0], leaves[0]), recorded as mul(leaves[0], leaves[0])."
    )
    assert "must be recorded again" in message


def test_the_check_names_a_constant_that_changed() -> None:
    w = Value(0.5)
    inputs = [1.0, 2.0]
    tape = record(lambda: Value.dot([w, w], inputs), [w], check=1)
    inputs[1] = 4.0
    with pytest.raises(
        StructureError,
        match=r"operand 3 of node 0 \(dot\) is the number 4.0, recorded as the number 2.0 \(a "
        r"leaf not among the tape's leaves is a constant of the tape: pass it in leaves",
    ):
        tape.run()


def test_the_check_sees_another_exponent_and_other_interior_operands() -> None:
    x, y = Value(2.0), Value(3.0)
    exponent = [2.0]
    tape = record(lambda: x ** exponent[0], [x], check=1)
    exponent[0] = 3.0
    with pytest.raises(StructureError, match=r"node 0 is pow_const\(leaves\[0\], c=3.0\), rec"):
        tape.run()
    swapped = [False]

    def products() -> Value:
        a, b = x * y, x + y
        return (a * b) + (b * a) if swapped[0] else (a * b) + (a * b)

    tape = record(products, [x, y], check=1)
    swapped[0] = True
    with pytest.raises(StructureError, match=r"operand 0 of node 3 \(mul\) is node 1, recorded as"):
        tape.run()


def test_the_check_sees_other_sizes_outputs_and_interior_nodes_made_outside() -> None:
    x = Value(2.0)
    n = [3]
    tape = record(lambda: sum((x * float(i) for i in range(n[0])), Value(0.0)), [x], check=1)
    n[0] = 4
    with pytest.raises(StructureError, match="it has 8 nodes, the recorded one 6"):
        tape.run()
    outside = x * 3.0  # made before recording: a rebuilt graph would keep its value
    tape = record(lambda: outside + x, [x], check=1)
    with pytest.raises(StructureError, match=r"node 0 \(mul_const\) is the same Value in both"):
        tape.run()
    which = [x]
    y = Value(1.0)
    tape = record(lambda: which[0], [x, y], check=1)
    which[0] = y
    with pytest.raises(StructureError, match=r"its output is leaves\[1\], the recorded one's "):
        tape.run()


def test_the_check_stops_after_its_replays() -> None:
    x = Value(2.0)
    calls = [0]

    def fn() -> Value:
        calls[0] += 1
        return x * x

    tape = record(fn, [x], check=2)
    for _ in range(5):
        tape.run()
    assert calls[0] == 3  # recording, then the first two replays
    assert tape.replays == 5


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((3, []), {}, TypeError, "record(fn): takes a function of no arguments that returns a "),
        ((lambda: Value(1.0), Value(1.0)), {}, TypeError, "takes a sequence of Values, got Value"),
        ((lambda: Value(1.0), 3), {}, TypeError, "takes a sequence of Values, got int"),
        ((lambda: Value(1.0), [1.0]), {}, TypeError, "leaves): item 0 is a float, not a Value"),
        ((lambda: Value(1.0), []), {"mode": "fast"}, ValueError, "mode): takes one of"),
        ((lambda: Value(1.0), []), {"check": True}, TypeError, "check): takes an int, got bool"),
        ((lambda: Value(1.0), []), {"check": -1}, ValueError, "check): takes an int >= 0, got -1"),
        ((lambda: 1.0, []), {}, TypeError, "fn() must return a Value, got float"),
    ],
)
def test_bad_arguments_are_named(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        record(*args, **kwargs)


def test_leaves_must_be_distinct_leaves() -> None:
    x = Value(1.0)
    with pytest.raises(ValueError, match=r"item 1 is not a leaf but the result of mul"):
        record(lambda: x, [x, x * 2.0])
    with pytest.raises(ValueError, match=r"leaves\): item 2 is item 0 again"):
        record(lambda: x, [x, Value(2.0), x])


def test_a_bad_gradient_is_named() -> None:
    x = Value(1.0)
    tape = record(lambda: x * x, [x])
    with pytest.raises(TypeError, match=r"Tape.backward\(gradient=...\) takes a real number"):
        tape.backward("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Tape.run\(gradient=...\) takes a real number"):
        tape.run(None)  # type: ignore[arg-type]
    tape.run(True)  # any real number
    assert x.grad == 2.0
    if importlib.util.find_spec("numpy") is not None:
        with pytest.raises(TypeError, match=r"Tape.batch\(gradient=...\) takes a real number"):
            tape.batch({x: [1.0]}, "1")  # type: ignore[arg-type]
        # the default gradient is 1.0, as run()'s
        assert tape.batch({x: [3.0]}).grads.tolist() == [[6.0]]


def test_public_names() -> None:
    assert tape_module.__all__ == [
        "GENERATE_AFTER",
        "Batch",
        "Mode",
        "StructureError",
        "Tape",
        "coverage",
        "record",
    ]
    assert (micrograd.record, micrograd.Tape, micrograd.StructureError) == (
        record,
        Tape,
        StructureError,
    )


def test_the_interpreters_sums_add_left_to_right() -> None:
    # the builtin sum is used where it adds floats left to right (CPython 3.11), not where it
    # compensates the rounding (3.12 and later)
    assert interpreter.adds_left_to_right(functools.partial(functools.reduce, operator.add))
    assert not interpreter.adds_left_to_right(lambda xs, start: math.fsum([start, *xs]))
    assert interpreter.adds_left_to_right(interpreter.sum_left_to_right)
    assert same(interpreter.sum_left_to_right([-0.0, -0.0], -0.0), -0.0)
    assert interpreter.sum_left_to_right([1.0, 1e100, 1.0, -1e100], -0.0) == 0.0


def test_the_user_doc_example_runs() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "tape.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    namespace: dict[str, Any] = {}
    exec(blocks[0], namespace)
    tape = namespace["tape"]
    assert isinstance(tape, Tape)
    assert (tape.replays, tape.mode) == (200, "generate")


def test_the_user_doc_batch_example_runs() -> None:
    pytest.importorskip("numpy")
    text = (Path(__file__).resolve().parents[2] / "docs" / "tape.md").read_text(encoding="utf-8")
    block = re.findall(r"```python\n(.*?)```", text, re.S)[1]
    assert "tape.batch(" in block
    namespace: dict[str, Any] = {}
    exec(block, namespace)
    result, tape = namespace["result"], namespace["tape"]
    assert result.values.shape == (100,)
    assert result.grads.shape == (len(tape.leaves), 100)


# --- batched replay ------------------------------------------------------------------------------


def _moons_tape() -> tuple[Tape, list[Value], list[Value]]:
    model = MLP(2, [8, 1], rng=3)
    x0, x1, y = Value(0.0), Value(0.0), Value(1.0)

    def loss() -> Value:
        score = model([x0, x1])
        assert isinstance(score, Value)
        return (1 + -y * score).relu()

    tape = record(loss, [*model.parameters(), x0, x1, y])
    return tape, [x0, x1, y], model.parameters()


def test_a_batch_is_each_point_replayed_alone_bit_for_bit() -> None:
    np = pytest.importorskip("numpy")
    tape, (x0, x1, y), params = _moons_tape()
    rng = random.Random(5)
    xs = [[rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)] for _ in range(40)]
    ys = [rng.choice([-1.0, 1.0]) for _ in xs]
    result = tape.batch({x0: [a for a, _ in xs], x1: np.array([b for _, b in xs]), y: ys}, 2.0)
    assert (x0.data, x1.data, y.data) == (0.0, 0.0, 1.0)
    assert all(p.grad == 0.0 for p in params)  # nothing written
    for k, ((a, b), label) in enumerate(zip(xs, ys, strict=True)):
        x0.data, x1.data, y.data = a, b, label
        for leaf in tape.leaves:
            leaf.grad = 0.0
        assert same(tape.run(2.0), float(result.values[k]))
        assert same_all([leaf.grad for leaf in tape.leaves], result.grads[:, k].tolist())


def test_a_batch_in_anomaly_mode_runs_each_point_through_the_engine() -> None:
    pytest.importorskip("numpy")
    x, w = Value(4.0), Value(1.0)
    x.grad, w.grad = 0.5, -1.0
    tape = record(lambda: (x * w).sqrt() + w, [x, w])
    with detect_anomaly():
        fine = tape.batch({x: [4.0, 9.0]})
        with pytest.raises(AnomalyError, match="pow_const") as stopped:
            tape.batch({x: [1.0, 0.0, 4.0]})
    assert stopped.value.__notes__[-1] == "(at point 1 of Tape.batch)"
    assert (x.data, x.grad, w.data, w.grad) == (4.0, 0.5, 1.0, -1.0)  # put back
    plain = tape.batch({x: [4.0, 9.0]})
    assert plain.values.tolist() == fine.values.tolist() == [3.0, 4.0]
    assert plain.grads.tolist() == fine.grads.tolist()


@pytest.mark.parametrize(
    ("points", "error", "message"),
    [
        ([1.0], TypeError, r"Tape.batch\(points\): takes a mapping .* got list"),
        ({1.0: [1.0]}, TypeError, r"Tape.batch\(points\): a key is a float, not a Value"),
        ({"other": [1.0]}, ValueError, r"Value\(data=2.0.*\) is not one of the tape's leaves"),
        ({"x": ["a"]}, TypeError, r"values of leaves\[0\] are not real numbers \(dtype <U1\)"),
        ({"x": [True]}, TypeError, r"values of leaves\[0\] are not real numbers \(dtype bool\)"),
        ({"x": []}, ValueError, r"leaves\[0\] have shape \(0,\); every leaf takes one value"),
        ({"x": [[1.0]]}, ValueError, r"leaves\[0\] have shape \(1, 1\)"),
        ({"x": [1.0], "w": [1.0, 2.0]}, ValueError, r"leaves\[1\] have shape \(2,\).* \(1\)"),
        ({}, ValueError, r"takes at least one leaf with its values"),
    ],
)
def test_bad_batches_are_named(points: Any, error: type[Exception], message: str) -> None:
    pytest.importorskip("numpy")
    x, w = Value(1.0), Value(3.0)
    tape = record(lambda: x * w, [x, w])
    named = {"x": x, "w": w, "other": Value(2.0)}
    if isinstance(points, dict):
        points = {named.get(k, k): v for k, v in points.items()}
    with pytest.raises(error, match=message):
        tape.batch(points)
    with pytest.raises(TypeError, match=r"Tape.batch\(gradient=...\)"):
        tape.batch({x: [1.0]}, "1")  # type: ignore[arg-type]


def test_a_batch_without_numpy_says_how_to_get_it() -> None:
    x = Value(1.0)
    tape = record(lambda: x * 2.0, [x])
    with (
        mock.patch.dict("sys.modules", {"numpy": None}),
        pytest.raises(ImportError, match=r"Tape.batch\(\) needs NumPy: pip install"),
    ):
        tape.batch({x: [1.0]})


def test_a_batch_of_a_tape_whose_output_is_a_leaf() -> None:
    pytest.importorskip("numpy")
    x, w = Value(1.0), Value(2.0)
    tape = record(lambda: w, [x, w])
    result = tape.batch({w: [5.0, -0.0]}, -0.0)
    assert result.values.tolist() == [5.0, -0.0]
    assert [list(map(str, row)) for row in result.grads.tolist()] == [["0.0"] * 2, ["0.0"] * 2]
