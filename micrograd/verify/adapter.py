"""How the conformance kit drives an engine: :class:`Adapter`, one method per operation.

The default adapter speaks the karpathy/micrograd API: ``Value(x)``, ``.data``, ``.grad``,
``.backward()``, Python operators with numbers on either side, and ``exp``/``log``/``tanh``/
``sigmoid``/``relu`` methods. For an engine whose API differs, subclass it and override what
differs::

    from micrograd.conformance import Adapter
    from mylib import Scalar

    class MyAdapter(Adapter):
        def value(self, x):
            return Scalar(x, requires_grad=True)

        def grad(self, v):
            return v.gradient

        def tanh(self, a):
            return mylib.functional.tanh(a)

then run ``micrograd verify --engine mymodule:MyAdapter``. An operation the engine lacks may
raise ``NotImplementedError`` (or simply fail the way a missing method does): it is reported as
*not supported*. An operation written as a method call on the value (``a.sin()``) that the
adapter does not define is called on the value.

This module uses the standard library only: the kit loads it in the process that runs the engine,
where the engine may itself be a package called ``micrograd``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Adapter"]


class Adapter:
    """The engine's API as the kit uses it. Values are whatever the engine makes; numbers are
    Python floats. Override any method; the defaults are the karpathy/micrograd API.

    Args:
        value_class: The engine's value type, called as ``value_class(x)`` by :meth:`value`.
            A subclass that overrides :meth:`value` needs none.
    """

    #: Marks adapter classes, for the kit (which may load this module under another name).
    _conformance_adapter = True

    def __init__(self, value_class: Any = None) -> None:
        self.value_class = value_class

    # --- the engine's basics ------------------------------------------------------------------

    def value(self, x: float) -> Any:
        """A new leaf holding ``x``."""
        if self.value_class is None:
            raise NotImplementedError("Adapter() needs a value_class, or override value()")
        return self.value_class(x)

    def data(self, v: Any) -> Any:
        """The number ``v`` holds."""
        return v.data

    def grad(self, v: Any) -> Any:
        """The gradient accumulated in ``v``."""
        return v.grad

    def backward(self, v: Any) -> None:
        """Backpropagate from ``v`` (seed 1)."""
        v.backward()

    def zero_grad(self, v: Any) -> None:
        """Reset the gradient of the input ``v`` to 0."""
        v.grad = 0.0

    # --- two values -----------------------------------------------------------------------------

    def add(self, a: Any, b: Any) -> Any:
        return a + b

    def sub(self, a: Any, b: Any) -> Any:
        return a - b

    def mul(self, a: Any, b: Any) -> Any:
        return a * b

    def truediv(self, a: Any, b: Any) -> Any:
        return a / b

    def pow(self, a: Any, b: Any) -> Any:
        """``a ** b`` with a value as the exponent."""
        return a**b

    # --- a value and a number on the right ------------------------------------------------------

    def add_number(self, a: Any, c: float) -> Any:
        return a + c

    def sub_number(self, a: Any, c: float) -> Any:
        return a - c

    def mul_number(self, a: Any, c: float) -> Any:
        return a * c

    def truediv_number(self, a: Any, c: float) -> Any:
        return a / c

    def pow_number(self, a: Any, c: float) -> Any:
        return a**c

    # --- a number on the left (the reflected operators) ---------------------------------------

    def radd(self, a: Any, c: float) -> Any:
        """``c + a``."""
        return c + a

    def rsub(self, a: Any, c: float) -> Any:
        """``c - a``."""
        return c - a

    def rmul(self, a: Any, c: float) -> Any:
        """``c * a``."""
        return c * a

    def rtruediv(self, a: Any, c: float) -> Any:
        """``c / a``."""
        return c / a

    def rpow(self, a: Any, c: float) -> Any:
        """``c ** a``."""
        return c**a

    # --- one value ------------------------------------------------------------------------------

    def neg(self, a: Any) -> Any:
        return -a

    def exp(self, a: Any) -> Any:
        return a.exp()

    def log(self, a: Any) -> Any:
        return a.log()

    def tanh(self, a: Any) -> Any:
        return a.tanh()

    def sigmoid(self, a: Any) -> Any:
        return a.sigmoid()

    def relu(self, a: Any) -> Any:
        return a.relu()

    def abs(self, a: Any) -> Any:
        return abs(a)
