"""The PyTorch oracle: float64 autograd, all points of an expression in one batched call."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..expr import Expr
from . import Evaluation

Tensor = torch.Tensor

# how a user of PyTorch writes each operator (so PyTorch's own dispatch applies: `t ** 0.5` is
# sqrt, `c / t` is reciprocal(t) * c)
TRANSLATIONS: dict[str, Callable[..., Tensor]] = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "neg": lambda x: -x,
    "add_const": lambda x, c: x + c,
    "mul_const": lambda x, c: x * c,
    "div_const": lambda x, c: x / c,
    "rdiv_const": lambda x, c: c / x,
    "pow_const": lambda x, c: x**c,
    "rpow_const": lambda x, c: c**x,
    "exp": torch.exp,
    "log": torch.log,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "abs": torch.abs,
    "dot": lambda *xs: (torch.stack(xs[: len(xs) // 2]) * torch.stack(xs[len(xs) // 2 :])).sum(0),
}


def evaluate(expr: Expr) -> Evaluation:
    columns = list(zip(*expr.points, strict=True))
    inputs = [torch.tensor(col, dtype=torch.float64, requires_grad=True) for col in columns]
    vals: list[Tensor] = list(inputs)
    for node in expr.nodes:
        operands = [vals[i] for i in node.args]
        fn = TRANSLATIONS[node.op]
        vals.append(fn(*operands, node.c) if node.c is not None else fn(*operands))
    out = vals[-1]
    grads: Sequence[Tensor | None] = torch.autograd.grad(
        out, inputs, torch.ones_like(out), allow_unused=True
    )
    per_input = [g.tolist() if g is not None else [0.0] * len(expr.points) for g in grads]
    return Evaluation(
        tuple(out.tolist()),
        tuple(tuple(row) for row in zip(*per_input, strict=True)),
    )
