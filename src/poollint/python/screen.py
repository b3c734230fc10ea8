"""The cheap screen in front of libcst: which files could produce a Python finding at all.

Three stages. A bytes regex keeps files that name a catalog library, or call a checkout
or transaction method on a receiver named like its library's objects (`engine.connect(`);
a second one keeps those that also contain the last part of a name the next stage looks for
(`create_engine`, `atomic`, `getconn`, a project factory). The stdlib `ast`
parser (about ten times faster than libcst) then resolves the file's imports and
keeps it only if it calls something the catalog knows: a constructor or
transaction function by qualified name, or a transaction or checkout method
while importing a catalog library or on a receiver so named (the rules judge it by
the project's imports). Everything else cannot produce a finding and
is never parsed with libcst. A file `ast` rejects is reported as DBP000; a file
that fails only the second bytes stage is parsed for that report and nothing else.
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import re
import sys
import warnings
from fnmatch import fnmatchcase
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Optional, Union

from poollint.catalog.model import Catalog
from poollint.pyast import GENERATOR_TYPES, NEXT_NAMES, Outline, built_by, dotted_name, word_pattern
from poollint.python.names import absolute_bindings, ast_import, resolve_import
from poollint.python.source import ParseFailure, decode, syntax_failure
from poollint.limits import MAX_AST_BYTES, megabytes
from poollint.settings import Settings


# What a Python rule declares it needs (FileRule.triggers): the kinds of call the screen looks for
# on its behalf. The screen and the slicer keep a file or a definition only for the vocabularies
# some enabled rule needs (engine/plan.py compiles them).
CONSTRUCTORS = "constructors"  # client constructors and single-connection functions; the project's factories
CHECKOUTS = "checkouts"  # pooled checkouts (`acquire`, `getconn`, `engine.connect`)
TRANSACTIONS = "transactions"  # transaction functions and methods, the project's scopes, a session's first query
EXTERNAL_CALLS = "external-calls"  # what must not run while a connection is held
VOCABULARIES = frozenset({CONSTRUCTORS, CHECKOUTS, TRANSACTIONS, EXTERNAL_CALLS})


@dataclass(frozen=True)
class ScreenWords:
    """What the screen looks for, derived once per catalog."""

    pattern: "re.Pattern[bytes]"
    # the last part of every name the ast stage looks for: a file without one cannot pass it
    call_pattern: "re.Pattern[bytes]"
    qualified: frozenset[str]  # constructors and project factories: any call may be a finding
    transaction_functions: frozenset[str]  # `transaction.atomic`: a finding only with an external call
    transaction_methods: frozenset[str]
    checkout_methods: frozenset[str]
    # checkout methods whose `with` releases in every library: as a `with` item only DBP202 cares
    released_by_with: frozenset[str]
    packages: frozenset[str]  # top-level packages of the catalog's libraries
    factory_names: frozenset[str]  # project factories as called: `get_engine`, `db.get_engine` alike
    external_names: frozenset[str]  # functions and client types whose calls are external (DBP2xx)
    external_prefixes: tuple[str, ...]  # `stripe.`: every function below is external
    external_methods: frozenset[str]  # `.delay()`, `.send()` of a task...
    external_fragments: tuple[str, ...] = ()  # `_pb2_grpc.`: a name holding it may be external
    # top-level names of the project's modules: a function imported from one may make an external call
    project_packages: frozenset[str] = frozenset()
    implicit_methods: frozenset[str] = frozenset()  # a session's first query begins a transaction
    scope_names: frozenset[str] = frozenset()  # the project's transaction scopes as called: `unit_of_work`
    # bytes of a module that may name an external call (the index reads it for its call summaries)
    external_pattern: "re.Pattern[bytes]" = re.compile(b"(?!)")
    # the project's functions that may reach an external call (ProjectIndex.reaching_names), qualified
    # and by every dotted suffix (a relative import resolves only to `services.notify`);
    # None: unknown, any name imported from the project may
    reaching_names: Optional[frozenset[str]] = None
    # checkout and transaction methods -> the names (fnmatch, lower case) that make a receiver of
    # unknown origin one of their library's objects (`engine = build_engine(url); engine.connect()`):
    # the rules judge such a receiver by the project's imports, which this file's need not show
    named_checkouts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    named_transactions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # the bytes stage's look for such a call (`engine.connect(`), for files naming no library
    named_call_pattern: "re.Pattern[bytes]" = re.compile(b"(?!)")
    named_receiver_pattern: "re.Pattern[bytes]" = re.compile(b"(?!)")
    # a session's methods that build a lazy query (`session.query(User)`): DBP304 follows it out of a `with`
    query_methods: frozenset[str] = frozenset()
    # whether `factory_names` holds the project's generators that yield a client (project_screen_words):
    # then `next(get_db())` is screened by its generator's name, and a `next()` of anything else only
    # matters on a parameter annotated as such a generator. False: any `next()` may pull a client.
    generators_known: bool = False
    # constructors that are a method of a library's object (`db.create_scoped_session()` of
    # `db = SQLAlchemy()`), by that method's name: the object may come from another module
    method_constructors: frozenset[str] = frozenset()
    # checkout methods -> the methods whose awaited call on what they return tells their library
    # (`pubsub = client.pubsub(); await pubsub.subscribe(...)`, CheckoutSpec.awaited_uses), and the bytes
    # stage's look for both: the client may come from a provider, in a file that names no library
    used_checkouts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    used_call_pattern: "re.Pattern[bytes]" = re.compile(b"(?!)")
    used_use_pattern: "re.Pattern[bytes]" = re.compile(b"(?!)")
    # what a session whose first query begins a transaction is built by or typed as, as the file's names
    # resolve (`sqlalchemy.orm.Session` of `db: Session = Depends(get_db)`): handed on, it may begin there
    implicit_receivers: frozenset[str] = frozenset()
    # how the project's model classes query a session (`User.query` of a Flask-SQLAlchemy model,
    # ProjectIndex.library_model), qualified and by the class's own name: `app.models.User.query`, `User.query`
    model_queries: frozenset[str] = frozenset()
    # the project's functions that leave a shared session's transaction open for their caller
    # (ProjectIndex.shared_sessions_left_open), qualified and by every dotted suffix
    session_openers: frozenset[str] = frozenset()
    # the project's functions that take a request's session from a dependency, and the aliases naming one
    # (ProjectIndex.request_session_dependencies), qualified and by every dotted suffix; a handler given
    # one (`user = Depends(get_current_user)`, `user: CurrentUser`) may begin with that session in a
    # transaction. `dependency_markers`: what gives a parameter a dependency (`fastapi.Depends`)
    request_dependencies: frozenset[str] = frozenset()
    dependency_markers: frozenset[str] = frozenset()
    # resolved name -> whether it is an external call: every function of a module asks for the same names
    _external_memo: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    def names_external(self, resolved: str) -> bool:
        """Whether a resolved dotted name is an external call's function or client (DBP2xx)."""
        known = self._external_memo.get(resolved)
        if known is None:
            known = self._external_memo[resolved] = resolved in self.external_names \
                or resolved.startswith(self.external_prefixes) \
                or any(fragment in resolved for fragment in self.external_fragments)
        return known

    def passes_bytes(self, data: bytes) -> bool:
        """The bytes stage: a catalog library's name, or a checkout or transaction method called on a
        receiver named like one of their objects (`engine.connect(`, `session.begin(`)."""
        if self.pattern.search(data) is not None:
            return True
        # the method first: a regex that starts with a name alternative is twenty times slower
        for call in self.named_call_pattern.finditer(data):
            if self.named_receiver_pattern.search(data, max(0, call.start() - 64), call.start()):
                return True
        return self.used_call_pattern.search(data) is not None and self.used_use_pattern.search(data) is not None

    def named_receiver_methods(self, method: str) -> tuple[str, ...]:
        """The receiver-name patterns that make `.method()` a checkout or transaction (see named_checkouts)."""
        return tuple(p for named in (self.named_checkouts, self.named_transactions) for m, patterns in named
                     if m == method for p in patterns)

    @classmethod
    def from_catalog(cls, catalog: Catalog, extra_words: frozenset[str] = frozenset(),
                     project_packages: frozenset[str] = frozenset(), extra_objects: frozenset[str] = frozenset(),
                     extra_scopes: frozenset[str] = frozenset(),
                     reaching_names: Optional[frozenset[str]] = None,
                     extra_packages: frozenset[str] = frozenset(), model_queries: frozenset[str] = frozenset(),
                     session_openers: frozenset[str] = frozenset(),
                     request_dependencies: frozenset[str] = frozenset(),
                     vocabularies: frozenset[str] = VOCABULARIES, generators_known: bool = False) -> "ScreenWords":
        """`extra_words`: the project's pool factories; `extra_objects`: its module objects that are clients;
        `extra_scopes`: its context managers that may open a transaction (all qualified and as written).
        `extra_packages`: more top-level packages whose objects may be clients (the project's own).
        `generators_known`: `extra_words` holds every project generator that yields a client.
        `model_queries`: how the project's model classes query a session (ScreenWords.model_queries);
        `session_openers`: its functions that leave a shared session's transaction open (qualified).
        `request_dependencies`: its dependencies that take a request's session (qualified).
        `vocabularies`: what the enabled rules need; the bytes stage (`pattern`) looks for every library
        whatever they are, since DBP000 and the URL facts of DBP4xx read those files too."""
        # a file may only call a project function that leaves a shared session open (`get_setting()`)
        opener_names = frozenset(name.rsplit(".", 1)[-1] for name in session_openers)
        # ...or be given a dependency that takes the request's session (`Depends(get_current_user)`)
        dependency_names = frozenset(name.rsplit(".", 1)[-1] for name in request_dependencies)
        words = sorted(catalog.screen_words() | extra_words | extra_objects | extra_scopes | model_queries
                       | opener_names | dependency_names, key=len, reverse=True)
        pattern = word_pattern(words)
        if not vocabularies <= VOCABULARIES:
            raise ValueError(f"unknown screen vocabularies: {sorted(vocabularies - VOCABULARIES)}")
        constructors = frozenset(n for spec in catalog.clients for n in spec.constructors)
        transaction_functions = frozenset(n for spec in catalog.transactions for n in spec.functions)
        checkout_methods = catalog.checkout_methods()
        released_by_with = frozenset(
            m for m in checkout_methods if all(s.context_manager_releases for s in catalog.checkout_specs(m)))
        packages = frozenset(n.split(".")[0] for n in constructors | transaction_functions | extra_words
                             | extra_objects | extra_scopes) | extra_packages | frozenset(
            spec.library.split("-")[0] for spec in catalog.transactions
        )
        externals = catalog.external_calls
        # a streamed response (`StreamingResponse(...)`) is waited on as long as its stream, by the request's
        # session a dependency gave the handler (rules/holding.py)
        external_names = frozenset(n for spec in externals for n in (*spec.functions, *spec.clients) if "*" not in n) \
            | catalog.guards.streamed_responses
        # a pattern (`stripe.*.create`, `*_pb2_grpc.*Stub`) is screened by what precedes its first `*`
        patterns = {n for spec in externals for n in (*spec.functions, *spec.clients) if "*" in n}
        prefixes = tuple(sorted({n.split("*")[0] for n in patterns if not n.startswith("*")}))
        fragments = tuple(sorted({n.split("*")[1] for n in patterns if n.startswith("*")}))
        external_methods = frozenset(m for spec in externals
                                     for m in (*spec.methods, *spec.task_methods, *spec.receiver_methods))
        # a constructor that is an object's call (`sessionmaker()`) is spelled in the file by its builder
        called = {n.rsplit(".", 1)[-1].rstrip("()") for n in constructors | transaction_functions | extra_words
                  | extra_scopes}
        implicit_methods = frozenset(m for spec in catalog.implicit_transactions for m in spec.begin_methods)
        named_checkouts = _named_receivers(catalog.checkouts)
        named_transactions = _named_receivers(catalog.transactions)
        used_checkouts = tuple(sorted((method, tuple(sorted(spec.awaited_uses))) for spec in catalog.checkouts
                                      if spec.awaited_uses for method in spec.methods))
        called |= set(catalog.transaction_methods()) | set(checkout_methods) | implicit_methods \
            | {query.rsplit(".", 1)[-1] for query in model_queries}  # `User.query`
        called |= opener_names  # `load_user()`
        called |= dependency_names  # `Depends(get_current_user)`, `user: CurrentUser`
        words = cls(pattern, word_pattern(sorted(called)), constructors | extra_words, transaction_functions,
                    frozenset(catalog.transaction_methods()), frozenset(checkout_methods), released_by_with,
                    packages, frozenset(w.rsplit(".", 1)[-1] for w in extra_words), external_names, prefixes,
                    external_methods, fragments, project_packages, implicit_methods,
                    frozenset(w.rsplit(".", 1)[-1] for w in extra_scopes),
                    word_pattern(sorted(_external_words(external_names, prefixes, fragments, frozenset(
                        m for spec in externals if not spec.publishes_task for m in spec.methods)))),
                    None if reaching_names is None else frozenset(_suffixes(reaching_names)),
                    named_checkouts, named_transactions, *_named_call_patterns(named_checkouts + named_transactions),
                    query_methods=frozenset(m for spec in catalog.implicit_transactions for m in spec.query_methods),
                    generators_known=generators_known,
                    method_constructors=frozenset(n.rsplit(".", 1)[-1] for n in constructors if "()." in n),
                    used_checkouts=used_checkouts,
                    used_call_pattern=_method_call_pattern(method for method, _ in used_checkouts),
                    used_use_pattern=_method_call_pattern(use for _, uses in used_checkouts for use in uses),
                    implicit_receivers=frozenset(n.removesuffix("()") for spec in catalog.implicit_transactions
                                                 for n in spec.receivers),
                    model_queries=model_queries, session_openers=frozenset(_suffixes(session_openers)),
                    request_dependencies=frozenset(_suffixes(request_dependencies)),
                    dependency_markers=catalog.guards.dependency_markers if request_dependencies else frozenset())
        return words if vocabularies == VOCABULARIES else words.narrowed(vocabularies)

    def narrowed(self, vocabularies: frozenset[str]) -> "ScreenWords":
        """These words with only `vocabularies` looked for: what the enabled rules can report on."""
        nothing: frozenset[str] = frozenset()
        cleared: dict[str, Any] = {}
        if CONSTRUCTORS not in vocabularies:
            cleared.update(qualified=nothing, factory_names=nothing, method_constructors=nothing)
        if CHECKOUTS not in vocabularies:
            cleared.update(checkout_methods=nothing, released_by_with=nothing, named_checkouts=(), used_checkouts=(),
                           used_call_pattern=re.compile(b"(?!)"), used_use_pattern=re.compile(b"(?!)"))
        if TRANSACTIONS not in vocabularies:
            cleared.update(transaction_functions=nothing, transaction_methods=nothing, implicit_methods=nothing,
                           scope_names=nothing, named_transactions=(), query_methods=nothing,
                           implicit_receivers=nothing, model_queries=nothing, session_openers=nothing,
                           request_dependencies=nothing)
        if EXTERNAL_CALLS not in vocabularies:
            cleared.update(external_names=nothing, external_prefixes=(), external_methods=nothing,
                           external_fragments=(), reaching_names=nothing)
        kept = replace(self, **cleared)
        called = {n.rsplit(".", 1)[-1].rstrip("()") for n in kept.qualified | kept.transaction_functions} \
            | kept.factory_names \
            | kept.scope_names | kept.transaction_methods | kept.checkout_methods | kept.implicit_methods \
            | {query.rsplit(".", 1)[-1] for query in kept.model_queries} \
            | {name.rsplit(".", 1)[-1] for name in kept.session_openers} \
            | {name.rsplit(".", 1)[-1] for name in kept.request_dependencies}
        return replace(kept, call_pattern=word_pattern(sorted(called)) if called else re.compile(b"(?!)"))


