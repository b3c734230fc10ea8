"""`path:line:col: CODE message`, one finding a line, like flake8; `full` adds the source line and the
fix hint, like ruff's `--output-format full`; `--statistics` counts findings per rule."""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from poollint.config.urls import mask_text
from poollint.engine.baseline import read_lines
from poollint.findings import Finding


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


def render_full(findings: Sequence[Finding]) -> str:
    """Each finding with its source line, a caret under the offending code, and the fix hint."""
    sources: dict[str, list[str]] = {}
    out: list[str] = []
    for f in findings:
        if f.path not in sources:
            sources[f.path] = read_lines(f.path)
        lines = sources[f.path]
        out.append(f"{escape_path(f.path)}:{f.line}:{f.column}: {f.code} {_one_line(f.message)}\n")
        if 1 <= f.line <= len(lines):
            original = lines[f.line - 1].rstrip("\r\n").expandtabs(1)
            source = _one_line(mask_text(original))
            gutter = " " * len(str(f.line))
            out.append(f"{gutter} |\n{f.line} | {source}\n")
            if source == original:  # a masked password moves the columns: no caret then
                width = f.end_column - f.column if f.end_line == f.line and f.end_column > f.column else 1
                out.append(f"{gutter} | {' ' * (f.column - 1)}{'^' * max(width, 1)}\n")
        if f.fix_hint:
            out.append(f"  = help: {_one_line(f.fix_hint)}\n")
        out.append("\n")
    return "".join(out)


def render_statistics(findings: Sequence[Finding]) -> str:
    """`count  CODE  name`, most frequent first, as `ruff check --statistics` prints it."""
    counts = Counter((f.code, f.name) for f in findings)
    width = len(str(max(counts.values(), default=0)))
    return "".join(f"{count:>{width}}  {code}  {name}\n"
                   for (code, name), count in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
