"""`micrograd verify` as a CI pipeline runs it: a subprocess, its output, its exit status."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from micrograd.testing.laws import LAWS
from micrograd.testing.opinfo import OPERATIONS
from micrograd.verify import CI_SEED, EXIT_FAILED, EXIT_MISSING, EXIT_OK, EXIT_USAGE, ORACLE_NAMES

from ..oracles import present

ROOT = Path(__file__).resolve().parents[2]
#: The references of a run: all of them, but an optional oracle this run lacks (tests.oracles).
HERE = present(ORACLE_NAMES)
ALL = ("--oracles", ",".join(HERE))


def _run(
    *args: str, prelude: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    code = f"{prelude}\nimport sys\nfrom micrograd.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, "verify", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env=env,
    )


def _seed(result: subprocess.CompletedProcess[str]) -> str:
    first = result.stdout.splitlines()[0]
    assert first.startswith("micrograd verify: profile"), "the seed comes first"
    return first.split("seed ")[1].split()[0]


def test_under_ci_a_run_is_derandomised_unless_a_random_seed_is_asked_for() -> None:
    quick = ("--profile", "quick", "--ops", "add", "--oracles", "fd")
    ci = {**os.environ, "CI": "true"}
    local = {k: v for k, v in os.environ.items() if k != "CI"}
    assert {_seed(_run(*quick, env=ci)) for _ in range(2)} == {str(CI_SEED)}
    fresh = {_seed(_run(*quick, "--seed", "random", env=ci)) for _ in range(2)}
    fresh |= {_seed(_run(*quick, env=local))}
    assert len(fresh) == 3, "a random seed is drawn afresh each time"
    bad = _run(*quick, "--seed", "soon", env=ci)
    assert bad.returncode == EXIT_USAGE
    assert "--seed takes an integer or 'random', got 'soon'" in bad.stderr


def test_all_green_run_exits_0_with_the_table_and_the_seed() -> None:
    result = _run("--profile", "quick", "--ops", "add,tanh", "--seed", "5", *ALL)
    assert result.returncode == EXIT_OK, result.stdout + result.stderr
    out = result.stdout
    assert "seed 5 (replay with --seed 5)" in out
    for row in ("a + b ", "a.tanh() ", "mixed", "law: backward() twice doubles the gradients"):
        assert any(line.startswith(row) and "pass" in line for line in out.splitlines()), row
    # add, tanh, mixed, reuse and shared against each oracle; the laws but the product rule
    # (its composite multiplies, and a * b is not among the operations checked); the depth limit
    checks = 5 * len(HERE) + len(LAWS) - 1 + 1
    assert out.rstrip().splitlines()[-1].startswith(f"VERIFIED: all {checks} checks hold")
    assert "\033[" not in out, "no terminal control codes when the output is not a terminal"


BROKEN_TANH = """
from micrograd import OPS
import pytest

from micrograd.testing.laws import LAWS
def wrong(node, g):
    x = node._prev[0].data
    return (g * (1.0 - x * x),)
