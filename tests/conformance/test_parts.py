"""The kit's parts: programs and their strategy, the engine-side helpers, graph tracing."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import Value
from micrograd.conformance import OPERATION_NAMES, OPERATIONS, Adapter, Program, Step
from micrograd.conformance import _worker as worker
from micrograd.conformance import adapter as adapter_module
from micrograd.conformance.kit import EDGES, operation_cases
from micrograd.conformance.program import programs
from micrograd.testing import Expr


def test_every_operation_reaches_the_engine_through_the_adapter() -> None:
    assert tuple(OPERATIONS) == OPERATION_NAMES
    ours = Adapter(Value)
    for name in OPERATIONS:
        # the adapter's own method, or (for a method call on the value) that method
        assert callable(worker.operation(ours, name)), name
    worker.OPERATIONS["nope"] = [1, False, None]
    try:
        with pytest.raises(AttributeError, match="the adapter has no method 'nope'"):
            worker.operation(ours, "nope")
    finally:
        del worker.OPERATIONS["nope"]


@pytest.mark.parametrize("name", OPERATION_NAMES)
def test_every_operation_has_fixed_cases_inside_its_domain(name: str) -> None:
    cases = operation_cases(name)
    assert len(cases) >= 2, name
    ours = Adapter(Value)
    for program in cases:
        assert program.points
        for point in program.points:
            result = worker.run_program(ours, program.wire(), point)
            assert "error" not in result, (program, point, result)
            assert math.isfinite(result["value"])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), name=st.sampled_from(OPERATION_NAMES))
def test_programs_are_trees_when_asked_and_agree_with_their_lowering(
    data: st.DataObject, name: str
) -> None:
    program = data.draw(programs(ops=[name], require=name, shared=False, max_steps=4))
    assert name in program.ops
    uses = [0] * (program.n_inputs + len(program.steps))
    for step in program.steps:
        for i in step.args:
            uses[i] += 1
    assert all(u <= 1 for u in uses[program.n_inputs :]), program
    ours = Adapter(Value)
    for point in program.points:
        direct = worker.run_program(ours, program.wire(), point)
        value, grads = program.lower(point).value_and_grad(point)
        assert direct["value"] == value
        assert direct["grads"] == list(grads)


def test_program_rejects_malformed_steps() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        Program(1, (Step("cosh", (0,)),))
    with pytest.raises(ValueError, match="does not take"):
        Program(1, (Step("add", (0,)),))
    with pytest.raises(ValueError, match="does not take"):
        Program(1, (Step("mul_number", (0,)),))
    with pytest.raises(ValueError, match="earlier values"):
        Program(1, (Step("neg", (1,)),))
    with pytest.raises(ValueError, match="at least one step"):
        Program(1, ())


def test_snippets_in_plain_syntax_and_through_an_adapter() -> None:
    program = Program(2, (Step("rsub", (0,), -0.5), Step("mul", (2, 1))), ((1.5, -2.0),))
    assert program.source() == "((-0.5) - x0) * x1"
    plain = program.lines((1.5, -2.0))
    assert plain[:4] == ["x0 = Value(1.5)", "x1 = Value(-2.0)", "t2 = (-0.5) - x0", "out = t2 * x1"]
    adapted = program.lines((1.5, -2.0), adapter="A", twice=True)
    assert adapted[2:6] == [
        "t2 = A.rsub(x0, -0.5)",
        "out = A.mul(t2, x1)",
        "A.backward(out)",
        "A.backward(out)",
    ]


def test_numbers_are_read_strictly() -> None:
    notes: set[str] = set()
    assert worker.number(1.5, "data", notes) == 1.5
    assert worker.number(2, "data", notes) == 2.0
    assert worker.number(Fraction(1, 4), "data", notes) == 0.25
    assert worker.number(None, "grad of x0", notes) == 0.0
    assert len(notes) == 3
    for bad in (1j, True, "1.0", None, [1.0]):
        with pytest.raises(worker.Finding):
            worker.number(bad, "data", notes)


def test_a_missing_operation_is_told_from_a_broken_one() -> None:
    source = (
        "class Engine:\n"
        "    def __init__(self, x):\n"
        "        self.data = x\n"
        "    def tanh(self):\n"
        "        return self.data + 'oops'\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "engine.py", "exec"), namespace)  # the engine's own file
    Engine = namespace["Engine"]
    a = Adapter(Engine)
    # frames of the kit (the adapter, the worker) and of this test are not the engine's
    files = [worker.__file__, adapter_module.__file__, __file__]

    def error(call: object) -> BaseException:
        try:
            call()  # type: ignore[operator]
        except Exception as exc:
            return exc
        raise AssertionError("no exception")

    v = a.value(1.0)
    assert worker.missing(error(lambda: a.add(v, v)), files)  # no __add__ at all
    assert worker.missing(error(lambda: a.exp(v)), files)  # no exp
    assert not worker.missing(error(lambda: a.tanh(v)), files)  # raised inside the engine
    assert worker.missing(NotImplementedError(), files)
    assert not worker.missing(ZeroDivisionError(), files)


def test_target_names_split_at_the_last_colon_but_not_a_drive() -> None:
    assert worker._split("pkg.engine:Value") == ("pkg.engine", "Value")
    assert worker._split("a/b/engine.py:Adapter") == ("a/b/engine.py", "Adapter")
    assert worker._split("engine.py") == ("engine.py", None)
    assert worker._split("C:\\eng\\engine.py") == ("C:\\eng\\engine.py", None)
    assert worker._split("C:") == ("C:", None)


def test_edge_cases_are_micrograds_contract() -> None:
    ours = Adapter(Value)
    for key, _, (steps, points) in EDGES:
        program = Program(max(i for s in steps for i in s.args) + 1, steps, points)
        for point in points:
            result = worker.run_program(ours, program.wire(), point)
            assert "error" not in result, key
    exp = worker.run_program(ours, Program(1, (Step("exp", (0,)),)).wire(), [1000.0])
    assert exp["value"] == math.inf


def test_trace_turns_a_graph_into_an_expression() -> None:
    x, y = Value(2.0), Value(3.0)
    t = x * y
    out = (t + t).tanh() - 3 / y + x**2
    expr = Expr.trace(out, [x, y])
    assert expr.n_inputs == 2
    assert [n.op for n in expr.nodes].count("mul") == 1  # the shared node stays shared
    value, grads = expr.value_and_grad((2.0, 3.0))
    out.backward()
    assert value == out.data
    assert grads == (x.grad, y.grad)
    with pytest.raises(ValueError, match="not an input"):
        Expr.trace(out, [x])
    with pytest.raises(ValueError, match="nothing to trace"):
        Expr.trace(x, [x])
