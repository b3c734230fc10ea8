"""Other modules of the project, parsed with libcst on demand: DBP2xx follows calls into them.

Only a transaction or checkout that calls a function of another project module loads that
module; each file is parsed once per process. Every file read is recorded, so that a cached
result that depends on it is dropped when it changes (engine/cache.py).
"""
from __future__ import annotations

import ast
import os
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from poollint.python.facts import ParameterUses, borrowed_parameters, parameter_positions, parameter_uses
from poollint.python.source import ParseFailure, decode, parse
from poollint.limits import read_bytes
from poollint.pyast import word_pattern
from poollint.python.reads import DECLARING_FILES_READ, DEPLOYMENT_FILES_READ, INDEX_READ, file_digest, record_file_read

if TYPE_CHECKING:
    import libcst as cst

    from poollint.python.cst.context import FileContext
    from poollint.python.project import ProjectIndex

# (path, content digest, settings) -> the module's context, or None when it does not parse; the most
# recently used last. A worker keeps them across files (a project's modules are asked for again and
# again), but only up to a budget of source characters: a libcst tree takes tens of times its source.
_LOADED: "OrderedDict[tuple[str, str, str], Optional[FileContext]]" = OrderedDict()
LOADED_BUDGET_CHARS = 600_000


def forget_loaded_modules() -> None:
    """Drop the least recently used modules' contexts beyond the budget. Called between files only:
    while a file is analysed, its rules may hold nodes of any module it loaded."""
    budget = LOADED_BUDGET_CHARS
    total = sum(len(context.source) for context in _LOADED.values() if context is not None)
    while _LOADED and total > budget:
        _, context = _LOADED.popitem(last=False)
        if context is not None:
            total -= len(context.source)


def reads_still_hold(reads: dict[str, str], index: "Optional[ProjectIndex]" = None) -> bool:
    """Whether every recorded file still has the content it had when it was read, and the project
    index still gives every answer it gave."""
    for path, digest in reads.items():
        if path.startswith(INDEX_READ):
            if index is None or file_digest(repr(index.answer(path[len(INDEX_READ):])).encode()) != digest:
                return False
            continue
        if path.startswith(DECLARING_FILES_READ):
            from poollint.python.requirements import declaring_files_digest

            if declaring_files_digest(Path(path[len(DECLARING_FILES_READ):])) != digest:
                return False
            continue
        if path.startswith(DEPLOYMENT_FILES_READ):
            from poollint.python.processes import deployment_files_digest

            if deployment_files_digest(Path(path[len(DEPLOYMENT_FILES_READ):])) != digest:
                return False
            continue
        try:
            if file_digest(read_bytes(Path(path), "python")) != digest:
                return False
        except OSError:
            return False
    return True


def defining_module(index: "ProjectIndex", qualified_name: str) -> Optional[tuple[str, str]]:
    """(module, name in it) for `app.services.notify` when app/services.py is a module of the project."""
    modules = _modules_by_name(index)
    parts = qualified_name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        if module in modules:
            return module, ".".join(parts[cut:])
    return None


def project_definition(index: "ProjectIndex", qualified_name: str, settings, _depth: int = 0,
                       current: Optional["FileContext"] = None) -> Optional[tuple["cst.CSTNode", "FileContext"]]:
    """The top-level function or class of a project module that `qualified_name` names, and that
    module's context; through a package's `from .util import *` or `from .util import DBConn` too
    (`database.DBConn` defined in database/util.py). `current`: the context of the file being analysed, used as is for its own
    module (its definitions as the rules see them) instead of parsing that module again whole."""
    found = defining_module(index, qualified_name)
    if found is None or "." in found[1]:
        return None
    context = current if current is not None and current.module_name == found[0] \
        else module_context(index, found[0], settings)
    if context is None:
        return None
    definition = context.module_functions.get(found[1]) or context.module_classes.get(found[1])
    if definition is not None:
        return definition, context
    # a package's `from .system_models import log_system_event`, imported from the package
    imported = context.imports.get(found[1])
    if _depth < 2 and imported is not None and imported != qualified_name:
        through = project_definition(index, imported, settings, _depth + 1)
        if through is not None:
            return through
    # star-imported modules are parsed only for a name some rule can use: a project scope, a factory,
    # or a callable that may reach an external call (the index knows each by its last part)
    name = found[1]
    if _depth < 2 and context.star_imports and (
            name in index.screen_scopes() or index.names_a_factory(name) or index.may_reach_by_name(name)):
        for star in context.star_imports:
            if star != found[0]:
                through = project_definition(index, f"{star}.{found[1]}", settings, _depth + 1)
                if through is not None:
                    return through
    return None


def project_class(context: "FileContext", qualified: str, settings,
                  other_modules: bool = True) -> "Optional[tuple[cst.ClassDef, FileContext]]":
    """The project class `qualified` names, with its module's context: a class of `context`'s own
    module as the rules see it (also without a project index), else (`other_modules`) one another
    module defines."""
    import libcst as cst

    found = _own_or_project_definition(context, qualified, settings, other_modules)
    return (found[0], found[1]) if found is not None and isinstance(found[0], cst.ClassDef) else None


def project_function(context: "FileContext", qualified: str,
                     settings) -> "Optional[tuple[cst.FunctionDef, FileContext]]":
    """The top-level project function `qualified` names, with its module's context, as project_class."""
    import libcst as cst

    found = _own_or_project_definition(context, qualified, settings, True)
    return (found[0], found[1]) if found is not None and isinstance(found[0], cst.FunctionDef) else None