def _named_receivers(specs: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """method -> receiver-name patterns, over the specs that judge an untyped receiver by its name."""
    found: dict[str, set[str]] = {}
    for spec in specs:
        for method in spec.methods if spec.receiver_names else ():
            found.setdefault(method, set()).update(p.lower() for p in spec.receiver_names)
    return tuple((method, tuple(sorted(patterns))) for method, patterns in sorted(found.items()))


def _named_call_patterns(
        named: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple["re.Pattern[bytes]", "re.Pattern[bytes]"]:
    """(`.method(`, a name ending as a receiver pattern does, just before it): wider than fnmatch, never narrower."""
    methods = sorted({method for method, _ in named})
    endings = sorted({pattern.lstrip("*") for _, patterns in named for pattern in patterns})
    if not methods or not endings:
        return re.compile(b"(?!)"), re.compile(b"(?!)")
    call = _method_call_pattern(methods)
    receiver = re.compile(rb"(?i:" + b"|".join(re.escape(e.encode()) for e in endings) + rb")\s*$")
    return call, receiver


def _method_call_pattern(methods: Iterable[str]) -> "re.Pattern[bytes]":
    """`.method(` for any of `methods`; nothing when there is none."""
    names = sorted(set(methods))
    if not names:
        return re.compile(b"(?!)")
    return re.compile(rb"\.\s*(?:" + b"|".join(re.escape(m.encode()) for m in names) + rb")\s*\(")


def parse_tree(data: bytes) -> "ast.Module | ParseFailure":
    """The stdlib `ast` of a file, or why it cannot be parsed (reported as DBP000)."""
    text = decode(data)
    if isinstance(text, ParseFailure):
        return text
    return parse_text(text)


def parse_text(text: str) -> "ast.Module | ParseFailure":
    """The stdlib `ast` of decoded source, or why it cannot be parsed."""
    if len(text) > MAX_AST_BYTES:
        return ParseFailure(f"too large to analyze ({megabytes(len(text))}; the limit is {megabytes(MAX_AST_BYTES)})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like are not our business
            return ast.parse(text)
    except SyntaxError as error:
        return syntax_failure(text, error)
    except (RecursionError, MemoryError):
        return ParseFailure("too deeply nested to parse")
    except ValueError as error:
        return ParseFailure(f"cannot parse: {error}")


def _suffixes(names: frozenset[str]):
    for name in names:
        parts = name.split(".")
        for start in range(len(parts)):
            yield ".".join(parts[start:])


def _external_words(names: frozenset[str], prefixes: tuple[str, ...], fragments: tuple[str, ...],
                    methods: frozenset[str]) -> set[str]:
    """Words one of which a module that names an external call contains: the library of each function
    (`httpx`, `django.core.mail`), or for the standard library, imported nearly everywhere, the
    function itself (`sleep`, `urlopen`); the patterns' fixed parts; and the methods."""
    words: set[str] = set()
    for name in names:
        # a method of an object a call builds (`aioboto3.Session().client`) is its library's
        module, _, last = name.split("(")[0].rpartition(".")
        words.add(last if module.split(".")[0] in STANDARD_LIBRARY else module)
    words |= {prefix.rstrip(".") for prefix in prefixes} | {fragment.strip("._") for fragment in fragments}
    return {word for word in words | methods if word}


STANDARD_LIBRARY = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins"}


def screen_verdict(tree: "ast.Module | ParseFailure", words: Optional[ScreenWords],
                   outline: Optional[Outline] = None) -> "Verdict | ParseFailure":
    """Whether to analyze the file with libcst, and without which rules (Verdict); a ParseFailure:
    report it (DBP000).

    With `words` None every valid file is analyzed (the unscreened mode). `outline`: the
    tree's, when the caller has it already.
    """
    if isinstance(tree, ParseFailure):
        return tree
    return Verdict(True) if words is None else _verdict(outline or Outline(tree), words)


@dataclass(frozen=True)
class ScreenedFile:
    """What the index pass, which parses a file anyway, tells the runner about it.

    `could_report` is the screen's verdict with the catalog's words and the project's packages
    (True as well when the file does not parse: the runner reports that). The runner trusts a
    False only for the same bytes (`digest`), and only when the project's own words cannot
    change it: the file defines none, and spells none of the factories, client objects or
    scopes it imports, itself or by their module (`imports`: `app.db.engine`, `app.db`,
    `.db.engine` as written).
    """

    digest: str
    could_report: bool
    imports: frozenset[str]
    facts: Any  # the file's PythonFacts as JSON (config/pyscan.py)
    # when it could report: the text libcst should parse (python/slicing.py), cut with the same words
    relevant_text: Optional[str] = None
    # the slice was cut for a test module (tests' bodies left out), judged on the index's path of the file
    test_file: bool = False
    # it could report only through a call into the project, judged without knowing which project
    # functions may reach an external call: the runner judges it again with the project's words,
    # without parsing it when none of the names it calls the project by may (`reaching_candidates`;
    # None for a `next()` of a project generator, which only the project's facts tell)
    through_project: bool = False
    reaching_candidates: Optional[frozenset[str]] = None
    # the vocabularies the file names nowhere (Verdict.absent): a rule that requires one is not run on it
    absent: frozenset[str] = frozenset()


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def screen_file(data: bytes, tree: "ast.Module | ParseFailure", outline: Optional[Outline], words: ScreenWords,
                facts: Any) -> ScreenedFile:
    if isinstance(tree, ParseFailure) or outline is None:
        return ScreenedFile(content_digest(data), True, frozenset(), facts)
    imports = frozenset(f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) and node.module
                        else alias.name for node in outline.imports for alias in node.names)
    verdict = _verdict(outline, words)
    return ScreenedFile(content_digest(data), verdict.could_report, imports, facts,
                        through_project=verdict.through_project, reaching_candidates=verdict.reaching_candidates,
                        absent=verdict.absent)


def _resolve(dotted: str, aliases: dict[str, str]) -> str:
    head, _, rest = dotted.partition(".")
    if head == "self" and rest:
        attribute, _, tail = rest.partition(".")
        kept = aliases.get(f"self.{attribute}")
        if kept is not None:
            return f"{kept}.{tail}" if tail else kept
    resolved = aliases.get(head, head)
    return f"{resolved}.{rest}" if rest else resolved


@dataclass(frozen=True)
class Verdict:
    """What the screen says of one file.

    `could_report`: whether a rule could report something in it. A constructor or project factory
    call, or a checkout outside a releasing `with`, may be reported on its own (DBP1xx, DBP3xx). A
    transaction or a checkout held by a `with` is only reported with an external call inside (DBP2xx):
    without any reference to an external call in the file (or to a project function that may make
    one), none can be found. `through_project`: it could report only through a call into the project,
    which depends on which project functions may reach an external call (ScreenWords.reaching_names),
    among `reaching_candidates` when known. `absent`: the vocabularies it names nowhere (only
    EXTERNAL_CALLS is asked): the rules that require one (FileRule.requires) are not run on it.
    """

    could_report: bool
    through_project: bool = False
    reaching_candidates: Optional[frozenset[str]] = None
    absent: frozenset[str] = frozenset()


def _verdict(outline: Outline, words: ScreenWords) -> Verdict:
    aliases, imports_library = file_names(outline, words)
    from_project = project_imports(outline, words)
    direct, holds = triggers(outline, words, aliases, imports_library)
    holds = holds or hands_a_session_on(outline, words, aliases, from_project)
    if direct:
        # a second look only where a `next()` may be all there is: most files pass for a constructor
        if not words.generators_known and _calls_next(_callees(outline)) and not triggers(
                outline, replace(words, generators_known=True), aliases, imports_library)[0]:
            return Verdict(True, True)  # only a `next()`, of a generator the project's facts will name (or not)
        # the same test as for a file that only holds (below): an external call, or a project name that may make one
        external = mentions_external_call(outline, words, aliases, from_project)
        return Verdict(True, absent=frozenset() if external else frozenset({EXTERNAL_CALLS}))
    if not holds:
        return Verdict(False)
    if mentions_external_call(outline, words, aliases):
        return Verdict(True)
    through = mentions_external_call(outline, words, aliases, from_project)
    return Verdict(through, True, reaching_candidates(outline, aliases, from_project) if through else None)


def project_imports(outline: Outline, words: ScreenWords) -> frozenset[str]:
    """Names the file imports from the project itself: relatively, or from one of its top-level packages."""
    names: set[str] = set()
    for node in outline.imports:
        if isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").split(".")[0] in words.project_packages:
                names.update(alias.asname or alias.name for alias in node.names)
        else:
            for alias in node.names:
                if alias.name.split(".")[0] in words.project_packages:
                    names.add(alias.asname or alias.name.split(".")[0])
    return frozenset(names)


def file_names(outline: Outline, words: ScreenWords) -> tuple[dict[str, str], bool]:
    """The file's import aliases (`sa` -> `sqlalchemy`) and module objects built by a call
    (`SessionLocal` -> `sqlalchemy.orm.sessionmaker()`, as the rules' context names them), and
    whether it imports a catalog library."""
    aliases: dict[str, str] = {}
    imports_library = False
    for node in outline.imports:
        statement = ast_import(node)
        aliases.update(resolve_import(statement).bindings)
        modules = [statement.source or ""] if statement.is_from else [name for name, _ in statement.names]
        imports_library = imports_library or any(module.split(".")[0] in words.packages for module in modules)
    add_object_names(outline, aliases)
    return aliases, imports_library


def add_object_names(outline: Outline, aliases: dict[str, str], local_assignments: bool = True) -> None:
    """Adds to `aliases` (the file's imports) what its names are built by: module objects
    (`SessionLocal` -> `sqlalchemy.orm.sessionmaker()`), what any `__init__` keeps on `self`, and with
    `local_assignments`, what functions assign to a name by a call, file-wide (the screen's wider reading)."""
    for name, call in outline.bindings:
        callee = dotted_name(call.func)
        if callee is not None and name not in aliases:
            aliases[name] = f"{_resolve(callee, aliases)}()"
    # and a function's own (`maker = sessionmaker(bind=conn)`, then `maker()`), by name for the whole
    # file: the rules' context tells scopes apart, a wider screen only parses more
    if local_assignments:
        add_assigned_names(outline, aliases)
        # and parameters by their annotation (`uow: UnitOfWorkFactory`, then `uow()`), by name too
        for function in outline.functions:
            for name, annotation in annotated_parameters(function).items():
                if annotation is not None and name not in aliases:
                    aliases[name] = f"{_resolve(annotation, aliases)}()"
    # `self.Session = sessionmaker(...)` in any `__init__`: what `self.Session` holds in the methods
    # (the rules' context tells the classes apart; a wider screen only parses more)
    # and an annotated parameter it keeps there (`self._uow = uow` of `uow: IUnitOfWorkFactory`)
    # and what its own getter returns (`self.llm = self._build_llm()`, whose `return Ollama(...)` may
    # import the class itself), any getter of that name in the file
    for function in outline.functions:
        if function.name == "__init__":
            annotated = annotated_parameters(function)
            for node in ast.walk(function):
                if not isinstance(node, ast.Assign):
                    continue
                built = built_by(node.value)
                callee = dotted_name(built.func) if built is not None else \
                    annotated.get(node.value.id) if isinstance(node.value, ast.Name) else None
                for target in node.targets:
                    if callee is not None and isinstance(target, ast.Attribute) \
                            and isinstance(target.value, ast.Name) and target.value.id == "self":
                        returned = _returned_by_getter(outline, callee, aliases) if callee.startswith("self.") else None
                        aliases[f"self.{target.attr}"] = returned or f"{_resolve(callee, aliases)}()"


def _returned_by_getter(outline: Outline, callee: str, aliases: dict[str, str]) -> Optional[str]:
    """`self._build_llm`: what a `return <call>` of a method of that name builds (one of them, for the
    screen's wider reading; the rules' context requires every return to agree), with the names the
    method imports itself (`from llama_index.llms.ollama import Ollama` inside it)."""
    name = callee[len("self."):]
    for function in outline.functions:
        if function.name != name:
            continue
        local = dict(aliases)
        for node in ast.walk(function):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                local.update(absolute_bindings(node))
        for node in ast.walk(function):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
                built = dotted_name(node.value.func)
                if built is not None:
                    return f"{_resolve(built, local)}()"
    return None


def annotated_parameters(function: Union[ast.FunctionDef, ast.AsyncFunctionDef]) -> dict[str, Optional[str]]:
    """Each annotated parameter's dotted annotation (`uow: UnitOfWorkFactory`), None for one that is not a
    plain name (`Optional[X]`, a string)."""
    arguments = function.args
    return {arg.arg: dotted_name(arg.annotation) for arg in (*arguments.posonlyargs, *arguments.args,
                                                             *arguments.kwonlyargs) if arg.annotation is not None}


def add_assigned_names(outline: Outline, aliases: dict[str, str]) -> None:
    """Adds to `aliases` what the outline's own assignments bind a name to by a call (`session =
    boto3.Session()`, then `session.client("s3")`), each name once, the first assignment winning."""
    for node in outline.assigns:
        target = node.targets[0] if len(node.targets) == 1 else None
        built = built_by(node.value)
        if isinstance(target, ast.Name) and target.id not in aliases and built is not None:
            callee = dotted_name(built.func)
            if callee is not None and callee.split(".")[0] != target.id:
                aliases[target.id] = f"{_resolve(callee, aliases)}()"


def triggers(outline: Outline, words: ScreenWords, aliases: dict[str, str],
             imports_library: bool) -> tuple[bool, bool]:
    """(a call that may be reported on its own, a transaction or a `with`-held checkout) in `outline`."""
    callees = _callees(outline)
    with_callees: set[int] = set()  # the functions of calls that are `with` items
    for node in outline.withs:
        for item in node.items:
            expression = item.context_expr
            expression = expression.value if isinstance(expression, ast.Await) else expression
            if isinstance(expression, ast.Call):
                with_callees.add(id(expression.func))
    if words.query_methods and _queries_a_session_bound_by_with(outline, words.query_methods):
        return True, False  # the lazy query may leave the block that closes its session (DBP304)
    if imports_library and _calls_next(callees) and (not words.generators_known or _spells_a_generator_type(outline)):
        return True, False  # `db = next(session_gen)`: a generator's session that nothing may close (DBP304)
    holds = _queries_a_model(outline, words, aliases)
    session_named: Optional[bool] = None  # _names_a_session, asked at most once: it reads every name
    for func in callees:
        if isinstance(func, ast.Attribute) and (imports_library or _named_like_receiver(func, words, aliases)
                                                or _used_like_a_checkout(func, words, callees)):
            method = func.attr
            if method in words.checkout_methods:
                if method not in words.released_by_with or id(func) not in with_callees:
                    return True, holds  # may never be given back (DBP304)
                holds = True
            elif method in words.transaction_methods:
                holds = True
            elif method in words.implicit_methods and not holds:
                receiver = dotted_name(func.value)
                if receiver is not None and _names_a_session_object(receiver, words, aliases):
                    holds = True  # `self.db.flush()` of `self.db = db` kept from `db: Session`
                else:
                    if session_named is None:
                        session_named = _names_a_session(outline)
                    holds = session_named
        dotted = dotted_name(func)
        if dotted is None:
            # `sessionmaker(bind=engine)()`: the builder's call, as the rules' context names it
            inner = dotted_name(func.func) if isinstance(func, ast.Call) else None
            if inner is not None and f"{_resolve(inner, aliases)}()" in words.qualified:
                return True, holds
            continue
        resolved = _resolve(dotted, aliases)
        # a factory imported relatively or under another name (`from .db import make_engine as build`)
        # resolves to neither its qualified name nor its own: its last part still says which it is
        if dotted in words.qualified or resolved in words.qualified \
                or dotted.rsplit(".", 1)[-1] in words.factory_names \
                or resolved.rsplit(".", 1)[-1] in words.factory_names \
                or ("." in dotted and dotted.rsplit(".", 1)[-1] in words.method_constructors):
            return True, holds
        if words.session_openers and (dotted in words.session_openers or resolved in words.session_openers):
            holds = True  # `load_user(user_id)` that leaves `db.session`'s transaction open
        if dotted in words.transaction_functions or resolved in words.transaction_functions \
                or dotted.rsplit(".", 1)[-1] in words.scope_names \
                or (resolved.endswith("()") and resolved[:-2].rsplit(".", 1)[-1] in words.scope_names):
            holds = True  # `unit_of_work()`, or `self._uow()` of an object whose call builds a scope
    if not holds and words.request_dependencies and _given_a_request_session(outline, words, aliases):
        holds = True
    return False, holds


def dependency_provider(marker: ast.Call) -> Optional[ast.expr]:
    """What a dependency marker names to call (`get_db` of `Depends(get_db)`, `Depends(dependency=get_db)`)."""
    return marker.args[0] if marker.args else next(
        (keyword.value for keyword in marker.keywords if keyword.arg == "dependency"), None)


def routers_given_a_request_session(tree: ast.Module, words: ScreenWords, aliases: dict[str, str]) -> frozenset[str]:
    """Module-level routers built with a dependency that takes the request's session (`router =
    APIRouter(dependencies=[Depends(require_user)])`): every route declared on one runs it first."""
    if not words.request_dependencies:
        return frozenset()
    found = set()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name) \
                and isinstance(statement.value, ast.Call) and any(k.arg == "dependencies" for k in statement.value.keywords) \
                and _given_a_request_session(Outline(statement.value), words, aliases):
            found.add(statement.targets[0].id)
    return frozenset(found)


def _given_a_request_session(outline: Outline, words: ScreenWords, aliases: dict[str, str]) -> bool:
    """A parameter filled from a dependency that takes the request's session: `Depends(get_current_user)`
    (ProjectIndex.request_session_dependencies), or an alias naming one (`user: CurrentUser`)."""
    def names_one(node: Optional[ast.expr]) -> bool:
        dotted = dotted_name(node) if node is not None else None
        return dotted is not None and (dotted in words.request_dependencies
                                       or _resolve(dotted, aliases) in words.request_dependencies)

    for call in outline.calls:
        marker = dotted_name(call.func)
        if marker is not None and _resolve(marker, aliases) in words.dependency_markers \
                and names_one(dependency_provider(call)):
            return True
    return any(names_one(argument.annotation) for function in outline.functions
               for argument in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs))


