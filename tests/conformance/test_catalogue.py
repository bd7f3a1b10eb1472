"""Every engine of the catalogue is flagged for the right operation or law; the correct ones pass.

Each buggy engine has a *primary* set of rows that must fail (where its bug lives) and an
*allowed* set that may fail too (operations the engine builds on the buggy one: ``a - b`` is
``a + (-b)``, and ``-b`` is ``b * -1``). Nothing else may fail.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from micrograd.conformance import check_engine
from micrograd.testing.opinfo import OPERATIONS

from .support import ENGINES, report, target

BUILT_ON_MUL = {"sub", "div", "mul_const", "rmul_const", "rsub_const", "neg", "div_const"}
BUILT_ON_MUL |= {"rdiv_const", "sub_const", "shared", "reuse", "mixed"}
#: A backward() that breaks the process breaks every row that computes.
ALL_ROWS = frozenset(
    [*(n for n in OPERATIONS if n != "dot"), "mixed", "reuse", "shared", "twice", "zero_grad"]
)
#: The laws whose composites share values (summed copies, u + v): a walk bug breaks them too.
LAWS = {"used_3_times", "sum_rule", "product_rule"}


@dataclass(frozen=True)
class Case:
    primary: frozenset[str]
    allowed: frozenset[str] = frozenset()
    says: str = ""  # text the explanation of the first primary row (in report order) contains
    #: The operations to check, where not all: an engine whose every row hangs until the
    #: timeout shows as much on a few rows as on all of them, in a fraction of the time.
    ops: tuple[str, ...] | None = None


CATALOGUE = {
    "catalogue.py:AssignInMul": Case(
        frozenset({"mul"}), frozenset(BUILT_ON_MUL | LAWS), "d/dx0 is 0.75, expected 1.5"
    ),
    "catalogue.py:WrongTanh": Case(frozenset({"tanh"}), says="d/dx0 is"),
    "catalogue.py:WrongSigmoid": Case(frozenset({"sigmoid"}), says="d/dx0 is"),
    "catalogue.py:WrongCos": Case(frozenset({"cos"}), says="d/dx0 is"),
    "catalogue.py:RecursiveBackward": Case(frozenset({"shared"}), frozenset(LAWS), says="d/dx0 is"),
    "catalogue.py:ReluGradOneAtZero": Case(frozenset({"relu"}), says="d/dx0 is 1.0, expected 0.0"),
    "catalogue.py:SwappedRsub": Case(frozenset({"rsub_const"}), says="the value is"),
    "catalogue.py:SwappedRtruediv": Case(frozenset({"rdiv_const"}), says="the value is"),
    "catalogue.py:LeafNotAccumulated": Case(
        frozenset({"add", "mul"}), frozenset({"reuse"}), says="d/dx0 is 1.0, expected 2.0"
    ),
    "catalogue.py:HangsInBackward": Case(
        frozenset({"add", "mul"}), frozenset({"reuse", "shared"}), says="hung: no answer"
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
    "catalogue.py:ClampedExp": Case(frozenset({"exp"}), says="the value is"),
    # faults of the engine's process: each ends in the rows it breaks, within the time limits
    "catalogue.py:WritesEverywhere": Case(
        frozenset({"add", "mul"}), ALL_ROWS, "wrote 'debug: backward\\n' where its answer belonged"
    ),
    "catalogue.py:ClosesItsFiles": Case(
        frozenset({"add", "mul"}),
        ALL_ROWS,
        "closed its reply channel and did not exit",
        ("add", "mul", "tanh"),
    ),
    "catalogue.py:ForksAtBackward": Case(
        frozenset({"add", "mul"}), ALL_ROWS, "hung: no answer", ("add", "mul", "tanh")
    ),
    "catalogue.py:ClampedLog": Case(frozenset({"log"}), says="the value is"),
}
CORRECT = ["karpathy.py", "catalogue.py:KarpathyPow", "trains_at_import.py", "other_api.py"]


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_each_bug_is_flagged_where_it_lives(name: str) -> None:
    case = CATALOGUE[name]
    r = report(name, ops=case.ops)
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


def test_an_engine_that_allocates_without_end_fails_its_row_at_the_memory_limit() -> None:
    r = check_engine(
        target("catalogue.py:AllocatesWithoutEnd"),
        profile="quick",
        seed=0,
        oracles=[],
        ops=["tanh", "add"],
        memory=256,
    )
    assert r.load_error is None, r.load_error
    assert r.failures() == ["tanh"]
    (row,) = [row for row in r.cells if row.key == "tanh"]
    assert row.counterexample is not None
    assert "reached its memory limit of 256 MiB (--memory)" in row.counterexample


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


def test_a_failure_prints_a_snippet_that_reproduces_it_on_the_engine(tmp_path: Path) -> None:
    row = report("catalogue.py:ReluGradOneAtZero").row("relu")
    assert row.counterexample is not None
    assert "micrograd: value 0.0, gradient [0.0]" in row.counterexample
    snippet = row.counterexample.split("Reproduce with:\n", 1)[1]
    code = "\n".join(line[4:] for line in snippet.splitlines())
    assert "from catalogue import ReluGradOneAtZero as Value" in code

    def run(prelude: str = "") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", prelude + code]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)

    out = run()  # from any directory
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.0", "[1.0]"]  # the engine's wrong gradient, as reported
    # a module of the same name found first (as our micrograd for a clone named micrograd)
    other = "import sys, types\nm = types.ModuleType('catalogue')\nm.__file__ = 'elsewhere.py'\n"
    shadowed = run(other + "sys.modules['catalogue'] = m\n")
    assert shadowed.returncode != 0
    assert "AssertionError: elsewhere.py" in shadowed.stderr


def test_a_hang_costs_one_timeout_per_row_not_a_stuck_kit() -> None:
    r = report("catalogue.py:HangsInBackward")
    assert r.seconds < 30, r.seconds
    assert "the process was killed" in r.row("add").detail
    text = r.row("add").counterexample
    assert text is not None
    assert "x0 + x0" in text


def test_a_nondeterministic_engine_is_reported_as_such() -> None:
    r = report("catalogue.py:SetOrderBackward")
    assert not r.passed
    said = [c.detail for c in r.cells if c.status == "FAIL"]
    assert any(d.startswith("nondeterministic: the same program gave") for d in said), said


def test_forms_an_engine_does_not_take_are_not_supported_with_the_reason() -> None:
    r = report("catalogue.py:NumbersNotWrapped")
    for key in ("add_const", "radd_const", "mul_const", "rmul_const", "div_const", "rdiv_const"):
        assert r.row(key).status == "not supported", key
        assert "object has no attribute 'data'" in r.row(key).detail
    # its own -a multiplies by the number -1, which it cannot: -a, and a - b through it, fail
    assert set(r.failures()) == {"neg", "sub"}
    helper = report("catalogue.py:SigmoidHelper")
    assert helper.passed, helper.failures()
    assert helper.row("sigmoid").status == "not supported"
    assert "missing 1 required positional argument" in helper.row("sigmoid").detail


def test_numpy_data_counts_as_numbers_and_findings_are_grouped() -> None:
    r = report("catalogue.py:NumpyData")
    assert r.passed, r.failures()
    grouped = [f for f in r.findings if "0-d numpy.ndarray" in f and "more like it" in f]
    assert len(grouped) == 3, r.findings  # inputs' data, their gradients, results' data


def _layout(root: Path, files: dict[str, str]) -> None:
    """A project: ``files`` by path, ``ENGINE`` standing for the karpathy-style engine."""
    engine = (ENGINES / "karpathy.py").read_text(encoding="utf-8")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(engine if text == "ENGINE" else text, encoding="utf-8")


LAYOUTS = {
    # karpathy/micrograd's own: an empty __init__, Value in engine.py, nn.py importing it
    "karpathy's package": (
        {
            "micrograd/__init__.py": "",
            "micrograd/engine.py": "ENGINE",
            "micrograd/nn.py": "from micrograd.engine import Value\n\n\nclass Neuron: ...\n",
        },
        "micrograd",
        ("micrograd.engine", "Value"),
    ),
    "a file in a package that imports itself absolutely": (
        {"shop/__init__.py": "from shop.engine import Value\n", "shop/engine.py": "ENGINE"},
        "shop/engine.py",
        ("shop.engine", "Value"),
    ),
    "an adapter beside the Value it imports": (
        {
            "karpathy.py": "ENGINE",
            "adapter_and_value.py": (ENGINES / "adapter_and_value.py").read_text(),
        },
        "adapter_and_value.py",
        ("adapter_and_value", "LabelledAdapter"),
    ),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_engines_are_found_the_way_python_users_lay_them_out(layout: str, tmp_path: Path) -> None:
    files, target, found = LAYOUTS[layout]
    _layout(tmp_path, files)
    r = check_engine(str(tmp_path / target), profile="quick", seed=0, timeout=1.0, oracles=[])
    assert r.load_error is None, r.load_error
    assert (r.engine["module"], r.engine["attr"]) == found
    assert r.passed, r.failures()


def test_an_engine_that_patches_json_or_prints_a_lot_is_checked_as_any_other() -> None:
    assert report("catalogue.py:PatchesJson").passed
    loud = report("catalogue.py:PrintsWithoutEnd")
    assert loud.passed, loud.failures()
    assert any("printed while computing" in f for f in loud.findings), loud.findings


def test_no_engine_process_outlives_a_killed_kit(tmp_path: Path) -> None:
    code = (
        "from micrograd.conformance import check_engine\n"
        f"check_engine({str(ENGINES / 'catalogue.py:HangsInBackward')!r}, timeout=60, oracles=[])"
    )
    kit = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _workers(kit.pid):
            time.sleep(0.2)
        workers = _workers(kit.pid)
        assert workers, "the engine's process did not start"
        scratch = Path(_capture(workers[0])).parent
        time.sleep(3.0)  # by now it hangs in backward(), reading no more requests
    finally:
        kit.kill()
        kit.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers), "an engine process outlived the kit"
    assert not scratch.exists(), "the kit's scratch directory was left behind"


def _workers(parent: int) -> list[int]:
    """The engine processes ``parent`` started (Linux: from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == parent and b"_worker.py" in command:
                found.append(int(entry.name))
    return found


def _capture(pid: int) -> str:
    """The capture file named in an engine process's command line (its JSON config)."""
    import json

    config = (Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"))[2]
    return str(json.loads(config)["capture"])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
