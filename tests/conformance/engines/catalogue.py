"""Engines with one typical bug each, written in the karpathy/micrograd style.

Each class changes one thing of the correct engine in ``karpathy.py``; the conformance kit must
flag it for the right operation or law (see ``tests/conformance/test_catalogue.py``).
"""

import math

from karpathy import Value


class AssignInMul(Value):
    """``=`` instead of ``+=`` in the backward of ``*``: ``x * x`` gets half its gradient."""

    def __mul__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad = other.data * out.grad
            other.grad = self.data * out.grad

        out._backward = _backward
        return out

    def __rmul__(self, other):
        return self * other


class KarpathyPow(Value):
    """karpathy/micrograd's own ``__pow__``: its backward computes ``0.0 ** -1`` for ``x ** 0``
    at ``x = 0`` and raises ZeroDivisionError (the derivative is 0)."""

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = type(self)(self.data**other, (self,), f"**{other}")

        def _backward():
            self.grad += (other * self.data ** (other - 1)) * out.grad

        out._backward = _backward
        return out


class WrongTanh(Value):
    """tanh' written as ``1 - t`` instead of ``1 - t**2``."""

    def tanh(self):
        t = math.tanh(self.data)
        out = type(self)(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t) * out.grad

        out._backward = _backward
        return out


class WrongSigmoid(Value):
    """sigmoid' written as ``s`` instead of ``s * (1 - s)``."""

    def sigmoid(self):
        s = 1 / (1 + math.exp(-self.data))
        out = type(self)(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * out.grad

        out._backward = _backward
        return out


class RecursiveBackward(Value):
    """backward() recurses into the operands without a topological order: a value used twice
    passes its gradient on before it has all of it (and then again)."""

    def backward(self):
        self.grad = 1.0
        self._propagate()

    def _propagate(self):
        self._backward()
        for child in self._prev:
            child._propagate()


class ReluGradOneAtZero(Value):
    """relu's gradient taken as 1 at 0 (``>=`` instead of ``>``)."""

    def relu(self):
        out = type(self)(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (self.data >= 0) * out.grad

        out._backward = _backward
        return out


class SwappedRsub(Value):
    """``__rsub__`` computes ``self - other`` instead of ``other - self``."""

    def __rsub__(self, other):
        return self - other


class SwappedRtruediv(Value):
    """``__rtruediv__`` computes ``self / other`` instead of ``other / self``."""

    def __rtruediv__(self, other):
        return self * other**-1


class LeafNotAccumulated(Value):
    """Local derivatives kept in a dict keyed by operand: in ``x * x`` and ``x + x`` the second
    entry replaces the first, so the input gets one contribution instead of two."""

    def __add__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        out = type(self)(self.data + other.data, (self, other), "+")
        local = {self: 1.0, other: 1.0}

        def _backward():
            for child, d in local.items():
                child.grad += d * out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other), "*")
        local = {self: other.data, other: self.data}

        def _backward():
            for child, d in local.items():
                child.grad += d * out.grad

        out._backward = _backward
        return out


class HangsInBackward(Value):
    """An iterative backward (Kahn's algorithm) that counts a value's consumers per operand but
    releases them per distinct operand: a value used twice by one operation (``x * x``) never
    becomes ready, and backward() loops forever."""

    def __init__(self, data, _children=(), _op=""):
        super().__init__(data, _children, _op)
        self._operands = list(_children)

    def backward(self):
        nodes, stack, seen = [], [self], {id(self)}
        while stack:
            v = stack.pop()
            nodes.append(v)
            for child in v._prev:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
        waiting = {id(v): 0 for v in nodes}
        for v in nodes:
            for child in v._operands:
                waiting[id(child)] += 1
        self.grad = 1.0
        done = set()
        while len(done) < len(nodes):
            for v in nodes:
                if id(v) not in done and waiting[id(v)] == 0:
                    v._backward()
                    done.add(id(v))
                    for child in v._prev:  # the set: one release for two uses
                        waiting[id(child)] -= 1


class ExpBackwardRaises(Value):
    """exp's backward raises (an unfinished method)."""

    def exp(self):
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward():
            raise NotImplementedError("exp backward")

        out._backward = _backward
        return out


