"""DBP1xx: where pool-owning clients are created."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from poollint.catalog.model import ClientSpec
from poollint.python.cst.context import Frame, dotted_name, positional_arguments
from poollint.python.cst.modules import class_method
from poollint.python.cst.walk import visit as cst_visit, walk as cst_walk
from poollint.findings import Location
from poollint.python.cst.roles import body_facts, decorator_target, function_role
from poollint.python.screen import CONSTRUCTORS
from poollint.rules.base import FileRule, ProjectRule
from poollint.rules.client_flow import (
    carries,
    iterates_a_stream, serves_an_endless_loop,
    COLLECTION_METHODS, CalledNames, FinallyBlocks, assignments, calls_assigned_to_self, calls_in,
    in_parameter_defaults, innermost_loop, is_argument_of, is_self, kept_names, own_functions, parameters_given,
    produces,
    reached_only_from_run_once, reached_only_from_unbuilt_classes, reinitialises_cached_instance, releases,
    returned_names, subscribed, tests_missing,
    unpacked_targets,
)

# methods that run on an instance nobody has used yet: `__init__`, and `__setstate__`, which unpickling
# runs instead of `__init__`; a client they keep on `self` replaces nothing
_BUILDS_A_FRESH_INSTANCE = frozenset({"__init__", "__setstate__"})


def _built_after_a_failure(frames: list[Frame], node: cst.Call) -> bool:
    """Whether the call is in an `except` handler of a `try` of its own function."""
    for frame in reversed(frames):
        if frame.is_function:
            return False
        if isinstance(frame.node, cst.Try) and any(found is node for handler in frame.node.handlers
                                                    for found in cst_walk(handler)):
            return True
    return False


class _ClientCreation(FileRule):
    """Shared by DBP101 and DBP102: which calls build a pool, and how their value is kept."""

    triggers = frozenset({CONSTRUCTORS})

    def pool_constructor(self, node: cst.Call) -> Optional[ClientSpec]:
        if self.context.is_test_file:
            return None
        return self.context.pool_built_by(node)

    def wrapping_targets(self, node: cst.Call) -> Optional[list[cst.BaseExpression]]:
        """The targets of the current assignment when its value is the call or is built around it
        (`client = Redis(connection_pool=ConnectionPool(...))`), unpacked; None when it is none."""
        statement = self.context.current_statement
        if not isinstance(statement, (cst.Assign, cst.AnnAssign, cst.AugAssign)) or statement.value is None \
                or not (produces(statement.value, node) or is_argument_of(statement.value, node)):
            return None
        return unpacked_targets([t.target for t in statement.targets] if isinstance(statement, cst.Assign)
                                else [statement.target])

    def statement_role(self, node: cst.Call) -> str:
        """How the innermost statement uses the call: "kept" in a container or attribute, "global", "returned", or ""."""
        statement = self.context.current_statement
        targets = self.wrapping_targets(node)
        if targets is not None:
            if any(isinstance(t, (cst.Subscript, cst.Attribute)) and not self._request_scoped(t) for t in targets):
                return "kept"  # also `self.client = Redis(connection_pool=ConnectionPool(...))`
            function = self.context.enclosing_function()
            if function is not None and isinstance(function.node, cst.FunctionDef):
                declared = body_facts(function.node).globals
                if any(isinstance(t, cst.Name) and t.value in declared for t in targets):
                    return "global"
        if isinstance(statement, cst.Return) and (carries(statement.value, node) or is_argument_of(statement.value, node)):
            return "returned"  # also `return Store(client=Redis())`, `return MongoClient(url)["shop"]`
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
            outer = statement.value
            if isinstance(outer.func, cst.Attribute) and outer.func.attr.value in COLLECTION_METHODS \
                    and any(arg.value is node for arg in outer.args):
                return "kept"
        names = self.bound_names(node)
        if names:
            function = self.context.enclosing_function()
            scope = function.node if function is not None else self.context.module
            if names & kept_names(scope, own_functions(self.context, self.context.enclosing_class()),
                                  self._project_result):
                return "kept"  # `pool = ConnectionPool(...)` then `self._pools.setdefault(alias, pool)`
            if function is not None and isinstance(function.node, cst.FunctionDef) \
                    and self._installed(names, function.node):
                return "kept"  # `engine = engine_from_config(...)` then `model.init_model(engine)`
        return ""

    def registered_if_missing(self, node: cst.Call) -> bool:
        """`if key not in _session_factories: startup(key)`: a construction whose result the statement
        drops (the constructor keeps what it builds in a registry of its own, as fastapi-sqla's
        `startup()` does) under an `if` that asks whether something is missing from a registry first.
        The branch runs once per key: the memoised form of a construction that would run every call."""
        statement = self.context.current_statement
        if not (isinstance(statement, cst.Expr) and produces(statement.value, node)):
            return False
        for frame in reversed(self.context.frames):
            if frame.is_function:
                return False  # an `if` around the function's definition guards nothing of its calls
            test = frame.node.test if isinstance(frame.node, cst.If) else None
            if isinstance(test, cst.Comparison) and any(isinstance(t.operator, cst.NotIn) for t in test.comparisons):
                return True
        return False

    def _project_result(self, call: cst.Call) -> Optional[tuple[tuple[str, ...], frozenset[str]]]:
        """What the index read of the project function `call` calls: the arguments its result may carry."""
        index = self.context.index
        return index.result_parameters(self.context.qualified_name(call.func)) if index is not None else None

    def _installed(self, names: set[str], function: cst.FunctionDef) -> bool:
        """One of `names` is handed to a project function that stores it as module state
        (ProjectIndex.installed_parameters): it becomes the process's client there."""
        index = self.context.index
        if index is None:
            return False
        return any(parameters_given(call, index.installed_parameters(self.context.qualified_name(call.func)), names)
                   for call in calls_in(function.body))

    def _request_scoped(self, target: cst.BaseExpression) -> bool:
        """`g.cache = Redis()`: Flask's `g` lives for one request, so keeping a client there keeps nothing."""
        return self.context.qualified_name(target.value) in self.context.catalog.guards.request_scoped_objects \
            if isinstance(target, (cst.Attribute, cst.Subscript)) else False

    def assigned_targets(self, node: cst.Call) -> Optional[list[cst.BaseExpression]]:
        """The targets of the current statement when it assigns the call's result (`x = self.y = Redis()`),
        with unpacked ones taken apart (`client, db = init_db()`: a factory that returns the client with
        what it derived from it); None when it does not."""
        statement = self.context.current_statement
        if not isinstance(statement, (cst.Assign, cst.AnnAssign)) or not produces(statement.value, node):
            return None
        return unpacked_targets([t.target for t in statement.targets] if isinstance(statement, cst.Assign)
                                else [statement.target])

    def bound_names(self, node: cst.Call) -> set[str]:
        """The names the current statement binds the call's result to (`engine = create_engine(...)`)."""
        return {t.value for t in self.assigned_targets(node) or () if isinstance(t, cst.Name)}

    def display(self, node: cst.Call) -> str:
        return f"{dotted_name(node.func) or 'client'}()"

    def fallback_for_parameter(self, node: cst.Call, function: cst.FunctionDef) -> bool:
        """`if engine is None: engine = create_engine(...)` or `engine = engine or create_engine(...)` on a
        parameter: the client is built only when the caller passes none, which callers decide."""
        statement = self.context.current_statement
        names = self.bound_names(node)
        if isinstance(statement, cst.Assign) and isinstance(statement.value, cst.BooleanOperation):
            names = {t.target.value for t in statement.targets if isinstance(t.target, cst.Name)}
        parameters = {p.name.value for p in (*function.params.posonly_params, *function.params.params,
                                             *function.params.kwonly_params)}
        names &= parameters
        if not names:
            return False
        if isinstance(statement, cst.Assign) and isinstance(statement.value, cst.BooleanOperation) \
                and statement.value.operator.__class__ is cst.Or and statement.value.right is node \
                and isinstance(statement.value.left, cst.Name) and statement.value.left.value in names:
            return True
        for frame in self.context.enclosing(cst.If):
            if tests_missing(frame.node.test, names):  # type: ignore[attr-defined]
                return True
        return False


