"""The installation this package runs from: other distributions that install ``micrograd`` too,
and the commands that install an extra's pinned requirements.

The import package ``micrograd`` is also karpathy's original (the PyPI distribution ``micrograd``,
files ``micrograd/__init__.py``, ``engine.py`` and ``nn.py``). pip installs both into the same
directory without a word: whichever comes second overwrites the other's files, and uninstalling
either deletes files the other needs. :func:`clashes` finds that, for ``micrograd verify`` and the
``micrograd`` command to report, with the fix. Standard library only; nothing runs at import.
"""

from __future__ import annotations

import hashlib
import re
from base64 import urlsafe_b64encode
from importlib import metadata
from pathlib import Path

__all__ = [
    "DISTRIBUTION",
    "FIX",
    "TORCH_CPU_INDEX",
    "broken",
    "clashes",
    "install_command",
    "overwritten",
    "report",
]

DISTRIBUTION = "micrograd-verified"
FIX = f"pip uninstall -y micrograd && pip install --force-reinstall --no-deps {DISTRIBUTION}"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def clashes() -> list[str]:
    """One sentence per other installed distribution that ships files of the package
    ``micrograd`` (karpathy's ``micrograd``, or a fork of it), naming the fix."""
    found = []
    for dist in metadata.distributions():
        name = dist.metadata["Name"] or "?"
        if _normal(name) == DISTRIBUTION:
            continue
        files = dist.files or []
        if any(f.parts[:1] == ("micrograd",) for f in files):
            found.append(
                f"the distribution {name} {dist.version} also installs the package micrograd "
                f"(karpathy's original has the same name and files): whichever was installed "
                f"last replaced the other's files, and uninstalling either removes files the "
                f"other needs. Keep one per environment: {FIX}"
            )
    return found


def overwritten() -> list[str]:
    """The files of this installation that no longer hold what was installed (another
    distribution wrote over them); empty for an editable install."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return []
    changed = []
    for f in dist.files or []:
        if f.parts[:1] != ("micrograd",) or f.hash is None or f.hash.mode != "sha256":
            continue
        path = Path(str(f.locate()))
        try:
            digest = hashlib.sha256(path.read_bytes()).digest()
        except OSError:
            changed.append(f"{f} (missing)")
            continue
        if urlsafe_b64encode(digest).rstrip(b"=").decode() != f.hash.value:
            changed.append(str(f))
    return changed


#: PyTorch's CPU-only wheels: the default index has CUDA builds of several GB for Linux.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def install_command(extra: str, only: tuple[str, ...] = ()) -> str:
    """``pip install ...`` with the requirements of ``extra`` (with those of the extras it
    includes; or those of them named in ``only``) as this version pins them, from the installed
    metadata; the extra itself if that is not available. torch comes from its CPU-only index."""
    try:
        requires = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        requires = []
    pins = [p for p in dict.fromkeys(_pins(requires, extra)) if not only or _name(p) in only]
    if not pins:
        return f'pip install "{DISTRIBUTION}[{extra}]"'
    torch = [p for p in pins if _name(p) == "torch"]
    rest = [p for p in pins if p not in torch]
    commands = [f'pip install "{p}" --index-url {TORCH_CPU_INDEX}' for p in torch]
    if rest:
        commands.append("pip install " + " ".join(f'"{p}"' for p in rest))
    return " && ".join(commands)


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0]


def _pins(requires: list[str], extra: str, seen: frozenset[str] = frozenset()) -> list[str]:
    """The requirements of ``extra``, those of the extras it includes in their place."""
    marker = re.compile(rf"""extra\s*==\s*['"]{re.escape(extra)}['"]""")
    pins = []
    for requirement in requires:
        if not marker.search(requirement):
            continue
        pin = requirement.split(";")[0].strip()
        if _name(pin) != DISTRIBUTION:
            pins.append(pin)
            continue
        included = re.search(r"\[([^\]]*)\]", pin)
        for name in included.group(1).split(",") if included else ():
            if name.strip() not in seen | {extra}:
                pins += _pins(requires, name.strip(), seen | {extra})
    return pins


def report() -> list[str]:
    """What is wrong with the installation, one sentence each (empty when nothing is)."""
    found = clashes()
    changed = overwritten()
    if changed:
        found.append(
            f"files of {DISTRIBUTION} were replaced since it was installed: {', '.join(changed)}. "
            f"Reinstall it: {FIX}"
        )
    return found


def broken(exc: ImportError) -> str:
    """The message for a ``micrograd`` package that is not this one (or not all of it)."""
    lines = [f"micrograd: this installation of {DISTRIBUTION} is broken ({exc})."]
    lines += report() or [
        "Another distribution may have replaced its files (karpathy's micrograd installs the "
        f"same package name). Reinstall it: {FIX}"
    ]
    return "\n".join(lines)
