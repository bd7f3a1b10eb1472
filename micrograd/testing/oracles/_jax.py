"""The JAX oracle: float64 (``jax_enable_x64``) reverse mode by ``jax.vjp``, batched over points.

Evaluated eagerly: compiling each drawn expression would cost more than it saves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]  # before any array

import jax.numpy as jnp  # noqa: E402

from ..expr import Expr  # noqa: E402
from . import Evaluation  # noqa: E402

Array = Any

TRANSLATIONS: dict[str, Callable[..., Array]] = {
    "add": jnp.add,
    "mul": jnp.multiply,
    "div": jnp.divide,
    "pow": jnp.power,
    "neg": jnp.negative,
    "add_const": lambda x, c: x + c,
    "mul_const": lambda x, c: x * c,
    "div_const": lambda x, c: x / c,
    "rdiv_const": lambda x, c: c / x,
    # JAX differentiates x ** 0.0 at x = 0 as 0 * 0 ** -1 = nan; the derivative is 0 everywhere
    "pow_const": lambda x, c: jnp.ones_like(x) if c == 0.0 else x**c,
    "rpow_const": lambda x, c: c**x,
    "exp": jnp.exp,
    "log": jnp.log,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
    "abs": jnp.abs,
    "dot": lambda *xs: (jnp.stack(xs[: len(xs) // 2]) * jnp.stack(xs[len(xs) // 2 :])).sum(0),
}


def evaluate(expr: Expr) -> Evaluation:
    columns = [jnp.asarray(col, dtype=jnp.float64) for col in zip(*expr.points, strict=True)]

    def f(*inputs: Array) -> Array:
        vals = list(inputs)
        for node in expr.nodes:
            operands = [vals[i] for i in node.args]
            fn = TRANSLATIONS[node.op]
            vals.append(fn(*operands, node.c) if node.c is not None else fn(*operands))
        return vals[-1]

    out, pullback = jax.vjp(f, *columns)
    grads = pullback(jnp.ones_like(out))
    per_input = [[float(v) for v in g] for g in grads]
    return Evaluation(
        tuple(float(v) for v in out),
        tuple(tuple(row) for row in zip(*per_input, strict=True)),
    )
