"""Test configuration shared by every suite: the Hypothesis profiles, registered in one place.

Select a profile with ``HYPOTHESIS_PROFILE=dev|ci|ci-other|thorough`` (or pytest's
``--hypothesis-profile``). Without it, ``CI=true`` selects ``ci`` and anything else ``dev``.

- ``dev``: quick local runs (50 examples per test).
- ``ci``: derandomised — the same examples on every run — with 200 examples per test.
- ``ci-other``: the same with 50, for CI's runs on the other supported Pythons.
- ``thorough``: 2,000 examples per test, random, for long runs before a release.
- ``mutation``: derandomised like ``ci``, with 100 examples per test: what mutation testing runs
  against each mutant (``python mutation/run.py``), so that every kill is reproducible.

A failure prints the minimal expression as a runnable snippet; to replay it, paste the snippet,
or rerun the test (Hypothesis' example database keeps failures locally), or, under ``ci``, rerun
the same command: derandomised runs draw the same examples.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil

import pytest
from hypothesis import settings

import micrograd

# Hypothesis draws some numbers from the constants of the project's modules that are imported
# when a test runs. Importing them all up front makes derandomised runs draw the same examples
# whichever tests are selected (and with no module importing others behind their back).
for _module in pkgutil.walk_packages(micrograd.__path__, "micrograd."):
    if _module.name != "micrograd.__main__":
        # an oracle whose backend is not installed is skipped here; its tests say so
        with contextlib.suppress(ImportError):
            importlib.import_module(_module.name)

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=200, derandomize=True, deadline=None, database=None, print_blob=True
)
# the suite on the other supported Pythons in CI (.ci/run): the same derandomised run with a
# quarter of the examples, since it looks for what differs between versions, beside the full run
settings.register_profile(
    "ci-other", max_examples=50, derandomize=True, deadline=None, database=None, print_blob=True
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.register_profile(
    "mutation", max_examples=100, derandomize=True, deadline=None, database=None, print_blob=True
)

_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _ci else "dev"))


_MUTATION_ORDER = {"unit": 0, "property": 1, "reference": 2}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under the ``mutation`` profile, run the fast suites first: ``-x`` then stops sooner."""
    profile = config.getoption("hypothesis_profile", None) or os.environ.get("HYPOTHESIS_PROFILE")
    if profile == "mutation":
        items.sort(key=lambda item: _MUTATION_ORDER.get(item.path.parent.name, 3))