_BUILTIN_NAMES = frozenset(dir(builtins))


def hands_a_session_on(outline: Outline, words: ScreenWords, aliases: dict[str, str],
                       project_names: frozenset[str]) -> bool:
    """`check_quota(db_session=db_session)`, `crud.get_user(db, user_id)` of `db: Session`: a session
    (a name spelling `session`, or one built or typed as a session) handed to a function or method of the
    project (imported from it, `project_names`, as project_imports reads them: relatively too; the file's
    own; or `self`'s), which may begin its transaction there
    (DBP202 follows it). A library's function or a method of the session itself is no hand-off."""
    if not words.implicit_receivers:
        return False
    for call in outline.calls:
        if not any(isinstance(value, ast.Name) and _names_a_session_object(value.id, words, aliases)
                   for value in (*call.args, *(keyword.value for keyword in call.keywords))):
            continue
        dotted = dotted_name(call.func)
        if dotted is None:
            continue
        head = dotted.split(".")[0]
        if head in _BUILTIN_NAMES:
            continue
        # the file's own or a local name; imported from the project; an object a project class built
        if head not in aliases or head in project_names \
                or _resolve(dotted, aliases).split(".")[0] in words.project_packages:
            return True
    return False


def _names_a_session_object(name: str, words: ScreenWords, aliases: dict[str, str]) -> bool:
    """A name (`db_session`, `self.db`) spelling `session`, or built or typed as a session as the file's
    names say (`db: Session`, `self.db = db` in `__init__`)."""
    if "session" in name.lower():
        return True
    resolved = aliases.get(name)
    return resolved is not None and resolved.removesuffix("()") in words.implicit_receivers