class ClientPerCall(_ClientCreation):
    """Flags a pool-owning client constructed inside a function that runs per call."""

    code = "DBP101"
    name = "client-per-call"
    message = "{call} builds a new {library} connection pool on every call of `{function}()`{role}"
    fix_hint = (
        "Build the client once, at module scope, in a start-up hook (FastAPI lifespan, Django AppConfig.ready) "
        "or in a cached factory (@functools.cache), and reuse it"
    )
    rationale = """
        A pool-owning client (a Prisma client, an SQLAlchemy engine, an asyncpg or psycopg pool,
        a Redis or Mongo client) opens its own set of connections. Built inside a request handler,
        a Lambda handler or a task, every call opens a new pool: connections pile up until the
        database refuses new clients (`too many clients already`) or the pool times out
        (Prisma `P2024`, SQLAlchemy `QueuePool limit ... reached`).

        A client is not reported when the function is a guard that runs once per process:
        decorated with `functools.cache`/`lru_cache`/`st.cache_resource` (also through a module name
        bound to one: `cached = functools.lru_cache(maxsize=None)`, then `@cached`), a lazy global
        (`global engine; if engine is None: ...`) or a class-level cache, a constructor that keeps
        what it builds in a registry of its own called only when its key is missing (`if key not in
        _session_factories: startup(key)` of fastapi-sqla), a start-up hook
        (FastAPI lifespan or `on_event("startup")`, a Flask app factory, the `__init__` of an
        application class derived from an app constructor such as Django Channels'
        `ProtocolTypeRouter` or `FastAPI`, Django's `AppConfig.ready`, a management or
        click/typer command), a script's `main()`, or the `target=` of a `multiprocessing.Process`.
        A function registered as a command by a call in any module (`app.command(name=...)(fn)`,
        `group.add_command(fn)`) runs once, so does a dependency-injection container's singleton
        provider (injector's `@singleton`, dependency_injector's `providers.Singleton(fn)` and
        `providers.Resource(fn)`, dishka's `@provide(scope=Scope.APP)` and
        `provider.provide(fn, scope=Scope.APP)`; not a request scope or a `providers.Factory`), and
        so does a function or method whose every use is a
        call from run-once code (a command, `main()`, a traitlets/Jupyter application's `start()` or
        `initialize()`), directly or through such helpers, in its own module and in the modules
        that import it (up to 12 of those that spell its name; tests are not callers, a call in a loop
        or a use that is not a call decides against it, and a request handler runs per request whoever
        else calls it), an import inside the caller too (`from app.db import init_db` in a lifespan hook).
        A decorator runs when the definition it decorates runs: `@with_limiter` (or
        `@limited(per_minute=10)`) on a module's function or a method of its class runs at import,
        and inside a function on every run of that function. Its wrapper runs on every call of what
        it wraps: when the decorator is applied to a request handler of the module, the message names
        it (`wrapper()` (the wrapper `@with_limiter` puts around `items()`, a request handler)).
        A function or `__init__` whose every use is a call from the `__init__` of a class that the
        project never builds or names (a library's class, a component of a monorepo whose users
        are other projects; its bases, if any, classes of its own module) runs as often as code
        outside the project makes instances, which cannot be seen from here: it is not reported,
        unless that `__init__` takes a parameter naming a request, user or conversation.
        A method that replaces a client `__init__` built on `self` without closing the old
        one leaks a pool per replacement and is reported (not `__setstate__`: unpickling runs it
        instead of `__init__`, on a fresh instance).
        A client built in a parameter default runs once, at import; one built only when a
        parameter is missing (`if engine is None: engine = create_engine(...)`,
        `engine = engine or create_engine(...)`) is the caller's choice; a factory that keeps its
        client in a global it checks first, or in a dict of its module, its instance or its class
        keyed by URL (`engine = self._engines[url] = create_engine(url)`, `cls._engines[shard] =
        engine` in a classmethod), returns the same client every call. A client handed to
        a project function that stores it as module state (`meta.engine = engine`, or a `global`
        it assigns; in any module) is installed there as the process's client, like one kept on
        `self`: the next call replaces it. What a helper returns keeps the client only when the
        helper may return it, or an object built from it: `report.oid = table_oid(name, engine)`
        stores a number, and the engine is still built per call (a helper of this module, or of
        another module the project index read; an unread one may keep it, and is trusted to).
        A client used only to open a Redis pub/sub subscription (`r.pubsub()` and nothing else)
        holds the subscription's one connection, as a shared client would, and is not reported;
        nor is one read only through attributes that describe it without connecting (an engine's
        `dialect`, `url`, `name`, `driver`: catalog `inspection-attributes`), built to compile SQL
        or look up types.
        A NullPool engine (also one whose constructor gets a mapping the module may set
        `poolclass` on: `create_engine(url, **engine_kwargs)` after `engine_kwargs["poolclass"] =
        NullPool` in a branch), a client built on an existing pool (`Redis(connection_pool=...)`),
        and SQLite engines (a URL literal, an f-string, a module constant or a local name the function
        binds once to one of those, starting with `sqlite:`, or an engine given SQLite's own `connect_args={"check_same_thread": False}`,
        which any other driver refuses) own no server connections. A function that returns the client,
        or an object taken from it that keeps it alive (`return MongoClient(url)["shop"]`), is a
        factory: the finding lands where a per-call function calls it, with the chain to the
        constructor. So is a method (a `@staticmethod`, a classmethod returning `cls(client[db])`,
        `self.engine()`, also one inherited from a project base class in another module), and so is a
        class whose `__init__` keeps a client on the instance
        (assigned to `self.x`, annotated, wrapped in another object, built by a factory method or
        handed to `super().__init__()`, or a project factory's result unpacked or subscripted:
        `_, db = init_db(); self.jobs = db["jobs"]`): `Store()` -> `create_engine()`. A subclass with no
        constructor of its own is built like its base (`RomsHandler()` -> `DBBaseHandler()` ->
        `create_engine()`), and a name a package re-exports (`from .storage import DBConn` in its
        `__init__.py`) is the object it names. A function that hands its client to a helper of
        its module returning none of its parameters is no factory: the pool is reported where it
        is built. A class that builds its
        client only when a parameter is missing (`engine or create_engine(url)`) builds nothing
        where the caller passes it. One built in an `except` handler (a reconnect once a call has
        failed: `except AuthenticationError: self.client = Redis(...)`) is built per failure, not per
        call, and replaces the client that failed: not reported. A `@property` runs on every access; an `__init__` whose class's
        `__new__` returns a cached instance runs again on every construction. Flask's request
        hooks (`before_request`, `teardown_request`, ...) run on every request, and `flask.g`
        keeps a client for one request only; a Celery task class's `run` and `__call__` run per
        task while the instance lives as long as the worker, so a client kept on `self` there is
        replaced on every call unless an `if` looks at the attribute first. Airflow's `@task`
        runs once in a process of its own, like a command. A periodic task runs at its
        scheduler's pace, one run per tick whatever the traffic: a client it builds, or that a
        function only periodic tasks and run-once code call builds, is one at a time, not a
        pile-up, and is not reported. Periodic are a task a Celery beat schedule lists (a
        `beat_schedule`, `CELERY_BEAT_SCHEDULE` or `CELERYBEAT_SCHEDULE` setting or `app.conf`
        attribute, or in any dict of entries that have a `"task"` and a `"schedule"`, naming the
        task by its module path or its `name=`), a function registered by
        `add_periodic_task(60, task.s())` or APScheduler's `add_job(fn, ...)`, and one declared
        periodic by its decorator (`@periodic_task`, Huey's `@huey.periodic_task`,
        `@scheduler.scheduled_job`, periodiq's `periodic=`); a task of the same name in another
        module is not the scheduled one. Whether the project also publishes the task per request
        (`.delay()` in a view) is not looked for: the schedule decides. A connection a periodic
        task holds through a slow call is still DBP201's or DBP202's. So is a handler only
        administrators may call, at the pace of a few operators: one decorated with a guard named
        for them (`@staff_member_required`, `@admin_required`) or given one
        (`@permission_classes([IsAdminUser])`, `@user_passes_test(lambda u: u.is_superuser)`, a
        route's `dependencies=[Depends(get_current_active_superuser)]`), one with a parameter that
        depends on one (`admin = Depends(get_current_admin_user)`, `Annotated[User,
        Depends(require_admin)]`), a method of a view whose `permission_classes` name one or of
        a Django `ModelAdmin`, and one whose first statements turn everybody else away (Flask's `if
        not current_user.is_admin: abort(403)`, `if not request.user.is_superuser: raise
        PermissionDenied`, a project guard called first: `check_admin()`, or a call whose result is
        dropped and whose arguments name only administrators' roles, `require_role(user, ["admin"])`;
        only a docstring and assignments without a call may come before it); a guard's name, or each
        role, must hold a word of the catalog's `admin-name-words` (`admin`, `superuser`, `staff`). So is a health or readiness
        probe, called at its prober's interval: a route (`@router.get(...)`, or a framework's route
        function, catalog `route-decorators`: `@get("/health")` of litestar) whose path ends in one of the catalog's
        `health-check-route-segments` (`/health`, `/api/v1/healthz`, `/ready`, `/ping`; after the
        `prefix=` its router was built with at module scope), and a function only such routes and
        run-once code call. Test code is judged by DBP303/DBP304 instead.

        A class that keeps a client it builds in `__init__` is judged where the project builds it.
        When the project builds it nowhere (a library's class, built by its users) the finding
        sits at the constructor, but only with a second signal: the class has no base and no
        method that could release it (`close`, `dispose`, `__exit__`, `__aexit__`, `__del__`, ...),
        and a parameter of `__init__` says an instance is made per request (`request`,
        `conversation_id`, `user_id`, ...: the catalog's `per-request-parameters` and
        `per-request-id-stems`).

        Precision: measured on 5 findings in 1 project of the precision corpus
        (benchmarks/precision, 27 packages): 0 true positives, 0 false positives, 5 debatable
        (Celery's integration-test tasks build a Redis client per task, the real shape, but
        only against a test broker). Seven false-positive shapes found there were fixed, each
        with a fixture. Well-kept libraries rarely build a pool per request; the rule is on by
        default because its fixtures cover every guard of SPEC.md and the corpus shows no
        false positive left.

        TypeScript and JavaScript (`poollint[js]`, docs/typescript.md): `new PrismaClient()` in a
        Next.js route handler, server action, tRPC procedure, Express route or any function,
        unless the `globalThis` singleton, a lazy global, a memoised factory or a start-up function
        guards it, or only administrators may call the handler, as above: a route registered behind
        a guard named for them (`router.post("/", requireAuth, requireAdmin, handler)`,
        `authorize("admin")`), a handler wrapped by one (`withAdmin(handler)`), an
        `adminProcedure`'s tRPC procedure, or a handler that turns everybody else away before it
        builds the client (`await requireAdmin()`, `if (session?.user?.role !== "ADMIN") return ...`,
        `const admin = await getAdminUser(req); if (!admin) return ...`). An object of a project class
        whose instances keep a client (its constructor's `this.prisma = new PrismaClient()`, an instance
        field, or an instance of another such class it keeps) is judged as the client it builds: `new
        OrderModel()` in a route handler is reported with the chain. Measured on 26 open-source Node
        applications: 23 findings, 23 true positives (two fixed upstream bugs), none in the well-kept
        applications.
    """
    example = """
        from fastapi import FastAPI
        from prisma import Prisma

        app = FastAPI()

        @app.get("/users")
        async def list_users():
            db = Prisma()
            await db.connect()
            return await db.user.find_many()
    """
    use_instead = """
        from contextlib import asynccontextmanager
        from fastapi import FastAPI
        from prisma import Prisma

        db = Prisma()

        @asynccontextmanager
        async def lifespan(app):
            await db.connect()
            yield
            await db.disconnect()

        app = FastAPI(lifespan=lifespan)

        @app.get("/users")
        async def list_users():
            return await db.user.find_many()
    """
    references = (
        "https://prisma-client-py.readthedocs.io/en/stable/reference/client/",
        "https://docs.sqlalchemy.org/en/20/core/connections.html#basic-usage",
        "https://fastapi.tiangolo.com/advanced/events/",
    )

    def visit_Call(self, node: cst.Call) -> None:
        spec = self.pool_constructor(node)
        chain = ""
        if spec is None:
            spec, chain = self._factory_call(node)
            if spec is None:
                return
        if innermost_loop(self.context.frames) is not None and not chain:
            return  # DBP102's finding
        function = self.context.enclosing_function()
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return
        if in_parameter_defaults(function.node, node) or self.fallback_for_parameter(node, function.node):
            return
        role = self._per_call_role(node, function, spec)
        if role is None:
            return
        call = f"`{self.display(node)}`" if not chain else f"`{self.display(node)}` -> `{chain}`"
        self.report(node, root=("client", id(node)), call=call, library=spec.library,
                    function=function.node.name.value, role=f" ({role})" if role else "")

    def _released_in_function(self, node: cst.Call, function: cst.FunctionDef, spec: ClientSpec) -> bool:
        """`with Redis() as r:` or `client = Redis()` ... `finally: client.close()` in the same function."""
        for item in self.context.enclosing(cst.With):
            if any(produces(i.item, node) for i in item.node.items):  # type: ignore[attr-defined]
                return spec.context_manager_releases
        names = self.bound_names(node)
        if not names:
            return False
        finder = FinallyBlocks()
        cst_visit(function.body, finder)
        return any(releases(call, names, spec) for block in finder.blocks for call in calls_in(block))

    def _only_dedicated(self, node: cst.Call, function: cst.FunctionDef, spec: ClientSpec) -> bool:
        """The client is used only to call its dedicated-connection methods (ClientSpec.dedicated_methods)."""
        return self._only_used_by(node, function, spec.dedicated_methods, ())

    def _only_inspected(self, node: cst.Call, function: cst.FunctionDef, spec: ClientSpec) -> bool:
        """The client is read only through attributes that describe it (ClientSpec.inspection_attributes)."""
        return self._only_used_by(node, function, (), spec.inspection_attributes)

    def _only_used_by(self, node: cst.Call, function: cst.FunctionDef, methods: tuple[str, ...],
                      attributes: tuple[str, ...]) -> bool:
        names = self.bound_names(node)
        if not (methods or attributes) or len(names) != 1:
            return False
        (name,) = names
        uses = _NameUses(name, methods, attributes)
        cst_visit(function.body, uses)
        return uses.dedicated > 0 and uses.other == 0

    def _per_call_role(self, node: cst.Call, function: Frame, spec: ClientSpec) -> Optional[str]:
        """The per-call role of the innermost function, "" for a plain function, None when guarded."""
        assert isinstance(function.node, cst.FunctionDef)
        role = function_role(self.context, function.node, self.context.enclosing_class())
        if role.runs_once or role.is_test or role.paced:
            # paced code (a periodic task, a handler only administrators may call) builds one client per
            # tick of its scheduler or per operator's action, whatever the traffic: one at a time
            return None
        if _built_after_a_failure(self.context.frames, node):
            # a reconnect in an `except` handler runs when a call fails, not on every call, and the
            # client it replaces is the one that failed
            return None
        usage = self.statement_role(node)
        if usage == "kept" and reinitialises_cached_instance(function.node, self.context.enclosing_class()):
            return "`__new__` returns a cached instance, but `__init__` runs again on every construction"
        replaced = self._replaced_without_release(node, function.node, spec) if usage == "kept" else None
        if replaced:
            return f"it replaces `self.{replaced}` without closing the client it held"
        rebound = self._rebound_per_call(node) if usage == "kept" and role.per_call else None
        if rebound:
            return f"{role.per_call}; it replaces `self.{rebound}` on every call"
        owned = self._owned_per_request(node, function.node) if usage == "kept" else None
        if owned:
            return owned
        if usage in ("kept", "global") or self.registered_if_missing(node):
            return None
        if self._only_dedicated(node, function.node, spec):
            # `r = Redis(); pubsub = r.pubsub()` and nothing else: the subscription holds one connection,
            # as it would on a shared client; the client adds none
            return None
        if self._only_inspected(node, function.node, spec):
            return None  # `engine = get_dummy_engine(); engine.dialect.ischema_names`: it never connects
        if not spec.connect and self._released_in_function(node, function.node, spec):
            # a client that connects lazily and is closed by this call leaves no pool open;
            # one with an explicit connect() step (Prisma) still opens a whole pool per call
            return None
        if not role.per_call:
            if usage == "returned" or self._bound_and_returned(node, function.node):
                return None  # a factory: judged where it is called
            klass = self.context.enclosing_class()
            if reached_only_from_run_once(self.context, function.node, klass=klass, paced=True):
                return None
            if serves_an_endless_loop(node, function.node, self.bound_names(node)):
                return None
            if reached_only_from_unbuilt_classes(self.context, function.node, klass=klass) and not (
                    function.node.name.value == "__init__" and self._per_request_parameter(function.node)):
                # how often code outside the project makes instances is not known here; a parameter
                # naming a request or a user says it is per call
                return None
            for outer in self.context.enclosing(cst.FunctionDef):
                if outer is function:
                    continue
                wrapped = self._wrapper_per_call(function.node, outer.node)  # type: ignore[arg-type]
                if wrapped:
                    # a decorator's wrapper runs on every call of what it decorates, not when the
                    # decorator runs: here a function of this module that runs per call
                    return wrapped
                outer_role = function_role(self.context, outer.node, None)  # type: ignore[arg-type]
                if outer_role.runs_once or outer_role.is_test or outer_role.paced:
                    return None
        return role.per_call

    @staticmethod
    def _escapes(inner: cst.FunctionDef, outer: cst.FunctionDef) -> bool:
        """`def with_cache(view): def wrapper(...): ...; return wrapper`: the outer function returns the
        inner one (its direct child), which then runs whenever whoever received it calls it."""
        body = outer.body.body if isinstance(outer.body, cst.IndentedBlock) else ()
        return any(statement is inner for statement in body) and any(
            isinstance(statement, cst.SimpleStatementLine) and any(
                isinstance(small, cst.Return) and isinstance(small.value, cst.Name)
                and small.value.value == inner.name.value for small in statement.body)
            for statement in body)

    def _wrapper_per_call(self, wrapper: cst.FunctionDef, decorator: cst.FunctionDef) -> Optional[str]:
        """What runs a decorator's wrapper per call: the role of a function of this module the decorator
        is applied to (`@with_cache` on a route); None when the inner function is no wrapper the decorator
        returns, or it decorates none here that runs per call."""
        name = decorator.name.value
        if self.context.module_functions.get(name) is not decorator or not self._escapes(wrapper, decorator):
            return None
        for function in _decorated_functions(self.context.module):
            if any(dotted_name(decorator_target(d)[0]) == name for d in function.decorators):
                role = function_role(self.context, function, None)
                if role.per_call and not role.runs_once and not role.is_test:
                    return f"the wrapper `@{name}` puts around `{function.name.value}()`, {role.per_call}"
        return None

    def _owned_per_request(self, node: cst.Call, function: cst.FunctionDef) -> Optional[str]:
        """`self.client = MongoClient(uri)` in the `__init__` of a class that has no method to release it
        (no `close`, `__exit__`, ...), when a parameter says an instance is made per request, user or
        conversation (`conversation_id`, `request`): its users build one pool per conversation, and
        no call site in the project may show it (a library's class)."""
        klass = self.context.enclosing_class()
        if klass is None or function.name.value != "__init__" or not self._self_attributes(node):
            return None
        guards = self.context.catalog.guards
        methods = {s.name.value for s in klass.body.body if isinstance(s, cst.FunctionDef)}
        if methods & guards.release_method_names or len(klass.bases) > 0:
            return None  # a release path, or a base class that may hold one
        identity = self._per_request_parameter(function)
        if identity is None or self._constructed_in_project(klass.name.value):
            return None  # where the project builds it, its call sites are judged
        return f"one per `{klass.name.value}`, made per `{identity}`, and the class has no method that closes it"

    def _per_request_parameter(self, function: cst.FunctionDef) -> Optional[str]:
        """A parameter that says the function is called per request, user or conversation (`request`,
        `conversation_id`: catalog `per-request-parameters`, `per-request-id-stems`)."""
        guards = self.context.catalog.guards
        parameters = [p.name.value for p in (*function.params.posonly_params, *function.params.params,
                                               *function.params.kwonly_params)]
        return next((p for p in parameters if p in guards.per_request_parameters or (
            p.endswith("_id") and p[:-3] in guards.per_request_id_stems)), None)

    def _self_attributes(self, node: cst.Call) -> list[str]:
        """The attributes of `self` the current statement assigns the call's result to."""
        return [t.attr.value for t in self.assigned_targets(node) or ()
                if isinstance(t, cst.Attribute) and is_self(t.value)]

    def _constructed_in_project(self, class_name: str) -> bool:
        """Whether this module calls the class, or another module of the project imports it."""
        called = self.context.__dict__.get("_names_called")
        if called is None:
            collector = CalledNames()
            cst_visit(self.context.module, collector)
            called = self.context.__dict__["_names_called"] = collector.names
        if class_name in called:
            return True
        index = self.context.index
        return index is not None and index.is_imported(self.context.module_qualified(class_name))

    def _rebound_per_call(self, node: cst.Call) -> Optional[str]:
        """`self.engine = create_engine()` in a method that runs per call (a task's `run`, a hook): the
        instance outlives the call (Celery builds each task once per worker), so every call replaces the
        pool; not when an enclosing `if` looks at that attribute first (a lazy guard)."""
        targets = self.assigned_targets(node) or []
        attributes = self._self_attributes(node)
        if len(attributes) != 1 or len(targets) != 1:
            return None
        for frame in self.context.enclosing(cst.If):
            if attributes[0] in self.context.module.code_for_node(frame.node.test):  # type: ignore[attr-defined]
                return None
        return attributes[0]

    def _replaced_without_release(self, node: cst.Call, function: cst.FunctionDef, spec: ClientSpec) -> Optional[str]:
        """`self._client = Prisma(...)` in a method other than `__init__` (or `__setstate__`), when `__init__` already built
        `self._client` and this method releases neither `self._client` nor a name it copied it to."""
        klass = self.context.enclosing_class()
        attributes = self._self_attributes(node)
        if klass is None or function.name.value in _BUILDS_A_FRESH_INSTANCE or len(attributes) != 1:
            return None
        attribute = attributes[0]
        init = next((s for s in klass.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)
        if init is None or not any(
                isinstance(c, cst.Call) and self.pool_constructor(c) is not None
                for c in calls_assigned_to_self(init, attribute)):
            return None
        holders = {f"self.{attribute}"}
        for assign in assignments(function):
            if isinstance(assign.value, cst.Attribute) and is_self(assign.value.value) \
                    and assign.value.attr.value == attribute:
                holders |= {t.target.value for t in assign.targets if isinstance(t.target, cst.Name)}
        for call in calls_in(function.body):
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value in spec.release \
                    and (dotted_name(func.value) or "") in holders:
                return None
        return attribute

    def _bound_and_returned(self, node: cst.Call, function: cst.FunctionDef) -> bool:
        """`engine = create_engine(...)` ... `return engine`, or `client = Redis(connection_pool=ConnectionPool(...))`
        ... `return client` (the pool inside what is returned, as `return Redis(connection_pool=...)` is):
        a factory, judged at its call sites."""
        helpers = own_functions(self.context, self.context.enclosing_class())
        targets = self.wrapping_targets(node) if not isinstance(self.context.current_statement, cst.AugAssign) else None
        names = {t.value for t in targets or () if isinstance(t, cst.Name)}
        return bool(names & returned_names(function, helpers, self._project_result))

    def _factory_call(self, node: cst.Call) -> tuple[Optional[ClientSpec], str]:
        return factory_call(self, node)


class ClientInLoop(_ClientCreation):
    """Flags a pool-owning client constructed inside a loop or comprehension."""

    code = "DBP102"
    name = "client-in-loop"
    message = "{call} builds a new {library} connection pool on every iteration of the loop on line {line}"
    fix_hint = "Build the client once before the loop and reuse it inside"
    rationale = """
        Each iteration builds a client that owns its own pool and keeps it open until it is
        garbage-collected, if ever. A loop over a thousand rows can open a thousand pools
        and hit `max_connections` long before it ends.

        Clients stored in a container (`engines[name] = create_engine(url)`, a list or dict
        comprehension of engines: one pool per database), clients released in the same
        iteration, a retry loop that returns the first client that works, and a reconnect loop
        (the pass builds the client, then iterates a subscription stream of it such as redis
        `pubsub.listen()`, which ends only when the connection drops) are not reported.

        Precision: measured on 1 finding in 1 project of the precision corpus: 1 debatable
        (one engine per saved chart in Superset's one-shot data migration).
    """
    example = """
        import sqlalchemy as sa

        def copy_rows(urls, rows):
            for url in urls:
                engine = sa.create_engine(url)
                with engine.begin() as conn:
                    conn.execute(sa.text("INSERT INTO t VALUES (:v)"), rows)
    """
    use_instead = """
        import os

        import sqlalchemy as sa

        engine = sa.create_engine(os.environ["DATABASE_URL"])

        def copy_rows(batches):
            for rows in batches:
                with engine.begin() as conn:
                    conn.execute(sa.text("INSERT INTO t VALUES (:v)"), rows)
    """
    references = ("https://docs.sqlalchemy.org/en/20/core/pooling.html",)

    def visit_Call(self, node: cst.Call) -> None:
        loop = innermost_loop(self.context.frames)
        if loop is None:
            return
        spec = self.pool_constructor(node)
        chain = ""
        if spec is None:
            spec, chain = factory_call(self, node)
            if spec is None or not self._loop_in_guarded_or_module_scope():
                return  # a factory in a loop of a per-call function: DBP101's finding, with its chain
        if isinstance(loop.node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)) and loop.node.elt is node:
            return  # a collection of clients, one per item
        if isinstance(loop.node, cst.DictComp) and loop.node.value is node:
            return
        if not isinstance(loop.node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            if self.statement_role(node) in ("kept", "global", "returned") or self.registered_if_missing(node):
                return
            function = self.context.enclosing_function()
            if function is not None and isinstance(function.node, cst.FunctionDef) \
                    and self.bound_names(node) & returned_names(
                        function.node, own_functions(self.context, self.context.enclosing_class()),
                        self._project_result):
                return  # a retry loop that returns the first client that works: a factory's
            if self._released_in_loop(node, loop.node, spec) \
                    or _reconnects(node, loop.node, self.bound_names(node), spec):
                return
        call = f"`{self.display(node)}`" if not chain else f"`{self.display(node)}` -> `{chain}`"
        self.report(node, root=("client", id(node)), call=call, library=spec.library,
                    line=self.context.line_of(loop.node))

    def _loop_in_guarded_or_module_scope(self) -> bool:
        """DBP101 reports factory calls inside per-call functions; this rule takes the others."""
        function = self.context.enclosing_function()
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return True
        role = function_role(self.context, function.node, self.context.enclosing_class())
        return not role.per_call

    def _released_in_loop(self, node: cst.Call, loop: cst.CSTNode, spec: ClientSpec) -> bool:
        for item in self.context.enclosing(cst.With):
            if any(i.item is node for i in item.node.items):  # type: ignore[attr-defined]
                return spec.context_manager_releases
        statement = self.context.current_statement
        if isinstance(statement, cst.Assign) and produces(statement.value, node):
            names = {t.target.value for t in statement.targets if isinstance(t.target, cst.Name)}
            return any(releases(call, names, spec) for call in calls_in(loop))
        return False


def _reconnects(node: cst.Call, loop: cst.CSTNode, names: set[str], spec: ClientSpec) -> bool:
    """A reconnect loop: after building the client, the pass iterates one of its subscription streams
    (`async for message in client.pubsub().listen()`), which ends only when the connection drops. Its
    passes are reconnections, one client at a time, unless a `break` leaves the stream early."""
    if not spec.subscription_streams or not names:
        return False
    holders = set(names)
    built = False
    for inner in cst_walk(loop, prune=(cst.FunctionDef, cst.Lambda, cst.ClassDef)):
        if inner is node:
            built = True
        elif not built:
            continue
        elif isinstance(inner, cst.Assign) and _held_by(inner.value, holders, spec):
            # `pubsub = client.pubsub()`: the dedicated connection's object streams for it
            holders.update(t.target.value for t in inner.targets if isinstance(t.target, cst.Name))
        elif iterates_a_stream(inner, lambda value: _held_by(value, holders, spec), frozenset(spec.subscription_streams)):
            return True
    return False


def _held_by(value: cst.BaseExpression, holders: set[str], spec: ClientSpec) -> bool:
    """`client`, or `client.pubsub()` of a dedicated method (awaited or not), for a name in `holders`."""
    if isinstance(value, cst.Await):
        value = value.expression
    if isinstance(value, cst.Name):
        return value.value in holders
    return isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) \
        and value.func.attr.value in spec.dedicated_methods and isinstance(value.func.value, cst.Name) \
        and value.func.value.value in holders


