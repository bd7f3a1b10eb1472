"""Each deliberately broken engine of the property suite is caught by every oracle, with a small
counterexample; the real engine passes the same comparison."""

from __future__ import annotations

import pytest
from hypothesis import find, settings

from micrograd.testing import Expr, expressions
from micrograd.testing.compare import compare
from micrograd.testing.oracles import Oracle, micrograd_evaluation

from ..property.broken import BROKEN

RULE_BUGS = {
    "tanh derivative of the input": ["tanh"],
    "relu gradient 1 at 0": ["relu"],
    "division derivative sign": ["div"],
}
FIND = settings(max_examples=3000, database=None, derandomize=True)


@pytest.mark.parametrize("bug", list(BROKEN))
def test_broken_engine_disagrees_with_the_oracle(oracle: Oracle, bug: str) -> None:
    def disagrees(expr: Expr) -> bool:
        return bool(
            compare(
                expr, micrograd_evaluation(expr), oracle.evaluate(expr), absolute=oracle.absolute
            )
        )

    ops = RULE_BUGS.get(bug)  # a wrong rule is looked for in expressions of its operator
    strategy = expressions(ops=ops, max_nodes=5, kinks=bug == "relu gradient 1 at 0")
    with BROKEN[bug]():
        minimal = find(strategy, disagrees, settings=FIND)
    assert len(minimal.nodes) <= 3, minimal.snippet()
    assert not disagrees(minimal), "the real engine must agree on the same expression"
