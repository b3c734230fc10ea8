"""`path:line:col: CODE message`, one finding a line, like flake8."""
from __future__ import annotations

import re
from typing import Sequence

from poollint.engine.findings import Finding


def escape_path(path: str) -> str:
    """A file name holding a newline or `:1:1:` must not read as another finding: such characters are
    percent-escaped, as GitHub annotations do (a drive letter's colon is kept)."""
    drive, rest = (path[:2], path[2:]) if re.match(r"^[A-Za-z]:[\\/]", path) else ("", path)
    return drive + _UNSAFE_IN_PATH.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), rest)


_UNSAFE_IN_PATH = re.compile(r"[:\x00-\x1f\x7f\x85\u2028\u2029]")


def render(findings: Sequence[Finding]) -> str:
    return "".join(
        f"{escape_path(f.path)}:{f.line}:{f.column}: {f.code} {_one_line(f.message)}\n" for f in findings
    )


def _one_line(message: str) -> str:
    return message.replace("\r", "\\r").replace("\n", "\\n")
