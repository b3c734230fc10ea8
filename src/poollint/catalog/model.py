"""Typed catalog entries and the questions rules ask of them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ExemptWhen:
    """The client owns no pool when `keyword` is passed one of `values`; `keyword.key` names a key of
    the dict literal passed as `keyword` (`connect_args.check_same_thread`)."""

    keyword: str
    values: tuple[str, ...]  # "*" matches any value

    def matches(self, value_name: Optional[str]) -> bool:
        return "*" in self.values or value_name in self.values


@dataclass(frozen=True)
class ClientSpec:
    library: str
    constructors: tuple[str, ...]
    # "pool" owns a pool; "connection" is a single connection; "session" checks one out of a pool
    # at its first query and holds it until closed (an ORM session)
    kind: str = "pool"
    connect: tuple[str, ...] = ()
    release: tuple[str, ...] = ()
    context_manager_releases: bool = False
    not_a_pool_if: tuple[ExemptWhen, ...] = ()
    exempt_url_schemes: tuple[str, ...] = ()
    # a session's argument naming what it checks connections out of (`Session(bind=engine)`): built
    # directly, it holds a pooled connection of its own only when that is a pool, not a connection
    pool_argument: str = ""
    # methods that take a connection of the pool for the object they return, for as long as it lives
    # (redis `pubsub()`): a client used for nothing else holds what a shared client's would
    dedicated_methods: tuple[str, ...] = ()
    # methods of the client, or of what a dedicated method returns, whose iteration lasts as long as the
    # connection (redis `pubsub.listen()`): a loop that builds the client and then iterates one comes
    # round again only when the connection ends, to reconnect
    subscription_streams: tuple[str, ...] = ()
    # attributes that describe the client without connecting (an engine's `dialect`): a client read
    # only through them opens no connection
    inspection_attributes: tuple[str, ...] = ()
    # statements that only test that the database answers (`SELECT 1`), for a session that checks its
    # connection out at its first query: when such a first query fails, nothing was checked out
    liveness_queries: tuple[str, ...] = ()
    # the session's methods that run such a statement (`execute`)
    liveness_methods: tuple[str, ...] = ()
    # what a process exit does not clean up (Prisma's query-engine process): a script must release it
    # even when it runs once; the sockets of other clients are closed by the exit, and the server
    # sees them go at once
    outlives_process: bool = False
    # a single connection the driver closes when the object is freed (CPython frees a function's local when
    # the function's frame goes): one left only to that is closed late, not leaked for good
    closed_when_dropped: bool = False
    # pools a driver adapter may run the client's queries on when the code builds the pool itself
    # (`new PrismaClient({ adapter: new PrismaPg(pool) })`), and the method that ends such a pool:
    # ending it releases every connection the client used
    adapter_pools: tuple[str, ...] = ()
    adapter_pool_release: tuple[str, ...] = ()
    # the calls that run a query on a connection of the client's pool: an operation of one of its models
    # (`prisma.user.findMany()`) and the client's own (`prisma.$queryRaw`); made on the client itself
    # inside one of its interactive transactions, such a call waits for a second connection
    model_operations: tuple[str, ...] = ()
    client_queries: tuple[str, ...] = ()
    # URLs (fnmatch patterns over the whole literal) of a database inside the process, where holding a
    # connection blocks no one else: an in-memory SQLite database
    in_memory_urls: tuple[str, ...] = ()
    # the keyword arguments that size the pool (`pool_size`, `max_size`): pools of one datasource
    # sized apart are kept apart on purpose (a bulkhead for one workload)
    size_arguments: tuple[str, ...] = ()
    # a registry of per-thread sessions (`scoped_session`): built to last as long as what keeps it (a
    # module, an object), whose thread sessions a framework hook or a worker removes; only one a
    # function builds for itself and drops must be released there
    registry: bool = False
    # SQLite: what marks an engine as one whatever holds its URL (a keyword only its driver takes, as
    # `connect_args.check_same_thread`), and the release of the library from which a file database is
    # pooled, by constructor ((constructors, "sqlalchemy>=2.0.38"), ...): before it, each checkout opens
    # its own connection and no request waits for another's. A constructor not listed is pooled.
    sqlite_markers: tuple[str, ...] = ()
    sqlite_file_pooled_from: tuple[tuple[tuple[str, ...], str], ...] = ()
    # the distributions of the drivers through which the library reaches a database server (DBAPI
    # modules, as a project declares them): a project that declares none of them reaches only SQLite
    server_drivers: tuple[str, ...] = ()
    server_extras: tuple[str, ...] = ()  # words of a package's extras that install one of them
    # objects that build this library's engines themselves, from a URL in the application's configuration
    # rather than in the call (Flask-SQLAlchemy's `SQLAlchemy()`): an engine whose database is not seen,
    # for the rules that ask which databases the application reaches; not clients the rules count
    engine_builders: tuple[str, ...] = ()
    # the connections a pool of this library keeps when the code does not size it, and the overflow it
    # opens beyond them on demand (SQLAlchemy's max_overflow)
    default_pool_size: Optional[int] = None
    default_overflow: int = 0

    def in_memory(self, url: str) -> bool:
        return any(fnmatchcase(url.lower(), pattern) for pattern in self.in_memory_urls)

    @property
    def owns_pool(self) -> bool:
        return self.kind == "pool"

    def sqlite_file_pooled_since(self, constructor: str) -> Optional[str]:
        """`sqlalchemy>=2.0.38`: the releases in which `constructor` pools an SQLite file database; None
        when the catalog does not say (taken as always)."""
        return next((release for constructors, release in self.sqlite_file_pooled_from
                     if constructor in constructors), None)


@dataclass(frozen=True)
class TransactionSpec:
    library: str
    methods: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    after_commit: tuple[str, ...] = ()
    timeout: str = ""
    receivers: tuple[str, ...] = ()  # constructors and types whose objects have `methods`
    receiver_names: tuple[str, ...] = ()  # fnmatch patterns for untyped receivers
    with_objects: tuple[str, ...] = ()  # values (`psycopg2.connect()`) that are a transaction in `with`
    # what ends a with-object's transaction when called on it (`conn.commit()`): a project class whose
    # `__enter__` opens such a connection and whose `__exit__` calls one wraps a transaction
    end_methods: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImplicitTransactionSpec:
    """Objects that begin a transaction by themselves at their first query and hold its connection
    until they commit, roll back or close (an SQLAlchemy `Session`)."""

    library: str
    receivers: tuple[str, ...] = ()  # types and factories of the objects (`sqlalchemy.orm.sessionmaker()`)
    begin_methods: tuple[str, ...] = ()
    end_methods: tuple[str, ...] = ()
    # the methods that build a lazy query on the object (`session.query(User)`), and those that make
    # another lazy query of one (`filter`, `order_by`); any other runs it
    query_methods: tuple[str, ...] = ()
    lazy_query_methods: tuple[str, ...] = ()
    # class attributes of the objects' models that query them (`<base>.<attribute>`: Flask-SQLAlchemy's
    # `User.query` of `class User(db.Model)`), and the receiver, one of `receivers`, those queries run on
    model_queries: tuple[str, ...] = ()
    model_session: str = ""
    # project functions called with or without a model that begin and end the hold on `model_session`
    # (Django's `get_object_or_404(Document, pk=pk)`, `close_old_connections()`)
    begin_functions: tuple[str, ...] = ()
    end_functions: tuple[str, ...] = ()
    # a hold the framework keeps only where the project's settings enable it (Django's connection pool,
    # `"OPTIONS": {"pool": True}`): the dict key or subscript `setting`, set to anything but `False` or
    # `None`, in a module that spells every one of `setting_words` (`django.db.backends.postgresql`);
    # empty: always. `held_until` says when the framework gives the connection back.
    setting: str = ""
    setting_words: tuple[str, ...] = ()
    held_until: str = ""
    # which of `receivers` are asynchronous (an `AsyncSession`), and the constructors of the engines that
    # serve only those: a synchronous session in a project whose every engine is asynchronous is given
    # no pooled connection of the project's (a leftover `db: Session` path that fails at its first query)
    async_receivers: tuple[str, ...] = ()
    async_engines: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckoutSpec:
    library: str
    methods: tuple[str, ...] = ()
    release: tuple[str, ...] = ()
    context_manager_releases: bool = False
    receivers: tuple[str, ...] = ()
    receiver_names: tuple[str, ...] = ()
    # the client constructors whose objects check out this way; empty: every pool client of the library
    # (an asyncio redis `PubSub` keeps its connection when collected; a synchronous one gives it back)
    owners: tuple[str, ...] = ()
    # methods that, awaited on what the checkout returns (`await pubsub.subscribe(...)`), tell its library
    # when the object it was taken from has no known origin (a client a provider or another package
    # hands over), in a project that imports the library: redis's asyncio PubSub, not a synchronous one
    awaited_uses: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExternalCallSpec:
    kind: str
    functions: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    local_methods: tuple[str, ...] = ()  # methods of `clients` objects that do no I/O
    task_methods: tuple[str, ...] = ()  # external when called on a task function (`actor.send()`)
    # only these methods of `clients` objects are this kind (`boto3.client().upload_file` is an object
    # upload); the clients' other methods keep the kind of the entry that lists them without it
    client_methods: tuple[str, ...] = ()
    # how long the call may wait: a keyword that bounds it, and what happens without it
    timeout_keyword: str = ""
    default_timeout: str = ""  # "" when it waits as long as the server takes
    duration_argument: int = -1  # the positional argument that is the wait in seconds (`time.sleep(5)`)
    shortest_wait: float = 0.0  # a literal duration below this many seconds only yields (`asyncio.sleep(0.01)`)
    # a `.send()` on an object of unknown origin named like `receiver_names`, in a file that
    # imports one of `imported` (an e-mail message built by a model method)
    receiver_names: tuple[str, ...] = ()
    receiver_methods: tuple[str, ...] = ()
    imported: tuple[str, ...] = ()
    # a publish to a task broker: a short round trip whose risk is the task running before the
    # commit (DBP203), not a connection held for long
    publishes_task: bool = False


@dataclass(frozen=True)
class RequestTransactionSpec:
    """A setting that runs every routed view of a web framework in one transaction (Django's
    `ATOMIC_REQUESTS`): a module-scope dict or subscript sets `setting` to `True`; views are what
    `routes` calls and `routers` register name; a class view's `handler_methods` (and methods with a
    `handler_decorators` decorator) run in it; `opt_out_decorators` and async views are left out."""

    library: str
    setting: str
    routes: tuple[str, ...] = ()
    class_view_methods: tuple[str, ...] = ()  # `Orders.as_view()`: the class is the view
    routers: tuple[str, ...] = ()  # `router.register(prefix, Orders)` on one of these objects
    router_methods: tuple[str, ...] = ()
    handler_methods: tuple[str, ...] = ()
    handler_decorators: tuple[str, ...] = ()
    opt_out_decorators: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackgroundSpec:
    """Calls that start their argument in the background: the caller does not wait for it."""

    functions: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guards:
    cache_decorators: frozenset[str] = frozenset()
    # the last attribute of a cache object's decorator (`@cache.memoize()` of Flask-Caching): the
    # object may come from any module, so it is known by the method's name
    cache_decorator_attributes: frozenset[str] = frozenset()
    startup_decorator_attributes: frozenset[str] = frozenset()
    startup_event_names: frozenset[str] = frozenset()
    app_constructors: frozenset[str] = frozenset()
    command_decorators: frozenset[str] = frozenset()
    command_decorator_attributes: frozenset[str] = frozenset()
    # `@task` of Airflow: each run of the task is a process of its own, so the function runs once in it
    process_task_decorators: frozenset[str] = frozenset()
    # `group.add_command(fn)`: a call that registers a function as a one-shot command
    command_registration_methods: frozenset[str] = frozenset()
    # calls that load a module named by a string, as an import would (`include("shop.urls")` of a
    # Django URLconf): python/names.py imports_in_source counts the module as imported
    module_loading_calls: frozenset[str] = frozenset()
    # what tells that a module a project never imports may still run (python/loading.py StartSigns):
    # the module names and folders a framework loads by its conventions, the objects a server or worker
    # loads by name from its command line, and calls that load modules named at run time
    discovered_modules: frozenset[str] = frozenset()
    discovered_folders: frozenset[str] = frozenset()
    worker_app_constructors: frozenset[str] = frozenset()
    dynamic_loading_calls: frozenset[str] = frozenset()
    loading_calls_by_name: frozenset[str] = frozenset()
    # what runs a function at a scheduler's pace, one run per tick (python/facts.py _scheduled, roles.py):
    # the settings that hold a Celery beat schedule, the calls that register a function on a schedule,
    # the decorators that declare a periodic task, and a task decorator's keyword that schedules it
    periodic_schedule_settings: frozenset[str] = frozenset()
    periodic_registration_methods: frozenset[str] = frozenset()
    periodic_task_decorator_attributes: frozenset[str] = frozenset()
    periodic_task_keywords: frozenset[str] = frozenset()
    # what says only administrators may call a handler (roles.py _requires_an_administrator): words of
    # the names of its guards, user attributes a test reads, decorators whose arguments name the guard,
    # calls that declare a dependency, and the bases of an admin site's classes
    admin_name_words: frozenset[str] = frozenset()
    admin_user_attributes: frozenset[str] = frozenset()
    permission_decorators: frozenset[str] = frozenset()
    dependency_markers: frozenset[str] = frozenset()
    # a response that streams after its handler returns, and the releases (`package>=first,<beyond`)
    # that closed the request's dependencies before it streamed (rules/holding.py)
    streamed_responses: frozenset[str] = frozenset()
    dependencies_closed_before_streaming: frozenset[str] = frozenset()
    admin_site_bases: frozenset[str] = frozenset()
    aborting_functions: frozenset[str] = frozenset()  # `abort(403)` raises: the handler ends there
    pytest_fixtures: frozenset[str] = frozenset()
    route_decorator_attributes: frozenset[str] = frozenset()
    route_decorators: frozenset[str] = frozenset()  # `@get("/items")` of `from litestar import get`
    health_check_route_segments: frozenset[str] = frozenset()
    task_decorators: frozenset[str] = frozenset()
    task_decorator_attributes: frozenset[str] = frozenset()
    handler_names: frozenset[str] = frozenset()
    called_by_name: frozenset[str] = frozenset()
    request_hook_decorator_attributes: frozenset[str] = frozenset()
    request_scoped_objects: frozenset[str] = frozenset()
    # `@bot.command()` of a chat-bot framework: a handler run per command, message or event
    chat_handler_packages: frozenset[str] = frozenset()
    chat_startup_events: frozenset[str] = frozenset()
    chat_extension_entry_points: frozenset[str] = frozenset()
    # `worker.work()`, `bot.run(token)`: a function that runs one is a process's entry point
    main_loop_calls: frozenset[str] = frozenset()
    # an `__init__` parameter that says an instance is made per request: `request`, `conversation_id`
    per_request_parameters: frozenset[str] = frozenset()
    per_request_id_stems: frozenset[str] = frozenset()
    # methods that give a class's resources back
    release_method_names: frozenset[str] = frozenset()
    task_base_classes: frozenset[str] = frozenset()
    task_class_methods: frozenset[str] = frozenset()
    # `Base.method` of a library class whose subclasses' method runs once per process (`Application.start`)
    once_per_process_methods: frozenset[str] = frozenset()
    process_constructors: frozenset[str] = frozenset()
    process_constructor_attributes: frozenset[str] = frozenset()
    # giving connections back (DBP3xx)
    script_runners: frozenset[str] = frozenset()
    test_case_bases: frozenset[str] = frozenset()
    setup_methods: frozenset[str] = frozenset()
    teardown_methods: frozenset[str] = frozenset()
    cleanup_functions: frozenset[str] = frozenset()
    cleanup_methods: frozenset[str] = frozenset()
    context_methods: frozenset[str] = frozenset()
    closing_functions: frozenset[str] = frozenset()
    row_methods: frozenset[str] = frozenset()
    # calls that use a client they are given without taking it over (a session factory over an engine)
    borrowing_functions: frozenset[str] = frozenset()
    context_manager_decorators: frozenset[str] = frozenset()
    advisory_lock_functions: frozenset[str] = frozenset()
    # logging calls (python/cst/logging_calls.py): they wait on nothing, and they do not raise (the
    # logging module reports its handlers' errors itself)
    log_methods: frozenset[str] = frozenset()
    logger_names: frozenset[str] = frozenset()
    logging_modules: frozenset[str] = frozenset()
    log_functions: frozenset[str] = frozenset()
    # task groups, which wait for every task started in them when their `async with` block ends; calls
    # that start a task, and calls whose await waits for the tasks they are given
    task_groups: frozenset[str] = frozenset()
    task_starters: frozenset[str] = frozenset()
    task_waits: frozenset[str] = frozenset()
    # dependency-injection containers: a provider registered as a singleton runs once per process
    singleton_provider_decorators: frozenset[str] = frozenset()
    scoped_provider_decorators: frozenset[str] = frozenset()
    scoped_provider_methods: frozenset[str] = frozenset()
    container_scopes: frozenset[str] = frozenset()
    singleton_providers: frozenset[str] = frozenset()

    def names_an_administrator(self, name: str) -> bool:
        """Whether an identifier or a role's string holds one of `admin_name_words`, split at `_`,
        `-`, spaces and capitals: `get_current_admin_user`, `IsAdminUser`, `requireAdmin`, `"SUPER_ADMIN"`
        (Python's guards and TypeScript's alike)."""
        return bool(self.admin_name_words) and not self.admin_name_words.isdisjoint(
            word.lower() for word in _IDENTIFIER_WORDS.findall(name))


_IDENTIFIER_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@dataclass(frozen=True)
class Catalog:
    clients: tuple[ClientSpec, ...]
    transactions: tuple[TransactionSpec, ...]
    checkouts: tuple[CheckoutSpec, ...]
    external_calls: tuple[ExternalCallSpec, ...]
    guards: Guards
    _by_constructor: Mapping[str, ClientSpec] = field(default_factory=dict, repr=False, compare=False)
    _external_functions: Mapping[str, ExternalCallSpec] = field(default_factory=dict, repr=False, compare=False)
    # `stripe.*`: every function below; `stripe.*.create`: fnmatch over the dotted name
    _external_prefixes: tuple[tuple[str, ExternalCallSpec], ...] = field(default=(), repr=False, compare=False)
    _external_patterns: tuple[tuple[str, ExternalCallSpec], ...] = field(default=(), repr=False, compare=False)
    _external_clients: Mapping[str, ExternalCallSpec] = field(default_factory=dict, repr=False, compare=False)
    _external_client_patterns: tuple[tuple[str, ExternalCallSpec], ...] = field(
        default=(), repr=False, compare=False)
    _external_methods: Mapping[str, ExternalCallSpec] = field(default_factory=dict, repr=False, compare=False)
    _transaction_functions: Mapping[str, TransactionSpec] = field(default_factory=dict, repr=False, compare=False)
    background: tuple[BackgroundSpec, ...] = ()
    offload: tuple[BackgroundSpec, ...] = ()  # same shape: calls that run a callable argument and wait for it
    implicit_transactions: tuple[ImplicitTransactionSpec, ...] = ()
    request_transactions: tuple[RequestTransactionSpec, ...] = ()
    # what other modules compute once from this catalog (a word pattern, a set of names): `derived`
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        clients: Iterable[ClientSpec],
        transactions: Iterable[TransactionSpec],
        checkouts: Iterable[CheckoutSpec],
        external_calls: Iterable[ExternalCallSpec],
        guards: Guards,
        background: Iterable[BackgroundSpec] = (),
        offload: Iterable[BackgroundSpec] = (),
        implicit_transactions: Iterable[ImplicitTransactionSpec] = (),
        request_transactions: Iterable[RequestTransactionSpec] = (),
    ) -> "Catalog":
        clients, transactions = tuple(clients), tuple(transactions)
        external_calls = tuple(external_calls)
        by_constructor = {name: spec for spec in clients for name in spec.constructors}
        functions: dict[str, ExternalCallSpec] = {}
        prefixes: list[tuple[str, ExternalCallSpec]] = []
        patterns: list[tuple[str, ExternalCallSpec]] = []
        ext_clients: dict[str, ExternalCallSpec] = {}
        client_patterns: list[tuple[str, ExternalCallSpec]] = []
        methods: dict[str, ExternalCallSpec] = {}
        for spec in external_calls:
            for name in spec.functions:
                if name.endswith(".*") and "*" not in name[:-1]:
                    prefixes.append((name[:-1], spec))
                elif "*" in name:
                    patterns.append((name, spec))
                else:
                    functions[name] = spec
            if not spec.client_methods:  # those are looked up by client and method
                for name in spec.clients:
                    if "*" in name:
                        client_patterns.append((name, spec))
                    else:
                        ext_clients[name] = spec
            methods.update({name: spec for name in spec.methods})
        # a client only some of whose methods are external (llama_index's LLMs) is still an external
        # client, after any entry that makes all its methods external (boto3's)
        for spec in external_calls:
            for name in spec.clients if spec.client_methods else ():
                if "*" in name:
                    client_patterns.append((name, spec))
                else:
                    ext_clients.setdefault(name, spec)
        transaction_functions = {name: spec for spec in transactions for name in spec.functions}
        return cls(
            clients, transactions, tuple(checkouts), external_calls, guards,
            by_constructor, functions, tuple(prefixes), tuple(patterns), ext_clients, tuple(client_patterns),
            methods, transaction_functions, tuple(background), tuple(offload), tuple(implicit_transactions),
            tuple(request_transactions),
        )

    # -- questions rules ask -------------------------------------------------
    def client_for(self, qualified_name: Optional[str]) -> Optional[ClientSpec]:
        if qualified_name is None:
            return None
        return self._by_constructor.get(qualified_name)

    def engine_client(self, qualified_name: Optional[str]) -> Optional[ClientSpec]:
        """The pool client whose engines `qualified_name` builds: its own constructor, or an engine builder
        (`flask_sqlalchemy.SQLAlchemy` builds `create_engine` engines from the application's config)."""
        found = self.client_for(qualified_name)
        if found is not None or qualified_name is None:
            return found
        builders = self.derived("engine-builders", lambda: {
            builder: spec for spec in self.clients for builder in spec.engine_builders})
        return builders.get(qualified_name)

    def default_pool_size(self, library: str) -> Optional[int]:
        """How many connections a pool of `library` keeps when the code does not size it; None: not known."""
        found = self.default_pool(library)
        return found[0] if found is not None else None

    def default_pool(self, library: str) -> Optional[tuple[int, int]]:
        """(connections kept, overflow opened on demand) of a pool of `library` the code does not size."""
        return next(((spec.default_pool_size, spec.default_overflow) for spec in self.clients
                     if spec.library == library and spec.default_pool_size is not None), None)

    def closed_when_dropped(self, library: str) -> bool:
        """Whether a single connection of `library` is closed by the driver when the object is freed."""
        return any(spec.closed_when_dropped for spec in self.clients if spec.library == library and spec.kind == "connection")

    def is_liveness_query(self, library: str, method: str, statement: str) -> bool:
        """Whether `session.<method>(statement)`, run as a session's first query, only tests that the
        database answers (ClientSpec.liveness_methods and liveness_queries; the statement compared without
        case, surrounding blanks or a final `;`)."""
        wanted = " ".join(statement.strip().rstrip(";").split()).lower()
        return any(wanted == query.lower() for spec in self.clients if spec.library == library
                   and spec.kind == "session" and method in spec.liveness_methods for query in spec.liveness_queries)

    def outlives_process(self, library: str) -> bool:
        """Whether a client of `library` keeps something running after the process that built it exits."""
        return any(spec.outlives_process for spec in self.clients if spec.library == library)

    def pool_client(self, qualified_name: Optional[str], keywords: Iterable[tuple[str, Optional[str]]] = (),
                    first_literal: Optional[str] = None) -> Optional[ClientSpec]:
        """The pool-owning client a constructor call builds, or None (unknown, a single connection, exempt).

        `keywords` are (keyword, qualified name of its value); `first_literal` is the first
        positional argument when it is a string literal. Shared by the libcst rules and the
        `ast` project index so that both agree on what a pool is.
        """
        spec = self.client_for(qualified_name)
        if spec is None or not spec.owns_pool:
            return None
        for keyword, value in keywords:
            for exemption in spec.not_a_pool_if:
                if keyword == exemption.keyword and exemption.matches(value):
                    return None
        if spec.exempt_url_schemes and first_literal is not None \
                and first_literal.lower().startswith(spec.exempt_url_schemes):
            return None
        return spec

    def external_function(self, qualified_name: Optional[str]) -> Optional[ExternalCallSpec]:
        """The external call a function is, if it is one."""
        if qualified_name is None:
            return None
        spec = self._external_functions.get(qualified_name)
        if spec is not None:
            return spec
        last = qualified_name.rsplit(".", 1)[-1]
        if "(" in qualified_name or not last[:1].islower():
            return None  # `.*` covers functions, not classes, exceptions or results
        for prefix, prefix_spec in self._external_prefixes:
            if qualified_name.startswith(prefix):
                return prefix_spec
        for pattern, pattern_spec in self._external_patterns:
            if fnmatchcase(qualified_name, pattern):
                return pattern_spec
        return None

    def external_client(self, qualified_name: Optional[str]) -> Optional[ExternalCallSpec]:
        """The external call made by methods of objects this constructor builds."""
        if qualified_name is None:
            return None
        spec = self._external_clients.get(qualified_name)
        if spec is not None or "(" in qualified_name:
            return spec
        for pattern, pattern_spec in self._external_client_patterns:
            if fnmatchcase(qualified_name, pattern):
                return pattern_spec
        return None

    def calls_out_through(self, qualified_name: str) -> bool:
        """Whether calls on what `qualified_name` names may be external calls: an external client's
        constructor (`openai.OpenAI` of `client = OpenAI()`), an external function, or a module above
        them (`litellm` of `litellm.completion`, `stripe` of `stripe.*`). Task publishes are not (DBP203).
        A project module that binds one lends it to the modules that import the name from there."""
        names = self.derived("calls-out-through", lambda: tuple(sorted({
            name.split("*")[0].rstrip(".") for spec in self.external_calls if not spec.publishes_task
            for name in (*spec.functions, *spec.clients) if not name.startswith("*")})))
        return any(name == qualified_name or name.startswith(qualified_name + ".") for name in names) \
            or self.external_client(qualified_name) is not None

    def external_method(self, method: str) -> Optional[ExternalCallSpec]:
        return self._external_methods.get(method)

    def external_by_receiver_name(self, method: str, receiver: str,
                                  imported: Iterable[str]) -> Optional[ExternalCallSpec]:
        """The external call `receiver.method()` is when the receiver's origin is unknown and its
        name says what it is, in a file importing the spec's library (`mail.send()`)."""
        for spec in self.external_calls:
            if method in spec.receiver_methods and any(fnmatchcase(receiver.lower(), p) for p in spec.receiver_names) \
                    and any(m == i or m.startswith(i + ".") for m in imported for i in spec.imported):
                return spec
        return None

    def transaction_function(self, qualified_name: Optional[str]) -> Optional[TransactionSpec]:
        if qualified_name is None:
            return None
        return self._transaction_functions.get(qualified_name)

    def transaction_methods(self) -> Mapping[str, TransactionSpec]:
        return {m: spec for spec in self.transactions for m in spec.methods}

    def checkout_methods(self) -> Mapping[str, CheckoutSpec]:
        return {m: spec for spec in self.checkouts for m in spec.methods}

    def after_commit_functions(self) -> frozenset[str]:
        return frozenset(name for spec in self.transactions for name in spec.after_commit)

    def object_packages(self) -> frozenset[str]:
        """Top-level packages whose objects the rules follow: clients, transaction, checkout and session
        receivers, external clients. A module-scope object built by one of them is worth knowing in
        importing modules."""
        names = [n for spec in self.clients for n in spec.constructors]
        names += [n for spec in (*self.transactions, *self.checkouts, *self.implicit_transactions) for n in spec.receivers]
        names += list(self._external_clients)
        return frozenset(n.split(".")[0] for n in names if n)

    def object_builder_names(self) -> frozenset[str]:
        """Last parts of what builds an object the rules follow (`SQLAlchemy` of `db = SQLAlchemy()`,
        `create_engine`): a module that binds one at its scope tells importing modules what they use."""
        return self.derived("object-builder-names", lambda: frozenset(
            n.split("(")[0].rsplit(".", 1)[-1] for n in self._object_builders() if n and not n.endswith("()")))

    def _object_builders(self) -> tuple[str, ...]:
        """Every client constructor and every transaction, checkout and session receiver, as the catalog
        spells them: what builds (or types) an object the rules follow."""
        return self.derived("object-builders", lambda: (
            *(n for spec in self.clients for n in spec.constructors),
            *(n for spec in (*self.transactions, *self.checkouts, *self.implicit_transactions) for n in spec.receivers)))

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """`build()`'s value, computed once for this catalog and kept with it (workers get it pickled)."""
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]

    def follows_objects_of(self, callee: str) -> bool:
        """Whether the rules follow an object built by (or typed as) `callee`: a client, a transaction,
        checkout or implicit-transaction receiver, or an external client. `sqlalchemy.and_` is none."""
        followed = self.derived("followed-objects", lambda: frozenset(
            n.split("(")[0] for n in (*self._object_builders(), *self._external_clients)))
        name = callee.split("(")[0]
        return name in followed or any(fnmatchcase(name, pattern) for pattern, _ in self._external_client_patterns)

    def hold_opening_names(self) -> frozenset[str]:
        """Last parts of every call that opens a transaction or a checkout (`atomic`, `begin`, `acquire`)."""
        return self.derived("hold-opening-names", lambda: frozenset(
            {n.rsplit(".", 1)[-1] for spec in self.transactions for n in spec.functions}
            | set(self.transaction_methods()) | set(self.checkout_methods())))

    def screen_words(self) -> frozenset[str]:
        """Words one of which every file that uses a catalog library contains.

        The package of each qualified name: its first component, or the first two for
        a name three deep in a package that is not itself a database library
        (`django.db.transaction.atomic` -> `django.db`), so that every Django file
        is not a candidate.
        """
        names: set[str] = set()
        # a constructor that is an object's method (`flask_sqlalchemy.SQLAlchemy().create_scoped_session`)
        # is spelled in a file by the package the object comes from
        qualified = [n.split("(")[0] for spec in self.clients for n in spec.constructors]
        qualified += [n for spec in self.transactions for n in spec.functions]
        database_packages = {n.split(".")[0] for n in qualified if n.count(".") < 2}
        # a DB-API driver's package is a database package however deep its `connect` is
        # (`from clickhouse_driver import dbapi`: the file never spells `clickhouse_driver.dbapi`)
        database_packages |= {n.split(".")[0] for spec in self.clients if spec.kind == "connection"
                              for n in spec.constructors}
        for name in qualified:
            parts = name.split(".")
            if len(parts) >= 3 and parts[0] not in database_packages:
                names.add(".".join(parts[:2]))
            else:
                names.add(parts[0])
        names.update(spec.library for spec in self.transactions if spec.methods)
        names.update(spec.library for spec in self.checkouts)
        # the package a session's type or factory comes from (an extension's ORM: `acme.orm.Database().session`)
        names.update(n.split(".")[0] for spec in self.implicit_transactions for n in spec.receivers)
        return frozenset(n for n in names if n)

    # -- holding a connection (DBP2xx) ----------------------------------------
    def external_call(self, qualified_name: Optional[str]) -> Optional[ExternalCallSpec]:
        """The external call a callee is: a listed function, or an I/O method of an external client.

        `httpx.AsyncClient().post` is one (a method of the client object); `httpx.AsyncClient().get().json`
        is not (a method of a result), nor is `boto3.client().get_paginator` (a local method);
        `boto3.Session().client().put_object` is (a method of the client a session object built).
        """
        if qualified_name is None:
            return None
        spec = self.external_function(qualified_name)
        if spec is not None or "()" not in qualified_name:
            return spec
        # the object the last call built: `boto3.Session().client().put_object` is a method of the client
        root, _, tail = qualified_name.rpartition("()")
        if "(" in tail or not tail.startswith("."):
            return None
        first = tail[1:].split(".")[0]
        for candidate in self.external_calls:
            if first in candidate.client_methods and self._builds(candidate, root):
                return candidate
        spec = self.external_client(root)
        if spec is None or spec.client_methods:  # only its listed methods are external (above)
            return None
        local = {m for candidate in self.external_calls if self._builds(candidate, root) for m in candidate.local_methods}
        return None if first in local else spec

    @staticmethod
    def _builds(spec: ExternalCallSpec, root: str) -> bool:
        return any(root == name or ("*" in name and fnmatchcase(root, name)) for name in spec.clients)

    def implicit_transaction(self, qualified_name: Optional[str]) -> Optional[ImplicitTransactionSpec]:
        """The implicit transactions of an object of this origin: a session built by a factory
        (`sqlalchemy.orm.sessionmaker()()`), by its type, or annotated with it."""
        if not qualified_name:
            return None
        for spec in self.implicit_transactions:
            if _names_one_of(qualified_name, spec.receivers):
                return spec
        return None

    def synchronous_session(self, qualified_name: Optional[str]) -> Optional[ImplicitTransactionSpec]:
        """The implicit transactions of a session of this origin when it is a synchronous one of a library
        whose asynchronous sessions, and the engines that serve only those, the catalog names
        (`async-receivers`, `async-engines`); None for an asynchronous session or any other object."""
        spec = self.implicit_transaction(qualified_name)
        if spec is None or not spec.async_engines or _names_one_of(qualified_name or "", spec.async_receivers):
            return None
        return spec

    def session_function(self, qualified_name: Optional[str]) -> Optional[tuple[ImplicitTransactionSpec, bool]]:
        """The implicit transactions whose shared session a library function begins or ends (Django's
        `get_object_or_404`, `close_old_connections`: ImplicitTransactionSpec.begin_functions), and
        whether it ends it."""
        if not qualified_name:
            return None
        for spec in self.implicit_transactions:
            if qualified_name in spec.begin_functions or qualified_name in spec.end_functions:
                return spec, qualified_name in spec.end_functions
        return None

    def setting_kept_sessions(self) -> frozenset[str]:
        """The sessions every module shares that a framework keeps through a whole request where the
        project's settings say so (ImplicitTransactionSpec.setting: Django's connection with its pool on)."""
        return self.derived("setting-kept-sessions", lambda: frozenset(
            spec.model_session for spec in self.implicit_transactions if spec.setting and spec.model_session))

    def runs_model_query(self, attribute: str, methods: Sequence[str]) -> bool:
        """Whether calling `methods` on a model class's query attribute (`query` of Flask-SQLAlchemy, `objects`
        of Django), the last call first (`Note.objects.filter(...).get()` -> `["get", "filter"]`), runs its
        query: every call before the last makes another lazy query of it (`filter_by`, `filter`) and the last
        does not. Each library's lazy methods are its own: Django's `all()` builds a query, SQLAlchemy's
        runs one."""
        lazy = self._lazy_model_query_methods().get(attribute)
        return lazy is not None and bool(methods) and methods[0] not in lazy \
            and all(method in lazy for method in methods[1:])

    def _lazy_model_query_methods(self) -> dict[str, frozenset[str]]:
        """A model's query attribute -> its library's methods that make another lazy query of it."""
        def build() -> dict[str, frozenset[str]]:
            found: dict[str, set[str]] = {}
            for spec in self.implicit_transactions:
                for query in spec.model_queries:
                    found.setdefault(query.rsplit(".", 1)[-1], set()).update(spec.lazy_query_methods)
            return {attribute: frozenset(methods) for attribute, methods in found.items()}
        return self.derived("lazy-model-query-methods", build)

    def model_bases(self) -> frozenset[str]:
        """Library classes whose subclasses query a session through a class attribute (`flask_sqlalchemy.
        SQLAlchemy().Model`, ImplicitTransactionSpec.model_queries)."""
        return self.derived("model-bases", lambda: frozenset(
            query.rsplit(".", 1)[0] for spec in self.implicit_transactions for query in spec.model_queries))

    def model_query(self, base: str, attribute: str) -> Optional[ImplicitTransactionSpec]:
        """The implicit transaction that `<subclass of base>.<attribute>` queries (`User.query`), if any."""
        return next((spec for spec in self.implicit_transactions if f"{base}.{attribute}" in spec.model_queries), None)

    def task_method(self, method: str) -> Optional[ExternalCallSpec]:
        """The external call `method` is when called on a task function of the module."""
        return next((spec for spec in self.external_calls if method in spec.task_methods), None)

    def transaction_specs(self, method: str) -> tuple[TransactionSpec, ...]:
        return tuple(spec for spec in self.transactions if method in spec.methods)

    def checkout_taken(self, qualified_call: Optional[str]) -> Optional[CheckoutSpec]:
        """The checkout a call takes out of a pool, by its qualified name (`sqlalchemy.create_engine().connect()`:
        `connect()` on what `create_engine()` built, or on one of the checkout's receiver types)."""
        if not qualified_call or not qualified_call.endswith("()"):
            return None
        receiver, _, method = qualified_call[:-2].rpartition(".")
        for spec in self.checkout_specs(method):
            if receiver in spec.receivers:
                return spec
        return self.checkout_on_client(receiver[:-2], method) if receiver.endswith("()") else None

    def checkout_on_client(self, constructor: str, method: str) -> Optional[CheckoutSpec]:
        """The checkout `method` takes on what the client constructor `constructor` built: a checkout of
        the client's library, limited to its `owners` where it lists them."""
        owner = self.client_for(constructor)
        if owner is None or not owner.owns_pool:
            return None
        for spec in self.checkout_specs(method):
            if owner.library == spec.library and (not spec.owners or constructor in spec.owners):
                return spec
        return None

    def checkout_specs(self, method: str) -> tuple[CheckoutSpec, ...]:
        return tuple(spec for spec in self.checkouts if method in spec.methods)

    @staticmethod
    def named_like_receiver(specs: "Iterable[TransactionSpec | CheckoutSpec]", name: str,
                            imported: frozenset[str]) -> "Optional[TransactionSpec | CheckoutSpec]":
        """The first of `specs` whose `receiver-names` match `name` (`engine`, `db_session`), in code that
        imports the spec's library: how an object of unknown origin is judged by its name."""
        return next((spec for spec in specs if spec.library.split("-")[0] in imported
                     and any(fnmatchcase(name.lower(), p.lower()) for p in spec.receiver_names)), None)

    def receivers_of(self, spec: "TransactionSpec | CheckoutSpec") -> frozenset[str]:
        """Qualified names whose objects have the spec's methods: its `receivers` and its library's clients."""
        pools_only = isinstance(spec, CheckoutSpec)
        built = {
            name for client in self.clients if client.library == spec.library and (client.owns_pool or not pools_only)
            for name in client.constructors if not (pools_only and spec.owners) or name in spec.owners
        }
        return frozenset(spec.receivers) | frozenset(built)

    def with_object_transaction(self, qualified_name: Optional[str]) -> Optional[TransactionSpec]:
        """The transaction a value opens when used directly in `with` (`with conn:` in psycopg2)."""
        if qualified_name is None:
            return None
        for spec in self.transactions:
            if qualified_name in spec.with_objects:
                return spec
        return None

    def is_offload(self, qualified_name: Optional[str], method: Optional[str]) -> bool:
        """A call that runs its callable argument in a thread and waits for it (`asyncio.to_thread`)."""
        for spec in self.offload:
            if (qualified_name and qualified_name in spec.functions) or (method and method in spec.methods):
                return True
        return False

    def is_background(self, qualified_name: Optional[str], method: Optional[str]) -> bool:
        """A call whose arguments run in the background (`asyncio.create_task`, `executor.submit`)."""
        for spec in self.background:
            if (qualified_name and qualified_name in spec.functions) or (method and method in spec.methods):
                return True
        return False


def _names_one_of(qualified_name: str, receivers: tuple[str, ...]) -> bool:
    """Whether an object of this origin is one of `receivers`: by its type or factory, or built by one
    (`sqlalchemy.orm.sessionmaker()()` of `sqlalchemy.orm.sessionmaker()`)."""
    return qualified_name in receivers or (qualified_name.endswith("()") and qualified_name[:-2] in receivers)
