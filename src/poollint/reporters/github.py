"""GitHub Actions workflow commands: one `::error` annotation per finding on the PR's lines."""
from __future__ import annotations

from typing import Sequence

from poollint.engine.findings import Finding


# https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts (escapeData, escapeProperty)
def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: Sequence[Finding]) -> str:
    return "".join(
        f"::error file={escape_property(f.path)},line={f.line},col={f.column},"
        f"title={escape_property(f.code)}::{escape_data(f.message)}\n"
        for f in findings
    )
