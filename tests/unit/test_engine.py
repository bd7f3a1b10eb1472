"""The Value type: construction, operators with numbers, graph structure, the walk, anomaly mode,
Value.dot."""

from __future__ import annotations

import gc
import inspect
import math
import random
import struct
import sys
import threading
import tracemalloc
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from micrograd import OPS, AnomalyError, Value, detect_anomaly

from .support import plain_backward

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
    assert (v.op, v.parents, v.arg) == (None, (), None)  # a leaf


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
        a.foo = "x"  # type: ignore[attr-defined]
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
    with pytest.raises(TypeError) as error:
        (x * x).backward(gradient="1")  # type: ignore[arg-type]
    assert str(error.value) == (
        "backward(gradient=...) takes a real number (int, float, Fraction, ...), got str"
    )


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


class _CountingSetting:
    """Stands in for the anomaly context variable and counts how often it is read."""

    def __init__(self) -> None:
        self.reads = 0

    def get(self) -> bool:
        self.reads += 1
        return False


def test_outside_anomaly_blocks_nothing_reads_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check costs nothing once every block is closed, however the blocks were left."""
    import micrograd.engine as engine

    with detect_anomaly(), detect_anomaly(False):  # nested
        pass
    with pytest.raises(AnomalyError), detect_anomaly():  # left by an exception
        Value(0.0).log()

    setting = _CountingSetting()
    monkeypatch.setattr(engine, "_ANOMALY", setting)
    x = Value(2.0)
    ((x * 3.0).log() + x.exp() / x).backward()
    assert setting.reads == 0
    assert x.grad != 0.0  # the walk ran

    # and inside a block the setting is what decides, for each operation and each walk
    monkeypatch.undo()
    with detect_anomaly():
        monkeypatch.setattr(engine, "_ANOMALY", setting)
        (x * 3.0).backward()
        monkeypatch.undo()
    assert setting.reads == 2  # the product, then the walk


# --- the walk, against the reference algorithm -------------------------------------------------


_SPECIAL = (0.0, -0.0, 1e300, -1e-300, math.inf, math.nan)


def _random_graph(seed: int) -> list[Value]:
    """A random DAG over the public operators (nodes with many consumers, zeros, infinities),
    with gradients already present on some nodes; every node, in creation order."""
    r = random.Random(seed)
    nodes = [Value(r.choice(_SPECIAL) if r.random() < 0.1 else r.uniform(-2, 2)) for _ in range(4)]
    unary = [
        lambda a: -a, lambda a: a.exp(), lambda a: a.tanh(), lambda a: a.sigmoid(),
        lambda a: a.relu(), lambda a: abs(a), lambda a: a * 0.0, lambda a: a ** 2,
        lambda a: a.log(), lambda a: 3.0 / a, lambda a: a - 1.5, lambda a: 2.0 ** a,
        lambda a: a.sqrt(),
    ]  # fmt: skip
    binary = [
        lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / b,
        lambda a, b: a ** b,
    ]  # fmt: skip
    for _ in range(r.randint(5, 40)):
        pick = r.random()
        recent = nodes[-6:]  # prefer recent nodes: deep graphs with shared nodes
        if pick < 0.4:
            nodes.append(r.choice(unary)(r.choice(recent)))
        elif pick < 0.85:
            nodes.append(r.choice(binary)(r.choice(recent), r.choice(nodes)))
        else:
            k = r.randint(1, 4)
            nodes.append(Value.dot(r.choices(nodes, k=k), r.choices(nodes, k=k)))
    for v in nodes:
        if r.random() < 0.2:
            v.grad = r.choice((1.5, -0.0, 0.0, math.inf, -2.25e-300))
    return nodes


def _bits(x: float) -> bytes:
    """The float's bits; any nan is one nan (CPython itself does not fix which nan a + b gives)."""
    return struct.pack("<d", math.nan if x != x else x)


