"""The command line (exit codes, outputs), the ways to name an engine, and the pytest helper."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from micrograd.conformance import assert_conforms, check_engine
from micrograd.verify.cli import EXIT_FAILED, EXIT_NOT_LOADED, EXIT_OK, main

from ..oracles import present
from .support import ENGINES, TIMEOUT, target

QUICK = ["--profile", "quick", "--seed", "0", "--oracles", "none", "--timeout", str(TIMEOUT)]


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--engine", *args, *QUICK], out=out)
    return code, out.getvalue()


def test_exit_status_is_a_ci_gate() -> None:
    code, text = run(target("karpathy.py"))
    assert code == EXIT_OK
    assert "CONFORMS:" in text
    code, text = run(target("catalogue.py:WrongTanh"))
    assert code == EXIT_FAILED
    assert "DOES NOT CONFORM: 1 of" in text
    code, text = run(target("broken_import.py"))
    assert code == EXIT_NOT_LOADED
    assert "No module named 'a_package_that_does_not_exist'" in text
    assert "NOT CHECKED" in text


def test_strict_require_and_min_depth_turn_reports_into_failures(tmp_path: Path) -> None:
    code, text = run(target("karpathy.py"), "--strict")
    assert code == EXIT_FAILED
    code, text = run(target("karpathy.py"), "--require", "tanh,abs")
    assert code == EXIT_FAILED
    assert "DOES NOT CONFORM: 1 of" in text  # abs; tanh is supported
    code, text = run(target("karpathy.py"), "--min-depth", "1000")
    assert code == EXIT_FAILED
    code, _ = run(target("karpathy.py"), "--min-depth", "100")
    assert code == EXIT_OK


def test_bad_arguments_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["--engine", "x", "--require", "cosh"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["--engine", "x", "--timeout", "0"])
    assert info.value.code == 2


def test_one_parser_shows_every_option_and_marks_the_engine_only_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--engine", "--strict", "--require", "--min-depth", "--ops", "--oracles"):
        assert option in text, option
    for option in ("--timeout", "--import-timeout"):
        assert f"{option} " in text
        assert "[--engine only]" in text.split(f"{option} ", 2)[-1][:60]


def test_older_operation_names_are_accepted() -> None:
    code, text = run(
        target("catalogue.py:SwappedRsub"), "--ops", "rsub,truediv", "--require", "rsub"
    )
    assert code == EXIT_FAILED
    rows = {line.split("  ")[0] for line in text.splitlines()}
    assert {"c - a", "a / b"} <= rows
    assert "a + b" not in rows
    code, text = run(target("karpathy.py"), "--ops", "dot,add")  # micrograd's own API
    assert code == EXIT_OK
    assert "Value.dot(a, b) is micrograd's own API" in text


def test_json_and_markdown(tmp_path: Path) -> None:
    j, m = tmp_path / "r.json", tmp_path / "r.md"
    code, _ = run(target("catalogue.py:WrongSigmoid"), "--json", str(j), "--markdown", str(m))
    assert code == EXIT_FAILED
    data = json.loads(j.read_text())
    assert data["passed"] is False
    assert data["schema"] == "micrograd-verify/1"
    rows = {r["key"]: r for r in data["cells"]}
    assert rows["sigmoid"]["status"] == "FAIL"
    assert rows["sigmoid"]["against"] == "micrograd"
    assert rows["tanh"]["status"] == "pass"
    assert "Reproduce with:" in rows["sigmoid"]["counterexample"]
    md = m.read_text()
    assert "| a.sigmoid() | FAIL (" in md
    assert "```" in md


def test_junit_and_github_annotations(tmp_path: Path) -> None:
    from xml.etree import ElementTree

    path = tmp_path / "r.xml"
    code, text = run(
        target("catalogue.py:WrongTanh"), "--junit", str(path), "--annotations", "github"
    )
    assert code == EXIT_FAILED
    suite = ElementTree.parse(path).getroot()[0]
    assert suite.get("name", "").endswith("catalogue.py:WrongTanh")
    cases = {case.get("name"): case for case in suite}
    assert int(suite.get("tests", "0")) == len(cases) > 30
    (failure,) = cases["a.tanh() against micrograd"]
    assert failure.tag == "failure"
    assert "Reproduce with:" in (failure.text or "")
    assert suite.get("failures") == "1"
    assert [c.tag for c in cases["abs(a)"]] == ["skipped"]  # not supported
    errors = [line for line in text.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=a.tanh() against micrograd::")
    assert "%0A" in errors[0]  # the counterexample, its lines escaped
    assert text.splitlines()[-1].startswith("::notice title=micrograd verify::DOES NOT CONFORM")


def test_oracle_values_are_shown_next_to_a_failure() -> None:
    r = check_engine(
        target("catalogue.py:WrongTanh"),
        profile="quick",
        seed=0,
        timeout=TIMEOUT,
        oracles=present(["sympy", "torch"]),
    )
    text = r.row("tanh").counterexample
    assert text is not None
    for name in present(["sympy", "torch"]):
        assert f"  {name}:{' ' * (10 - len(name))}value" in text


def _karpathy_package(root: Path, name: str) -> Path:
    pkg = root / name
    pkg.mkdir()
    shutil.copy(ENGINES / "karpathy.py", pkg / "engine.py")
    (pkg / "__init__.py").write_text("from .engine import Value\n")
    return pkg


def test_a_package_directory_with_relative_imports(tmp_path: Path) -> None:
    pkg = _karpathy_package(tmp_path, "tinygrad_clone")
    r = check_engine(str(pkg), profile="quick", seed=0, timeout=TIMEOUT, oracles=[])
    assert r.load_error is None, r.load_error
    assert r.passed
    assert r.engine["module"] == "tinygrad_clone"


def test_an_engine_called_micrograd_is_theirs_not_ours(tmp_path: Path) -> None:
    """Checking a karpathy/micrograd clone: its package is named micrograd too."""
    _karpathy_package(tmp_path, "micrograd")
    r = check_engine(
        "micrograd.engine", profile="quick", seed=0, timeout=TIMEOUT, oracles=[], cwd=str(tmp_path)
    )
    assert r.load_error is None, r.load_error
    assert r.engine["where"] == str(Path("micrograd") / "engine.py")
    assert r.engine["file"] == str(tmp_path / "micrograd" / "engine.py")
    # theirs has no abs(); ours would support it
    assert r.row("abs").status == "not supported"


def test_module_colon_class_and_missing_names(tmp_path: Path) -> None:
    (tmp_path / "eng.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ENGINES)!r})\nfrom karpathy import Value as Scalar\n"
    )
    r = check_engine("eng:Scalar", profile="quick", seed=0, oracles=[], cwd=str(tmp_path))
    assert r.load_error is None, r.load_error
    assert r.row("tanh").status == "pass"
    r = check_engine("eng", profile="quick", seed=0, oracles=[], cwd=str(tmp_path))
    assert r.load_error is not None
    assert "has no Value class" in r.load_error
    assert "name one as eng:Name" in r.load_error
    r = check_engine("eng:Nope", profile="quick", seed=0, oracles=[], cwd=str(tmp_path))
    assert r.load_error is not None
    assert "Nope" in r.load_error


def test_an_engine_whose_basics_fail(tmp_path: Path) -> None:
    (tmp_path / "odd.py").write_text(
        "class Value:\n    def __init__(self, x):\n        self.data = str(x)\n"
    )
    r = check_engine(str(tmp_path / "odd.py"), profile="quick", seed=0, oracles=[])
    assert r.load_error is not None
    assert "basics" in r.load_error
    assert "not a number" in r.load_error


def test_pytest_helper_in_three_lines() -> None:
    report = assert_conforms(target("karpathy.py"), oracles=[], timeout=TIMEOUT)
    assert report.passed
    with pytest.raises(AssertionError) as info:
        assert_conforms(target("catalogue.py:WrongTanh"), oracles=[], timeout=TIMEOUT)
    text = str(info.value)
    assert "a.tanh()" in text
    assert "DOES NOT CONFORM" in text
    assert "Reproduce with:" in text


def _recursion(line: str) -> str:
    """The line without what of a RecursionError differs between Python versions: the end of
    its message and the line of the recursive function where the limit is met."""
    return re.sub(
        r"(maximum recursion depth exceeded)[^:]*? at ([\w.]+):\d+ in", r"\1 at \2:N in", line
    )


def test_the_documented_run_is_what_the_kit_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).parents[2]
    doc = (root / "docs" / "conformance.md").read_text(encoding="utf-8")
    start = doc.index("$ micrograd verify --engine tests/conformance/engines/catalogue.py")
    block = doc[start : doc.index("```", start)]
    command = block.splitlines()[0].split()
    assert command[:4] == ["$", "micrograd", "verify", "--engine"]
    out = io.StringIO()
    monkeypatch.chdir(root)
    code = main(command[3:], out=out)
    assert code == EXIT_OK  # karpathy's engine conforms; its differences are listed
    documented = [line for line in block.splitlines() if "  " in line and line[:1] not in " $"]
    printed = [_recursion(line) for line in out.getvalue().splitlines()]
    for line in documented:  # the table, row by row (timings aside)
        if "imported in" not in line:
            assert _recursion(line) in printed, line
    assert len(documented) > 30
    # the README's excerpt is of the same run
    readme = (root / "README.md").read_text(encoding="utf-8")
    start = readme.index(block.splitlines()[0])
    excerpt = readme[start : readme.index("```", start)].splitlines()
    rows = [line for line in excerpt if "  " in line and line[:1] not in " $"]
    assert len(rows) >= 8
    for line in rows:
        assert line in block, line
    assert excerpt[-1].split("(")[0] == block.splitlines()[-1].split("(")[0]  # the verdict


def test_the_python_api_checks_its_operation_names() -> None:
    r = check_engine(target("karpathy.py"), profile="quick", seed=0, oracles=[], ops=["truediv"])
    assert [c.key for c in r.cells][:1] == ["div"]  # the kit's older name, as an alias
    with pytest.raises(ValueError, match="require: unknown operation"):
        check_engine(target("karpathy.py"), require=["cosh"])
    with pytest.raises(TypeError, match="a list of operation names, got the string 'tanh'"):
        check_engine(target("karpathy.py"), require="tanh")
