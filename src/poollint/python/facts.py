"""Facts of one Python module, read with the stdlib `ast`: its module-scope clients, factories,
objects, commands, transaction scopes, imports, entry point, and a call summary of each function.

The project model (python/project.py) is built from these; engine/index.py reads and caches them.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence, Union

from poollint.catalog.model import Catalog
from poollint.pyast import (ANNOTATED_TYPES, GENERATOR_TYPES, Outline, built_by, called_for, definition_start,
                            dotted_name, literal_prefix)
from poollint.config.lines import split_lines
from poollint.config.urls import mask
from poollint.paths import is_test_path
from poollint.python.names import Importer, SourceRoots, ast_import, resolve_import
from poollint.python.source import ParseFailure, decode
from poollint.python.screen import (ScreenWords, add_assigned_names, add_object_names, annotated_parameters,
                                    dependency_provider, mentions_external_call, parse_text)

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
    # the pool's size arguments as written (`max_overflow=20,pool_size=10`; catalog `size-arguments`)
    sizing: str = ""


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
    # further project callables the returned value may come from, tried in order when `returns` builds
    # no client: `credentials = _credentials(name)` then `return engines.build(**credentials)`
    alternatives: tuple[str, ...] = ()
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
    # sessions every module shares that it queries (`db.session.get()`, `User.query.first()`) and that
    # it commits, rolls back or closes: each receiver qualified as this module names it (`app.extensions.
    # db.session`, `app.models.User.query`), for ProjectIndex.shared_sessions_left_open to resolve
    session_begins: tuple[str, ...] = ()
    session_ends: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModuleFacts:
    module: str
    path: str  # POSIX, relative to the project root
    clients: tuple[ClientSite, ...] = ()
    factories: tuple[Factory, ...] = ()
    objects: tuple[ModuleObject, ...] = ()
    # qualified names of functions a module-scope call registers to run once per process: commands
    # (`group.add_command(fn)`) and singleton providers of a dependency-injection container
    registered_once: tuple[str, ...] = ()
    # what a scheduler runs at its own pace: task names a Celery beat schedule lists (`"app.tasks.sync"`,
    # or a task's own `name=`), and qualified names of functions a call registers on a schedule
    # (`sender.add_periodic_task(60, sync.s())`, `scheduler.add_job(sync, "interval", minutes=5)`)
    scheduled: tuple[str, ...] = ()
    # functions and classes that may be context managers opening a transaction for their callers
    # (`@contextmanager def unit_of_work()`, a class with `__enter__`): DBP2xx judges them, the screen
    # lets through files that use them
    scopes: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()  # modules it imports from (absolute, dotted)
    entry_point: str = ""  # why it runs as its own process: "a `__main__` script", "alembic env.py", ...
    streamlit: bool = False
    calls: tuple[CallSummary, ...] = ()  # functions and methods that make or may reach an external call
    # module functions that return a connection or session they open (`get_session()` returning
    # `SessionLocal()`): (function name, qualified name of the catalog constructor)
    openers: tuple[tuple[str, str], ...] = ()
    # defines no function or class and calls something at top level: a script that does its work when
    # run (`r = redis.Redis(); r.publish(...)`); when no module imports it, it runs as its own process
    script_shaped: bool = False
    # classes without their own `__init__` or `__new__` and with one base of the project, which they
    # are built like: (name, qualified base, line); ProjectIndex makes them factories when the base is one
    inherits: tuple[tuple[str, str, int], ...] = ()
    # views the module routes (`path("orders/", views.create_order)`, `router.register("o", Orders)`):
    # qualified names of functions and classes, request handlers (roles.py), and judged when a setting
    # runs every view in a transaction
    routes: tuple[str, ...] = ()
    # module-scope settings that run every view in a transaction (`DATABASES = {"default": {...,
    # "ATOMIC_REQUESTS": True}}`): (setting, line)
    request_settings: tuple[tuple[str, int], ...] = ()
    # settings that make a framework keep a connection through a request (ImplicitTransactionSpec.setting:
    # Django's `"OPTIONS": {"pool": True}`, `options["pool"] = {...}` in a function too): (setting, line)
    hold_settings: tuple[tuple[str, int], ...] = ()
    # module functions that install a parameter as module state (`meta.engine = engine`, `global _engine;
    # _engine = engine`): (function, ((position or -1 for keyword-only, parameter), ...))
    installers: tuple[tuple[str, tuple[tuple[int, str], ...]], ...] = ()
    # module functions whose result may carry only some of their arguments (`get_oid(name, schema,
    # engine)` returning what it computes with the engine): (function, its positional parameters in
    # order, the parameters its result may carry); a function not listed may carry any
    result_parameters: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()
    # classes whose `__init__` keeps on `self` a connection or session it opens, which nothing of the
    # class ever lets go (ModuleReader._holders): (class name, attribute)
    holders: tuple[tuple[str, str], ...] = ()
    # the same for what a project callable opens (`self.db = DatabaseHandler()`, `self.conn =
    # get_engine().connect()`), known only once ProjectIndex resolves it: (class name, attribute, what
    # `__init__` calls: the project callable's qualified name, or a checkout on its result)
    project_holders: tuple[tuple[str, str, str], ...] = ()
    # classes that would be holders but hand what they keep to project callables (`NRTMGenerator().
    # generate(source, self.database_handler)`): a holder still when every such callable only borrows it
    # (`borrowed_parameters`), as ProjectIndex resolves: (class name, attribute, origin as in
    # project_holders or "" for the catalog's, ((callee's qualified name, position or keyword), ...))
    lent_holders: tuple[tuple[str, str, str, tuple[tuple[str, Union[int, str]], ...]], ...] = ()
    # functions and methods that only borrow some of their parameters (the module function
    # borrowed_parameters judges): (name or `Class.method`, ((position, parameter), ...)), a method's
    # positions counting `self`, -1 for a keyword-only parameter
    borrowed_parameters: tuple[tuple[str, tuple[tuple[int, str], ...]], ...] = ()
    # generator functions and methods whose return annotation names what they yield, when the rules
    # follow objects of it (`def get_db() -> Iterator[Session]`): (name or `Class.method`, qualified type)
    yields: tuple[tuple[str, str], ...] = ()
    # of those, the ones that query the session before they yield it (`await session.execute(set_config)`
    # in a `@asynccontextmanager`): its transaction is open when the caller's `with` body starts.
    # (name or `Class.method`, line of that query)
    begun_yields: tuple[tuple[str, int], ...] = ()
    # classes no code can build as they are (a `Protocol`, an `ABC`, a class with abstract methods): an
    # annotation naming one stands for the one project class that implements it, if only one does
    interfaces: tuple[str, ...] = ()
    # classes of a module outside tests with a base of the project: (class name, qualified bases)
    subclasses: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # classes of a module outside tests whose base is a library's model base (Catalog.model_bases), whose
    # class attribute queries a session: (class name, the base as the rules spell it), for `class User(
    # db.Model)` of `db = SQLAlchemy()` built in this module; a base another module's object gives
    # (`app.extensions.db.Model`) is among `subclasses`, for ProjectIndex to resolve
    library_models: tuple[tuple[str, str], ...] = ()
    # classes whose instances are called (`self._uow()`): (class name, qualified type of what `__call__`
    # returns, by its annotation or by the one project class every `return` builds)
    call_results: tuple[tuple[str, str], ...] = ()
    # module-scope names through which other modules may call out (DBP2xx): an external client built
    # here (`client = OpenAI()`) or a library bound by an import (`import litellm`, configured once for
    # the project): (name, what it names as the rules spell it: `openai.OpenAI()`, `litellm`)
    external_bindings: tuple[tuple[str, str], ...] = ()
    # what a web framework fills a function's parameters from (FastAPI's `Depends()`): (function name,
    # ((what is called for it or the alias annotating it, qualified; the parameter's type, or ""), ...));
    # ProjectIndex.request_session_dependencies reads which take the request's session
    dependencies: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # module-level `SessionDep = Annotated[Session, Depends(get_db)]`: (name, what is called for it, type)
    dependency_aliases: tuple[tuple[str, str, str], ...] = ()
    # the engines of libraries whose SQLite pooling the catalog knows (`sqlite-file-pooled-from`), built
    # anywhere in a module the application runs (not tests, not alembic's env.py): (library, qualified
    # constructor, "sqlite-memory", "sqlite" for a file or unknown SQLite database, "server" for a URL of
    # another database written out, or "" when the URL is not seen)
    engines: tuple[tuple[str, str, str], ...] = ()

    @property
    def defines_screen_words(self) -> bool:
        """Whether the module defines what the screen looks for in the project (factories, client
        objects, scopes, openers, model classes, functions that may leave a shared session open): known
        only once every module is read, so a verdict on the module drawn before then does not hold."""
        return bool(self.factories or self.objects or self.scopes or self.openers or self.holders
                    or self.project_holders or self.lent_holders or self.library_models or self.dependency_aliases) \
            or any(summary.session_begins for summary in self.calls) \
            or any(type_ for _, found in self.dependencies for _, type_ in found)

    def to_json(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModuleFacts":
        return cls(
            module=data["module"], path=data["path"],
            clients=tuple(ClientSite(**c) for c in data["clients"]),
            factories=tuple(Factory(**{**f, "alternatives": tuple(f.get("alternatives", ()))})
                            for f in data["factories"]),
            objects=tuple(ModuleObject(**o) for o in data.get("objects", ())),
            registered_once=tuple(data.get("registered_once", ())),
            scheduled=tuple(data.get("scheduled", ())),
            scopes=tuple(data.get("scopes", ())),
            imports=tuple(data["imports"]), entry_point=data["entry_point"], streamlit=data["streamlit"],
            calls=tuple(CallSummary(c["name"], c["external"], tuple(c["callees"]), c.get("publishes", False),
                                    tuple(c.get("session_begins", ())), tuple(c.get("session_ends", ())))
                        for c in data.get("calls", ())),
            openers=tuple((name, constructor) for name, constructor in data.get("openers", ())),
            script_shaped=data.get("script_shaped", False),
            inherits=tuple((name, base, line) for name, base, line in data.get("inherits", ())),
            routes=tuple(data.get("routes", ())),
            request_settings=tuple((setting, line) for setting, line in data.get("request_settings", ())),
            hold_settings=tuple((setting, line) for setting, line in data.get("hold_settings", ())),
            installers=tuple((name, tuple((position, parameter) for position, parameter in parameters))
                             for name, parameters in data.get("installers", ())),
            result_parameters=tuple((name, tuple(positional), tuple(carried))
                                    for name, positional, carried in data.get("result_parameters", ())),
            holders=tuple((name, attribute) for name, attribute in data.get("holders", ())),
            project_holders=tuple((name, attribute, origin) for name, attribute, origin in data.get("project_holders", ())),
            lent_holders=tuple((name, attribute, origin, tuple((callee, argument) for callee, argument in lent))
                               for name, attribute, origin, lent in data.get("lent_holders", ())),
            borrowed_parameters=tuple((name, tuple((position, parameter) for position, parameter in borrowed))
                                      for name, borrowed in data.get("borrowed_parameters", ())),
            yields=tuple((name, yielded) for name, yielded in data.get("yields", ())),
            begun_yields=tuple((name, line) for name, line in data.get("begun_yields", ())),
            interfaces=tuple(data.get("interfaces", ())),
            subclasses=tuple((name, tuple(bases)) for name, bases in data.get("subclasses", ())),
            library_models=tuple((name, base) for name, base in data.get("library_models", ())),
            call_results=tuple((name, returned) for name, returned in data.get("call_results", ())),
            external_bindings=tuple((name, target) for name, target in data.get("external_bindings", ())),
            dependencies=tuple((name, tuple((provider, type_) for provider, type_ in found))
                               for name, found in data.get("dependencies", ())),
            dependency_aliases=tuple((name, provider, type_) for name, provider, type_ in data.get("dependency_aliases", ())),
            engines=tuple((library, constructor, backend) for library, constructor, backend in data.get("engines", ())),
        )




# bases and metaclasses of classes that are never built as they are, and the decorator of their methods
INTERFACE_BASES = frozenset({
    "typing.Protocol", "typing_extensions.Protocol", "abc.ABC", "abc.ABCMeta"})
ABSTRACT_DECORATORS = frozenset({"abc.abstractmethod"})


def _named_definitions(body: Sequence[ast.stmt]) -> list[tuple[str, "_FunctionNode"]]:
    """The module's functions and its classes' methods, by name (`notify`, `Client.post`)."""
    named: list[tuple[str, _FunctionNode]] = []
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            named.append((statement.name, statement))
        elif isinstance(statement, ast.ClassDef):
            named.extend((f"{statement.name}.{member.name}", member) for member in statement.body
                         if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return named


def without_base(klass: ast.ClassDef) -> bool:
    """`class Store:` or `class Store(object):`: no base whose methods could release what it keeps."""
    return all(isinstance(base, ast.Name) and base.id == "object" for base in klass.bases)


def _self_attribute(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


# builtins that compute a value from their arguments and keep none of them (`str(engine)`, `len(rows)`)
INSPECTING_BUILTINS = frozenset({
    "print", "repr", "str", "len", "id", "type", "isinstance", "hasattr", "getattr", "bool", "format", "vars",
    "int", "float", "hash", "sorted", "any", "all",
})

def src_is_package(root: Path) -> bool:
    """Whether the project's top-level `src/` is a regular package (`src/__init__.py`), which the code then
    imports by that name (`from src.database import engine`, `gunicorn src.main:app`); without one it is the
    src layout's folder on the path (`src/shop/db.py` is `shop.db`)."""
    return (root / "src" / "__init__.py").is_file()