def _decorated_functions(module: cst.Module) -> list[cst.FunctionDef]:
    """The module's functions and its classes' methods that have decorators."""
    found = []
    for statement in module.body:
        members = statement.body.body if isinstance(statement, cst.ClassDef) and isinstance(
            statement.body, cst.IndentedBlock) else (statement,)
        found.extend(m for m in members if isinstance(m, cst.FunctionDef) and m.decorators)
    return found


def factory_call(rule: _ClientCreation, node: cst.Call) -> tuple[Optional[ClientSpec], str]:
    """A call of a project factory: (the client it builds, the chain to its constructor), else (None, "").

    Functions of this module are judged from their libcst node; factories of other modules
    (and classes whose `__init__` stores a client) come from the project index.
    """
    index = rule.context.index
    if isinstance(node.func, cst.Name) and node.func.value in rule.context.module_functions \
            and rule.context.lookup(node.func.value) == rule.context.module_qualified(node.func.value):
        if index is not None and index.memoized(rule.context.module_qualified(node.func.value)):
            return None, ""  # the project index judges such guards: a cache decorator, a module-level dict
        found = factory_constructor(rule, rule.context.module_functions[node.func.value])
        return found if found is not None else (None, "")
    if index is None or rule.context.is_test_file:
        return None, ""
    factory = index.factory(_own_method(rule, node.func) or rule.qualified_name(node.func))
    if factory is None or factory.cached or _passes(node, factory.unless_passed, factory.unless_position):
        return None, ""
    spec = rule.catalog.client_for(factory.constructor)
    return (spec, factory.constructor_display) if spec is not None else (None, "")


