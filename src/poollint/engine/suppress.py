"""`# noqa` comments, flake8-compatible."""
from __future__ import annotations

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


# flake8's file-level form, `# flake8: noqa` (with codes flake8 reads it as a line noqa, so do we),
# and poollint's own `# poollint: noqa` / `# poollint: noqa: DBP101,DBP3` (`//` in schema.prisma).
_FLAKE8_FILE = re.compile(r"#\s*flake8[:=]\s*noqa\s*$", re.IGNORECASE)
_POOLLINT_FILE = re.compile(
    r"(?:#|//)\s*poollint:\s*noqa(?:\s*:\s*(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?\s*$", re.IGNORECASE)


def file_noqa_codes(text: str) -> Optional[frozenset[str]]:
    """None: no file-level noqa. Empty set: the whole file is skipped. Else codes or prefixes skipped in it."""
    if "noqa" not in text.lower():
        return None
    codes: set[str] = set()
    found = False
    for line in text.splitlines():
        if "noqa" not in line.lower():
            continue
        if _FLAKE8_FILE.search(line):
            return frozenset()
        match = _POOLLINT_FILE.search(line)
        if match:
            if not match.group("codes"):
                return frozenset()
            found = True
            codes.update(code.upper() for code in re.findall(r"[A-Z]+[0-9]*", match.group("codes"), re.IGNORECASE))
    return frozenset(codes) if found else None


def is_suppressed_in_file(code: str, file_codes: Optional[frozenset[str]]) -> bool:
    return file_codes is not None and (not file_codes or any(code.startswith(c) for c in file_codes))


# `# noqa DBP101` (no colon) is a bare noqa to flake8: it silences every code on the line, which is
# rarely what was meant; `# noqa:` followed by no code, or by something that is not a code, likewise.
_NOQA_ANYWHERE = re.compile(r"#\s*noqa\b(?P<rest>[^#\n]*)", re.IGNORECASE)
_WELL_FORMED_REST = re.compile(r"^(?:\s*|:\s?[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*[,\s]*(?:\S.*)?)$", re.IGNORECASE)
_LOOKS_LIKE_CODE = re.compile(r"^\s+[A-Z]{1,4}[0-9]{1,4}\b", re.IGNORECASE)


def malformed_noqa(text: str) -> list[tuple[int, str]]:
    """(line, the comment) of each `# noqa` naming a DBP code that flake8 and poollint would read differently
    from how it looks (`# noqa DBP101`: a bare noqa; `# noqa: DBP-101`: no code at all)."""
    found: list[tuple[int, str]] = []
    lowered = text.lower()
    if "noqa" not in lowered or "dbp" not in lowered:  # only a comment naming a DBP code is warned about
        return found
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _NOQA_ANYWHERE.finditer(line):
            rest = match.group("rest")
            if rest.startswith(":"):
                bad = not _WELL_FORMED_REST.match(rest)
            else:
                bad = bool(_LOOKS_LIKE_CODE.match(rest)) or rest.lstrip().startswith(":")
            # another tool's code (`# noqa E501`, `# noqa: 501`) is that tool's business: flake8 reads
            # it as a bare noqa too, and a warning on every such line of a large project is noise
            if bad and "dbp" in rest.lower():
                found.append((number, match.group(0).strip()))
    return found