def module_name_of_parts(parts: Sequence[str], src_package: bool = False) -> str:
    """The dotted module name of a path's parts below the project root, without its suffix (see
    src_is_package); "" when no part is an identifier."""
    parts = list(parts)
    if parts and parts[0] == "src" and not src_package:
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(p for p in parts if p.isidentifier())


def module_name_from_relative(relative: str, src_package: bool = False) -> str:
    """The dotted module name of a root-relative path (module_name_of_parts), else the file's stem."""
    return module_name_of_parts(Path(relative).with_suffix("").parts, src_package) or Path(relative).stem


def index_source(source: Union[str, bytes], module: str, relative: str, catalog: Catalog,
                 project_packages: frozenset[str] = frozenset(),
                 source_roots: SourceRoots = ()) -> Optional[ModuleFacts]:
    """Facts of one module; None when it cannot be parsed (pass two reports that as DBP000)."""
    text = decode(source) if isinstance(source, bytes) else source
    if isinstance(text, ParseFailure):
        return None
    tree = parse_text(text)
    if isinstance(tree, ParseFailure):
        return None
    return read_module(tree, text, module, relative, catalog, project_packages=project_packages,
                       source_roots=source_roots)


def read_module(tree: ast.Module, text: str, module: str, relative: str, catalog: Catalog,
                outline: Optional[Outline] = None, project_packages: frozenset[str] = frozenset(),
                source_roots: SourceRoots = ()) -> Optional[ModuleFacts]:
    """`project_packages`: the project's top-level packages (a call into one is a call into the project);
    `source_roots`: where its absolute imports start (SourceRoots)."""
    try:
        return _ModuleReader(tree, text, module, relative, catalog, outline or Outline(tree), project_packages,
                             source_roots).read()
    except RecursionError:
        return None


def publish_words(catalog: Catalog) -> ScreenWords:
    """The catalog's words for a task publish alone (`.delay()`, `send_task`): DBP203's external calls."""
    def build() -> ScreenWords:
        publishing = [spec for spec in catalog.external_calls if spec.publishes_task]
        names = frozenset(n for spec in publishing for n in (*spec.functions, *spec.clients) if "*" not in n)
        methods = frozenset(m for spec in publishing for m in (*spec.methods, *spec.task_methods))
        return replace(ScreenWords.from_catalog(catalog), external_names=names, external_methods=methods,
                       external_prefixes=(), external_fragments=())
    return catalog.derived("index-publish-words", build)


def summary_words(catalog: Catalog) -> ScreenWords:
    """The catalog's screen words for what a function names. Of the methods, only a client's own I/O
    methods: a task's `.delay()`/`.send()` is DBP203's (opt-in, `publish_words`) and a mail
    message's `.send()` is judged by its receiver (`external_by_receiver_name`); as words they are everywhere."""
    def build() -> ScreenWords:
        methods = frozenset(m for spec in catalog.external_calls if not spec.publishes_task for m in spec.methods)
        words = ScreenWords.from_catalog(catalog)
        # a function that builds a streamed response makes no external call for its callers
        return replace(words, external_methods=methods,
                       external_names=words.external_names - catalog.guards.streamed_responses)
    return catalog.derived("index-summary-words", build)


def _is_main_guard(test: ast.AST) -> bool:
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = (test.left, test.comparators[0])
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    strings = {s.value for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)}
    return names == {"__name__"} and strings == {"__main__"}


_FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]

# a Celery task's methods that make a signature of it: `sync.s(user_id)` names the task `sync`
_SIGNATURE_METHODS = frozenset({"s", "si", "signature"})


def _bound_name(target: ast.expr) -> Optional[str]:
    """The name an assignment binds: `beat_schedule` of `beat_schedule = ...` and of `app.conf.beat_schedule = ...`."""
    if isinstance(target, ast.Name):
        return target.id
    return target.attr if isinstance(target, ast.Attribute) else None


def _beat_task_names(schedule: ast.expr, needs_schedule: bool = False) -> Iterator[str]:
    """The task names of a beat schedule literal: each entry's `"task"` (a dict display or `dict(task=...)`);
    `needs_schedule`: only of entries that also have a `"schedule"`."""
    if not isinstance(schedule, ast.Dict):
        return
    for entry in schedule.values:
        if isinstance(entry, ast.Dict):
            pairs = [(key.value if isinstance(key, ast.Constant) else None, value)
                     for key, value in zip(entry.keys, entry.values)]
        elif isinstance(entry, ast.Call) and isinstance(entry.func, ast.Name) and entry.func.id == "dict":
            pairs = [(keyword.arg, keyword.value) for keyword in entry.keywords]
        else:
            continue
        if needs_schedule and "schedule" not in {key for key, _ in pairs}:
            continue
        for key, value in pairs:
            if key == "task" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                yield value.value


