"""Gradient checking by finite differences, in the spirit of ``jax.test_util.check_grads``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import Value
from .compare import Disagreement
from .domains import MARGIN
from .expr import Expr
from .opinfo import OPERATIONS
from .oracles import Evaluation
from .tolerances import FD_ATOL, FD_MIN_STEP, FD_RTOL, FD_STEP

__all__ = [
    "FiniteDifference",
    "GradCheck",
    "check_expr",
    "check_grads",
    "fd_compare",
    "fd_evaluation",
    "grads_agree",
    "numerical_grad",
]


@dataclass(frozen=True, slots=True)
class FiniteDifference:
    """A derivative estimate: the extrapolated ``value``, an ``error`` estimate and the ``step``."""

    value: float
    error: float
    step: float


def _step(x: float, relative: float) -> float:
    """A power of two near ``relative * max(1, |x|)``, so ``x ± h`` is exact in most cases."""
    return 2.0 ** round(math.log2(relative * max(1.0, abs(x))))


def numerical_grad(
    f: Callable[[Sequence[float]], float],
    x: Sequence[float],
    *,
    step: float = FD_STEP,
    safe: Callable[[Sequence[float]], bool] | None = None,
) -> list[FiniteDifference]:
    """Estimate the gradient of ``f`` at ``x`` by Richardson-extrapolated central differences.

    For each input, ``D(h) = (f(x + h) - f(x - h)) / 2h`` at ``h``, ``h/2`` and ``h/4`` is
    combined to cancel the ``h**2`` and ``h**4`` error terms. ``safe(point)``, if given, must hold
    at every point evaluated (e.g. no kink is crossed); otherwise the step is halved until it does,
    down to ``FD_MIN_STEP``.
    """
    point = [float(v) for v in x]
    estimates = []
    for i, xi in enumerate(point):
        relative = step
        while True:
            h = _step(xi, relative)
            samples = {}
            ok = True
            for k in (1.0, 0.5, 0.25):
                for sign in (1.0, -1.0):
                    p = list(point)
                    p[i] = xi + sign * k * h
                    if safe is not None and not safe(p):
                        ok = False
                        break
                    samples[sign * k] = f(p)
                if not ok:
                    break
            if ok:
                break
            if relative <= FD_MIN_STEP:
                raise ValueError(
                    f"no finite-difference step for input {i} = {xi!r} stays clear of kinks and "
                    f"domain boundaries (tried down to {h:g}): the point is on or next to one"
                )
            relative /= 2.0
        d1, d2, d4 = ((samples[k] - samples[-k]) / (2.0 * k * h) for k in (1.0, 0.5, 0.25))
        r1 = (4.0 * d2 - d1) / 3.0
        r2 = (4.0 * d4 - d2) / 3.0
        best = (16.0 * r2 - r1) / 15.0
        estimates.append(FiniteDifference(best, abs(best - r2), h))
    return estimates


def grads_agree(analytic: float, numeric: float, *, scale: float, rtol: float, atol: float) -> bool:
    """Whether a gradient agrees with its finite-difference estimate (both nan does not agree)."""
    if not (math.isfinite(analytic) and math.isfinite(numeric)):
        return False
    return abs(analytic - numeric) <= atol * scale + rtol * max(abs(analytic), abs(numeric))


@dataclass(frozen=True)
class GradCheck:
    """What :func:`check_grads` found: the value, both gradients and each disagreement."""

    point: tuple[float, ...]
    value: float
    backward: tuple[float, ...]
    numeric: tuple[FiniteDifference, ...]
    #: One line per input whose gradients disagree; empty when they all agree.
    mismatches: tuple[str, ...]
    #: The whole explanation, as the AssertionError gives it ("" when they agree).
    message: str

    @property
    def ok(self) -> bool:
        return not self.mismatches


def check_grads(
    f: Callable[..., Any],
    args: Sequence[float],
    *,
    rtol: float = FD_RTOL,
    atol: float = FD_ATOL,
    step: float = FD_STEP,
    name: str | None = None,
    engine: Any = None,
    raises: bool = True,
) -> GradCheck:
    """Check that ``backward()`` through ``f`` agrees with finite differences at ``args``.

    ``f`` takes one value per argument and returns a value: micrograd's :class:`~micrograd.Value`
    or, with ``engine``, another engine's; ``engine`` is its value class (``engine=MyValue``, for
    karpathy/micrograd's API) or an :class:`~micrograd.conformance.Adapter`. Raises
    ``AssertionError`` naming each disagreeing input with both gradients, their difference and
    the expression (``name``, or ``f``'s name); with ``raises=False`` returns the result instead
    (:class:`GradCheck`: ``.ok``, ``.mismatches``, ``.message``).
    """
    from ..verify.adapter import Adapter

    adapter = engine if isinstance(engine, Adapter) else Adapter(engine or Value)
    point = [float(a) for a in args]
    leaves = [adapter.value(a) for a in point]
    out = f(*leaves)
    if engine is None and not isinstance(out, Value):
        raise TypeError(f"check_grads: f must return a Value, got {type(out).__name__}")
    adapter.backward(out)
    analytic = tuple(float(adapter.grad(leaf)) for leaf in leaves)

    def forward(at: Sequence[float]) -> float:
        return float(adapter.data(f(*[adapter.value(p) for p in at])))

    numeric = tuple(numerical_grad(forward, point, step=step))
    label = name or getattr(f, "__qualname__", repr(f))
    value = float(adapter.data(out))
    bad = _disagreements(point, value, analytic, numeric, rtol, atol)
    message = _explain(f"of {label}", point, value, bad, rtol, atol) if bad else ""
    if bad and raises:
        raise AssertionError(message)
    return GradCheck(tuple(point), value, analytic, numeric, tuple(bad), message)


def check_expr(
    expr: Expr,
    *,
    rtol: float = FD_RTOL,
    atol: float = FD_ATOL,
    step: float = FD_STEP,
) -> None:
    """Check micrograd's gradient of ``expr`` against finite differences at each of its points.

    Finite-difference steps are kept small enough that every operator stays clear of its kinks
    and domain boundaries (by a quarter of the margin the strategies keep). Raises
    ``AssertionError`` with a runnable snippet of the failing case.
    """
    if not expr.points:
        raise ValueError("the expression has no points to check at")
    for point in expr.points:
        value, analytic = expr.value_and_grad(point)
        sampler = _Sampler(expr)
        numeric = numerical_grad(sampler.f, point, step=step, safe=sampler.safe)
        bad = _disagreements(point, value, analytic, numeric, rtol, atol)
        if bad:
            label = f"of {expr.source()}"
            raise AssertionError(
                _explain(label, point, value, bad, rtol, atol, expr.snippet(point))
            )


class _Sampler:
    """``expr``'s output at a point, and whether every node there is clear of its kinks and
    domain boundaries by a quarter of the margin the strategies keep (where finite-difference
    steps may go). ``safe(p)`` then ``f(p)`` on the same list evaluates the nodes once."""

    def __init__(self, expr: Expr) -> None:
        self.expr = expr
        self.last: tuple[Sequence[float], float] | None = None

    def safe(self, point: Sequence[float]) -> bool:
        expr = self.expr
        vals = expr.values(point)
        for node in expr.nodes:
            operands = [vals[i] for i in node.args]
            if not OPERATIONS[node.op].domain.clear(operands, node.c, MARGIN / 4.0):
                return False
        self.last = (point, vals[-1])  # f(point) then: the same list, by identity
        return True

    def f(self, point: Sequence[float]) -> float:
        last = self.last
        if last is not None and last[0] is point:
            return last[1]
        return self.expr.evaluate(point)


def fd_evaluation(expr: Expr, *, step: float = FD_STEP) -> Evaluation | None:
    """Values (plain floats) and finite-difference gradients of ``expr`` at its points; ``None``
    where finite differences do not apply: outside the domain random examples keep to (on a
    kink, next to a pole, ``exp(709)``, where a step loses its accuracy)."""
    if not all(expr.inside(p) for p in expr.points):
        return None
    values, grads = [], []
    sampler = _Sampler(expr)
    for point in expr.points:
        try:
            estimates = numerical_grad(sampler.f, point, step=step, safe=sampler.safe)
        except ValueError:
            return None
        values.append(expr.evaluate(point))
        grads.append(tuple(e.value for e in estimates))
    return Evaluation(tuple(values), tuple(grads))


def fd_compare(
    expr: Expr,
    ours: Evaluation,
    theirs: Evaluation,
    *,
    rtol: float = FD_RTOL,
    atol: float = FD_ATOL,
) -> list[Disagreement]:
    """Every gradient of ``ours`` that disagrees with the finite differences ``theirs``."""
    out = []
    for p, point in enumerate(expr.points):
        for i, (a, n) in enumerate(zip(ours.grads[p], theirs.grads[p], strict=True)):
            scale = max(1.0, abs(ours.values[p])) / max(1.0, abs(point[i]))
            if not grads_agree(a, n, scale=scale, rtol=rtol, atol=atol):
                tolerance = atol * scale + rtol * max(abs(a), abs(n))
                out.append(Disagreement(point, f"d/dx{i}", a, n, tolerance))
    return out


def _disagreements(
    point: Sequence[float],
    value: float,
    analytic: Sequence[float],
    numeric: Sequence[FiniteDifference],
    rtol: float,
    atol: float,
) -> list[str]:
    bad = []
    for i, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        scale = max(1.0, abs(value)) / max(1.0, abs(point[i]))
        if not grads_agree(a, n.value, scale=scale, rtol=rtol, atol=atol):
            bad.append(
                f"  input {i} = {point[i]!r}: backward {a!r}, finite differences {n.value!r} "
                f"(difference {a - n.value:.3g}, estimate error {n.error:.2g}, step {n.step:g})"
            )
    return bad


def _explain(
    label: str,
    point: Sequence[float],
    value: float,
    bad: Sequence[str],
    rtol: float,
    atol: float,
    reproducer: str | None = None,
) -> str:
    message = (
        f"backward() disagrees with finite differences for the gradient {label} "
        f"at {list(point)} (value {value!r}; rtol={rtol:g}, atol={atol:g}):\n" + "\n".join(bad)
    )
    if reproducer is not None:
        message += f"\nReproduce with:\n\n{reproducer}\n"
    return message
