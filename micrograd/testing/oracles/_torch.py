"""The PyTorch oracle: float64 autograd, all points of an expression in one batched call."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..expr import Expr
from . import Evaluation, translator

Tensor = torch.Tensor

# each operator written as a user of PyTorch writes it (so PyTorch's own dispatch applies:
# `t ** 0.5` is sqrt, `c / t` is reciprocal(t) * c), from its record
_translate = translator("torch", {"torch": torch})


def evaluate(expr: Expr) -> Evaluation:
    columns = list(zip(*expr.points, strict=True))
    inputs = [torch.tensor(col, dtype=torch.float64, requires_grad=True) for col in columns]
    vals: list[Tensor] = list(inputs)
    for node in expr.nodes:
        operands = [vals[i] for i in node.args]
        vals.append(_translate(node.op, len(operands))(*operands, node.c))
    out = vals[-1]
    grads: Sequence[Tensor | None] = torch.autograd.grad(
        out, inputs, torch.ones_like(out), allow_unused=True
    )
    per_input = [g.tolist() if g is not None else [0.0] * len(expr.points) for g in grads]
    return Evaluation(
        tuple(out.tolist()),
        tuple(tuple(row) for row in zip(*per_input, strict=True)),
    )
