"""Fixtures for the reference suite: one parameter per oracle (a missing one: ``tests.oracles``)."""

from __future__ import annotations

import pytest

from micrograd.testing.oracles import ORACLES, Oracle

from ..oracles import require


@pytest.fixture(scope="session", params=list(ORACLES), ids=list(ORACLES))
def oracle(request: pytest.FixtureRequest) -> Oracle:
    return require(ORACLES[request.param])


@pytest.fixture(scope="session")
def torch_oracle() -> Oracle:
    return require(ORACLES["torch"])
