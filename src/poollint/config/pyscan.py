"""What one Python file says about database URLs, for the configuration rules (DBP4xx).

Kept apart from config/project.py, which imports every configuration parser: the Python
pass computes these facts for every screened file, and a run over Python files alone
must not pay for YAML and TOML parsers it does not use.
"""
from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from typing import Any, Optional

from poollint.catalog.model import Catalog
from poollint.config.urls import looks_like_url
from poollint.pyast import Outline, dotted_name, word_pattern
from poollint.python.names import absolute_bindings
from poollint.limits import MAX_AST_BYTES

_ENV_FUNCTIONS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault", "environ.get", "getenv",
                            "env", "env.str", "env.url", "config", "decouple.config", "environ.Env"})
_SERVERLESS_HANDLER = re.compile(rb"def\s+(?:lambda_handler|handler)\s*\(\s*event\s*,\s*context\b")
# alembic's `config.set_main_option("sqlalchemy.url", url)` (and `set_section_option(section, ...)`) hands
# the URL to SQLAlchemy, which builds the migration engine from it
_SQLALCHEMY_URL_OPTION = "sqlalchemy.url"
_OPTION_SETTERS = {"set_main_option": 0, "set_section_option": 1}  # method -> position of the option name
# code that rewrites a `postgres://` URL's scheme before SQLAlchemy reads it, as Heroku's docs advise:
# `url.replace("postgres://", "postgresql://", 1)`, `re.sub(r"^postgres:", "postgresql+psycopg:", url)`
_POSTGRES_SCHEME_REWRITE = re.compile(rb"""[rRbB]?["']\^?postgres:(?://)?["'][ \t]*,[ \t\n]*[rRbBfF]?["']postgresql""")
# a module-level name bound to an environment variable (`DATABASE_URL = os.getenv("X")`): other modules
# that import the name read the variable
_MODULE_ENV_READ = re.compile(rb"^[A-Za-z_]\w*[ \t]*(?::[^=\n]*)?=[^\n]*\b(?:getenv[ \t]*\(|environ[ \t]*[\[.]"
                              rb"|config[ \t]*\(|env(?:\.\w+)?[ \t]*\()", re.MULTILINE)
MAX_PYTHON_BYTES = 2_000_000
# nodes with nothing inside that _PythonScan reads
_LEAVES = (ast.Name, ast.Constant, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.alias)


