"""Decoding and parsing one Python file; failures become the reason DBP000 reports."""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Optional, Union

import libcst as cst


@dataclass(frozen=True)
class ParseFailure:
    reason: str
    line: int = 1
    column: int = 1


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


_LINE_IN_MESSAGE = re.compile(r"@ (\d+):(\d+)")


def parse(text: str) -> Union[cst.Module, ParseFailure]:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "syntax error"
        return ParseFailure(f"syntax error: {first}", error.raw_line, error.raw_column + 1)
    except RecursionError:
        return ParseFailure("too deeply nested for the parser")
    except (MemoryError, ValueError) as error:
        return ParseFailure(f"cannot parse: {error.__class__.__name__}: {error}")


def first_line(text: Optional[str]) -> str:
    return (text or "").splitlines()[0] if text else ""
