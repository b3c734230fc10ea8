"""`poollint check --add-noqa`: a `# noqa: CODE` for every finding, so that a project adopting poollint
starts clean and fails only on new code (ruff's `--add-noqa`)."""
from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from poollint.engine.files import is_config_file, is_python_file
from poollint.findings import Finding
from poollint.engine.suppress import NOQA, SLASH_NOQA, noqa_codes
from poollint.limits import read_bytes


@dataclass
class NoqaResult:
    added: int = 0
    files: int = 0
    skipped: list[str] = field(default_factory=list)  # `path:line: why` of findings left as they were


def add_noqa(findings: Sequence[Finding]) -> NoqaResult:
    """Python: `# noqa: CODES` at the end of the finding's line, merged with a noqa already there.
    Configuration files: a `# noqa: CODES` line above it (`//` in schema.prisma), which poollint reads
    as covering the next line and which keeps `.env` values free of trailing comments."""
    result = NoqaResult()
    by_path: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for finding in findings:
        by_path[finding.path][finding.line].add(finding.code)
    for shown, lines in sorted(by_path.items()):
        path = Path(shown)
        if path.is_symlink():  # a comment written through a link would land in a file outside the run
            result.skipped += [f"{shown}:{line}: a symlink, left as it is" for line in sorted(lines)]
            continue
        try:
            data = read_bytes(path, "config" if is_config_file(path) else "python")
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            result.skipped += [f"{shown}:{line}: cannot be read as UTF-8" for line in sorted(lines)]
            continue
        if is_python_file(path) and not is_config_file(path):
            new_text, added = _python(shown, text, lines, result)
        else:
            new_text, added = _configuration(path, text, lines)
        if added:
            path.write_bytes(new_text.encode("utf-8"))
            result.added += added
            result.files += 1
    return result


def _line_ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _python(shown: str, text: str, wanted: dict[int, set[str]], result: NoqaResult) -> tuple[str, int]:
    closed = _lines_a_comment_cannot_end(text)
    lines = text.splitlines(keepends=True)
    added = 0
    for number, codes in sorted(wanted.items()):
        if not 1 <= number <= len(lines):
            continue
        if number in closed:
            result.skipped.append(f"{shown}:{number}: the line ends inside a string or continues with `\\`; "
                                  f"add the noqa by hand")
            continue
        line = lines[number - 1]
        body, ending = line[: len(line) - len(_line_ending(line))], _line_ending(line)
        present = noqa_codes(body)
        if present is not None and (not present or codes <= present):
            continue
        merged = ", ".join(sorted(codes | (present or set())))
        match = NOQA.search(body)
        body = (body[: match.start()].rstrip() if match else body.rstrip()) + f"  # noqa: {merged}"
        lines[number - 1] = body + (ending or "")
        added += 1
    return "".join(lines), added


def _lines_a_comment_cannot_end(text: str) -> set[int]:
    """Lines whose end is inside a string (a triple-quoted one goes on) or that end with a backslash."""
    closed: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                closed.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    for number, line in enumerate(text.splitlines(), start=1):
        if line.endswith("\\"):
            closed.add(number)
    return closed


def _configuration(path: Path, text: str, wanted: dict[int, set[str]]) -> tuple[str, int]:
    marker = "//" if path.suffix == ".prisma" else "#"
    lines = text.splitlines(keepends=True)
    ending = next((_line_ending(line) for line in lines if _line_ending(line)), "\n")
    added = 0
    for number in sorted(wanted, reverse=True):  # from the bottom, so the numbers above stay right
        if not 1 <= number <= len(lines):
            continue
        codes = wanted[number]
        above = lines[number - 2] if number >= 2 else ""
        present = noqa_codes(above, SLASH_NOQA if marker == "//" else NOQA) if above.lstrip().startswith(marker) else None
        if present is not None and (not present or codes <= present):
            continue
        indent = re.match(r"[ \t]*", lines[number - 1]).group(0)  # type: ignore[union-attr]
        lines.insert(number - 1, f"{indent}{marker} noqa: {', '.join(sorted(codes))}{ending}")
        added += 1
    return "".join(lines), added