object.__setattr__(OPS["tanh"], "vjp", wrong)
"""


def test_a_broken_operator_fails_with_its_counterexample() -> None:
    result = _run("--profile", "quick", "--ops", "tanh", "--seed", "3", *ALL, prelude=BROKEN_TANH)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    out = result.stdout
    tanh_row = next(line for line in out.splitlines() if line.startswith("a.tanh() "))
    assert tanh_row.count("FAIL") == len(HERE), tanh_row
    assert "Reproduce with:" in out
    assert "out = x0.tanh()" in out or ".tanh()" in out
    assert "micrograd: value" in out  # ours next to the oracle's
    for name in HERE:
        if name != "fd":
            assert f"{name}:{' ' * (10 - len(name))}value" in out, name
    assert out.rstrip().splitlines()[-1].startswith("FAILED:")


def test_a_missing_oracle_gives_its_own_exit_status() -> None:
    hide_jax = (
        "import importlib.util as u\n"
        "real = u.find_spec\n"
        "u.find_spec = lambda name, *a: None if name.split('.')[0] == 'jax' else real(name, *a)\n"
    )
    result = _run("--profile", "quick", "--ops", "add", prelude=hide_jax)
    assert result.returncode == EXIT_MISSING
    assert "oracle jax is not installed" in result.stderr
    assert "pip install" in result.stderr
    assert "VERIFIED" not in result.stdout
    # choosing the installed oracles explicitly runs
    ok = _run("--profile", "quick", "--ops", "add", "--oracles", "fd,sympy", prelude=hide_jax)
    assert ok.returncode == EXIT_OK, ok.stdout + ok.stderr


def test_json_has_every_operator_and_oracle_cell(tmp_path: Path) -> None:
    path, md = tmp_path / "report.json", tmp_path / "summary.md"
    result = _run(
        "--profile", "quick", "--seed", "11", *ALL, "--json", str(path), "--markdown", str(md)
    )
    assert result.returncode == EXIT_OK, result.stdout + result.stderr
    data = json.loads(path.read_text())
    assert data["passed"] is True
    assert data["seed"] == 11
    compared = {(c["key"], c["against"]) for c in data["cells"] if c["against"]}
    rows = [*OPERATIONS, "mixed", "reuse", "shared"]
    assert compared == {(row, o) for row in rows for o in HERE}
    assert all(c["examples"] > 0 for c in data["cells"])
    assert len([c for c in data["cells"] if c["kind"] == "law" and not c["against"]]) == len(LAWS)
    summary = md.read_text()
    assert summary.startswith("## micrograd verify")
    assert "| check |" in summary


BAD = [
    (["--ops", "nope"], "--ops: unknown operation(s) 'nope'"),
    (["--ops", ""], "--ops: unknown operation(s) ''"),
    (["--oracles", "tensorflow"], "--oracles: unknown 'tensorflow'"),
    (["--profile", "huge"], "invalid choice: 'huge'"),
    (["--json", "/nonexistent/r.json"], "--json: cannot write '/nonexistent/r.json'"),
    (["--markdown", "."], "--markdown: cannot write '.'"),
    (["--timeout", "nan"], "--timeout takes a finite number of seconds above 0, got nan"),
    (["--import-timeout", "inf"], "--import-timeout takes a finite number"),
    (["--min-depth", "-5"], "--min-depth: the depth check goes from 0 to 100,000, got -5"),
    (["--min-depth", "1000000"], "got 1000000"),
]


def test_bad_arguments_exit_2_before_anything_runs() -> None:
    for args, says in BAD:
        result = _run(*args)
        assert result.returncode == EXIT_USAGE, args
        assert says in result.stderr, (args, result.stderr)
        assert result.stdout == "", args  # not even the header: nothing ran


def test_json_on_standard_output_and_the_version() -> None:
    result = _run("--profile", "quick", "--ops", "add", "--oracles", "fd", "--json", "-")
    assert result.returncode == EXIT_OK, result.stderr
    data = json.loads(result.stdout)  # standard output is the document alone
    assert data["verdict"].startswith("VERIFIED")
    assert data["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert "VERIFIED" in result.stderr  # the table went to standard error
    version = _run("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("micrograd-verified ")


def _verify_process(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    # as from a terminal: SIGINT has Python's default handler (a background job's runner may
    # have set it to be ignored, which the child would inherit)
    code = (
        "import runpy, signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "sys.argv = ['micrograd', *sys.argv[1:]]\n"
        "runpy.run_module('micrograd', run_name='__main__')"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, "verify", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def test_rows_come_as_they_end_and_ctrl_c_stops_the_run_at_once_saying_what_was_checked() -> None:
    proc = _verify_process("--profile", "thorough", "--seed", "7", *ALL)
    assert proc.stdout is not None
    header = proc.stdout.readline()  # the seed comes first, then the run starts
    assert "seed 7" in header
    lines = [proc.stdout.readline() for _ in range(3)]  # a blank line, the heading, a row
    assert lines[1].startswith("check "), lines
    assert lines[2].startswith("a + b "), lines  # the first row, long before the run ends
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - start < 5.0, err
    # 130 from our handler; a signal death (-2) shows as 130 in a shell too
    assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, err)
    assert re.search(r"interrupted after \d+ of \d+ checks \(0 failed\), [\d.]+ s: no verdict", err)
    assert "replay with --seed 7" in err
    assert "Traceback" not in err
    assert "VERIFIED" not in out
    assert "FAILED" not in out


def test_a_reader_that_leaves_early_ends_the_run_quietly() -> None:
    with _verify_process("--profile", "quick", "--ops", "add", "--oracles", "fd") as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # as `| head -1` does
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err


def test_a_run_writes_nothing_into_the_working_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    command = [sys.executable, "-m", "micrograd", "verify", "--profile", "quick", "--ops", "add"]
    result = subprocess.run(
        [*command, "--oracles", "fd"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert result.returncode == EXIT_OK, result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


def test_accuracy_needs_at_least_one_point(capsys: pytest.CaptureFixture[str]) -> None:
    from micrograd.cli import main

    with pytest.raises(SystemExit) as info:
        main(["accuracy", "--points", "0"])
    assert info.value.code == EXIT_USAGE
    assert "--points must be at least 1, got 0" in capsys.readouterr().err


def test_colour_only_when_forced_or_on_a_terminal_and_never_with_no_color() -> None:
    import os

    from micrograd.verify.cli import coloured

    engine = "tests/conformance/engines/catalogue.py:WrongTanh"
    args = ("--engine", engine, "--profile", "quick", "--oracles", "none", "--ops", "tanh,add")
    piped = _run(*args)
    assert piped.returncode == 1
    assert "\033[" not in piped.stdout  # a pipe, as CI reads it: plain text
    env = dict(os.environ, FORCE_COLOR="1")
    forced = _run(*args, env=env)
    assert "\033[31mFAIL\033[0m (1)" in forced.stdout
    assert "\033[31mDOES NOT CONFORM\033[0m:" in forced.stdout
    assert "\033[" not in _run(*args, env=dict(env, NO_COLOR="1")).stdout
    assert coloured("VERIFIED: all 3 checks hold") == "\033[32mVERIFIED\033[0m: all 3 checks hold"
