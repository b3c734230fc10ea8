"""`path:line:col: CODE message`, one finding a line, like flake8."""
from __future__ import annotations

from typing import Sequence

from poollint.engine.findings import Finding


def render(findings: Sequence[Finding]) -> str:
    return "".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in findings)
