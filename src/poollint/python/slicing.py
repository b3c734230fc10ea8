"""Which definitions of a screened file libcst has to see.

libcst costs about ten times `ast` per line, and a large file that passes the screen
(a test module, a views module) usually has a few functions that touch a database
library among hundreds that do not. Those others are blanked out before libcst parses
the file: each becomes a `pass` on its first line and empty lines after it, so every
kept line keeps its number and its columns, and findings, noqa comments and fixes
line up with the real file.

What is kept: every statement that is not a function or class definition; every
function or method that calls something the screen looks for; and, until nothing
changes, every definition connected to a kept one by name in either direction (a
helper a transaction calls, a route that calls a factory of the module, the `main()`
a `__main__` block calls, a `tearDown` of a kept test case, where a class with a kept `__init__`
is built and its subclasses). A class is kept, with
its non-method statements, when any of its methods is, and its set-up and tear-down
methods and dunder methods come with it.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Optional, Union

from poollint.catalog.model import Catalog
from poollint.python.screen import (ScreenWords, file_names, hands_a_session_on, mentions_external_call, project_imports,
                                    routers_given_a_request_session, triggers)
from poollint.pyast import Outline, definition_start

_Definition = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


@dataclass
class _Unit:
    """A top-level function or class, or a method of a top-level class."""

    node: _Definition
    owner: Optional["_Unit"] = None  # the class of a method
    names: set[str] = field(default_factory=set)  # bare names used inside
    attributes: set[str] = field(default_factory=set)  # attribute names used inside (`self.helper`)
    kept: bool = False
    barred: bool = False  # never kept: a test's body in a test module, which no rule reads


def relevant_source(text: str, tree: ast.Module, words: ScreenWords, *,
                    always_kept_methods: frozenset[str] = frozenset(), outline: Optional[Outline] = None,
                    test_file: bool = False) -> str:
    """`text` with the definitions no rule can report on blanked out (the same text when none is).

    `outline`: the tree's, when the caller has it already. `test_file`: the file is a test module
    (paths.is_test_path, as FileContext.is_test_file), where every rule leaves the bodies of tests
    alone (their fixtures and set-up methods are DBP303's): a function or method named `test*` is
    never kept, whatever it calls, unless the module is a script too (its own code may run them).
    """
    outline = outline or Outline(tree)
    aliases, imports_library = file_names(outline, words)
    from_project = project_imports(outline, words)
    external_in_file = mentions_external_call(outline, words, aliases, from_project)
    # a test module that is also a script (`if __name__ == "__main__": asyncio.run(test_trigger())`, a
    # shebang, a top-level call) runs its functions as the script's code, which the release rules judge
    tests_unread = test_file and not text.startswith("#!") and not any(
        isinstance(statement, (ast.If, ast.Expr, ast.With, ast.AsyncWith, ast.For, ast.While, ast.Try))
        and not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))  # a docstring
        for statement in tree.body)
    routers = routers_given_a_request_session(tree, words, aliases)
    units: list[_Unit] = []
    seeds: set[str] = set()  # names used by the statements that always stay
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            units.append(_Unit(statement))
        elif isinstance(statement, ast.ClassDef):
            owner = _Unit(statement)
            units.append(owner)
            for member in statement.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    units.append(_Unit(member, owner))
                else:
                    seeds |= _names_in(member)
            seeds |= _names_in_header(statement)
        else:
            seeds |= _names_in(statement)
    if not units:
        return text
    functions = [unit for unit in units if not isinstance(unit.node, ast.ClassDef)]
    inside_of = dict(zip(map(id, functions), outline.partition([unit.node for unit in functions])))
    for unit in units:
        if isinstance(unit.node, ast.ClassDef):
            unit.names = _names_in_header(unit.node)
            continue
        inside = inside_of[id(unit)]
        unit.names = {node.id for node in inside.names}
        unit.attributes = {node.attr for node in inside.attributes}
        if tests_unread and unit.node.name.startswith("test"):
            unit.barred = True
            continue
        direct, holds = triggers(inside, words, aliases, imports_library)
        holds = holds or _declared_on(unit.node, routers)
        # a unit that only makes an external call matters when a kept one calls it (kept below as
        # connected); one called from another module's transaction is read there, whole
        unit.kept = direct or (external_in_file and holds) or (
            hands_a_session_on(inside, words, aliases, from_project) and mentions_external_call(inside, words, aliases, from_project))
        if not unit.kept and unit.owner is None and unit.node.name in seeds:
            unit.kept = True
    _keep_connected(units, always_kept_methods)
    # a method of a removed class goes with it
    removed = [u.node for u in units if not u.kept and (u.owner is None or u.owner.kept)]
    if not removed:
        return text
    return _blank_out(text, removed)


def _declared_on(node: _Definition, routers: frozenset[str]) -> bool:
    """A route declared on one of `routers` (`@router.post(...)`), whose dependencies run before it."""
    return bool(routers) and not isinstance(node, ast.ClassDef) and any(
        isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
        and isinstance(decorator.func.value, ast.Name) and decorator.func.value.id in routers
        for decorator in node.decorator_list)


def slice_for_rules(text: str, tree: ast.Module, words: ScreenWords, catalog: Catalog,
                    outline: Optional[Outline] = None, test_file: bool = False) -> str:
    """`relevant_source` with the catalog's set-up and tear-down methods kept with their class."""
    guards = catalog.guards
    return relevant_source(text, tree, words, always_kept_methods=guards.setup_methods | guards.teardown_methods,
                           outline=outline, test_file=test_file)


def _keep_connected(units: list[_Unit], always_kept_methods: frozenset[str]) -> None:
    """Keeps what kept definitions use (helpers, release functions), and what uses a kept top-level
    function by its bare name (`Depends(get_db)`, a caller of `get_conn()`), or a class whose
    `__init__` is kept (where it is built, its subclasses), or a kept method of its own class through
    `self.`."""
    changed = True
    while changed:
        changed = False
        used_by_kept: set[str] = set()
        for unit in units:
            if unit.kept:
                used_by_kept |= unit.names | unit.attributes
        kept_functions = {u.node.name for u in units if u.kept and u.owner is None
                          and not isinstance(u.node, ast.ClassDef)}
        # a class whose `__init__` is kept runs it where it is built and from its subclasses' `__init__`:
        # whether that is once (client_flow's run-once callers) is read from them
        kept_functions |= {u.owner.node.name for u in units if u.kept and u.owner is not None
                           and u.node.name == "__init__"}
        for unit in units:  # a class with a kept method is kept
            if unit.kept and unit.owner is not None and not unit.owner.kept:
                unit.owner.kept = True
                changed = True
        for unit in units:
            if unit.kept or unit.barred:
                continue
            owner = unit.owner
            kept_siblings = {u.node.name for u in units if u.kept and owner is not None and u.owner is owner}
            if unit.node.name in used_by_kept or unit.names & kept_functions or unit.attributes & kept_siblings \
                    or (owner is not None and owner.kept and _always_with_class(unit.node.name, always_kept_methods)):
                unit.kept = True
                changed = True
            if unit.kept and owner is not None and not owner.kept:
                owner.kept = True


def _always_with_class(name: str, always_kept_methods: frozenset[str]) -> bool:
    return name in always_kept_methods or (name.startswith("__") and name.endswith("__"))


def _names_in(node: ast.AST) -> set[str]:
    inside = Outline(node)
    return {child.id for child in inside.names} | {child.attr for child in inside.attributes}


def _names_in_header(node: ast.ClassDef) -> set[str]:
    names: set[str] = set()
    for part in (*node.bases, *node.keywords, *node.decorator_list):
        names |= _names_in(part)
    return names


def _blank_out(text: str, removed: list[_Definition]) -> str:
    parts = _LINE_BREAK.split(text)  # line, break, line, break, ..., last line
    lines = parts[0::2]
    breaks = parts[1::2] + [""]
    for node in removed:
        first = definition_start(node)[0]
        last = node.end_lineno or node.lineno
        if first < 1 or last > len(lines):
            continue
        opening = lines[first - 1]
        indent = opening[: len(opening) - len(opening.lstrip(" \t\f"))]
        lines[first - 1] = f"{indent}pass"
        for number in range(first, last):
            lines[number] = ""
    return "".join(line + end for line, end in zip(lines, breaks))
