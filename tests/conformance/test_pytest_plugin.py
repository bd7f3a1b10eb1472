"""The kit as pytest items: one per row, selected, stopped and reported as any test is."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from .support import target

pytest_plugins = ["pytester"]


def _run(pytester: pytest.Pytester, engine: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--micrograd-engine", target(engine), "-rs", *args
    )


def test_each_row_is_an_item_and_a_buggy_row_fails_with_the_kits_explanation(
    pytester: pytest.Pytester,
) -> None:
    result = _run(pytester, "catalogue.py:WrongTanh", "-v")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1, result.stdout.str()
    assert outcomes["passed"] > 20
    assert outcomes["skipped"] >= 1
    out = result.stdout.str()
    assert "catalogue.py:WrongTanh]::tanh FAILED" in out
    assert "d/dx0 is" in out
    assert "Reproduce with:" in out
    assert "pytest_plugin.py" not in out  # the kit's frames and lines are not shown
    assert "not supported" in out  # operations it lacks are skipped, saying why


def test_rows_are_selected_with_k_and_a_run_stops_at_the_first_failure_with_x(
    pytester: pytest.Pytester,
) -> None:
    selected = _run(pytester, "catalogue.py:WrongTanh", "-k", "relu or exp").parseoutcomes()
    assert selected["passed"] == 3
    assert selected["deselected"] > 30
    stopped = _run(pytester, "catalogue.py:WrongTanh", "-x").parseoutcomes()
    assert stopped["failed"] == 1
    assert stopped.get("passed", 0) + stopped.get("skipped", 0) < 35  # the rest did not run


def test_a_correct_engine_passes_and_junit_has_one_case_per_row(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "karpathy.py", "--junitxml", "report.xml")
    result.assert_outcomes(passed=36, skipped=5)
    cases = ET.parse(pytester.path / "report.xml").getroot().iter("testcase")
    names = [case.get("name") for case in cases]
    assert len(names) == 41
    assert "tanh" in names
    assert "sum_rule" in names


def test_a_required_operation_the_engine_lacks_fails(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "karpathy.py", "--micrograd-require", "abs", "-k", "abs")
    result.assert_outcomes(failed=1, deselected=40)


def test_an_engine_that_cannot_be_loaded_is_one_failing_item(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--micrograd-engine", "no_such_engine.py"
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "micrograd-conformance[no_such_engine.py]::load" in out
    assert "could not load no_such_engine.py: ModuleNotFoundError: No module named" in out


def test_without_an_engine_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_one():\n    pass\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
