"""Every tolerance the verification uses, in one place.

Finite differences
    Central differences with Richardson extrapolation (steps ``h``, ``h/2``, ``h/4``, error
    ``O(h**6)``) and ``h`` a power of two near ``FD_STEP * max(1, |x|)``. Rounding limits the
    estimate to about ``6 * eps * |f| / h``; the tolerances below sit three orders of magnitude
    above that, and many orders below the error of any wrong derivative rule (``O(1)``
    relative).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "FD_ATOL",
    "FD_MIN_STEP",
    "FD_RTOL",
    "FD_STEP",
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
