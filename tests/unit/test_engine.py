"""The Value type: construction, operators with numbers, graph structure, the walk, anomaly mode."""

from __future__ import annotations

import gc
import inspect
import math
import sys
import threading
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from micrograd import OPS, AnomalyError, Value, detect_anomaly

# --- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (3, 3.0),
        (True, 1.0),
        (-2.5, -2.5),
        (Fraction(1, 3), 1 / 3),
        (np.float64(0.1), 0.1),
        (np.float32(0.1), float(np.float32(0.1))),
        (np.int64(-7), -7.0),
        (math.inf, math.inf),
        (2**1023, 2.0**1023),
    ],
    ids=repr,
)
def test_real_numbers_become_plain_floats(number: float, expected: float) -> None:
    v = Value(number)
    assert type(v.data) is float
    assert v.data == expected
    assert type(v.grad) is float
    assert v.grad == 0.0


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [
        ("1.0", "str"),
        (None, "NoneType"),
        (1 + 2j, "complex"),
        ([1.0], "list"),
        (np.array(1.0), "ndarray"),
        (Decimal("1.5"), "Decimal"),
    ],
    ids=repr,
)
def test_anything_else_is_a_type_error_naming_the_type(bad: object, type_name: str) -> None:
    with pytest.raises(TypeError, match=type_name):
        Value(bad)  # type: ignore[arg-type]


def test_a_value_is_not_wrapped_again() -> None:
    with pytest.raises(TypeError, match=r"got a Value"):
        Value(Value(1.0))  # type: ignore[arg-type]


def test_an_int_too_large_for_a_float_is_a_clear_error() -> None:
    with pytest.raises(OverflowError, match=r"int of 1329 bits is too large"):
        Value(10**400)
    with pytest.raises(OverflowError, match=r"too large"):
        Value(1.0) + 10**400


def test_repr() -> None:
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    c = Value(2.0) * Value(-3.0)
    c.backward()
    assert repr(c) == "Value(data=-6.0, grad=1.0, op='mul')"
    assert repr(Value(0.1) + 0.2) == "Value(data=0.30000000000000004, grad=0.0, op='add_const')"


# --- operators with numbers on either side ------------------------------------------------------

NUMBERS = [2, 2.0, Fraction(2), np.float64(2.0), np.float32(2.0), np.int32(2), True]


@pytest.mark.parametrize("k", NUMBERS, ids=lambda k: type(k).__name__)
def test_numbers_on_either_side(k: float) -> None:
    kf = float(k)
    cases = [
        (lambda x: x + k, lambda x: x + kf, 1.0),
        (lambda x: k + x, lambda x: kf + x, 1.0),
        (lambda x: x - k, lambda x: x - kf, 1.0),
        (lambda x: k - x, lambda x: kf - x, -1.0),
        (lambda x: x * k, lambda x: x * kf, kf),
        (lambda x: k * x, lambda x: kf * x, kf),
        (lambda x: x / k, lambda x: x / kf, 1.0 / kf),
        (lambda x: k / x, lambda x: kf / x, -kf / 9.0),
        (lambda x: x**k, lambda x: x**kf, kf * 3.0 ** (kf - 1.0)),
        (lambda x: k**x, lambda x: kf**x, kf**3.0 * math.log(kf)),
    ]
    for build, plain, slope in cases:
        x = Value(3.0)
        out = build(x)  # type: ignore[no-untyped-call]
        assert isinstance(out, Value)
        assert out.data == plain(3.0)  # type: ignore[no-untyped-call]
        out.backward()
        assert math.isclose(x.grad, slope, rel_tol=1e-15), (out, x.grad, slope)


def test_numbers_become_node_arguments_not_leaves() -> None:
    x = Value(3.0)
    for out in (x + 2, 2 + x, x * 2, 2 * x, x / 2, 2 / x, x**2, 2**x, x - 2):
        assert out.parents == (x,)
        assert out.arg is not None
    assert (x - 2).arg == -2.0
    assert (2 - x).op is OPS["add_const"]
    assert (2 - x).parents[0].op is OPS["neg"]


def test_composites_are_expressed_through_primitives() -> None:
    a, b = Value(5.0), Value(3.0)
    d = a - b
    assert d.data == 2.0
    assert d.op is OPS["add"]
    assert d.parents[0] is a
    assert d.parents[1].op is OPS["neg"]
    assert d.parents[1].parents == (b,)
    assert (+a) is a
    r = a.sqrt()
    assert r.op is OPS["pow_const"]
    assert r.arg == 0.5
    assert r.data == math.sqrt(5.0)
    assert abs(Value(-2.0)).op is OPS["abs"]
    assert Value(-2.0).abs().data == 2.0


@pytest.mark.parametrize(
    "build",
    [
        lambda v: v + "a",
        lambda v: "a" + v,
        lambda v: v - "a",
        lambda v: "a" - v,
        lambda v: v * None,
        lambda v: None * v,
        lambda v: v / [1],
        lambda v: [1] / v,
        lambda v: v ** "2",
        lambda v: "2" ** v,
        lambda v: v + 1j,
        lambda v: v * Decimal(2),
        lambda v: v * "ab",
        lambda v: "ab" * v,
        lambda v: v * [1.0],
        lambda v: (1.0,) * v,
        lambda v: v + b"x",
    ],
)
def test_wrong_operand_types_raise_type_error_naming_them(build: object) -> None:
    with pytest.raises(
        TypeError, match=r"'(str|NoneType|list|tuple|bytes|complex|decimal\.Decimal)'"
    ):
        build(Value(1.0))  # type: ignore[operator]


