"""What a run found: one cell per check, and how it is printed (text, Markdown) and saved (JSON).

A check is a row (an operation, mixed trees, a law, a convention, an edge, the depth limit)
against one reference (an oracle, finite differences, or micrograd for another engine); a law
and a limit have no reference. The same model, printer and JSON serve micrograd's report and
another engine's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "DIFFERS",
    "FAIL",
    "LIMITED",
    "PASS",
    "SCHEMA",
    "SKIPPED",
    "UNSUPPORTED",
    "Cell",
    "Report",
    "Table",
    "conclusion",
    "format_report",
    "github_annotations",
    "header",
    "junit",
    "preamble",
    "verdict",
]

PASS, FAIL, UNSUPPORTED, DIFFERS, LIMITED, SKIPPED = (
    "pass",
    "FAIL",
    "not supported",
    "differs",
    "limited",
    "skipped",
)
#: Identifies the JSON document's layout; it changes when a field changes meaning.
SCHEMA = "micrograd-verify/1"


@dataclass
class Cell:
    """One check: a row against one reference (``against``; empty for a law or a limit)."""

    key: str
    label: str
    kind: str  # operation | mixed | law | semantics | edge | limit
    against: str = ""
    status: str = PASS
    examples: int = 0
    detail: str = ""
    counterexample: str | None = None
    #: Largest differences from the reference: absolute, and where the reference is at least
    #: ``pipeline.REL_FLOOR``, relative and (against an exact reference) in ulps.
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ulps: float | None = None
    seconds: float = 0.0

    def failed(self, strict: bool) -> bool:
        return self.status == FAIL or (strict and self.status in (DIFFERS, LIMITED))


@dataclass
class Report:
    """Everything a run found, about micrograd (``subject`` is ``"micrograd"``) or an engine."""

    subject: str
    profile: str
    examples: int
    seed: int
    columns: list[str]
    strict: bool = False
    #: micrograd's own report (its verdict is VERIFIED or FAILED), not another engine's.
    ours: bool = False
    #: How the engine was loaded: module, attr, file, path, adapter, seconds (other engines).
    engine: dict[str, Any] = field(default_factory=dict)
    load_error: str | None = None
    cells: list[Cell] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.load_error is None and not any(c.failed(self.strict) for c in self.cells)

    def row(self, key: str) -> Cell:
        """The cell of row ``key``: its failing one if any, else its first."""
        cells = [c for c in self.cells if c.key == key]
        if not cells:
            raise KeyError(key)
        return next((c for c in cells if c.status != PASS), cells[0])

    def failures(self) -> list[str]:
        """Keys of the rows that fail this run."""
        return list(dict.fromkeys(c.key for c in self.cells if c.failed(self.strict)))

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (strict JSON: non-finite numbers become strings)."""
        data = {"schema": SCHEMA, "versions": _versions(), **asdict(self)}
        data |= {"passed": self.passed, "verdict": verdict(self)}
        return _finite(data)  # type: ignore[no-any-return]


