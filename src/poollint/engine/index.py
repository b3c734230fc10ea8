"""Pass one: per-module facts of a whole project (module-scope clients, factories, entry points), read with the stdlib `ast` and cached on disk by file size and mtime.

Rules of pass two ask a `ProjectIndex` about other modules: DBP103 (the same datasource built at
import time by several modules), and DBP101/DBP104 (factories defined in another module).
"""
from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

from poollint.catalog.model import Catalog
from poollint.pyast import Outline, dotted_name, word_pattern
from poollint.config.lines import split_lines
from poollint.config.urls import mask
from poollint.engine.files import frozen_heap, ignore_interrupts, is_built_in_excluded, is_test_path, resolved
from poollint.engine.parse import ParseFailure, decode
from poollint.engine.screen import (ScreenWords, ScreenedFile, content_digest, mentions_external_call, parse_text,
                                   screen_file)
from poollint.limits import read_bytes
from poollint.settings import Settings

logger = logging.getLogger(__name__)

PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", ".git", "poollint.toml", ".poollint.toml")
PROJECT_MARKERS_SET = frozenset(PROJECT_MARKERS)
INDEX_FORMAT = 4  # 4: call summaries (ModuleFacts.calls)
# How many factories deep a chain of factories returning factories is followed.
MAX_CHAIN_DEPTH = 4

_URL_KEYWORDS = ("url", "dsn", "conninfo", "database_url", "host")


# -- facts ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientSite:
    """A pool built while the module is imported: a constructor, or a call of a factory (`via`)."""

    library: str
    constructor: str  # qualified name of the catalog constructor, or of the factory when `via` is set
    display: str  # `create_engine()` as written
    datasource: Optional[str]  # "$DATABASE_URL", a masked URL literal, a qualified name; None if unknown
    line: int
    column: int  # 1-based, in characters
    via: str = ""  # qualified name of a project factory called at module scope, resolved later


@dataclass(frozen=True)
class Factory:
    """A project function (or class) that returns (or stores) a new pool-owning client when called."""

    name: str  # qualified: `app.db.get_engine`
    display: str  # `get_engine()`
    constructor: str  # qualified name of the catalog constructor it calls
    constructor_display: str  # `create_engine()`
    library: str
    datasource: Optional[str]
    cached: bool  # @lru_cache, @st.cache_resource, ...: one client per process
    line: int
    returns: str = ""  # qualified name of another project factory it returns (resolved later)
    # a class builds the client only when the caller passes nothing for this parameter
    # (`connection or self._new_engine()`): (name, position among the call's arguments)
    unless_passed: str = ""
    unless_position: int = -1


@dataclass(frozen=True)
class ModuleObject:
    """A module-scope name bound to what a library (or a project factory) built: `engine = create_engine(...)`.

    Another module that imports it (`from app.db import engine`) holds the same object.
    """

    name: str  # as bound in the module: `engine`
    origin: str  # qualified name of its value, as the rules spell it: `sqlalchemy.create_engine()`
    line: int


@dataclass(frozen=True)
class CallSummary:
    """What one function or method may do while a caller holds a connection (DBP2xx), for the screen.

    `external`: it names an external call of the catalog itself. `callees`: the qualified names of
    the project functions, classes and methods it calls (`app.services.notify`, `app.clients.Client`,
    `app.clients.Client.post` for `self.post()`), which may make one in turn.
    """

    name: str  # `notify`, or `Client.post` for a method
    external: bool
    callees: tuple[str, ...]
    publishes: bool = False  # names a task publish (`.delay()`): DBP203's, opt-in


@dataclass(frozen=True)
class ModuleFacts:
    module: str
    path: str  # POSIX, relative to the project root
    clients: tuple[ClientSite, ...] = ()
    factories: tuple[Factory, ...] = ()
    objects: tuple[ModuleObject, ...] = ()
    commands: tuple[str, ...] = ()  # qualified names of functions registered as commands by a call
    # functions and classes that may be context managers opening a transaction for their callers
    # (`@contextmanager def unit_of_work()`, a class with `__enter__`): DBP2xx judges them, the screen
    # lets through files that use them
    scopes: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()  # modules it imports from (absolute, dotted)
    entry_point: str = ""  # why it runs as its own process: "a `__main__` script", "alembic env.py", ...
    streamlit: bool = False
    calls: tuple[CallSummary, ...] = ()  # functions and methods that make or may reach an external call

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModuleFacts":
        return cls(
            module=data["module"], path=data["path"],
            clients=tuple(ClientSite(**c) for c in data["clients"]),
            factories=tuple(Factory(**f) for f in data["factories"]),
            objects=tuple(ModuleObject(**o) for o in data.get("objects", ())),
            commands=tuple(data.get("commands", ())),
            scopes=tuple(data.get("scopes", ())),
            imports=tuple(data["imports"]), entry_point=data["entry_point"], streamlit=data["streamlit"],
            calls=tuple(CallSummary(c["name"], c["external"], tuple(c["callees"]), c.get("publishes", False))
                        for c in data.get("calls", ())),
        )


@dataclass(frozen=True)
class DuplicateSite:
    """One module-scope site of a datasource that other modules build too."""

    site: ClientSite
    path: str  # root-relative
    others: tuple[tuple[str, ClientSite], ...]  # (root-relative path, site) of the other modules' sites


