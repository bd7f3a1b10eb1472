"""The installation checks: karpathy's micrograd beside this one, files replaced, install hints."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import micrograd
from micrograd import _install


def _dist_info(site: Path, name: str, version: str, files: dict[str, bytes]) -> None:
    """A distribution as pip leaves it: its files and a dist-info with their hashes."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    rows = []
    for rel, content in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
        rows.append(f"{rel},sha256={digest.decode()},{len(content)}")
    rows.append(f"{info.name}/RECORD,,")
    (info / "RECORD").write_text("\n".join(rows) + "\n")


def test_another_distribution_of_the_package_micrograd_is_named_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dist_info(tmp_path, "micrograd", "0.1.0", {"micrograd/engine.py": b"class Value: pass\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    (problem,) = _install.clashes()
    assert problem.startswith("the distribution micrograd 0.1.0 also installs the package")
    assert problem.endswith(_install.FIX)


def test_no_problem_is_reported_for_this_checkout() -> None:
    assert _install.report() == []


def test_files_replaced_since_installation_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"micrograd/__init__.py": b"ours\n", "micrograd/engine.py": b"ours too\n"}
    _dist_info(tmp_path, _install.DISTRIBUTION, "0.1.0", files)
    (tmp_path / "micrograd" / "engine.py").write_bytes(b"someone else's\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _install.overwritten() == ["micrograd/engine.py"]
    (problem,) = _install.report()
    assert "replaced since it was installed: micrograd/engine.py" in problem


def test_the_command_names_a_package_replaced_by_karpathys_instead_of_an_import_error(
    tmp_path: Path,
) -> None:
    # this package with karpathy's three files written over it, as pip leaves it
    site = tmp_path / "site"
    shutil.copytree(Path(micrograd.__file__).parent, site / "micrograd")
    for name, text in (("__init__.py", ""), ("engine.py", "class Value:\n    pass\n")):
        (site / "micrograd" / name).write_text(text)
    (site / "micrograd" / "nn.py").write_text("from micrograd.engine import Value\n")
    result = subprocess.run(
        [sys.executable, "-m", "micrograd", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "micrograd: this installation of micrograd-verified is broken" in result.stderr
    assert _install.FIX in result.stderr
    assert "Traceback" not in result.stderr


def test_install_hints_are_commands_with_this_versions_pins() -> None:
    from micrograd.testing.oracles import ORACLES

    torch = ORACLES["torch"].install
    assert torch == f'pip install "torch==2.13.0" --index-url {_install.TORCH_CPU_INDEX}'
    # (the metadata may order a range's bounds either way)
    assert ORACLES["jax"].install.startswith('pip install "jax==0.10.2" "jaxlib==0.10.2" "numpy')
    assert _install.install_command("testing").startswith('pip install "hypothesis')
    verify = _install.install_command("verify")
    assert verify.startswith(torch + " && pip install ")  # torch alone from its CPU index
    assert "micrograd-verified" not in verify  # the extras it includes, spelled out
    assert '"jax==0.10.2"' in verify
    assert '"sympy' in verify
    assert '"hypothesis' in verify
    without = _install.install_command("test-without-torch")
    assert "torch" not in without
    assert '"pytest' in without
