"""Decoding and parsing one Python file; failures become the reason DBP000 reports."""
from __future__ import annotations

import ast
import io
import re
import sys
import threading
import tokenize
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, TypeVar, Union

from poollint.config.lines import fails_on_template_markup, split_lines, split_lines_keeping_ends
from poollint.limits import MAX_CST_CHARS, megabytes

if TYPE_CHECKING:
    import libcst as cst


@dataclass(frozen=True)
class ParseFailure:
    reason: str
    line: int = 1
    column: int = 1
    # valid syntax of a newer Python than the one running: `ast` refuses it, libcst reads it, so the
    # rules still check the file (unscreened) instead of reporting it as DBP000
    newer: bool = False
    # the error falls on Jinja/Go template markup: a template that renders Python (a cookiecutter
    # project's files), not broken Python; skipped without a finding, as Helm chart templates are
    template: bool = False


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

    if len(text) > MAX_CST_CHARS:
        return ParseFailure(f"too large to analyze ({megabytes(len(text))}; the limit is {megabytes(MAX_CST_CHARS)})")
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return _explain_syntax_error(text, error)
    except RecursionError:
        return ParseFailure("too deeply nested for the parser")
    except (MemoryError, ValueError) as error:
        return ParseFailure(f"cannot parse: {error.__class__.__name__}: {error}")


# How many statements libcst may refuse in one file before the file is given up.
_MAX_SKIPPED_STATEMENTS = 5


def parse_skipping_unsupported(text: str) -> "tuple[Union[cst.Module, ParseFailure], list[ParseFailure]]":
    """Like `parse`, but a statement Python accepts and libcst does not (`(x): int = 1`) is blanked
    out and reported on its own line, so the rest of the file is still analyzed."""
    skipped: list[ParseFailure] = []
    for _ in range(_MAX_SKIPPED_STATEMENTS + 1):
        module = parse(text)
        if not isinstance(module, ParseFailure) or not module.reason.startswith(_UNSUPPORTED):
            return module, skipped
        blanked = _blank_statement(text, module.line)
        if blanked is None:
            return module, skipped
        text, line = blanked
        skipped.append(ParseFailure(f"{_UNSUPPORTED}; this statement is skipped, the rest of the file is checked",
                                    line))
    return parse(text), skipped


_UNSUPPORTED = "syntax not supported by libcst (Python accepts it)"