@dataclass
class ProjectIndex:
    """Facts of every indexed module of one project, and the questions rules ask of them."""

    root: Path
    modules: dict[str, ModuleFacts] = field(default_factory=dict)  # by module name
    paths: dict[str, str] = field(default_factory=dict)  # root-relative path -> module name
    known_digest: str = ""
    # reaching_names of a compact index, whose modules no longer carry their call summaries
    known_reaching: Optional[frozenset[str]] = field(default=None, repr=False, compare=False)
    # what a cold build learned of the run's files while parsing them (root-relative path ->),
    # so that the runner need not parse them again; empty after a warm start
    screened: dict[str, ScreenedFile] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rebuild()
        if self.known_digest:
            self._digest = self.known_digest
        if self.known_reaching is not None:
            self._reaching = self._reaching_publishes = self.known_reaching

    def _rebuild(self) -> None:
        self._factories = {f.name: f for m in self.modules.values() for f in m.factories}
        self._objects = {f"{m.module}.{o.name}" if m.module else o.name: o.origin
                         for m in self.modules.values() for o in m.objects}
        self._by_path = {m.path: m for m in self.modules.values()}
        self._commands = frozenset(name for m in self.modules.values() for name in m.commands)
        self._scopes = [f"{m.module}.{name}" if m.module else name for m in self.modules.values() for name in m.scopes]

    # -- files ----------------------------------------------------------------------------------
    def relative(self, path: Path) -> Optional[str]:
        try:
            return resolved(path).relative_to(resolved(self.root)).as_posix()
        except (ValueError, OSError, RuntimeError):
            return None

    def module_for(self, path: Path) -> Optional[ModuleFacts]:
        relative = self.relative(path)
        return self._by_path.get(relative) if relative is not None else None

    def module_name(self, path: Path) -> Optional[str]:
        relative = self.relative(path)
        return self.paths.get(relative) if relative is not None else None

    def pool_factories(self) -> list[str]:
        """Qualified names of the factories whose call builds a new pool: uncached, and ending in a
        catalog constructor (a function that merely returns some other call is a candidate, not a factory)."""
        out = []
        for name in self._factories:
            factory = self.factory(name)
            if factory is not None and not factory.cached:
                out.append(name)
        return out

    def screen_words(self) -> frozenset[str]:
        """Names a file may call to build a pool: the project's pool factories (qualified and as written)."""
        if not hasattr(self, "_screen_words"):
            self._screen_words = frozenset(_and_last_parts(self.pool_factories()))
        return self._screen_words

    def screen_objects(self, catalog: Catalog) -> frozenset[str]:
        """Module objects other modules import whose methods a rule follows (`from app.db import engine`),
        qualified and as written: only those that resolve to a client or receiver of the catalog."""
        if not hasattr(self, "_screen_objects"):
            followed = []
            for name in self._objects:
                origin = self.object_origin(name)
                if origin is not None and catalog.follows_objects_of(origin):
                    followed.append(name)
            self._screen_objects = frozenset(_and_last_parts(followed))
        return self._screen_objects

    def imports_project_word(self, imports: frozenset[str], catalog: Catalog) -> bool:
        """Whether a file with these imports (ScreenedFile.imports) may use a project factory, client
        object or scope: it imports one, or the module that defines one."""
        if not hasattr(self, "_qualified_words"):
            self._qualified_words = [f".{name}" for name in (
                *self.screen_words(), *self.screen_objects(catalog), *self.screen_scopes()) if "." in name]
        for imported in imports:
            imported = imported[:-2] if imported.endswith(".*") else imported
            inner = f".{imported.lstrip('.')}"
            if any(word.endswith(inner) or f"{inner}." in word for word in self._qualified_words):
                return True
        return False

    def reaching_names(self, with_publishes: bool = False) -> frozenset[str]:
        """Qualified names of the project's functions, methods and classes that may make an external call
        within the depth DBP2xx follows calls (MAX_CHAIN_DEPTH, one more than the rules): a file that
        holds a connection and calls one may report; a file that calls only others cannot."""
        if with_publishes:  # DBP203 selected: a task publish counts as an external call
            if not hasattr(self, "_reaching_publishes"):
                self._reaching_publishes = self._reaching_closure(True)
            return self._reaching_publishes
        if not hasattr(self, "_reaching"):
            self._reaching = self._reaching_closure(False)
        return self._reaching

    def _call_summaries(self) -> tuple[dict[str, CallSummary], dict[str, str]]:
        """Every module's call summaries by qualified name, and each method's class (both qualified)."""
        if not hasattr(self, "_summaries"):
            summaries: dict[str, CallSummary] = {}
            class_of: dict[str, str] = {}
            for module in self.modules.values():
                for summary in module.calls:
                    name = f"{module.module}.{summary.name}" if module.module else summary.name
                    summaries[name] = summary
                    if "." in summary.name:
                        class_of[name] = name.rsplit(".", 1)[0]
            self._summaries = (summaries, class_of)
        return self._summaries

    def _reaching_closure(self, with_publishes: bool) -> frozenset[str]:
        summaries, class_of = self._call_summaries()
        reaching = {name for name, summary in summaries.items()
                    if summary.external or (with_publishes and summary.publishes)}
        for _ in range(MAX_CHAIN_DEPTH):
            # a class whose method may: `Client()`, `Client().post()`
            reaching |= {class_of[name] for name in reaching if name in class_of}
            more = {name for name, summary in summaries.items()
                    if name not in reaching and any(c in reaching for c in summary.callees)}
            if not more:
                break
            reaching |= more
        reaching |= {class_of[name] for name in reaching if name in class_of}
        return frozenset(reaching)

    def reaching_callables(self) -> list[str]:
        """The reaching names another module spells to call them: functions and classes, not methods
        (`Client().post()` names `Client`)."""
        methods = self._call_summaries()[1]
        return [name for name in self.reaching_names(with_publishes=True) if name not in methods]

    def screen_scopes(self) -> frozenset[str]:
        """The project's context managers that may open a transaction or checkout for their callers."""
        return frozenset(_and_last_parts(self._scopes))

    def project_packages(self) -> frozenset[str]:
        """Top-level names of the project's modules: a call into one may reach an external call (DBP2xx)."""
        if not hasattr(self, "_project_packages"):
            self._project_packages = frozenset(name.split(".")[0] for name in self.paths.values() if name)
        return self._project_packages

    def mentions_factory(self, data: bytes, catalog: Catalog) -> bool:
        """The byte screen's second chance: a file that only calls a project factory, uses a module
        object or enters a project scope."""
        if not hasattr(self, "_screen"):
            names = {name.rsplit(".", 1)[-1] for name in (
                *self.screen_words(), *self.screen_objects(catalog), *self.screen_scopes())}
            self._screen = word_pattern(sorted(names)) if names else None
        return self._screen is not None and self._screen.search(data) is not None

    def digest(self) -> str:
        """Changes whenever a fact another file's findings depend on changes: part of per-file cache keys."""
        if not hasattr(self, "_digest"):
            payload = json.dumps([self.modules[name].to_json() for name in sorted(self.modules)], sort_keys=True)
            self._digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
        return self._digest

    def with_source(self, path: Path, source: Union[str, bytes], settings: Settings) -> "ProjectIndex":
        """This index with one file's facts read from `source` (an editor's unsaved buffer)."""
        relative = self.relative(path)
        if relative is None:
            return self
        name = self.paths.get(relative) or module_name_from_relative(relative)
        facts = index_source(source, name, relative, settings.catalog, self.project_packages())
        if facts is None or self._by_path.get(relative) == facts:
            return self
        modules = {k: v for k, v in self.modules.items() if v.path != relative}
        modules[name] = facts
        digest = hashlib.sha256(f"{self.digest()}:{json.dumps(facts.to_json(), sort_keys=True)}".encode())
        # the buffer's own functions reach what they did for its own findings (same-module calls are
        # judged from its text): the project's reaching names stand
        return ProjectIndex(self.root, modules, {**self.paths, relative: name}, digest.hexdigest()[:16],
                            known_reaching=self.reaching_names(with_publishes=True))

    # -- questions ------------------------------------------------------------------------------
    def factory(self, qualified_name: Optional[str], _depth: int = 0) -> Optional[Factory]:
        """The factory a call of `qualified_name` is, with `returns` chains resolved to the constructor."""
        if not qualified_name or _depth > MAX_CHAIN_DEPTH:
            return None
        found = self._factories.get(qualified_name)
        if found is None or not found.returns:
            return found
        inner = self.factory(found.returns, _depth + 1)
        if inner is None:
            return None
        return Factory(
            name=found.name, display=found.display, constructor=inner.constructor,
            constructor_display=f"{inner.display}` -> `{inner.constructor_display}"
            if inner.display != inner.constructor_display else inner.constructor_display,
            library=inner.library, datasource=inner.datasource, cached=found.cached or inner.cached, line=found.line,
            unless_passed=found.unless_passed, unless_position=found.unless_position,
        )

    def object_origin(self, qualified_name: Optional[str], _depth: int = 0) -> Optional[str]:
        """What the module-scope object `qualified_name` names was built by, when another module built it.

        `app.db.engine` -> `sqlalchemy.create_engine()`; an object built by a project factory is
        what the factory builds (`app.db.make_engine()` -> `sqlalchemy.create_engine()`), and one
        bound to another module's object is that object's origin. None for anything else.
        """
        if not qualified_name or _depth > MAX_CHAIN_DEPTH:
            return None
        origin = self._objects.get(qualified_name)
        if origin is None:
            return None
        callee, _, rest = origin.partition("(")
        factory = self.factory(callee) if rest == ")" else None
        if factory is not None:
            return None if factory.cached or not factory.constructor else f"{factory.constructor}()"
        if "(" not in origin and origin in self._objects:
            return self.object_origin(origin, _depth + 1)
        return None if origin.split(".")[0] == qualified_name.split(".")[0] else origin  # unresolved: the project's

    def registered_command(self, qualified_name: Optional[str]) -> bool:
        """Whether some module registers this function as a command by a call (`app.command(name=...)(fn)`,
        `group.add_command(fn)`): it runs once per process."""
        return bool(qualified_name) and qualified_name in self._commands

    def compact(self) -> dict[str, Any]:
        """This index with only the modules other files' findings can depend on, for a fast warm start."""
        modules = []
        for module in self.modules.values():
            clients = [c for c in module.clients if not c.via or self.factory(c.via) is not None]
            if clients or module.factories or module.objects or module.scopes or module.commands:
                modules.append({**module.to_json(), "imports": [], "calls": [],
                                "clients": [asdict(c) for c in clients]})
        return {"modules": modules, "paths": self.paths, "digest": self.digest(),
                "reaching": sorted(self.reaching_names(with_publishes=True))}

    @classmethod
    def from_compact(cls, root: Path, data: dict[str, Any]) -> "ProjectIndex":
        modules = {m["module"]: ModuleFacts.from_json(m) for m in data["modules"]}
        return cls(root, modules, dict(data["paths"]), data["digest"], known_reaching=frozenset(data["reaching"]))

    def import_time_sites(self, module: ModuleFacts) -> list[ClientSite]:
        """Pools built when `module` is imported, with factory calls resolved (cached factories build none)."""
        sites = []
        for site in module.clients:
            if not site.via:
                sites.append(site)
                continue
            factory = self.factory(site.via)
            if factory is None or factory.cached:
                continue
            sites.append(ClientSite(
                library=factory.library, constructor=factory.constructor,
                display=f"{site.display}` -> `{factory.constructor_display}", datasource=factory.datasource,
                line=site.line, column=site.column, via=site.via,
            ))
        return sites

    def duplicates(self, path: Path, threshold: int) -> list[DuplicateSite]:
        """Module-scope sites in `path` of a datasource that `threshold` or more modules build at import."""
        module = self.module_for(path)
        if module is None or module.entry_point:
            return []
        mine = [s for s in self.import_time_sites(module) if s.datasource is not None]
        if not mine:
            return []
        if not hasattr(self, "_sites_by_source"):
            grouped: dict[tuple[str, str], list[tuple[str, ClientSite]]] = {}
            for other in sorted(self.modules.values(), key=lambda m: m.path):
                if other.entry_point:
                    continue
                for site in self.import_time_sites(other):
                    if site.datasource is not None:
                        grouped.setdefault((site.library, site.datasource), []).append((other.path, site))
            self._sites_by_source = grouped
        out = []
        for site in mine:
            group = self._sites_by_source.get((site.library, site.datasource), [])  # type: ignore[arg-type]
            if len({p for p, _ in group}) < threshold:
                continue
            others = tuple((p, s) for p, s in group if p != module.path)
            out.append(DuplicateSite(site, module.path, others))
        return out


