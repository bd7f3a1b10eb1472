"""Mutants of the code that mutmut does not mutate, run against the same tests.

mutmut 3 mutates the bodies of functions and methods only: it puts each behind a trampoline. It
leaves alone everything that runs at import time — the operator registry entries of ``ops.py``
(``Op(...)`` calls and the ``smooth=lambda ...`` rules in them), module-level constants and
aliases (``_UNSET``, ``_copysign = math.copysign``, ``_ADD = _ops.ADD``), class attributes
(``__slots__``, ``__radd__ = __add__``) — and the bodies of decorated functions other than
``@staticmethod`` / ``@classmethod`` (``@property``, ``@contextlib.contextmanager``).

This script applies mutmut's own mutation operators to exactly those nodes, one mutant at a
time, in a copy of the project (``mutation/.work``). Each mutant runs in a child forked from a
process that has already imported pytest and the oracles, with the arguments of
``[tool.mutmut]`` plus ``-x``. Results go to ``mutation/.work/extra.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from mutmut.configuration import config as mutmut_config
from mutmut.mutation.mutators import mutation_operators

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutation" / ".work"
COPY = (
    "micrograd",
    "tests",
    "examples",
    "docs",
    "README.md",
    "LICENSE",
    "mypy.ini",
    ".pre-commit-hooks.yaml",
)
COPY_FILES = (*COPY, "pyproject.toml")
#: Op(...) keyword arguments that are documentation text only (the README's operator table):
#: not mutated, as docstrings are not.
DOCUMENTATION = frozenset({"formula", "derivatives", "domain"})


@dataclass
class Mutant:
    """One mutant: where it is, what it changes, and what the tests made of it."""

    file: str
    index: int
    line: int
    before: str
    after: str
    status: str = "not checked"
    seconds: float = 0.0


def _config_lists() -> tuple[list[str], list[str], list[str]]:
    """``only_mutate``, ``pytest_add_cli_args``, ``pytest_add_cli_args_test_selection``."""
    cwd = Path.cwd()
    os.chdir(ROOT)  # mutmut reads pyproject.toml from the working directory
    try:
        c = mutmut_config()
    finally:
        os.chdir(cwd)
    return c.only_mutate, c.pytest_add_cli_args, c.pytest_add_cli_args_test_selection


def _skipped_by_mutmut(node: cst.FunctionDef) -> bool:
    """Whether mutmut leaves this function's body alone (decorated, and not static/class)."""
    if not node.decorators:
        return False
    if len(node.decorators) == 1:
        d = node.decorators[0].decorator
        if isinstance(d, cst.Name) and d.value in ("staticmethod", "classmethod"):
            return False
    return True


