"""`# noqa` comments, flake8-compatible, and per-file ignores."""
from __future__ import annotations

import fnmatch
import re
from typing import Iterable, Optional, Sequence

# flake8's own pattern: `# noqa`, `# noqa: A1,B2`, `#noqa:A1 B2`
NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
# `// noqa: DBP403` where `//` starts a comment (schema.prisma, TypeScript); `#` still works there
SLASH_NOQA = re.compile(NOQA.pattern.replace("#", "(?:#|//)", 1), re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def noqa_codes(line: str, pattern: "re.Pattern[str]" = NOQA) -> Optional[frozenset[str]]:
    """None: no noqa. Empty set: a bare noqa (everything). Else the listed codes."""
    match = pattern.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return frozenset()
    return frozenset(code.upper() for code in _CODE.findall(codes))


def is_suppressed(code: str, lines: Sequence[str], line_numbers: Iterable[int],
                  pattern: "re.Pattern[str]" = NOQA) -> bool:
    """Whether a noqa on any of `line_numbers` (1-based) covers `code`; `pattern`: the file's comment syntax."""
    for number in line_numbers:
        if 1 <= number <= len(lines) and "noqa" in lines[number - 1].lower():
            codes = noqa_codes(lines[number - 1], pattern)
            if codes is not None and (not codes or any(code.startswith(c) for c in codes)):
                return True
    return False


def ignored_by_path(code: str, path: str, per_file_ignores: Sequence[tuple[str, Sequence[str]]]) -> bool:
    for pattern, codes in per_file_ignores:
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, f"*/{pattern}"):
            if any(code.startswith(c) for c in codes):
                return True
    return False
