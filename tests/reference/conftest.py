"""Fixtures for the reference suite: one parameter per oracle.

A missing backend skips its tests with the command that installs it — except when ``CI`` is
true (or ``MICROGRAD_REQUIRE_ORACLES=1``), where it is a failure: a verification gate must never
pass because an oracle was not there to disagree.
"""

from __future__ import annotations

import os

import pytest

from micrograd.testing.oracles import ORACLES, Oracle


def _required() -> bool:
    flags = (os.environ.get("CI", ""), os.environ.get("MICROGRAD_REQUIRE_ORACLES", ""))
    return any(f.lower() in ("1", "true", "yes") for f in flags)


def require(oracle: Oracle) -> Oracle:
    if not oracle.available():
        message = f"the {oracle.name} oracle is not installed: {oracle.install}"
        if _required():
            pytest.fail(f"{message} (required because CI / MICROGRAD_REQUIRE_ORACLES is set)")
        pytest.skip(message)
    return oracle


@pytest.fixture(scope="session", params=list(ORACLES), ids=list(ORACLES))
def oracle(request: pytest.FixtureRequest) -> Oracle:
    return require(ORACLES[request.param])


@pytest.fixture(scope="session")
def torch_oracle() -> Oracle:
    return require(ORACLES["torch"])