def test_pow_with_modulus_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="modulus"):
        Value(2.0).__pow__(2, 3)  # type: ignore[operator]


def test_no_conversion_to_float_that_would_silently_detach() -> None:
    with pytest.raises(TypeError):
        float(Value(1.0))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        math.exp(Value(1.0))  # type: ignore[arg-type]


# --- identity -----------------------------------------------------------------------------------


def test_values_hash_and_compare_by_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a == a
    assert a != b
    assert len({a, b}) == 2
    assert hash(a) != hash(b)
    with pytest.raises(AttributeError):
        a.label = "x"  # type: ignore[attr-defined]
    assert not hasattr(a, "__dict__")


# --- the walk -----------------------------------------------------------------------------------


def test_seed_example() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b + Value(10.0)
    c.backward()
    assert (c.data, a.grad, b.grad) == (4.0, -3.0, 2.0)


def test_a_node_used_many_times_receives_every_contribution() -> None:
    x = Value(3.0)
    y = x * x
    y.backward()
    assert x.grad == 6.0

    a, b = Value(2.0), Value(5.0)
    s = a + b
    (s * s).backward()  # d/da (a+b)^2 = 2(a+b)
    assert (a.grad, b.grad) == (14.0, 14.0)

    z = Value(1.5)
    total = z + z + z + z + z
    total.backward()
    assert z.grad == 5.0


def test_diamond_with_shared_interior_node() -> None:
    x = Value(0.5)
    h = x.tanh()
    out = h * h + h.exp() * 3.0
    out.backward()
    t = math.tanh(0.5)
    expected = (2 * t + 3 * math.exp(t)) * (1 - t * t)
    assert math.isclose(x.grad, expected, rel_tol=1e-15)
    assert math.isclose(h.grad, 2 * t + 3 * math.exp(t), rel_tol=1e-15)


def test_backward_twice_gives_exactly_double() -> None:
    x, y = Value(0.7), Value(-1.3)
    h = (x * y).tanh()
    out = h * h + (x / y).exp() - h
    out.backward()
    first = (x.grad, y.grad, h.grad)
    out.backward()
    assert (x.grad, y.grad, h.grad) == tuple(2 * g for g in first)


def test_backward_seed_scales_every_gradient() -> None:
    x = Value(2.0)
    (x * x).backward(gradient=2.5)
    assert x.grad == 10.0
    with pytest.raises(TypeError, match="gradient"):
        (x * x).backward(gradient="1")  # type: ignore[arg-type]


def test_only_the_graph_of_the_output_is_touched() -> None:
    x = Value(2.0)
    unrelated = x * 100.0
    out = x * 3.0
    out.backward()
    assert x.grad == 3.0
    assert unrelated.grad == 0.0


def test_backward_of_a_leaf() -> None:
    x = Value(4.0)
    x.backward()
    assert x.grad == 1.0


def test_graphs_hold_no_reference_cycles() -> None:
    gc.collect()
    x = Value(1.0)
    refs_before = sys.getrefcount(x)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        out = x
        for i in range(200):
            out = (out * x + i).tanh() / (x + 1.0) + out.relu() ** 2
        out.backward()
        del out
        assert sys.getrefcount(x) == refs_before, "the graph is still alive after its output went"
        assert gc.collect() == 0, "freeing the graph needed the cycle collector"
    finally:
        if was_enabled:
            gc.enable()


def test_a_100k_node_chain_needs_no_recursion() -> None:
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    depth = len(inspect.stack(0))
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 60)
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(old)
    assert x.grad == 1.0
    del y  # freeing a deep chain must not crash either


def test_gradient_does_not_depend_on_build_order() -> None:
    def build(order: int) -> tuple[Value, Value]:
        a, b = Value(0.3), Value(-1.1)
        if order == 0:
            p, q = a * b, (a + b).exp()
        else:
            q, p = (a + b).exp(), a * b
        out = p * q + q / (p - 4.0)
        out.backward()
        return a, b

    a0, b0 = build(0)
    a1, b1 = build(1)
    assert (a0.grad, b0.grad) == (a1.grad, b1.grad)


# --- anomaly mode -------------------------------------------------------------------------------


def test_anomaly_mode_names_the_first_non_finite_operator() -> None:
    x = Value(-1.0)
    assert math.isnan(x.log().data)  # off by default
    with (
        detect_anomaly(),
        pytest.raises(AnomalyError, match=r"log produced nan: log\(-2.0\) = nan"),
    ):
        (x * 2.0).log()


def test_anomaly_mode_checks_gradients() -> None:
    x = Value(0.0)
    with detect_anomaly():
        y = x.sqrt()  # sqrt(0) = 0 is fine; its derivative is not
        with pytest.raises(
            AnomalyError, match=r"gradient of pow_const\(0.0, c=0.5\).*operand 0 is inf"
        ):
            y.backward()


def test_anomaly_mode_can_be_switched_off_inside_and_is_off_after() -> None:
    with detect_anomaly():
        with detect_anomaly(False):
            assert Value(0.0).log().data == -math.inf
        with pytest.raises(AnomalyError):
            Value(1.0) / 0.0
    assert Value(1.0) / 0.0 is not None  # no error once the block is left


def test_anomaly_mode_is_per_thread() -> None:
    results: list[float] = []
    inside = threading.Event()
    done = threading.Event()

    def other_thread() -> None:
        inside.wait()
        results.append(Value(0.0).log().data)
        done.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with detect_anomaly():
        inside.set()
        done.wait()
    t.join()
    assert results == [-math.inf]
