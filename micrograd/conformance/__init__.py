"""The conformance kit: check any micrograd-style engine against micrograd and the oracles.

From the command line::

    micrograd verify --engine path/to/engine.py        # or a module, a package, module:Class

From pytest, one item per row of the report (the plugin :mod:`.pytest_plugin`)::

    pytest --micrograd-engine path/to/engine.py

From a test suite (pytest or any other), as one test::

    from micrograd.conformance import assert_conforms

    def test_engine_conforms():
        assert_conforms("mypackage.engine")

An engine whose API differs from karpathy/micrograd's gets an :class:`Adapter` subclass. The
checks are those of ``micrograd verify`` (:mod:`micrograd.verify`), run on the engine in a child
process. Needs the ``testing`` extra (Hypothesis); the oracles' values are shown next to
failures when they are installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..verify import Report, check_engine, format_report
from ..verify.adapter import Adapter

__all__ = ["Adapter", "Report", "assert_conforms", "check_engine", "format_report"]


def assert_conforms(
    target: str,
    *,
    profile: str = "quick",
    seed: int = 0,
    strict: bool = False,
    require: Sequence[str] = (),
    **options: Any,
) -> Report:
    """Check ``target`` (see :func:`check_engine`) and raise ``AssertionError`` with the full
    report if it does not conform. Derandomised by default (``seed=0``): the same programs on
    every run. Returns the report."""
    __tracebackhide__ = True  # pytest shows the caller's line, not this function's
    report = check_engine(
        target, profile=profile, seed=seed, strict=strict, require=require, **options
    )
    if not report.passed:
        raise AssertionError("\n" + format_report(report))
    return report