class _ModuleReader:
    def __init__(self, tree: ast.Module, text: str, module: str, relative: str, catalog: Catalog,
                 outline: Outline, project_packages: frozenset[str] = frozenset(),
                 source_roots: SourceRoots = ()) -> None:
        self.tree = tree
        self.source_roots = source_roots
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
        # whether the text names a setting that runs every view in a transaction: most modules do not,
        # and their module-scope dicts are then not walked for it
        self.names_request_setting = any(spec.setting in text for spec in catalog.request_transactions)
        # and whether it is a settings module that may enable a hold the framework keeps (Django's pool)
        self.hold_setting_names = frozenset(
            spec.setting for spec in catalog.implicit_transactions
            if spec.setting and spec.setting in text and all(word in text for word in spec.setting_words))
        self._own: dict[int, list[ast.stmt]] = {}
        self._functions: Optional[dict[str, _FunctionNode]] = None
        self._mappings: Optional[dict[str, list[tuple[str, ast.expr]]]] = None
        self._definitions: Optional[list[tuple[tuple[str, _FunctionNode], Outline]]] = None

    # -- names ----------------------------------------------------------------------------------

    def _record_import(self, node: Union[ast.Import, ast.ImportFrom]) -> None:
        imported = resolve_import(ast_import(node), Importer(self.module, self.is_package, self.source_roots))
        self.imports.update(imported.bindings)
        self.imported_modules.update(imported.modules)

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
        keywords += [(key, None) for key in _dict_literal_keys(call)]
        # `create_engine(url, **engine_kwargs)`: the keys the module ever sets on that mapping may be
        # passed (`engine_kwargs["poolclass"] = NullPool` in a branch): the constructor is judged as if they were
        keywords += [(key, self.qualified(value, local)) for k in call.keywords
                     if k.arg is None and isinstance(k.value, ast.Name)
                     for key, value in self._mapping_keys().get(k.value.id, ())]
        first = self._module_constant(call.args[0], local) if call.args else None
        # f"sqlite:///{path}", 'sqlite:///{0}'.format(path): the literal start
        return self.catalog.pool_client(self.qualified(call.func, local), keywords, literal_prefix(first))

    def _module_constant(self, node: ast.expr, local: Optional[dict[str, str]] = None) -> ast.expr:
        """What a name bound at module level stands for (`create_engine(DATABASE_URL)` of `DATABASE_URL =
        "sqlite:///app.db"`); any other expression, a local or an import as it is."""
        if isinstance(node, ast.Name) and node.id not in (local or {}) and node.id not in self.imports:
            return self.module_bindings.get(node.id, node)
        return node

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
        module_imports = dict(self.imports)  # what the module's own scope binds by its imports
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
        held = list(self._holders(body))
        objects = tuple(self._module_objects(body))
        yielded_types = list(self._yielded_types(body))
        return ModuleFacts(
            module=self.module, path=self.relative, clients=tuple(self._module_clients(body)),
            factories=tuple(self._factories()), objects=objects,
            registered_once=tuple(self._registered_to_run_once(body)),
            scheduled=tuple(dict.fromkeys(self._scheduled())),
            scopes=tuple(self._scope_candidates(body)),
            imports=tuple(sorted(self.imported_modules)), entry_point=entry_point, streamlit=streamlit,
            calls=tuple(self._call_summaries(body)),
            openers=tuple(self._openers(body)),
            inherits=tuple(self._inheritors(body)),
            routes=tuple(dict.fromkeys(self._routed_views(body))),  # an `if` block is walked twice
            request_settings=tuple(dict.fromkeys(self._request_settings(body))),
            hold_settings=tuple(dict.fromkeys(self._hold_settings(self.tree))),
            installers=tuple(self._installers()),
            result_parameters=tuple(self._result_parameters()),
            holders=tuple((name, attribute) for name, attribute, origin, lent in held if not origin and not lent),
            project_holders=tuple((name, attribute, origin) for name, attribute, origin, lent in held if origin and not lent),
            lent_holders=tuple(holder for holder in held if holder[3]),
            borrowed_parameters=tuple(self._borrowed_parameters(body)),
            yields=tuple(yielded_types),
            begun_yields=tuple(self._begun_yields(body, dict(yielded_types))),
            interfaces=tuple(self._interfaces(body)),
            subclasses=tuple(self._project_subclasses(body)),
            library_models=tuple(self._library_models(body)),
            call_results=tuple(self._call_results(body)),
            external_bindings=tuple(self._external_bindings(objects, module_imports)),
            dependencies=tuple(self._dependencies(body)),
            dependency_aliases=tuple(self._dependency_aliases()),
            engines=tuple(self._engines()) if entry_point not in ("test code", "alembic env.py") else (),
            script_shaped=not self.local_names and any(
                isinstance(statement, ast.Expr) and isinstance(statement.value, (ast.Call, ast.Await))
                for statement in body),
        )

    def _engines(self) -> Iterator[tuple[str, str, str]]:
        """ModuleFacts.engines: each call of such a constructor, with the database it is seen to reach."""
        for call in self.outline.calls:
            constructor = self.qualified(call.func)
            spec = self.catalog.engine_client(constructor)
            if spec is None or not spec.sqlite_file_pooled_from:
                continue
            if constructor in spec.engine_builders:  # the URL is in the application's config, not the call
                yield spec.library, constructor or "", ""
                continue
            url = next((k.value for k in call.keywords if k.arg == "url"), call.args[0] if call.args else None)
            if url is not None:
                url = self._module_constant(url)
            literal = literal_prefix(url) if url is not None else None
            marked = set(_dict_literal_keys(call))
            if literal is not None and literal.lower().startswith("sqlite"):
                backend = "sqlite-memory" if isinstance(url, ast.Constant) and spec.in_memory(literal) else "sqlite"
            elif literal is None and not marked.isdisjoint(spec.sqlite_markers):
                backend = "sqlite"
            elif literal is not None and "://" in literal:
                backend = "server"  # `postgresql+asyncpg://...`: another database's URL, written out
            else:
                backend = ""
            yield spec.library, constructor or "", backend

    def _dependencies(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, tuple[tuple[str, str], ...]]]:
        """ModuleFacts.dependencies of the module's functions: a parameter given `Depends(get_db)`
        (`Security()` alike), annotated `Annotated[Session, Depends(get_db)]`, or annotated with a name of
        the project that may be an alias of one (`user: CurrentUser`), which ProjectIndex resolves."""
        markers = self.catalog.guards.dependency_markers
        for statement in body:
            if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            arguments = statement.args
            positional = (*arguments.posonlyargs, *arguments.args)
            defaults = dict(zip((a.arg for a in positional[len(positional) - len(arguments.defaults):]),
                                arguments.defaults))
            defaults.update((a.arg, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None)
            found: list[tuple[str, str]] = []
            for argument in (*positional, *arguments.kwonlyargs):
                marker = defaults.get(argument.arg)
                annotation = argument.annotation
                if isinstance(marker, ast.Call) and self.qualified(marker.func) in markers:
                    provider = self._dependency_provider(marker)
                    if provider:
                        found.append((provider, self._annotated_type(annotation) if annotation is not None else ""))
                elif annotation is not None:
                    annotated = self._annotated_dependency(annotation)
                    if annotated is not None:
                        found.append(annotated)
                    elif isinstance(annotation, (ast.Name, ast.Attribute)):
                        qualified = self.qualified(annotation)
                        if qualified and "(" not in qualified and self._in_project(qualified):
                            found.append((qualified, ""))  # may be an alias another module defines
            if found:
                yield statement.name, tuple(found)

    def _dependency_aliases(self) -> Iterator[tuple[str, str, str]]:
        for name, value in self.module_bindings.items():
            annotated = self._annotated_dependency(value)
            if annotated is not None:
                yield name, *annotated

    def _dependency_provider(self, marker: ast.Call) -> str:
        provider = dependency_provider(marker)
        qualified = self.qualified(provider) if provider is not None else None
        return qualified if qualified and "(" not in qualified else ""

    def _annotated_dependency(self, annotation: ast.AST) -> Optional[tuple[str, str]]:
        """(provider, type) of `Annotated[Session, Depends(get_db)]`; an alias of this module's too."""
        if isinstance(annotation, ast.Name) and isinstance(self.module_bindings.get(annotation.id), ast.Subscript):
            annotation = self.module_bindings[annotation.id]
        if not isinstance(annotation, ast.Subscript) or self.qualified(annotation.value) not in ANNOTATED_TYPES:
            return None
        elements = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
        markers = self.catalog.guards.dependency_markers
        for extra in elements[1:]:
            if isinstance(extra, ast.Call) and self.qualified(extra.func) in markers:
                provider = self._dependency_provider(extra)
                return (provider, self._annotated_type(elements[0])) if provider else None
        return None

    def _annotated_type(self, annotation: ast.AST) -> str:
        """The qualified type a parameter's annotation names: `Session`, `Optional[Session]`, `Session | None`."""
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            sides = [side for side in (annotation.left, annotation.right)
                     if not (isinstance(side, ast.Constant) and side.value is None)]
            annotation = sides[0] if len(sides) == 1 else annotation
        if isinstance(annotation, ast.Subscript) and self.qualified(annotation.value) in ("typing.Optional",):
            annotation = annotation.slice
        qualified = self.qualified(annotation) if isinstance(annotation, (ast.Name, ast.Attribute)) else None
        return qualified if qualified and "(" not in qualified else ""

    def _interfaces(self, body: Sequence[ast.stmt]) -> Iterator[str]:
        """Module classes that cannot be built as they are: a `Protocol`, an `ABC` or `ABCMeta` class, or
        one with an `@abstractmethod`."""
        for statement in body:
            if not isinstance(statement, ast.ClassDef):
                continue
            bases = {self.qualified(b.value if isinstance(b, ast.Subscript) else b) for b in statement.bases}
            metaclass = {self.qualified(k.value) for k in statement.keywords if k.arg == "metaclass"}
            abstract = any(isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                self.qualified(d) in ABSTRACT_DECORATORS for d in member.decorator_list) for member in statement.body)
            if bases & INTERFACE_BASES or metaclass & INTERFACE_BASES or abstract:
                yield statement.name

    def _project_subclasses(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, tuple[str, ...]]]:
        """Module classes with a base of the project, outside tests (a test's fake implements an interface
        for the test alone)."""
        if self.is_test:
            return
        for statement in body:
            if isinstance(statement, ast.ClassDef):
                bases = tuple(base for base in (self.qualified(b.value if isinstance(b, ast.Subscript) else b)
                                                for b in statement.bases)
                              if base and "(" not in base and self._in_project(base))
                if bases:
                    yield statement.name, bases

    def _library_models(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, str]]:
        """Module classes outside tests on a library's model base (ModuleFacts.library_models)."""
        model_bases = self.catalog.model_bases()
        if self.is_test or not model_bases:
            return
        for statement in body:
            if isinstance(statement, ast.ClassDef):
                for base in map(self.qualified, statement.bases):
                    if base in model_bases:
                        yield statement.name, base

    def _call_results(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, str]]:
        """Module classes with a `__call__`, and the type of what it returns: its return annotation, else
        the one project class each of its `return` statements builds (`return SQLAlchemyUnitOfWork(...)`)."""
        for statement in body:
            if not isinstance(statement, ast.ClassDef):
                continue
            call = next((m for m in statement.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and m.name == "__call__"), None)
            if call is None:
                continue
            returned: Optional[str] = None
            annotation = call.returns
            if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                try:  # `-> "SQLAlchemyUnitOfWork"`
                    annotation = ast.parse(annotation.value, mode="eval").body
                except SyntaxError:
                    annotation = None
            if isinstance(annotation, (ast.Name, ast.Attribute)):
                returned = self.qualified(annotation)
            else:
                built = {self.qualified(node.value.func) if isinstance(node.value, ast.Call) else None
                         for node in self.own_statements(call) if isinstance(node, ast.Return)}
                returned = built.pop() if len(built) == 1 else None
                returned = returned if returned and self._in_project(returned) else None
            if returned and "(" not in returned:
                yield statement.name, returned

    def _openers(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, str]]:
        """Module functions that return a connection or a session they open themselves (not a pool:
        that is a factory, DBP101's), with the catalog constructor they call. A builder the module
        imports from the project (`from app.db import sessionmaker`, then `sessionmaker(bind=e)()`) is
        kept under its project name: ProjectIndex resolves it when that module imports it from a library."""
        if self.is_test:
            return
        for statement in body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and not self._is_cached(statement):
                constructor = self._returned_opening(statement)
                if constructor is not None:
                    yield statement.name, constructor
            elif isinstance(statement, ast.ClassDef):
                constructor = self._wrapped_opening(statement)
                if constructor is not None:
                    yield statement.name, constructor

    def _wrapped_opening(self, klass: ast.ClassDef) -> Optional[str]:
        """A class that wraps one connection or session its `__init__` opens and keeps on `self`
        (`self.conn = psycopg2.connect(...)`), and that lets it go by methods named as the library's own
        release (`def close(self): self.conn.close()`): its objects are that connection, to be closed
        like one (the catalog constructor). None for a class with a base or a context manager of its own
        (`__exit__`, `__del__`: what releases is theirs to say), or with any other method named like a
        release (`shutdown()`, `disconnect()`), which callers may use instead."""
        if not without_base(klass):
            return None
        methods = {m.name: m for m in klass.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        constructor = methods.get("__init__")
        if constructor is None or methods.keys() & {"__enter__", "__aenter__", "__exit__", "__aexit__", "__del__"}:
            return None
        kept = self._opened_on_self(constructor)
        if len(kept) != 1:
            return None
        (attribute, (_, opened)), = kept.items()
        release = self._release_of(opened)
        releasing = {name for name, method in methods.items() if any(
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in release
            and _self_attribute(node.func.value) and node.func.value.attr == attribute  # type: ignore[attr-defined]
            for node in ast.walk(method))}
        release_named = self._release_method_names() & methods.keys()
        if not releasing or not releasing <= release or not release_named <= releasing:
            return None
        return opened

    def _opened_on_self(self, constructor: _FunctionNode) -> dict[str, tuple[ast.Attribute, str]]:
        """What `__init__` keeps on `self` of what it opens: attribute -> (the `self.x` target, the catalog
        constructor or checkout it opened). Only what the catalog names itself: a project builder's result
        is resolved for openers only."""
        kept: dict[str, tuple[ast.Attribute, str]] = {}
        for node in self.own_statements(constructor):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and _self_attribute(node.targets[0]):
                opened = self._opened_by(node.value, {})
                spec = self.catalog.client_for(opened) if opened is not None else None
                if opened is not None and ((spec is not None and not spec.registry) or self.catalog.checkout_taken(opened)
                                           or self._checkout_on_project_result(opened)):
                    target = node.targets[0]
                    assert isinstance(target, ast.Attribute)
                    kept[target.attr] = (target, opened)
        return kept

    def _checkout_on_project_result(self, taken: Optional[str]) -> bool:
        """`app.db.get_engine().connect()`: a checkout method called on what a project callable returns,
        a checkout if that callable is a factory of the catalog's client (ProjectIndex resolves it)."""
        if not taken or not taken.endswith("()"):
            return False
        receiver, _, method = taken[:-2].rpartition(".")
        return receiver.endswith("()") and "(" not in receiver[:-2] and self._in_project(receiver) \
            and bool(self.catalog.checkout_specs(method))

    def _release_of(self, opened: str) -> frozenset[str]:
        """The methods that give back what `opened` (a catalog constructor or checkout, or a checkout on
        a project callable's result) opened."""
        spec = self.catalog.client_for(opened) or self.catalog.checkout_taken(opened)
        if spec is not None:
            return frozenset(spec.release)
        method = opened[:-2].rpartition(".")[2]
        return frozenset(m for checkout in self.catalog.checkout_specs(method) for m in checkout.release)

    def _release_method_names(self) -> frozenset[str]:
        return self.catalog.derived("release-method-names", lambda: frozenset(
            {m for spec in self.catalog.clients if not spec.registry for m in spec.release}
            | {m for spec in self.catalog.checkouts for m in spec.release}
            | self.catalog.guards.cleanup_methods | self.catalog.guards.release_method_names))

    def _returned_opening(self, function: _FunctionNode) -> Optional[str]:
        """The catalog constructor of the connection or session the function returns, or the checkout it
        returns (`return engine.connect()` on a pool it or the module built:
        `sqlalchemy.create_engine().connect()`, Catalog.checkout_taken)."""
        nodes = self.own_statements(function)
        returned = {node.value.id for node in nodes if isinstance(node, ast.Return) and isinstance(node.value, ast.Name)}
        built: Optional[dict[str, str]] = None  # what its locals were built by, for a returned method call
        for node in nodes:
            value: Optional[ast.AST] = None
            if isinstance(node, ast.Return):
                value = node.value
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in returned for t in node.targets):
                value = node.value
            if value is not None:
                if built is None and isinstance(value, (ast.Call, ast.Await)):
                    built = {target.id: origin for node in nodes
                             if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                             and (origin := self.qualified(node.value))
                             for target in node.targets if isinstance(target, ast.Name)}
                opened = self._opened_by(value, built or {})
                if opened is not None:
                    return opened
        return None

    def _opened_by(self, value: ast.AST, built: dict[str, str]) -> Optional[str]:
        """What the expression opens, as `_returned_opening` names it: the catalog constructor of a
        connection or session, a checkout (`sqlalchemy.create_engine().connect()`), or a project
        builder's result (`app.db.sessionmaker()`, resolved later). `built`: what the function's locals
        were built by."""
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return None
        if isinstance(value.func, ast.Attribute):  # `engine.connect()`: only a method call takes a checkout
            taken = self.qualified(value, built)
            if self.catalog.checkout_taken(taken) is not None or self._checkout_on_project_result(taken):
                return taken  # `get_engine().connect()` of a project factory: resolved later
        constructor = self._through_own_builder(value.func) or self.qualified(value.func)
        spec = self.catalog.client_for(constructor)
        if spec is None and constructor is not None and constructor.endswith("()") and self._in_project(constructor):
            return constructor  # a builder's result, the builder imported from the project: resolved later
        if spec is None or spec.owns_pool or spec.connect:
            return None
        if spec.pool_argument and not (constructor or "").endswith("()") \
                and not self._bound_to_pool(value, spec.pool_argument):
            return None
        return constructor

    def _yielded_types(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, str]]:
        """Module functions and methods annotated as generators of an object the rules follow
        (`-> Generator[Session, None, None]`, `-> AsyncIterator[AsyncSession]`): what `next()` or
        `anext()` of their call returns (FileContext.qualified_name)."""
        named = _named_definitions(body)
        for name, function in named:
            returns = function.returns
            if not isinstance(returns, ast.Subscript) or self.qualified(returns.value) not in GENERATOR_TYPES:
                opened = self._yielded_opening(function)
                if opened is not None:
                    yield name, opened
                continue
            first = returns.slice.elts[0] if isinstance(returns.slice, ast.Tuple) and returns.slice.elts \
                else returns.slice
            yielded = self.qualified(first)
            if yielded is not None and self.catalog.follows_objects_of(yielded):
                yield name, yielded

    def _begun_yields(self, body: Sequence[ast.stmt], yielded_types: dict[str, str]) -> Iterator[tuple[str, int]]:
        """The generators of `yielded_types` that query the session they yield before yielding it, and
        end no transaction after that query (`await session.execute(...)`, then `yield session`): the
        line of the first such query."""
        for name, function in _named_definitions(body):
            yielded_type = yielded_types.get(name)
            spec = self.catalog.implicit_transaction(f"{yielded_type}()") if yielded_type else None
            if spec is not None:
                begins, ends = spec.begin_methods, spec.end_methods
            elif yielded_type is not None and self._in_project(yielded_type.removesuffix("()")):
                # what the project object is is known to the index only: any session's methods (the rules
                # count the hold only for a yielded type that resolves to a session)
                begins = frozenset(m for spec in self.catalog.implicit_transactions for m in spec.begin_methods)
                ends = frozenset(m for spec in self.catalog.implicit_transactions for m in spec.end_methods)
            else:
                continue
            nodes = self.own_statements(function)
            session = _yielded_name(nodes)
            if session is None:
                continue
            begun: Optional[int] = None
            for node in nodes:
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Yield):
                    break
                # the statement's own expressions, not those of the blocks it holds (own_statements lists them)
                for child in _statement_expressions(node):
                    for call in ast.walk(child):
                        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                                and isinstance(call.func.value, ast.Name) and call.func.value.id == session:
                            if call.func.attr in ends:
                                begun = None
                            elif call.func.attr in begins and begun is None:
                                begun = call.lineno
            if begun is not None:
                yield name, begun

    def _yielded_opening(self, function: _FunctionNode) -> Optional[str]:
        """An unannotated generator that yields a session or connection it opens (`db = SessionLocal();
        try: yield db`, `with Session(engine) as session: yield session`): the opening's constructor,
        named as `_opened_by` names it (`sqlalchemy.orm.sessionmaker()`)."""
        nodes = self.own_statements(function)
        yielded = _yielded_name(nodes)
        if yielded is None:
            return None
        for node in nodes:
            values: list[ast.AST] = []
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == yielded for t in node.targets):
                values.append(node.value)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                values.extend(item.context_expr for item in node.items
                              if isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == yielded)
            for value in values:
                opened = self._opened_by(value, {})
                if opened is not None and self.catalog.client_for(opened) is not None:
                    return opened
                called = value.value if isinstance(value, ast.Await) else value
                made_by = self.qualified(called.func) if isinstance(called, ast.Call) else None
                if made_by is not None and "(" not in made_by and self._in_project(made_by):
                    # a module object of the project (`async_session()` of `from app.db import async_session`):
                    # ProjectIndex.yielded_type resolves it to what built it
                    return f"{made_by}()"
        return None

    def _holders(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, str, str]]:
        """Classes whose objects each hold a connection or session they open and never let go:
        `__init__` keeps what it opens on `self` (`self.session = SessionLocal()`), and nothing in
        the class releases it, hands it on, returns it or rebinds it; only its methods are called
        (`self.session.query(...)`). A class with a base, or with a method that could release
        anything (`close`, `__exit__`, `__del__`...), is none. (class name, attribute, "") for what the
        catalog names; (class name, attribute, origin) for what a project callable opens, if it does
        (`self.db = DatabaseHandler()`, `self.conn = get_engine().connect()`: ProjectIndex decides)."""
        if self.is_test:
            return
        releases = self._release_method_names()
        for statement in body:
            if not isinstance(statement, ast.ClassDef) or not without_base(statement):
                continue
            methods = {m.name: m for m in statement.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
            constructor = methods.get("__init__")
            if constructor is None or releases & set(methods):
                continue
            opened = self._opened_on_self(constructor)
            opened.update(self._built_on_self(constructor, opened))
            kept: dict[str, ast.AST] = {name: target for name, (target, _) in opened.items()}
            if not kept:
                continue
            parents = {child: parent for parent in ast.walk(statement) for child in ast.iter_child_nodes(parent)}
            lent: dict[str, set[tuple[str, Union[int, str]]]] = {}
            for node in ast.walk(statement):
                if not (_self_attribute(node) and node.attr in kept) or kept[node.attr] is node:  # type: ignore[attr-defined]
                    continue
                parent = parents.get(node)
                if isinstance(parent, ast.Attribute) and parent.attr not in releases:
                    continue
                borrower = self._lent_to_project(node, parent, parents, statement.name)
                if borrower is not None:
                    lent.setdefault(node.attr, set()).add(borrower)  # type: ignore[attr-defined]
                    continue
                kept.pop(node.attr, None)  # type: ignore[attr-defined]  # handed on, returned, rebound, released
                if not kept:
                    break
            for attribute in kept:
                origin = opened[attribute][1]
                named = self.catalog.client_for(origin) is not None or self.catalog.checkout_taken(origin) is not None
                yield statement.name, attribute, "" if named else origin, tuple(sorted(lent.get(attribute, ()), key=str))

    def _lent_to_project(self, node: ast.AST, parent: Optional[ast.AST], parents: dict[ast.AST, ast.AST],
                         owner: str) -> Optional[tuple[str, Union[int, str]]]:
        """(the project callable, the position or keyword) `node` is handed to as an argument
        (`generate(source, self.database_handler)`), or None: handed elsewhere, or not an argument."""
        if isinstance(parent, ast.keyword) and parent.arg is not None:
            call, argument = parents.get(parent), parent.arg
        elif isinstance(parent, ast.Call) and node in parent.args:
            index = parent.args.index(node)  # type: ignore[arg-type]
            if any(isinstance(arg, ast.Starred) for arg in parent.args[:index]):
                return None
            call, argument = parent, index
        else:
            return None
        if not isinstance(call, ast.Call):
            return None
        callee = self._callee(call.func, owner)
        bound = isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) \
            and call.func.value.id == "self"
        if callee and callee.count("(") == 1 and "()." in callee:  # `NRTMGenerator().generate`: the class's method
            callee, bound = callee.replace("().", ".", 1), True
        if not callee or "(" in callee or not self._in_project(callee):
            return None
        # a position as parameter_positions counts it: a method called on an object takes `self` first
        return callee, argument + 1 if bound and isinstance(argument, int) else argument

    def _definition_outlines(self, body: Sequence[ast.stmt]) -> list[tuple[tuple[str, _FunctionNode], Outline]]:
        """Each of the module's functions and its classes' methods (_named_definitions) with its outline,
        drawn once from the module's."""
        if self._definitions is None:
            named = _named_definitions(body)
            self._definitions = list(zip(named, self.outline.partition([function for _, function in named])))
        return self._definitions

    def _borrowed_parameters(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, tuple[tuple[int, str], ...]]]:
        """ModuleFacts.borrowed_parameters of the module's functions and its classes' methods."""
        releases = self._release_method_names()
        for (name, function), outline in self._definition_outlines(body):
            borrowed = borrowed_parameters(parameter_positions(function), parameter_uses(function, outline), releases)
            if borrowed:
                yield name, borrowed

    def _built_on_self(self, constructor: _FunctionNode,
                       known: dict[str, tuple[ast.Attribute, str]]) -> dict[str, tuple[ast.Attribute, str]]:
        """What `__init__` keeps on `self` of a call of a project class or function that the catalog does
        not name (`self.db = DatabaseHandler()`): attribute -> (target, its qualified name)."""
        built: dict[str, tuple[ast.Attribute, str]] = {}
        for node in self.own_statements(constructor):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and _self_attribute(node.targets[0]) \
                    and isinstance(node.value, ast.Call) and node.targets[0].attr not in known:  # type: ignore[attr-defined]
                callee = self.qualified(node.value.func)
                if callee and "(" not in callee and self._in_project(callee) and self.catalog.client_for(callee) is None:
                    target = node.targets[0]
                    assert isinstance(target, ast.Attribute)
                    built[target.attr] = (target, callee)
        return built

    def _project_name(self, dotted: str) -> Optional[str]:
        """The qualified project name a dotted spelling names through the module's names (`LLM`,
        `interfaces.LLM`, `openai_client.chat.completions.create`), or None for a library's or a result's."""
        head, _, rest = dotted.partition(".")
        origin = self.qualified(ast.Name(head))
        if origin is None or "(" in origin or not self._in_project(origin):
            return None
        return f"{origin}.{rest}" if rest else origin

    def _in_project(self, qualified: str) -> bool:
        """Whether a qualified name is one of the project's (this module's package or another of its
        top-level packages), not a library's."""
        return qualified.split(".")[0] in (self.module.split(".")[0], *self.project_packages)

    def _through_own_builder(self, func: ast.AST) -> Optional[str]:
        """`get_session_maker(engine)()`, where this module's `get_session_maker` returns
        `sessionmaker(bind=engine)`: the builder's result as the catalog names it
        (`sqlalchemy.orm.sessionmaker()`), whose call opens a session."""
        if not (isinstance(func, ast.Call) and isinstance(func.func, ast.Name)):
            return None
        helper = self._module_functions().get(func.func.id)
        if helper is None or func.func.id in self.imports:
            return None
        for node in self.own_statements(helper):
            value = node.value if isinstance(node, ast.Return) else None
            if isinstance(value, ast.Await):
                value = value.value
            builder = self.qualified(value.func) if isinstance(value, ast.Call) else None
            if builder is not None and self.catalog.client_for(f"{builder}()") is not None:
                return builder + "()"
        return None

    def _bound_to_pool(self, call: ast.Call, keyword: str) -> bool:
        """`Session(engine)`, `Session(bind=engine)` with a pool-owning `engine` (rules/release.py's twin
        judgement on libcst)."""
        named = [k.value for k in call.keywords if k.arg == keyword]
        argument = named[0] if named else call.args[0] if call.args and not isinstance(call.args[0], ast.Starred) else None
        origin = self.qualified(argument) if argument is not None else None
        return origin is not None and origin.endswith("()") and self.catalog.pool_client(origin[:-2]) is not None

    def _call_summaries(self, body: Sequence[ast.stmt]) -> Iterator[CallSummary]:
        """A summary of each top-level function and method that names an external call or calls the project."""
        definitions = self._definition_outlines(body)
        # what the module's names hold: its imports, and as the screen reads them, module objects built by
        # a call (`S3 = boto3.client("s3")`) and what an `__init__` keeps on `self` (`self._s3 = ...`)
        aliases = dict(self.imports)
        if definitions:
            add_object_names(self.outline, aliases, local_assignments=False)
        for (name, function), outline in definitions:
            found = self._call_summary(name, function, outline, aliases)
            if found is not None:
                yield found

    def _call_summary(self, name: str, function: _FunctionNode, outline: Outline,
                      module_aliases: dict[str, str]) -> Optional[CallSummary]:
        by_receiver = self.catalog.derived("external-receiver-methods", lambda: frozenset(
            m for spec in self.catalog.external_calls for m in spec.receiver_methods))
        # and what the function's own names are built by (`session = boto3.Session()`, then `session.client()`)
        aliases = dict(module_aliases)
        add_assigned_names(outline, aliases)
        external = mentions_external_call(outline, summary_words(self.catalog), aliases) or any(
            node.attr in by_receiver and self.catalog.external_by_receiver_name(
                node.attr, dotted_name(node.value) or "", self.imported_modules) is not None
            for node in outline.attributes)
        callees: set[str] = set()
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        # a parameter annotated with a project class (`llm: LLM`): its methods are that class's
        annotated = {parameter: cls for parameter, annotation in annotated_parameters(function).items()
                     if annotation and (cls := self._project_name(annotation)) is not None}
        for call in outline.calls:
            func = call.func
            # `f()`, `module.f()`, `Class.f()`, `Class().f()`, `self.f()`: what DBP2xx follows
            target = func.value if isinstance(func, ast.Attribute) else func
            if isinstance(target, ast.Call) and isinstance(func, ast.Attribute):
                target = target.func
            if isinstance(target, ast.Attribute):
                # `client.chat.completions.create()` of a client another module built: by its whole name,
                # which ProjectIndex reads against that module's external bindings
                dotted = dotted_name(func)
                named = self._project_name(dotted) if dotted and dotted.split(".")[0] not in ("self", "cls") else None
                if named is not None:
                    callees.add(named)
                elif dotted and dotted.count(".") == 2 and dotted.startswith("self.") and isinstance(func, ast.Attribute):
                    # `self.provider.embed()` of what an `__init__` keeps there, a project class's object
                    # (`self.provider = OpenAIProvider()`, or a parameter annotated with one): that class's method
                    kept = called_for(module_aliases.get(dotted.rsplit(".", 1)[0]))
                    if kept is not None and self._in_project(kept):
                        callees.add(f"{kept}.{func.attr}")
                continue
            if not isinstance(target, ast.Name):
                continue
            if target.id in ("self", "cls"):
                if owner and isinstance(func, ast.Attribute):
                    callees.add(self._qualify_local(f"{owner}.{func.attr}"))
                continue
            if target.id in annotated and isinstance(func, ast.Attribute) and target is func.value:
                callees.add(f"{annotated[target.id]}.{func.attr}")
                continue
            origin = self.qualified(target)
            if origin is None or "(" in origin or not self._in_project(origin):
                continue  # a library's or a local object's
            callees.add(f"{origin}.{func.attr}" if isinstance(func, ast.Attribute) else origin)
        publishes = not external and mentions_external_call(outline, publish_words(self.catalog), aliases)
        begins, ends = self._shared_session_uses(function, outline)
        if not external and not publishes and not callees and not begins and not ends:
            return None
        return CallSummary(name, external, tuple(sorted(callees)), publishes, begins, ends)

    def _shared_session_uses(self, function: _FunctionNode, outline: Outline) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(CallSummary.session_begins, CallSummary.session_ends): calls of a session's begin or end
        methods on a receiver the function neither takes nor binds (a module's object, an import), and
        runs of a model class's query (`User.query.get()`; one that only builds it, `filter_by`, runs
        nothing). A generator's body runs when it is iterated, wherever that is: left out."""
        begin_methods, end_methods, functions = self.catalog.derived("shared-session-methods", lambda: (
            frozenset(m for spec in self.catalog.implicit_transactions for m in spec.begin_methods),
            frozenset(m for spec in self.catalog.implicit_transactions for m in spec.end_methods),
            frozenset(f for spec in self.catalog.implicit_transactions for f in (*spec.begin_functions, *spec.end_functions))))
        found: list[tuple[str, ast.Call, ast.expr]] = []  # ("model", "begin" or "end", the call, its receiver)
        # (kind, the call, as written, qualified) of a library function that names the session itself
        by_function: list[tuple[str, ast.Call, str, str]] = []
        for call in outline.calls:
            func = call.func
            if functions and isinstance(func, (ast.Name, ast.Attribute)):
                qualified = self.qualified(func)
                session_function = self.catalog.session_function(qualified)
                if session_function is not None and qualified is not None:  # `get_object_or_404(Document, pk=pk)`
                    dotted = dotted_name(func)
                    if dotted is not None:
                        by_function.append(("end" if session_function[1] else "begin", call, dotted, qualified))
                    continue
            if not isinstance(func, ast.Attribute):
                continue
            method = func.attr
            query = _model_query_run(func, self.catalog)
            if query is not None:
                found.append(("model", call, query))
                continue
            if method in begin_methods or method in end_methods:
                found.append(("end" if method in end_methods else "begin", call, func.value))
        # what each receiver names at module level: cheap, and most `.get()` calls are a local dict's, so the
        # walks below (generators, handlers, the function's own names) run only for a module's session
        named = by_function  # (kind, the call, its receiver as written, qualified)
        for kind, call, receiver in found:
            dotted = dotted_name(receiver)
            if dotted is None:
                continue
            if kind == "model":  # `User.query`: by the model class, a name of the project
                qualified = self._project_name(dotted)
            else:
                qualified = self.qualified(receiver)
                if qualified is not None and "(" not in qualified and not self._in_project(qualified):
                    qualified = None
            if qualified is not None:
                named.append((kind, call, dotted, qualified))
        if not named or self._is_cached(function):  # a cached function queries on a miss only
            return (), ()
        handled: set[int] = set()  # a rollback in an `except` handler ends it only when what it guards failed
        for node in ast.walk(function):
            if isinstance(node, (ast.Yield, ast.YieldFrom)):
                return (), ()
            if isinstance(node, ast.ExceptHandler):
                handled.update(id(inner) for statement in node.body for inner in ast.walk(statement))
        own = _bound_names(function)
        begins: dict[str, None] = {}
        ends: dict[str, None] = {}
        for kind, call, dotted, qualified in named:
            if dotted.split(".")[0] in own or (kind == "end" and id(call) in handled):
                continue
            (ends if kind == "end" else begins)[qualified] = None
        return tuple(begins), tuple(ends)

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
            elif isinstance(statement, ast.ClassDef):
                methods = {m.name: m for m in statement.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
                enter = methods.get("__enter__") or methods.get("__aenter__")
                leave = methods.get("__exit__") or methods.get("__aexit__")
                # it opens a transaction or checkout, or (through a function of any module) a connection
                # whose transaction its `__exit__` ends (holding.py's _connection_scope)
                if enter is not None and (self._may_open_hold(enter, with_counts=False)
                                          or (leave is not None and self._ends_transaction(leave))):
                    yield statement.name

    def _ends_transaction(self, function: _FunctionNode) -> bool:
        ends = self.catalog.derived("transaction-end-methods", lambda: frozenset(
            m for spec in self.catalog.transactions for m in spec.end_methods))
        return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ends
                   for node in ast.walk(function))

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
                sizing = ",".join(sorted(f"{k.arg}={ast.unparse(k.value)}" for k in value.keywords
                                         if k.arg in spec.size_arguments))
                yield ClientSite(spec.library, self.qualified(value.func) or "", display, self.datasource(value),
                                 value.lineno, self.column(value), sizing=sizing)
                continue
            callee = self.qualified(value.func)
            if callee and self.catalog.client_for(callee) is None and not self.is_test:
                yield ClientSite("", "", display, None, value.lineno, self.column(value), via=callee)

    def _inheritors(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, str, int]]:
        """`class RomsHandler(DBBaseHandler): ...` with no constructor of its own: building one runs
        the base's `__init__`, and builds whatever that builds."""
        if self.is_test:
            return
        for statement in body:
            if not isinstance(statement, ast.ClassDef) or len(statement.bases) != 1 or any(
                    isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and member.name in ("__init__", "__new__")
                    for member in statement.body):
                continue
            base = self.qualified(statement.bases[0])
            if base and "(" not in base and self._in_project(base):
                yield statement.name, base, statement.lineno

    def _registered_to_run_once(self, body: Sequence[ast.stmt]) -> Iterator[str]:
        """Functions a module-scope call registers to run once per process: as commands
        (`app.command(name="prune")(prune)`, `cli.add_command(prune)`), or as a dependency-injection
        container's singleton (`provider.provide(create_redis, scope=Scope.APP)`,
        `engine = providers.Singleton(make_engine)` in a container class)."""
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
        if not guards.singleton_providers and not guards.scoped_provider_methods:
            return
        for statement in (*body, *(s for c in body if isinstance(c, ast.ClassDef) for s in c.body)):
            value = statement.value if isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
            if not isinstance(value, ast.Call) or not value.args \
                    or not isinstance(value.args[0], (ast.Name, ast.Attribute)):
                continue
            scope = next((self.qualified(k.value) for k in value.keywords if k.arg == "scope"), None)
            if self.qualified(value.func) in guards.singleton_providers or (
                    isinstance(value.func, ast.Attribute) and value.func.attr in guards.scoped_provider_methods
                    and scope in guards.container_scopes):
                qualified = self.qualified(value.args[0])
                if qualified:
                    yield qualified

    def _scheduled(self) -> Iterator[str]:
        """What the module puts on a schedule (ModuleFacts.scheduled): the tasks of a Celery beat schedule
        assigned to a setting or `app.conf` attribute the catalog names (`beat_schedule = {"sync":
        {"task": "app.tasks.sync", "schedule": 60}}`) or passed as a keyword of that name
        (`app.conf.update(beat_schedule={...})`), and the functions a registration call names, itself or
        by its signature (`add_periodic_task(60, sync.s())`, `add_job(sync, ...)`, `add_job("app.jobs:sync")`)."""
        guards = self.catalog.guards
        settings = guards.periodic_schedule_settings
        for assign in self.outline.assigns:
            # under another name, a dict of beat entries still says so by each entry's `"schedule"`
            # (`PERIODIC_TASKS = {"sync": {"task": ..., "schedule": crontab(...)}}`, merged into the setting)
            named = any(_bound_name(target) in settings for target in assign.targets)
            yield from _beat_task_names(assign.value, needs_schedule=not named)
        for call in self.outline.calls:
            for keyword in call.keywords:
                if keyword.arg in settings:
                    yield from _beat_task_names(keyword.value)
            if not isinstance(call.func, ast.Attribute) or call.func.attr not in guards.periodic_registration_methods:
                continue
            for argument in (*call.args, *(keyword.value for keyword in call.keywords)):
                if isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute) \
                        and argument.func.attr in _SIGNATURE_METHODS:
                    argument = argument.func.value  # `sync.s(user_id)`: the task's signature
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str) \
                        and re.fullmatch(r"[\w.]+:\w+", argument.value):
                    yield argument.value.replace(":", ".")  # APScheduler's textual reference
                elif isinstance(argument, (ast.Name, ast.Attribute)):
                    qualified = self.qualified(argument)
                    if qualified:
                        yield qualified

    def _routed_views(self, body: Sequence[ast.stmt]) -> Iterator[str]:
        """Views a module-scope URLconf routes or a router registers (RequestTransactionSpec), as
        qualified names: `path("o/", login_required(views.create_order))` names the function,
        `path("o/", Orders.as_view())` and `router.register("o", Orders)` the class."""
        specs = self.catalog.request_transactions
        if not specs:
            return
        routes = {name for spec in specs for name in spec.routes}
        routers = {name for spec in specs for name in spec.routers}
        # a route or router resolves through an import of its package: a module importing none routes nothing
        packages = {name.split(".")[0] for name in routes | routers}
        if not any(imported.split(".")[0] in packages for imported in self.imports.values()):
            return
        router_methods = {name for spec in specs for name in spec.router_methods}
        class_view_methods = {name for spec in specs for name in spec.class_view_methods}
        for statement in body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for node in ast.walk(statement):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                view: Optional[ast.AST] = None
                if isinstance(func, ast.Attribute) and func.attr in router_methods and len(node.args) >= 2:
                    if self.qualified(func.value) in routers:
                        view = node.args[1]
                elif len(node.args) >= 2 or any(k.arg == "view" for k in node.keywords):
                    if self.qualified(func) in routes:
                        view = node.args[1] if len(node.args) >= 2 else next(
                            k.value for k in node.keywords if k.arg == "view")
                while isinstance(view, ast.Call):  # `login_required(view)`, `Orders.as_view(...)`
                    if isinstance(view.func, ast.Attribute) and view.func.attr in class_view_methods:
                        view = view.func.value
                    elif len(view.args) == 1 and not view.keywords:
                        view = view.args[0]
                    else:
                        view = None
                if isinstance(view, (ast.Name, ast.Attribute)):
                    qualified = self.qualified(view)
                    if qualified and "(" not in qualified and self._in_project(qualified):
                        yield qualified

    def _installers(self) -> Iterator[tuple[str, tuple[tuple[int, str], ...]]]:
        """Module functions that store a parameter as module state: on an imported module or a module-scope
        object (`meta.engine = engine`), or in a `global` (`global _engine; _engine = engine`). The
        client a caller hands them becomes the process's client, replaced on the next call."""
        if self.is_test:
            return
        for name, function in self._module_functions().items():
            parameters = parameter_positions(function)
            declared = {n for s in self.own_statements(function) if isinstance(s, ast.Global) for n in s.names}
            installed: dict[str, int] = {}
            for statement in self.own_statements(function):
                if not isinstance(statement, ast.Assign) or not isinstance(statement.value, ast.Name) \
                        or statement.value.id not in parameters:
                    continue
                for target in statement.targets:
                    module_state = (isinstance(target, ast.Name) and target.id in declared) or (
                        isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id not in parameters
                        and (target.value.id in self.imports or target.value.id in self.module_bindings)
                        # Flask's `g` lives for one request: nothing installed there outlives it
                        and self.qualified(target.value) not in self.catalog.guards.request_scoped_objects)
                    if module_state:
                        installed[statement.value.id] = parameters[statement.value.id]
            if installed:
                yield name, tuple(sorted((position, parameter) for parameter, position in installed.items()))

    def _result_parameters(self) -> Iterator[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """Module functions whose result carries only some of their parameters: what the caller's
        `oid = get_oid(name, schema, engine)` keeps of the engine when it stores `oid` (nothing). A
        parameter is carried when a `return` carries it (`_carried_names`), directly or through a local
        it flows into (`inspector = inspect(engine); return inspector`). Generators, functions that
        define a closure or a lambda (which may keep a parameter alive) and those whose `*args` or
        `**kwargs` is carried are left out: they may carry any. The libcst twin is
        rules/client_flow.py's `returned_names`."""
        if self.is_test:
            return
        for name, function in self._module_functions().items():
            statements = self.own_statements(function)
            if not function.args.args or not any(isinstance(s, ast.Return) and s.value is not None for s in statements):
                continue  # only a function that returns something and takes arguments is asked about
            if any(isinstance(node, (ast.Yield, ast.YieldFrom, ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef,
                                     ast.ClassDef)) for body in function.body for node in ast.walk(body)):
                continue
            arguments = function.args
            positional = tuple(a.arg for a in (*arguments.posonlyargs, *arguments.args))
            parameters = {*positional, *(a.arg for a in arguments.kwonlyargs)}
            starred = {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
            flows: dict[str, set[str]] = {}
            returned: set[str] = set()
            for statement in statements:
                if isinstance(statement, ast.Return) and statement.value is not None:
                    returned |= _carried_names(statement.value, self._passes_arguments_on)
                elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
                    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                    names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                    for carried in _carried_names(statement.value, self._passes_arguments_on):
                        flows.setdefault(carried, set()).update(names)
            changed = True
            while changed:
                changed = False
                for source, targets in flows.items():
                    if source not in returned and targets & returned:
                        returned.add(source)
                        changed = True
            if returned & starred or not parameters - returned:
                continue  # it may carry any argument, as an unlisted function does
            yield name, positional, tuple(sorted(returned & parameters))

    def _request_settings(self, body: Sequence[ast.stmt]) -> Iterator[tuple[str, int]]:
        """`"ATOMIC_REQUESTS": True` in a module-scope dict (`DATABASES = {"default": {...}}`), or
        `DATABASES["default"]["ATOMIC_REQUESTS"] = True`: (setting, line). Only the literal `True`
        counts: a value read from the environment may be anything."""
        settings = {spec.setting for spec in self.catalog.request_transactions}
        if not self.names_request_setting:
            return
        for statement in body:
            if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or statement.value is None:
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                key = target.slice if isinstance(target, ast.Subscript) else None
                if isinstance(key, ast.Constant) and key.value in settings and _is_true(statement.value):
                    yield key.value, statement.lineno
            for node in ast.walk(statement.value):
                if isinstance(node, ast.Dict):
                    for key, value in zip(node.keys, node.values):
                        if isinstance(key, ast.Constant) and key.value in settings and _is_true(value):
                            yield key.value, key.lineno

    def _hold_settings(self, tree: ast.Module) -> Iterator[tuple[str, int]]:
        """ModuleFacts.hold_settings: the setting as a dict key or an assigned subscript anywhere in the
        module (settings are often built in a function: `options["pool"] = {"max_size": size}`), set to
        anything but `False` or `None`: a value read from the environment may turn it on."""
        if not self.hold_setting_names:
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value in self.hold_setting_names and not _is_off(value):
                        yield key.value, key.lineno
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    key = target.slice if isinstance(target, ast.Subscript) else None
                    if isinstance(key, ast.Constant) and key.value in self.hold_setting_names \
                            and not _is_off(node.value):
                        yield key.value, node.lineno

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
            value = built_by(statement.value) or statement.value
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

    def _external_bindings(self, objects: Sequence[ModuleObject], module_imports: dict[str, str]) -> Iterator[tuple[str, str]]:
        """Module-scope names another module may import to call out through (ModuleFacts.external_bindings)."""
        if self.is_test:
            return
        for found in objects:
            built = found.origin[:-2] if found.origin.endswith("()") else ""
            if built and "(" not in built and self.catalog.calls_out_through(built):
                yield found.name, found.origin
        for name, target in module_imports.items():
            if name in self.local_names or name in self.module_bindings:
                continue  # bound again by the module itself (`def get(...)` after `from requests import get`)
            if not self._in_project(target) and self.catalog.calls_out_through(target):
                yield name, target

    def _unaliased_decorator(self, decorator: ast.expr) -> ast.expr:
        """What a decorator calls: `lru_cache` of `@lru_cache(maxsize=None)`, and of `@cached` after a
        module-level `cached = functools.lru_cache(maxsize=None)` (as roles._unaliased reads it)."""
        if isinstance(decorator, ast.Call):
            return decorator.func
        if isinstance(decorator, ast.Name) and decorator.id not in self.imports:
            bound = self.module_bindings.get(decorator.id)
            if isinstance(bound, ast.Call):
                return bound.func
        return decorator

    def _is_cached(self, function: _FunctionNode) -> bool:
        """Whether a cache decorator keeps the function's results: its body runs on a miss only."""
        guards = self.catalog.guards
        for decorator in function.decorator_list:
            target = self._unaliased_decorator(decorator)
            if self.qualified(target) in guards.cache_decorators \
                    or isinstance(target, ast.Attribute) and target.attr in guards.cache_decorator_attributes:
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
                returned |= _carried_names(node.value, self._passes_arguments_on)
        qualified = f"{owner}.{function.name}" if owner else function.name
        # `_engines[url] = engine` into a module-level dict (or, in a method, a dict of the instance:
        # `engine = self._engines[url] = create_engine(url)`), then returned: memoized per key, a guard
        # like a global set once (the lookup that returns the kept client is not checked)
        def memo(target: ast.AST) -> bool:
            if not isinstance(target, ast.Subscript):
                return False
            container = target.value
            if isinstance(container, ast.Name):
                return container.id in self.module_bindings
            # a dict of the instance, or of the class every instance shares (`cls._engines[shard] = engine`
            # in a classmethod, `Registry._engines[shard] = engine`)
            return bool(owner) and isinstance(container, ast.Attribute) and isinstance(container.value, ast.Name) \
                and container.value.id in ("self", "cls", owner.rsplit(".", 1)[-1])

        kept_at_module: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Assign) and any(memo(t) for t in node.targets):
                if isinstance(node.value, ast.Name):
                    kept_at_module.add(node.value.id)
                kept_at_module.update(t.id for t in node.targets if isinstance(t, ast.Name))
        # `global _engine; if _engine is None: _engine = create_engine(url)`, then `return _engine`: the
        # module's lazy singleton, kept like a memo (what the callers get is the one client, whose
        # checkouts are still checkouts of its pool)
        kept_in_global = returned & declared_global & self.module_bindings.keys() if owner == "" else set()
        base = dict(name=self._qualify_local(qualified), display=f"{qualified}()",
                    cached=self._is_cached(function) or bool(returned & kept_at_module) or bool(kept_in_global),
                    line=function.lineno)
        # every project callable whose result the return may carry, in the order the statements run: a
        # name assigned from one may be the client (`engine = make_engine(); return engine`) or only what
        # the returned call is made from (`credentials = _credentials(); return engines.build(**credentials)`)
        candidates: list[str] = []
        for node in nodes:
            call: Optional[ast.AST] = None
            if isinstance(node, ast.Return):
                call = node.value
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in returned and (t.id not in declared_global or t.id in kept_in_global)
                for t in node.targets
            ):
                call = node.value
            if isinstance(call, ast.Await):
                call = call.value
            while isinstance(call, ast.Subscript):  # `return MongoClient(url)["shop"]`: the database keeps its client
                call = call.value
            if not isinstance(call, ast.Call):
                continue
            spec = self.pool_spec(call)
            if spec is not None:
                return Factory(constructor=self.qualified(call.func) or "",
                               constructor_display=f"{dotted_name(call.func) or 'client'}()", library=spec.library,
                               datasource=self.datasource(call), **base)  # type: ignore[arg-type]
            callee = self._callee(call.func, owner)
            if callee and self.catalog.client_for(callee) is None and "(" not in callee and callee not in candidates:
                candidates.append(callee)
        if candidates:
            return Factory(constructor="", constructor_display="", library="", datasource=None,
                           returns=candidates[0], alternatives=tuple(candidates[1:]), **base)  # type: ignore[arg-type]
        return None

    def _passes_arguments_on(self, call: ast.Call) -> bool:
        """Whether a returned call's result may keep its arguments: an object built from them
        (`Store(client)`, `sessionmaker(bind=engine)`), anything of a library's or another module's;
        not a function of this module that returns none of its parameters
        (`return _is_locked_out(key, redis)` returns what the function computes with the client)."""
        if not isinstance(call.func, ast.Name):
            return True
        function = self._module_functions().get(call.func.id)
        if function is None:
            return not (call.func.id in INSPECTING_BUILTINS and call.func.id not in self.local_names
                        and call.func.id not in self.imports and call.func.id not in self.module_bindings)
        parameters = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs,
                                      *filter(None, (function.args.vararg, function.args.kwarg)))}
        return any(_carried_names(node.value) & parameters for node in self.own_statements(function)
                   if isinstance(node, ast.Return) and node.value is not None)

    def _mapping_keys(self) -> dict[str, list[tuple[str, ast.expr]]]:
        """For each name, the string keys the module sets on the mapping it names, with their values:
        `kwargs["poolclass"] = NullPool`, `kwargs = {"poolclass": ...}` or `dict(poolclass=...)`,
        `kwargs.update(poolclass=...)`, `kwargs.setdefault("poolclass", ...)`. The libcst twin is
        FileContext.mapping_keys."""
        if self._mappings is None:
            # from the module's outline, not a walk of its own: the keys' order does not matter (pool_spec
            # asks whether any key exempts the constructor)
            found: dict[str, list[tuple[str, ast.expr]]] = {}
            for assign in self.outline.assigns:
                for target in assign.targets:
                    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                            and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
                        found.setdefault(target.value.id, []).append((target.slice.value, assign.value))
                    elif isinstance(target, ast.Name):
                        found.setdefault(target.id, []).extend(_literal_mapping(assign.value))
            for node in self.outline.calls:
                if isinstance(node.func, ast.Attribute) \
                        and isinstance(node.func.value, ast.Name) and node.func.attr in ("update", "setdefault"):
                    pairs = [(k.arg, k.value) for k in node.keywords if k.arg] \
                        + [pair for arg in node.args[:1] for pair in _literal_mapping(arg)]
                    if node.func.attr == "setdefault" and len(node.args) == 2 and isinstance(node.args[0], ast.Constant) \
                            and isinstance(node.args[0].value, str):
                        pairs = [(node.args[0].value, node.args[1])]
                    found.setdefault(node.func.value.id, []).extend(pairs)
            self._mappings = found
        return self._mappings

    def _module_functions(self) -> dict[str, _FunctionNode]:
        if self._functions is None:
            self._functions = {statement.name: statement for statement in _module_statements(self.tree.body)
                               if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))}
        return self._functions

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
        candidate: Optional[Factory] = None
        for node in self.own_statements(init):
            if isinstance(node, ast.Return):
                return None  # an early return may skip the construction: not judged
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) else None
            if value is None:
                continue
            targets = _unpacked(node.targets if isinstance(node, ast.Assign)
                                else [node.target] if isinstance(node, ast.AnnAssign) else [])
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
            if client.name and client not in methods.values():
                # a function that may build a client (the index decides): one a later statement builds
                # for sure is preferred
                candidate = candidate or Factory(constructor="", constructor_display="", library="", datasource=None,
                                                 returns=client.name, **own)  # type: ignore[arg-type]
                continue
            if client.name:  # built by a factory method: `EmbeddingIndex()` -> `_new_engine()` -> ...
                return Factory(constructor="", constructor_display="", library="", datasource=None,
                               returns=client.name, **own)  # type: ignore[arg-type]
            return replace(client, **own)
        return candidate

    def _built_in(self, value: ast.AST, owner: str, methods: dict[str, Factory],
                  local: dict[str, tuple[Factory, str]], parameters: list[str]) -> Optional[tuple[Factory, str]]:
        """The client an expression of `__init__` builds (a Factory with an empty name for a catalog
        constructor), and the parameter that, when passed, replaces it."""
        if isinstance(value, ast.Await):
            value = value.value
        while isinstance(value, ast.Subscript):  # `self.crawls = mdb["crawls"]`: the collection holds the client
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
            arguments = {node.id for node in ast.walk(value) if isinstance(node, ast.Name)}
            # a URL computed from nothing the caller passes (`ConfigManager.get_db_engine()`) is the same
            # for every instance: two instances are two pools for one datasource (DBP103)
            fixed = None if arguments & {*parameters, "self", "cls"} else f"the database `{owner}()` connects to"
            return Factory(name="", display="", constructor=self.qualified(value.func) or "",
                           constructor_display=f"{dotted_name(value.func) or 'client'}()", library=spec.library,
                           datasource=self.datasource(value) or fixed, cached=False, line=value.lineno), ""
        callee = self._callee(value.func, owner)
        method = callee.rsplit(".", 1)[-1] if callee and callee.startswith(self._qualify_local(owner) + ".") else None
        if method is not None and method in methods:
            return methods[method], ""  # `self._new_engine()`
        for argument in (*value.args, *(k.value for k in value.keywords)):
            found = self._built_in(argument, owner, methods, local, parameters)  # `Traced(inner=Prisma())`
            if found is not None:
                return found
        if callee and method is None and "(" not in callee and self.catalog.client_for(callee) is None \
                and callee != self._qualify_local(owner):
            # `_, mdb = init_db()`: a function (of this module or another) that may return a client; the
            # project index keeps the class a factory only if that function is one (`Factory.returns`)
            return Factory(name=callee, display="", constructor="", constructor_display="", library="",
                           datasource=None, cached=False, line=value.lineno), ""
        return None

