"""Where each registry operator may be applied when drawing smooth, well-conditioned examples.

For every operator of :data:`micrograd.OPS` this table says

- ``clear(operands, c, margin)``: the operands are at least ``margin`` away from every point where
  the operator is undefined or not differentiable (log's 0, relu's kink, a divisor's zero, a
  negative base under a non-integer power);
- ``tame(operands, c)``: the operands keep the result and its derivatives moderate (``exp`` of at
  most ``EXP_MAX``, exponents of at most ``R``);
- ``fresh(i, c)``: intervals from which a new input for operand ``i`` can be drawn so that both
  hold by construction — the strategies generate valid inputs instead of filtering;
- ``constants``: intervals (and favoured values) for the number argument ``c``;
- ``kinks``: values of the operand where the operator is defined but not differentiable (the
  strategies can apply it exactly there, to check the contract's choice of gradient).

A test checks that this table covers the registry exactly: an operator added without a domain
here fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ..ops import OPS

__all__ = [
    "ANY",
    "AWAY_FROM_ZERO",
    "BOUND",
    "DOMAINS",
    "EXP_MAX",
    "MARGIN",
    "POSITIVE",
    "Domain",
    "Interval",
    "R",
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

ANY: Final[tuple[Interval, ...]] = ((-R, R),)
POSITIVE: Final[tuple[Interval, ...]] = ((MARGIN, R),)
AWAY_FROM_ZERO: Final[tuple[Interval, ...]] = ((MARGIN, R), (-R, -MARGIN))


def _always(v: Sequence[float], c: float | None, margin: float = 0.0) -> bool:
    return True


def _anywhere(i: int, c: float | None) -> tuple[Interval, ...]:
    return ANY


@dataclass(frozen=True, slots=True)
class Domain:
    """Where an operator may be applied; see the module docstring."""

    clear: Callable[[Sequence[float], float | None, float], bool] = _always
    tame: Callable[[Sequence[float], float | None], bool] = _always
    fresh: Callable[[int, float | None], tuple[Interval, ...]] = _anywhere
    constants: tuple[Interval, ...] = ()
    favoured: tuple[float, ...] = ()
    kinks: tuple[float, ...] = ()


def _c(c: float | None) -> float:
    assert c is not None
    return c


def _pow_const_clear(v: Sequence[float], c: float | None, margin: float) -> bool:
    e = _c(c)
    if e.is_integer():
        return e >= 0.0 or abs(v[0]) >= margin
    return v[0] >= margin


def _pow_const_fresh(i: int, c: float | None) -> tuple[Interval, ...]:
    e = _c(c)
    if e.is_integer():
        return ANY if e >= 0.0 else AWAY_FROM_ZERO
    return POSITIVE


def _nonzero(index: int) -> Callable[[Sequence[float], float | None, float], bool]:
    def clear(v: Sequence[float], c: float | None, margin: float) -> bool:
        return abs(v[index]) >= margin

    return clear


def _positive(v: Sequence[float], c: float | None, margin: float) -> bool:
    return v[0] >= margin


_KINK = Domain(clear=_nonzero(0), fresh=lambda i, c: AWAY_FROM_ZERO, kinks=(0.0,))

DOMAINS: Final[dict[str, Domain]] = {
    "add": Domain(),
    "mul": Domain(),
    "div": Domain(clear=_nonzero(1), fresh=lambda i, c: AWAY_FROM_ZERO if i == 1 else ANY),
    "pow": Domain(
        clear=_positive,
        tame=lambda v, c: abs(v[1]) <= R,
        fresh=lambda i, c: POSITIVE if i == 0 else ANY,
    ),
    "neg": Domain(),
    "add_const": Domain(constants=ANY, favoured=(1.0, -1.0, 0.5)),
    "mul_const": Domain(constants=ANY, favoured=(2.0, -1.0, 0.5, 0.0)),
    "div_const": Domain(constants=AWAY_FROM_ZERO, favoured=(2.0, -1.0, 0.5)),
    "rdiv_const": Domain(
        clear=_nonzero(0), fresh=lambda i, c: AWAY_FROM_ZERO, constants=ANY, favoured=(1.0, -2.0)
    ),
    "pow_const": Domain(
        clear=_pow_const_clear,
        fresh=_pow_const_fresh,
        constants=((-3.0, 3.0),),
        favoured=(2.0, 3.0, 0.5, -1.0, -0.5, 0.0, 1.0, 1.5, -2.0, 1.0 / 3.0),
    ),
    "rpow_const": Domain(
        tame=lambda v, c: abs(v[0]) <= R, constants=POSITIVE, favoured=(2.0, 0.5, 1.0, 3.0)
    ),
    "exp": Domain(tame=lambda v, c: v[0] <= EXP_MAX),
    "log": Domain(clear=_positive, fresh=lambda i, c: POSITIVE),
    "tanh": Domain(),
    "sigmoid": Domain(),
    "relu": _KINK,
    "abs": _KINK,
    "dot": Domain(),
}


def missing_domains() -> set[str]:
    """Registry operators without a domain here (should be empty)."""
    return set(OPS) - set(DOMAINS)
