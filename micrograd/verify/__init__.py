"""The verification: micrograd, or another engine, checked row by row (one pipeline).

``micrograd verify`` checks micrograd against finite differences, PyTorch, JAX and the exact
symbolic oracle; ``micrograd verify --engine TARGET`` checks another engine against micrograd.
Both draw random expressions with Hypothesis for each operation alone and mixed, check the laws,
and print one table (a row per check, a column per reference), the seed that replays the run,
each failure's minimal counterexample as a runnable snippet, and a verdict
(:mod:`micrograd.verify.pipeline` says what is checked; :mod:`micrograd.verify.cli` the exit
statuses). From Python: :func:`run` (micrograd) and :func:`check_engine` (another engine)
return a :class:`Report`.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence

from .cli import CI_SEED, EXIT_FAILED, EXIT_MISSING, EXIT_NOT_LOADED, EXIT_OK, EXIT_USAGE, main
from .pipeline import PROFILES, Progress, check
from .process import MEMORY, EngineCrashed, EngineProcess, EngineTimeout, LoadError
from .report import Cell, Report, format_report
from .split import helper
from .subjects import AGAINST_MICROGRAD, REFERENCES, Broken, Engine, Micrograd

__all__ = [
    "CI_SEED",
    "EXIT_FAILED",
    "EXIT_MISSING",
    "EXIT_NOT_LOADED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ORACLE_NAMES",
    "PROFILES",
    "Cell",
    "Progress",
    "Report",
    "check_engine",
    "format_report",
    "main",
    "run",
]

#: The references micrograd is checked against, in column order.
ORACLE_NAMES: tuple[str, ...] = tuple(REFERENCES)


def _seed(seed: int | None) -> int:
    return seed if seed is not None else random.randrange(2**32)


def _names(names: Sequence[str] | None, what: str) -> list[str] | None:
    """Operation names (older kit names accepted), checked."""
    from ..testing.opinfo import ALIASES, OPERATIONS

    if names is None:
        return None
    if isinstance(names, str):
        raise TypeError(f"{what} takes a list of operation names, got the string {names!r}")
    resolved = [ALIASES.get(n, n) for n in names]
    unknown = [n for n in resolved if n not in OPERATIONS]
    if unknown:
        raise ValueError(f"{what}: unknown operation(s) {', '.join(map(repr, unknown))}")
    return list(dict.fromkeys(resolved))


def _profile(profile: str) -> int:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    return PROFILES[profile]


def run(
    *,
    ops: Sequence[str] | None = None,
    oracles: Sequence[str] = ORACLE_NAMES,
    profile: str = "default",
    seed: int | None = None,
    fail_fast: bool = False,
    strict: bool = False,
    require: Sequence[str] = (),
    min_depth: int = 0,
    progress: Callable[[Progress], None] | None = None,
    jobs: int = 1,
) -> Report:
    """Check micrograd against ``oracles`` (names of :data:`ORACLE_NAMES`).

    ``progress``, if given, is called with a :class:`Progress` as each check starts and as each
    row ends (its cells are then final): what ``micrograd verify`` prints the table from, a row
    at a time.

    ``jobs``: processes to check in. With 2 (or more), rows are checked by turns here and in a
    second process (:mod:`micrograd.verify.split`): the same report, sooner on two cores
    (``micrograd verify`` does this with two CPUs or more). With ``fail_fast``, one.
    """
    report = Report(
        "micrograd", profile, _profile(profile), _seed(seed), list(oracles), strict, ours=True
    )
    unknown = [name for name in oracles if name not in REFERENCES]
    if unknown:
        raise ValueError(f"run(oracles=...): unknown {', '.join(map(repr, unknown))}")
    names, required = _names(ops, "ops"), _names(require, "require") or []
    config = {
        "profile": profile,
        "seed": report.seed,
        "oracles": list(oracles),
        "strict": strict,
        "ops": names,
        "require": required,
        "min_depth": min_depth,
    }
    split = _jobs(jobs, fail_fast) > 1
    start = time.perf_counter()
    with helper(config) if split else contextlib.nullcontext() as share:
        check(
            Micrograd(),
            [REFERENCES[name]() for name in oracles],
            report,
            ops=names,
            require=required,
            min_depth=min_depth,
            fail_fast=fail_fast,
            progress=progress,
            share=share,
        )
    if share is not None and share.lost:
        report.findings.append(share.lost)
    report.seconds = time.perf_counter() - start
    return report


def _jobs(jobs: int, fail_fast: bool) -> int:
    """How many processes a run uses (see :func:`run`)."""
    if type(jobs) is not int or jobs < 1:
        raise ValueError(f"run(jobs=...) takes a whole number of processes >= 1, got {jobs!r}")
    return 1 if fail_fast else jobs


def check_engine(
    target: str,
    *,
    profile: str = "default",
    seed: int | None = None,
    timeout: float = 5.0,
    import_timeout: float = 120.0,
    memory: int = MEMORY,
    strict: bool = False,
    require: Sequence[str] = (),
    min_depth: int = 0,
    oracles: Sequence[str] | None = None,
    ops: Sequence[str] | None = None,
    fail_fast: bool = False,
    cwd: str | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Report:
    """Check the engine ``target`` (a module, a ``.py`` file or a package directory, optionally
    ``:Name`` for its value class or :class:`~micrograd.conformance.Adapter` subclass) against
    micrograd.

    Args:
        profile: ``quick``, ``default`` or ``thorough``: random examples per row (10, 40, 400).
        seed: Replays a run (the report prints it); random if ``None``.
        timeout: Seconds one program may take in the engine before it counts as hung.
        import_timeout: Seconds the engine's import may take.
        memory: MiB the engine's process may allocate; beyond, its allocations fail.
        strict: Semantics, edge and depth rows fail the run too.
        require: Operations that must be supported.
        min_depth: Fail unless ``backward()`` works on a chain at least this long.
        oracles: Oracles whose values are shown next to each failure; default: every one
            installed.
        ops: Operations to check (default: all).
        cwd: Directory the engine is resolved and run from (default: the current one).
        progress: Called with a :class:`Progress` as each check starts and each row ends.
    """
    from ..testing.oracles import ORACLES

    if oracles is None:
        oracles = [name for name, o in ORACLES.items() if o.available()]
    report = Report(target, profile, _profile(profile), _seed(seed), ["micrograd"], strict)
    ops, require = _names(ops, "ops"), _names(require, "require") or []
    start = time.perf_counter()
    if type(memory) is not int or memory < 64:
        raise ValueError(
            f"check_engine(memory=...) takes a whole number of MiB >= 64, got {memory!r}"
        )
    with EngineProcess(target, import_timeout=import_timeout, cwd=cwd, memory=memory) as process:
        try:
            hello = process.start()
        except LoadError as exc:
            info = exc.args[1] if len(exc.args) > 1 else {}
            trace = info.get("traceback", "") if isinstance(info, dict) else ""
            report.load_error = f"could not load {target}: {exc.args[0]}"
            report.load_error += "\n" + trace.rstrip() if trace else ""
        except (EngineTimeout, EngineCrashed) as exc:
            report.load_error = f"could not load {target}: {exc}"
        else:
            _checked(
                process,
                hello,
                report,
                timeout,
                oracles,
                ops,
                require,
                min_depth,
                fail_fast,
                progress,
            )
    report.seconds = time.perf_counter() - start
    return report


def _checked(
    process: EngineProcess,
    hello: dict[str, object],
    report: Report,
    timeout: float,
    oracles: Sequence[str],
    ops: Sequence[str] | None,
    require: Sequence[str],
    min_depth: int,
    fail_fast: bool,
    progress: Callable[[Progress], None] | None,
) -> None:
    info = {k: v for k, v in hello.items() if k not in ("hello", "output")}
    if isinstance(info.get("file"), str):  # as the user named it: relative to where they ran it
        where = os.path.relpath(str(info["file"]), process.cwd)
        info["where"] = info["file"] if where.startswith("..") else where
    report.engine = info
    text = str(hello.get("output") or "").strip()
    if text:
        lines = text.splitlines()
        more = "+" if len(text) >= 3900 else ""
        report.findings.append(
            f"importing the engine printed {len(lines)}{more} line(s) (first: {lines[0][:100]!r})"
        )
    seconds = hello.get("seconds", 0.0)
    if isinstance(seconds, float) and seconds > 1.0:
        report.findings.append(f"importing the engine took {seconds:.1f} s")
    engine = Engine(process, info, timeout)
    try:
        if progress:
            progress(Progress(report, checking="what the engine supports"))
        basics = engine.request({"kind": "basics"}, "making a value")
        if basics.get("basics"):
            report.load_error = f"the engine's basics do not work: {basics['basics']}"
            return
        check(
            engine,
            [AGAINST_MICROGRAD],
            report,
            ops=ops,
            require=require,
            min_depth=min_depth,
            shown=oracles,
            fail_fast=fail_fast,
            progress=progress,
        )
    except LoadError as exc:  # a restart after a hang failed to import again
        report.load_error = f"the engine could not be reloaded: {exc.args[0]}"
    except Broken as exc:  # making a value hung or crashed
        report.load_error = f"the engine's basics do not work: {exc.message}"
    report.findings += _grouped(engine.notes)


def _grouped(notes: Iterable[str]) -> list[str]:
    """One line per kind of finding (``grad of x0 is an int (1)`` and ``grad of x3 is an int
    (2)`` are one kind), with how many there were."""
    kinds: dict[str, list[str]] = {}
    for note in notes:
        kind = re.sub(r"\bx\d+\b|\([^)]*\)|(?<=of a )\w+ (?=result)", "", note)
        kinds.setdefault(kind, []).append(note)
    return [
        group[0] + (f" (and {len(group) - 1} more like it)" if len(group) > 1 else "")
        for group in kinds.values()
    ]
