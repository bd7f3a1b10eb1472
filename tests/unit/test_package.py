"""The public surface, the packaging promises and the README's claims."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import micrograd
from micrograd.cli import main, operator_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_public_names_are_exactly_these() -> None:
    assert sorted(micrograd.__all__) == sorted(
        [
            "MLP",
            "OPS",
            "Activation",
            "AnomalyError",
            "Layer",
            "Module",
            "Neuron",
            "Op",
            "StructureError",
            "Tape",
            "Value",
            "detect_anomaly",
            "record",
        ]
    )
    for name in micrograd.__all__:
        assert getattr(micrograd, name) is not None
    public = {n for n in dir(micrograd) if not n.startswith("_")}
    submodules = {n for n in public if isinstance(getattr(micrograd, n), types.ModuleType)}
    assert public - submodules == set(micrograd.__all__)


def test_testing_public_names_are_exactly_these() -> None:
    import micrograd.testing as testing

    assert sorted(testing.__all__) == [
        "Expr",
        "FiniteDifference",
        "GradCheck",
        "Node",
        "check_expr",
        "check_grads",
        "expressions",
        "numerical_grad",
    ]
    for name in testing.__all__:
        assert getattr(testing, name) is not None


def test_testing_needs_hypothesis_only_for_the_strategies() -> None:
    code = (
        "import sys, micrograd.testing as t; before = 'hypothesis' in sys.modules; "
        "t.expressions; print(before, 'hypothesis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_import_pulls_in_no_third_party_module() -> None:
    code = (
        "import sys, micrograd; "
        "heavy = {'torch', 'jax', 'sympy', 'hypothesis', 'numpy', 'mpmath'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_typed_marker_ships_with_the_package() -> None:
    assert (Path(micrograd.__file__).parent / "py.typed").is_file()


def test_version_matches_the_installed_distribution() -> None:
    assert micrograd.__version__ == importlib.metadata.version("micrograd-verified")


def test_distribution_has_no_runtime_dependencies() -> None:
    requires = importlib.metadata.requires("micrograd-verified") or []
    assert all("extra ==" in r for r in requires), requires
    torch_pins = [r for r in requires if r.startswith("torch")]
    assert torch_pins
    assert all(r.startswith("torch==2.13.0") for r in torch_pins), torch_pins


def test_readme_operator_table_is_the_generated_one() -> None:
    match = re.search(
        r"<!-- operator-table:start -->\n(.*?)<!-- operator-table:end -->", README, re.S
    )
    assert match, "README lost its operator-table markers"
    assert match.group(1) == operator_table(), "regenerate with: python -m micrograd ops"


def test_operator_table_has_a_row_per_registry_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ops"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [r.split("`")[1] for r in rows] == list(micrograd.OPS)


def test_readme_commands_are_marked() -> None:
    for marker in ("main-command", "test-command"):
        assert re.search(rf"<!-- {marker} -->\n```bash\n[^\n]+\n```", README), marker


@pytest.mark.parametrize(
    "block", re.findall(r"```python\n(.*?)```", README, re.S), ids=lambda b: b.splitlines()[0]
)
def test_readme_python_examples_run(block: str, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    for line in block.splitlines():  # "print(...)  # expected output" comments must hold
        if line.startswith("print(") and "  # " in line:
            assert line.split("  # ", 1)[1] in printed


def test_demo_runs_and_learns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "c = a*b + 10 = 4.0; dc/da = -3.0, dc/db = 2.0" in out
    losses = [float(m) for m in re.findall(r"loss (\S+)", out)]
    assert len(losses) == 20
    assert losses[-1] < losses[0] / 10


def test_conformance_public_names_are_exactly_these() -> None:
    import micrograd.conformance as conformance

    assert sorted(conformance.__all__) == [
        "Adapter",
        "Report",
        "assert_conforms",
        "check_engine",
        "format_report",
    ]
    for name in conformance.__all__:
        assert getattr(conformance, name) is not None


def test_conformance_imports_no_third_party_module_until_it_runs() -> None:
    code = (
        "import sys, micrograd.conformance; "
        "heavy = {'torch', 'jax', 'sympy', 'hypothesis', 'numpy', 'mpmath'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_engine_side_of_the_kit_uses_the_standard_library_only() -> None:
    """The child process must not import micrograd: the engine may be a package of that name."""
    import ast

    import micrograd.verify as verify

    here = Path(verify.__file__).parent
    for name in ("_worker.py", "adapter.py"):
        tree = ast.parse((here / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{name}: relative import"
                roots = {(node.module or "").split(".")[0]}
            elif isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            else:
                continue
            assert roots <= sys.stdlib_module_names, f"{name} imports {roots}"


def test_the_readme_quotes_the_mutation_report() -> None:
    report = (ROOT / "docs" / "mutation.md").read_text(encoding="utf-8")
    total = re.search(r"^\| \*\*total\*\* \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", report, re.M)
    assert total, "docs/mutation.md lost its total row"
    generated, killed, survived, timed_out = map(int, total.groups())
    claim = (
        f"Of {generated:,} mutants, {killed:,} are killed ({100 * killed / generated:.1f}%); "
        f"each of the {survived + timed_out} survivors"
    )
    assert claim in " ".join(README.split())
    assert "**not yet explained**" not in report
