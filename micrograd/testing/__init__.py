"""Tools to verify scalar autograd engines: expressions as data, strategies, gradient checks.

- :class:`Expr` / :class:`Node`: straight-line programs over the operator registry, evaluable
  by micrograd, plain floats or any other backend, printable as runnable snippets.
- :func:`expressions`: a Hypothesis strategy drawing random expressions (trees and DAGs) with
  inputs inside every operator's domain (needs the ``testing`` extra; imported on first use).
- :func:`check_grads` / :func:`check_expr`: compare ``backward()`` (micrograd's, or any engine's
  through the kit's ``Adapter``) with Richardson-extrapolated finite differences;
  :func:`numerical_grad` gives the estimates.
- :mod:`micrograd.testing.tolerances`: every tolerance, in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .expr import Expr, Node
from .gradcheck import FiniteDifference, GradCheck, check_expr, check_grads, numerical_grad

if TYPE_CHECKING:
    from .strategies import expressions

__all__ = [
    "Expr",
    "FiniteDifference",
    "GradCheck",
    "Node",
    "check_expr",
    "check_grads",
    "expressions",
    "numerical_grad",
]


def __getattr__(name: str) -> Any:
    if name == "expressions":  # imports Hypothesis, so only on first use
        from .strategies import expressions

        return expressions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
