"""Shared helpers: where the catalogue of engines lives, and one cached report per engine."""

from __future__ import annotations

import functools
from pathlib import Path

from micrograd.conformance import Report, check_engine

ENGINES = Path(__file__).with_name("engines")
#: Short per-program timeout: the catalogue's engines answer in milliseconds, except the one
#: that hangs.
TIMEOUT = 1.0


def target(name: str) -> str:
    """``file.py`` or ``file.py:Class`` in the catalogue, as a path the kit accepts."""
    return str(ENGINES / name)


@functools.cache
def report(name: str, *, strict: bool = False, ops: tuple[str, ...] | None = None) -> Report:
    """The kit's report on a catalogue engine (quick profile, seed 0, no oracles), run once."""
    return check_engine(
        target(name),
        profile="quick",
        seed=0,
        timeout=TIMEOUT,
        oracles=[],
        strict=strict,
        ops=None if ops is None else list(ops),
    )