def _literal_mapping(value: ast.AST) -> list[tuple[str, ast.expr]]:
    """The string keys and values of `{"k": v}` or `dict(k=v)`."""
    if isinstance(value, ast.Dict):
        return [(key.value, item) for key, item in zip(value.keys, value.values)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)]
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
        return [(k.arg, k.value) for k in value.keywords if k.arg]
    return []


def _carried_names(value: ast.AST, passes_arguments_on: Callable[[ast.Call], bool] = lambda call: True) -> set[str]:
    """Names whose value a returned expression carries: itself, or an argument of the call it is, at any depth
    (`return Store(client)`, `return cls(client[db][coll])`), unless `passes_arguments_on` says the call
    keeps none of them."""
    if isinstance(value, ast.Await):
        value = value.value
    while isinstance(value, ast.Subscript):  # `client[db][coll]` keeps the client alive
        value = value.value
    if isinstance(value, ast.Name):
        return {value.id}
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        return {n for element in value.elts for n in _carried_names(element, passes_arguments_on)}
    if isinstance(value, ast.Dict):
        return {n for element in value.values for n in _carried_names(element, passes_arguments_on)}
    if isinstance(value, ast.Call) and passes_arguments_on(value):
        return {n for argument in (*value.args, *(k.value for k in value.keywords))
                for n in _carried_names(argument, passes_arguments_on)}
    return set()


