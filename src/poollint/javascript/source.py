"""Parses TypeScript and JavaScript with tree-sitter and runs the few queries the facts need.

Queries run in tree-sitter's C code: walking every node from Python would be ten times
slower than parsing. Supports the python bindings' two query APIs (0.23/0.24 and 0.25+).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Iterator

import tree_sitter

TSX_SUFFIXES = (".tsx",)
TYPESCRIPT_SUFFIXES = (".ts", ".mts", ".cts")

CALLS = "(call_expression function: (_) @function) @call"


@functools.lru_cache(maxsize=None)
def language_for(suffix: str) -> Any:
    if suffix in TSX_SUFFIXES or suffix in TYPESCRIPT_SUFFIXES:
        import tree_sitter_typescript

        grammar = tree_sitter_typescript.language_tsx() if suffix in TSX_SUFFIXES \
            else tree_sitter_typescript.language_typescript()
    else:
        import tree_sitter_javascript

        grammar = tree_sitter_javascript.language()
    return tree_sitter.Language(grammar)


@functools.lru_cache(maxsize=None)
def _parser(suffix: str) -> Any:
    return tree_sitter.Parser(language_for(suffix))


@functools.lru_cache(maxsize=None)
def _query(suffix: str, source: str) -> Any:
    language = language_for(suffix)
    return tree_sitter.Query(language, source)


def parse(path: Path, data: bytes) -> Any:
    """The tree of one file; JSX in `.js` files parses with the JavaScript grammar."""
    return _parser(_grammar_key(path)).parse(data)


def _grammar_key(path: Path) -> str:
    suffix = path.suffix
    if suffix in TSX_SUFFIXES or suffix in TYPESCRIPT_SUFFIXES:
        return suffix if suffix == ".tsx" else ".ts"
    return ".js"


def captures(path: Path, node: Any, source: str, name: str) -> Iterator[Any]:
    """The nodes captured as `name` by query `source` below `node`, in document order."""
    query = _query(_grammar_key(path), source)
    cursor_type = getattr(tree_sitter, "QueryCursor", None)
    found = cursor_type(query).captures(node) if cursor_type is not None else query.captures(node)
    if isinstance(found, dict):
        nodes = found.get(name, [])
    else:  # bindings before 0.23: a list of (node, capture name)
        nodes = [n for n, capture in found if capture == name]
    return iter(sorted(nodes, key=lambda n: n.start_byte))
