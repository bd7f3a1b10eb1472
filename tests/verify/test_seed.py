"""A seed is a run: the same examples and the same table wherever the run is made.

Neither the modules the process has loaded (Hypothesis would mix numbers from their source into
its draws) nor which of two processes checks a row (``jobs=2``) may change what a seed draws.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from pathlib import Path

import pytest

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
