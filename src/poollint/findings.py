"""Findings are frozen data; reporters turn them into text, JSON, SARIF or annotations."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Optional


@dataclass(frozen=True)
class Location:
    path: str  # POSIX, relative to the working directory when possible
    line: int  # 1-based
    column: int  # 1-based
    message: str = ""


@dataclass(frozen=True, eq=True)
class Finding:
    code: str
    name: str
    message: str
    path: str
    line: int
    column: int
    related: tuple[Location, ...] = ()
    fix_hint: str = ""
    # where the offending node ends (1-based, the column after its last character); 0: not known
    end_line: int = field(default=0, compare=False)
    end_column: int = field(default=0, compare=False)
    # What caused it: a later family's finding with the same root is the same bug, not reported twice.
    root: Optional[tuple[Any, ...]] = field(default=None, compare=False, hash=False)
    # The values the message was rendered from, for codemods to read (never shown, never cached).
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line or self.line,
            "end_column": self.end_column or self.column,
            "fix_hint": self.fix_hint,
            "related": [
                {"path": r.path, "line": r.line, "column": r.column, "message": r.message} for r in self.related
            ],
        }


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match) -> str:
    code = ord(match.group())
    # a byte of a file name that is not UTF-8 (os.fsdecode's surrogateescape): shown as its percent-escape
    return f"%{code - 0xDC00:02X}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with what no encoder accepts (the undecodable bytes of a file name) percent-escaped."""
    return _LONE_SURROGATE.sub(_escape_surrogate, text)


def for_output(finding: Finding, mask: Callable[[str], str]) -> Finding:
    """The finding as every reporter and file shows it: secrets masked, undecodable bytes escaped."""
    def shown(text: str) -> str:
        return printable(mask(text))

    return replace(
        finding, message=shown(finding.message), fix_hint=shown(finding.fix_hint), path=printable(finding.path),
        related=tuple(replace(r, path=printable(r.path), message=shown(r.message)) for r in finding.related),
    )