def _blank_statement(text: str, error_line: int) -> "Optional[tuple[str, int]]":
    """The text with the simple statement libcst stopped at replaced by `pass` (lines kept), and its line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    candidates = [node for node in ast.walk(tree)
                  if isinstance(node, ast.stmt) and not hasattr(node, "body")
                  and node.lineno <= error_line <= (node.end_lineno or node.lineno) + 1]
    if not candidates:
        return None
    # libcst may stop on the line after the statement: the one ending nearest the error wins
    statement = min(candidates, key=lambda node: (abs((node.end_lineno or node.lineno) - error_line), -node.lineno))
    lines = split_lines_keeping_ends(text)
    first, last = statement.lineno - 1, (statement.end_lineno or statement.lineno) - 1
    if last >= len(lines) or statement.end_col_offset is None:
        return None
    head = lines[first].encode("utf-8")[: statement.col_offset].decode("utf-8", "replace")
    tail = lines[last].encode("utf-8")[statement.end_col_offset:].decode("utf-8", "replace")
    replacement = [head + "pass" + ("\n" if first != last else tail)]
    replacement += ["\n"] * (last - first - 1)
    if first != last:
        replacement.append(" " * len(head) + "pass" + tail)
    return "".join(lines[:first] + replacement + lines[last + 1:]), statement.lineno


def newer_python_needed(text: str, python_message: str) -> Optional[str]:
    """When the running Python refuses the file but libcst reads it as newer syntax: which version it needs
    ("3.12"), or "a newer" when the feature is not one we name; None when the file is simply invalid."""
    # an f-string spanning lines (PEP 701) is an "unterminated string literal" before Python 3.12
    # ("EOL while scanning string literal" before 3.10)
    f_string = "f-string" in python_message or (
        python_message.startswith(("unterminated string literal", "EOL while scanning string literal"))
        and _F_STRING.search(text) is not None)
    # Python 3.9 says only "invalid syntax" to `except A, B:`
    pep_758 = python_message == _UNPARENTHESIZED_EXCEPT or _EXCEPT_WITHOUT_PARENTHESES.search(text) is not None
    if sys.version_info >= (3, 14) or len(text) > MAX_CST_CHARS or not (
            f_string or pep_758 or _NEWER_SYNTAX_HINT.search(text)):
        return None
    import libcst as cst

    try:
        module = with_deep_stack(cst.parse_module, text)  # libcst's native parser needs a deep stack
    except (cst.ParserSyntaxError, RecursionError, MemoryError, ValueError):
        return None
    # Python 3.12 syntax: `type X = ...` and type parameters (PEP 695); f-strings reusing their quotes
    try:
        needs_312 = any(isinstance(node, (cst.TypeAlias, cst.TypeParameters)) for node in _walk(module))
    except RecursionError:
        needs_312 = False
    if needs_312 or f_string:
        return "3.12" if sys.version_info < (3, 12) else "a newer"
    if pep_758:
        return "3.14"
    return "a newer"


# How Python 3.13 and earlier refuse `except A, B:`, which Python 3.14 reads as `except (A, B):` (PEP 758)
_UNPARENTHESIZED_EXCEPT = "multiple exception types must be parenthesized"
_EXCEPT_WITHOUT_PARENTHESES = re.compile(r"^[ \t]*except\*?[ \t]+[^(\n:#]*,[^\n:#]*:", re.MULTILINE)
# What newer syntax starts with (`type X = ...`, `def f[T](...)`, `class C[T]:`, `except*`, `match x:`):
# libcst is asked only then or on the messages above, so an ordinary syntax error costs no second parse,
# and a file beyond CPython's limits (`too many nested parentheses`) is not taken for newer syntax
_NEWER_SYNTAX_HINT = re.compile(r"^[ \t]*(?:type[ \t]+\w+|(?:async[ \t]+)?def[ \t]+\w+[ \t]*\[|class[ \t]+\w+[ \t]*\["
                                r"|except[ \t]*\*|match[ \t].*:[ \t]*$)", re.MULTILINE)
# an f-string's opening quote (`f"`, `rf'`, `Fr"`)
_F_STRING = re.compile(r"""(?<![\w'"])[rR]?[fF][rR]?['"]""")


def _walk(node: "cst.CSTNode") -> "Iterator[cst.CSTNode]":
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def syntax_failure(text: str, error: SyntaxError) -> ParseFailure:
    """What the running Python's refusal means: a syntax error, or valid newer syntax (named by the
    Python version it needs) that libcst reads."""
    message = error.msg
    if fails_on_template_markup(split_lines(text), error.lineno or 1):
        return ParseFailure(f"a template, not Python (markup on line {error.lineno or 1})",
                            error.lineno or 1, error.offset or 1, template=True)
    needed = newer_python_needed(text, message)
    if needed is None:
        return ParseFailure(f"syntax error: {message}", error.lineno or 1, error.offset or 1)
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    version = f"Python {needed} or later" if needed[0].isdigit() else "a newer Python"
    return ParseFailure(f"needs {version} (poollint runs on Python {running}, which reports: {message})",
                        error.lineno or 1, error.offset or 1, newer=True)


def _explain_syntax_error(text: str, error: "cst.ParserSyntaxError") -> ParseFailure:
    """CPython's wording and line when it agrees the file is invalid: users know those messages."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the file's own warnings are not ours to print
            ast.parse(text)
    except SyntaxError as python_error:
        return syntax_failure(text, python_error)
    except (RecursionError, MemoryError, ValueError):
        pass
    else:
        return ParseFailure(f"{_UNSUPPORTED}: {error.message}", error.raw_line, error.raw_column + 1)
    return ParseFailure(f"syntax error: {error.message}", error.raw_line, error.raw_column + 1)


T = TypeVar("T")

# libcst's native parser and its recursive visitors need more stack than a default
# thread has for deeply nested (but valid) code; a crash there would kill the run.
_DEEP_STACK_BYTES = 512 * 1024 * 1024
_DEEP_RECURSION_LIMIT = 60_000


def with_deep_stack(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    outcome: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            outcome.append((True, function(*args, **kwargs)))
        except BaseException as error:  # re-raised in the calling thread
            outcome.append((False, error))

    previous_stack = threading.stack_size(_DEEP_STACK_BYTES)
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous_limit, _DEEP_RECURSION_LIMIT))
    try:
        thread = threading.Thread(target=target, name="poollint-analyze")
        thread.start()
    finally:
        threading.stack_size(previous_stack)
    thread.join()
    sys.setrecursionlimit(previous_limit)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