@pytest.mark.parametrize("seed", range(300))
def test_walk_is_bit_for_bit_the_reference_walk(seed: int) -> None:
    ours, theirs = _random_graph(seed), _random_graph(seed)
    gradient = random.Random(seed).choice((1.0, -0.0, 0.5, -3.0))
    for _ in range(2):  # twice: gradients from the first walk are there for the second
        ours[-1].backward(gradient)
        plain_backward(theirs[-1], gradient)
        assert [_bits(v.grad) for v in ours] == [_bits(v.grad) for v in theirs]
    assert [_bits(v.data) for v in ours] == [_bits(v.data) for v in theirs]


def test_walk_from_an_interior_node_leaves_the_rest_alone() -> None:
    nodes = _random_graph(7)
    before = [_bits(v.grad) for v in nodes]
    middle = nodes[len(nodes) // 2]
    middle.backward()
    reach = {middle}
    for v in reversed(nodes):
        if v in reach:
            reach.update(v.parents)
    assert all(_bits(v.grad) == b for v, b in zip(nodes, before, strict=True) if v not in reach)


def test_an_interrupted_walk_leaves_the_graph_usable() -> None:
    x = Value(0.0)
    shared = x * 2.0
    out = shared.sqrt() + shared * 3.0  # d sqrt/dx is inf at 0: anomaly mode stops the walk
    with detect_anomaly(), pytest.raises(AnomalyError):
        out.backward()
    x.grad = shared.grad = out.grad = 0.0
    for v in (out.parents[0], out.parents[1]):
        v.grad = 0.0
    out.backward()  # counts left by the interrupted walk would make this hang or go wrong
    fresh = Value(0.0)
    s = fresh * 2.0
    (s.sqrt() + s * 3.0).backward()
    assert _bits(x.grad) == _bits(fresh.grad)
    assert _bits(shared.grad) == _bits(s.grad)


def test_backward_from_several_threads_on_shared_nodes() -> None:
    x = Value(2.0)
    h = x * 3.0  # shared by every thread's output
    outputs = [h + h * float(i) for i in range(4)]

    def work(out: Value) -> None:
        for _ in range(200):
            out.backward()

    threads = [threading.Thread(target=work, args=(o,)) for o in outputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert x.grad == 200 * sum(3.0 * (1.0 + i) for i in range(4))  # small integers: exact


def test_a_deep_graph_is_walked_without_a_dictionary_per_node() -> None:
    x = Value(1.0)
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0
    tracemalloc.start()
    try:
        y.backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert x.grad == 1.0
    # one new float a step (the product's gradient, 24 bytes): 12 bytes a node, where a dictionary
    # of counts alone would take about 40
    assert peak < 20 * 40_000


# --- Value.dot ----------------------------------------------------------------------------------


def test_dot_is_one_node_with_the_gradients_of_its_products() -> None:
    w = [Value(0.5), Value(-1.25), Value(2.0)]
    x = [Value(3.0), Value(0.1), Value(-0.7)]
    out = Value.dot(w, x)
    assert out.op is OPS["dot"]
    assert out.parents == (*w, *x)
    assert out.arg is None
    out.backward()
    w2 = [Value(v.data) for v in w]
    x2 = [Value(v.data) for v in x]
    ref = w2[0] * x2[0] + w2[1] * x2[1] + w2[2] * x2[2]
    ref.backward()
    assert [v.grad for v in (*w, *x)] == [v.grad for v in (*w2, *x2)]
    assert math.isclose(out.data, ref.data, rel_tol=1e-15)


def test_dot_rounds_once() -> None:
    a = [Value(1e16), Value(1.0), Value(-1e16)]
    assert Value.dot(a, [1.0, 1.0, 1.0]).data == 1.0
    assert (a[0] * 1.0 + a[1] * 1.0 + a[2] * 1.0).data == 0.0  # left to right loses the 1
    r = random.Random(0)
    for _ in range(200):
        n = r.randint(1, 20)
        u = [r.uniform(-1, 1) * 10.0 ** r.randint(-5, 5) for _ in range(n)]
        v = [r.uniform(-1, 1) * 10.0 ** r.randint(-5, 5) for _ in range(n)]
        exact = sum((Fraction(p * q) for p, q in zip(u, v, strict=True)), Fraction(0))
        assert Value.dot(u, v).data == float(exact)  # the exact sum of the rounded products


def test_dot_turns_numbers_into_leaves() -> None:
    w = [Value(2.0), Value(3.0)]
    out = Value.dot(w, [4, np.float64(5.0)])
    assert out.data == 23.0
    assert all(p.op is None for p in out.parents)
    assert [p.data for p in out.parents[2:]] == [4.0, 5.0]
    out.backward()
    assert [p.grad for p in out.parents] == [4.0, 5.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("a", "b", "error", "match"),
    [
        ([Value(1.0)], [1.0, 2.0], ValueError, "same length"),
        ([], [], ValueError, "same length >= 1"),
        (Value(1.0), [1.0], TypeError, "sequence"),
        ("ab", [1.0, 2.0], TypeError, "sequence"),
        (None, [1.0], TypeError, "NoneType"),
        ({1.0, 2.0}, [1.0, 2.0], TypeError, "set, which has no order"),
        ([1.0], {Value(1.0): 1.0}, TypeError, "dict, which has no order"),
        ([Value(1.0)], ["x"], TypeError, "str"),
        ([Value(1.0)], [None], TypeError, "NoneType"),
    ],
)
def test_dot_rejects_what_it_cannot_multiply(
    a: object, b: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Value.dot(a, b)  # type: ignore[arg-type]


def test_dot_in_anomaly_mode() -> None:
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"dot produced inf"):
        Value.dot([Value(1e308)], [Value(10.0)])


def test_variadic_source_groups_the_operands() -> None:
    dot = OPS["dot"]
    assert dot.arity == -1
    assert dot.groups == 2
    assert [n for n in range(7) if dot.accepts(n)] == [2, 4, 6]
    assert dot.source("a", "b", "c", "d") == "Value.dot([a, b], [c, d])"
    with pytest.raises(ValueError, match="multiple of 2"):
        dot.source("a", "b", "c")
    assert OPS["mul"].groups == 2
    assert OPS["neg"].accepts(1)
    assert not OPS["neg"].accepts(2)


def test_dot_takes_any_ordered_iterable() -> None:
    import numpy as np

    a = np.array([1.0, 2.0])
    assert Value.dot(a, np.array([3.0, 4.0])).data == 11.0
    b: list[Value | float] = [Value(3.0), 4.0]
    assert Value.dot((x for x in a), iter(b)).data == 11.0


def test_numpy_bool_is_a_number_like_bool() -> None:
    import numpy as np

    assert (Value(np.True_).data, Value(np.False_).data) == (1.0, 0.0)  # type: ignore[arg-type]
    assert (Value(2.0) * np.True_).data == 2.0  # type: ignore[operator]


# --- copies ---------------------------------------------------------------------------------------


def test_values_models_and_graphs_pickle_and_deepcopy_without_the_walks_bookkeeping() -> None:
    import copy
    import pickle

    from micrograd import MLP

    a, b = Value(2.0, label="a"), Value(-3.0)
    t = a * b
    out = t + t  # a node with two consumers: backward() leaves a tally as its mark
    out.backward()
    for clone in (pickle.loads(pickle.dumps(out)), copy.deepcopy(out)):
        assert (clone.data, clone.grad, clone.op) == (out.data, out.grad, out.op)
        (t2, t3) = clone.parents
        assert t2 is t3  # shared structure is kept
        a2, b2 = t2.parents
        assert (a2.label, a2.grad, b2.grad) == ("a", -6.0, 4.0)
        clone.backward()  # the copy walks on its own
        assert (a2.grad, b2.grad, a.grad) == (-12.0, 8.0, -6.0)
    model = MLP(2, [3, 1], rng=0)
    twin = copy.deepcopy(model)
    assert [p.data for p in twin.parameters()] == [p.data for p in model.parameters()]
    twin.parameters()[0].data += 1.0
    assert twin.parameters()[0].data != model.parameters()[0].data