def _own_method(rule: _ClientCreation, func: cst.BaseExpression) -> Optional[str]:
    """`self.engine` / `cls.engine` inside a class of this module: the qualified name of the method,
    the class's own or the one it inherits from a project base class (`BaseCrawlOps.get_redis`)."""
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls")):
        return None
    index = rule.context.index
    for frame in rule.context.enclosing(cst.ClassDef):
        klass = frame.node
        assert isinstance(klass, cst.ClassDef)
        # a base class in another module is parsed only when some factory has the method's name
        found = class_method(rule.context, klass, func.attr.value, rule.settings,
                             inherited=index is not None and index.names_a_factory(func.attr.value))
        if found is None:
            return rule.context.module_qualified(f"{klass.name.value}.{func.attr.value}")
        _, owner, context = found
        return f"{context.module_name}.{owner.name.value}.{func.attr.value}" if context.module_name \
            else f"{owner.name.value}.{func.attr.value}"
    return None


def _passes(node: cst.Call, parameter: str, position: int) -> bool:
    """Whether the call passes `parameter` (by keyword, or by its position), so the factory builds nothing."""
    if not parameter:
        return False
    positional = positional_arguments(node)
    if any(arg.star for arg in node.args):
        return True  # `*args`/`**kwargs` may pass it: not judged
    return any(arg.keyword is not None and arg.keyword.value == parameter for arg in node.args) \
        or 0 <= position < len(positional)


