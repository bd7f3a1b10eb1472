"""A seed is a run: the same examples and the same table wherever the run is made.

Neither the modules the process has loaded (Hypothesis would mix numbers from their source into
its draws) nor which of two processes checks a row (``jobs=2``) may change what a seed draws.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import signal
import sys
from pathlib import Path

import pytest

import micrograd.verify.split
from micrograd import OPS
from micrograd.verify import Report, run

QUICK = {"ops": ["div", "pow_const", "sin"], "oracles": ["fd"], "profile": "quick"}


def _table(report: Report) -> list[tuple[object, ...]]:
    """Every cell's content but its time."""
    return [
        tuple(v for k, v in dataclasses.asdict(c).items() if k != "seconds") for c in report.cells
    ]


def test_modules_loaded_later_do_not_change_what_a_seed_draws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _table(run(seed=11, **QUICK))  # type: ignore[arg-type]
    # a module outside site-packages with numbers of the strategies' ranges in its source
    numbers = ", ".join(f"{k / 8:.3f}" for k in range(-31, 32))
    (tmp_path / "numbers_here.py").write_text(f"NUMBERS = ({numbers})\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("numbers_here")
    try:
        assert _table(run(seed=11, **QUICK)) == before  # type: ignore[arg-type]
    finally:
        del sys.modules[module.__name__]


def test_two_processes_give_the_table_of_one() -> None:
    one = run(seed=5, jobs=1, **QUICK)  # type: ignore[arg-type]
    two = run(seed=5, jobs=2, **QUICK)  # type: ignore[arg-type]
    assert _table(two) == _table(one)
    assert [c.key for c in one.cells][:3] == ["div", "pow_const", "sin"]
    assert two.findings == one.findings == []


_DOUBLED_EXP = """
import micrograd.ops

_op = micrograd.ops.OPS["exp"]
_real = _op.vjp
object.__setattr__(_op, "vjp", lambda node, g: tuple(2.0 * d for d in _real(node, g)))
"""


def test_a_row_that_fails_in_the_second_process_fails_the_run_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # exp's gradient doubled, here and (through sitecustomize) in the second process, whose
    # turn it is at exp's row
    (tmp_path / "sitecustomize.py").write_text(_DOUBLED_EXP, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    op = OPS["exp"]
    real = op.vjp
    object.__setattr__(op, "vjp", lambda node, g: tuple(2.0 * d for d in real(node, g)))
    options = {"ops": ["add", "exp"], "oracles": ["fd"], "profile": "quick", "seed": 2}
    try:
        one = run(jobs=1, **options)  # type: ignore[arg-type]
        two = run(jobs=2, **options)  # type: ignore[arg-type]
    finally:
        object.__setattr__(op, "vjp", real)
    assert not one.passed
    assert one.failures() == ["exp"]
    assert "Reproduce with:" in (one.row("exp").counterexample or "")
    assert _table(two) == _table(one)
    assert two.findings == []


def test_if_the_second_process_dies_the_rest_is_checked_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = run(seed=5, jobs=1, **QUICK)  # type: ignore[arg-type]
    real = micrograd.verify.split._Helper.__init__

    def dies_at_once(self: micrograd.verify.split._Helper, config: dict[str, object]) -> None:
        real(self, config)
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)

    monkeypatch.setattr(micrograd.verify.split._Helper, "__init__", dies_at_once)
    two = run(seed=5, jobs=2, **QUICK)  # type: ignore[arg-type]
    assert _table(two) == _table(one)
    assert len(two.findings) == 1
    assert "the second process stopped" in two.findings[0]
    assert "the rest was checked in this one" in two.findings[0]


def test_a_second_process_that_cannot_start_leaves_the_run_to_this_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = run(seed=5, jobs=1, **QUICK)  # type: ignore[arg-type]
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    two = run(seed=5, jobs=2, **QUICK)  # type: ignore[arg-type]
    assert _table(two) == _table(one)
    assert two.findings == [
        "the second process stopped (it could not be started: [Errno 2] No such file or "
        "directory: '/nonexistent/python3'): the rest was checked in this one"
    ]


def test_jobs_must_be_a_whole_number_of_processes() -> None:
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match=r"run\(jobs=\.\.\.\) takes a whole number"):
            run(jobs=bad, **QUICK)  # type: ignore[arg-type]