def _callees(outline: Outline) -> list[ast.expr]:
    """What `outline` calls: every call's function, and every decorator (`@transaction.atomic` is no call)."""
    callees: list[ast.expr] = [node.func for node in outline.calls]
    for function in outline.functions:
        callees.extend(function.decorator_list)
    return callees


def _calls_next(callees: list[ast.expr]) -> bool:
    """`next(...)` or `anext(...)` among `callees`: a session may be pulled out of a generator."""
    return any(isinstance(func, ast.Name) and func.id in NEXT_NAMES for func in callees)


_GENERATOR_TYPE_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in GENERATOR_TYPES)


def _spells_a_generator_type(outline: Outline) -> bool:
    """`Generator`, `AsyncIterator`...: a parameter may be annotated as a generator of sessions, whose
    `next()` gives one (the rules' `_yielded_by`). A project generator called by its name is a
    factory word of its own."""
    return any(node.id in _GENERATOR_TYPE_NAMES for node in outline.names) \
        or any(node.attr in _GENERATOR_TYPE_NAMES for node in outline.attributes)


def _queries_a_model(outline: Outline, words: ScreenWords, aliases: dict[str, str]) -> bool:
    """`User.query` of a model class whose query begins a session's transaction (`User.query.get(1)`)."""
    if not words.model_queries:
        return False
    attributes = {query.rsplit(".", 1)[-1] for query in words.model_queries}
    for node in outline.attributes:
        if isinstance(node.value, ast.Name) and node.attr in attributes:
            dotted = f"{node.value.id}.{node.attr}"
            if dotted in words.model_queries or _resolve(dotted, aliases) in words.model_queries:
                return True
    return False


