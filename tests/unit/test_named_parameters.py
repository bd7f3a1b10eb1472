"""``Module.named_parameters()``: each parameter named by its place, in parameters() order."""

from __future__ import annotations

import pytest

from micrograd import MLP, Layer, Module, Neuron, Value


def names(module: Module, prefix: str = "") -> list[str]:
    return [name for name, _ in module.named_parameters(prefix)]


def test_neuron() -> None:
    n = Neuron(3, rng=0)
    assert names(n) == ["w.0", "w.1", "w.2", "b"]
    assert [p for _, p in n.named_parameters()] == n.parameters()
    assert dict(n.named_parameters())["b"] is n.b
    assert dict(n.named_parameters())["w.2"] is n.w[2]


def test_layer() -> None:
    layer = Layer(2, 2, rng=0)
    assert names(layer) == [
        "neurons.0.w.0",
        "neurons.0.w.1",
        "neurons.0.b",
        "neurons.1.w.0",
        "neurons.1.w.1",
        "neurons.1.b",
    ]
    assert [p for _, p in layer.named_parameters()] == layer.parameters()


def test_mlp_names_every_parameter_once_in_order() -> None:
    model = MLP(3, [4, 4, 1], rng=0)
    pairs = list(model.named_parameters())
    assert [p for _, p in pairs] == model.parameters()
    assert len({name for name, _ in pairs}) == len(pairs) == 41
    named = dict(pairs)
    assert named["layers.0.neurons.3.w.1"] is model.layers[0].neurons[3].w[1]
    assert named["layers.2.neurons.0.b"] is model.layers[2].neurons[0].b
    assert pairs[0][0] == "layers.0.neurons.0.w.0"
    assert pairs[-1][0] == "layers.2.neurons.0.b"


def test_a_prefix_comes_first_joined_by_a_dot() -> None:
    assert names(Neuron(1, rng=0), "n") == ["n.w.0", "n.b"]
    assert names(MLP(1, [1], rng=0), "model")[0] == "model.layers.0.neurons.0.w.0"
    assert names(Layer(1, 1, rng=0), "")[0] == "neurons.0.w.0"


def test_it_is_an_iterator_of_pairs() -> None:
    it = Neuron(2, rng=0).named_parameters()
    assert iter(it) is it
    name, p = next(it)
    assert name == "w.0"
    assert isinstance(p, Value)


@pytest.mark.parametrize("module", [Neuron(1, rng=0), Layer(1, 1, rng=0), MLP(1, [1], rng=0)])
def test_a_prefix_must_be_a_str(module: Module) -> None:
    with pytest.raises(
        TypeError,
        match=rf"^{type(module).__name__}\.named_parameters: prefix must be a str, got int$",
    ):
        list(module.named_parameters(1))  # type: ignore[arg-type]


class Affine(Module):
    """A user's module: parameters in attributes, a list, a dict and a nested module."""

    def __init__(self) -> None:
        self.scale = Value(2.0)
        self.shifts = [Value(0.1), Value(0.2)]
        self.extra = {"gain": Value(1.5)}
        self.inner = Neuron(2, rng=0)
        self.also_inner = self.inner  # the same module twice: named where first met
        self.me = self  # a cycle
        self.count = 3  # not a parameter
        self.unnamed = Value(9.0)

    def parameters(self) -> list[Value]:
        return [
            *self.inner.parameters(),
            self.scale,
            *self.shifts,
            self.extra["gain"],
            Value(7.0),  # found in no attribute
        ]


def test_the_base_class_finds_names_among_attributes() -> None:
    m = Affine()
    pairs = list(m.named_parameters())
    assert [p for _, p in pairs] == [*m.parameters()[:-1], pairs[-1][1]]
    assert [name for name, _ in pairs] == [
        "inner.w.0",
        "inner.w.1",
        "inner.b",
        "scale",
        "shifts.0",
        "shifts.1",
        "extra.gain",
        "7",  # its index in parameters()
    ]
    assert pairs[3][1] is m.scale
    assert names(m, "top")[:2] == ["top.inner.w.0", "top.inner.w.1"]


class Outer(Module):
    """Nested user modules without their own named_parameters, one sharing a parameter."""

    def __init__(self) -> None:
        self.first = Plain()
        self.second = Plain()
        self.second.v = self.first.v  # shared: the first name wins
        self.first.parent = self  # a back reference

    def parameters(self) -> list[Value]:
        return [self.first.v, self.second.u]


class Plain(Module):
    def __init__(self) -> None:
        self.v = Value(1.0)
        self.u = Value(2.0)
        self.parent: Module | None = None

    def parameters(self) -> list[Value]:
        return [self.v, self.u]


def test_nested_user_modules_and_back_references() -> None:
    assert names(Outer()) == ["first.v", "second.u"]
    assert names(Plain()) == ["v", "u"]


def test_a_module_without_parameters_names_none() -> None:
    assert list(Module().named_parameters()) == []