def _own_or_project_definition(context: "FileContext", qualified: str, settings,
                               other_modules: bool) -> "Optional[tuple[cst.CSTNode, FileContext]]":
    local = qualified[len(context.module_name) + 1:] if context.module_name else qualified
    if qualified == context.module_qualified(local):
        own = context.module_classes.get(local) or context.module_functions.get(local)
        if own is not None:
            return own, context
    if not other_modules or context.index is None:
        return None
    return project_definition(context.index, qualified, settings, current=context)


def class_method(context: "FileContext", klass: "cst.ClassDef", name: str, settings, inherited: bool = True,
                 _depth: int = 0) -> Optional[tuple["cst.FunctionDef", "cst.ClassDef", "FileContext"]]:
    """The method `name` of `klass` (a class of `context`'s module): its own, or (`inherited`) one it
    inherits from a project base class of this module or another (`self.get_redis()` of BaseCrawlOps),
    three levels up at most; with the class that defines it and that class's module context."""
    import libcst as cst

    for statement in klass.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return statement, klass, context
    if not inherited or _depth >= 3 or context.index is None:
        return None
    for found in base_classes(context, klass, settings):
        if found is not None:
            method = class_method(found[1], found[0], name, settings, _depth + 1)
            if method is not None:
                return method
    return None


def base_classes(context: "FileContext", klass: "cst.ClassDef",
                 settings) -> "list[Optional[tuple[cst.ClassDef, FileContext]]]":
    """Each base of `klass` other than `object`: the project class it names with its module's context,
    or None for a base poollint cannot read (a library's, a call)."""
    import libcst as cst

    bases: "list[Optional[tuple[cst.ClassDef, FileContext]]]" = []
    for base in klass.bases:
        qualified = context.qualified_name(base.value)
        if qualified == "builtins.object" or (qualified is None and isinstance(base.value, cst.Name)
                                              and base.value.value == "object"):
            continue
        if not qualified or "(" in qualified:
            bases.append(None)
            continue
        local = qualified[len(context.module_name) + 1:] if qualified.startswith(f"{context.module_name}.") else ""
        found = (context.module_classes[local], context) if local in context.module_classes \
            else project_definition(context.index, qualified, settings) if context.index is not None else None
        bases.append((found[0], found[1]) if found is not None and isinstance(found[0], cst.ClassDef) else None)
    return bases


# (path, content digest) -> {function name: (parameter positions, parameter uses)} of another project
# module's functions, read for what a call hands them (facts.borrowed_parameters); summaries, no trees
_FUNCTIONS: "OrderedDict[tuple[str, str], dict[str, tuple[dict[str, int], ParameterUses]]]" = OrderedDict()
_FUNCTIONS_KEPT = 64


def borrowed_by(index: "ProjectIndex", qualified: str, releases: frozenset[str]) -> tuple[tuple[int, str], ...]:
    """The parameters of the project function `qualified` names that it only borrows (facts.py's
    borrowed_parameters), read with `ast`; () for anything else or a module that does not parse."""
    found = defining_module(index, qualified)
    read = _read_module(index, found[0]) if found is not None and "." not in found[1] else None
    if read is None:
        return ()
    path, data, digest = read
    key = (str(path), digest)
    if key not in _FUNCTIONS:
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = ast.Module(body=[], type_ignores=[])
        _FUNCTIONS[key] = {s.name: (parameter_positions(s), parameter_uses(s)) for s in tree.body
                           if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        while len(_FUNCTIONS) > _FUNCTIONS_KEPT:
            _FUNCTIONS.popitem(last=False)
    summary = _FUNCTIONS[key].get(found[1])  # type: ignore[index]
    return borrowed_parameters(*summary, releases) if summary is not None else ()


def module_names_word(index: "ProjectIndex", module: str, word: str) -> bool:
    """Whether another module of the project spells `word` anywhere (a call, an import, an attribute):
    a module that never does cannot name the function of that name, and need not be parsed to find its
    callers. True when the module cannot be read: only reading it could tell."""
    read = _read_module(index, module)
    return read is None or word_pattern([word]).search(read[1]) is not None


def module_context(index: "ProjectIndex", module: str, settings) -> Optional["FileContext"]:
    """The context of another module of the project, parsed whole, or None (missing, unparsable)."""
    from poollint.python.cst.context import FileContext

    read = _read_module(index, module)
    if read is None:
        return None
    path, data, digest = read
    key = (str(path), digest, settings.fingerprint())
    if key not in _LOADED:
        text = decode(data)
        tree: "cst.Module | ParseFailure | None" = parse(text) if not isinstance(text, ParseFailure) else None
        if tree is None or isinstance(tree, ParseFailure) or isinstance(text, ParseFailure):
            _LOADED[key] = None
        else:
            _LOADED[key] = FileContext(path, _shown(path), text, tree, settings, module_name=module, index=index)
    else:
        _LOADED.move_to_end(key)
    return _LOADED[key]


def _read_module(index: "ProjectIndex", module: str) -> Optional[tuple[Path, bytes, str]]:
    """Another module's path, bytes and digest, its read recorded (a cached result that depends on it is
    dropped when it changes); None when the project has no such module or it cannot be read (not a
    regular file, too large, a symlink out of the project: limits.UnreadableFile is an OSError)."""
    relative = _modules_by_name(index).get(module)
    if relative is None:
        return None
    path = index.root / relative
    try:
        data = read_bytes(path, "python", index.root)
    except OSError:
        return None
    digest = file_digest(data)
    record_file_read(str(path), digest)
    return path, data, digest


def _shown(path: Path) -> str:
    """Relative to the working directory when below it, as findings show paths."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path.as_posix()
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def _modules_by_name(index: "ProjectIndex") -> dict[str, str]:
    found = index.__dict__.get("_relative_by_module")
    if found is None:
        found = {module: relative for relative, module in index.paths.items()}
        index.__dict__["_relative_by_module"] = found
    return found