def _named_like_receiver(func: ast.Attribute, words: ScreenWords, aliases: dict[str, str]) -> bool:
    """`engine.connect()`, `self.session.begin()`, `build_engine(url).connect()` in a file that imports no
    library: the receiver's name, or what built it, is one the method's library gives its objects."""
    patterns = words.named_receiver_methods(func.attr)
    if not patterns:
        return False
    receiver = func.value
    names = [receiver.id if isinstance(receiver, ast.Name) else receiver.attr if isinstance(receiver, ast.Attribute)
             else ""]
    dotted = dotted_name(receiver.func if isinstance(receiver, ast.Call) else receiver)
    if dotted is not None:
        names.append(_resolve(dotted, aliases).rstrip("()").rsplit(".", 1)[-1])
    return any(fnmatchcase(name.lower(), pattern) for name in names if name for pattern in patterns)


def _used_like_a_checkout(func: ast.Attribute, words: ScreenWords, callees: list[ast.expr]) -> bool:
    """`client.pubsub()` in a file that imports no library, where some `.subscribe()` is called too: the
    rules look at what is awaited on the result (CheckoutSpec.awaited_uses)."""
    uses = next((uses for method, uses in words.used_checkouts if method == func.attr), ())
    return bool(uses) and any(isinstance(callee, ast.Attribute) and callee.attr in uses for callee in callees)


