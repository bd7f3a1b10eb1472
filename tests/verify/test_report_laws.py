"""The report's law checks: no false alarm on micrograd, and they catch broken walks."""

from __future__ import annotations

import pytest
from hypothesis import find, settings

from micrograd.testing import Expr, Node, expressions, laws
from micrograd.verify import run

from ..property.broken import BROKEN

# Runs that failed on a correct micrograd when the laws were compared relative to a result that
# cancels to about 0: the sum rule on (x0 / x0) ** x0 (2.2e-16 against 0.0 + 0.0) and the
# "used 3 times" law on a Value.dot DAG.
FALSE_ALARMS = [(119, "default"), (8, "default"), (38, "default"), (5, "thorough")]
FALSE_ALARMS += [(1894729924, "thorough")]


@pytest.mark.parametrize(("seed", "profile"), FALSE_ALARMS)
def test_seeds_that_once_failed_micrograd_pass(seed: int, profile: str) -> None:
    report = run(oracles=[], profile=profile, seed=seed)  # no oracles: the laws alone
    failed = [(law.row, law.counterexample) for law in report.laws if not law.passed]
    assert not failed
    assert len(report.laws) == len(laws.LAWS)


def test_a_sum_that_cancels_to_zero_is_judged_by_its_rounding_scale() -> None:
    # (x0 / x0) ** x0 + x0 / x0: exactly 0, 2.2e-16 in floats; the parts give 0.0 + 0.0
    expr = Expr(1, (Node("div", (0, 0)), Node("pow", (1, 0))), ((1.5,),))
    assert laws.sum_rule(expr) is None


# the walks that break a law; a broken derivative rule breaks no law (both sides use it)
CAUGHT_BY: dict[str, laws.Law] = {
    "assign instead of accumulate": laws.reuse,
    "topological order with repeats": laws.sum_rule,
}


@pytest.mark.parametrize("bug", list(CAUGHT_BY))
def test_a_broken_walk_fails_a_law_on_a_small_expression(bug: str) -> None:
    law = CAUGHT_BY[bug]
    with BROKEN[bug]():
        minimal = find(
            expressions(max_nodes=4),
            lambda e: law(e) is not None,
            settings=settings(max_examples=2000, database=None, derandomize=True),
        )
        message = law(minimal)
    assert message is not None
    assert len(minimal.nodes) <= 2, minimal.snippet()
    assert law(minimal) is None, "the real engine passes the same expression"