def _is_docstring(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.SimpleStatementLine)
        and len(node.body) == 1
        and isinstance(node.body[0], cst.Expr)
        and isinstance(node.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


class _Collector(cst.CSTVisitor):
    """Collect (node, mutated node) pairs for the nodes mutmut does not mutate."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.found: list[tuple[cst.CSTNode, cst.CSTNode, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef):
            # mutmut mutates this body; a skipped one is visited for its body, never its decorators
            if not _skipped_by_mutmut(node):
                return False
            node.body.visit(self)
            return False
        if isinstance(
            node, (cst.Import, cst.ImportFrom, cst.Annotation, cst.Decorator, cst.AnnAssign)
        ):
            return False  # type annotations and imports: no runtime behaviour to test
        if _is_docstring(node):
            return False
        if isinstance(node, cst.If) and _is_type_checking(node):
            return False
        if isinstance(node, cst.Assign) and _assigns(node, "__all__"):
            return False
        if (
            isinstance(node, cst.Arg)
            and node.keyword is not None
            and node.keyword.value in DOCUMENTATION
        ):
            return False
        line = self.get_metadata(PositionProvider, node).start.line
        for kind, operator in mutation_operators:
            if isinstance(node, kind):
                for mutated in operator(node):
                    if not _changes_only_documentation(node, mutated):
                        self.found.append((node, mutated, line))
        return True


def _changes_only_documentation(node: cst.CSTNode, mutated: cst.CSTNode) -> bool:
    """Whether a mutant of a call only drops or replaces its documentation arguments."""
    if not (isinstance(node, cst.Call) and isinstance(mutated, cst.Call)):
        return False
    code = cst.Module([]).code_for_node
    after = [code(a.with_changes(comma=cst.MaybeSentinel.DEFAULT)) for a in mutated.args]
    changed = [
        a for a in node.args if code(a.with_changes(comma=cst.MaybeSentinel.DEFAULT)) not in after
    ]
    return bool(changed) and all(
        a.keyword is not None and a.keyword.value in DOCUMENTATION for a in changed
    )


def _is_type_checking(node: cst.If) -> bool:
    return isinstance(node.test, cst.Name) and node.test.value == "TYPE_CHECKING"


def _assigns(node: cst.Assign, name: str) -> bool:
    return any(isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets)


def generate(path: Path) -> Iterator[tuple[str, int, str, str]]:
    """The mutated sources of ``path``: ``(source, line, original line, mutated line)``."""
    source = path.read_text(encoding="utf-8")
    wrapper = MetadataWrapper(cst.parse_module(source))
    module = wrapper.module
    collector = _Collector()
    wrapper.visit(collector)
    lines = source.splitlines()
    for original, mutated, line in collector.found:
        new = module.deep_replace(original, mutated)
        assert isinstance(new, cst.Module)
        code = new.code
        if code == source:
            continue
        new_lines = code.splitlines()
        changed = [i for i, (a, b) in enumerate(zip(lines, new_lines, strict=False)) if a != b]
        first = changed[0] if changed else line - 1
        yield code, line, lines[first].strip(), new_lines[first].strip()


def _prepare() -> None:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    for name in COPY_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, WORK / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, WORK / name)


def _pytest_args() -> list[str]:
    _, args, selection = _config_lists()
    # micrograd is imported (mutated) before pytest starts, and pytest would rewrite the asserts
    # of the package of its own plugin (micrograd.conformance.pytest_plugin): it says it cannot
    ignore = (
        "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning"
    )
    return ["--rootdir=.", "-x", "-q", "--no-header", "-W", ignore, *args, *selection]


def _run_tests(timeout: float, pytest_args: list[str]) -> tuple[str, float]:
    """Run the tests in a forked child in ``WORK``: ``(status, seconds)``."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.chdir(WORK)
            sys.path.insert(0, str(WORK))
            fd = os.open(WORK / "last-run.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            try:  # a mutant that breaks the import is killed without running pytest
                import micrograd  # noqa: F401
            except Exception:
                traceback.print_exc()
                sys.stderr.flush()
                os._exit(1)
            import pytest

            code = int(pytest.main(pytest_args))
        except BaseException:
            traceback.print_exc()
            code = 3
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        elapsed = time.monotonic() - start
        if done:
            break
        if elapsed > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", elapsed
        time.sleep(0.05)
    code = os.waitstatus_to_exitcode(status)
    # pytest: 1 tests failed, 2 collection errors (a test module fails to import), 3 internal error
    verdict = {0: "survived", 1: "killed", 2: "killed", 3: "killed"}.get(
        code, f"suspicious (exit {code})"
    )
    return verdict, elapsed


def _warm_up() -> None:
    """Import what every child needs, once, so that forks start warm (not micrograd itself)."""
    # not hypothesis: pytest must import it itself, to rewrite its plugin's asserts
    import pytest  # noqa: F401

    for name in ("numpy", "torch", "jax", "jax.numpy", "sympy", "mpmath"):
        __import__(name)


def _save(mutants: list[Mutant], seconds: float, clean: float) -> None:
    out = {"seconds": seconds, "clean_seconds": clean, "mutants": [asdict(m) for m in mutants]}
    (WORK / "extra.json").write_text(json.dumps(out, indent=1), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="only list the mutants")
    parser.add_argument("--only", nargs="*", default=None, help="run only these mutant ids")
    args = parser.parse_args(argv)
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"

    files = [Path(p) for p in _config_lists()[0]]
    pytest_args = _pytest_args()
    plans: list[tuple[Mutant, str]] = []
    for rel in files:
        for i, (code, line, before, after) in enumerate(generate(ROOT / rel), start=1):
            plans.append((Mutant(str(rel), i, line, before, after), code))
    if args.list:
        for m, _ in plans:
            print(f"{m.file}:{m.index} line {m.line}: {m.before!r} -> {m.after!r}")
        print(len(plans), "mutants")
        return 0
    if args.only is not None:
        wanted = set(args.only)
        plans = [(m, c) for m, c in plans if f"{m.file}:{m.index}" in wanted]

    _prepare()
    _warm_up()
    status, clean = _run_tests(3600, pytest_args)
    if status != "survived":
        print(f"the tests fail on the unmutated code ({status}): see {WORK / 'last-run.log'}")
        return 1
    timeout = max(60.0, 3.0 * clean)
    print(f"clean run {clean:.1f}s; timeout per mutant {timeout:.0f}s; {len(plans)} mutants")
    start = time.monotonic()
    for n, (mutant, code) in enumerate(plans, start=1):
        target = WORK / mutant.file
        original = target.read_text(encoding="utf-8")
        target.write_text(code, encoding="utf-8")
        try:
            mutant.status, mutant.seconds = _run_tests(timeout, pytest_args)
        finally:
            target.write_text(original, encoding="utf-8")
        print(
            f"[{n}/{len(plans)}] {mutant.file}:{mutant.index} line {mutant.line} "
            f"{mutant.status} ({mutant.seconds:.1f}s): {mutant.after}",
            flush=True,
        )
        _save([m for m, _ in plans], time.monotonic() - start, clean)  # an interrupted run counts
    total = time.monotonic() - start
    survivors = [m for m, _ in plans if m.status != "killed"]
    print(f"{len(plans)} mutants, {len(survivors)} not killed, {total:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
