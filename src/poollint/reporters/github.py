"""GitHub Actions workflow commands: one `::error` annotation per finding on the PR's lines, and a job
summary table when there are more than GitHub shows."""
from __future__ import annotations

from typing import Sequence

from poollint.findings import Finding

# GitHub shows at most 10 error annotations per step; the rest are only in the job summary.
# https://docs.github.com/en/actions/using-workflows/workflow-commands-for-github-actions#setting-an-error-message
ANNOTATIONS_SHOWN = 10


# https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts (escapeData, escapeProperty)
def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(f: Finding) -> str:
    end_line = max(f.end_line, f.line)
    properties = [f"file={escape_property(f.path)}", f"line={f.line}", f"endLine={end_line}", f"col={f.column}"]
    if end_line == f.line and f.end_column > f.column:
        properties.append(f"endColumn={f.end_column}")
    properties.append(f"title={escape_property(f'{f.code} {f.name}')}")
    return f"::error {','.join(properties)}::{escape_data(f.message)}\n"


def render(findings: Sequence[Finding]) -> str:
    return "".join(_annotation(f) for f in findings)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def job_summary(findings: Sequence[Finding]) -> str:
    """Markdown for `$GITHUB_STEP_SUMMARY`: every finding, since the annotations stop at ten."""
    rows = [f"| `{_cell(f.path)}:{f.line}:{f.column}` | {f.code} {f.name} | {_cell(f.message)} |" for f in findings]
    count = len(findings)
    return "\n".join([
        f"### poollint: {count} finding{'s' if count != 1 else ''}",
        "",
        f"GitHub annotates the first {ANNOTATIONS_SHOWN} on the pull request; all of them are listed here.",
        "",
        "| location | rule | message |",
        "| --- | --- | --- |",
        *rows,
    ]) + "\n"
