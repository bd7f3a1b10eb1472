"""Details of the nn module: representations and what each layer is built from."""

from __future__ import annotations

from micrograd import MLP, Layer, Neuron


def test_layer_repr_names_its_sizes_and_activation() -> None:
    assert repr(Layer(2, 1, rng=0)) == "Layer(2, 1, nonlin='relu')"
    assert repr(Layer(3, 4, nonlin="tanh", rng=0)) == "Layer(3, 4, nonlin='tanh')"
    assert repr(Layer(1, 2, nonlin=False, rng=0)) == "Layer(1, 2, nonlin='linear')"


def test_neuron_and_mlp_reprs() -> None:
    assert repr(Neuron(3, "sigmoid", rng=0)) == "Neuron(3, nonlin='sigmoid')"
    assert repr(MLP(2, [1], rng=0)) == "MLP(2, [1], nonlin='relu', out_nonlin='linear')"