_PLAIN = (str, int, float, bool, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """`dataclasses.asdict` for what the facts hold (dataclasses, tuples, lists, dicts, strings,
    numbers, None), without its deep copy of every leaf (6% of the index pass's time, profiled on the
    bench corpus)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is tuple:
        return tuple([_plain(item) for item in value])
    if kind is list:
        return [_plain(item) for item in value]
    if kind is dict:
        return {_plain(key): _plain(item) for key, item in value.items()}
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(field.name for field in fields(value))
    return {name: _plain(getattr(value, name)) for name in names}


def parameter_positions(function: "ast.FunctionDef | ast.AsyncFunctionDef") -> dict[str, int]:
    """Each named parameter's position among the positional ones, -1 for a keyword-only one: how the
    index records a parameter a call may pass by position or by keyword."""
    arguments = function.args
    positions = {a.arg: i for i, a in enumerate((*arguments.posonlyargs, *arguments.args))}
    positions.update({a.arg: -1 for a in arguments.kwonlyargs})
    return positions


# how a function uses each of its parameters: None when it does anything with it but call methods on it
# or read its attributes (a hand-off, a return, a store, a `with`, a closure), else the methods it calls
ParameterUses = dict[str, Optional[frozenset[str]]]


def parameter_uses(function: "ast.FunctionDef | ast.AsyncFunctionDef", outline: Optional[Outline] = None) -> ParameterUses:
    """What borrowed_parameters judges, computed once per function and kept without its tree.
    `outline`: the function's, when the caller has it (Outline.partition), else one is drawn."""
    positions = parameter_positions(function)
    if not positions:
        return {}
    if outline is None:
        outline = Outline(function)
    # Only the body counts (not the decorators, defaults or annotations), and inside a nested
    # definition, lambda or class a parameter is a closure, which is not a borrow: any use there is
    # "other". Elsewhere a parameter is borrowed where it is the value of an attribute read
    # (`con.closed`) or of a method called on it (`con.execute(...)`); any other use of its name
    # (handed on, returned, stored, compared, `con.x = ...`) is "other".
    body_start = definition_start(function.body[0])
    spans = [(*definition_start(node), node.end_lineno or node.lineno, node.end_col_offset or 0)
             for node in (*outline.functions, *outline.scopes) if node is not function]

    def in_body(node: ast.AST) -> bool:
        return (node.lineno, node.col_offset) >= body_start  # type: ignore[attr-defined]

    def in_nested(node: ast.AST) -> bool:
        line, column = node.lineno, node.col_offset  # type: ignore[attr-defined]
        return any((first_line, first_column) <= (line, column) and (line, column) < (last_line, last_column)
                   for first_line, first_column, last_line, last_column in spans)

    read: dict[int, ast.Attribute] = {}  # a parameter's Name node -> the attribute it is the value of
    for node in outline.attributes:
        value = node.value
        if type(value) is ast.Name and value.id in positions and type(value.ctx) is ast.Load \
                and type(node.ctx) is ast.Load:
            read[id(value)] = node
    methods: dict[str, set[str]] = {name: set() for name in positions}
    for call in outline.calls:
        func = call.func
        if type(func) is ast.Attribute and id(func.value) in read and in_body(call) and not (spans and in_nested(call)):
            methods[func.value.id].add(func.attr)  # type: ignore[attr-defined]
    other: set[str] = set()
    quoted = outline.quoted
    for name in outline.names:
        if name.id not in positions or name.id in other or id(name) in quoted or not in_body(name):
            continue
        if spans and in_nested(name) or id(name) not in read:
            other.add(name.id)
    return {name: None if name in other else frozenset(called) for name, called in methods.items()}


def borrowed_parameters(positions: dict[str, int], uses: ParameterUses,
                        releases: frozenset[str]) -> tuple[tuple[int, str], ...]:
    """The parameters a function only borrows, with their positions (-1: keyword-only): it calls
    methods on them (`con.execute(...)`) or reads their attributes, and does nothing else with them:
    no method named in `releases`, no hand-off to a call, no return, no store, no `with`, no closure.
    A connection handed to such a function is still its caller's to give back. `positions`:
    parameter_positions; `uses`: parameter_uses of the same function."""
    return tuple(sorted((positions[name], name) for name, called in uses.items()
                        if called is not None and not called & releases))


def _dict_literal_keys(call: ast.Call) -> list[str]:
    """The keys of each dict literal a call passes by keyword, as `connect_args.check_same_thread`."""
    return [f"{k.arg}.{key.value}" for k in call.keywords if k.arg and isinstance(k.value, ast.Dict)
            for key in k.value.keys if isinstance(key, ast.Constant) and isinstance(key.value, str)]


def _is_true(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _model_query_run(func: ast.Attribute, catalog: Catalog) -> Optional[ast.Attribute]:
    """`User.query` of `User.query.filter_by(name=n).first()`, `Document.objects` of `Document.objects.get(pk=1)`:
    the model's query attribute of a call that runs its query (Catalog.runs_model_query); None for any other call."""
    methods = [func.attr]
    query = func.value
    while isinstance(query, ast.Call) and isinstance(query.func, ast.Attribute):
        methods.append(query.func.attr)
        query = query.func.value
    if not isinstance(query, ast.Attribute) or not isinstance(query.value, ast.Name):
        return None
    return query if catalog.runs_model_query(query.attr, methods) else None


def _is_off(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None)


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


def _bound_names(function: _FunctionNode) -> set[str]:
    """The names a function takes or binds anywhere in its body: its own objects, not a module's."""
    arguments = function.args
    names = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                             *filter(None, (arguments.vararg, arguments.kwarg)))}
    declared: set[str] = set()  # `global session`: the module's
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
    return names - declared


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


def _yielded_name(statements: Sequence[ast.stmt]) -> Optional[str]:
    """The one name a generator's `yield <name>` statements yield (`yield session`); None when they yield
    several names or none (yields of other expressions are not counted)."""
    yielded = {node.value.value.id for node in statements if isinstance(node, ast.Expr)
               and isinstance(node.value, ast.Yield) and isinstance(node.value.value, ast.Name)}
    return next(iter(yielded)) if len(yielded) == 1 else None


def _statement_expressions(statement: ast.stmt) -> Iterator[ast.AST]:
    """The statement's own parts (a `with`'s items, an `if`'s test, an assignment's value), not the
    blocks it holds."""
    for field_name, value in ast.iter_fields(statement):
        if field_name in _BLOCK_FIELDS:
            continue
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, ast.AST) and not isinstance(item, ast.stmt):
                yield item


def _unpacked(targets: Sequence[ast.expr]) -> list[ast.expr]:
    """Assignment targets with tuples and lists taken apart: `client, db = init_db()`."""
    out: list[ast.expr] = []
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            out.extend(_unpacked(target.elts))
        else:
            out.append(target)
    return out
