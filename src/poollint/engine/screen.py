"""The cheap screen in front of libcst: which files could produce a Python finding at all.

Two stages. A bytes regex keeps files that name a catalog library. The stdlib
`ast` parser (about ten times faster than libcst) then resolves the file's
imports and keeps it only if it calls something the catalog knows: a
constructor or transaction function by qualified name, or a transaction or
checkout method while importing a catalog library. Everything else cannot
produce a finding and is never parsed with libcst. A file `ast` rejects goes on
to libcst, which reports it as DBP000.
"""
from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from typing import Optional

from poollint.catalog.model import Catalog
from poollint.pyast import dotted_name
from poollint.engine.parse import ParseFailure, decode


@dataclass(frozen=True)
class ScreenWords:
    """What the screen looks for, derived once per catalog."""

    pattern: "re.Pattern[bytes]"
    qualified: frozenset[str]  # constructors and transaction functions
    methods: frozenset[str]  # transaction and checkout method names
    packages: frozenset[str]  # top-level packages of the catalog's libraries

    @classmethod
    def from_catalog(cls, catalog: Catalog, extra_words: frozenset[str] = frozenset()) -> "ScreenWords":
        words = sorted(catalog.screen_words() | extra_words, key=len, reverse=True)
        pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(w.encode()) for w in words) + rb")\b")
        qualified = frozenset(n for spec in catalog.clients for n in spec.constructors) | frozenset(
            n for spec in catalog.transactions for n in spec.functions
        ) | extra_words
        methods = frozenset(catalog.transaction_methods()) | frozenset(catalog.checkout_methods())
        packages = frozenset(n.split(".")[0] for n in qualified) | frozenset(
            spec.library.split("-")[0] for spec in catalog.transactions
        )
        return cls(pattern, qualified, methods, packages)


def screen_source(data: bytes, words: Optional[ScreenWords]) -> "bool | ParseFailure":
    """False: no finding possible. True: analyze with libcst. A ParseFailure: report it (DBP000).

    With `words` None every valid file is analyzed (the unscreened mode); the syntax check still runs.
    """
    if words is not None and not words.pattern.search(data):
        return False
    text = decode(data)
    if isinstance(text, ParseFailure):
        return text
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like are not our business
            tree = ast.parse(text)
    except SyntaxError as error:
        return ParseFailure(f"syntax error: {error.msg}", error.lineno or 1, error.offset or 1)
    except (RecursionError, MemoryError):
        return ParseFailure("too deeply nested to parse")
    except ValueError as error:
        return ParseFailure(f"cannot parse: {error}")
    return True if words is None else _calls_catalog(tree, words)


def _resolve(dotted: str, aliases: dict[str, str]) -> str:
    head, _, rest = dotted.partition(".")
    resolved = aliases.get(head, head)
    return f"{resolved}.{rest}" if rest else resolved


def _calls_catalog(tree: ast.AST, words: ScreenWords) -> bool:
    aliases: dict[str, str] = {}
    callees: list[ast.expr] = []  # called functions and decorators
    imports_library = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callees.append(node.func)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            callees.extend(node.decorator_list)  # `@transaction.atomic` is not a call
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                aliases[alias.asname or top] = alias.name if alias.asname else top
                imports_library = imports_library or top in words.packages
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            imports_library = imports_library or module.split(".")[0] in words.packages
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{module}.{alias.name}" if module else alias.name
    for func in callees:
        if imports_library and isinstance(func, ast.Attribute) and func.attr in words.methods:
            return True
        dotted = dotted_name(func)
        if dotted is not None and (dotted in words.qualified or _resolve(dotted, aliases) in words.qualified):
            return True
    return False