def factory_constructor(rule: _ClientCreation, function: cst.FunctionDef) -> Optional[tuple[ClientSpec, str]]:
    """If `function` returns a new pool-owning client and is not cached, the client and its constructor.

    Asked at every call of a module function, so answered once per function and file.
    """
    answers = rule.context.__dict__.setdefault("_factory_constructors", {})
    if function not in answers:
        answers[function] = _factory_constructor(rule, function)
    return answers[function]


def _factory_constructor(rule: _ClientCreation, function: cst.FunctionDef) -> Optional[tuple[ClientSpec, str]]:
    role = function_role(rule.context, function, None)
    if role.runs_once:
        return None
    # `global _engine; if _engine is None: _engine = create_engine(...)`; `return _engine`: one client per process
    returned = returned_names(function, rule.context.module_functions, rule._project_result) \
        - body_facts(function).globals
    for statement in _return_and_assign_statements(function):
        # `return MongoClient(url)["shop"]`
        returned_value = subscribed(statement.value) if isinstance(statement, cst.Return) else None
        if isinstance(returned_value, cst.Call):
            call = returned_value
        elif isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call) and any(
            isinstance(t.target, cst.Name) and t.target.value in returned for t in statement.targets
        ):
            call = statement.value
        else:
            continue
        spec = rule.pool_constructor(call)
        if spec is not None:
            return spec, f"{dotted_name(call.func)}()"
    return None