# -- reading one module with ast ------------------------------------------------------------------
def _and_last_parts(names: Iterable[str]) -> Iterator[str]:
    """Each qualified name and its last part, as a call from another module may spell it."""
    for name in names:
        yield name
        yield name.rsplit(".", 1)[-1]


def module_name_from_relative(relative: str) -> str:
    parts = list(Path(relative).with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(p for p in parts if p.isidentifier()) or Path(relative).stem


def index_source(source: Union[str, bytes], module: str, relative: str, catalog: Catalog,
                 project_packages: frozenset[str] = frozenset()) -> Optional[ModuleFacts]:
    """Facts of one module; None when it cannot be parsed (pass two reports that as DBP000)."""
    text = decode(source) if isinstance(source, bytes) else source
    if isinstance(text, ParseFailure):
        return None
    tree = parse_text(text)
    if isinstance(tree, ParseFailure):
        return None
    return read_module(tree, text, module, relative, catalog, project_packages=project_packages)


def read_module(tree: ast.Module, text: str, module: str, relative: str, catalog: Catalog,
                outline: Optional[Outline] = None, project_packages: frozenset[str] = frozenset()) -> Optional[ModuleFacts]:
    """`project_packages`: the project's top-level packages (a call into one is a call into the project)."""
    try:
        return _ModuleReader(tree, text, module, relative, catalog, outline or Outline(tree), project_packages).read()
    except RecursionError:
        return None


def _publish_words(catalog: Catalog) -> ScreenWords:
    """The catalog's words for a task publish alone (`.delay()`, `send_task`): DBP203's external calls."""
    def build() -> ScreenWords:
        publishing = [spec for spec in catalog.external_calls if spec.publishes_task]
        names = frozenset(n for spec in publishing for n in (*spec.functions, *spec.clients) if "*" not in n)
        methods = frozenset(m for spec in publishing for m in (*spec.methods, *spec.task_methods))
        return replace(ScreenWords.from_catalog(catalog), external_names=names, external_methods=methods,
                       external_prefixes=(), external_fragments=())
    return catalog.derived("index-publish-words", build)


def _summary_words(catalog: Catalog) -> ScreenWords:
    """The catalog's screen words for what a function names. Of the methods, only a client's own I/O
    methods: a task's `.delay()`/`.send()` is DBP203's (opt-in, `_publish_words`) and a mail
    message's `.send()` is judged by its receiver (`external_by_receiver_name`); as words they are everywhere."""
    def build() -> ScreenWords:
        methods = frozenset(m for spec in catalog.external_calls if not spec.publishes_task for m in spec.methods)
        return replace(ScreenWords.from_catalog(catalog), external_methods=methods)
    return catalog.derived("index-summary-words", build)


def _is_main_guard(test: ast.AST) -> bool:
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = (test.left, test.comparators[0])
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    strings = {s.value for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)}
    return names == {"__name__"} and strings == {"__main__"}


_FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]


