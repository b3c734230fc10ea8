"""Decoding and parsing one Python file; failures become the reason DBP000 reports."""
from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    import libcst as cst


@dataclass(frozen=True)
class ParseFailure:
    reason: str
    line: int = 1
    column: int = 1


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(text: str) -> list[str]:
    """Lines as Python counts them: str.splitlines() also breaks at form feeds, \x1e, \u2028..."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def decode(data: bytes) -> Union[str, ParseFailure]:
    """Source text per PEP 263 (BOM, coding cookie, else UTF-8)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        return ParseFailure(f"cannot decode: {error.msg if hasattr(error, 'msg') else error}")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        line = data[: getattr(error, "start", 0)].count(b"\n") + 1
        return ParseFailure(f"cannot decode as {encoding}: {error.__class__.__name__}", line)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return ParseFailure("source contains a null byte", line)
    return text


def parse(text: str) -> Union["cst.Module", ParseFailure]:
    import libcst as cst  # only files that pass the screen pay for libcst

    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return _explain_syntax_error(text, error)
    except RecursionError:
        return ParseFailure("too deeply nested for the parser")
    except (MemoryError, ValueError) as error:
        return ParseFailure(f"cannot parse: {error.__class__.__name__}: {error}")


def _explain_syntax_error(text: str, error: "cst.ParserSyntaxError") -> ParseFailure:
    """CPython's wording and line when it agrees the file is invalid: users know those messages."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the file's own warnings are not ours to print
            ast.parse(text)
    except SyntaxError as python_error:
        return ParseFailure(f"syntax error: {python_error.msg}", python_error.lineno or 1, python_error.offset or 1)
    except (RecursionError, MemoryError, ValueError):
        pass
    else:
        return ParseFailure(
            f"syntax not supported by libcst (Python accepts it): {error.message}", error.raw_line, error.raw_column + 1
        )
    return ParseFailure(f"syntax error: {error.message}", error.raw_line, error.raw_column + 1)
