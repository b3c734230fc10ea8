"""What import statements name: the one resolver every reader of Python code uses (the index's `ast`
reader, the libcst context of the rules, the screen, the URL scan, the bytes scan of unread files).

A statement is read into an `ImportStatement` by each reader's own tree type; `resolve_import` says
what it binds and which modules it loads, for an importer known by its module name (relative
imports) and the project's source roots (absolute imports of a service run from a folder below
the repository, `backend/`).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

_IMPORT_STATEMENT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)|import[ \t]+([^\n#;]*))",
    re.MULTILINE)


def resolve_relative(module: str, is_package: bool, level: int, base: Optional[str]) -> str:
    """`from ..db import x` in `module`: the absolute module it names (`app.db`)."""
    package = module.split(".") if module else []
    if not is_package:
        package = package[:-1]
    if level > 1:
        package = package[: max(len(package) - (level - 1), 0)]
    prefix = ".".join(package)
    if base:
        return f"{prefix}.{base}" if prefix else base
    return prefix


# Source roots: (module-name prefix, the packages right below it that the code imports by their own
# name). backend/entityservice/views.py importing `entityservice.database` runs with backend/ on its
# path: that name is the project's backend.entityservice.database. Shortest prefix first: Python 3
# resolves `import config` on sys.path, never beside the importing module, so
# backend/endpoints/users.py's `config` is backend/config.py.
SourceRoots = tuple[tuple[str, frozenset[str]], ...]


def infer_source_roots(imports: Mapping[str, Iterable[str]], modules: Iterable[str],
                       libraries: frozenset[str]) -> SourceRoots:
    """The source roots the project's absolute imports reveal: a module under a prefix imports a module
    (or package) of the project by its name below that prefix, and the name's first part is no
    top-level module of the project. What is imported must be a module there, not only a folder:
    `import requests` beside backend/requests/recorded.py is the library. A name the project also
    imports by its path from outside it is not what the bare name means: jupyterhub/app.py's
    `from .traitlets import Command` names jupyterhub/traitlets.py, so its `import traitlets` is the
    library. `libraries` (database libraries, the standard library) are never the project's."""
    names = set(modules)
    tops = {name.split(".")[0] for name in names}
    found: dict[str, set[str]] = {}
    for importer, targets in imports.items():
        parts = importer.split(".")
        prefixes = [".".join(parts[:end]) for end in range(1, len(parts))]
        for target in targets:
            head = target.split(".")[0]
            if not head or head in tops or head in libraries:
                continue
            for prefix in prefixes:
                if f"{prefix}.{target}" in names:
                    found.setdefault(prefix, set()).add(head)
                    break
    for importer, targets in imports.items():
        for target in targets:
            for prefix, heads in found.items():
                if target.startswith(f"{prefix}."):
                    head = target[len(prefix) + 1:].split(".")[0]
                    path = f"{prefix}.{head}"
                    if importer != path and not importer.startswith(f"{path}."):
                        heads.discard(head)  # imported by its path from outside it
    ordered = sorted(((prefix, heads) for prefix, heads in found.items() if heads),
                     key=lambda item: (len(item[0]), item[0]))
    return tuple((prefix, frozenset(heads)) for prefix, heads in ordered)


def roots_to_json(roots: SourceRoots) -> list[list[Any]]:
    return [[prefix, sorted(heads)] for prefix, heads in roots]


def roots_from_json(data: Any) -> SourceRoots:
    return tuple((prefix, frozenset(heads)) for prefix, heads in data)


def root_packages(roots: SourceRoots) -> frozenset[str]:
    """The packages the project's modules import by their own name below a source root (`entityservice`)."""
    return frozenset(head for _, heads in roots for head in heads)


def rooted(name: str, importer: str, roots: SourceRoots) -> str:
    """The project's name for an absolute import `name` written in module `importer` (see SourceRoots)."""
    if not roots or not name:
        return name
    head = name.split(".")[0]
    for prefix, heads in roots:
        if head in heads and importer.startswith(prefix + "."):
            return f"{prefix}.{name}"
    return name


@dataclass(frozen=True)
class Importer:
    """The module an import is written in: its dotted name ("" when unknown), whether it is a package's
    `__init__`, and the project's source roots."""

    module: str = ""
    is_package: bool = False
    roots: SourceRoots = ()


@dataclass(frozen=True)
class ImportStatement:
    """`import a.b as c` is names (("a.b", "c"),) and no source; `from ..db import x` is source "db",
    level 2, names (("x", None),); a star import names "*"."""

    names: tuple[tuple[str, Optional[str]], ...]
    source: Optional[str] = None
    level: int = 0

    @property
    def is_from(self) -> bool:
        return self.source is not None or self.level > 0