class _ModuleReader:
    def __init__(self, tree: ast.Module, text: str, module: str, relative: str, catalog: Catalog,
                 outline: Outline, project_packages: frozenset[str] = frozenset()) -> None:
        self.tree = tree
        self.project_packages = project_packages
        self.outline = outline
        self.lines = split_lines(text)
        self.module = module
        self.relative = relative
        self.catalog = catalog
        self.is_package = relative.endswith("__init__.py")
        self.imports: dict[str, str] = {}
        self.imported_modules: set[str] = set()
        self.module_bindings: dict[str, ast.AST] = {}  # name -> value assigned at module scope
        self.local_names: set[str] = set()  # functions and classes defined at module scope
        self.is_test = is_test_path(Path(relative))
        self._own: dict[int, list[ast.stmt]] = {}

    # -- names ----------------------------------------------------------------------------------
    def _resolve_relative(self, level: int, base: Optional[str]) -> str:
        package = self.module.split(".") if self.module else []
        if not self.is_package:
            package = package[:-1]
        if level > 1:
            package = package[: max(len(package) - (level - 1), 0)]
        prefix = ".".join(package)
        if base:
            return f"{prefix}.{base}" if prefix else base
        return prefix

    def _record_import(self, node: Union[ast.Import, ast.ImportFrom]) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    self.imports[top] = top
                self.imported_modules.add(alias.name)
            return
        base = self._resolve_relative(node.level, node.module) if node.level else (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                continue
            full = f"{base}.{alias.name}" if base else alias.name
            self.imports[alias.asname or alias.name] = full
            self.imported_modules.add(full)  # `from app import db` imports the module app.db
        if base:
            self.imported_modules.add(base)

    def qualified(self, node: ast.AST, local: Optional[dict[str, str]] = None) -> Optional[str]:
        if isinstance(node, ast.Name):
            if local and node.id in local:
                return local[node.id]
            if node.id in self.imports:
                return self.imports[node.id]
            if node.id in self.local_names:
                return f"{self.module}.{node.id}" if self.module else node.id
            if node.id in self.module_bindings:
                value = self.module_bindings[node.id]
                if isinstance(value, (ast.Call, ast.Await)):
                    inner = self.qualified(value, None)
                    if inner:
                        return inner
                return f"{self.module}.{node.id}" if self.module else node.id
            return {"input": "builtins.input", "open": "builtins.open"}.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value, local)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            base = self.qualified(node.func, local)
            return f"{base}()" if base else None
        if isinstance(node, ast.Await):
            return self.qualified(node.value, local)
        return None

    def column(self, node: ast.AST) -> int:
        """1-based character column: ast counts UTF-8 bytes."""
        line = self.lines[node.lineno - 1] if 0 < node.lineno <= len(self.lines) else ""  # type: ignore[attr-defined]
        offset = node.col_offset  # type: ignore[attr-defined]
        return len(line.encode("utf-8")[:offset].decode("utf-8", "replace")) + 1

    def own_statements(self, function: _FunctionNode) -> list[ast.stmt]:
        """The function's own statements in source order, computed once (factories and facts both read them)."""
        found = self._own.get(id(function))
        if found is None:
            found = self._own[id(function)] = list(_own_statements(function.body))
        return found

    # -- clients --------------------------------------------------------------------------------
    def pool_spec(self, call: ast.Call, local: Optional[dict[str, str]] = None):
        if self.is_test:
            return None
        keywords = [(k.arg, self.qualified(k.value, local)) for k in call.keywords if k.arg]
        first = call.args[0] if call.args else None
        if isinstance(first, ast.Name) and first.id not in (local or {}) and first.id not in self.imports:
            first = self.module_bindings.get(first.id, first)  # `create_engine(DATABASE_URL)`: a module constant
        if isinstance(first, ast.JoinedStr):  # f"sqlite:///{path}": its literal start
            first = first.values[0] if first.values else None
        literal = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
        return self.catalog.pool_client(self.qualified(call.func, local), keywords, literal)

    def datasource(self, call: ast.Call) -> Optional[str]:
        """Where the client's URL comes from, as a key two modules share when they build the same pool."""
        candidates: list[ast.AST] = [a for a in call.args
                                     if not (isinstance(a, ast.Constant) and isinstance(a.value, (int, float)))]
        candidates += [k.value for k in call.keywords if k.arg in _URL_KEYWORDS]
        if not candidates:
            datasource = next((k.value for k in call.keywords if k.arg == "datasource"), None)
            if datasource is not None:
                return self._source_of(datasource, 0)
            if call.args or any(k.arg is None for k in call.keywords):
                return None
            return "the default datasource"
        return self._source_of(candidates[0], 0)

    def _source_of(self, node: ast.AST, depth: int) -> Optional[str]:
        if depth > 4:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return mask(node.value)  # compared and shown masked: no password reaches a message
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value in ("url", "dsn"):
                    return self._source_of(value, depth + 1)
            return None
        if isinstance(node, ast.Subscript) and dotted_name(node.value) is not None:
            name = self.qualified(node.value) or ""
            if name in ("os.environ",) and isinstance(node.slice, ast.Constant):  # Python >= 3.9 slices
                return f"${node.slice.value}"
            return None
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = self.qualified(node.func) or ""
            if name in ("os.getenv", "os.environ.get", "environ.get") or name.endswith("config.get_env"):
                return f"${node.args[0].value}"
            return None
        if isinstance(node, ast.Name) and node.id in self.module_bindings and node.id not in self.imports:
            return self._source_of(self.module_bindings[node.id], depth + 1)
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.qualified(node)
        return None

    # -- the module -----------------------------------------------------------------------------
    def read(self) -> ModuleFacts:
        body = list(_module_statements(self.tree.body))
        entry_point = ""
        for statement in body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.local_names.add(statement.name)
            elif isinstance(statement, (ast.Import, ast.ImportFrom)):
                self._record_import(statement)
            elif isinstance(statement, ast.If) and _is_main_guard(statement.test):
                entry_point = "a `__main__` script"
            elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.module_bindings[target.id] = statement.value
        top_level = {id(statement) for statement in body}
        for node in self.outline.imports:  # imports inside functions still name modules this one needs
            if id(node) not in top_level:
                self._record_import(node)
        streamlit = any(m == "streamlit" or m.startswith("streamlit.") for m in self.imported_modules)
        name = Path(self.relative).name
        if self.is_test or any(part in ("fixtures", "testdata", "test_data") for part in Path(self.relative).parts[:-1]):
            entry_point = "test code"
        elif name == "__main__.py":
            entry_point = "a `__main__` script"
        elif name == "env.py" and any(m.startswith("alembic") for m in self.imported_modules):
            entry_point = "alembic env.py"
        elif streamlit:
            entry_point = entry_point or "a Streamlit script"
        return ModuleFacts(
            module=self.module, path=self.relative, clients=tuple(self._module_clients(body)),
            factories=tuple(self._factories()), objects=tuple(self._module_objects(body)),
            commands=tuple(self._registered_commands(body)),
            scopes=tuple(self._scope_candidates(body)),
            imports=tuple(sorted(self.imported_modules)), entry_point=entry_point, streamlit=streamlit,
            calls=tuple(self._call_summaries(body)),
        )

    def _call_summaries(self, body: Sequence[ast.stmt]) -> Iterator[CallSummary]:
        """A summary of each top-level function and method that names an external call or calls the project."""
        named: list[tuple[str, _FunctionNode]] = []
        for statement in body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                named.append((statement.name, statement))
            elif isinstance(statement, ast.ClassDef):
                named.extend((f"{statement.name}.{member.name}", member) for member in statement.body
                             if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)))
        for (name, _), outline in zip(named, self.outline.partition([function for _, function in named])):
            found = self._call_summary(name, outline)
            if found is not None:
                yield found

    def _call_summary(self, name: str, outline: Outline) -> Optional[CallSummary]:
        external = mentions_external_call(outline, _summary_words(self.catalog), self.imports) or any(
            self.catalog.external_by_receiver_name(node.attr, dotted_name(node.value) or "", self.imported_modules)
            is not None for node in outline.attributes)
        callees: set[str] = set()
        own_top = self.module.split(".")[0]
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        for call in outline.calls:
            func = call.func
            # `f()`, `module.f()`, `Class.f()`, `Class().f()`, `self.f()`: what DBP2xx follows
            target = func.value if isinstance(func, ast.Attribute) else func
            if isinstance(target, ast.Call) and isinstance(func, ast.Attribute):
                target = target.func
            if not isinstance(target, ast.Name):
                continue
            if target.id in ("self", "cls"):
                if owner and isinstance(func, ast.Attribute):
                    callees.add(self._qualify_local(f"{owner}.{func.attr}"))
                continue
            origin = self.qualified(target)
            if origin is None or "(" in origin or origin.split(".")[0] not in (own_top, *self.project_packages):
                continue  # a library's or a local object's
            callees.add(f"{origin}.{func.attr}" if isinstance(func, ast.Attribute) else origin)
        publishes = not external and mentions_external_call(outline, _publish_words(self.catalog), self.imports)
        if not external and not publishes and not callees:
            return None
        return CallSummary(name, external, tuple(sorted(callees)), publishes)

    def _scope_candidates(self, body: Sequence[ast.stmt]) -> Iterator[str]:
        """Module-level context managers of the project that may open a transaction or checkout for their
        callers (rules/holding.py judges what they open): generator functions under a context-manager
        decorator that enter a `with`, carry another decorator or call a transaction or checkout method,
        and classes whose `__enter__`/`__aenter__` calls one."""
        decorators = self.catalog.guards.context_manager_decorators
        for statement in body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                targets = [d.func if isinstance(d, ast.Call) else d for d in statement.decorator_list]
                if any(self.qualified(t) in decorators for t in targets) and (
                        len(targets) > 1 or self._may_open_hold(statement, with_counts=True)):
                    yield statement.name
            elif isinstance(statement, ast.ClassDef) and any(
                    isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name in ("__enter__", "__aenter__")
                    and self._may_open_hold(m, with_counts=False) for m in statement.body):
                yield statement.name

    def _may_open_hold(self, function: _FunctionNode, with_counts: bool) -> bool:
        opening = self.catalog.hold_opening_names()
        for node in ast.walk(function):
            if with_counts and isinstance(node, (ast.With, ast.AsyncWith)):
                return True
            if isinstance(node, ast.Call):
                name = dotted_name(node.func)
                if name is not None and name.rsplit(".", 1)[-1] in opening:
                    return True
        return False

    def _module_clients(self, body: Sequence[ast.stmt]) -> Iterator[ClientSite]:
        for statement in body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.Expr)):
                value = statement.value
            else:
                continue
            if isinstance(value, ast.Await):
                value = value.value
            if not isinstance(value, ast.Call):
                continue
            display = f"{dotted_name(value.func) or 'client'}()"
            spec = self.pool_spec(value)
            if spec is not None:
                yield ClientSite(spec.library, self.qualified(value.func) or "", display, self.datasource(value),
                                 value.lineno, self.column(value))
                continue
            callee = self.qualified(value.func)
            if callee and self.catalog.client_for(callee) is None and not self.is_test:
                yield ClientSite("", "", display, None, value.lineno, self.column(value), via=callee)

    def _registered_commands(self, body: Sequence[ast.stmt]) -> Iterator[str]:
        """Functions a module-scope call registers as commands: `app.command(name="prune")(prune)`,
        `cli.add_command(prune)`."""
        guards = self.catalog.guards
        for statement in body:
            value = statement.value if isinstance(statement, ast.Expr) else None
            if not isinstance(value, ast.Call) or len(value.args) != 1:
                continue
            func = value.func
            registers = (isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute)
                         and func.func.attr in guards.command_decorator_attributes) or (
                isinstance(func, ast.Attribute) and func.attr in guards.command_registration_methods)
            target = value.args[0]
            if registers and isinstance(target, (ast.Name, ast.Attribute)):
                qualified = self.qualified(target)
                if qualified:
                    yield qualified

    def _module_objects(self, body: Sequence[ast.stmt]) -> Iterator[ModuleObject]:
        """Module-scope names bound to an object of a catalog library or to a project factory's result."""
        if self.is_test:
            return
        packages = self.catalog.object_packages()
        for statement in body:
            if isinstance(statement, ast.Assign):
                targets = statement.targets
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets = [statement.target]
            else:
                continue
            value = statement.value
            if isinstance(value, ast.Await):
                value = value.value
            if not isinstance(value, (ast.Call, ast.Name, ast.Attribute)):
                continue
            origin = self.qualified(value)
            if not origin:
                continue
            top = origin.split(".")[0]
            # a library's object, or a candidate another module of the project resolves (a factory's
            # result, another module's object): `object_origin` keeps only what it can resolve
            if top not in packages and top != self.module.split(".")[0]:
                continue
            for target in targets:
                if isinstance(target, ast.Name) and target.id != origin:
                    yield ModuleObject(target.id, origin, statement.lineno)

    def _is_cached(self, function: _FunctionNode) -> bool:
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self.qualified(target) in self.catalog.guards.cache_decorators:
                return True
        return False

    def _factories(self) -> Iterator[Factory]:
        if self.is_test:
            return
        for statement in _module_statements(self.tree.body):
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found = self._function_factory(statement)
                if found is not None:
                    yield found
            elif isinstance(statement, ast.ClassDef):
                methods = {}
                for member in statement.body:
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and not member.name.startswith("__"):
                        # `Passages.open()`, `DocStore.from_uri()`, `self.engine()`: a method is a factory too
                        found = self._function_factory(member, statement.name)
                        if found is not None:
                            methods[member.name] = found
                            yield found
                found = self._class_factory(statement, methods)
                if found is not None:
                    yield found

    def _qualify_local(self, name: str) -> str:
        return f"{self.module}.{name}" if self.module else name

    def _function_factory(self, function: _FunctionNode, owner: str = "") -> Optional[Factory]:
        nodes = self.own_statements(function)
        declared_global = {n for node in nodes if isinstance(node, (ast.Global, ast.Nonlocal)) for n in node.names}
        returned = set()
        for node in nodes:
            if isinstance(node, ast.Return) and node.value is not None:
                returned |= _carried_names(node.value)
        qualified = f"{owner}.{function.name}" if owner else function.name
        base = dict(name=self._qualify_local(qualified), display=f"{qualified}()",
                    cached=self._is_cached(function), line=function.lineno)
        for node in nodes:
            call: Optional[ast.AST] = None
            if isinstance(node, ast.Return):
                call = node.value
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in returned and t.id not in declared_global for t in node.targets
            ):
                call = node.value
            if isinstance(call, ast.Await):
                call = call.value
            if not isinstance(call, ast.Call):
                continue
            spec = self.pool_spec(call)
            if spec is not None:
                return Factory(constructor=self.qualified(call.func) or "",
                               constructor_display=f"{dotted_name(call.func) or 'client'}()", library=spec.library,
                               datasource=self.datasource(call), **base)  # type: ignore[arg-type]
            callee = self._callee(call.func, owner)
            if callee and self.catalog.client_for(callee) is None and "(" not in callee:
                return Factory(constructor="", constructor_display="", library="", datasource=None,
                               returns=callee, **base)  # type: ignore[arg-type]
        return None

    def _callee(self, func: ast.AST, owner: str) -> Optional[str]:
        """The qualified name of a call's function; `self.method`/`cls.method` of a class is the class's."""
        if owner and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in ("self", "cls"):
            return self._qualify_local(f"{owner}.{func.attr}")
        if owner and isinstance(func, ast.Name) and func.id == "cls":
            return self._qualify_local(owner)
        return self.qualified(func)

    def _class_factory(self, cls: ast.ClassDef, methods: dict[str, Factory]) -> Optional[Factory]:
        """A class whose `__init__` builds a pool-owning client and keeps it on the instance: one pool per instance.

        Kept: assigned to `self.x` (annotated or not, wrapped in another object, through a local
        name, a `self._make_engine()` factory method) or handed to `super().__init__()`. A class
        whose `__new__` may return a cached instance is judged at its `__init__` instead.
        """
        init = next((s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and s.name == "__init__"), None)
        if init is None or any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "__new__"
                               for s in cls.body):
            return None
        parameters = [a.arg for a in (*init.args.posonlyargs, *init.args.args)][1:]
        parameters += [a.arg for a in init.args.kwonlyargs]
        local: dict[str, tuple[Factory, str]] = {}  # local name -> the client it holds
        for node in self.own_statements(init):
            if isinstance(node, ast.Return):
                return None  # an early return may skip the construction: not judged
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) else None
            if value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            found = self._built_in(value, cls.name, methods, local, parameters)
            if found is None:
                continue
            for target in targets:
                if isinstance(target, ast.Name):
                    local[target.id] = found
            kept_on_self = any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                               for t in targets)
            handed_to_base = isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and value.func.attr == "__init__" and isinstance(value.func.value, ast.Call) \
                and isinstance(value.func.value.func, ast.Name) and value.func.value.func.id == "super"
            if not (kept_on_self or handed_to_base):
                continue
            client, unless = found
            position = parameters.index(unless) if unless in parameters else -1
            own = dict(name=self._qualify_local(cls.name), display=f"{cls.name}()", cached=False, line=cls.lineno,
                       unless_passed=unless, unless_position=position)
            if client.name:  # built by a factory method: `EmbeddingIndex()` -> `_new_engine()` -> ...
                return Factory(constructor="", constructor_display="", library="", datasource=None,
                               returns=client.name, **own)  # type: ignore[arg-type]
            return replace(client, **own)
        return None

    def _built_in(self, value: ast.AST, owner: str, methods: dict[str, Factory],
                  local: dict[str, tuple[Factory, str]], parameters: list[str]) -> Optional[tuple[Factory, str]]:
        """The client an expression of `__init__` builds (a Factory with an empty name for a catalog
        constructor), and the parameter that, when passed, replaces it."""
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Name):
            return local.get(value.id)
        if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or) and len(value.values) == 2:
            first, second = value.values
            found = self._built_in(second, owner, methods, local, parameters)
            if found is not None and isinstance(first, ast.Name) and first.id in parameters:
                return found[0], first.id  # `connection or self._new_engine()`
            return None
        if isinstance(value, ast.IfExp):
            names = {n.id for n in ast.walk(value.test) if isinstance(n, ast.Name)} & set(parameters)
            for branch in (value.body, value.orelse):
                found = self._built_in(branch, owner, methods, local, parameters)
                if found is not None:
                    return (found[0], sorted(names)[0]) if len(names) == 1 else None
            return None
        if not isinstance(value, ast.Call):
            return None
        spec = self.pool_spec(value)
        if spec is not None:
            return Factory(name="", display="", constructor=self.qualified(value.func) or "",
                           constructor_display=f"{dotted_name(value.func) or 'client'}()", library=spec.library,
                           datasource=self.datasource(value), cached=False, line=value.lineno), ""
        callee = self._callee(value.func, owner)
        method = callee.rsplit(".", 1)[-1] if callee and callee.startswith(self._qualify_local(owner) + ".") else None
        if method is not None and method in methods:
            return methods[method], ""  # `self._new_engine()`
        for argument in (*value.args, *(k.value for k in value.keywords)):
            found = self._built_in(argument, owner, methods, local, parameters)  # `Traced(inner=Prisma())`
            if found is not None:
                return found
        return None

