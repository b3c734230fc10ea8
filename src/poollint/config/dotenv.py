"""`.env` files with python-dotenv/docker semantics: export, quotes, escapes, comments, `${VAR}`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

from poollint.limits import MAX_INTERPOLATED_CHARS

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$", "'": "'"}


@dataclass(frozen=True)
class EnvEntry:
    key: str
    value: str  # after unquoting and interpolation
    line: int  # where the assignment starts
    unresolved: bool = False  # a `${VAR}` with no value and no default


@dataclass(frozen=True)
class DotenvError:
    line: int
    reason: str


@dataclass(frozen=True)
class DotenvFile:
    entries: tuple[EnvEntry, ...]  # every assignment in file order, duplicates included
    errors: tuple[DotenvError, ...] = ()

    def values(self) -> dict[str, EnvEntry]:
        """Key to its effective entry: the last assignment wins."""
        return {entry.key: entry for entry in self.entries}


def _interpolate(value: str, known: Mapping[str, str]) -> tuple[str, bool]:
    expanded, unresolved, _ = interpolate(value, known)
    return expanded, unresolved


def interpolate(value: str, known: Mapping[str, str]) -> tuple[str, bool, bool]:
    """(value with `${VAR}` replaced, whether a reference stayed unresolved, whether it grew too large).

    Each variable may repeat earlier ones, so a few hundred bytes can double a value per line;
    beyond MAX_INTERPOLATED_CHARS the value is left unexpanded (and counts as unresolved)."""
    unresolved = False
    grown = len(value)

    def replace(match: re.Match) -> str:
        nonlocal unresolved, grown
        found = known.get(match.group("name"))
        replacement = found if found else match.group("default")
        if replacement is None:
            unresolved = True
            return match.group(0)
        grown += len(replacement) - len(match.group(0))
        return replacement if grown <= MAX_INTERPOLATED_CHARS else match.group(0)

    expanded = _INTERPOLATION.sub(replace, value)
    if grown > MAX_INTERPOLATED_CHARS:
        return value, True, True
    return expanded, unresolved, False


def parse_dotenv(text: str, environ: Optional[Mapping[str, str]] = None) -> DotenvFile:
    """Every assignment with its line; `environ` supplies values for `${VAR}` not set in the file."""
    known: dict[str, str] = dict(environ or {})
    entries: list[EnvEntry] = []
    errors: list[DotenvError] = []
    position, line = 0, 1
    # What all expansions of the file may produce together: a chain of lines each repeating the one
    # before plus a character is quadratic even when every value stays below its own cap.
    expansion_budget = 4 * len(text) + 4 * MAX_INTERPOLATED_CHARS
    length = len(text)
    while position < length:
        end = text.find("\n", position)
        end = length if end < 0 else end
        raw = text[position:end]
        start_line = line
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            position, line = end + 1, line + 1
            continue
        body = stripped[7:].lstrip() if stripped.startswith("export ") else stripped
        key_match = _KEY.match(body)
        rest = body[key_match.end():].lstrip() if key_match else ""
        if key_match is None or not rest.startswith("="):
            if key_match is not None and key_match.end() == len(body):
                position, line = end + 1, line + 1  # a bare `KEY` declares without a value
                continue
            errors.append(DotenvError(start_line, f"line {start_line} is not an assignment (`NAME=value`)"))
            position, line = end + 1, line + 1
            continue
        key = key_match.group(0)
        rest = rest[1:].lstrip()
        expand = True
        if rest[:1] in ("'", '"'):
            quote = rest[0]
            # the value may span lines: find the closing quote in the whole remaining text
            offset = position + len(raw.rstrip()) - len(rest) + 1
            value_chars: list[str] = []
            index = offset
            closed = False
            while index < length:
                char = text[index]
                if quote == '"' and char == "\\" and index + 1 < length:
                    following = text[index + 1]
                    value_chars.append(_ESCAPES.get(following, "\\" + following))
                    index += 2
                    continue
                if char == quote:
                    closed = True
                    break
                value_chars.append(char)
                index += 1
            if not closed:
                errors.append(DotenvError(start_line, f"unterminated {quote} quote starting on line {start_line}"))
                break
            value = "".join(value_chars)
            expand = quote == '"'
            line += text.count("\n", position, index)
            end = text.find("\n", index)
            end = length if end < 0 else end
        else:
            value = re.split(r"\s+#", rest, maxsplit=1)[0].strip()
        unresolved = False
        if expand and "${" in value and expansion_budget <= 0:
            unresolved = True  # the file's expansions used up their budget: left as written
        elif expand:
            value, unresolved, too_large = interpolate(value, known)
            expansion_budget -= len(value)
            if expansion_budget <= 0:
                errors.append(DotenvError(start_line, "`${VAR}` references expand to more than four times the "
                                                      "file's size; later ones are not expanded"))
            if too_large:
                errors.append(DotenvError(start_line, f"`{key}` expands to more than {MAX_INTERPOLATED_CHARS:,} "
                                                      "characters through `${VAR}` references; not expanded"))
        known[key] = value
        entries.append(EnvEntry(key, value, start_line, unresolved))
        position, line = end + 1, line + 1
    return DotenvFile(tuple(entries), tuple(errors))


TEMPLATE_SUFFIXES = ("example", "sample", "template", "dist", "tmpl", "defaults")


def is_template(name: str) -> bool:
    """`.env.example` and friends document variables; their values are placeholders."""
    lowered = name.lower()
    return any(lowered.endswith("." + suffix) or lowered.endswith("_" + suffix) for suffix in TEMPLATE_SUFFIXES)
