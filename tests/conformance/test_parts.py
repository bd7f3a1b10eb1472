"""The kit's parts: expressions over the API's operations, the engine-side helpers, tracing."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import Value
from micrograd.conformance import Adapter
from micrograd.testing import Expr, Node, expressions
from micrograd.testing.compare import error_scales
from micrograd.testing.opinfo import OPERATIONS
from micrograd.verify import _worker as worker
from micrograd.verify import adapter as adapter_module
from micrograd.verify.cases import EDGES, operation_cases
from micrograd.verify.process import wire_table

#: The operations other engines are checked on (micrograd's own API, Value.dot, aside).
API = [name for name, op in OPERATIONS.items() if op.method is not None]
worker.OPERATIONS.update(wire_table())


def _run(expr: Expr, point: tuple[float, ...], mode: str = "") -> dict[str, Any]:
    """micrograd driven as the kit drives an engine: through the default adapter."""
    return worker.run_program(Adapter(Value), expr.wire(), point, mode=mode)


def test_every_operation_reaches_the_engine_through_the_adapter() -> None:
    ours = Adapter(Value)
    for name in API:
        # the adapter's own method, or (for a method call on the value) that method
        method = OPERATIONS[name].method
        assert method is not None
        assert callable(worker.operation(ours, method)), name
    worker.OPERATIONS["nope"] = [1, False, None]
    try:
        with pytest.raises(AttributeError, match="the adapter has no method 'nope'"):
            worker.operation(ours, "nope")
    finally:
        del worker.OPERATIONS["nope"]


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_every_operation_has_fixed_cases_with_finite_values(name: str) -> None:
    cases = operation_cases(name)
    assert len(cases) >= 2, name
    for expr in cases:
        assert expr.points
        for point in expr.points:
            value, _ = expr.value_and_grad(point)
            assert math.isfinite(value), (expr, point)
            # so that the comparisons have a finite bound (a far-out case must not overflow it)
            scales = error_scales(expr, point, absolute=frozenset(OPERATIONS))
            assert all(math.isfinite(s) for s in (scales[0], *scales[1])), (expr, point, scales)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), name=st.sampled_from(API))
def test_the_adapter_drives_micrograd_as_micrograd_builds_the_expression(
    data: st.DataObject, name: str
) -> None:
    expr = data.draw(expressions(ops=[name], require=name, shared=False, max_nodes=4, points=2))
    assert name in expr.ops
    assert all(u <= 1 for u in expr.uses()[expr.n_inputs :]), expr  # a tree, as asked
    lowered = expr.lower()
    assert all(OPERATIONS[n.op].primitive for n in lowered.nodes)
    for point in expr.points:
        direct = _run(expr, point)
        value, grads = lowered.value_and_grad(point)
        assert direct["value"] == value
        assert direct["grads"] == list(grads)
        again = _run(expr, point, "twice")["again"]
        assert again == [2.0 * g for g in grads]


def test_snippets_in_plain_syntax_and_through_an_adapter() -> None:
    expr = Expr(2, (Node("rsub_const", (0,), -0.5), Node("mul", (2, 1))), ((1.5, -2.0),))
    assert expr.source() == "((-0.5) - x0) * x1"
    plain = expr.snippet().splitlines()
    assert plain[2:5] == ["x0 = Value(1.5)", "x1 = Value(-2.0)", "out = ((-0.5) - x0) * x1"]
    adapted = expr.snippet(header=["A = ..."], adapter="A", mode="twice").splitlines()
    assert adapted[2:] == [
        "x0 = A.value(1.5)",
        "x1 = A.value(-2.0)",
        "out = A.mul(A.rsub(x0, -0.5), x1)",
        "A.backward(out)",
        "A.backward(out)",
        "print(A.data(out), [A.grad(x0), A.grad(x1)])",
    ]
    with pytest.raises(ValueError, match="micrograd's own API"):
        Expr(1, (Node("dot", (0, 0)),)).wire()


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
    for key, _, expr in EDGES:
        for point in expr.points:
            result = _run(expr, point)
            assert "error" not in result, key
    assert _run(Expr(1, (Node("exp", (0,)),)), (1000.0,))["value"] == math.inf


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