@dataclass
class Imported:
    """What one statement does to the importing module."""

    bindings: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    modules: set[str] = field(default_factory=set)  # modules it loads (`from app import db` may be app.db)
    source: str = ""  # the module a `from` import names ("" when a relative one climbs above the project)
    star_from: Optional[str] = None  # the module of `from x import *`


def resolve_import(statement: ImportStatement, importer: Importer = Importer()) -> Imported:
    """The one meaning of an import statement (see the module's docstring)."""
    found = Imported()
    if not statement.is_from:
        for name, alias in statement.names:
            full = rooted(name, importer.module, importer.roots)
            if alias:
                found.bindings[alias] = full
            else:
                top = name.split(".")[0]
                found.bindings[top] = rooted(top, importer.module, importer.roots)
            found.modules.add(full)
        return found
    base = resolve_relative(importer.module, importer.is_package, statement.level, statement.source) \
        if statement.level else rooted(statement.source or "", importer.module, importer.roots)
    found.source = base
    for name, alias in statement.names:
        if name == "*":
            found.star_from = base
            continue
        full = f"{base}.{name}" if base else name
        found.bindings[alias or name] = full
        found.modules.add(full)  # `from app import db` imports the module app.db
    if base:
        found.modules.add(base)
    return found


def ast_import(node: "ast.Import | ast.ImportFrom") -> ImportStatement:
    names = tuple((alias.name, alias.asname) for alias in node.names)
    if isinstance(node, ast.Import):
        return ImportStatement(names)
    return ImportStatement(names, node.module or "", node.level or 0)


def absolute_bindings(node: "ast.Import | ast.ImportFrom") -> dict[str, str]:
    """What an absolute import binds, for readers that qualify library names only (a relative import
    names the project, never a library)."""
    statement = ast_import(node)
    return {} if statement.level else resolve_import(statement).bindings


def imports_in_source(data: bytes, module: str, relative: str,
                      loading_calls: "Optional[ModuleLoadingCalls]" = None) -> tuple[str, ...]:
    """What a module imports (absolute, dotted), read from its text alone, as ModuleFacts.imports has
    it: for the files the index does not read (they name no database library), so that the project
    knows which modules load which (python/loading.py). Unrooted: the index roots them once
    it knows the source roots. `loading_calls` (module_loading_pattern): the modules the file loads by
    name through a call (`include("shop.urls")`) count too."""
    found: set[str] = set()
    if loading_calls is not None and any(name in data for name in loading_calls.names):
        found.update(name.decode("ascii", "replace") for name in loading_calls.pattern.findall(data))
    if b"import" not in data:  # a data module or a huge generated one: nothing to scan line by line
        return tuple(sorted(found))
    importer = Importer(module, relative.endswith("__init__.py"))
    for source, names, plain in _IMPORT_STATEMENT.findall(data):
        listed = [part.split()[0].decode("ascii", "replace") for part in (plain or names.strip(b"()")).split(b",")
                  if part.split()]
        if plain:
            statement = ImportStatement(tuple((name, None) for name in listed))
        else:
            text = source.decode("ascii", "replace")
            level = len(text) - len(text.lstrip("."))
            statement = ImportStatement(tuple((name, None) for name in listed if name.isidentifier()),
                                        text[level:], level)
        imported = resolve_import(statement, importer)
        if statement.is_from and not imported.source:
            continue  # `from . import x` in a top-level module: no module of the project
        found.update(imported.modules)
    return tuple(sorted(found))


@dataclass(frozen=True)
class ModuleLoadingCalls:
    """The catalog's `module-loading-calls`, as bytes to test a file for at once and a pattern for the
    module each call names."""

    names: tuple[bytes, ...]
    pattern: "re.Pattern[bytes]"


def module_loading_pattern(calls: "frozenset[str]") -> "Optional[ModuleLoadingCalls]":
    """Bytes of a call that loads a module named by its first argument, a string literal
    (`include("shop.urls")`, `include(("shop.urls", "shop"))`): the catalog's `module-loading-calls`."""
    if not calls:
        return None
    names = "|".join(re.escape(name) for name in sorted(calls))
    return ModuleLoadingCalls(tuple(f"{name}(".encode() for name in sorted(calls)), re.compile(
        rf"\b(?:{names})\([ \t]*\(?[ \t]*[\"']([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)[\"']".encode()))
