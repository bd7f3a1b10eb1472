"""Karpathy's micrograd demo as a benchmark: an ``MLP(2, [16, 16, 1])`` learning two moons.

The same training step three ways, from the same weights and data and in the same order of
operations:

- ``MicrogradStep``: the library (``MLP`` and ``Value``), as a user writes it;
- ``TorchScalarStep``: the same scalar graph made of PyTorch 0-d float64 tensors, one tensor per
  parameter and one autograd node per scalar operation;
- ``FloatForward``: the forward pass and loss in plain Python floats, no graph (the floor).

The loss is the SVM hinge loss ``mean(relu(1 - y * score)) + 1e-4 * sum(p * p)``; a step is
forward, zero the gradients, backward, and an SGD update with karpathy's learning-rate schedule
``1 - 0.9 * k / 100``.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from typing import Any

from micrograd import MLP, Value

ALPHA = 1e-4  # weight of the L2 regularisation
SIZES = (2, 16, 16, 1)


def make_moons(
    n: int = 100, noise: float = 0.1, seed: int = 0
) -> tuple[list[list[float]], list[float]]:
    """Two interleaving half circles (as ``sklearn.datasets.make_moons``), labels ``-1`` / ``+1``.

    Deterministic: Gaussian noise from ``random.Random(seed)``; the points are interleaved
    (outer, inner, outer, ...) so that any prefix holds both classes.
    """
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out
    outer = [
        (math.cos(math.pi * i / (n_out - 1)), math.sin(math.pi * i / (n_out - 1)))
        for i in range(n_out)
    ]
    inner = [
        (1.0 - math.cos(math.pi * i / (n_in - 1)), 0.5 - math.sin(math.pi * i / (n_in - 1)))
        for i in range(n_in)
    ]
    xs: list[list[float]] = []
    ys: list[float] = []
    for i in range(max(n_out, n_in)):
        for points, label in ((outer, -1.0), (inner, 1.0)):
            if i < len(points):
                px, py = points[i]
                xs.append([px + rng.gauss(0.0, noise), py + rng.gauss(0.0, noise)])
                ys.append(label)
    return xs, ys


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / 100


class MicrogradStep:
    """The library, written as in karpathy's demo notebook (inputs as plain numbers)."""

    def __init__(self, seed: int) -> None:
        self.model = MLP(SIZES[0], list(SIZES[1:]), rng=seed)
        self.params = self.model.parameters()

    def weights(self) -> list[float]:
        return [p.data for p in self.params]

    def loss(self, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> Value:
        scores = [self.model.forward(x)[0] for x in xs]
        losses = [(1 + -y * score).relu() for y, score in zip(ys, scores, strict=True)]
        data_loss = sum(losses, Value(0.0)) * (1.0 / len(losses))
        reg_loss = ALPHA * sum((p * p for p in self.params), Value(0.0))
        return data_loss + reg_loss

    def step(self, xs: Sequence[Sequence[float]], ys: Sequence[float], k: int) -> float:
        total = self.loss(xs, ys)
        self.model.zero_grad()
        total.backward()
        lr = learning_rate(k)
        for p in self.params:
            p.data -= lr * p.grad
        return total.data


def graph_size(out: Value) -> int:
    """Number of nodes (leaves included) in the graph of ``out``."""
    seen = {out}
    stack = [out]
    while stack:
        for p in stack.pop().parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return len(seen)


def scalar_op_count(n_points: int) -> int:
    """Scalar operations of one step's forward graph written without a fused dot product.

    Per neuron of fan-in ``m``: ``m`` products, ``m`` additions (bias included) and an
    activation; per point: ``1 - y*s`` (2) and relu; the mean (``n`` additions, one scaling);
    the L2 term (``P`` squares, ``P`` additions, one scaling); the final addition.
    """
    per_point = 0
    for nin, nout in itertools.pairwise(SIZES):
        per_point += nout * (2 * nin + 1)
    per_point -= SIZES[-1]  # the output neuron is linear
    per_point += 3
    n_params = sum((nin + 1) * nout for nin, nout in itertools.pairwise(SIZES))
    return n_points * per_point + (n_points + 1) + (2 * n_params + 1) + 1


class TorchScalarStep:
    """The same graph of 0-d float64 tensors: one autograd node per scalar operation."""

    def __init__(self, torch: Any, weights: Sequence[float]) -> None:
        self.torch = torch
        it = iter(weights)
        self.layers: list[list[tuple[list[Any], Any]]] = []
        for nin, nout in itertools.pairwise(SIZES):
            layer = []
            for _ in range(nout):
                w = [self._param(next(it)) for _ in range(nin)]
                b = self._param(next(it))
                layer.append((w, b))
            self.layers.append(layer)
        self.params = [p for layer in self.layers for w, b in layer for p in (*w, b)]

    def _param(self, value: float) -> Any:
        return self.torch.tensor(value, dtype=self.torch.float64, requires_grad=True)

    def weights(self) -> list[float]:
        return [float(p.item()) for p in self.params]

    def _forward(self, x: Sequence[Any]) -> Any:
        relu = self.torch.relu
        last = len(self.layers) - 1
        out: Sequence[Any] = x
        for i, layer in enumerate(self.layers):
            acts = []
            for w, b in layer:
                act = w[0] * out[0]
                for wi, xi in zip(w[1:], out[1:], strict=True):
                    act = act + wi * xi
                act = act + b
                acts.append(act if i == last else relu(act))
            out = acts
        return out[0]

    def step(self, xs: Sequence[Sequence[float]], ys: Sequence[float], k: int) -> float:
        relu = self.torch.relu
        scores = [self._forward(x) for x in xs]
        losses = [relu(1 + -y * score) for y, score in zip(ys, scores, strict=True)]
        data_loss = sum(losses, self._const(0.0)) * (1.0 / len(losses))
        reg_loss = ALPHA * sum((p * p for p in self.params), self._const(0.0))
        total = data_loss + reg_loss
        for p in self.params:
            p.grad = None
        total.backward()
        lr = learning_rate(k)
        with self.torch.no_grad():
            for p in self.params:
                p -= lr * p.grad
        return float(total.item())

    def _const(self, value: float) -> Any:
        return self.torch.tensor(value, dtype=self.torch.float64)


class FloatForward:
    """The forward pass and the loss in plain floats: what the arithmetic alone costs."""

    def __init__(self, weights: Sequence[float]) -> None:
        it = iter(weights)
        self.layers: list[list[tuple[list[float], float]]] = []
        for nin, nout in itertools.pairwise(SIZES):
            layer = []
            for _ in range(nout):
                w = [next(it) for _ in range(nin)]
                layer.append((w, next(it)))
            self.layers.append(layer)
        self.params = [p for layer in self.layers for w, b in layer for p in (*w, b)]

    def _forward(self, x: Sequence[float]) -> float:
        last = len(self.layers) - 1
        out: Sequence[float] = x
        for i, layer in enumerate(self.layers):
            acts = []
            for w, b in layer:
                act = sum((wi * xi for wi, xi in zip(w, out, strict=True)), b)
                acts.append(act if i == last else (act if act > 0.0 else 0.0))
            out = acts
        return out[0]

    def loss(self, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> float:
        scores = [self._forward(x) for x in xs]
        losses = [max(1.0 + -y * s, 0.0) for y, s in zip(ys, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + ALPHA * sum(p * p for p in self.params)
