"""Lines as editors, git and Python count them: only `\\n`, `\\r\\n` and `\\r` end a line.

`str.splitlines()` also breaks at form feeds, `\\x1c`-`\\x1e`, `\\x85`, U+2028 and U+2029, so a
line number counted with it points below the line a user sees (and `# noqa` there is missed).
"""
from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_KEEPING = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def split_lines_keeping_ends(text: str) -> list[str]:
    return _LINE_BREAK_KEEPING.findall(text)


def _is_template_markup(line: str) -> bool:
    """Jinja, Django and Go template markup: `{% statement %}`, `{{ expression }}`, `{# comment #}`
    (statements may span lines, so either delimiter alone counts). Searched with `find`, not a
    regular expression: `{{.*}}` backtracks quadratically on a line of many `{` (a hostile
    `vercel.json` of 100,000 took seconds)."""
    if "{%" in line or "%}" in line:
        return True
    return any(0 <= line.find(opening) < line.rfind(closing) - 1
               for opening, closing in (("{{", "}}"), ("{#", "#}")))


def fails_on_template_markup(lines: "list[str] | tuple[str, ...]", line: int) -> bool:
    """Whether a parser's failure at `line` (1-based) is template markup: the file is a template
    (a cookiecutter project, a Jinja-rendered compose file, a Helm template outside `templates/`)
    that renders the format, not a broken instance of it. Parsers report at the markup's line or
    at the token after it, so the line before counts too."""
    return any(0 < number <= len(lines) and _is_template_markup(lines[number - 1])
               for number in (line, line - 1))
