"""Properties of the nn module on random architectures."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from micrograd import MLP, Value
from micrograd.testing import check_grads, numerical_grad

architectures = st.tuples(
    st.integers(1, 4),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.sampled_from(["tanh", "sigmoid", "linear"]),
    st.integers(0, 2**32 - 1),
)


def _loss(model: MLP, xs: list[list[float]], ys: list[float]) -> Value:
    total = Value(0.0)
    for x, y in zip(xs, ys, strict=True):
        out = model.forward(x)
        total = total + sum(((o - y) ** 2 for o in out), Value(0.0))
    return total


def _data(nin: int, seed: int) -> tuple[list[list[float]], list[float]]:
    import random

    r = random.Random(seed)
    xs = [[r.uniform(-2, 2) for _ in range(nin)] for _ in range(3)]
    return xs, [r.uniform(-1, 1) for _ in range(3)]


@given(arch=architectures)
def test_parameters_lists_every_weight_and_bias_exactly_once(
    arch: tuple[int, list[int], str, int],
) -> None:
    nin, nouts, nonlin, seed = arch
    model = MLP(nin, nouts, nonlin=nonlin, rng=seed)  # type: ignore[arg-type]
    params = model.parameters()
    sizes = [nin, *nouts]
    assert len(params) == sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    assert len({id(p) for p in params}) == len(params)
    owned = {id(w) for layer in model.layers for n in layer.neurons for w in [*n.w, n.b]}
    assert owned == {id(p) for p in params}


@given(arch=architectures)
def test_mlp_gradients_match_finite_differences(arch: tuple[int, list[int], str, int]) -> None:
    nin, nouts, nonlin, seed = arch
    model = MLP(nin, nouts, nonlin=nonlin, out_nonlin=nonlin, rng=seed)  # type: ignore[arg-type]
    xs, ys = _data(nin, seed)
    params = model.parameters()
    loss = _loss(model, xs, ys)
    model.zero_grad()
    loss.backward()
    analytic = [p.grad for p in params]
    start = [p.data for p in params]

    def f(theta: Sequence[float]) -> float:
        for p, t in zip(params, theta, strict=True):
            p.data = t
        return _loss(model, xs, ys).data

    numeric = numerical_grad(f, start)
    for p, t in zip(params, start, strict=True):
        p.data = t
    for i, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        assert math.isclose(a, n.value, rel_tol=1e-6, abs_tol=1e-9 * max(1.0, loss.data)), (
            f"parameter {i}: backward {a!r}, finite differences {n.value!r} in {model!r}"
        )


@given(arch=architectures)
def test_one_small_sgd_step_lowers_the_loss(arch: tuple[int, list[int], str, int]) -> None:
    nin, nouts, nonlin, seed = arch
    model = MLP(nin, nouts, nonlin=nonlin, rng=seed)  # type: ignore[arg-type]
    xs, ys = _data(nin, seed)
    loss = _loss(model, xs, ys)
    model.zero_grad()
    loss.backward()
    norm2 = sum(p.grad**2 for p in model.parameters())
    assume(norm2 > 1e-12)
    lr = 1e-3 / (1.0 + math.sqrt(norm2))
    for p in model.parameters():
        p.data -= lr * p.grad
    assert _loss(model, xs, ys).data < loss.data


def test_check_grads_accepts_a_function_of_values() -> None:
    check_grads(lambda a, b: (a * b).tanh() + a.exp() / b, [0.3, 1.7])


def test_check_grads_takes_another_engine_and_can_return_its_result() -> None:
    import importlib
    import sys
    from pathlib import Path

    from micrograd.conformance import Adapter

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance" / "engines"))
    try:  # two engines of the kit's tests, written as learners write them
        catalogue = importlib.import_module("catalogue")
        karpathy = importlib.import_module("karpathy")
    finally:
        sys.path.pop(0)

    def f(a: Any, b: Any) -> Any:
        return (a * b).tanh() + a * 3.0

    good = check_grads(f, [0.3, 1.7], engine=karpathy.Value)
    assert good.ok
    assert good.mismatches == ()
    assert good.message == ""
    assert good.backward == pytest.approx([n.value for n in good.numeric], rel=1e-9)
    assert check_grads(f, [0.3, 1.7], engine=Adapter(karpathy.Value)).ok

    bad = check_grads(f, [0.3, 1.7], engine=catalogue.WrongTanh, raises=False)
    assert not bad.ok
    assert [m.split(":")[0] for m in bad.mismatches] == ["  input 0 = 0.3", "  input 1 = 1.7"]
    with pytest.raises(AssertionError, match=r"disagrees with finite differences") as info:
        check_grads(f, [0.3, 1.7], engine=catalogue.WrongTanh)
    assert str(info.value) == bad.message