def _versions() -> dict[str, str | None]:
    """The versions of Python, micrograd and the tools a run may use (``None``: not installed)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("micrograd-verified", "hypothesis", "torch", "jax", "sympy", "mpmath"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def header(report: Report) -> str:
    """The first line: what is checked, how hard, and how to replay it."""
    what = "micrograd verify" + ("" if report.ours else f" --engine {report.subject}")
    return (
        f"{what}: profile {report.profile} ({report.examples} random examples per check), "
        f"seed {report.seed} (replay with --seed {report.seed})"
    )


def verdict(report: Report) -> str:
    if report.load_error is not None:
        return f"NOT CHECKED: {report.load_error.splitlines()[0]}"
    failed = report.failures()
    counted = [c for c in report.cells if c.status not in (UNSUPPORTED, SKIPPED)]
    unsupported = len({c.key for c in report.cells if c.status == UNSUPPORTED})
    tail = f"{sum(c.examples for c in report.cells)} examples, {report.seconds:.1f} s, "
    tail += f"seed {report.seed}"
    tail += f"; {unsupported} operations not supported" if unsupported else ""
    if not failed:
        return (
            f"{'VERIFIED' if report.ours else 'CONFORMS'}: all {len(counted)} checks hold ({tail})."
        )
    bad = sum(c.failed(report.strict) for c in report.cells)
    no = "FAILED" if report.ours else "DOES NOT CONFORM"
    return f"{no}: {bad} of {len(counted)} checks failed ({tail})."


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if x == 0.0:
        return "0"
    return f"{x:.1e}" if x < 1e-2 or x >= 1e4 else f"{x:.3g}"


def _text(cell: Cell, figures: bool) -> str:
    if cell.status in (UNSUPPORTED, SKIPPED) or not cell.examples:
        return cell.status
    more = ""
    if figures and cell.against:
        more = f", {_fmt(cell.max_abs)} / {_fmt(cell.max_rel)}"
        more += f", {_fmt(cell.max_ulps)} ulps" if cell.max_ulps is not None else ""
    return f"{cell.status} ({cell.examples}{more})"


class Table:
    """The report's table, a row at a time, so that a run can print each row as it finishes.

    With ``labels`` (the labels of the rows to come), the column widths are fixed before any
    row is known: wide enough for the headings and for the usual cells (a wider cell pushes the
    rest of its row along). Without, they fit the rows of ``report``, as in
    :func:`format_report`.
    """

    def __init__(
        self, report: Report, labels: Sequence[str] | None = None, *, markdown: bool = False
    ) -> None:
        self.report, self.markdown = report, markdown
        self.figures = report.ours
        head = ["check", *report.columns, "detail"]
        if self.figures:
            head[1:-1] = [
                f"{c} (examples, max abs / rel{', ulps' * (c == 'sympy')})" for c in head[1:-1]
            ]
        self.heading = head
        if labels is None:
            rows = [self.cells(key) for key in dict.fromkeys(c.key for c in report.cells)]
            self.widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
        else:  # the widest usual cell: a pass with every figure, or a cell without examples
            n = report.examples + 10  # the random examples and a few fixed ones
            usual = [UNSUPPORTED, SKIPPED, f"{DIFFERS} ({n})"]
            self.widths = [max(map(len, [head[0], *labels]))]
            for column, title in zip(report.columns, head[1:-1], strict=True):
                figures = f", 1.0e-16 / 1.0e-16{', 10 ulps' * (column == 'sympy')}"
                widest = f"{PASS} ({n}{figures * self.figures})"
                self.widths.append(max(map(len, [title, widest, *usual])))

    def cells(self, key: str) -> list[str]:
        """Row ``key``: its label, a cell per column and the detail of its worst check."""
        report = self.report
        cells = [c for c in report.cells if c.key == key]
        by = {c.against: c for c in cells}
        line = [cells[0].label]
        line += [_text(by[col], self.figures) if col in by else "" for col in report.columns]
        if "" in by:  # a law, a limit or an operation not supported: no reference
            line[1] = _text(by[""], self.figures)
        worst = report.row(key)
        shown = worst.status != PASS or worst.kind == "limit"
        line.append(worst.detail if shown else "")
        return line

    def head(self) -> list[str]:
        """The heading (two lines in Markdown)."""
        if self.markdown:
            return ["| " + " | ".join(self.heading) + " |", "|" + "---|" * len(self.heading)]
        return [self._line(self.heading)]

    def line(self, key: str) -> str:
        """Row ``key`` as a line."""
        row = self.cells(key)
        if self.markdown:
            return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
        return self._line(row)

    def _line(self, row: Sequence[str]) -> str:
        text = "  ".join(f"{c:<{w}}" for c, w in zip(row, self.widths, strict=False))
        return f"{text}  {row[-1]}".rstrip()


def preamble(report: Report) -> list[str]:
    """What comes before the table: how another engine was loaded."""
    if not report.engine:
        return []
    e = report.engine
    kind = "adapter" if e.get("adapter") else "value class"
    return [
        f"engine: {kind} {e.get('attr')} from {e.get('module')} "
        f"({e.get('where', e.get('file'))}), "
        f"imported in {e.get('seconds', 0.0):.2f} s",
        "",
    ]


def conclusion(report: Report, *, markdown: bool = False) -> list[str]:
    """What comes after the table: findings, each failure's counterexample, the verdict."""
    out = []
    if report.findings:
        out += ["", "findings:"] + [f"  - {f}" for f in report.findings]
    for cell in report.cells:
        if cell.counterexample and cell.status != PASS:
            against = f" against {cell.against}" if cell.against else ""
            out += ["", f"{cell.label}{against} ({cell.status}):"]
            block = cell.counterexample.rstrip("\n")
            out += [f"```\n{block}\n```"] if markdown else [block]
    return [*out, "", verdict(report)]


def format_report(report: Report, *, markdown: bool = False, first_line: bool = True) -> str:
    """The report as text (or Markdown): header, table, findings, failures, verdict."""
    out = [header(report), ""] if first_line else []
    out += preamble(report)
    if report.load_error:
        return "\n".join([*out, report.load_error, "", verdict(report)]) + "\n"
    table = Table(report, markdown=markdown)
    out += table.head()
    out += [table.line(key) for key in dict.fromkeys(c.key for c in report.cells)]
    return "\n".join(out + conclusion(report, markdown=markdown)) + "\n"


def junit(report: Report) -> str:
    """The report as JUnit XML: one test case per check, a failure with its counterexample."""
    from xml.etree import ElementTree as ET

    name = "micrograd verify" + ("" if report.ours else f" --engine {report.subject}")
    suite = ET.Element("testsuite", name=name)
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    for cell in report.cells:
        name = cell.label + (f" against {cell.against}" if cell.against else "")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"micrograd.verify.{cell.kind}",
            name=name,
            time=f"{cell.seconds:.3f}",
        )
        counts["tests"] += 1
        if cell.failed(report.strict):
            counts["failures"] += 1
            failure = ET.SubElement(case, "failure", message=cell.detail, type=cell.status)
            failure.text = cell.counterexample or cell.detail
        elif cell.status != PASS:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"{cell.status}: {cell.detail}".rstrip(": "))
    if report.load_error is not None:
        case = ET.SubElement(suite, "testcase", classname="micrograd.verify", name="load")
        ET.SubElement(
            case, "error", message=report.load_error.splitlines()[0]
        ).text = report.load_error
        counts["tests"] += 1
        suite.set("errors", "1")
    for key, n in counts.items():
        suite.set(key, str(n))
    suite.set("time", f"{report.seconds:.3f}")
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def github_annotations(report: Report) -> list[str]:
    """GitHub Actions workflow commands: an error per failing check, a warning per check that
    differs or is limited (not failing without ``--strict``), then the verdict as a notice."""

    def escape(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    out = []
    if report.load_error is not None:
        out.append(f"::error title=micrograd verify::{escape(report.load_error)}")
    for cell in report.cells:
        title = cell.label + (f" against {cell.against}" if cell.against else "")
        title = escape(title).replace(",", "%2C").replace(":", "%3A")
        if cell.failed(report.strict):
            out.append(f"::error title={title}::{escape(cell.counterexample or cell.detail)}")
        elif cell.status in (DIFFERS, LIMITED):
            out.append(f"::warning title={title}::{escape(cell.detail)}")
    out.append(f"::notice title=micrograd verify::{escape(verdict(report))}")
    return out
