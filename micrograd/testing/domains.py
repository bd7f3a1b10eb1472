"""Where an operator may be applied when drawing smooth, well-conditioned examples.

Each operator's :class:`Domain` (in its record, :data:`micrograd.testing.opinfo.RECORDS`) says

- ``distance(operands, c)``: how far the operands are from the nearest point where the operator
  is undefined or not differentiable (log's 0, relu's kink, a divisor's zero, a negative base
  under a non-integer power), or where its textbook derivative formula is (``x ** 0`` at 0:
  ``0 * 0 ** -1``; the contract's gradient there is an edge case, not an ordinary example);
  ``inf`` where there is none, 0 or less at or beyond one. The operator is *smooth* where it is
  positive, and *clear* of a margin where it is at least that;
- ``tame(operands, c)``: the operands keep the result and its derivatives moderate (``exp`` of at
  most ``EXP_MAX``, exponents of at most ``R``, ``sin`` and ``cos`` of at most ``TRIG_MAX``);
- ``fresh(i, c)``: intervals from which a new input for operand ``i`` can be drawn so that both
  hold by construction — the strategies generate valid inputs instead of filtering;
- ``constants``: intervals (and ``favoured`` values) for the number argument ``c``;
- ``kinks``: values of the operand where the operator is defined but not differentiable (the
  strategies can apply it exactly there, to check the contract's choice of gradient).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ANY",
    "AWAY_FROM_ZERO",
    "BOUND",
    "EXP_MAX",
    "MARGIN",
    "POSITIVE",
    "TRIG_MAX",
    "Domain",
    "Interval",
    "R",
    "away_from_zero",
    "positive",
]

Interval = tuple[float, float]

#: Magnitude of freshly drawn inputs and constants.
R: Final = 4.0
#: Distance kept from kinks, poles and domain boundaries.
MARGIN: Final = 0.1
#: Largest magnitude any value of a drawn expression may take.
BOUND: Final = 1e4
#: Largest argument of ``exp``.
EXP_MAX: Final = 8.0
#: Largest argument magnitude of ``sin`` and ``cos``: one period on each side of 0. Beyond it a
#: composed argument (``sin(2 * 4 ** x)`` at ``x = 3.25`` has slope 250 in ``x``) oscillates
#: faster than the finite differences' step can follow.
TRIG_MAX: Final = 2.0 * math.pi

ANY: Final[tuple[Interval, ...]] = ((-R, R),)
POSITIVE: Final[tuple[Interval, ...]] = ((MARGIN, R),)
AWAY_FROM_ZERO: Final[tuple[Interval, ...]] = ((MARGIN, R), (-R, -MARGIN))


def _nowhere(v: Sequence[float], c: float | None) -> float:
    return math.inf


def _always(v: Sequence[float], c: float | None) -> bool:
    return True


def _anywhere(i: int, c: float | None) -> tuple[Interval, ...]:
    return ANY


def away_from_zero(index: int) -> Callable[[Sequence[float], float | None], float]:
    """``distance`` for a pole or kink where operand ``index`` is 0."""

    def distance(v: Sequence[float], c: float | None) -> float:
        return abs(v[index])

    return distance


def positive(index: int) -> Callable[[Sequence[float], float | None], float]:
    """``distance`` for an operator defined where operand ``index`` is positive."""

    def distance(v: Sequence[float], c: float | None) -> float:
        return v[index]

    return distance


@dataclass(frozen=True, slots=True)
class Domain:
    """Where an operator may be applied; see the module docstring."""

    distance: Callable[[Sequence[float], float | None], float] = _nowhere
    tame: Callable[[Sequence[float], float | None], bool] = _always
    fresh: Callable[[int, float | None], tuple[Interval, ...]] = _anywhere
    constants: tuple[Interval, ...] = ()
    favoured: tuple[float, ...] = ()
    kinks: tuple[float, ...] = ()

    def smooth(self, operands: Sequence[float], c: float | None = None) -> bool:
        """Whether the operator and its derivative formula are defined and finite at
        ``operands``."""
        return self.distance(operands, c) > 0.0

    def clear(self, operands: Sequence[float], c: float | None, margin: float) -> bool:
        """Whether ``operands`` are at least ``margin`` from every pole, kink and boundary."""
        return self.distance(operands, c) >= margin
