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


#: Points are evaluated in batches of this many (padded with the first point). XLA compiles each
#: primitive once per shape: one width instead of one per point count halves the oracle's time
#: in a ``micrograd verify`` run (150 compilations down to about 50; random examples have 8).
WIDTH = 8


def evaluate(expr: Expr) -> Evaluation:
    n = len(expr.points)
    width = -(-n // WIDTH) * WIDTH
    points = np.array(expr.points + (expr.points[0],) * (width - n), dtype=np.float64)
    # one array per input, each from NumPy: iterating a JAX array compiles an unstack per shape
    columns = [jnp.asarray(column) for column in points.T.copy()]

    def f(*inputs: Array) -> Array:
        vals = list(inputs)
        for node in expr.nodes:
            operands = [vals[i] for i in node.args]
            vals.append(_translate(node.op, len(operands))(*operands, node.c))
        return vals[-1]

    out, pullback = jax.vjp(f, *columns)
    grads = pullback(jnp.asarray(np.ones(width)))
    # to Python floats through NumPy: iterating a JAX array dispatches one indexing per element
    per_input = [np.asarray(g).tolist()[:n] for g in grads]
    return Evaluation(
        tuple(np.asarray(out).tolist()[:n]),
        tuple(tuple(row) for row in zip(*per_input, strict=True)),
    )