class _PythonScan:
    """One walk of a module's tree, in source order, reading the facts below.

    Not an `ast.NodeVisitor`: that looks each node's method up by name and walks every field of
    every node, contexts and operators included, and on the files that build a client it took more
    time than parsing them. Here the methods are looked up once per node class, and leaves that
    hold nothing the scan reads (names, constants, contexts, operators) are not entered."""

    _methods: dict[type, Any] = {}

    def visit(self, node: ast.AST) -> None:
        methods = _PythonScan._methods
        kind = node.__class__
        if kind not in methods:
            methods[kind] = getattr(_PythonScan, f"visit_{kind.__name__}", None)
        method = methods[kind]
        if method is not None:
            method(self, node)
        else:
            self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and not isinstance(item, _LEAVES):
                        self.visit(item)
            elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
                self.visit(value)

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.aliases: dict[str, str] = {}
        self.names: dict[str, str] = {}  # module/function name -> environment variable it holds
        self.consumers: dict[str, set[str]] = {}
        self.literals: list[tuple[int, str, str, bool]] = []
        self.pool_sizes: list[tuple[str, str, int, int]] = []
        self.serverless = False
        # module-level names bound to an environment variable: name -> variable
        self.exports: dict[str, str] = {}
        # a name imported from the project handed to a library: (qualified name as imported, library)
        self.imported_consumers: set[tuple[str, str]] = set()
        # URLs written in code and bound to a name of the current function (or the module): name -> UrlValue
        self.url_values: dict[str, UrlValue] = {}
        # URLs handed to a call that is no library's: (callee as imported, argument position, URL)
        self.handed: set[tuple[str, int, UrlValue]] = set()
        # module-level functions that hand a parameter to a library's constructor: (function, position) -> library
        self.forwarders: dict[tuple[str, int], str] = {}
        self._parameters: Optional[tuple[str, list[str]]] = None  # the module-level function being read
        self._depth = 0  # functions entered: module-level statements are at 0

    def qualify(self, node: ast.AST) -> Optional[str]:
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        resolved = self.aliases.get(head, head)
        return f"{resolved}.{rest}" if rest else resolved

    def _imported_in(self, node: ast.AST, library: str) -> None:
        """Names of the argument imported from elsewhere (`from app.config import DATABASE_URL`): what
        variable they hold is known in their module (config/project.py joins them)."""
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and child.id not in self.names and child.id in self.aliases \
                    and "." in self.aliases[child.id]:
                self.imported_consumers.add((self.aliases[child.id], library))

    def visit_Import(self, node: ast.Import) -> None:
        self.aliases.update(absolute_bindings(node))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.aliases.update(absolute_bindings(node))

    def env_name(self, node: ast.AST) -> Optional[str]:
        if isinstance(node, ast.Subscript) and self.qualify(node.value) in ("os.environ", "environ"):
            key = node.slice
            if type(key).__name__ == "Index":  # Python 3.8's wrapper
                key = key.value  # type: ignore[attr-defined]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return key.value
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            name = self.qualify(node.func) or ""
            if name in _ENV_FUNCTIONS or name.endswith((".getenv", "environ.get")):
                return node.args[0].value
        return None

    def variables_in(self, node: ast.AST) -> set[str]:
        found: set[str] = set()
        for child in ast.walk(node):
            name = self.env_name(child)
            if name:
                found.add(name)
            elif isinstance(child, ast.Name) and child.id in self.names:
                found.add(self.names[child.id])
            elif isinstance(child, ast.Attribute) and child.attr.lower().endswith(("_url", "_uri", "_dsn")):
                found.add(child.attr.upper())
        return found

    def visit_Assign(self, node: ast.Assign) -> None:
        self._bind([t.id for t in node.targets if isinstance(t, ast.Name)], node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:  # `DATABASE_URL: str = config("DB_URL")`
        if node.value is not None and isinstance(node.target, ast.Name):
            self._bind([node.target.id], node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:  # `url += "?sslmode=require"`: no longer the literal
        self._forget(node.target)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._forget(node.target)
        self.generic_visit(node)

    visit_AsyncFor = visit_For  # type: ignore[assignment]

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._forget(node.target)
        self.generic_visit(node)

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self._forget(node.optional_vars)
        self.generic_visit(node)

    def _forget(self, target: ast.AST) -> None:
        for name in ast.walk(target):
            if isinstance(name, ast.Name):
                self.url_values.pop(name.id, None)

    def _bind(self, names: list[str], value: ast.AST) -> None:
        url = self.url_value(value)
        for name in names:
            if url is not None:
                self.url_values[name] = url
            else:
                self.url_values.pop(name, None)
        for variable in sorted(self.variables_in(value))[:1]:
            for name in names:
                self.names[name] = variable
                if self._depth == 0:
                    self.exports[name] = variable

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        params = [a.arg for a in node.args.args]
        if node.name in ("handler", "lambda_handler") and params[:2] == ["event", "context"]:
            self.serverless = True
        outer_values, outer_parameters = self.url_values, self._parameters
        self.url_values = dict(outer_values)
        self._parameters = (node.name, params) if self._depth == 0 else None
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1
        self.url_values, self._parameters = outer_values, outer_parameters

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        name = self.qualify(node.func) or ""
        if name in ("mangum.Mangum",):
            self.serverless = True
        library = None
        spec = self.catalog.client_for(name)
        if spec is not None:
            library = spec.library
        elif name.startswith("dj_database_url."):
            library = "django"
        option = _OPTION_SETTERS.get(node.func.attr) if isinstance(node.func, ast.Attribute) else None
        if option is not None and len(node.args) > option + 1 and isinstance(node.args[option], ast.Constant) \
                and node.args[option].value == _SQLALCHEMY_URL_OPTION:
            for variable in self.variables_in(node.args[option + 1]):
                self.consumers.setdefault(variable, set()).add("sqlalchemy")
            self._imported_in(node.args[option + 1], "sqlalchemy")
        if library:
            arguments = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in (
                "url", "dsn", "host", "datasource", "default", "database_url", "conninfo")]
            sizes = _literal_pool_size(node)
            for argument in arguments:
                self._imported_in(argument, library)
                for variable in self.variables_in(argument):
                    self.consumers.setdefault(variable, set()).add(library)
                    if sizes is not None:
                        self.pool_sizes.append((variable, library, *sizes))
                url = self.url_value(argument)
                if url is not None:
                    self.literals.append((url.line, url.text, library, url.scheme_only))
                if self._parameters is not None and isinstance(argument, ast.Name) \
                        and argument.id in self._parameters[1]:
                    # `def create_db_engine(url): return create_engine(url, ...)`: its callers' URLs are SQLAlchemy's
                    self.forwarders[(self._parameters[0], self._parameters[1].index(argument.id))] = library
        elif name:
            for position, argument in enumerate(node.args):
                url = self.url_value(argument)
                if url is not None:
                    self.handed.add((name, position, url))
        self.generic_visit(node)

    def url_value(self, node: ast.AST) -> Optional[UrlValue]:
        """A URL the code writes: a string literal, an f-string whose scheme is written out
        (`f"postgres://{user}:{password}@{host}/db"`: only the scheme is known), or a name bound to one."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and looks_like_url(node.value):
            return UrlValue(node.lineno, node.value, False)
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant) \
                and isinstance(node.values[0].value, str):
            scheme, separator, _ = node.values[0].value.partition("://")
            if separator and _SCHEME.fullmatch(scheme):
                return UrlValue(node.lineno, f"{scheme}://", True)
        if isinstance(node, ast.Name):
            return self.url_values.get(node.id)
        return None


def is_module_imported_as(dotted: str, imported: str) -> bool:
    """Whether the module `dotted` (named from the project's root: `backend.app.db.engines`) is the one an
    import names `imported` (`app.db.engines`, from wherever the importing code runs)."""
    return dotted == imported or dotted.endswith("." + imported)


@dataclass(frozen=True)
class UrlValue:
    line: int
    text: str
    scheme_only: bool  # an f-string: its scheme is written out, the rest is computed


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


# Keyword arguments that size a pool: SQLAlchemy pool_size/max_overflow, asyncpg/psycopg_pool max_size.
_POOL_KEYWORDS = {"pool_size": 0, "max_size": 0, "maxconn": 0, "max_overflow": 1}


def _literal_pool_size(call: ast.Call) -> Optional[tuple[int, int]]:
    """(pool, overflow) when the call sizes its pool with integer literals; overflow defaults apply elsewhere."""
    found: dict[int, int] = {}
    for keyword in call.keywords:
        if keyword.arg in _POOL_KEYWORDS and isinstance(keyword.value, ast.Constant) \
                and type(keyword.value.value) is int and keyword.value.value >= 0:
            found[_POOL_KEYWORDS[keyword.arg]] = keyword.value.value
    if 0 not in found:
        return None
    return found[0], found.get(1, -1)


_ATTRIBUTION_WORDS = (b"://", b"environ", b"getenv", b"config(", b"env(", b"settings")


@dataclass(frozen=True)
class PythonFacts:
    """What one Python file says about database URLs: computed where the file is parsed, cached with it."""

    consumers: tuple[tuple[str, str], ...] = ()  # (variable, library that reads it)
    # (line, URL literal, library it is passed to, only its scheme is written: an f-string)
    literals: tuple[tuple[int, str, str, bool], ...] = ()
    serverless: bool = False  # a Lambda handler or Mangum
    statement_cache: bool = False  # sets statement_cache_size
    mentions_url: bool = False  # contains `://`: the only facts kept when no config file is in the run
    # (variable, library, pool size, overflow or -1 for the library's default) from literal keyword arguments
    pool_sizes: tuple[tuple[str, str, int, int], ...] = ()
    exports: tuple[tuple[str, str], ...] = ()  # (module-level name, variable it holds)
    # (name as imported from another module, library it is handed to): `create_engine(DATABASE_URL)`
    imported_consumers: tuple[tuple[str, str], ...] = ()
    # URLs handed to a call that is no library's: (callee as imported, position, line, URL, only its scheme)
    handed: tuple[tuple[str, int, int, str, bool], ...] = ()
    # module-level functions that hand a parameter to a library: (function, position, library)
    forwarders: tuple[tuple[str, int, str], ...] = ()
    # rewrites a `postgres://` scheme to `postgresql` (_POSTGRES_SCHEME_REWRITE)
    rewrites_postgres_scheme: bool = False

    @property
    def writes_urls(self) -> bool:
        """URLs are written here for a library, or for a function that may hand them to one."""
        return bool(self.literals or self.handed)

    def to_json(self) -> list[Any]:
        return [[list(c) for c in self.consumers], [list(x) for x in self.literals], self.serverless,
                self.statement_cache, self.mentions_url, [list(p) for p in self.pool_sizes],
                [list(e) for e in self.exports], [list(i) for i in self.imported_consumers],
                [list(h) for h in self.handed], [list(f) for f in self.forwarders], self.rewrites_postgres_scheme]

    @classmethod
    def from_json(cls, data: list[Any]) -> "PythonFacts":
        consumers, literals, serverless, statement_cache, mentions_url, pool_sizes, exports, imported, handed, \
            forwarders, rewrites_postgres_scheme = data
        return cls(tuple((v, lib) for v, lib in consumers),
                   tuple((int(n), u, lib, bool(partial)) for n, u, lib, partial in literals),
                   bool(serverless), bool(statement_cache), bool(mentions_url),
                   tuple((v, lib, int(p), int(o)) for v, lib, p, o in pool_sizes),
                   tuple((n, v) for n, v in exports), tuple((q, lib) for q, lib in imported),
                   tuple((q, int(i), int(n), u, bool(partial)) for q, i, n, u, partial in handed),
                   tuple((f, int(i), lib) for f, i, lib in forwarders), bool(rewrites_postgres_scheme))


def python_facts(data: bytes, catalog: Catalog, screened: bool, tree: Optional[ast.AST] = None,
                 outline: Optional[Outline] = None) -> PythonFacts:
    """The facts of one file. `screened`: a catalog library's name appears (without one the file builds
    no client, so only its serverless handlers and module-level variables matter). `tree` and `outline`:
    the file's, when already made."""
    statement_cache = b"statement_cache_size" in data
    mentions_url = b"://" in data
    rewrites = b"postgres:" in data and _POSTGRES_SCHEME_REWRITE.search(data) is not None
    if len(data) > MAX_PYTHON_BYTES:
        return PythonFacts(statement_cache=statement_cache, mentions_url=mentions_url, rewrites_postgres_scheme=rewrites)
    # each of these is searched once: a file that shows none of them is not parsed
    handler = b"Mangum" in data or _SERVERLESS_HANDLER.search(data) is not None
    exports = _MODULE_ENV_READ.search(data) is not None  # a settings module other modules import from
    url_option = _SQLALCHEMY_URL_OPTION.encode() in data
    attribution = screened and any(word in data for word in _ATTRIBUTION_WORDS)
    builds_clients = screened and _client_words(catalog).search(data) is not None
    # a function that hands its parameter to a client (`def create_db_engine(url): return create_engine(url)`)
    # makes its callers' URLs that library's, whatever this file says about URLs
    forwarding = builds_clients and b"def " in data
    if not (handler or exports or forwarding or (attribution and (url_option or builds_clients))):
        # no client is built here
        return PythonFacts(statement_cache=statement_cache, mentions_url=mentions_url, rewrites_postgres_scheme=rewrites)
    if tree is None and len(data) <= MAX_AST_BYTES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the file's own warnings are not ours to print
                tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None  # the Python pipeline reports unparsable files as DBP000
    scan = _PythonScan(catalog)
    try:
        if tree is not None and (handler or exports or url_option or _calls_a_client(outline or Outline(tree), catalog)):
            scan.visit(tree)
    except RecursionError:
        scan = _PythonScan(catalog)
    consumers = tuple(sorted((variable, library) for variable, libraries in scan.consumers.items()
                             for library in libraries))
    return PythonFacts(consumers, tuple(scan.literals), scan.serverless, statement_cache, mentions_url,
                       tuple(scan.pool_sizes), tuple(sorted(scan.exports.items())), tuple(sorted(scan.imported_consumers)),
                       tuple(sorted((callee, position, url.line, url.text, url.scheme_only)
                                    for callee, position, url in scan.handed)),
                       tuple(sorted((function, position, library)
                                    for (function, position), library in scan.forwarders.items())), rewrites)


def _client_words(catalog: Catalog) -> "re.Pattern[bytes]":
    """The last part of every name `_calls_a_client` looks for: a file without one calls none of them."""
    return catalog.derived("pyscan-client-words", lambda: word_pattern(sorted(
        {n.rsplit(".", 1)[-1] for spec in catalog.clients for n in spec.constructors} | {"dj_database_url"})))


def _calls_a_client(outline: Outline, catalog: Catalog) -> bool:
    """Whether the file calls a catalog constructor or dj_database_url: only those calls say who reads a URL."""
    aliases: dict[str, str] = {}
    for node in outline.imports:
        aliases.update(absolute_bindings(node))
    for call in outline.calls:
        dotted = dotted_name(call.func)
        if dotted is None:
            continue
        head, _, rest = dotted.partition(".")
        resolved = aliases.get(head, head) + (f".{rest}" if rest else "")
        if catalog.client_for(resolved) is not None or resolved.startswith("dj_database_url."):
            return True
    return False


