"""DBP402's and DBP408's codemods: one URL on one line of a configuration file."""
from __future__ import annotations

import re
from typing import Callable, Optional

from poollint.config.lines import split_lines_keeping_ends
from poollint.findings import Finding
from poollint.rules.fixes import CONFIGURATION, FixRequest, FixResult, codemod

def _edit_line(text: str, line: int, edit: Callable[[str], Optional[str]]) -> Optional[str]:
    lines = split_lines_keeping_ends(text)
    if not 1 <= line <= len(lines):
        return None
    replaced = edit(lines[line - 1])
    if replaced is None or replaced == lines[line - 1]:
        return None
    lines[line - 1] = replaced
    return "".join(lines)


def _fix_lines(request: FixRequest, edit: Callable[[str, Finding], Optional[str]],
               description: str) -> Optional[FixResult]:
    text, fixed = request.text, []
    for finding in request.findings:
        new_text = _edit_line(text, finding.line, lambda line: edit(line, finding))
        if new_text is not None:
            text = new_text
            fixed.append(finding)
    return FixResult(text, tuple(fixed), description) if fixed else None


_POSTGRES_SCHEME = re.compile(r"(?<![A-Za-z0-9+.\-])postgres://")


def fix_deprecated_scheme(request: FixRequest) -> Optional[FixResult]:
    """`postgres://` -> `postgresql://` on the reported line; the rest of the URL is untouched."""
    def edit(line: str, finding: Finding) -> Optional[str]:
        if len(_POSTGRES_SCHEME.findall(line)) != 1:
            return None
        return _POSTGRES_SCHEME.sub("postgresql://", line, count=1)

    return _fix_lines(request, edit, "write `postgresql://` instead of `postgres://`")


_POSTGRES_URL = re.compile(r"postgres(?:ql)?(?:\+\w+)?://[^\s\"'#]+")


def fix_prisma_pgbouncer_mode(request: FixRequest) -> Optional[FixResult]:
    """Appends `pgbouncer=true` to a Prisma URL that goes through a transaction-mode pooler."""
    def edit(line: str, finding: Finding) -> Optional[str]:
        if finding.fields.get("setting") != "pgbouncer=true":
            return None  # asyncpg and SQLAlchemy settings belong in code or the driver's URL syntax
        urls = list(_POSTGRES_URL.finditer(line))
        if len(urls) != 1 or "pgbouncer=" in urls[0].group():
            return None
        url = urls[0].group()
        separator = "" if url.endswith(("?", "&")) else ("&" if "?" in url else "?")
        return line[:urls[0].end()] + f"{separator}pgbouncer=true" + line[urls[0].end():]

    return _fix_lines(request, edit, "add `pgbouncer=true` to the Prisma URL")


codemod("DBP402", CONFIGURATION)(fix_prisma_pgbouncer_mode)
codemod("DBP408", CONFIGURATION)(fix_deprecated_scheme)
