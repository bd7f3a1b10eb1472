"""Every tolerance the verification uses, in one place.

Finite differences
    Central differences with Richardson extrapolation (steps ``h``, ``h/2``, ``h/4``, error
    ``O(h**6)``) and ``h`` a power of two near ``FD_STEP * max(1, |x|)``. Rounding limits the
    estimate to about ``6 * eps * |f| / h``; the tolerances below sit three orders of magnitude
    above that, and many orders below the error of any wrong derivative rule (``O(1)``
    relative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..ops import OPS

__all__ = [
    "ENGINE",
    "ENGINE_ATOL",
    "ENGINE_ULPS",
    "EPS",
    "FD_ATOL",
    "FD_MIN_STEP",
    "FD_RTOL",
    "FD_STEP",
    "MICROGRAD",
    "ORACLE_ULPS",
    "SATURATING",
    "Policy",
]

#: Relative step of the finite differences: ``h ~ FD_STEP * max(1, |x|)``.
FD_STEP: Final = 2.0**-10
#: Smallest relative step tried when a step would leave an operator's domain or cross a kink.
FD_MIN_STEP: Final = 2.0**-24
#: Relative tolerance between a gradient and its finite-difference estimate.
FD_RTOL: Final = 1e-6
#: Absolute tolerance, in units of ``max(1, |f(x)|) / max(1, |x_i|)`` (the size of a step's
#: rounding error, times a thousand).
FD_ATOL: Final = 1e-9

# --- agreement with reference oracles ---------------------------------------------------------
#
# Two float64 engines computing the same expression differ by rounding. Its first-order size is
# computed from the expression at the point (``micrograd.testing.compare.error_scales``):
#
# * for the value, ``sum over nodes k of r_k * A_k``, where ``A_k`` is the sum over paths from
#   node k to the output of the product of absolute partial derivatives: each node's rounding
#   error (a few ulps of r_k) reaches the output through those paths. ``r_k`` is ``|v_k|`` for
#   an operator that rounds its result once, and ``|v_k| + sum |a_i b_i|`` for ``dot``, whose
#   products are rounded before their sum (the record's ``rounding``): a dot product that
#   cancels has the rounding error of its terms, not of its result;
# * for the gradient with respect to input i, ``A_i + S_i``: the gradient is a sum of path
#   products of partial derivatives, each computed to a few ulps (``A_i``); and the partials are
#   computed from rounded values, so they move with those values' errors (tanh'(x) changes by
#   2|dx| relatively; ln(t) is 0 at a t that rounded to 1 from 1 - 4e-33). ``S_i`` measures that
#   directly: each node's value is moved by its forward error bound (running error analysis),
#   the change carried downstream, and the gradient's movement summed, in units of eps.
#
# Both are multiplied by the number of operations and by a per-operation budget in ulps below.
# A wrong derivative rule is off by O(1) relative to A_i, far beyond these bounds (about 1e-14
# of it on the drawn expressions).
#
# PyTorch and JAX compute tanh' as 1 - y**2 and the sigmoid's as (1 - y) * y, whose error is
# absolute (about eps), not relative to the derivative: in saturation they return 0 where the
# derivative is 1e-20. Against those oracles, such an operator's partial counts as |p| + 1 in A.

#: Unit roundoff of float64 (one ulp of 1.0).
EPS: Final = 2.0**-52
#: Per-operation rounding budget, in ulps, for agreement with another float64 engine or with the
#: exact oracle.
ORACLE_ULPS: Final = 16.0
#: Per-operation rounding budget, in ulps, for another engine against micrograd: about 2e-10
#: relative. Engines differ in their formulas (``tanh`` through ``exp``, ``a / b`` as
#: ``a * b**-1``); a wrong rule is off by O(1).
ENGINE_ULPS: Final = 2.0**20
#: Absolute floor for another engine: ``tanh(1e-300)`` computed as
#: ``(exp(2x) - 1) / (exp(2x) + 1)`` is 0, a loss of accuracy, not a wrong derivative.
ENGINE_ATOL: Final = 1e-12
#: Operators whose derivative PyTorch and JAX compute with an absolute error of about eps.
SATURATING: Final = frozenset({"tanh", "sigmoid"})


@dataclass(frozen=True, slots=True)
class Policy:
    """How closely two float64 computations of the same quantity must agree: within ``ulps``
    per operation of the rounding-error scale plus ``atol``, counting the operators in
    ``absolute`` as computed with an absolute error; ``bitwise``: a repeated ``backward()``
    must reproduce its gradients bit for bit."""

    ulps: float
    atol: float = 0.0
    absolute: frozenset[str] = frozenset()
    bitwise: bool = False


#: micrograd against itself (its laws): the oracle budget; repeated backward() is exact.
MICROGRAD: Final = Policy(ORACLE_ULPS, bitwise=True)
#: Another engine against micrograd, or against itself.
ENGINE: Final = Policy(ENGINE_ULPS, ENGINE_ATOL, frozenset(OPS))
