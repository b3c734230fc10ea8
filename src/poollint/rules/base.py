"""What every rule is: its documentation on the class, and a way to report."""
from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from poollint.findings import Finding, Location

if TYPE_CHECKING:
    import libcst as cst
    from poollint.python.cst.context import FileContext


class Rule:
    """Documentation and identity shared by every kind of rule."""

    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]
    fix_hint: ClassVar[str]
    rationale: ClassVar[str]
    example: ClassVar[str]
    use_instead: ClassVar[str]
    example_language: ClassVar[str] = "python"
    options: ClassVar[tuple[str, ...]] = ()
    references: ClassVar[tuple[str, ...]] = ()
    # Rules the precision measurement could not bring to 90% are off unless selected.
    opt_in: ClassVar[bool] = False

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]

    @classmethod
    def render(cls, **fields: Any) -> str:
        return cls.message.format(**fields)

    @classmethod
    def documentation(cls) -> str:
        """The rule's full documentation in Markdown, as `poollint explain` prints it."""
        def block(text: str) -> str:
            return textwrap.dedent(text).strip("\n")

        parts = [
            f"## {cls.code} {cls.name}",
            "",
            cls.summary(),
            "",
            "### Why it exhausts the pool",
            "",
            block(cls.rationale),
            "",
            "### Example",
            "",
            f"```{cls.example_language}",
            block(cls.example),
            "```",
            "",
            "### Use instead",
            "",
            f"```{cls.example_language}",
            block(cls.use_instead),
            "```",
            "",
            "### Fix",
            "",
            cls.fix_hint,
        ]
        if cls.options:
            parts += ["", "### Options", "", *(f"- `{option}` in `[tool.poollint]`" for option in cls.options)]
        if cls.references:
            parts += ["", "### References", "", *(f"- <{ref}>" for ref in cls.references)]
        parts += ["", "### Measured precision", "", *_measured_lines(cls.code, cls.opt_in, cls.example_language)]
        return "\n".join(parts) + "\n"


def _measured_lines(code: str, opt_in: bool = False, language: str = "python") -> list[str]:
    """The rule's numbers on the application corpus, from the one data module that holds them."""
    from poollint.rules.measured import APPLICATIONS, MEASURED, MEASURED_ON

    if language != "python":
        shown = {"typescript": "TypeScript"}.get(language, language)
        return [f"Not measured on the Python application samples ({MEASURED_ON}): a {shown} rule, "
                "measured on Node applications in docs/typescript.md."]

    if opt_in and code not in MEASURED:
        return [f"Not measured ({MEASURED_ON}): the application samples are checked with the default rules only."]

    lines = [f"On applications nobody here wrote (`benchmarks/precision`, {MEASURED_ON}); strict precision "
             "counts debatable findings (tests, one-shot scripts) as false, lenient leaves them out:", ""]
    for split in ("validation", "development"):
        findings, projects, tp, fp, debatable = MEASURED.get(code, {}).get(split, (0, 0, 0, 0, 0))
        if not findings:
            lines.append(f"- {split}: no findings in {APPLICATIONS[split]} applications")
            continue
        strict = round(100 * tp / (tp + fp + debatable))
        lenient = f"{round(100 * tp / (tp + fp))}%" if tp + fp else "n/a"
        lines.append(f"- {split}: {findings} finding{'s' * (findings != 1)} in {projects} of "
                     f"{APPLICATIONS[split]} applications, {strict}% strict, {lenient} lenient")
    return lines


class FileRule(Rule):
    """Visits one libcst module; all file rules share one traversal and one FileContext.

    Subclasses define `visit_<Node>` / `leave_<Node>` methods like a libcst visitor.
    """

    # What the screen and the slicer must look for on this rule's behalf (the vocabularies of
    # python/screen.py): a file or definition with none of them is never parsed for it. None: the
    # rule may report anywhere, and a run that enables it screens nothing.
    triggers: ClassVar[Optional[frozenset[str]]] = None
    # The vocabularies a file must name somewhere for this rule to possibly report in it (DBP2xx: an
    # external call, or a project function that may make one): a file the screen finds without one is
    # parsed without this rule (python/screen.py Verdict.absent).
    requires: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, context: "FileContext") -> None:
        self.context = context
        self.catalog = context.catalog
        self.settings = context.settings
        self.findings: list[Finding] = []

    def qualified_name(self, node: cst.BaseExpression) -> Optional[str]:
        return self.context.qualified_name(node)

    def report(self, node: cst.CSTNode, *, root: Optional[tuple[Any, ...]] = None,
               related: tuple[Location, ...] = (), **fields: Any) -> None:
        position = self.context._positions()[node]
        self.findings.append(Finding(
            code=self.code, name=self.name, message=self.render(**fields),
            path=self.context.display_path, line=position.start.line, column=position.start.column + 1,
            end_line=position.end.line, end_column=position.end.column + 1,
            related=related, fix_hint=self.fix_hint, root=root, fields=fields,
        ))

    def report_at(self, line: int, column: int, *, root: Optional[tuple[Any, ...]] = None,
                  related: tuple[Location, ...] = (), **fields: Any) -> None:
        """Reports at a position pass one recorded (1-based line and column)."""
        self.findings.append(Finding(
            code=self.code, name=self.name, message=self.render(**fields),
            path=self.context.display_path, line=line, column=column,
            related=related, fix_hint=self.fix_hint, root=root, fields=fields,
        ))

    def finish(self) -> None:
        """Called after the traversal; rules that decide at the end report here."""


class ProjectRule(FileRule):
    """Reads the project index (pass one) to report in the current file; runs in the same traversal.

    Its `example` and `use_instead` are several files, each introduced by a `# path/to/file.py` line.
    """