def _queries_a_session_bound_by_with(outline: Outline, query_methods: frozenset[str]) -> bool:
    """`with get_session() as session:` and `session.query(...)` in the same definition."""
    bound = {item.optional_vars.id for node in outline.withs for item in node.items
             if isinstance(item.optional_vars, ast.Name) and "session" in item.optional_vars.id.lower()}
    return bool(bound) and any(isinstance(node.func, ast.Attribute) and node.func.attr in query_methods
                               and isinstance(node.func.value, ast.Name) and node.func.value.id in bound
                               for node in outline.calls)


def _names_a_session(outline: Outline) -> bool:
    """A name or attribute spelling `session` (`Session`, `db.session`, `SessionLocal`): the screen's
    cue that `.get()`/`.execute()` may be a session's first query (an implicit transaction)."""
    return any("session" in node.id.lower() for node in outline.names) or any(
        "session" in node.attr.lower() for node in outline.attributes)


def mentions_external_call(outline: Outline, words: ScreenWords, aliases: dict[str, str],
                           project_names: frozenset[str] = frozenset()) -> bool:
    """Whether anything in `outline` names an external call of the catalog (DBP2xx's other half), or a
    name imported from the project (`project_names`), whose function may make one in its own module."""
    if any(node.attr in words.external_methods for node in outline.attributes):
        return True
    # each spelling once: a function names the same few objects many times
    spellings: set[Optional[str]] = {node.id for node in outline.names}
    if "input" in spellings:
        return True
    reaching = words.reaching_names
    if project_names and reaching is None and any(name in project_names for name in spellings):
        return True
    if reaching and not reaching.isdisjoint(reaching_candidates(outline, aliases, project_names, spellings)):
        return True
    spellings.update(outline.attribute_names())
    spellings.discard(None)
    # `self._s3.put_object` where `__init__` kept `boto3.client("s3")`: an object an external client's
    # constructor built (`boto3.client().put_object`), judged by its maker
    return any(words.names_external(resolved) or ("(" in resolved and words.names_external(resolved.split("(")[0]))
               for resolved in (_resolve(dotted, aliases) for dotted in spellings))


