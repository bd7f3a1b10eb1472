"""A run tells its progress as it goes: each check as it starts, each row as it ends, final.

This is what lets ``micrograd verify`` print each row of the table as it ends (a CI job killed
by its timeout keeps what was checked) and show the time left on a terminal.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from micrograd.verify import Progress, check_engine, main, run
from micrograd.verify.report import Cell, Report

from ..oracles import present

ENGINES = Path(__file__).resolve().parents[1] / "conformance" / "engines"


def _rows(report: Report) -> list[str]:
    return list(dict.fromkeys(c.key for c in report.cells))


def _follow(steps: list[Progress], snapshots: dict[str, list[Cell]]) -> Callable[[Progress], None]:
    def progress(step: Progress) -> None:
        steps.append(step)
        if step.finished:  # the row's cells as they were when it was said to have ended
            cells = [c for c in step.report.cells if c.key == step.finished]
            snapshots[step.finished] = copy.deepcopy(cells)

    return progress


@pytest.mark.parametrize("subject", ["micrograd", "micrograd in two processes", "engine"])
def test_each_row_is_told_once_in_order_when_its_cells_are_final(subject: str) -> None:
    steps: list[Progress] = []
    snapshots: dict[str, list[Cell]] = {}
    ops, follow = ["add", "mul", "tanh"], _follow(steps, snapshots)
    if subject.startswith("micrograd"):
        oracles, jobs = present(["fd", "torch"]), 2 if "two" in subject else 1
        report = run(oracles=oracles, progress=follow, ops=ops, profile="quick", seed=3, jobs=jobs)
    else:
        target = str(ENGINES / "catalogue.py") + ":WrongTanh"  # a failing row, skipped rows
        report = check_engine(target, oracles=[], progress=follow, ops=ops, profile="quick", seed=3)
    assert [s.finished for s in steps if s.finished] == _rows(report)
    for key, cells in snapshots.items():
        assert cells == [c for c in report.cells if c.key == key], key
    planned = {s.planned for s in steps if s.planned}
    assert planned == {len(report.cells)}, "no row was skipped, so the plan was exact"
    labels = {s.labels for s in steps if s.labels}
    assert len(labels) == 1

    # the mixed row is over the operations that pass their rows: not known in advance
    def row(label: str) -> str:
        return re.sub(r"over \d+ operations", "over N operations", label)

    assert set(map(row, labels.pop())) >= {row(c.label) for c in report.cells}
    started = [s.checking for s in steps if s.checking]
    assert len(started) == len({s.checking for s in steps if s.checking})
    # a row says which reference it is checked against when it has one (the engine's: micrograd)
    columns = report.columns
    first = "a + b" if len(columns) > 1 else f"a + b / {columns[0]}"
    assert started[0] == ("what the engine supports" if subject == "engine" else first)
    done = [s.done for s in steps]
    assert done == sorted(done), "checks only ever end"
    assert done[-1] == len(report.cells)


def test_the_command_line_prints_each_row_once_under_one_heading() -> None:
    out = io.StringIO()
    status = main(
        ["--profile", "quick", "--seed", "3", "--ops", "add,mul", "--oracles", "fd"], out=out
    )
    assert status == 0
    lines = out.getvalue().splitlines()
    heading = [i for i, line in enumerate(lines) if line.startswith("check ")]
    assert len(heading) == 1
    labels = ["a + b", "a * b", "mixed: random trees over 2 operations", "limit: deep graphs"]
    where = [
        next(i for i, line in enumerate(lines) if line.startswith(label + " ")) for label in labels
    ]
    assert heading[0] < where[0]
    assert where == sorted(where)
    for label in labels:
        assert sum(line.startswith(label + " ") for line in lines) == 1, label
    assert lines[-1].startswith("VERIFIED: all ")