def _carried_names(value: ast.AST) -> set[str]:
    """Names whose value a returned expression carries: itself, or an argument of the call it is, at any depth
    (`return Store(client)`, `return cls(client[db][coll])`)."""
    if isinstance(value, ast.Await):
        value = value.value
    while isinstance(value, ast.Subscript):  # `client[db][coll]` keeps the client alive
        value = value.value
    if isinstance(value, ast.Name):
        return {value.id}
    if isinstance(value, ast.Tuple):
        return {n for element in value.elts for n in _carried_names(element)}
    if isinstance(value, ast.Call):
        return {n for argument in (*value.args, *(k.value for k in value.keywords)) for n in _carried_names(argument)}
    return set()


def _module_statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at import: looking into if/try/with blocks, not functions or classes."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield statement
            if _is_main_guard(statement.test):
                continue
            yield from _module_statements(statement.body)
            yield from _module_statements(statement.orelse)
        elif isinstance(statement, ast.Try):
            yield from _module_statements(statement.body)
            for handler in statement.handlers:
                yield from _module_statements(handler.body)
            yield from _module_statements(statement.orelse)
            yield from _module_statements(statement.finalbody)
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            yield from _module_statements(statement.body)
        else:
            yield statement


def _own_statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a function body in source order, inside its blocks but not inside nested
    functions or classes: a factory's `return`, assignments and `global` are statements."""
    for statement in body:
        yield statement
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in _BLOCK_FIELDS:
            for item in getattr(statement, name, ()):
                # an except handler or a match case holds a block of its own
                yield from _own_statements([item] if isinstance(item, ast.stmt) else item.body)


_BLOCK_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")


# -- the project ----------------------------------------------------------------------------------
def find_project_root(path: Path, settings: Optional[Settings] = None) -> Path:
    """The nearest directory at or above `path` holding pyproject.toml/setup.cfg/.git, else `path`'s directory."""
    start = resolved(path)
    start = start if start.is_dir() else start.parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in PROJECT_MARKERS):
            return directory
    return start


def project_files(root: Path, is_excluded: Callable[[Path], bool] = lambda path: False) -> list[tuple[str, Path]]:
    """(root-relative POSIX path, path) of the project's Python files; nested projects are their own."""
    out: list[tuple[str, Path]] = []
    for directory, dirnames, filenames in os.walk(root):
        base = Path(directory)
        if base != root and (PROJECT_MARKERS_SET.intersection(filenames) or ".git" in dirnames):
            dirnames[:] = []
            continue
        dirnames[:] = sorted(name for name in dirnames
                             if not is_built_in_excluded(name) and not is_excluded(base / name))
        for filename in sorted(filenames):
            if filename.endswith(".py"):
                path = base / filename
                if is_excluded(path):
                    continue
                out.append((path.relative_to(root).as_posix(), path))
    return out


def _stat(path: Path) -> Optional[tuple[int, ...]]:
    """What tells a changed file without reading it. An edit can keep the size and put the old mtime
    back (`touch -r`, `cp -p`, `git stash pop`), but the kernel sets ctime on every change, as git's
    index relies on."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


def build_index(root: Path, settings: Settings, *, use_cache: bool = True,
                wanted: frozenset[str] = frozenset()) -> ProjectIndex:
    """The project's index, reusing the cached facts of every file whose size and mtime did not change.

    Files are indexed when they pass the runner's byte screen, or when they mention the name
    of a factory found so far (`get_engine()` in app/deps.py returning `make_engine()` of
    app/db.py), a few rounds deep. Of the files the run checks (`wanted`, root-relative), the
    ones read here are screened too (`ProjectIndex.screened`).
    """
    root = root.resolve()
    files = project_files(root, settings.is_excluded)
    cache_path = _cache_path(root, settings) if use_cache else None
    stats = {relative: _stat(path) for relative, path in files}
    manifest = hashlib.sha256(json.dumps(sorted(stats.items())).encode()).hexdigest()
    compact_path = cache_path.with_name(cache_path.stem + "-compact.json") if cache_path is not None else None
    if use_cache:
        compact = _read_json(compact_path)
        if compact.get("manifest") == manifest:
            try:
                return ProjectIndex.from_compact(root, compact)
            except (KeyError, TypeError, ValueError):
                pass
    # a warm start does not need the runner's imports
    from poollint.engine.runner import names_a_screen_call, passes_screen

    previous = _read_json(cache_path).get("files", {}) if use_cache else {}
    if not isinstance(previous, dict):
        previous = {}
    entries: dict[str, dict[str, Any]] = {}
    names = {relative: module_name_from_relative(relative) for relative, _ in files}
    # the index screens the run's files with the words the runner uses (ProjectIndex.project_packages)
    project = frozenset(name.split(".")[0] for name in names.values() if name)
    changed = False
    screened: list[str] = []
    syntax_only: list[str] = []  # checked files that name a library but call nothing: only parsed
    screened_files: dict[str, ScreenedFile] = {}

    def read(relatives: Sequence[str], only_syntax: Sequence[str] = ()) -> None:
        nonlocal changed
        if not relatives and not only_syntax:
            return
        changed = True
        jobs = [(str(root), relative, names[relative], _SCREEN if relative in wanted else _INDEX)
                for relative in relatives] + [(str(root), relative, "", _SYNTAX) for relative in only_syntax]
        for (_, relative, _, mode), (facts, screened_file) in zip(jobs, _index_files(jobs, settings, project)):
            if mode != _SYNTAX:  # a file only parsed stays unread: a later round may index it
                entries[relative]["read"] = True
                entries[relative]["facts"] = facts
            if screened_file is not None:
                screened_files[relative] = screened_file

    def modules() -> dict[str, ModuleFacts]:
        found = (ModuleFacts.from_json(e["facts"]) for e in entries.values() if e["facts"])
        return {facts.module: facts for facts in found}

    registrations = _registration_pattern(settings.catalog)
    external = _summary_words(settings.catalog).external_pattern
    for relative, path in files:
        stat = stats[relative]
        if stat is None:
            continue
        old = previous.get(relative)
        if isinstance(old, dict) and tuple(old.get("stat", ())) == stat:
            entries[relative] = old
            continue
        changed = True
        try:
            data = read_bytes(path, "python", root)
        except OSError:
            continue
        entries[relative] = {"stat": list(stat), "read": False, "facts": None, "factory_screen": ""}
        names_library = passes_screen(data, settings)  # scanned once: most files fail here
        if (names_library and names_a_screen_call(data, settings)) or registrations.search(data) \
                or external.search(data):
            screened.append(relative)
        elif relative in wanted and names_library:
            syntax_only.append(relative)
    read(screened, syntax_only)
    # modules that call a factory found so far, or a function that may make an external call
    # (the chain DBP2xx follows from a transaction into other modules), a round per step
    for _ in range(MAX_CHAIN_DEPTH):
        so_far = ProjectIndex(root, modules())
        factory_names = sorted({name.rsplit(".", 1)[-1] for name in (*so_far.pool_factories(), *so_far.reaching_callables())})
        if not factory_names:
            break
        factory_digest = hashlib.sha256("\0".join(factory_names).encode()).hexdigest()[:16]
        pattern = word_pattern(factory_names)
        mentioning = []
        for relative, entry in entries.items():
            if entry["read"] or entry.get("factory_screen") == factory_digest:
                continue
            changed = True
            entry["factory_screen"] = factory_digest
            try:
                data = read_bytes(root / relative, "python", root)
            except OSError:
                continue
            if pattern.search(data):
                mentioning.append(relative)
        if not mentioning:
            break
        read(mentioning)
    if use_cache and (changed or set(previous) != set(entries)):
        _write_cache(root, cache_path, {"files": entries})
    index = ProjectIndex(root, modules(), names)
    if use_cache:
        _write_cache(root, compact_path, {"manifest": manifest, **index.compact()})
    index.screened = screened_files
    return index


def _registration_pattern(catalog: Catalog) -> "re.Pattern[bytes]":
    """Bytes of a module-scope command registration by a call, so that the index reads its module."""
    guards = catalog.guards
    decorators = "|".join(re.escape(n) for n in sorted(guards.command_decorator_attributes)) or "(?!)"
    methods = "|".join(re.escape(n) for n in sorted(guards.command_registration_methods)) or "(?!)"
    return re.compile(rf"^\w[\w.]*\.(?:(?:{decorators})\([^\n]*\)|(?:{methods}))\(\s*\w".encode(), re.MULTILINE)


# Below this many files to read, starting worker processes costs more than it saves
# (a forked worker starts in a few milliseconds; a file takes about ten to read).
MIN_FILES_FOR_POOL = 24
_WORKER_CATALOG: Optional[Catalog] = None
_WORKER_WORDS: Optional[ScreenWords] = None
_IndexResult = tuple[Optional[dict[str, Any]], Optional[ScreenedFile]]


_WORKER_PROJECT: frozenset[str] = frozenset()


def _init_index_worker(catalog: Catalog, project_packages: frozenset[str] = frozenset()) -> None:
    global _WORKER_CATALOG, _WORKER_WORDS, _WORKER_PROJECT
    ignore_interrupts()
    _WORKER_CATALOG = catalog
    _WORKER_WORDS = None
    _WORKER_PROJECT = project_packages


# What a job asks of a file: its module facts; those and the screen's verdict (a file the run
# checks); or only whether it parses (a checked file that names a library but calls nothing
# the screen looks for: no rule can report in it, but a syntax error is still reported).
_INDEX, _SCREEN, _SYNTAX = 0, 1, 2


def _index_file(job: tuple[str, str, str, int]) -> _IndexResult:
    """The module's facts, and for a file the run checks, the screen's verdict and URL facts from the same parse."""
    global _WORKER_WORDS
    root, relative, module, mode = job
    catalog = _WORKER_CATALOG
    assert catalog is not None
    try:
        data = read_bytes(Path(root) / relative, "python", Path(root))
    except OSError:
        return None, None
    if mode == _INDEX:
        facts = index_source(data, module, relative, catalog, _WORKER_PROJECT)
        return (facts.to_json() if facts is not None else None), None
    from poollint.config.pyscan import python_facts

    if _WORKER_WORDS is None:
        # at least as wide as the runner's words will be (its project words are not known yet): the
        # project's own packages may hold clients, any project function may reach an external call
        _WORKER_WORDS = ScreenWords.from_catalog(catalog, project_packages=_WORKER_PROJECT,
                                                 extra_packages=_WORKER_PROJECT)
    words = _WORKER_WORDS
    text = decode(data)
    if isinstance(text, ParseFailure):
        return None, screen_file(data, text, None, words, None)
    tree = parse_text(text)
    if isinstance(tree, ParseFailure):
        return None, screen_file(data, tree, None, words, None)
    if mode == _SYNTAX:
        return None, ScreenedFile(content_digest(data), False, frozenset(),
                                  python_facts(data, catalog, True, tree).to_json())
    outline = Outline(tree)
    facts = read_module(tree, text, module, relative, catalog, outline, _WORKER_PROJECT)
    url_facts = python_facts(data, catalog, words.pattern.search(data) is not None, tree, outline)
    screened = screen_file(data, tree, outline, words, url_facts.to_json())
    if screened.could_report:  # the runner's analysis need not parse it with ast again
        from poollint.engine.slicing import slice_for_rules

        screened = replace(screened, relevant_text=slice_for_rules(text, tree, words, catalog, outline))
    return (facts.to_json() if facts is not None else None), screened


def _index_files(jobs: list[tuple[str, str, str, int]], settings: Settings,
                 project_packages: frozenset[str] = frozenset()) -> list[_IndexResult]:
    """Facts of many files: in worker processes for a cold start of a large project."""
    import multiprocessing

    workers = min(os.cpu_count() or 1, len(jobs) // (MIN_FILES_FOR_POOL // 4) or 1)
    # flake8's -j workers are daemonic and may not start processes of their own
    if len(jobs) < MIN_FILES_FOR_POOL or workers <= 1 or multiprocessing.current_process().daemon:
        _init_index_worker(settings.catalog, project_packages)
        return [_index_file(job) for job in jobs]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with frozen_heap(), multiprocessing.get_context(method).Pool(
        workers, initializer=_init_index_worker, initargs=(settings.catalog, project_packages)
    ) as pool:
        return pool.map(_index_file, jobs, chunksize=8)


def _cache_path(root: Path, settings: Settings) -> Optional[Path]:
    """Where the index is cached; None when the project's cache directory cannot be trusted (a symlink)."""
    from poollint.engine.cache import cache_directory, code_fingerprint

    directory = cache_directory(root)
    if directory is None:
        return None
    # the root is part of the name: a shared `--cache-dir` holds the indexes of several projects
    digest = hashlib.sha256(f"{INDEX_FORMAT}:{code_fingerprint()}:{settings.fingerprint()}:{root}".encode()).hexdigest()
    return directory / f"index-{digest[:20]}.json"


