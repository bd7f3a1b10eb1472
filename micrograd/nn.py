"""A tiny neural-network library on :class:`~micrograd.Value`: ``Neuron``, ``Layer``, ``MLP``."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Literal, get_args

from .engine import Value, _as_values, _dot, _ordered

__all__ = ["MLP", "Activation", "Layer", "Module", "Neuron"]

Activation = Literal["relu", "tanh", "sigmoid", "linear"]
"""The activations a neuron can apply; ``nonlin=True`` is ``"relu"``, ``False`` is ``"linear"``."""

_ACTIVATIONS: tuple[str, ...] = get_args(Activation)


class Module:
    """Base class: anything that owns parameters."""

    def parameters(self) -> list[Value]:
        """Every trainable value, each exactly once."""
        return []

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """``(name, parameter)`` for every parameter, in :meth:`parameters` order.

        A name is the parameter's place in the module, attribute names and list indices joined by
        dots: ``w.0`` and ``b`` in a :class:`Neuron`, ``neurons.3.w.1`` in a :class:`Layer`,
        ``layers.0.neurons.3.w.1`` in an :class:`MLP` (PyTorch's convention); a non-empty
        ``prefix`` comes first, joined by a dot (``prefix="model"``: ``model.layers.0...``).
        This base class finds the names of a subclass's parameters among its attributes (values,
        modules, and lists, tuples and dicts with ``str`` keys of those, searched in attribute
        order); a parameter it finds in none of them is named by its index in
        :meth:`parameters`. Graph pictures (:func:`micrograd.graph.draw` with ``model=``) use
        these names.
        """
        head = _prefix(prefix, f"{type(self).__name__}.named_parameters")
        found: dict[Value, str] = {}
        _find_names(vars(self), "", found, {id(self)})
        for i, p in enumerate(self.parameters()):
            yield head + found.get(p, str(i)), p

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """``activation(w · x + b)`` for ``nin`` inputs.

    ``w · x + b`` is one node, ``Value.dot([*w, b], [*x, 1.0])`` (the bias is the weight of a
    constant input): the products are rounded as ``w[i] * x[i]``, their sum with ``b`` once.
    Numbers among the inputs become new leaves, as does the constant 1.0.

    Weights start uniform in [-1, 1] and the bias at 0, drawn from ``rng``: a ``random.Random``,
    an ``int`` seed, or ``None`` for fresh OS entropy (never the global ``random`` state).
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool | Activation = True,
        *,
        rng: random.Random | int | None = None,
    ) -> None:
        self.nin = _positive_int(nin, "nin")
        self.activation: Activation = _activation(nonlin)
        r = _make_rng(rng)
        self.w = [Value(r.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        return self._fire(_inputs(x, self.nin, "Neuron"))

    def _fire(self, x1: tuple[Value, ...]) -> Value:
        """The neuron on checked inputs ``x1``: the ``nin`` inputs, then a leaf holding 1.0."""
        # w · x + b is Value.dot([*w, b], [*x, 1]): one node, rounded once
        act = _dot((*self.w, self.b, *x1))
        activation = self.activation
        if activation == "relu":
            return act.relu()
        if activation == "tanh":
            return act.tanh()
        if activation == "sigmoid":
            return act.sigmoid()
        return act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """``("w.0", w[0])``, ..., ``("b", b)`` (see :meth:`Module.named_parameters`)."""
        head = _prefix(prefix, "Neuron.named_parameters")
        for i, w in enumerate(self.w):
            yield f"{head}w.{i}", w
        yield f"{head}b", self.b

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, nonlin={self.activation!r})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs; a call returns a list of ``nout``."""

    def __init__(
        self,
        nin: int,
        nout: int,
        *,
        nonlin: bool | Activation = True,
        rng: random.Random | int | None = None,
    ) -> None:
        _positive_int(nout, "nout")
        r = _make_rng(rng)
        self.neurons = [Neuron(nin, nonlin, rng=r) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        x1 = _inputs(x, self.neurons[0].nin, "Layer")  # checked once for all the neurons
        return [n._fire(x1) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """``("neurons.0.w.0", ...)``, ...: each neuron's names after ``neurons.<i>.``."""
        head = _prefix(prefix, "Layer.named_parameters")
        for i, n in enumerate(self.neurons):
            yield from n.named_parameters(f"{head}neurons.{i}")

    def __repr__(self) -> str:
        first = self.neurons[0]
        return f"Layer({first.nin}, {len(self.neurons)}, nonlin={first.activation!r})"


class MLP(Module):
    """A multi-layer perceptron ``nin → nouts[0] → … → nouts[-1]``.

    Hidden layers apply ``nonlin`` (relu by default); the last layer applies ``out_nonlin``
    (linear by default). Calling the network returns a single :class:`Value` when the last layer
    has one output, else a list; :meth:`forward` always returns the list.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        *,
        nonlin: bool | Activation = True,
        out_nonlin: bool | Activation = False,
        rng: random.Random | int | None = None,
    ) -> None:
        sizes = [_positive_int(nin, "nin"), *_layer_sizes(nouts)]
        self.nin = nin
        self.nonlin: Activation = _activation(nonlin)
        self.out_nonlin: Activation = _activation(out_nonlin)
        r = _make_rng(rng)
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], nonlin=out_nonlin if i == last else nonlin, rng=r)
            for i in range(len(nouts))
        ]

    def forward(self, x: Sequence[Value | float]) -> list[Value]:
        """The outputs of the last layer, always as a list."""
        out = self.layers[0](x)
        for layer in self.layers[1:]:
            out = layer(out)
        return out

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = self.forward(x)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """``("layers.0.neurons.0.w.0", ...)``, ...: each layer's names after ``layers.<i>.``."""
        head = _prefix(prefix, "MLP.named_parameters")
        for i, layer in enumerate(self.layers):
            yield from layer.named_parameters(f"{head}layers.{i}")

    def __repr__(self) -> str:
        sizes = [len(layer.neurons) for layer in self.layers]
        return f"MLP({self.nin}, {sizes}, nonlin={self.nonlin!r}, out_nonlin={self.out_nonlin!r})"


def _prefix(prefix: object, who: str) -> str:
    """What comes before a parameter's own name: ``prefix`` and a dot, or nothing."""
    if not isinstance(prefix, str):
        raise TypeError(f"{who}: prefix must be a str, got {type(prefix).__name__}")
    return f"{prefix}." if prefix else ""


def _find_names(obj: object, path: str, found: dict[Value, str], seen: set[int]) -> None:
    """Record in ``found`` the first name, under ``path``, of each value reachable in ``obj``."""
    if isinstance(obj, Value):
        found.setdefault(obj, path)
        return
    if id(obj) in seen:  # a module or container met before (shared, or a cycle)
        return
    if isinstance(obj, Module):
        seen.add(id(obj))
        if type(obj).named_parameters is Module.named_parameters:  # search it here, with `seen`
            _find_names(vars(obj), path, found, seen)
        else:
            for name, p in obj.named_parameters(path):
                found.setdefault(p, name)
        return
    items: list[tuple[str, object]]
    if isinstance(obj, (list, tuple)):
        items = [(str(i), x) for i, x in enumerate(obj)]
    elif isinstance(obj, dict) and all(isinstance(k, str) for k in obj):
        items = list(obj.items())
    else:
        return
    seen.add(id(obj))
    for key, x in items:
        _find_names(x, f"{path}.{key}" if path else key, found, seen)


def _positive_int(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be at least 1, got {n}")
    return n


def _layer_sizes(nouts: object) -> list[int]:
    if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
        raise ValueError(f"nouts must be a non-empty sequence of layer sizes, got {nouts!r}")
    return [_positive_int(n, f"nouts[{i}]") for i, n in enumerate(nouts)]


def _activation(nonlin: object) -> Activation:
    if nonlin is True:
        return "relu"
    if nonlin is False:
        return "linear"
    if isinstance(nonlin, str) and nonlin in _ACTIVATIONS:
        return nonlin  # type: ignore[return-value]
    raise ValueError(f"nonlin must be True, False or one of {_ACTIVATIONS}, got {nonlin!r}")


def _make_rng(rng: object) -> random.Random:
    if rng is None:
        return random.Random()
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    raise TypeError(f"rng must be a random.Random, an int seed or None, got {type(rng).__name__}")


def _inputs(x: object, nin: int, who: str) -> tuple[Value, ...]:
    """The inputs as Values (numbers become new leaves), then a new leaf holding 1.0."""
    xs = _ordered(x, who, f"{nin} inputs")
    if len(xs) != nin:
        raise ValueError(f"{who} takes {nin} inputs, got {len(xs)}")
    return (*_as_values(xs), Value(1.0))  # type: ignore[arg-type]
