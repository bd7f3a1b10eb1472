"""micrograd: a verified scalar reverse-mode autograd engine with a tiny neural-network library.

>>> from micrograd import Value
>>> a, b = Value(2.0), Value(-3.0)
>>> c = a * b + 10
>>> c.backward()
>>> c.data, a.grad, b.grad
(4.0, -3.0, 2.0)
"""

from .engine import AnomalyError, Value, detect_anomaly
from .nn import MLP, Activation, Layer, Module, Neuron
from .ops import OPS, Op
from .tape import StructureError, Tape, record

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "OPS",
    "Activation",
    "AnomalyError",
    "Layer",
    "Module",
    "Neuron",
    "Op",
    "StructureError",
    "Tape",
    "Value",
    "detect_anomaly",
    "record",
]
