"""micrograd is never less accurate than PyTorch on any operator (values and gradients), measured
in ulps against the exact oracle on the same inputs."""

from __future__ import annotations

import pytest

from micrograd import OPS
from micrograd.testing.accuracy import measure
from micrograd.testing.oracles import ORACLES

from ..oracles import require

# Within one ulp an engine is faithfully rounded; beyond it, micrograd must not be worse.
FAITHFUL = 1.0


@pytest.mark.parametrize("op", list(OPS))
def test_never_less_accurate_than_torch(op: str) -> None:
    for name in ("torch", "jax", "sympy"):
        require(ORACLES[name])
    results = {a.engine: a for a in measure([op], points=120, seed=1)}
    ours, torch = results["micrograd"], results["torch"]
    assert ours.value_max <= max(torch.value_max, FAITHFUL), (op, ours.value, torch.value)
    assert ours.grad_max <= max(torch.grad_max, FAITHFUL), (op, ours.grad, torch.grad)
