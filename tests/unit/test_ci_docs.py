"""The CI documents: the pre-commit hook's command runs as pre-commit runs it."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ROOT / "tests" / "conformance" / "engines"


def test_the_pre_commit_hook_passes_a_correct_engine_and_fails_a_buggy_one() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "micrograd-conformance"
    assert hook["pass_filenames"] is False
    command = shlex.split(hook["entry"])
    assert command[0] == "micrograd"
    for engine, status in (("karpathy.py", 0), ("catalogue.py:WrongTanh", 1)):
        args = [*command[1:], "--engine", str(ENGINES / engine), "--ops", "tanh,add"]
        result = subprocess.run(
            [sys.executable, "-m", "micrograd", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            check=False,
        )
        assert result.returncode == status, result.stdout + result.stderr


def test_the_workflow_example_is_valid_yaml_running_micrograd_verify() -> None:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    workflow = yaml.safe_load(block)
    steps = workflow["jobs"]["conformance"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "micrograd verify --engine" in runs
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs
