"""The project model: every module's facts, and the questions rules ask across modules
(which calls build pools, which objects are clients, which functions reach an external call).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Iterator, Optional, TypeVar, Union

from poollint.catalog.model import Catalog, ImplicitTransactionSpec
from poollint.pyast import called_for, word_pattern
from poollint.paths import file_stamp, is_test_path, resolved, stamps_digest
from poollint.python.loading import CONVENTIONAL, LoadGraph, StartSigns, mentions, read_texts, spelling_files
from poollint.python.facts import (MAX_CHAIN_DEPTH, CallSummary, ClientSite, Factory, ModuleFacts, index_source,
                                   module_name_from_relative, src_is_package)
from poollint.python.names import SourceRoots, root_packages, roots_from_json, roots_to_json
from poollint.python.screen import VOCABULARIES, ScreenWords, ScreenedFile, screen_words
from poollint.settings import Settings


# the project's text files are kept in memory for the questions of one run up to this size
TEXTS_KEPT_BYTES = 16_000_000


@dataclass(frozen=True)
class DuplicateSite:
    """One module-scope site of a datasource that other modules build too."""

    site: ClientSite
    path: str  # root-relative
    others: tuple[tuple[str, ClientSite], ...]  # (root-relative path, site) of the other modules' sites


T = TypeVar("T")


def _holds_module_facts(value: Any) -> bool:
    """Whether an answer the index keeps refers to module facts or their parts' summaries (a worker's
    index has its own, and works out again what is made of them)."""
    if isinstance(value, (ModuleFacts, CallSummary)):
        return True
    if isinstance(value, dict):
        return any(_holds_module_facts(key) or _holds_module_facts(item) for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_module_facts(item) for item in value)
    return False


@dataclass
class ProjectIndex:
    """Facts of every indexed module of one project, and the questions rules ask of them."""

    root: Path
    modules: dict[str, ModuleFacts] = field(default_factory=dict)  # by module name
    paths: dict[str, str] = field(default_factory=dict)  # root-relative path -> module name
    known_digest: str = ""
    # reaching_names of a compact index, whose modules no longer carry their call summaries
    known_reaching: Optional[frozenset[str]] = field(default=None, repr=False, compare=False)
    # the project modules some module imports, kept by a compact index (whose modules drop their imports)
    known_imported: Optional[frozenset[str]] = field(default=None, repr=False, compare=False)
    # what the modules without facts (they name no database library) import: module -> imports
    other_imports: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    # what every module imports of the project, read from its text at any level (a function's own
    # `import app.config.environment as environment` too): module -> imports; see importers_of
    project_imports: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    # the re-exports that name something of the index (see _follow_reexports), kept likewise
    known_reexports: Optional[dict[str, str]] = field(default=None, repr=False, compare=False)
    # which modules import each name of the project (see importers_of), kept likewise
    known_importers: Optional[dict[str, list[str]]] = field(default=None, repr=False, compare=False)
    # the top-level packages some module imports (see imported_packages), kept likewise
    known_packages: Optional[frozenset[str]] = field(default=None, repr=False, compare=False)
    # holders_made_per_call of a compact index, whose modules no longer carry their call summaries
    known_holders: Optional[dict[str, list[str]]] = field(default=None, repr=False, compare=False)
    # the sole implementations of interfaces and what calling instances gives, when read from the cache
    known_implementations: Optional[dict[str, str]] = field(default=None, repr=False, compare=False)
    known_call_results: Optional[dict[str, str]] = field(default=None, repr=False, compare=False)
    # library_models of a compact index, whose modules no longer carry their subclasses
    known_models: Optional[dict[str, str]] = field(default=None, repr=False, compare=False)
    # shared_sessions_left_open of a compact index, whose modules no longer carry their call summaries
    known_open_sessions: Optional[dict[str, list[str]]] = field(default=None, repr=False, compare=False)
    # request_session_dependencies and dependency_aliases of a compact index, whose modules drop their dependencies
    known_request_sessions: Optional[frozenset[str]] = field(default=None, repr=False, compare=False)
    known_aliases: Optional[dict[str, tuple[str, str]]] = field(default=None, repr=False, compare=False)
    # engines of a compact index, whose modules drop them
    known_engines: Optional[dict[str, list[tuple[str, str]]]] = field(default=None, repr=False, compare=False)
    # what a cold build learned of the run's files while parsing them (root-relative path ->),
    # so that the runner need not parse them again; empty after a warm start
    screened: dict[str, ScreenedFile] = field(default_factory=dict, repr=False, compare=False)
    # where the project's absolute imports start (python/facts.py SourceRoots): every reader names
    # `from entityservice import database` in backend/ as backend.entityservice.database
    source_roots: SourceRoots = field(default=(), repr=False, compare=False)
    # root-relative paths of the modules that nothing outside the project is seen to load by name or
    # path (python/loading.py StartSigns), and whether a module loads modules by computed names; None:
    # not known, every module may run
    inert: Optional[frozenset[str]] = field(default=None, repr=False, compare=False)
    # ...and of those that only a framework's or test runner's conventions load (`app/models.py`, tests)
    conventional: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    loads_dynamically: bool = field(default=False, repr=False, compare=False)
    # the project's files that may name a module to load (python/loading.py may_name_modules), listed
    # when asked: (root-relative path, path)
    text_files: Optional[Callable[[], Iterable[tuple[str, Path]]]] = field(default=None, repr=False, compare=False)
    # a digest of the stamps of the project's Python files (`paths`, paths.file_stamp) when the index was
    # built; "" when not known. While it holds, so does every file's content (engine/cache.py RunRecord)
    manifest: str = field(default="", repr=False, compare=False)
    # `files_spelling` answers a previous run worked out, and the `texts_manifest` they were read under
    known_spelling: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)
    known_spelling_manifest: str = field(default="", repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """The index as an analysis worker receives it (engine/runner.py): each module's facts as one JSON
        text, which the pickler keeps as one object where the facts would be hundreds of thousands (its
        memo of Django's took 45 MB of the main process), and the answers worked out so far, except
        those that hold module facts, which are asked of the worker's own (`_holds` tells modules by
        identity). What the index pass screened stays with the runner, which alone reads it."""
        state = {name: value for name, value in self.__dict__.items()
                 if name not in _KEPT_BY_THE_RUNNER and not _holds_module_facts(value)}
        state["modules"] = [json.dumps(module.to_json(), separators=(",", ":")) for module in self.modules.values()]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        modules = [ModuleFacts.from_json(json.loads(text)) for text in state.pop("modules")]
        given = {name: state.pop(name) for name in _INDEX_FIELDS if name in state}
        self.__init__(modules={module.module: module for module in modules}, **given)  # type: ignore[misc]
        for name, value in state.items():
            self.__dict__.setdefault(name, value)  # what __init__ works out from the modules stays its own

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
        self._imported_modules = frozenset(name for m in self.modules.values() for name in m.imports) \
            | frozenset(name for imports in self.other_imports.values() for name in imports) \
            | (self.known_imported or frozenset())
        self._registered_once = frozenset(name for m in self.modules.values() for name in m.registered_once)
        self._scheduled = frozenset(name for m in self.modules.values() for name in m.scheduled)
        self._routes = frozenset(name for m in self.modules.values() for name in m.routes)
        self._installers = {f"{m.module}.{name}" if m.module else name: parameters
                            for m in self.modules.values() for name, parameters in m.installers}
        self._result_parameters = {f"{m.module}.{name}" if m.module else name: (positional, frozenset(carried))
                                   for m in self.modules.values() for name, positional, carried in m.result_parameters}
        # the first module setting that runs every view in a transaction: asked for every function the rules see
        self._request_setting = min(((setting, m.path, line) for m in self.modules.values()
                                     for setting, line in m.request_settings), default=None, key=lambda site: site[1:])
        # settings that make the framework keep a connection through a request (Django's pool): the first site
        self._hold_settings = {setting: site for setting, site in sorted(
            ((setting, (m.path, line)) for m in self.modules.values() for setting, line in m.hold_settings),
            key=lambda found: found[1], reverse=True)}
        self._scopes = [f"{m.module}.{name}" if m.module else name for m in self.modules.values() for name in m.scopes]
        self._openers = {f"{m.module}.{name}" if m.module else name: constructor
                         for m in self.modules.values() for name, constructor in m.openers}
        self._yields = {f"{m.module}.{name}" if m.module else name: yielded
                        for m in self.modules.values() for name, yielded in m.yields}
        self._begun_yields = {f"{m.module}.{name}" if m.module else name: (m.path, line)
                              for m in self.modules.values() for name, line in m.begun_yields}
        self._interfaces = {f"{m.module}.{name}" if m.module else name: name
                            for m in self.modules.values() for name in m.interfaces}
        # the cache keeps the interfaces that have an implementation, not their modules
        self._interfaces.update({name: name.rsplit(".", 1)[-1] for name in self.known_implementations or ()})
        self._call_results = dict(self.known_call_results) if self.known_call_results is not None else {
            f"{m.module}.{name}" if m.module else name: returned
            for m in self.modules.values() for name, returned in m.call_results}
        # what other modules may call out through (ModuleFacts.external_bindings), by qualified name
        self._external_bindings = {f"{m.module}.{name}" if m.module else name: target
                                   for m in self.modules.values() for name, target in m.external_bindings}
        self._resolve_library_reexports()
        self._reexports: dict[str, str] = {}
        self._follow_reexports()
        self._inherited_factories()
        self._follow_reexports()  # `from .base import DBRomsHandler` of a class that inherits a factory

    @property
    def _importers(self) -> dict[str, tuple[str, ...]]:
        """Project name imported (`app.db`, `app.db.init`) -> the modules importing it; built on first
        use, not with every index (a cold build makes several on its way to the last)."""
        if "_importers_built" not in self.__dict__:
            self.__dict__["_importers_built"] = self._importers_by_name() if self.known_importers is None \
                else {name: tuple(importers) for name, importers in self.known_importers.items()}
        return self.__dict__["_importers_built"]

    def _importers_by_name(self) -> dict[str, tuple[str, ...]]:
        packages = self.project_packages()
        found: dict[str, set[str]] = {}
        every = self.project_imports or {**self.other_imports, **{n: m.imports for n, m in self.modules.items()}}
        for importer, imports in every.items():
            for target in imports:
                if target.split(".")[0] in packages:
                    found.setdefault(target, set()).add(importer)
        return {name: tuple(sorted(importers)) for name, importers in found.items()}

    def imported_packages(self) -> frozenset[str]:
        """The top-level packages the project's modules import (`sqlalchemy`, `redis`, its own), as far as
        the index knows: library imports come from the modules it read (those that use a database
        library); the others' import scans keep project names only."""
        if self.known_packages is not None:
            return self.known_packages
        found = self.__dict__.get("_packages")
        if found is None:
            found = frozenset(target.split(".")[0] for imports in (
                *self.other_imports.values(), *(m.imports for m in self.modules.values())) for target in imports)
            self.__dict__["_packages"] = found
        return found

    def answer(self, question: str) -> object:
        """The answer to a question a cached result recorded (python/reads.record_index_answer):
        `importers <name> <name>...`, `packages`, `duplicates <threshold> <root-relative path>`,
        `runs <root-relative path>` or `spelled <word>`."""
        kind, _, rest = question.partition(" ")
        if kind == "importers":
            return self.importers_of(rest.split())
        if kind == "duplicates":
            threshold, _, relative = rest.partition(" ")
            return self.duplicates(self.root / relative, int(threshold))
        if kind == "runs":
            return self.may_run(rest)
        if kind == "spelled":
            return tuple(sorted(self.files_spelling(rest)))
        if kind == "packages":
            if "_packages_answer" not in self.__dict__:
                self.__dict__["_packages_answer"] = tuple(sorted(self.imported_packages()))
            return self.__dict__["_packages_answer"]
        return None

    def importers_of(self, names: Iterable[str]) -> tuple[str, ...]:
        """The project modules that import one of `names` (a module, or a name in it), from their import
        statements at any level."""
        return tuple(sorted({importer for name in names for importer in self._importers.get(name, ())}))

    def _import_pairs(self) -> Iterator[tuple[str, str]]:
        """(alias, what it names) for every name a module imports: `app.models.User` for `from
        .user_models import User` in app/models/__init__.py; generated, a project has many imports."""
        if self.known_reexports is not None:
            yield from self.known_reexports.items()
            return
        for importers in (self.other_imports.items(), ((n, m.imports) for n, m in self.modules.items())):
            for name, imports in importers:
                for target in imports:
                    if "." in target:
                        yield f"{name}.{target.rsplit('.', 1)[1]}", target

    def _with_aliases(self, table: dict[str, T]) -> dict[str, T]:
        """`table` with every name a module re-exports one of its keys as (`app.models.User` for
        `app.models.user_models.User`), a re-export of a re-export too."""
        for _ in range(MAX_CHAIN_DEPTH):
            added = {alias: table[target] for alias, target in self._import_pairs()
                     if target in table and alias not in table}
            if not added:
                break
            table.update(added)
        return table

    def _follow_reexports(self) -> None:
        """`scheduler/storage/__init__.py`'s `from .storage import DBConn` makes `scheduler.storage.DBConn`
        the factory, object, opener, scope or command `scheduler.storage.storage.DBConn` is."""
        scopes = set(self._scopes)
        for _ in range(MAX_CHAIN_DEPTH):  # a re-export of a re-export
            added = False
            for alias, target in self._import_pairs():
                if alias == target or alias in self._reexports:
                    continue
                for table in (self._factories, self._objects, self._openers, self._yields, self._begun_yields,
                              self._interfaces, self._call_results, self._external_bindings):
                    if target in table and alias not in table:
                        table[alias] = table[target]  # type: ignore[index]
                        self._reexports[alias] = target
                if target in scopes and alias not in scopes:
                    scopes.add(alias)
                    self._scopes.append(alias)
                    self._reexports[alias] = target
                if target in self._registered_once:
                    self._registered_once |= {alias}
                    self._reexports[alias] = target
                if target in self._installers and alias not in self._installers:
                    self._installers[alias] = self._installers[target]
                    self._reexports[alias] = target
                if target in self._result_parameters and alias not in self._result_parameters:
                    self._result_parameters[alias] = self._result_parameters[target]
                    self._reexports[alias] = target
                if alias in self._routes and target not in self._routes:  # routed by the name it is re-exported as
                    self._routes |= {target}
                    self._reexports[alias] = target
                added = added or alias in self._reexports
            if not added:
                break

    def _resolve_library_reexports(self) -> None:
        """An opener's builder imported from a project module (ModuleFacts.openers) is the library's
        when that module imports it from one: `from dispatch.database.core import sessionmaker`, where
        core.py has `from sqlalchemy.orm import sessionmaker`, makes `sessionmaker(bind=e)()` a session.
        An opener whose builder resolves to nothing outside the project is no opener."""
        project = self.project_packages() | frozenset(name.split(".")[0] for name in self.modules)
        for opener, constructor in list(self._openers.items()):
            if constructor.split(".")[0] not in project:
                continue
            if "()." in constructor:  # `get_engine().connect()`: a checkout on a project factory's result
                resolved = self.factory_checkout(constructor)
                if resolved is None:
                    del self._openers[opener]
                else:
                    self._openers[opener] = resolved
                continue
            builder = constructor.rstrip("()")
            calls = constructor[len(builder):]
            module, _, attribute = builder.rpartition(".")
            facts = self.modules.get(module)
            library = next((name for name in facts.imports if name.rpartition(".")[2] == attribute
                            and name.split(".")[0] not in project), None) if facts is not None else None
            if library is None:
                del self._openers[opener]
            else:
                self._openers[opener] = library + calls

    def factory_checkout(self, taken: str) -> Optional[str]:
        """`app.db.get_engine().connect()` as the catalog names it, `sqlalchemy.create_engine().connect()`,
        when `get_engine` is a project factory (cached or not: its callers share its client, whose
        checkouts are still checkouts); None when it is none."""
        receiver, _, method = taken[:-2].rpartition(".")
        factory = self.factory(receiver[:-2]) if receiver.endswith("()") else None
        if factory is None or not factory.constructor or (factory.datasource or "").startswith("sqlite"):
            return None
        return f"{factory.constructor}().{method}()"

    def _project_holders(self) -> list[tuple[ModuleFacts, str, str]]:
        """ModuleFacts.project_holders whose origin opens a connection or session: a project opener (a
        wrapper class, a function returning what it opens) or a checkout on a project factory's result.
        (module, class name, attribute)."""
        if "_resolved_project_holders" not in self.__dict__:
            self.__dict__["_resolved_project_holders"] = [
                (module, name, attribute) for module in self.modules.values()
                for name, attribute, origin in module.project_holders if self._opens(origin)]
        return self.__dict__["_resolved_project_holders"]

    def _opens(self, origin: str) -> bool:
        """Whether what a project callable returns, as ModuleFacts.project_holders names it, is a connection or
        session it opens: a project opener's, or a checkout on a project factory's result."""
        return (self.factory_checkout(origin) if "()." in origin else self._openers.get(origin)) is not None

    def _lent_holders(self) -> list[tuple[ModuleFacts, str, str, str]]:
        """ModuleFacts.lent_holders whose every borrower only borrows what the class hands it (ModuleFacts.
        borrowed_parameters), and whose origin opens something as in _project_holders: (module, class
        name, attribute, origin or "")."""
        if "_resolved_lent_holders" not in self.__dict__:
            borrowers = {f"{m.module}.{name}" if m.module else name: borrowed
                         for m in self.modules.values() for name, borrowed in m.borrowed_parameters}

            def borrowed(callee: str, argument: Union[int, str]) -> bool:
                return any(argument == (position if isinstance(argument, int) else parameter)
                           for position, parameter in borrowers.get(callee, ()))

            self.__dict__["_resolved_lent_holders"] = [
                (module, name, attribute, origin) for module in self.modules.values()
                for name, attribute, origin, lent in module.lent_holders
                if all(borrowed(callee, argument) for callee, argument in lent) and (not origin or self._opens(origin))]
        return self.__dict__["_resolved_lent_holders"]

    def lent_callees(self) -> list[str]:
        """The project callables that classes hand what they keep to (ModuleFacts.lent_holders): the index
        reads the modules that name them, where they are defined, to tell whether they only borrow it."""
        return sorted({callee for m in self.modules.values() for *_, lent in m.lent_holders for callee, _ in lent})

    def _all_holders(self) -> list[tuple[ModuleFacts, str, str]]:
        """Every holder class: ModuleFacts.holders, the resolved project_holders and lent_holders."""
        return [(module, name, attribute) for module in self.modules.values() for name, attribute in module.holders] \
            + self._project_holders() + [(module, name, attribute) for module, name, attribute, _ in self._lent_holders()]

    def _holds(self, module: ModuleFacts, name: str, attribute: str) -> bool:
        return any(held is module and (held_name, held_attribute) == (name, attribute)
                   for held, held_name, held_attribute in self._all_holders())

    def library_builders(self, catalog: Catalog) -> frozenset[str]:
        """Library builders the read modules import (`sqlalchemy.orm.sessionmaker`, whose call's result
        opens a session): a module that imports one from them opens what it opens."""
        return frozenset(name for m in self.modules.values() for name in m.imports
                         if catalog.client_for(f"{name}()") is not None)

    def _inherited_factories(self) -> None:
        """A class built like its project base (ModuleFacts.inherits) is a factory when the base is one:
        `RomsHandler()` -> `DBBaseHandler()` -> `create_engine()`; a chain of them, base first."""
        pending = [(f"{m.module}.{name}" if m.module else name, base, line, m.module)
                   for m in self.modules.values() for name, base, line in m.inherits]
        self._inheriting_modules: set[str] = set()
        for _ in range(MAX_CHAIN_DEPTH):
            found = [entry for entry in pending if entry[1] in self._factories and entry[0] not in self._factories]
            if not found:
                break
            for name, base, line, module in found:
                self._factories[name] = Factory(
                    name=name, display=f"{name.rsplit('.', 1)[-1]}()", constructor="", constructor_display="",
                    library="", datasource=None, cached=False, line=line, returns=base)
                self._inheriting_modules.add(module)

    def _load_graph(self) -> LoadGraph:
        graph = self.__dict__.get("_load_graph_built")
        if graph is None:
            graph = self.__dict__["_load_graph_built"] = LoadGraph(self.paths, self._importers)
        return graph

    def loaded_together(self, first: str, second: str) -> bool:
        """Whether one process may load both modules (python/loading.py)."""
        return self._load_graph().loaded_together(first, second)

    def may_run(self, relative: str) -> bool:
        """Whether some process may load the module at `relative` (root-relative), so that its code may
        run: a module whose import it is (itself, or one importing it at any depth) is loaded from outside
        the project, or may be. Something outside may load a module that sits where no package holds it
        (`main.py`, `scripts/seed.py`), that shows it runs (a main guard, a top-level call, an application
        object, a framework's convention: python/loading.py StartSigns), or whose name another file
        spells (a Procfile's `celery -A app.jobs`, a setting's `"app.workers.sync"`, a README's
        `python -m app.tools.backfill`). A project that loads modules by computed names may run any.
        Code that no process loads cannot hold a pool: an old `telegram_bot.py` nothing imports."""
        if self.inert is None or self.loads_dynamically or relative not in self.paths:
            return True
        unloaded = self._unloaded_candidate(relative)
        if unloaded is None:
            return True
        answers = self.__dict__.get("_mentioned")
        if answers is None:
            answers = self.__dict__["_mentioned"] = self._mentioned_candidates()
        return answers.get(relative, True)

    def _unloaded_candidate(self, relative: str) -> Optional[tuple[frozenset[str], frozenset[str]]]:
        """For a module that no module shows it may start, in a package the project shows running: the
        words that would name what loads it (the stems of those modules, a package by its folder) and
        those modules' paths; None when the module may run without a file naming it."""
        graph = self._load_graph()
        module = self.paths[relative]
        loaders = [graph.relative(loader) for loader in graph.loaders(module)]
        if any(loader is None or self._may_start(loader) for loader in loaders):
            return None
        # ...and only where the project shows how its package runs: some module of the package is
        # loaded by one that shows it starts (not only by a convention: a library's modules run in its
        # users' processes, and its tests show nothing of that)
        if not self.run_by_the_project(relative):
            return None
        words = frozenset(word for loader in loaders if loader is not None for word in _spellings(loader))
        # a package named whole in quotes loads its modules by their file names (werkzeug's
        # `find_modules("app.web.blueprints")`, a setting's list of plugin packages)
        words |= frozenset(f"{quote}{name.rsplit('.', 1)[0]}{quote}" for name in graph.loaders(module)
                           if name.count(".") >= 2 for quote in ('"', "'"))
        return words, frozenset(loader for loader in loaders if loader is not None)

    def _mentioned_candidates(self) -> dict[str, bool]:
        """Whether a file of the project, other than the modules that would load it, names each module
        that may run only if something outside loads it: every such module at once, in one pass over the
        project's files (python/loading.py mentions)."""
        candidates = {relative: found for relative in self.paths
                      if (found := self._unloaded_candidate(relative)) is not None}
        if self.text_files is None:
            return {relative: True for relative in candidates}
        spelled = mentions(self._texts(), {word for words, _ in candidates.values() for word in words})
        return {relative: any(spelled.get(word, set()) - skipped for word in words)
                for relative, (words, skipped) in candidates.items()}

    def run_by_the_project(self, relative: str, regular: bool = False) -> bool:
        """Whether the module at `relative` is of a package the project shows running (a module that
        shows it starts loads one of its modules, python/loading.py StartSigns): an application's, whose
        functions its own code calls, not a library's, whose functions its users call. `regular`: of a
        package with an `__init__.py` only (not a folder of snippets some of which run)."""
        package = self._regular_top_package(relative) if regular else self._top_package(relative)
        return package is not None and any(name == package or name.startswith(package + ".")
                                           for name in self._loaded_by_shown_starts())

    def files_spelling(self, word: str) -> frozenset[str]:
        """The project's files (root-relative) that may name the function or class `word` by it: a
        call, an import, a string, a setting (python/loading.py spelling_files). None of them: nothing
        calls it. Every file, when the index cannot list them."""
        found = self.__dict__.setdefault("_spelling", {})
        if word not in found:
            if self.text_files is None:
                return frozenset(self.paths)
            if word in self.known_spelling and self.known_spelling_manifest == self.texts_manifest():
                found[word] = frozenset(self.known_spelling[word])
            else:
                found[word] = spelling_files(self._texts(), word)
        return found[word]

    def spelling_answers(self) -> tuple[str, dict[str, list[str]]]:
        """(`texts_manifest`, word -> files) of the `files_spelling` answers known so far, for the next run
        (engine/index.py keeps them): a warm run checks again the answers its cached results depend on,
        and reading every text file of the project for each was most of its time."""
        found = self.__dict__.get("_spelling", {})
        if not found or self.text_files is None:
            return "", {}
        return self.texts_manifest(), {word: sorted(files) for word, files in found.items()}

    def texts_manifest(self) -> str:
        """A digest of the stamps of the project's text files (paths.stamps_digest): it holds while none
        changed and none came or went."""
        known = self.__dict__.get("_texts_manifest")
        if known is None:
            known = self.__dict__["_texts_manifest"] = stamps_digest(
                {relative: stamp for relative, _, stamp in self._text_listing()})
        return known

    def _text_listing(self) -> list[tuple[str, Path, Optional[tuple[int, ...]]]]:
        """(root-relative path, path, paths.file_stamp) of the project's text files."""
        listing = self.__dict__.get("_text_files_listed")
        if listing is None:
            assert self.text_files is not None
            listing = self.__dict__["_text_files_listed"] = [
                (relative, path, file_stamp(path)) for relative, path in self.text_files()]
        return listing

    def _texts(self) -> Iterable[tuple[str, bytes]]:
        """The project's text files' contents (python/loading.py read_texts), for the module mentions and
        the spelling pass: kept for the next question while they fit in TEXTS_KEPT_BYTES (a run asks
        once per function that holds a finding), else read again."""
        kept = self.__dict__.get("_texts_kept")
        if kept is not None:
            return kept
        listing = self._text_listing()
        files = [(relative, path) for relative, path, _ in listing]
        if sum(stat[0] for _, _, stat in listing if stat is not None) > TEXTS_KEPT_BYTES:
            return read_texts(files)
        kept = self.__dict__["_texts_kept"] = list(read_texts(files))
        return kept

    def _may_start(self, relative: str) -> bool:
        """Whether something outside the project may load the module at `relative`: it shows it may
        (python/loading.py StartSigns), or no package holds it."""
        return relative not in self.inert or self._outside_packages(relative)

    def _top_package(self, relative: str) -> Optional[str]:
        """The outermost regular package holding the module (`backend/app/` of backend/app/services/x.py
        when backend/ has no `__init__.py`), by module name; None for a module outside packages."""
        return self._regular_top_package(relative) or self._namespace_package(relative)

    def _regular_top_package(self, relative: str) -> Optional[str]:
        """The outermost package with an `__init__.py` that holds the module, by module name; None for
        a module outside such packages."""
        parts = relative.split("/")[:-1]
        for end in range(1, len(parts) + 1):
            init = "/".join(parts[:end]) + "/__init__.py"
            if init in self.paths:
                return self.paths[init]
        return None

    def _namespace_package(self, relative: str) -> Optional[str]:
        """The top-level package of a module in folders without `__init__.py` that the project imports
        through (`from app.core.config import settings` makes `app/` one: an implicit namespace package),
        by name; None for a module of a folder no import goes through (`scripts/seed.py`, run by path),
        or of one inside a regular package."""
        module = self.paths.get(relative, "")
        if "." not in module:
            return None
        if self._regular_top_package(relative) is not None:
            # a folder without `__init__.py` inside a regular package (backend/ml/routes/ of backend/ml/):
            # its modules are imported as top-level names by code run from there (`from routes import x`)
            return None
        if "_namespace_roots" not in self.__dict__:
            self.__dict__["_namespace_roots"] = frozenset(
                name.split(".")[0] for name in self._importers if "." in name)
        top = module.split(".")[0]
        return top if top in self.__dict__["_namespace_roots"] else None

    def _loaded_by_shown_starts(self) -> frozenset[str]:
        """The modules that the modules which show they may start (not only by a convention) load."""
        if "_running" not in self.__dict__:
            graph = self._load_graph()
            self.__dict__["_running"] = graph.loaded_from(
                [module for relative, module in self.paths.items()
                 if self._may_start(relative) and relative not in self.conventional])
        return self.__dict__["_running"]

    def _outside_packages(self, relative: str) -> bool:
        """A module of a folder that is no regular package (no `__init__.py`): run by its path
        (`python scripts/seed.py`) or imported from a path entry outside the project."""
        if relative.endswith("/__init__.py") or relative == "__init__.py":
            return False
        folder = relative.rsplit("/", 1)[0] + "/" if "/" in relative else ""
        return f"{folder}__init__.py" not in self.paths and self._namespace_package(relative) is None

    def defines_screen_words(self, module: ModuleFacts, catalog: Catalog, session_helpers: bool = True) -> bool:
        """Whether one of the project's words (a factory, client object, scope, model class, function that
        leaves a shared session open) is defined in this module, as the whole project resolves them; with
        the classes that inherit a factory from another module and the library models on a base of the
        project (`class User(Base)`). A module whose facts define words that resolve to none
        (ModuleFacts.defines_screen_words: a `.get()` on an imported object that is no session) defines none.
        `session_helpers`: whether those functions are words of this run (the setting of that name)."""
        if module.module in self._inheriting_modules or any(
                (f"{module.module}.{name}" if module.module else name) in self.library_models(catalog)
                for name, _ in module.subclasses):
            return True
        return module.defines_screen_words and (
            not module.module or module.module in self._modules_defining_words(catalog, session_helpers))

    def _project_words(self, catalog: Catalog, session_helpers: bool) -> Iterator[str]:
        """The project's qualified words a file may use: its factories, client objects, scopes, library
        models and, with `session_helpers`, the functions that leave a shared session open."""
        yield from self.screen_words()
        yield from self.screen_objects(catalog)
        yield from self.screen_scopes()
        yield from self.library_models(catalog)
        yield from self.judged_session_openers(catalog, session_helpers)
        yield from self.request_session_dependencies(catalog)

    def _modules_defining_words(self, catalog: Catalog, session_helpers: bool) -> frozenset[str]:
        """Every dotted prefix of every qualified project word (a module is one of them when it defines one)."""
        memo = self.__dict__.setdefault("_word_modules", {})
        if session_helpers not in memo:
            prefixes: set[str] = set()
            for word in (*self.constructor_objects(catalog), *self._project_words(catalog, session_helpers)):
                parts = word.split(".")
                prefixes.update(".".join(parts[:cut]) for cut in range(1, len(parts)))
            memo[session_helpers] = frozenset(prefixes)
        return memo[session_helpers]

    # -- files ----------------------------------------------------------------------------------
    def relative(self, path: Path) -> Optional[str]:
        """`path` relative to the project's root, POSIX separators; None outside it or when it does not resolve."""
        known = self.__dict__.setdefault("_relatives", {})
        if path not in known:
            # plain strings: a run asks this of every file, several times, and pathlib's relative_to showed
            try:
                full, top = str(resolved(path)), str(resolved(self.root))
            except (OSError, RuntimeError):
                return None
            below = top if top.endswith(os.sep) else top + os.sep
            known[path] = "." if full == top else full[len(below):].replace(os.sep, "/") if full.startswith(below) \
                else None
        return known[path]

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
        """Names a file may call to build a pool or open a connection: the project's pool factories,
        openers and generators annotated to yield what the rules follow (`next(get_db())`), qualified
        and as written."""
        if not hasattr(self, "_screen_words"):
            self._screen_words = frozenset(_and_last_parts([*self.pool_factories(), *self._openers, *self._yields]))
        return self._screen_words

    def yielded_type(self, qualified_name: Optional[str]) -> Optional[str]:
        """What a project generator function or method is annotated to yield, when the rules follow
        objects of it (ModuleFacts.yields): `app.db.get_db` -> `sqlalchemy.orm.Session`. One that
        yields what a module object of the project builds (`async with async_session() as session:
        yield session`, `async_session` imported from app/db.py) yields what built that object."""
        yielded = self._yields.get(qualified_name) if qualified_name else None
        if yielded is not None and yielded.endswith("()") and yielded[:-2] in self._objects:
            return self.object_origin(yielded[:-2]) or yielded
        return yielded

    def begun_yield(self, qualified_name: Optional[str]) -> Optional[tuple[str, int]]:
        """Of a project generator that yields a session (`yielded_type`): where it queries the session
        before yielding it (root-relative path, line), so that the session's transaction is open when
        the caller's `with` body starts; None when it does not."""
        return self._begun_yields.get(qualified_name) if qualified_name else None

    def sole_implementation(self, qualified_name: Optional[str]) -> Optional[str]:
        """The one project class, outside tests, that implements an interface (ModuleFacts.interfaces),
        directly or through other interfaces: what an object annotated with the interface is
        (`uow: IUnitOfWorkFactory` -> `SqlAlchemyUnitOfWorkFactory`). None for a class that is no
        interface, or one that no class or several classes implement."""
        if not qualified_name:
            return None
        if self.known_implementations is not None:
            return self.known_implementations.get(qualified_name)
        if "_sole_implementations" not in self.__dict__:
            self._sole_implementations = self._find_sole_implementations()
        return self._sole_implementations.get(qualified_name)

    def _find_sole_implementations(self) -> dict[str, str]:
        children: dict[str, list[str]] = {}
        for module in self.modules.values():
            for name, bases in module.subclasses:
                qualified = f"{module.module}.{name}" if module.module else name
                for base in bases:
                    children.setdefault(self._reexports.get(base, base), []).append(qualified)
        found: dict[str, str] = {}
        for interface in self._interfaces:
            target = self._reexports.get(interface, interface)
            seen, pending, concrete = {target}, [target], set()
            while pending:  # every class below it: a concrete class with subclasses has several kinds of instance
                for child in children.get(pending.pop(), ()):
                    if child not in seen:
                        seen.add(child)
                        pending.append(child)
                        if child not in self._interfaces:
                            concrete.add(child)
            if len(concrete) == 1:
                found[interface] = concrete.pop()
        return found

    def holds_enabled(self, spec: ImplicitTransactionSpec) -> bool:
        """Whether the hold `spec` describes exists in this project: always, or where its settings enable
        it (ImplicitTransactionSpec.setting: Django keeps a request's connection out of its pool only
        with the pool on)."""
        return not spec.setting or spec.setting in self._hold_settings

    def hold_setting_site(self, spec: ImplicitTransactionSpec) -> Optional[tuple[str, int]]:
        """(module path, line) of the setting that enables the hold `spec` describes, or None."""
        return self._hold_settings.get(spec.setting) if spec.setting else None

    def library_model(self, qualified_class: Optional[str], catalog: Catalog) -> Optional[str]:
        """The library model base a project class stands on (Catalog.model_bases), directly or through
        project classes: `app.models.User` -> `flask_sqlalchemy.SQLAlchemy().Model` for `class User(Base)`,
        `class Base(db.Model)` and `db = SQLAlchemy()` in app/extensions.py. None for any other class."""
        if not qualified_class:
            return None
        return self.library_models(catalog).get(qualified_class)

    def library_models(self, catalog: Catalog) -> dict[str, str]:
        """Every project class outside tests on a library model base (library_model), computed once."""
        if self.known_models is not None:
            return self.known_models
        if "_library_models" not in self.__dict__:
            self._library_models = self._find_library_models(frozenset(
                query.rsplit(".", 1)[0] for spec in catalog.implicit_transactions if self.holds_enabled(spec)
                for query in spec.model_queries))
        return self._library_models

    def model_queries(self, catalog: Catalog) -> frozenset[str]:
        """How the project's library model classes query a session (ScreenWords.model_queries): `app.models.
        User.query` and `User.query`, for `class User(db.Model)` and Flask-SQLAlchemy's `Model.query`."""
        attributes: dict[str, list[str]] = {}
        for spec in catalog.implicit_transactions:
            for query in spec.model_queries:
                base, _, attribute = query.rpartition(".")
                attributes.setdefault(base, []).append(attribute)
        return frozenset(spelling for model, base in self.library_models(catalog).items()
                         for attribute in attributes.get(base, ())
                         for spelling in (f"{model}.{attribute}", f"{model.rsplit('.', 1)[-1]}.{attribute}"))

    def session_foundations(self, catalog: Catalog) -> frozenset[str]:
        """What a module must import to query a session every module shares or to define a library model
        class (library_model), qualified: module objects that are such a session or hold one (`app.
        extensions.db` of `db = SQLAlchemy()`, `app.db.Session` of `Session = scoped_session(...)`), and the
        model classes found so far (`app.models.Base`). The index reads the modules that import them."""
        if not catalog.implicit_transactions:
            return frozenset()
        # what holds a session or a model base as an attribute: `flask_sqlalchemy.SQLAlchemy()`
        owners = catalog.derived("shared-session-owners", lambda: frozenset(
            name.rsplit(".", 1)[0] for spec in catalog.implicit_transactions
            for name in (*spec.receivers, *(query.rsplit(".", 1)[0] for query in spec.model_queries))
            if name.rsplit(".", 1)[0].endswith(")")))
        return frozenset(name for name in self._objects if (origin := self.object_origin(name)) is not None
                         and (origin in owners or catalog.implicit_transaction(origin) is not None)) \
            | frozenset(self.library_models(catalog))

    def shared_sessions_left_open(self, catalog: Catalog) -> dict[str, frozenset[str]]:
        """Project functions and methods that query a session every module shares and leave its
        transaction open for their caller (`def get_setting(key): return Setting.query.get(key)`, or one
        that calls such a function, a helper's helper at most): qualified name -> the sessions, as the rules
        name them (`flask_sqlalchemy.SQLAlchemy().session`). One that also commits, rolls back or closes
        the session, or calls a function that does, is left out: which comes last is not known."""
        if "_open_sessions" not in self.__dict__:  # asked at every call the holding rules visit: once
            self._open_sessions = self._find_open_sessions(catalog) if self.known_open_sessions is None else {
                name: frozenset(found) for name, found in self.known_open_sessions.items()}
        return self._open_sessions

    def judged_session_openers(self, catalog: Catalog, session_helpers: bool) -> frozenset[str]:
        """The functions of shared_sessions_left_open whose hold the rules judge in this run: every one with
        `session_helpers`; else those that leave open a connection the framework keeps whoever queried
        (ImplicitTransactionSpec.setting: Django's pool)."""
        left_open = self.shared_sessions_left_open(catalog)
        # and the library's own (`get_object_or_404()`), where the settings enable what they begin
        library = frozenset(name for spec in catalog.implicit_transactions if spec.setting and self.holds_enabled(spec)
                            for name in spec.begin_functions)
        if session_helpers:
            return frozenset(left_open) | library
        kept = catalog.setting_kept_sessions()
        return frozenset(name for name, sessions in left_open.items() if sessions & kept) | library

    def _find_open_sessions(self, catalog: Catalog) -> dict[str, frozenset[str]]:
        if not catalog.implicit_transactions:
            return {}
        summaries, _ = self._call_summaries()
        begun: dict[str, set[str]] = {}
        ended: dict[str, set[str]] = {}
        for name, summary in summaries.items():
            if summary.session_begins or summary.session_ends:
                begun[name] = {found for raw in summary.session_begins
                               if (found := self._shared_session(raw, catalog)) is not None}
                ended[name] = {found for raw in summary.session_ends
                               if (found := self._shared_session(raw, catalog)) is not None}
        if not any(begun.values()):
            return {}
        left_open = {name: found - ended[name] for name, found in begun.items()}
        ended = self._with_aliases(ended)  # a callee by the name a package re-exports it as
        callees = {callee for summary in summaries.values() for callee in summary.callees}
        run_by = {callee: self._definitions_run_by(callee, summaries) for callee in callees}

        def of(found: dict[str, set[str]], callee: str) -> set[str]:
            return set().union(*(found.get(definition, ()) for definition in run_by.get(callee, (callee,))))

        for _ in range(2):  # a helper's helper (`load_user()` -> `get_setting()`)
            left_open = self._with_aliases(left_open)
            grown = False
            for name, summary in summaries.items():
                inherited = set().union(*(of(left_open, callee) for callee in summary.callees))
                inherited -= ended.get(name, set()).union(*(of(ended, callee) for callee in summary.callees))
                if inherited - left_open.get(name, set()):
                    left_open[name] = left_open.get(name, set()) | inherited
                    grown = True
            if not grown:
                break
        # a class's name, and a method by its subclass's name, stand for what calling them runs (`AIConfig()`)
        for callee, definitions in run_by.items():
            if definitions != (callee,) and (found := of(left_open, callee) - of(ended, callee)):
                left_open[callee] = left_open.get(callee, set()) | found
        return {name: frozenset(found) for name, found in self._with_aliases(left_open).items() if found}

    def _definitions_run_by(self, callee: str, summaries: dict[str, CallSummary]) -> tuple[str, ...]:
        """The project functions a call of `callee` runs, among those with a summary: itself; for a class,
        its `__init__` and (a dataclass's) `__post_init__`; for a method its class does not define, the one
        of the nearest project base that does (`AIConfig._get_config_instance` of `BaseConfig`)."""
        if callee in summaries:
            return (callee,)
        bases = self._project_bases()

        def lookup(klass: str, method: str, depth: int = 0) -> Optional[str]:
            if f"{klass}.{method}" in summaries:
                return f"{klass}.{method}"
            if depth >= MAX_CHAIN_DEPTH:
                return None
            return next((found for base in bases.get(klass, ()) if (found := lookup(base, method, depth + 1))), None)

        constructed = tuple(found for method in ("__init__", "__post_init__") if (found := lookup(callee, method)))
        if constructed:
            return constructed
        owner, _, method = callee.rpartition(".")
        inherited = lookup(owner, method) if owner in bases else None
        return (inherited,) if inherited else (callee,)

    def _project_bases(self) -> dict[str, tuple[str, ...]]:
        """Each project class outside tests -> its bases of the project, qualified (ModuleFacts.subclasses)."""
        if "_bases" not in self.__dict__:
            self._bases = {f"{m.module}.{name}" if m.module else name: tuple(self._reexports.get(b, b) for b in bases)
                           for m in self.modules.values() for name, bases in m.subclasses}
        return self._bases

    def engines(self, library: str) -> list[tuple[str, str]]:
        """The engines of `library` the application builds (ModuleFacts.engines): (qualified constructor,
        "sqlite-memory", "sqlite", "server" or "": ModuleFacts.engines), one per distinct kind."""
        return self._engines_by_library().get(library, [])

    def _engines_by_library(self) -> dict[str, list[tuple[str, str]]]:
        if "_engines" not in self.__dict__:
            found: dict[str, dict[tuple[str, str], None]] = {}
            for module in self.modules.values():
                for engine_library, constructor, backend in module.engines:
                    found.setdefault(engine_library, {})[(constructor, backend)] = None
            self._engines = self.known_engines if self.known_engines is not None else {
                name: list(kinds) for name, kinds in found.items()}
        return self._engines

    @property
    def dependency_aliases(self) -> dict[str, tuple[str, str]]:
        """The module-level aliases of a parameter filled from a dependency, qualified -> (what is called
        for it, the parameter's type or ""): `app.api.deps.SessionDep` of `SessionDep = Annotated[Session,
        Depends(get_db)]` -> (`app.db.get_db`, `sqlalchemy.orm.Session`). The rules read them where used."""
        if "_dependency_aliases" not in self.__dict__:
            self._dependency_aliases = self.known_aliases if self.known_aliases is not None else {
                f"{m.module}.{name}" if m.module else name: (provider, type_)
                for m in self.modules.values() for name, provider, type_ in m.dependency_aliases}
        return self._dependency_aliases

    def request_session_dependencies(self, catalog: Catalog) -> frozenset[str]:
        """The project's functions that take a request's session from a dependency, qualified: a parameter
        of a catalog session type filled by one (`db: Session = Depends(get_db)`, `db: SessionDep`), or
        one of their own dependencies that does (`user = Depends(get_current_user)`), a few levels deep;
        with the aliases that name one (`CurrentUser = Annotated[User, Depends(get_current_user)]`). What
        such a dependency does with the session before the handler runs is the rules' to judge
        (rules/holding.py); the screen lets through the files that name one."""
        if "_request_sessions" in self.__dict__:
            return self._request_sessions
        if self.known_request_sessions is not None:
            self._request_sessions = self.known_request_sessions
            return self._request_sessions
        aliases = self.dependency_aliases

        def resolved(provider: str, type_: str) -> tuple[str, str]:
            aliased = aliases.get(provider)
            return (aliased[0], type_ or aliased[1]) if aliased is not None else (provider, type_)

        functions = {f"{m.module}.{name}" if m.module else name: [resolved(*found) for found in dependencies]
                     for m in self.modules.values() for name, dependencies in m.dependencies}
        taking = {name for name, found in functions.items()
                  if any(catalog.implicit_transaction(type_) is not None for _, type_ in found)}
        for _ in range(MAX_CHAIN_DEPTH):
            grown = {name for name, found in functions.items()
                     if name not in taking and any(provider in taking for provider, _ in found)}
            if not grown:
                break
            taking |= grown
        taking |= {alias for alias, (provider, type_) in aliases.items()
                   if provider in taking or catalog.implicit_transaction(type_) is not None}
        self._request_sessions = frozenset(taking)
        return self._request_sessions

    def _shared_session(self, raw: str, catalog: Catalog) -> Optional[str]:
        """The shared session a summary's receiver names (CallSummary.session_begins), as the rules name it:
        `app.models.User.query` of a Flask-SQLAlchemy model -> its `model-session`; `app.extensions.db.
        session` -> `flask_sqlalchemy.SQLAlchemy().session`; `app.db.Session` of `Session =
        scoped_session(...)` -> `sqlalchemy.orm.scoped_session()`. None for anything else."""
        by_function = catalog.session_function(raw)
        if by_function is not None:  # `get_object_or_404(...)`, `close_old_connections()`
            spec = by_function[0]
            return spec.model_session if self.holds_enabled(spec) else None
        owner, _, attribute = raw.rpartition(".")
        model = self.library_model(owner, catalog) if owner else None
        if model is not None:
            spec = catalog.model_query(model, attribute)
            return spec.model_session if spec is not None else None
        candidates = [raw, self.object_origin(raw)]
        owner_origin = self.object_origin(owner) if owner else None
        if owner_origin is not None:
            candidates.append(f"{owner_origin}.{attribute}")
        return next((found for found in candidates
                     if found is not None and "(" in found and (spec := catalog.implicit_transaction(found)) is not None
                     and self.holds_enabled(spec)), None)

    def _find_library_models(self, model_bases: frozenset[str]) -> dict[str, str]:
        if not model_bases:
            return {}
        found = {f"{m.module}.{name}" if m.module else name: base
                 for m in self.modules.values() for name, base in m.library_models if base in model_bases}
        children: dict[str, list[str]] = {}
        for module in self.modules.values():
            for name, bases in module.subclasses:
                qualified = f"{module.module}.{name}" if module.module else name
                for base in bases:
                    base = self._reexports.get(base, base)
                    children.setdefault(base, []).append(qualified)
                    # `db.Model` of `db = SQLAlchemy()` in another module: that object's origin's base
                    owner, _, attribute = base.rpartition(".")
                    origin = self.object_origin(owner) if owner else None
                    if origin is not None and f"{origin}.{attribute}" in model_bases:
                        found.setdefault(qualified, f"{origin}.{attribute}")
        grown = True
        while grown:  # `class User(Base)` of `from app.models import Base`, re-exported by app/models/__init__.py
            found = self._with_aliases(found)
            grown = False
            for base, kin in children.items():
                for child in kin if base in found else ():
                    if child not in found:
                        found[child] = found[base]
                        grown = True
        return found

    def call_result(self, qualified_class: Optional[str]) -> Optional[str]:
        """The type of what calling an instance of a project class gives, by its `__call__`
        (ModuleFacts.call_results): `app.uow.SqlAlchemyUnitOfWorkFactory` -> `app.uow.SQLAlchemyUnitOfWork`."""
        return self._call_results.get(qualified_class) if qualified_class else None

    def opened_by(self, qualified_name: Optional[str]) -> Optional[str]:
        """The catalog constructor whose connection or session a project function returns, opened for its
        caller (`app.db.get_session` -> `sqlalchemy.orm.sessionmaker()`); None for anything else."""
        return self._openers.get(qualified_name) if qualified_name else None

    def screen_objects(self, catalog: Catalog) -> frozenset[str]:
        """Module objects other modules import whose methods a rule follows (`from app.db import engine`),
        qualified and as written: only those that resolve to a client or receiver of the catalog. So are
        the cached factories of such a client (`get_engine()`, a lazy singleton): every call returns the
        module's one client, whose checkouts are still checkouts (`get_engine().connect()`)."""
        return self._objects_built_by("_screen_objects", catalog.follows_objects_of) \
            | frozenset(_and_last_parts(self._cached_client_factories(catalog)))

    def constructor_objects(self, catalog: Catalog) -> frozenset[str]:
        """Module objects whose call opens a connection or a session (`SessionLocal = sessionmaker(...)`
        in app/db.py, called in every route), qualified and as written."""
        return self._objects_built_by("_constructor_objects", lambda origin: catalog.client_for(origin) is not None)

    def _objects_built_by(self, memo: str, accepts: Callable[[str], bool]) -> frozenset[str]:
        """The module objects whose origin `accepts`, qualified and as written; computed once (under `memo`)."""
        if memo not in self.__dict__:
            origins = ((name, self.object_origin(name)) for name in self._objects)
            self.__dict__[memo] = frozenset(_and_last_parts(
                name for name, origin in origins if origin is not None and accepts(origin)))
        return self.__dict__[memo]

    def imported_project_words(self, imports: frozenset[str], catalog: Catalog,
                               session_helpers: bool = True) -> frozenset[str]:
        """The project factories, client objects, scopes, model classes and (`session_helpers`) functions that
        leave a shared session open a file with these imports (ScreenedFile.imports) may use, by the name its
        code must spell to use one (the last part): it imports the word, or the module that defines it."""
        memo = self.__dict__.setdefault("_qualified_words", {})
        if session_helpers not in memo:
            memo[session_helpers] = [f".{name}" for name in self._project_words(catalog, session_helpers) if "." in name]
        words = memo[session_helpers]
        found = set()
        for imported in imports:
            imported = imported[:-2] if imported.endswith(".*") else imported
            inner = f".{imported.lstrip('.')}"
            found.update(word.rsplit(".", 1)[-1] for word in words if word.endswith(inner) or f"{inner}." in word)
        return frozenset(found)

    def reaching_names(self, with_publishes: bool = False) -> frozenset[str]:
        """Qualified names of the project's functions, methods and classes that may make an external call
        within the depth DBP2xx follows calls (MAX_CHAIN_DEPTH, one more than the rules): a file that
        holds a connection and calls one may report; a file that calls only others cannot."""
        if with_publishes:  # DBP203 selected: a task publish counts as an external call
            if not hasattr(self, "_reaching_publishes"):
                self._reaching_publishes = self._with_reexported_names(self._reaching_closure(True))
            return self._reaching_publishes
        if not hasattr(self, "_reaching"):
            self._reaching = self._with_reexported_names(self._reaching_closure(False))
        return self._reaching

    def _with_reexported_names(self, names: frozenset[str]) -> frozenset[str]:
        """`names` and every name a package re-exports one of them as (`app.models.log_system_event` of
        app/models/__init__.py's `from .system_models import log_system_event`): the rules find a function
        through its re-export (python/cst/modules.py project_definition), and so must the screen."""
        return frozenset(self._with_aliases(dict.fromkeys(names, True)))

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

    def external_bindings(self) -> frozenset[str]:
        """Qualified names of module-scope objects and library bindings other modules may call out through
        (`app.llm.client` of `client = OpenAI()`, `app.llm.litellm` of `import litellm`): a name a file
        imports from the project may make an external call (the screen), as a function that may does."""
        return frozenset(self._external_bindings)

    def _lends_external_bindings(self, module: ModuleFacts) -> bool:
        """Whether another module imports one of this module's external bindings (most modules that bind
        `requests` keep it to themselves)."""
        return any((f"{module.module}.{name}" if module.module else name) in self._imported_modules
                   for name, _ in module.external_bindings)

    def _calls_out(self, summary: CallSummary) -> bool:
        """Whether a function calls a name another module lends to call out through (`client.chat.completions
        .create()` of `from app.llm import client`)."""
        bindings = self._external_bindings
        return bool(bindings) and any(_made_through(callee, bindings) for callee in summary.callees)

    def _reaching_closure(self, with_publishes: bool) -> frozenset[str]:
        summaries, class_of = self._call_summaries()
        reaching = {name for name, summary in summaries.items()
                    if summary.external or (with_publishes and summary.publishes) or self._calls_out(summary)}
        implementations = {interface: implementation for interface in self._interfaces
                           if (implementation := self.sole_implementation(interface)) is not None}
        callers: dict[str, list[str]] = {}
        for name, summary in summaries.items():
            for callee in summary.callees:
                callers.setdefault(callee, []).append(name)
                # `llm.ask()` of `from app.services import llm`, where app/services.py keeps `llm = LLMService()`:
                # a call of the class's method, as `LLMService().ask()` is
                method = self.instance_method(callee)
                if method is not None:
                    callers.setdefault(method, []).append(name)
        followed: set[str] = set()  # reaching names whose callers are reaching already
        for _ in range(MAX_CHAIN_DEPTH):
            # a class whose method may: `Client()`, `Client().post()`
            reaching |= {class_of[name] for name in reaching if name in class_of}
            # an interface's method may when its sole implementation's does (`storage: IObjectStorage`)
            self._add_stand_ins(reaching, implementations, class_of)
            # the functions that call one of them, a call further from the external call each round:
            # the callers of the names reached before this round were added in the round that reached them
            frontier = reaching - followed
            followed |= frontier
            more = {caller for name in frontier for caller in callers.get(name, ()) if caller not in reaching}
            if not more:
                break
            reaching |= more
        reaching |= {class_of[name] for name in reaching if name in class_of}
        self._add_stand_ins(reaching, implementations, class_of)
        # and the module objects of those classes, by the names other modules import them by (the screen)
        self._add_stand_ins(reaching, self._instances(), class_of)
        return frozenset(reaching)

    def _instances(self) -> dict[str, str]:
        """Module-scope objects built by a call of one of the project's classes whose methods call something
        (`llm = LLMService()` in app/services.py: `app.services.llm` -> `app.services.LLMService`)."""
        if "_instance_classes" not in self.__dict__:
            classes = self._classes_calling()
            self.__dict__["_instance_classes"] = {
                name: built for name, origin in self._objects.items()
                if (built := called_for(origin)) is not None and built in classes}
        return self.__dict__["_instance_classes"]

    def calls_something(self, qualified_class: str) -> bool:
        """Whether a method of this project class calls a project callable or an external call (its
        `__init__` building `OpenAI()` included): ModuleFacts.calls."""
        return qualified_class in self._classes_calling()

    def _classes_calling(self) -> frozenset[str]:
        if "_calling_classes" not in self.__dict__:
            self.__dict__["_calling_classes"] = frozenset(self._call_summaries()[1].values())
        return self.__dict__["_calling_classes"]

    def instance_of(self, qualified_name: Optional[str]) -> Optional[str]:
        """`app.services.LLMService()` for `app.services.llm`, a module-scope object another module builds
        from a project class (ProjectIndex._instances): its methods are that class's, in every module that
        imports it, as they are in its own. None for anything else."""
        cls = self._instances().get(qualified_name) if qualified_name else None
        return f"{cls}()" if cls is not None else None

    def instance_method(self, callee: str) -> Optional[str]:
        """`app.services.LLMService.ask` for the callee `app.services.llm.ask`; None for any other callee."""
        instance, _, method = callee.rpartition(".")
        cls = self._instances().get(instance) if instance else None
        return f"{cls}.{method}" if cls is not None else None

    @staticmethod
    def _add_stand_ins(reaching: set[str], stand_ins: dict[str, str], class_of: dict[str, str]) -> None:
        """Each name that stands for a reaching class (an interface for its sole implementation, a module
        object for its class: `stand_ins`, name -> class), and its methods, as reaching."""
        for stand_in, cls in stand_ins.items():
            if cls in reaching:
                reaching.add(stand_in)
                reaching |= {f"{stand_in}{name[len(cls):]}" for name in list(reaching) if class_of.get(name) == cls}

    def holder_made_per_call(self, qualified_class: str) -> Optional[tuple[str, str]]:
        """(attribute, caller) for a class whose objects each hold a connection or session they never let
        go (ModuleFacts.holders), when a project function or method builds one per call: directly, or
        through the constructors of other classes (a handler's `Service()`, whose `__init__` builds the
        class), to the depth DBP2xx follows calls. None when the modules the index read show no such
        caller. Functions registered as commands or named `main` run once, and tests build their
        objects once: neither counts."""
        found = self.holders_made_per_call().get(qualified_class)
        module, _, name = qualified_class.rpartition(".")
        facts = self.modules.get(module)
        # an editor's buffer may have changed the class since the callers were counted
        if not found or facts is None or not self._holds(facts, name, found[0]):
            return None
        return found[0], found[1]

    def holders_made_per_call(self) -> dict[str, list[str]]:
        """holder_made_per_call for every holder class: qualified class -> [attribute, caller]."""
        if self.known_holders is not None:
            return self.known_holders
        if "_holders_per_call" in self.__dict__:
            return self.__dict__["_holders_per_call"]
        found: dict[str, list[str]] = {}
        for module, name, attribute in self._all_holders():
            qualified = f"{module.module}.{name}" if module.module else name
            caller = self._built_by(qualified)[1]
            if caller is not None and qualified not in found:
                found[qualified] = [attribute, caller]
        self.__dict__["_holders_per_call"] = found
        return found

    def _built_by(self, qualified_class: str) -> tuple[set[str], Optional[str]]:
        """(the classes whose `__init__` builds an object of the class, directly or through each other, to
        the depth DBP2xx follows calls; the first function or method among their builders that builds
        one per call: not a test's, not `main`, not a registered command, or None)."""
        if "_constructor_callers" not in self.__dict__:
            callers: dict[str, list[str]] = {}
            for module in self.modules.values():
                if is_test_path(Path(module.path)):
                    continue  # a test builds its objects once
                for summary in module.calls:
                    for callee in summary.callees:
                        callers.setdefault(callee, []).append(
                            f"{module.module}.{summary.name}" if module.module else summary.name)
            self.__dict__["_constructor_callers"] = callers
        callers, class_of = self.__dict__["_constructor_callers"], self._call_summaries()[1]
        classes: set[str] = set()
        per_call: Optional[str] = None
        frontier = {qualified_class}
        for _ in range(MAX_CHAIN_DEPTH):
            constructors: set[str] = set()
            for built in sorted(frontier):
                for caller in callers.get(built, ()):
                    if caller.endswith(".__init__") and caller in class_of:
                        constructors.add(class_of[caller])
                    elif per_call is None and caller not in self._registered_once \
                            and caller.rsplit(".", 1)[-1] != "main":
                        per_call = caller
            frontier = constructors - classes - {qualified_class}
            classes |= frontier
        return classes, per_call

    def opening_callables(self, catalog: Catalog) -> list[str]:
        """Project callables whose call opens something a class may keep on `self` (ModuleFacts.
        project_holders): openers (`DatabaseHandler()`, `get_conn()`) and the cached factories of a
        followed client (`get_engine().connect()`); the index reads the modules that call them."""
        return sorted({*self._openers, *self._cached_client_factories(catalog)})

    def _cached_client_factories(self, catalog: Catalog) -> frozenset[str]:
        """Cached factories (a lazy singleton, a memo) of a client the rules follow, qualified."""
        if "_cached_factories" not in self.__dict__:
            self.__dict__["_cached_factories"] = frozenset(
                name for name in self._factories if (found := self.factory(name)) is not None and found.cached
                and found.constructor and catalog.follows_objects_of(found.constructor))
        return self.__dict__["_cached_factories"]

    def holder_builders(self) -> list[str]:
        """Qualified names of the holder classes (ModuleFacts.holders) and of the classes whose `__init__`
        builds one, to the depth DBP2xx follows calls: the index reads the modules that name them."""
        names = {f"{m.module}.{name}" if m.module else name for m, name, _ in self._all_holders()}
        return sorted(names.union(*(self._built_by(name)[0] for name in names)))

    def followed_bases(self) -> list[str]:
        """Project bases of the classes DBP2xx follows: scopes, classes whose instances' call builds one,
        classes with a method that may reach an external call. The index reads the modules that name
        them: where they are declared interfaces, and where annotations name them."""
        _, class_of = self._call_summaries()
        reaching = self.reaching_names(with_publishes=True)
        scopes = set(self._scopes)
        followed = scopes | {name for name, built in self._call_results.items() if built in scopes} \
            | {class_of[name] for name in reaching if name in class_of}
        return sorted({base for m in self.modules.values() for name, bases in m.subclasses
                       if (f"{m.module}.{name}" if m.module else name) in followed for base in bases})

    def may_reach_by_name(self, name: str) -> bool:
        """Whether some function, method or class of the project called `name` may reach an external call."""
        if "_reaching_last_parts" not in self.__dict__:
            self.__dict__["_reaching_last_parts"] = frozenset(
                n.rsplit(".", 1)[-1] for n in self.reaching_names(with_publishes=True))
        return name in self.__dict__["_reaching_last_parts"]

    def reaching_callables(self) -> list[str]:
        """The reaching names another module spells to call them: functions and classes, not methods
        (`Client().post()` names `Client`)."""
        methods = self._call_summaries()[1]
        return [name for name in self.reaching_names(with_publishes=True) if name not in methods]

    def screen_scopes(self) -> frozenset[str]:
        """The project's context managers that may open a transaction or checkout for their callers, and the
        classes whose objects stand for one or build one when called (`uow: IUnitOfWorkFactory`, then
        `async with uow():`)."""
        if "_screen_scopes" not in self.__dict__:
            scopes = set(self._scopes)
            for _ in range(2):  # a factory's interface, whose implementation builds a scope's implementation
                scopes |= {name for name, built in self._call_results.items()
                           if (self.sole_implementation(built) or built) in scopes}
                scopes |= {name for name in self._interfaces if self.sole_implementation(name) in scopes}
            self._screen_scopes = frozenset(_and_last_parts(scopes))
        return self._screen_scopes

    def project_packages(self) -> frozenset[str]:
        """Top-level names of the project's modules: a call into one may reach an external call (DBP2xx)."""
        if not hasattr(self, "_project_packages"):
            self._project_packages = frozenset(name.split(".")[0] for name in self.paths.values() if name) \
                | root_packages(self.source_roots)
        return self._project_packages

    def mentions_factory(self, data: bytes, catalog: Catalog) -> bool:
        """The byte screen's second chance: a file that only calls a project factory, uses a module
        object, enters a project scope, queries a model class (`User.query`) or calls a function that
        leaves a shared session's transaction open, or names a dependency that takes a request's session
        (`Depends(get_current_user)`, `user: CurrentUser`)."""
        if not hasattr(self, "_screen"):
            names = {name.rsplit(".", 1)[-1] for name in (
                *self.screen_words(), *self.screen_objects(catalog), *self.screen_scopes(),
                *self.shared_sessions_left_open(catalog), *self.request_session_dependencies(catalog))} \
                | self.model_queries(catalog)  # `User.query`: as spelled, not by its last part
            self._screen = word_pattern(sorted(names)) if names else None
        return self._screen is not None and self._screen.search(data) is not None

    def digest(self) -> str:
        """Changes whenever a fact another file's findings depend on changes: part of per-file cache keys."""
        if not hasattr(self, "_digest"):
            self._digest = facts_digest({name: module.to_json() for name, module in self.modules.items()})
        return self._digest

    def with_source(self, path: Path, source: Union[str, bytes], settings: Settings) -> "ProjectIndex":
        """This index with one file's facts read from `source` (an editor's unsaved buffer)."""
        relative = self.relative(path)
        if relative is None:
            return self
        name = self.paths.get(relative) or module_name_from_relative(relative, src_is_package(self.root))
        facts = index_source(source, name, relative, settings.catalog, self.project_packages(), self.source_roots)
        if facts is None or self._by_path.get(relative) == facts:
            return self
        modules = {k: v for k, v in self.modules.items() if v.path != relative}
        modules[name] = facts
        digest = hashlib.sha256(f"{self.digest()}:{json.dumps(facts.to_json(), sort_keys=True)}".encode())
        data = source.encode("utf-8", "surrogateescape") if isinstance(source, str) else source
        signs = StartSigns(settings.catalog.guards)
        started = signs.started(relative, data)
        inert = None if self.inert is None else (self.inert - {relative} if started else self.inert | {relative})
        conventional = self.conventional - {relative} | ({relative} if started == CONVENTIONAL else set())
        # the buffer's own functions reach what they did for its own findings (same-module calls are
        # judged from its text): the project's reaching names stand
        return ProjectIndex(self.root, modules, {**self.paths, relative: name}, digest.hexdigest()[:16],
                            known_reaching=self.reaching_names(with_publishes=True),
                            known_imported=self._imported_modules,
                            known_reexports=self._reexports, known_importers=self._importers_with(name, facts.imports),
                            known_packages=self.imported_packages() | {t.split(".")[0] for t in facts.imports},
                            known_holders=self.holders_made_per_call(), source_roots=self.source_roots,
                            inert=inert, conventional=conventional, loads_dynamically=self.loads_dynamically or (
                                not is_test_path(Path(relative)) and signs.loads_by_computed_name(data)),
                            text_files=self.text_files)

    def _importers_with(self, module: str, imports: Iterable[str]) -> dict[str, list[str]]:
        """The importers of each name, with `module` importing `imports` instead of what it imported."""
        found = {name: [m for m in importers if m != module] for name, importers in self._importers.items()}
        packages = self.project_packages()
        for target in imports:
            if target.split(".")[0] in packages:
                found.setdefault(target, []).append(module)
        return {name: sorted(importers) for name, importers in found.items() if importers}

    # -- questions ------------------------------------------------------------------------------
    def factory(self, qualified_name: Optional[str], _depth: int = 0) -> Optional[Factory]:
        """The factory a call of `qualified_name` is, with `returns` chains resolved to the constructor."""
        if not qualified_name or _depth > MAX_CHAIN_DEPTH:
            return None
        found = self._factories.get(qualified_name)
        if found is None or not found.returns:
            return found
        inner = next(filter(None, (self.factory(candidate, _depth + 1)
                                   for candidate in (found.returns, *found.alternatives))), None)
        if inner is None:
            return None
        return Factory(
            name=found.name, display=found.display, constructor=inner.constructor,
            constructor_display=f"{inner.display}` -> `{inner.constructor_display}"
            if inner.display != inner.constructor_display else inner.constructor_display,
            library=inner.library, datasource=inner.datasource, cached=found.cached or inner.cached, line=found.line,
            unless_passed=found.unless_passed, unless_position=found.unless_position,
        )

    def names_a_factory(self, name: str) -> bool:
        """Whether some factory of the project (a function or method) is called `name`."""
        if "_factory_last_parts" not in self.__dict__:
            self.__dict__["_factory_last_parts"] = frozenset(n.rsplit(".", 1)[-1] for n in self._factories)
        return name in self.__dict__["_factory_last_parts"]

    def memoized(self, qualified_name: Optional[str]) -> bool:
        """Whether a project function keeps what it builds for later calls (a cache decorator, a module-level
        dict it stores the client in): a guard, whatever the factory's chain resolves to."""
        found = self._factories.get(qualified_name) if qualified_name else None
        return found is not None and found.cached

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
            library = self._external_bindings.get(qualified_name)
            # `from app.llm import litellm`, where app/llm.py does `import litellm`: the library itself
            return library if library is not None and "(" not in library else None
        callee, _, rest = origin.partition("(")
        factory = self.factory(callee) if rest == ")" else None
        if factory is not None:
            return None if factory.cached or not factory.constructor else f"{factory.constructor}()"
        if "(" not in origin and origin in self._objects:
            return self.object_origin(origin, _depth + 1)
        return None if origin.split(".")[0] == qualified_name.split(".")[0] else origin  # unresolved: the project's

    def registered_to_run_once(self, qualified_name: Optional[str]) -> bool:
        """Whether some module registers this function by a call to run once per process: as a command
        (`app.command(name=...)(fn)`, `group.add_command(fn)`) or as a dependency-injection container's
        singleton (`provider.provide(fn, scope=Scope.APP)`, `providers.Singleton(fn)`)."""
        return bool(qualified_name) and qualified_name in self._registered_once

    def runs_on_a_schedule(self, qualified_name: Optional[str], task_name: Optional[str] = None) -> bool:
        """Whether some module puts this function on a schedule (ModuleFacts.scheduled): by its task name
        (a task decorator's `name=`), or by its qualified name. A beat schedule names a task by the
        module path the worker imports it by (`app.tasks.sync`), which may start below or above this
        project's module names (`backend.app.tasks.sync`): a dotted name matches at a dot, and a
        module's name alone never matches a function."""
        if task_name and task_name in self._scheduled:
            return True
        if not qualified_name or "." not in qualified_name:
            return False
        return any(name == qualified_name or ("." in name and (
            qualified_name.endswith("." + name) or name.endswith("." + qualified_name)))
            for name in self._scheduled)

    def installed_parameters(self, qualified_name: Optional[str]) -> tuple[tuple[int, str], ...]:
        """The parameters a project function stores as module state (ModuleFacts.installers), with their
        positions (-1: keyword-only); () for any other function."""
        return self._installers.get(qualified_name, ()) if qualified_name else ()

    def result_parameters(self, qualified_name: Optional[str]) -> Optional[tuple[tuple[str, ...], frozenset[str]]]:
        """(positional parameters in order, the parameters its result may carry) of a project function
        whose result carries only some of its arguments (ModuleFacts.result_parameters); None when it
        may carry any, or is no project function."""
        return self._result_parameters.get(qualified_name) if qualified_name else None

    def routed_view(self, qualified_name: Optional[str]) -> bool:
        """Whether some module's URLconf or router routes this function or class as a view."""
        return bool(qualified_name) and qualified_name in self._routes

    def request_transaction_setting(self) -> Optional[tuple[str, str, int]]:
        """(setting, module path, line) of the first module setting that runs every view in a
        transaction (`"ATOMIC_REQUESTS": True`), or None."""
        return self._request_setting

    def holds_request_transactions(self, module: Optional[ModuleFacts]) -> bool:
        """Whether this module defines a view a setting runs in a transaction (`ATOMIC_REQUESTS`): the
        screen, which looks for calls, cannot see such a transaction, so the whole module is analysed."""
        if module is None or self._request_setting is None:
            return False
        if "_view_modules" not in self.__dict__:  # asked for every file; `_routes` is final once built
            self.__dict__["_view_modules"] = frozenset(name.rsplit(".", 1)[0] for name in self._routes)
        return module.module in self.__dict__["_view_modules"]

    def compact(self, catalog: Catalog) -> dict[str, Any]:
        """This index with only the modules other files' findings can depend on, for a fast warm start."""
        modules = []
        resolved_holders = {(id(m), name, attribute) for m, name, attribute in self._project_holders()}
        # lent holders are kept as the holders they resolve to: the compact form drops the borrowers
        lent: dict[int, list[tuple[str, str, str]]] = {}
        for m, name, attribute, origin in self._lent_holders():
            lent.setdefault(id(m), []).append((name, attribute, origin))
        for module in self.modules.values():
            clients = [c for c in module.clients if not c.via or self.factory(c.via) is not None]
            # project holders whose origin opens nothing are dropped: the compact form has no openers to tell
            project_holders = tuple(h for h in module.project_holders if (id(module), h[0], h[1]) in resolved_holders) \
                + tuple(h for h in lent.get(id(module), ()) if h[2])
            holders = module.holders + tuple((name, attribute) for name, attribute, origin in lent.get(id(module), ())
                                             if not origin)
            if clients or module.factories or module.objects or module.scopes or module.registered_once \
                    or module.scheduled \
                    or module.openers \
                    or module.routes or module.request_settings or module.hold_settings or module.installers \
                    or holders \
                    or project_holders or module.yields or self._lends_external_bindings(module) \
                    or module.module in self._inheriting_modules:
                # openers resolved through other modules' imports, which the compact form drops
                openers = [[name, self._openers[qualified]] for name, _ in module.openers
                           if (qualified := f"{module.module}.{name}" if module.module else name) in self._openers]
                # what the compact form drops is left out before the conversion, which copies it all
                modules.append({**replace(module, imports=(), calls=(), clients=tuple(clients), holders=holders,
                                          project_holders=project_holders, lent_holders=(),
                                          borrowed_parameters=(), dependencies=(), dependency_aliases=(),
                                          engines=()).to_json(),
                                "openers": openers})
        return {"modules": modules, "paths": self.paths, "digest": self.digest(),
                "reaching": sorted(self.reaching_names(with_publishes=True)),
                "imported": sorted(self._imported_modules & set(self.modules)),
                "reexports": self._reexports, "importers": self._importers,
                "packages": sorted(self.imported_packages()),
                "holders": self.holders_made_per_call(),
                "implementations": {name: found for name in self._interfaces
                                    if (found := self.sole_implementation(name)) is not None},
                "call_results": self._call_results,
                "models": self.library_models(catalog),
                "open_sessions": {name: sorted(found) for name, found in self.shared_sessions_left_open(catalog).items()},
                "request_sessions": sorted(self.request_session_dependencies(catalog)),
                "aliases": self.dependency_aliases,
                "engines": {library: [list(kind) for kind in kinds]
                            for library, kinds in sorted(self._engines_by_library().items())},
                "roots": roots_to_json(self.source_roots),
                "inert": sorted(self.inert) if self.inert is not None else None,
                "conventional": sorted(self.conventional),
                "dynamic": self.loads_dynamically}

    @classmethod
    def from_compact(cls, root: Path, data: dict[str, Any]) -> "ProjectIndex":
        modules = {m["module"]: ModuleFacts.from_json(m) for m in data["modules"]}
        return cls(root, modules, dict(data["paths"]), data["digest"], known_reaching=frozenset(data["reaching"]),
                   known_imported=frozenset(data.get("imported", ())),
                   known_reexports=data.get("reexports", {}), known_importers=data.get("importers", {}),
                   known_packages=frozenset(data.get("packages", ())),
                   known_holders={name: list(found) for name, found in data.get("holders", {}).items()},
                   known_implementations=dict(data.get("implementations", {})),
                   known_call_results=dict(data.get("call_results", {})),
                   known_models=dict(data.get("models", {})),
                   known_open_sessions=dict(data.get("open_sessions", {})),
                   known_request_sessions=frozenset(data.get("request_sessions", ())),
                   known_aliases={name: tuple(found) for name, found in data.get("aliases", {}).items()},
                   known_engines={library: [tuple(kind) for kind in kinds]
                                  for library, kinds in data.get("engines", {}).items()},
                   source_roots=roots_from_json(data.get("roots", ())),
                   inert=frozenset(data["inert"]) if data.get("inert") is not None else None,
                   conventional=frozenset(data.get("conventional", ())),
                   loads_dynamically=bool(data.get("dynamic")))

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

    def is_imported(self, qualified_name: str) -> bool:
        """Whether a module of the project imports this name (or a name re-exporting it)."""
        return qualified_name in self._imported_modules or any(
            alias in self._imported_modules for alias, target in self._reexports.items() if target == qualified_name)

    def _runs_alone(self, module: ModuleFacts) -> bool:
        """A module that runs as a process of its own: an entry point (a `__main__` script, alembic's
        env.py, test code), or a script-shaped module that no module of the project imports."""
        if module.entry_point:
            return True
        if not module.script_shaped:
            return False
        return module.module not in self._imported_modules

    def duplicates(self, path: Path, threshold: int) -> list[DuplicateSite]:
        """Module-scope sites in `path` of a datasource that `threshold` or more modules build at import."""
        module = self.module_for(path)
        if module is None or self._runs_alone(module):
            return []
        mine = [s for s in self.import_time_sites(module) if s.datasource is not None]
        if not mine:
            return []
        if not hasattr(self, "_sites_by_source"):
            grouped: dict[tuple[str, str], list[tuple[str, ClientSite]]] = {}
            for other in sorted(self.modules.values(), key=lambda m: m.path):
                if self._runs_alone(other):
                    continue
                for site in self.import_time_sites(other):
                    if site.datasource is not None:
                        grouped.setdefault((site.library, site.datasource), []).append((other.path, site))
            self._sites_by_source = grouped
        out = []
        for site in mine:
            # two pools of one datasource that the code sizes explicitly and differently are kept apart
            # on purpose (a bulkhead for one workload); one left at the library's default is not
            group = [(p, s) for p, s in self._sites_by_source.get((site.library, site.datasource), [])  # type: ignore[arg-type]
                     if self.loaded_together(self._by_path[p].module, module.module)
                     and not (site.sizing and s.sizing and site.sizing != s.sizing) and self.may_run(p)]
            # each module counts once for its own constructor calls (a second engine in one module may be
            # configured apart), and once per call of a project factory (every call builds the same pool)
            if len({(p, s.line, s.column) if s.via else (p,) for p, s in group}) < threshold:
                continue
            others = tuple((p, s) for p, s in group if p != module.path or (s.line, s.column) != (site.line, site.column))
            out.append(DuplicateSite(site, module.path, others))
        return out


def facts_digest(facts: dict[str, dict[str, Any]]) -> str:
    """ProjectIndex.digest of modules given as their facts' JSON (ModuleFacts.to_json), by module name:
    the index pass has them so already, and turning every module back into JSON costs seconds."""
    payload = json.dumps([facts[name] for name in sorted(facts)], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _made_through(callee: str, names: Collection[str]) -> bool:
    """Whether `callee` (`a.b.c.d`) or a name it is called through (`a.b.c`, `a.b`; not `a`) is in `names`.
    Asked for every callee of every function in each round of a cold build: no generator, no split."""
    if callee in names:
        return True
    name = callee
    while True:
        cut = name.rfind(".")
        if cut < 0:
            return False
        name = name[:cut]
        if "." not in name:
            return False
        if name in names:
            return True


def _and_last_parts(names: Iterable[str]) -> Iterator[str]:
    """Each qualified name and its last part, as a call from another module may spell it."""
    for name in names:
        yield name
        yield name.rsplit(".", 1)[-1]


_PROJECT_SCREEN_WORDS: dict[str, ScreenWords] = {}


def project_screen_words(settings: Settings, index: Optional[ProjectIndex],
                         vocabularies: frozenset[str] = VOCABULARIES) -> ScreenWords:
    """The screen's words plus the project's factories: a file may only call `get_engine()` from app/db.py.
    `vocabularies`: what the enabled rules need (engine/plan.py)."""
    if index is None:
        return screen_words(settings, vocabularies)
    # asked for every file: once per index, settings and plan (an index's answers never change)
    memo = index.__dict__.setdefault("_project_screen_words", {})
    asked = (settings.fingerprint(), vocabularies)
    if asked not in memo:
        memo[asked] = _project_screen_words(settings, index, vocabularies)
    return memo[asked]


def _project_screen_words(settings: Settings, index: ProjectIndex, vocabularies: frozenset[str]) -> ScreenWords:
    extra = index.screen_words() | index.constructor_objects(settings.catalog)
    objects = index.screen_objects(settings.catalog)
    scopes = index.screen_scopes()
    project = index.project_packages()
    if not (extra or objects or scopes or project):
        return screen_words(settings, vocabularies, generators_known=True)
    reaching = index.reaching_names(with_publishes=settings.is_enabled("DBP203", opt_in=True)) \
        | index.external_bindings()
    model_queries = index.model_queries(settings.catalog)
    session_openers = index.judged_session_openers(settings.catalog, settings.session_helpers)
    request_dependencies = index.request_session_dependencies(settings.catalog)
    key = "\1".join([settings.fingerprint(), *("\0".join(sorted(part)) for part in (
        extra, objects, scopes, project, reaching, vocabularies, model_queries, session_openers,
        request_dependencies))])
    if key not in _PROJECT_SCREEN_WORDS:
        _PROJECT_SCREEN_WORDS[key] = ScreenWords.from_catalog(
            settings.catalog, extra_words=extra, project_packages=project, extra_objects=objects, extra_scopes=scopes,
            reaching_names=reaching, vocabularies=vocabularies, generators_known=True,
            # an object imported as `from shop.db import warehouse` below a source root is the project's
            # backend.shop.db.warehouse: the file imports where clients come from
            extra_packages=root_packages(index.source_roots), model_queries=model_queries,
            session_openers=session_openers, request_dependencies=request_dependencies)
    return _PROJECT_SCREEN_WORDS[key]


def _spellings(relative: str) -> tuple[str, ...]:
    """How a file that loads the module at `relative` would name it: with its folder (`workers.sync` of
    `celery -A app.workers.sync` or a setting's string, `workers/sync` of `python app/workers/sync.py`),
    a package by its folder (`app.workers` for app/workers/__init__.py), a module of no folder by its
    name alone (`worker`). The bare stem of a module in a folder is not enough: other modules' imports
    spell it too (`from app.core.rate_limit import ...` is no mention of app/middleware/rate_limit.py)."""
    parts = relative[:-len("/__init__.py")].split("/") if relative.endswith("/__init__.py") \
        else relative[:-3].split("/")
    if len(parts) == 1:
        return (parts[0],)
    return (f"{parts[-2]}.{parts[-1]}", f"{parts[-2]}/{parts[-1]}")


# what a worker need not receive: the facts (sent as text), the index pass's screening, and the main
# process's memos of paths
_KEPT_BY_THE_RUNNER = frozenset({"modules", "screened", "_relatives", "_text_files_listed"})
# what ProjectIndex is built from (the rest of an unpickled index is worked out or carried over)
_INDEX_FIELDS = tuple(f.name for f in fields(ProjectIndex) if f.name != "modules")
