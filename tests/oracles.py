"""Which oracles this test run has, and what a missing one means.

A missing oracle skips its tests with the command that installs it — except when ``CI`` is true
(or ``MICROGRAD_REQUIRE_ORACLES=1``), where it is a failure: a verification gate must never pass
because an oracle was not there to disagree. ``MICROGRAD_OPTIONAL_ORACLES`` (comma-separated,
e.g. ``torch``) names the oracles a run may lack even then — CI on a Python version for which
the pinned PyTorch has no CPU build: their tests skip, saying why, and everything else runs.
An optional oracle that is installed is used as any other.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import pytest

from micrograd.testing.oracles import ORACLES, Oracle

__all__ = ["OPTIONAL", "present", "require", "required"]


def _optional() -> frozenset[str]:
    names = {n.strip() for n in os.environ.get("MICROGRAD_OPTIONAL_ORACLES", "").split(",")}
    names.discard("")
    unknown = names - {*ORACLES, "fd"}
    if unknown:
        raise pytest.UsageError(
            f"MICROGRAD_OPTIONAL_ORACLES: unknown oracle(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(ORACLES)})"
        )
    return frozenset(names)


#: The oracles this run may lack, even under CI.
OPTIONAL = _optional()


def required() -> bool:
    """Whether a missing oracle fails the run (``CI`` or ``MICROGRAD_REQUIRE_ORACLES``)."""
    flags = (os.environ.get("CI", ""), os.environ.get("MICROGRAD_REQUIRE_ORACLES", ""))
    return any(f.lower() in ("1", "true", "yes") for f in flags)


def require(oracle: Oracle, *, module_level: bool = False) -> Oracle:
    """``oracle``, or skip (fail, when required and not optional) the test that needs it, or
    with ``module_level`` the whole module."""
    if not oracle.available():
        message = f"the {oracle.name} oracle is not installed: {oracle.install}"
        if oracle.name in OPTIONAL:
            message += " (optional in this run: MICROGRAD_OPTIONAL_ORACLES)"
        elif required():
            pytest.fail(f"{message} (required because CI / MICROGRAD_REQUIRE_ORACLES is set)")
        pytest.skip(message, allow_module_level=module_level)
    return oracle


def present(names: Iterable[str]) -> list[str]:
    """``names`` (of ``micrograd verify --oracles``) without the optional oracles that are not
    installed: what a test runs ``micrograd verify`` with."""
    return [n for n in names if n not in OPTIONAL or n not in ORACLES or ORACLES[n].available()]
