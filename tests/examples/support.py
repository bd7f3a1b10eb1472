"""Load the scripts of ``examples/`` (not a package) as modules, once each."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@functools.cache
def load(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module named ``examples.<name>``."""
    spec = importlib.util.spec_from_file_location(f"examples.{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