def _read_json(path: Optional[Path]) -> dict[str, Any]:
    """A cache file's content; {} when missing, half-written, damaged or not ours (a miss, never an error)."""
    from poollint.engine.cache import read_entry

    data = read_entry(path) if path is not None else None
    return data if isinstance(data, dict) else {}


def _write_cache(root: Path, path: Optional[Path], payload: dict[str, Any]) -> None:
    from poollint.engine.cache import write_entry
    from poollint.limits import atomic_write

    if path is None:
        return
    try:
        ignore = path.parent / ".gitignore"
        if not os.path.lexists(ignore):
            atomic_write(ignore, b"# created by poollint\n*\n")
        write_entry(path, {"root": str(root), **payload})
        _remove_stale_indexes(path)
    except OSError as error:  # a read-only checkout still lints, just without a cache
        logger.debug("cannot write the project index cache %s: %s", path, error)


# Indexes written under another poollint version or configuration are kept this long, in case a
# concurrent run (another flake8 configuration, an older poollint in pre-commit) still reads them.
_STALE_INDEX_SECONDS = 24 * 3600


def _remove_stale_indexes(current: Path) -> None:
    """Old indexes in poollint's own cache directory (cache_directory refused it if it were a link)."""
    import stat as stat_module
    import time

    for other in current.parent.glob("index-*.json"):
        try:
            status = os.lstat(other)
            if other != current and stat_module.S_ISREG(status.st_mode) \
                    and time.time() - status.st_mtime > _STALE_INDEX_SECONDS:
                other.unlink()
        except OSError:
            pass


