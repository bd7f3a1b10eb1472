"""Module, Neuron, Layer and MLP."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from micrograd import MLP, OPS, Layer, Module, Neuron, Value


def test_parameters_lists_every_weight_and_bias_exactly_once() -> None:
    model = MLP(3, [4, 4, 1])
    params = model.parameters()
    assert len(params) == (3 * 4 + 4) + (4 * 4 + 4) + (4 + 1)
    assert len({id(p) for p in params}) == len(params)
    neurons = [n for layer in model.layers for n in layer.neurons]
    expected = [p for n in neurons for p in [*n.w, n.b]]
    assert [id(p) for p in params] == [id(p) for p in expected]


def test_zero_grad() -> None:
    model = MLP(2, [3, 1], rng=1)
    out = model([1.0, -2.0])
    assert isinstance(out, Value)
    (out * out + 1.0).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert Module().parameters() == []


def test_one_neuron_hidden_layer_does_not_break_the_network() -> None:
    model = MLP(2, [1, 3], rng=0)
    out = model([0.5, -1.0])
    assert isinstance(out, list)
    assert len(out) == 3
    single = MLP(2, [1, 1], rng=0)([0.5, -1.0])
    assert isinstance(single, Value)
    assert single.data == MLP(2, [1, 1], rng=0).forward([0.5, -1.0])[0].data


def test_single_output_is_a_value_and_forward_is_always_a_list() -> None:
    model = MLP(2, [4, 1], rng=0)
    assert isinstance(model([1.0, 2.0]), Value)
    assert isinstance(model.forward([1.0, 2.0]), list)
    assert len(Layer(2, 1, rng=0)([1.0, 2.0])) == 1


def test_reproducible_initialisation() -> None:
    def weights(m: MLP) -> list[float]:
        return [p.data for p in m.parameters()]

    assert weights(MLP(3, [4, 1], rng=7)) == weights(MLP(3, [4, 1], rng=7))
    assert weights(MLP(3, [4, 1], rng=7)) != weights(MLP(3, [4, 1], rng=8))
    assert weights(MLP(3, [4, 1], rng=random.Random(7))) == weights(MLP(3, [4, 1], rng=7))
    # neurons of one layer draw from one stream: they are not copies of each other
    layer = Layer(3, 2, rng=7)
    assert [w.data for w in layer.neurons[0].w] != [w.data for w in layer.neurons[1].w]


def test_initialisation_never_touches_the_global_random_state() -> None:
    state = random.getstate()
    a, b = MLP(3, [4, 1]), MLP(3, [4, 1])
    assert random.getstate() == state
    assert [p.data for p in a.parameters()] != [p.data for p in b.parameters()]


def test_initialisation_draws_in_the_original_order() -> None:
    # uniform(-1, 1) per weight, neuron by neuron, layer by layer; biases start at 0
    model = MLP(2, [16, 16, 1], rng=random.Random(1337))
    r = random.Random(1337)
    for layer in model.layers:
        for n in layer.neurons:
            assert [w.data for w in n.w] == [r.uniform(-1, 1) for _ in n.w]
            assert n.b.data == 0.0


@pytest.mark.parametrize(
    ("nonlin", "f"),
    [
        (True, lambda z: max(z, 0.0)),
        ("relu", lambda z: max(z, 0.0)),
        ("tanh", math.tanh),
        ("sigmoid", lambda z: 1.0 / (1.0 + math.exp(-z))),
        ("linear", lambda z: z),
        (False, lambda z: z),
    ],
)
def test_neuron_activations(nonlin: object, f: object) -> None:
    n = Neuron(3, nonlin, rng=3)  # type: ignore[arg-type]
    n.b.data = 0.25
    x = [0.5, -1.0, 2.0]
    z = 0.25 + sum(w.data * xi for w, xi in zip(n.w, x, strict=True))
    assert math.isclose(n(x).data, f(z), rel_tol=1e-15)  # type: ignore[operator]


def test_last_layer_is_linear_by_default() -> None:
    model = MLP(2, [3, 2], rng=0)
    assert [n.activation for n in model.layers[0].neurons] == ["relu"] * 3
    assert [n.activation for n in model.layers[1].neurons] == ["linear"] * 2
    tanh_net = MLP(2, [3, 1], nonlin="tanh", out_nonlin="tanh", rng=0)
    assert {n.activation for layer in tanh_net.layers for n in layer.neurons} == {"tanh"}
    assert repr(tanh_net) == "MLP(2, [3, 1], nonlin='tanh', out_nonlin='tanh')"


def test_values_flow_through_inputs() -> None:
    x = [Value(0.5), Value(-0.25)]
    out = MLP(2, [3, 1], nonlin="tanh", rng=2)(x)
    assert isinstance(out, Value)
    out.backward()
    assert all(xi.grad != 0.0 for xi in x)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Neuron(0), ValueError, "nin must be at least 1"),
        (lambda: Neuron("3"), TypeError, "nin must be an int"),  # type: ignore[arg-type]
        (lambda: Neuron(True), TypeError, "nin must be an int"),
        (lambda: Neuron(2, "swish"), ValueError, "nonlin must be"),  # type: ignore[arg-type]
        (lambda: Layer(2, 0), ValueError, "nout must be at least 1"),
        (lambda: MLP(2, []), ValueError, "non-empty"),
        (lambda: MLP(2, 3), ValueError, "non-empty"),  # type: ignore[arg-type]
        (lambda: MLP(2, [3, 0]), ValueError, "at least 1"),
        (lambda: MLP(2, [3], rng="seed"), TypeError, "rng must be"),  # type: ignore[arg-type]
        (lambda: MLP(2, [3], rng=True), TypeError, "rng must be"),
    ],
)
def test_bad_arguments_are_named(make: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("inputs", "error", "match"),
    [
        ([1.0], ValueError, "takes 2 inputs, got 1"),
        ([1.0, 2.0, 3.0], ValueError, "takes 2 inputs, got 3"),
        (Value(1.0), TypeError, "sequence of 2 inputs, got Value"),
        ("ab", TypeError, "got str"),
        ([1.0, "b"], TypeError, "str"),
    ],
)
def test_bad_inputs_are_rejected_not_truncated(
    inputs: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        MLP(2, [3, 1], rng=0)(inputs)  # type: ignore[arg-type]


def test_numpy_rows_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    row = np.array([0.5, -1.0])
    model = MLP(2, [3, 1], rng=0)
    a, b = model(row), model([0.5, -1.0])
    assert isinstance(a, Value)
    assert isinstance(b, Value)
    assert a.data == b.data


def test_a_neuron_is_one_dot_node_then_its_activation() -> None:
    n = Neuron(3, rng=5)
    n.b.data = 5.0  # |w · x| <= 3.5: the relu passes it
    x = [Value(0.5), Value(-1.0), Value(2.0)]
    out = n(x)
    assert out.op is OPS["relu"]
    (act,) = out.parents
    assert act.op is OPS["dot"]
    *weights, bias, x0, x1, x2, one = act.parents  # w · x + b as [*w, b] · [*x, 1]
    assert [*weights, bias] == [*n.w, n.b]
    assert [x0, x1, x2] == x
    assert one.op is None
    assert one.data == 1.0
    # the sum of the rounded products and the bias, rounded once
    exact = sum((Fraction(w.data * xi.data) for w, xi in zip(n.w, x, strict=True)), Fraction(5))
    assert act.data == float(exact)
    out.backward()
    assert [w.grad for w in n.w] == [xi.data for xi in x]
    assert n.b.grad == 1.0
    assert [xi.grad for xi in x] == [w.data for w in n.w]


def test_a_layer_turns_number_inputs_into_leaves_once() -> None:
    layer = Layer(2, 4, rng=0)
    outs = layer([0.5, -1.0])
    inputs = {id(p) for o in outs for p in o.parents[0].parents[3:]}
    assert len(inputs) == 3  # the two inputs and the constant 1.0, shared by the four neurons


def test_neuron_output_matches_the_textbook_sum() -> None:
    r = random.Random(11)
    for _ in range(50):
        n = Neuron(8, "linear", rng=r)
        n.b.data = r.uniform(-1, 1)
        x = [r.uniform(-3, 3) for _ in range(8)]
        textbook = sum((w.data * xi for w, xi in zip(n.w, x, strict=True)), n.b.data)
        out = n(x).data
        assert math.isclose(out, textbook, rel_tol=1e-14, abs_tol=1e-15)
