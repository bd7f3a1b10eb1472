"""The JAX oracle: float64 (``jax_enable_x64``) reverse mode by ``jax.vjp``, batched over points.

Evaluated eagerly: compiling each drawn expression would cost more than it saves.
"""

from __future__ import annotations

from typing import Any

import jax

jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]  # before any array

import jax.numpy as jnp  # noqa: E402

from ..expr import Expr  # noqa: E402
from . import Evaluation, translator  # noqa: E402

Array = Any

_translate = translator("jax", {"jax": jax, "jnp": jnp})


def evaluate(expr: Expr) -> Evaluation:
    columns = [jnp.asarray(col, dtype=jnp.float64) for col in zip(*expr.points, strict=True)]

    def f(*inputs: Array) -> Array:
        vals = list(inputs)
        for node in expr.nodes:
            operands = [vals[i] for i in node.args]
            vals.append(_translate(node.op, len(operands))(*operands, node.c))
        return vals[-1]

    out, pullback = jax.vjp(f, *columns)
    grads = pullback(jnp.ones_like(out))
    per_input = [[float(v) for v in g] for g in grads]
    return Evaluation(
        tuple(float(v) for v in out),
        tuple(tuple(row) for row in zip(*per_input, strict=True)),
    )