class MutatesInputs(Value):
    """``a + b`` adds into ``a`` and returns it (in-place), changing the caller's input."""

    def __add__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        self.data += other.data
        return self


class CrashesInTanh(Value):
    """tanh ends the process (as a crash in native code would)."""

    def tanh(self):
        import os

        os._exit(70)


class ComplexLog(Value):
    """log built on cmath: a complex result for a negative input, and a complex gradient."""

    def log(self):
        import cmath

        out = type(self)(cmath.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / complex(self.data)

        out._backward = _backward
        return out


class WrongCos(Value):
    """sin and cos added the way a learner adds them; cos' written as ``sin`` (the sign lost)."""

    def sin(self):
        out = type(self)(math.sin(self.data), (self,), "sin")

        def _backward():
            self.grad += math.cos(self.data) * out.grad

        out._backward = _backward
        return out

    def cos(self):
        out = type(self)(math.cos(self.data), (self,), "cos")

        def _backward():
            self.grad += math.sin(self.data) * out.grad

        out._backward = _backward
        return out


class SetOrderBackward(Value):
    """backward() collects the graph into a set and runs each node's _backward in set order,
    which follows the nodes' hashes (their addresses): the order, and the gradients of a value
    used more than once, change from one run of the same program to the next."""

    def backward(self):
        nodes, stack = set(), [self]
        while stack:
            v = stack.pop()
            if v not in nodes:
                nodes.add(v)
                stack.extend(v._prev)
        self.grad = 1.0
        for v in nodes:
            v._backward()


class NumbersNotWrapped(Value):
    """+ and * assume the other operand is a Value: ``v + 1`` reads ``(1).data``. The engine
    does not take numbers there, which is not a bug in its rules."""

    def __add__(self, other):
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out


class SigmoidHelper(Value):
    """sigmoid is a numeric helper taking a number, not an operation on the value."""

    def sigmoid(self, x):
        return 1 / (1 + math.exp(-x))


class NumpyData(Value):
    """data and grad are 0-d NumPy arrays, as when a learner writes ``np.array(x)``."""

    def __init__(self, data, _children=(), _op=""):
        import numpy as np

        super().__init__(np.asarray(data, dtype=float), _children, _op)
        self.grad = np.asarray(0.0)


class ClampedExp(Value):
    """exp clamped at 700 "to avoid overflow": wrong from 700 to 709.78, where exp is finite."""

    def exp(self):
        out = type(self)(math.exp(min(self.data, 700.0)), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out


class ClampedLog(Value):
    """log clamped at 1e-7 "to avoid log(0)": wrong below 1e-7, where log is finite."""

    def log(self):
        x = max(self.data, 1e-7)
        out = type(self)(math.log(x), (self,), "log")

        def _backward():
            self.grad += (1 / x) * out.grad

        out._backward = _backward
        return out


class ForksAtBackward(Value):
    """backward() starts a helper process that lives on (as a data loader's worker might), with
    the engine's file descriptors, the kit's reply channel among them."""

    def backward(self):
        import os
        import time

        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        super().backward()
        time.sleep(600)


class PatchesJson(Value):
    """Importing or using the engine replaces json.dumps (a logging helper gone wrong)."""

    def backward(self):
        import json

        json.dumps = lambda *args, **kwargs: "not json"
        super().backward()


class WritesEverywhere(Value):
    """backward() writes a line to every open file descriptor (a debug print to each stream)."""

    def backward(self):
        import os

        for fd in range(3, 64):
            try:
                os.write(fd, b"debug: backward\n")
            except OSError:
                pass
        super().backward()


class ClosesItsFiles(Value):
    """backward() closes every file descriptor and then waits (a daemon that detaches badly)."""

    def backward(self):
        import os
        import time

        os.closerange(0, 256)
        time.sleep(600)


class PrintsWithoutEnd(Value):
    """exp() prints a megabyte each time it is called (a debug print of a large buffer)."""

    def exp(self):
        print("x" * 2**20)
        return super().exp()


class AllocatesWithoutEnd(Value):
    """tanh() keeps allocating (a cache that is never freed, or an accidental quadratic copy)."""

    def tanh(self):
        hog = []
        while True:
            hog.append(bytearray(2**24))