_PROCESS_INDEXES: dict[tuple[str, str], ProjectIndex] = {}


def index_for_file(path: Path, settings: Settings) -> ProjectIndex:
    """The index of the project holding `path`, built once per process (the flake8 plugin's door)."""
    root = find_project_root(path)
    key = (str(root), settings.fingerprint())
    if key not in _PROCESS_INDEXES:
        _PROCESS_INDEXES[key] = build_index(root, settings)
    return _PROCESS_INDEXES[key]


def indexes_for(paths: Sequence[Path], settings: Settings, *, use_cache: bool = True) -> dict[Path, ProjectIndex]:
    """One index per project root among `paths` (the CLI's door), each screening the paths below it."""
    roots: dict[Path, Path] = {}
    wanted: dict[Path, set[str]] = {}
    for path in paths:
        directory = path.parent
        if directory not in roots:
            roots[directory] = find_project_root(path)
        root = roots[directory]
        below = wanted.setdefault(root, set())
        try:  # resolved as the runner looks the file up (ProjectIndex.relative)
            below.add(resolved(path).relative_to(root).as_posix())
        except (ValueError, OSError, RuntimeError):
            pass  # outside the project: the runner screens it itself
    return {root: build_index(root, settings, use_cache=use_cache, wanted=frozenset(relatives))
            for root, relatives in wanted.items()}


def index_covering(indexes: dict[Path, ProjectIndex], path: Path) -> Optional[ProjectIndex]:
    """The index of the innermost project holding `path`."""
    if not indexes:
        return None
    full = str(resolved(path))
    best: Optional[ProjectIndex] = None
    for root, index in indexes.items():
        prefix = str(root)
        if full == prefix or full.startswith(prefix.rstrip(os.sep) + os.sep):
            if best is None or len(root.parts) > len(best.root.parts):
                best = index
    return best
