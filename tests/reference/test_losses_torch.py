"""micrograd.train against PyTorch float64 autograd: each loss, a small MLP trained on it, SGD.

Inputs are drawn from seeded generators, so every run checks the same cases. Tolerances:

- A loss is a mean (or sum) of a few terms of one sign, each computed by both engines with a few
  roundings, so the two values agree to a few ulps: relative 1e-12 leaves a wide margin (the
  largest difference seen over 200 seeds is 5e-16).
- The gradient of mse, hinge or l2 with respect to one input is a short product, and agrees to
  relative 1e-12 (seen: exactly equal). The gradient of bce_with_logits, ``(sigmoid(z) - y) / n``,
  is a difference of two numbers in [0, 1] that can nearly cancel; both engines lose about 1e-16
  of absolute accuracy in it, so it is compared with an absolute 1e-15 as well.
- A parameter gradient of an MLP sums contributions of both signs from every sample and hidden
  unit; the engines add them in different orders (and ``Value.dot`` rounds a dot product once),
  so only the error relative to the largest gradient is meaningful: 1e-12 of it (seen: 1.5e-15).
- SGD updates agree to relative 1e-12 (seen: 4e-16; PyTorch may fuse the multiply-add).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from micrograd import MLP, Value
from micrograd.testing.oracles import ORACLES
from micrograd.train import SGD, bce_with_logits, hinge, l2, mse

from ..oracles import require

require(ORACLES["torch"], module_level=True)  # a missing torch fails under CI, skips elsewhere
torch = pytest.importorskip("torch")  # imported untyped, as the tests use it

F = torch.nn.functional

REL = 1e-12
SEEDS = range(6)


def tensor(xs: Sequence[float]) -> Any:
    return torch.tensor(list(xs), dtype=torch.float64, requires_grad=True)


def close(ours: float, theirs: float, absolute: float = 0.0) -> bool:
    return abs(ours - theirs) <= REL * abs(theirs) + absolute


def assert_all_close(
    ours: Sequence[float], theirs: Sequence[float], what: str, absolute: float = 0.0
) -> None:
    pairs = enumerate(zip(ours, theirs, strict=True))
    bad = [(i, a, b) for i, (a, b) in pairs if not close(a, b, absolute)]
    assert not bad, f"{what}: (index, micrograd, torch) {bad}"


def check(
    ours_fn: Callable[[list[Value], list[Value]], Value],
    torch_fn: Callable[[Any, Any], Any],
    a: list[float],
    b: list[float],
    *,
    absolute: float = 0.0,
) -> None:
    """Value and gradients of ``ours_fn`` and ``torch_fn`` at the same inputs agree."""
    va, vb = [Value(x) for x in a], [Value(x) for x in b]
    loss = ours_fn(va, vb)
    loss.backward()
    ta, tb = tensor(a), tensor(b)
    reference = torch_fn(ta, tb)
    reference.backward()
    assert close(loss.data, reference.item()), (loss.data, reference.item())
    assert_all_close([v.grad for v in va], ta.grad.tolist(), "d/d first argument", absolute)
    assert_all_close([v.grad for v in vb], tb.grad.tolist(), "d/d second argument", absolute)


def uniform(rng: random.Random, n: int, lo: float, hi: float) -> list[float]:
    return [rng.uniform(lo, hi) for _ in range(n)]


@pytest.mark.parametrize("seed", SEEDS)
def test_mse(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 20)
    check(mse, F.mse_loss, uniform(rng, n, -5, 5), uniform(rng, n, -5, 5))


@pytest.mark.parametrize("seed", SEEDS)
def test_hinge(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 20)
    scores = uniform(rng, n, -3, 3)
    labels = [rng.choice([-1.0, 1.0]) for _ in range(n)]
    va = [Value(s) for s in scores]
    loss = hinge(va, labels)
    loss.backward()
    ts = tensor(scores)
    reference = torch.relu(1 - torch.tensor(labels, dtype=torch.float64) * ts).mean()
    reference.backward()
    assert close(loss.data, reference.item())
    assert_all_close([v.grad for v in va], ts.grad.tolist(), "d/dscores")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["labels", "probabilities"])
def test_bce_with_logits(seed: int, kind: str) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 20)
    logits = uniform(rng, n, -6, 6)
    if kind == "labels":
        targets = [float(rng.randint(0, 1)) for _ in range(n)]
    else:
        targets = uniform(rng, n, 0, 1)
    check(bce_with_logits, F.binary_cross_entropy_with_logits, logits, targets, absolute=1e-15)


@pytest.mark.parametrize("z", [0.0, -0.0, 40.0, -40.0, 700.0, -700.0, 1e4, -1e4])
@pytest.mark.parametrize("y", [0.0, 0.3, 1.0])
def test_bce_at_zero_and_confident_logits(z: float, y: float) -> None:
    zv = Value(z)
    loss = bce_with_logits([zv], [y])
    loss.backward()
    tz = tensor([z])
    reference = F.binary_cross_entropy_with_logits(tz, torch.tensor([y], dtype=torch.float64))
    reference.backward()
    # log(1 + e) of a rounded sum: 1e-15 absolute per sample (see bce_with_logits)
    assert loss.data == pytest.approx(reference.item(), rel=REL, abs=1e-15)
    assert zv.grad == pytest.approx(tz.grad.item(), rel=REL, abs=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_l2(seed: int) -> None:
    rng = random.Random(seed)
    params = uniform(rng, rng.randint(1, 40), -2, 2)
    vs = [Value(p) for p in params]
    loss = l2(vs)
    loss.backward()
    tp = tensor(params)
    reference = (tp * tp).sum()
    reference.backward()
    assert close(loss.data, reference.item())
    assert_all_close([v.grad for v in vs], tp.grad.tolist(), "d/dparams")


# --- a small MLP and its loss -------------------------------------------------------------------

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def torch_mlp(model: MLP) -> tuple[list[Any], Callable[[Any], Any]]:
    """The parameters as float64 leaf tensors (in ``parameters()`` order) and the forward pass."""
    layers = []
    for layer in model.layers:
        weights = tensor([w.data for n in layer.neurons for w in n.w])
        biases = tensor([n.b.data for n in layer.neurons])
        layers.append((weights, biases, layer.neurons[0].activation))

    def forward(x: Any) -> Any:
        for weights, biases, activation in layers:
            x = x @ weights.view(len(biases), -1).T + biases
            if activation != "linear":
                x = ACTIVATIONS[activation](x)
        return x[:, 0]

    params = []
    for weights, biases, _ in layers:
        n_in = len(weights) // len(biases)
        for j in range(len(biases)):  # Neuron.parameters(): its weights, then its bias
            params.extend([(weights, j * n_in + i) for i in range(n_in)])
            params.append((biases, j))
    return params, forward


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("nonlin", "loss_name"), [("relu", "hinge"), ("tanh", "bce"), ("sigmoid", "mse")]
)
def test_mlp_loss_and_parameter_gradients(seed: int, nonlin: str, loss_name: str) -> None:
    rng = random.Random(seed)
    model = MLP(3, [5, 4, 1], nonlin=nonlin, rng=seed)  # type: ignore[arg-type]
    xs = [uniform(rng, 3, -2, 2) for _ in range(8)]
    signs = [rng.choice([-1.0, 1.0]) for _ in xs]
    probs = [(s + 1) / 2 for s in signs]

    scores = [model.forward(x)[0] for x in xs]
    if loss_name == "hinge":
        loss = hinge(scores, signs) + 1e-4 * l2(model.parameters())
    elif loss_name == "bce":
        loss = bce_with_logits(scores, probs)
    else:
        loss = mse(scores, signs)
    model.zero_grad()
    loss.backward()

    params, forward = torch_mlp(model)
    out = forward(torch.tensor(xs, dtype=torch.float64))
    if loss_name == "hinge":
        tensors = {id(t): t for t, _ in params}.values()
        penalty = sum((t * t).sum() for t in tensors)
        reference = torch.relu(1 - torch.tensor(signs, dtype=torch.float64) * out).mean()
        reference = reference + 1e-4 * penalty
    elif loss_name == "bce":
        reference = F.binary_cross_entropy_with_logits(
            out, torch.tensor(probs, dtype=torch.float64)
        )
    else:
        reference = F.mse_loss(out, torch.tensor(signs, dtype=torch.float64))
    reference.backward()

    assert close(loss.data, reference.item()), (loss.data, reference.item())
    ours = [p.grad for p in model.parameters()]
    theirs = [t.grad[i].item() for t, i in params]
    scale = max(map(abs, theirs))
    assert scale > 0
    bad = [
        (k, a, b)
        for k, (a, b) in enumerate(zip(ours, theirs, strict=True))
        if abs(a - b) > REL * scale
    ]
    assert not bad, f"(parameter, micrograd, torch), gradient scale {scale}: {bad}"


# --- SGD ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("momentum", "weight_decay"), [(0.0, 0.0), (0.9, 0.0), (0.0, 0.01), (0.5, 0.1)]
)
def test_sgd_follows_torch_optim_sgd(momentum: float, weight_decay: float) -> None:
    rng = random.Random(7)
    start = uniform(rng, 5, -1, 1)
    grads = [uniform(rng, 5, -1, 1) for _ in range(6)]
    lrs = [0.1, 0.1, 0.05, 0.05, 0.2, 0.0]

    ours = [Value(x) for x in start]
    opt = SGD(ours, lr=lrs[0], momentum=momentum, weight_decay=weight_decay)
    theirs = tensor(start)
    torch_opt = torch.optim.SGD([theirs], lr=lrs[0], momentum=momentum, weight_decay=weight_decay)
    for g, lr in zip(grads, lrs, strict=True):
        for p, gi in zip(ours, g, strict=True):
            p.grad = gi
        opt.lr = lr
        opt.step()
        theirs.grad = torch.tensor(g, dtype=torch.float64)
        for group in torch_opt.param_groups:
            group["lr"] = lr
        torch_opt.step()
        assert_all_close([p.data for p in ours], theirs.tolist(), "parameters")