class _NameUses(cst.CSTVisitor):
    """Counts the reads of one name: as the receiver of a call to one of `methods`, as the object of
    one of `attributes` (`engine.dialect`), and otherwise."""

    def __init__(self, name: str, methods: tuple[str, ...], attributes: tuple[str, ...] = ()) -> None:
        self.name = name
        self.methods = methods
        self.attributes = attributes
        self.dedicated = 0
        self.other = 0
        self._counted: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name and node.attr.value in self.attributes:
            self.dedicated += 1
            self._counted.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self.name \
                and func.attr.value in self.methods:
            self.dedicated += 1
            self._counted.add(id(func.value))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and id(node) not in self._counted:
            self.other += 1

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        return not (isinstance(node.target, cst.Name) and node.target.value == self.name)


class _Statements(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.CSTNode] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.found.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.found.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _return_and_assign_statements(function: cst.FunctionDef) -> list[cst.CSTNode]:
    collector = _Statements()
    cst_visit(function.body, collector)
    return collector.found


def _datasource_display(datasource: str) -> str:
    return datasource if datasource.startswith("the ") else f"`{datasource}`"


class DuplicateModuleClients(ProjectRule):
    """Flags a pool built at import time by several modules of one project for the same datasource."""

    code = "DBP103"
    name = "duplicate-module-clients"
    triggers = frozenset({CONSTRUCTORS})
    message = "{call} builds a {library} pool for {datasource} {when}; the same pool is also built at {others}"
    fix_hint = (
        "Build the client in one module (app/db.py) and import it everywhere else; "
        "entry points that run as their own process may keep their own"
    )
    rationale = """
        Every module that builds `engine = create_engine(os.environ["DATABASE_URL"])` or
        `prisma = Prisma()` at import time opens its own pool in the same process. Three modules
        with SQLAlchemy's default pool (5 + 10 overflow) can hold 45 connections per worker
        instead of 15; multiplied by workers and replicas, the server runs out of connections
        (`too many clients already`) although each module looks reasonable on its own.

        Two sites are the same datasource when they use the same library and the same URL
        source: the same environment variable, the same URL literal (compared with its password
        masked) or the same imported setting; a client with no URL argument uses the library's
        default. A site whose URL source is unknown is not counted, except in a class whose
        `__init__` builds its pool from nothing the caller passes (`create_engine(config.url())`):
        every instance then connects to the same database. Modules that run as their own
        process are not counted either: alembic `env.py`, `__main__` scripts, Streamlit scripts,
        tests, and script-shaped modules (no function or class, work at top level) that no module
        imports. Two pools are only each other's duplicates when one process may load both modules: one
        imports the other, or some module of the project imports both, directly or through its imports
        (at any level; a package's `__init__` runs with each of its modules), or the import chains that
        load them start in one folder. A call that loads a module named by a string counts as an import
        (a Django URLconf's `include("shop.urls")`: the catalog's `module-loading-calls`). A module that
        nothing of the project imports is loaded by name from outside (a server's command line, a
        framework's conventions) and is taken to run beside the other such modules of its folder;
        chains that start in different folders and meet nowhere are different processes, or dead code
        (an old copy of `db.py` that only an unused `api/deps.py` imports, beside the `main.py` that
        builds the application). A call of a project factory at
        module scope counts as the pool it builds, each call apart (nine handler objects built at
        import in one module are nine pools); a module's own constructor calls count once (a second
        engine there may be configured apart); a cached factory (`@functools.cache`) builds one pool
        per process and does not count. Two pools that
        the code sizes explicitly and differently (`pool_size`/`max_overflow`, `min_size`/`max_size`,
        `max_connections`, `maxPoolSize`: the catalog's `size-arguments`) are kept apart on purpose,
        a bulkhead for one workload, and are not each other's duplicates; one left at the library's
        default beside a sized one still is.

        TypeScript and JavaScript: module-scope `new PrismaClient()` in several modules of one
        package, counted by module (a module that no file imports, and that no framework loads by
        its place or name as it loads a route or a page, is never loaded and not counted), and so is
        a module-scope object of a project class whose instances keep a client (`export default new
        UserService()`, whose constructor keeps a `new UserModel()`, whose constructor keeps `new
        PrismaClient()`: three levels at most; a static field is built once and is not counted); 78
        findings in 8 long-tail Node applications, all true positives (docs/typescript.md). Two
        modules whose processes are known and differ are not each other's duplicates: walking
        imports back from a module to the files nothing imports, an entry file that does something
        when loaded (`app.listen()`, a top-level `await`) or that package.json runs starts a process
        of its own; the files a framework loads by their place (routes, `app/`, `pages/`) are the
        package's one server; tests, configuration files and scripts do not count. So an Express
        server's client and those of a second server's routes, started by another entry file, are
        two processes' pools; a module whose processes cannot be told still counts with the rest. A
        module's own lazily built client (`let prisma = null; function db() { if (!prisma) prisma =
        new PrismaClient(); return prisma }`) is one pool per process too, built on first use, and
        counts like a module-scope one. An import on a commented-out line loads nothing.
    """
    example = """
        # app/db.py
        import os

        from sqlalchemy import create_engine

        engine = create_engine(os.environ["DATABASE_URL"])

        # app/jobs.py
        import os

        from sqlalchemy import create_engine

        engine = create_engine(os.environ["DATABASE_URL"])
    """
    use_instead = """
        # app/db.py
        import os

        from sqlalchemy import create_engine

        engine = create_engine(os.environ["DATABASE_URL"])

        # app/jobs.py
        from app.db import engine
    """
    options = ("duplicate-client-threshold",)
    references = (
        "https://docs.sqlalchemy.org/en/20/core/pooling.html#using-connection-pools-with-multiprocessing-or-os-fork",
        "https://prisma-client-py.readthedocs.io/en/stable/reference/client/",
    )

    def finish(self) -> None:
        from poollint.paths import display_path
        from poollint.python.reads import record_index_answer

        index = self.context.index
        if index is None or self.context.is_test_file:
            return
        threshold = self.settings.duplicate_client_threshold
        found = index.duplicates(self.context.path, threshold)
        relative = index.relative(self.context.path)
        if relative is not None:  # which modules load together follows imports the facts' digest does not cover
            record_index_answer(f"duplicates {threshold} {relative}", found)
        for duplicate in found:
            site = duplicate.site
            others = ", ".join(f"{path}:{other.line}" for path, other in duplicate.others)
            related = tuple(
                Location(display_path(index.root / path), other.line, other.column,
                         f"{other.display} builds the same pool here")
                for path, other in duplicate.others
            )
            self.report_at(site.line, site.column, related=related, call=f"`{site.display}`", library=site.library,
                           datasource=_datasource_display(site.datasource or ""), others=others, when="at import time")


