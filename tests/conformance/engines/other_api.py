"""A correct engine with its own API, and the adapter that lets the kit check it.

``Scalar(value, label)`` holds ``.value`` and ``.gradient``; ``.backprop()`` fills the gradients;
the functions ``tanh``, ``exp``, ``log`` and ``relu`` are module-level; there are no reflected
operators, no sigmoid and no division.
"""

import math

from micrograd.conformance import Adapter


class Scalar:
    def __init__(self, value, label="", parents=(), local=()):
        self.value = float(value)
        self.label = label
        self.gradient = 0.0
        self.parents = parents
        self.local = local

    def __add__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.value + other.value, "+", (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.value * other.value, "*", (self, other), (other.value, self.value))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def backprop(self):
        order, seen = [], set()
        stack = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)
        self.gradient = 1.0
        for node in reversed(order):
            for parent, d in zip(node.parents, node.local):
                parent.gradient += d * node.gradient


def tanh(x):
    t = math.tanh(x.value)
    return Scalar(t, "tanh", (x,), (1.0 - t * t,))


def exp(x):
    e = math.exp(x.value)
    return Scalar(e, "exp", (x,), (e,))


def log(x):
    return Scalar(math.log(x.value), "log", (x,), (1.0 / x.value,))


def relu(x):
    return Scalar(max(x.value, 0.0), "relu", (x,), (1.0 if x.value > 0 else 0.0,))


class ScalarAdapter(Adapter):
    """How the kit drives ``Scalar``: everything else is the default."""

    def value(self, x):
        return Scalar(x, "input")

    def data(self, v):
        return v.value

    def grad(self, v):
        return v.gradient

    def backward(self, v):
        v.backprop()

    def tanh(self, a):
        return tanh(a)

    def exp(self, a):
        return exp(a)

    def log(self, a):
        return log(a)

    def relu(self, a):
        return relu(a)

    def sigmoid(self, a):
        raise NotImplementedError

    def truediv(self, a, b):
        raise NotImplementedError
