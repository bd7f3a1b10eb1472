"""The conformance kit as pytest items: one test per row of the report.

Installed with micrograd-verified (a ``pytest11`` entry point) and idle unless pointed at an
engine, on the command line or in the pytest configuration::

    pytest --micrograd-engine path/to/engine.py            # or a module, a package, module:Class

    [tool.pytest.ini_options]
    micrograd_engine = "mypackage.engine"

Each row (``add``, ``tanh``, ``mixed``, ``sum_rule``, ``edge_log_zero``, ...) is an item named
``micrograd-conformance[TARGET]::ROW``, so ``-k tanh``, ``-x``, ``--lf``, ``--junitxml`` and
``-m``/``xfail`` markers added in a ``conftest.py`` work as for any test. A failing row shows
the kit's explanation and counterexample, without the kit's frames; an operation the engine
does not have is skipped (*not supported*), unless ``--micrograd-require`` names it. The whole
check runs once, when the items are collected (the rows an engine has depend on what it
supports), derandomised with seed 0 unless ``--micrograd-seed`` says otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..verify.report import Cell, Report

__all__: list[str] = []  # a pytest plugin: hooks only


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("micrograd", "the micrograd conformance kit")
    group.addoption(
        "--micrograd-engine",
        metavar="TARGET",
        help="check this engine (module, .py file, package directory, optionally :Name): one "
        "test per row of the report",
    )
    group.addoption(
        "--micrograd-profile",
        choices=["quick", "default", "thorough"],
        default=None,
        help="random examples per row: quick (default here), default or thorough",
    )
    group.addoption("--micrograd-seed", type=int, default=None, help="seed (default 0)")
    group.addoption(
        "--micrograd-require",
        default=None,
        metavar="OPS",
        help="comma-separated operations that must be supported (else their row fails)",
    )
    group.addoption(
        "--micrograd-strict",
        action="store_true",
        default=None,
        help="semantics, edge and depth rows fail too",
    )
    parser.addini("micrograd_engine", "the engine --micrograd-engine checks by default")
    parser.addini("micrograd_profile", "the profile of --micrograd-profile by default")
    parser.addini("micrograd_require", "the operations of --micrograd-require by default")


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(f"--micrograd-{name}")
    if value is None and name in ("engine", "profile", "require"):
        value = config.getini(f"micrograd_{name}") or None
    return value


@pytest.hookimpl(tryfirst=True)  # before -k, -m and --lf select among the items
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    target = _option(config, "engine")
    if not target:
        return
    name = f"micrograd-conformance[{target}]"
    collector = EngineRows.from_parent(session, name=name, nodeid=name)
    collector.target = str(target)
    items.extend(collector.collect())


class EngineRows(pytest.Collector):
    """The rows of the kit's report on one engine."""

    target: str

    def collect(self) -> list[pytest.Item]:
        from ..verify import check_engine

        config = self.config
        require, seed = _option(config, "require"), _option(config, "seed")
        report = check_engine(
            self.target,
            profile=_option(config, "profile") or "quick",
            seed=0 if seed is None else seed,
            strict=bool(_option(config, "strict")),
            require=[r.strip() for r in require.split(",") if r.strip()] if require else (),
        )
        if report.load_error is not None:
            return [Row.from_parent(self, name="load", report=report, cell=None)]
        keys = dict.fromkeys(c.key for c in report.cells)
        return [Row.from_parent(self, name=k, report=report, cell=report.row(k)) for k in keys]


class RowFailed(Exception):
    """A row of the kit's report failed; its explanation is the message."""


class Row(pytest.Item):
    """One row of the report: passes, fails with the kit's explanation, or is skipped."""

    def __init__(self, *, report: Report, cell: Cell | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report = report
        self.cell = cell

    def runtest(self) -> None:
        from ..verify.report import SKIPPED, UNSUPPORTED

        cell = self.cell
        if cell is None:
            raise RowFailed(self.report.load_error)
        self.user_properties.append(("status", cell.status))
        if cell.failed(self.report.strict):
            text = f"{cell.label}: {cell.status}"
            if cell.detail:
                text += f" ({cell.detail})"
            if cell.counterexample:
                text += "\n\n" + cell.counterexample
            raise RowFailed(text)
        if cell.status in (UNSUPPORTED, SKIPPED):
            reason = f"{cell.label}: {cell.status}" + (f" ({cell.detail})" if cell.detail else "")
            # reported at the row, not at this line (as a skip marker is)
            raise pytest.skip.Exception(reason, _use_item_location=True)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RowFailed):
            return str(excinfo.value)  # the kit's explanation, not its frames
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        label = self.cell.label if self.cell is not None else "loading the engine"
        where = self.report.engine.get("where") or self.report.subject
        return str(where), 0, f"micrograd conformance: {label}"
