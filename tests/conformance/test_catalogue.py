"""Every engine of the catalogue is flagged for the right operation or law; the correct ones pass.

Each buggy engine has a *primary* set of rows that must fail (where its bug lives) and an
*allowed* set that may fail too (operations the engine builds on the buggy one: ``a - b`` is
``a + (-b)``, and ``-b`` is ``b * -1``). Nothing else may fail.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from .support import ENGINES, report

BUILT_ON_MUL = {"sub", "div", "mul_const", "rmul_const", "rsub_const", "neg", "div_const"}
BUILT_ON_MUL |= {"rdiv_const", "sub_const", "shared", "reuse", "mixed"}
#: The laws whose composites share values (summed copies, u + v): a walk bug breaks them too.
LAWS = {"used_3_times", "sum_rule", "product_rule"}


@dataclass(frozen=True)
class Case:
    primary: frozenset[str]
    allowed: frozenset[str] = frozenset()
    says: str = ""  # text the explanation of the first primary row (in report order) contains


CATALOGUE = {
    "catalogue.py:AssignInMul": Case(
        frozenset({"mul", "reuse"}), frozenset(BUILT_ON_MUL | LAWS), "d/dx0 is 0.75, expected 1.5"
    ),
    "catalogue.py:WrongTanh": Case(frozenset({"tanh"}), says="d/dx0 is"),
    "catalogue.py:WrongSigmoid": Case(frozenset({"sigmoid"}), says="d/dx0 is"),
    "catalogue.py:WrongCos": Case(frozenset({"cos"}), says="d/dx0 is"),
    "catalogue.py:RecursiveBackward": Case(frozenset({"shared"}), frozenset(LAWS), says="d/dx0 is"),
    "catalogue.py:ReluGradOneAtZero": Case(frozenset({"relu"}), says="d/dx0 is 1.0, expected 0.0"),
    "catalogue.py:SwappedRsub": Case(frozenset({"rsub_const"}), says="the value is"),
    "catalogue.py:SwappedRtruediv": Case(frozenset({"rdiv_const"}), says="the value is"),
    "catalogue.py:LeafNotAccumulated": Case(
        frozenset({"add", "mul", "reuse"}), says="d/dx0 is 1.0, expected 2.0"
    ),
    "catalogue.py:HangsInBackward": Case(
        frozenset({"add", "mul", "reuse"}), frozenset({"shared"}), says="hung: no answer"
    ),
    "catalogue.py:ExpBackwardRaises": Case(
        frozenset({"exp"}), says="raised NotImplementedError: exp backward"
    ),
    "catalogue.py:MutatesInputs": Case(
        frozenset({"add"}),
        frozenset({"sub", "add_const", "sub_const", "radd_const", "rsub_const", "reuse", "shared"}),
        "changed input x0",
    ),
    "catalogue.py:CrashesInTanh": Case(frozenset({"tanh"}), says="exited with code 70"),
    "catalogue.py:ComplexLog": Case(frozenset({"log"}), says="complex"),
}
CORRECT = ["karpathy.py", "catalogue.py:KarpathyPow", "trains_at_import.py", "other_api.py"]


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_each_bug_is_flagged_where_it_lives(name: str) -> None:
    case = CATALOGUE[name]
    r = report(name)
    assert r.load_error is None, r.load_error
    failed = set(r.failures())
    assert case.primary <= failed, f"{name}: {sorted(case.primary - failed)} not flagged"
    extra = failed - case.primary - case.allowed
    assert not extra, f"{name}: {sorted(extra)} failed too"
    assert not r.passed
    first = next(row for row in r.cells if row.key in case.primary)
    assert first.counterexample is not None
    assert case.says in first.counterexample, first.counterexample
    assert "Reproduce with:" in first.counterexample


@pytest.mark.parametrize("name", CORRECT)
def test_correct_engines_conform(name: str) -> None:
    r = report(name)
    assert r.load_error is None, r.load_error
    assert r.passed, r.failures()
    assert r.failures() == []
    assert all(row.counterexample is None for row in r.cells if row.status == "pass")


def test_karpathy_style_engine_is_reported_honestly() -> None:
    r = report("karpathy.py")
    statuses = {row.key: row.status for row in r.cells}
    # karpathy's API has no Value exponent, no __rpow__, no abs
    assert statuses["pow"] == statuses["rpow_const"] == statuses["abs"] == "not supported"
    assert "only supporting int/float powers" in r.row("pow").detail
    # its conventions differ from PyTorch's, which is reported but does not fail the run ...
    assert statuses["twice"] == statuses["zero_grad"] == "differs"
    assert statuses["edge_exp"] == "differs"
    assert "OverflowError" in r.row("edge_exp").detail
    assert statuses["edge_complex"] == "differs"
    assert "complex" in r.row("edge_complex").detail
    # ... and a recursive topological sort limits the depth
    assert statuses["deep"] == "limited"
    assert "works to depth 100;" in r.row("deep").detail
    assert "RecursionError" in r.row("deep").detail
    # the relu result's data is the int 0: noted, not failed
    assert any("is an int" in f for f in r.findings)
    # under --strict, the same engine fails on exactly those rows
    strict = report("karpathy.py", strict=True)
    failed = set(strict.failures())
    assert {"twice", "zero_grad", "edge_exp", "edge_complex", "deep"} <= failed
    conventions = {"twice", "zero_grad", "deep"}
    assert all(key in conventions or key.startswith("edge_") for key in failed), failed


def test_karpathys_own_pow_differs_at_the_edge_only() -> None:
    """karpathy/micrograd's __pow__ as published: its backward of x ** 0 at 0 divides by zero,
    a point where the textbook rule c * x ** (c - 1) is not defined: an edge, not a failure."""
    r = report("catalogue.py:KarpathyPow")
    assert r.passed, r.failures()
    assert r.row("pow_const").status == "pass"
    edge = r.row("edge_pow_zero")
    assert edge.status == "differs"
    assert "ZeroDivisionError" in edge.detail
    assert "edge_pow_zero" in report("catalogue.py:KarpathyPow", strict=True).failures()


def test_micrograd_conforms_strictly() -> None:
    r = report("../../../micrograd", strict=True)
    assert r.passed, r.failures()
    assert all(row.status == "pass" for row in r.cells), [
        (row.key, row.status) for row in r.cells if row.status != "pass"
    ]
    assert "100,000" in r.row("deep").detail


def test_engine_that_trains_at_import_is_noted() -> None:
    r = report("trains_at_import.py")
    assert any("printed 5 line(s)" in f and "epoch 0 loss" in f for f in r.findings), r.findings


def test_adapter_engine_is_driven_through_its_adapter() -> None:
    r = report("other_api.py")
    assert r.engine["adapter"] is True
    assert r.engine["attr"] == "ScalarAdapter"
    statuses = {row.key: row.status for row in r.cells}
    assert statuses["sigmoid"] == statuses["div"] == statuses["radd_const"] == "not supported"
    assert statuses["tanh"] == statuses["mul"] == statuses["deep"] == "pass"


def test_a_failure_prints_a_snippet_that_reproduces_it_on_the_engine() -> None:
    row = report("catalogue.py:ReluGradOneAtZero").row("relu")
    assert row.counterexample is not None
    assert "micrograd: value 0.0, gradient [0.0]" in row.counterexample
    snippet = row.counterexample.split("Reproduce with:\n", 1)[1]
    code = "\n".join(line[4:] for line in snippet.splitlines())
    assert "from catalogue import ReluGradOneAtZero as Value" in code
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ENGINES
    )
    assert out.stdout.split() == ["0.0", "[1.0]"]  # the engine's wrong gradient, as reported


def test_a_hang_costs_one_timeout_per_row_not_a_stuck_kit() -> None:
    r = report("catalogue.py:HangsInBackward")
    assert r.seconds < 30, r.seconds
    assert "the process was killed" in r.row("add").detail
    text = r.row("add").counterexample
    assert text is not None
    assert "x0 + x0" in text