class RerunScopeClient(_ClientCreation):
    """Flags a client built at script scope of a Streamlit script, which reruns on every interaction."""

    code = "DBP104"
    name = "rerun-scope-client"
    message = "{call} builds a new {library} connection pool on every rerun of this Streamlit script"
    fix_hint = "Build the client in a function decorated with @st.cache_resource and call it"
    rationale = """
        Streamlit executes the whole script again on every widget interaction and for every
        browser session. A client built at script scope is built again on each rerun, and each
        one opens its own pool: a few clicks by a few users exhaust the database's connections.
        `@st.cache_resource` keeps one client per process across reruns and sessions.

        A client built through a project factory at script scope is reported at the call, with
        the chain to the constructor; a factory decorated with `@st.cache_resource` (or any
        cache decorator) is silent. Clients released by `with` in the same rerun are not reported.
    """
    example = """
        import os

        import streamlit as st
        from sqlalchemy import create_engine, text

        engine = create_engine(os.environ["DATABASE_URL"])
        with engine.connect() as conn:
            st.write(conn.execute(text("SELECT count(*) FROM orders")).scalar())
    """
    use_instead = """
        import os

        import streamlit as st
        from sqlalchemy import create_engine, text


        @st.cache_resource
        def get_engine():
            return create_engine(os.environ["DATABASE_URL"])


        with get_engine().connect() as conn:
            st.write(conn.execute(text("SELECT count(*) FROM orders")).scalar())
    """
    references = ("https://docs.streamlit.io/develop/concepts/architecture/caching#stcache_resource",)

    def visit_Call(self, node: cst.Call) -> None:
        if not self._is_streamlit_script() or self.context.enclosing_function() is not None:
            return
        if any(isinstance(frame.node, cst.ClassDef) for frame in self.context.frames):
            return
        spec = self.pool_constructor(node)
        chain = ""
        if spec is None:
            spec, chain = factory_call(self, node)
            if spec is None:
                return
        elif innermost_loop(self.context.frames) is not None:
            return  # DBP102's finding
        for frame in self.context.enclosing(cst.With):
            if any(item.item is node for item in frame.node.items):  # type: ignore[attr-defined]
                if spec.context_manager_releases:
                    return
        call = f"`{self.display(node)}`" if not chain else f"`{self.display(node)}` -> `{chain}`"
        self.report(node, root=("client", id(node)), call=call, library=spec.library)

    def _is_streamlit_script(self) -> bool:
        return "streamlit" in self.context.own_imported_packages()

