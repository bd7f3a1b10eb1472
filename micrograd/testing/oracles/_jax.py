"""The JAX oracle: float64 (``jax_enable_x64``) reverse mode by ``jax.vjp``, batched over points.

Evaluated eagerly: compiling each drawn expression would cost more than it saves.
"""

from __future__ import annotations

from typing import Any

import jax

jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]  # before any array

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from ..expr import Expr  # noqa: E402
from . import Evaluation, translator  # noqa: E402

Array = Any

_translate = translator("jax", {"jax": jax, "jnp": jnp})


def evaluate(expr: Expr) -> Evaluation:
    columns = list(jnp.asarray(np.array(expr.points, dtype=np.float64).T))

    def f(*inputs: Array) -> Array:
        vals = list(inputs)
        for node in expr.nodes:
            operands = [vals[i] for i in node.args]
            vals.append(_translate(node.op, len(operands))(*operands, node.c))
        return vals[-1]

    out, pullback = jax.vjp(f, *columns)
    grads = pullback(jnp.ones_like(out))
    # to Python floats through NumPy: iterating a JAX array dispatches one indexing per element
    per_input = [np.asarray(g).tolist() for g in grads]
    return Evaluation(
        tuple(np.asarray(out).tolist()),
        tuple(tuple(row) for row in zip(*per_input, strict=True)),
    )
