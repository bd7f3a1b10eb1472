"""Reference oracles: the same :class:`~micrograd.testing.Expr` evaluated by other engines.

Each oracle evaluates an expression's value and gradient at all of its points — in one batched
call where the backend vectorises (PyTorch float64 autograd, JAX with x64), or exactly (SymPy's
symbolic derivative evaluated with mpmath at high precision, then rounded once to double). Each
operator's translation for each oracle is in its record (:mod:`micrograd.testing.opinfo`).

Backends are imported on first use: ``import micrograd.testing.oracles`` needs none of them.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ... import _interrupt
from ..._install import install_command
from ...engine import Value
from ...ops import OPS
from ..expr import Expr
from ..opinfo import RECORDS, translation
from ..tolerances import SATURATING

__all__ = [
    "ORACLES",
    "Evaluation",
    "Oracle",
    "OracleUnavailable",
    "micrograd_evaluation",
    "translator",
]


class OracleUnavailable(RuntimeError):
    """The oracle's backend is not installed; the message says how to install it."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """An expression's value and gradient at each of its points."""

    values: tuple[float, ...]
    grads: tuple[tuple[float, ...], ...]  # grads[point][input]

    def at(self, point: int) -> Evaluation:
        """The evaluation at one of the points only."""
        return Evaluation((self.values[point],), (self.grads[point],))


@dataclass(frozen=True, slots=True)
class Oracle:
    """A reference engine.

    Attributes:
        name: Short name (``torch``, ``jax``, ``sympy``).
        title: What it computes, for reports.
        modules: The importable packages it needs.
        install: How to install them.
        exact: Whether its results are the exact values rounded once (else: another float64
            implementation).
        backend: The module implementing ``evaluate(expr) -> Evaluation``; it writes each
            operator as the operator's record says (``OpInfo.torch``, ``.jax``, ``.sympy``).
        absolute: Operators whose derivative this backend computes with an absolute error of
            about eps (see ``tolerances.SATURATING``).
        kinks: Whether its gradient at a kink is micrograd's (PyTorch's): 0 for ``abs`` and
            ``relu`` at 0. JAX's ``abs`` has gradient 1 there.
    """

    name: str
    title: str
    modules: tuple[str, ...]
    install: str
    exact: bool
    backend: str
    absolute: frozenset[str] = frozenset()
    kinks: bool = True

    def available(self) -> bool:
        """Whether the backend's packages can be imported."""
        return all(importlib.util.find_spec(m) is not None for m in self.modules)

    def _module(self) -> object:
        if not self.available():
            raise OracleUnavailable(
                f"the {self.name} oracle needs {', '.join(self.modules)}: {self.install}"
            )
        with _interrupt.deferred():  # see there: an interrupted import of PyTorch breaks NumPy
            return importlib.import_module(self.backend)

    def evaluate(self, expr: Expr) -> Evaluation:
        """Value and gradient of ``expr`` at every one of its points."""
        evaluate: Callable[[Expr], Evaluation] = self._module().evaluate  # type: ignore[attr-defined]
        return evaluate(expr.lower())


#: The oracles, by name.
ORACLES: Mapping[str, Oracle] = MappingProxyType(
    {
        "torch": Oracle(
            "torch",
            "PyTorch float64 autograd",
            ("torch",),
            install_command("torch"),
            False,
            "micrograd.testing.oracles._torch",
            SATURATING,
        ),
        "jax": Oracle(
            "jax",
            "JAX (x64) vjp",
            ("jax", "jaxlib"),
            install_command("jax"),
            False,
            "micrograd.testing.oracles._jax",
            SATURATING,
            kinks=False,
        ),
        "sympy": Oracle(
            "sympy",
            "SymPy derivative, mpmath at 60 digits, rounded once",
            ("sympy", "mpmath"),
            install_command("exact"),
            True,
            "micrograd.testing.oracles._sympy",
        ),
    }
)


def translator(field: str, namespace: dict[str, Any]) -> Callable[[str, int], Callable[..., Any]]:
    """``get(op, n)``: the oracle's function for operator ``op`` on ``n`` operands, compiled from
    the records' ``field`` (``"torch"``, ``"jax"``, ``"sympy"``) with the backend's ``namespace``.
    It takes the operands, then ``c``."""

    @functools.cache
    def get(op: str, n: int) -> Callable[..., Any]:
        source = translation(getattr(RECORDS[op], field), OPS[op], n)
        fn: Callable[..., Any] = eval(source, dict(namespace))
        return fn

    return get


def micrograd_evaluation(expr: Expr, mode: str = "") -> Evaluation:
    """The same evaluation by micrograd itself, one point at a time. ``mode`` ``"twice"``: the
    gradients after a second ``backward()``; ``"zeroed"``: after zeroing the inputs' gradients
    and calling it again, three times."""
    values, grads = [], []
    for point in expr.points:
        leaves = [Value(x) for x in point]
        out = expr.build(leaves)
        out.backward()
        for _ in range({"twice": 1, "zeroed": 3}.get(mode, 0)):
            if mode == "zeroed":
                for leaf in leaves:
                    leaf.grad = 0.0
            out.backward()
        values.append(out.data)
        grads.append(tuple(leaf.grad for leaf in leaves))
    return Evaluation(tuple(values), tuple(grads))