def reaching_candidates(outline: Outline, aliases: dict[str, str], project_names: frozenset[str],
                        spellings: Optional[set[Optional[str]]] = None) -> frozenset[str]:
    """The names by which a call in `outline` may reach an external call through the project
    (ScreenWords.reaching_names holds those that do): a name imported from the project
    (`notify()`, `Client()`), an attribute of one (`services.notify()`, `Client.create()`), and the
    class a name was built by (`llm_client.analyze()` of `llm_client = LLMClient()`)."""
    if spellings is None:
        spellings = {node.id for node in outline.names}
    found = {_resolve(name, aliases) for name in spellings if name in project_names}
    found.update(f"{_resolve(node.value.id, aliases)}.{node.attr}" for node in outline.attributes
                 if isinstance(node.value, ast.Name) and node.value.id in project_names)
    found.update(built[:-2] for name in spellings
                 if name is not None and (built := aliases.get(name)) is not None and built.endswith("()"))
    return frozenset(found)


_SCREEN_CACHE: dict[tuple[str, frozenset[str], bool], ScreenWords] = {}


def screen_words(settings: Settings, vocabularies: frozenset[str] = VOCABULARIES, *,
                 generators_known: bool = False) -> ScreenWords:
    """The catalog's words; `generators_known`: for a project whose index names no generator of a client."""
    key = (settings.fingerprint(), vocabularies, generators_known)
    if key not in _SCREEN_CACHE:
        _SCREEN_CACHE[key] = ScreenWords.from_catalog(settings.catalog, vocabularies=vocabularies,
                                                      generators_known=generators_known)
    return _SCREEN_CACHE[key]


def passes_screen(data: bytes, settings: Settings) -> bool:
    """The bytes stage alone: a catalog library's name appears in the file, or a checkout or transaction
    method called on a receiver named like its library's objects (ScreenWords.passes_bytes)."""
    return passes_catalog_screen(data, settings.catalog)


def passes_catalog_screen(data: bytes, catalog: Catalog) -> bool:
    """passes_screen, where only the catalog is at hand (the index pass's workers)."""
    return catalog.derived("screen-words", lambda: ScreenWords.from_catalog(catalog)).passes_bytes(data)


def names_a_screen_call(data: bytes, settings: Settings) -> bool:
    """The second bytes stage alone: the last part of a name the ast stage looks for appears in the file."""
    return screen_words(settings).call_pattern.search(data) is not None
