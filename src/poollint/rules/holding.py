"""DBP2xx: external calls made while a transaction or a pooled checkout holds a connection."""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, replace
from typing import Callable, Optional, Union

import libcst as cst

from poollint.catalog.model import CheckoutSpec, ExternalCallSpec, ImplicitTransactionSpec, TransactionSpec
from poollint.python.cst.context import (FileContext, Frame, assigned_names, called_for, dotted_name,
                                         positional_arguments)
from poollint.python.cst.depends import dependency_parameters
from poollint.python.cst.logging_calls import is_logging_call
from poollint.findings import Location
from poollint.paths import display_path
from poollint.python.cst.modules import class_method, project_class, project_definition, project_function
from poollint.python.cst.walk import visit as cst_visit, walk as cst_walk
from poollint.python.cst.roles import decorator_target, function_role, iterated_in, runs_when_iterated
from poollint.python.processes import process_concurrency
from poollint.python.requirements import declared_versions, declares_any, release_window
from poollint.python.screen import CHECKOUTS, CONSTRUCTORS, EXTERNAL_CALLS, TRANSACTIONS
from poollint.rules.base import FileRule, Rule
from poollint.rules.client_flow import calls_in, is_endless, runs_once_per_process
from poollint.rules.request_sessions import RequestSessions

# How many project functions deep a call is followed to find an external call.
MAX_CHAIN_DEPTH = 3
# a setting named like DEBUG or TESTING (`settings.DEBUG`, `app.testing`, `IS_TEST`)
_DEBUG_SETTING = re.compile(r"(?i)(?<![A-Za-z0-9])(?:is_)?(?:debug|testing|test)(?:_mode)?(?![A-Za-z0-9])")
Spec = Union[TransactionSpec, CheckoutSpec]


@dataclass(frozen=True, eq=False)
class Site:
    """A link of a chain in another module. Its line is looked up only when a finding names it: that
    renders the whole module with positions, and most chains followed are never reported."""

    context: "FileContext"
    node: cst.CSTNode
    message: str

    def location(self) -> Location:
        return Location(self.context.display_path, self.context.line_of(self.node), 1, self.message)


Related = tuple[Union[Location, Site], ...]


def _located(related: Related) -> tuple[Location, ...]:
    return tuple(link.location() if isinstance(link, Site) else link for link in related)


@dataclass(frozen=True)
class Hold:
    """A block during which a connection is held: a transaction or a pooled checkout."""

    node: cst.CSTNode  # the `with` statement or the decorated function
    depth: int  # len(context.frames) once inside: deeper function frames only define code
    is_transaction: bool
    library: str
    opener: str  # `engine.begin()`, `@transaction.atomic`
    line_node: cst.CSTNode  # where the hold starts; its line is looked up only for a finding
    timeout: str = ""
    related: Related = ()  # where a project scope in another module opens the transaction
    implicit: bool = False  # a session's own transaction, from its first query until it ends
    # of a session every module shares (`db.session` of a module object, not a local or a parameter):
    # its qualified name, by which a project function that commits it ends the hold (_ends_a_shared_session)
    shared: str = ""
    item: int = 0  # of a `with` statement: which of its items opened it (they are left in reverse order)
    # of a request's session a dependency of the handler began (rules/request_sessions.py): what gives it
    dependency: str = ""
    # of a session's own transaction: the session's type or factory as resolved (`sqlalchemy.orm.Session`)
    session_type: str = ""


@dataclass(frozen=True)
class Reached:
    """An external call, made here or through project functions."""

    chain: tuple[str, ...]  # displays, outermost first: ("notify()", "requests.post()")
    kind: str  # what is waited on and for how long: "HTTP request without a timeout", "sleep of 5 s"
    publishes_task: bool = False
    related: Related = ()  # the links of the chain that are in other modules
    sleeps: bool = False  # the wait is a sleep (a retry's pause), not a call to another service

    @property
    def display(self) -> str:
        return "`" + " -> ".join(self.chain) + "`"


class _HoldingRule(FileRule, RequestSessions):
    """Shared by DBP201, DBP202 and DBP203: which blocks hold a connection and which calls inside them wait."""

    # DBP203 reports task publishes, the others every other external call
    reports_task_publishes = False
    # a hold is a transaction, a checkout, or a connection used as one (`with psycopg.connect():`)
    triggers = frozenset({CONSTRUCTORS, CHECKOUTS, TRANSACTIONS, EXTERNAL_CALLS})
    requires = frozenset({EXTERNAL_CALLS})

    def __init__(self, context) -> None:
        super().__init__(context)
        self._holds: list[Hold] = []
        self._background: list[cst.Call] = []
        self._reach_cache: dict[tuple[int, int], Optional[Reached]] = {}
        self._scope_cache: dict[int, Optional[Hold]] = {}
        self._lock_cache: dict[cst.CSTNode, bool] = {}
        # open implicit transactions: (function node id, receiver as written) -> the hold
        self._sessions: dict[tuple[int, str], Hold] = {}
        # names (binding frame, name) of engines on an in-memory SQLite database and of sessions or
        # session factories bound to one: their transactions block no one else
        self._on_sqlite: set[tuple[int, str]] = set()
        # the session keys open when each enclosing `for`/`while` statement was entered, innermost last
        self._loops: list[tuple[cst.CSTNode, frozenset[tuple[int, str]]]] = []
        self._carried: set[int] = set()  # calls already reported inside a transaction a loop carries
        # tasks started inside holds and bound to a name (`task = asyncio.create_task(fetch(url))`):
        # (function node id, name) -> (the call that starts it, the work it runs, the holds open then)
        self._tasks: dict[tuple[int, str], tuple[cst.Call, cst.Call, list[Hold]]] = {}
        self._own_context = context
        # the indented blocks being visited, innermost last: each with the sessions open when it was
        # entered, and, for a block that leaves (its last statement returns, raises, continues or breaks),
        # the sessions ended inside it that were open before it: the statements after it run only on the
        # paths that did not end them (`if not rows: db.commit(); return`)
        self._blocks: list[tuple[cst.IndentedBlock, dict[tuple[int, str], Hold], dict[tuple[int, str], Hold]]] = []
        self._branches: set[int] = set()  # the bodies of `if`/`else` branches and `except` handlers
        # the `if` statements with an `else` or `elif`, by their body: the sessions open when the `if` was
        # entered. The other branch runs instead of the body, not after it: what the body began is not
        # open there and what it ended is, until the whole statement ends (_after_branches)
        self._if_entries: dict[int, tuple[cst.If, dict[tuple[int, str], Hold]]] = {}
        self._after_branches: dict[int, tuple[dict[tuple[int, str], Hold], set[tuple[int, str]]]] = {}
        self._sequences: set[int] = set()  # the bodies of `with`, `try` and `finally`, run in sequence
        # the handlers' parameters that are the request's session (`db: Session = Depends(get_db)`):
        # (function node id, name), closed by the dependency after the response is sent
        self._request_scoped: set[tuple[int, str]] = set()

    # -- traversal ------------------------------------------------------------------------
    def visit_With(self, node: cst.With) -> None:
        self._sequences.add(id(node.body))
        for position, item in enumerate(node.items):  # `async with pool.acquire() as conn, conn.transaction():` opens both
            hold = self._opened_by(item.item, node)
            if hold is not None:
                self._holds.append(replace(hold, item=position) if position else hold)
            self._enter_begun_session(item)

    def _enter_begun_session(self, item: cst.WithItem) -> None:
        """`async with tenant_session(t) as db:` of a project generator that queries the session before it
        yields it (ProjectIndex.begun_yield): the body starts inside that session's transaction."""
        function = self.context.enclosing_function()
        index = self.context.index
        if function is None or index is None or item.asname is None or not isinstance(item.asname.name, cst.Name) \
                or not isinstance(item.item, cst.Call):
            return
        provider = self.qualified_name(item.item.func)
        begun = index.begun_yield(provider)
        yielded = index.yielded_type(provider)
        spec = self._enabled(self.catalog.implicit_transaction(f"{yielded}()")) if begun and yielded else None
        if spec is None or begun is None:
            return
        path, line = begun
        shown = dotted_name(item.item.func) or provider
        self._sessions[(id(function.node), item.asname.name.value)] = Hold(
            function.node, self._function_depth(function), False, spec.library, f"{shown}()", item.item,
            implicit=True, related=(Location(display_path(index.root / path), line, 1,
                                             f"`{shown}()` queries the session before it yields it"),))

    def leave_With(self, node: cst.With) -> None:
        self._pop(node)
        function = self.context.enclosing_function()
        for item in node.items:  # `with Session(engine) as session:` closes the session at the end
            if function is not None and item.asname is not None and isinstance(item.asname.name, cst.Name):
                self._sessions.pop((id(function.node), item.asname.name.value), None)
            # and so does `with closing(db_session):` (contextlib.closing: `close()` at the block's end)
            closed = item.item
            if function is not None and isinstance(closed, cst.Call) and closed.args \
                    and self.qualified_name(closed.func) in self.catalog.guards.closing_functions:
                receiver = dotted_name(closed.args[0].value)
                if receiver is not None:
                    self._sessions.pop((id(function.node), receiver), None)

    def visit_If(self, node: cst.If) -> None:
        self._branches.add(id(node.body))
        if isinstance(node.orelse, cst.Else):
            self._branches.add(id(node.orelse.body))
        if node.orelse is not None:
            self._if_entries[id(node.body)] = (node, dict(self._sessions))

    def leave_If(self, original_node: cst.If) -> None:
        begun, ended = self._after_branches.pop(id(original_node), ({}, set()))
        for key, hold in begun.items():  # open after the statement when a branch began it
            self._sessions.setdefault(key, hold)
        for key in ended:  # and ended when a branch ended it (an end on some path ends it for what follows)
            self._sessions.pop(key, None)

    def _enter_other_branch(self, body: cst.IndentedBlock) -> None:
        """Leaving the body of an `if` with an `else` or `elif`: that branch sees the sessions as they
        were before the body ran."""
        entry = self._if_entries.pop(id(body), None)
        if entry is None:
            return
        node, at_entry = entry
        begun = {key: hold for key, hold in self._sessions.items() if at_entry.get(key) is not hold}
        ended = {key for key in at_entry if key not in self._sessions}
        for key in begun:
            del self._sessions[key]
        for key in ended:
            self._sessions[key] = at_entry[key]
        self._after_branches[id(node)] = (begun, ended)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._branches.add(id(node.body))

    def visit_Try(self, node: cst.Try) -> None:
        self._sequences.add(id(node.body))
        if node.finalbody is not None:
            self._sequences.add(id(node.finalbody.body))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._blocks.append((node, dict(self._sessions), {}))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        if not self._blocks or self._blocks[-1][0] is not original_node:
            return
        _, open_then, ended = self._blocks.pop()
        if id(original_node) in self._branches and _returns_or_raises(original_node):
            # a transaction begun in a branch that returns or raises is not open after it
            # (`if not creds: notify_admin(); return`): what follows runs on the other paths
            for key in [key for key, hold in self._sessions.items() if open_then.get(key) is not hold]:
                del self._sessions[key]
        for key, hold in ended.items():
            self._sessions.setdefault(key, hold)
        self._enter_other_branch(original_node)

    def _end_session(self, key: tuple[int, str]) -> None:
        """Ends the session's transaction for what follows, unless the end is inside a block that leaves
        and the transaction began before it: then it stays open after that block."""
        hold = self._sessions.pop(key, None)
        if hold is None:
            return
        for block, open_then, ended in reversed(self._blocks):
            if open_then.get(key) is not hold or (id(block) not in self._branches and id(block) not in self._sequences):
                return  # begun inside this block, or the body of a function or a loop: ended for good
            if id(block) in self._branches and _leaves(block):
                ended[key] = hold  # one branch of an `if` or an `except` that leaves after ending it
                return
            # a branch that goes on, or a `with`/`try` body: what follows it may be in a branch that leaves

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            expression = decorator.decorator
            target = expression.func if isinstance(expression, cst.Call) else expression
            spec = self._transaction_function(target) or self._transaction_method(target)
            if spec is not None:
                self._holds.append(Hold(
                    node, len(self.context.frames), True, spec.library, f"@{_text(self.context, expression)}",
                    decorator, spec.timeout,
                ))
                return
        hold = self._request_transaction(node)
        if hold is not None:
            self._holds.append(hold)
        self._open_request_sessions(node)

    def _open_request_sessions(self, node: cst.FunctionDef) -> None:
        """The handler's body starts inside the transactions its dependencies leave open on the request's
        session (rules/request_sessions.py). Its own parameter for that session (`db: Session =
        Depends(get_db)`) is the same object: its `db.commit()` ends the hold, as handing it on may."""
        index = self.context.index
        if index is None or not index.request_session_dependencies(self.catalog):
            return  # no function of the project takes a request's session from a dependency
        own = {dependency.provider: dependency.parameter.name.value
               for dependency in dependency_parameters(self.context, node)
               if dependency.cached and self.catalog.implicit_transaction(dependency.type) is not None}
        # the request's sessions among its parameters: kept until the response is sent (a streamed one too)
        self._request_scoped.update((id(node), name) for name in own.values())
        for found in self.opened_by_dependencies(node):
            key = (id(node), own.get(found.provider, f"Depends({found.provider})"))
            if key in self._sessions:
                continue
            name, name_node, context = found.begun_in
            message = f"`{name}()` queries the request's session and leaves its transaction open"
            related = (Site(context, name_node, message),) if context is not self._own_context \
                else (Location(self.context.display_path, self.context.line_of(name_node), 1, message),)
            self._sessions[key] = Hold(node, len(self.context.frames), False, found.spec.library,
                                       f"Depends({found.display})", found.parameter, implicit=True,
                                       related=related, dependency=found.provider)

    def _request_transaction(self, node: cst.FunctionDef) -> Optional[Hold]:
        """A routed view in a project whose settings run every view in a transaction (Django's
        `ATOMIC_REQUESTS`): the whole function holds one. Async views and opted-out ones never do."""
        index = self.context.index
        if index is None or node.asynchronous is not None or not self.catalog.request_transactions:
            return None
        site = index.request_transaction_setting()
        if site is None:
            return None
        setting, path, line = site
        spec = next(s for s in self.catalog.request_transactions if s.setting == setting)
        outer = [frame.node for frame in self.context.frames[1:-1]]
        if not outer:
            routed = index.routed_view(self.context.module_qualified(node.name.value))
        elif len(outer) == 1 and isinstance(outer[0], cst.ClassDef):
            klass = outer[0]
            if not index.routed_view(self.context.module_qualified(klass.name.value)):
                return None
            decorators = {self.qualified_name(decorator_target(d)[0]) for d in node.decorators}
            routed = node.name.value in spec.handler_methods or bool(decorators & set(spec.handler_decorators))
            # `@method_decorator(transaction.non_atomic_requests, name="dispatch")` on the class, or the
            # decorator on its `dispatch` (`as_view()` copies dispatch's attributes onto the view)
            dispatch = [member for member in klass.body.body
                        if isinstance(member, cst.FunctionDef) and member.name.value == "dispatch"]
            opt_outs = [n.rsplit(".", 1)[-1] for n in spec.opt_out_decorators]
            if any(name in _text(self.context, d.decorator)
                   for d in (*klass.decorators, *(d for member in dispatch for d in member.decorators))
                   for name in opt_outs):
                return None
        else:
            return None
        if not routed or any(self.qualified_name(d.decorator) in spec.opt_out_decorators for d in node.decorators):
            return None
        return Hold(node, len(self.context.frames), True, spec.library, f"{setting} = True", node.name,
                    related=(Location(display_path(index.root / path), line, 1,
                                      f"`{setting}` runs every view in a transaction"),))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._pop(node)
        for key in [k for k in self._sessions if k[0] == id(node)]:
            del self._sessions[key]
        for key in [k for k in self._tasks if k[0] == id(node)]:
            del self._tasks[key]

    def visit_Call(self, node: cst.Call) -> None:
        if self._background:
            return
        if self._starts_in_background(node):
            self._background.append(node)
            if not self.context.is_test_file:
                self._judge_task_group_work(node)
                self._remember_task(node)
            return
        if self.context.is_test_file:
            return
        ended_after_waiting = self._track_sessions(node)
        if self._streams_a_response(node):
            self._judge_streamed_response(node)
            return
        # a call that begins a session's transaction (`self.sync(session)` that queries with it) is not judged
        # inside that transaction: whether its slow call comes before a commit is the callee's to say
        holds = [hold for hold in self._active_holds() if hold.line_node is not node] + ended_after_waiting
        if holds:
            self._judge(node, holds)

    # -- a streamed response ----------------------------------------------------------------
    def _streams_a_response(self, node: cst.Call) -> bool:
        streamed = self.catalog.guards.streamed_responses
        return bool(streamed) and isinstance(node.func, (cst.Name, cst.Attribute)) \
            and self.qualified_name(node.func) in streamed

    def _judge_streamed_response(self, node: cst.Call) -> None:
        """`return StreamingResponse(generate())` while the request's session is in a transaction (one a
        dependency left open, or the handler's own `db = Depends(get_db)` after a query): its body streams
        after the handler returns, and the dependency closes the session only once the stream ends, so the
        connection stays checked out for the whole stream. A session the handler opened itself (a `with`
        block, a local it closes) is given back when the handler returns, and is not judged; nor is any
        request session where the project pins, locks or may run a release that closed dependencies
        before streaming (catalog `dependencies-closed-before-streaming`)."""
        function = self.context.enclosing_function()
        if function is None:
            return
        holds = [hold for key, hold in self._sessions.items()
                 if key[0] == id(function.node) and (hold.dependency or key in self._request_scoped)]
        if not holds or not self._streams_for_long(node, function.node) or self._dependencies_close_before_streaming():
            return
        name = _last_name(node.func) or "StreamingResponse"
        self._judge(node, holds, reached=Reached(
            (f"{name}()",), "a streamed response: its body runs after the handler returns, and the request's "
                            "dependencies close the session only when the stream ends"))

    def _streams_for_long(self, response: cst.Call, handler: cst.CSTNode) -> bool:
        """Whether the response's body may take long to stream: server-sent events (`media_type=
        "text/event-stream"`), or a body a generator makes as it goes (`StreamingResponse(relay(run_id))`
        of a generator function of the handler, the module, the project, or a project object's method).
        A body already in memory (`io.BytesIO`, `iter([csv_text])`) is sent at once."""
        for arg in response.args:
            if arg.keyword is not None and arg.keyword.value == "media_type" \
                    and isinstance(arg.value, cst.SimpleString) and arg.value.evaluated_value == "text/event-stream":
                return True
        body = next((arg.value for arg in response.args if arg.keyword is None and not arg.star), None) or next(
            (arg.value for arg in response.args if arg.keyword is not None and arg.keyword.value == "content"), None)
        if not isinstance(body, cst.Call):
            return False
        generator = None
        if isinstance(body.func, cst.Name):
            generator = next((node for node in cst_walk(handler) if isinstance(node, cst.FunctionDef)
                              and node.name.value == body.func.value and node is not handler), None)
        if generator is None:
            found = self._project_function(body)
            generator = found[0] if found is not None else None
        return generator is not None and any(isinstance(node, cst.Yield) for node in cst_walk(generator.body))

    def _nobody_waits_on(self, library: str) -> bool:
        """Whether every engine of `library` the application builds (ProjectIndex.engines) is on an SQLite
        database where no request waits for a connection another holds: in memory, or a file on a
        release that opens a connection per checkout (catalog `sqlite-file-pooled-from`), by the release
        the project pins, locks or bounds (python/requirements.py). An engine whose URL is not seen is
        SQLite's when the project's requirement and lock files name none of the library's server drivers
        (catalog `server-drivers`). An engine on any other database, or whose database is not known,
        keeps the hold judged."""
        index = self.context.index
        engines = index.engines(library) if index is not None and library else []
        for constructor, backend in engines:
            if backend == "sqlite-memory":
                continue
            spec = self.catalog.engine_client(constructor)
            if backend == "" and spec is not None and spec.server_drivers and index is not None \
                    and declares_any(index.root, spec.server_drivers, spec.server_extras) is False:
                backend = "sqlite"
            spec = spec if backend == "sqlite" else None
            pooled_since = spec.sqlite_file_pooled_since(constructor) if spec is not None else None
            if pooled_since is None:
                return False
            package, pooled_from, _ = release_window(pooled_since)
            assert index is not None
            if declared_versions(index.root, package).all_within((0,), pooled_from) is not True:
                return False
        return bool(engines)

    def _no_engine_serves(self, hold: Hold) -> bool:
        """Whether the hold is a synchronous session's (`db: Session`, `db.query(...)`) in a project whose
        every engine of the library is asynchronous (catalog `async-receivers`, `async-engines`;
        ProjectIndex.engines): no engine of the project can give it a connection, so the code path
        fails at its first query (an `AsyncSession` has no `query`) or is not run. A project that builds
        no engine the index sees, or any synchronous one, keeps the hold judged."""
        spec = self.catalog.synchronous_session(hold.session_type) if hold.session_type else None
        if spec is None:
            return False
        index = self.context.index
        engines = index.engines(hold.library) if index is not None else []
        return bool(engines) and all(constructor in spec.async_engines for constructor, _ in engines)

    def _pool_outlasts_a_process(self, library: str) -> bool:
        """Whether no process of the application serves more requests or tasks at once than a pool of
        `library` opens connections by default (python/processes.py: gunicorn's sync or gthread workers,
        prefork Celery workers, by the commands its deployment files run): a session that keeps its
        connection while it waits then keeps no other request from one. A pool sized below the
        library's default in code is not read."""
        default_pool = self.catalog.default_pool_size(library)
        index = self.context.index
        if index is None or default_pool is None:
            return False
        served = process_concurrency(index.root)
        return served is not None and served <= default_pool

    def _dependencies_close_before_streaming(self) -> bool:
        """Whether the project may run a release that closes the request's dependencies before a response
        streams (catalog `dependencies-closed-before-streaming`): it pins or locks one, or bounds it below
        the release that stopped; unknown counts as may."""
        index = self.context.index
        for window in self.catalog.guards.dependencies_closed_before_streaming:
            package, lowest, beyond = release_window(window)
            if beyond is None:
                raise ValueError(f"catalog `dependencies-closed-before-streaming`: not `package>=first,<beyond`: {window!r}")
            if index is None or declared_versions(index.root, package).all_within(lowest, beyond) is not False:
                return True
        return False

    def _judge_task_group_work(self, spawn: cst.Call) -> None:
        """`tg.create_task(fetch(url))`, `tg.start_soon(fetch, url)` in a task group (catalog `task-groups`)
        whose `async with` block is inside a hold: the group waits for its tasks when its block ends, so
        the work runs inside the hold. A group opened around the hold lets the hold end first."""
        func = spawn.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return
        group = self.qualified_name(func.value)
        if not group or not group.endswith("()") or group[:-2] not in self.catalog.guards.task_groups:
            return
        frames = self.context.frames
        name = func.value.value
        opened = next((i for i in range(len(frames) - 1, -1, -1) if isinstance(frames[i].node, cst.With) and any(
            isinstance(item.asname.name, cst.Name) and item.asname.name.value == name
            for item in frames[i].node.items if item.asname is not None)), None)
        if opened is None:
            return
        statement = frames[opened].node
        assert isinstance(statement, cst.With)
        group_item = next(i for i, item in enumerate(statement.items) if item.asname is not None
                          and isinstance(item.asname.name, cst.Name) and item.asname.name.value == name)
        positions = {id(frame.node): i for i, frame in enumerate(frames)}
        # a hold of an enclosing block, or of an earlier item of the group's own statement (`async with
        # self._uow() as uow, TaskGroup() as tg:`), which is entered before the group and left after it
        holds = [hold for hold in self._active_holds() if positions.get(id(hold.node), len(frames)) < opened
                 or (hold.node is statement and hold.item < group_item)]
        arguments = positional_arguments(spawn)
        if not holds or not arguments:
            return
        first = arguments[0].value
        work = first if isinstance(first, cst.Call) else cst.Call(func=first, args=tuple(arguments[1:]))
        self._judge(work, holds, reported_at=spawn,
                    waited=f"the task group opened on line {self.context.line_of(frames[opened].node)} waits for it")

    def _remember_task(self, spawn: cst.Call) -> None:
        """`task = asyncio.create_task(fetch(url))` or `tasks = [asyncio.create_task(f(u)) for u in urls]`
        inside a hold (catalog `task-starters`): awaited before the hold ends (visit_Await), the task's
        work runs inside it."""
        holds = self._active_holds()
        function = self.context.enclosing_function()
        statement = self.context.current_statement
        if not holds or function is None or not isinstance(statement, cst.Assign) or len(statement.targets) != 1 \
                or not isinstance(statement.targets[0].target, cst.Name):
            return
        value = statement.value
        if isinstance(value, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            value = value.elt
        arguments = positional_arguments(spawn)
        if value is not spawn or not arguments or not isinstance(arguments[0].value, cst.Call) \
                or self.qualified_name(spawn.func) not in self.catalog.guards.task_starters:
            return
        self._tasks[(id(function.node), statement.targets[0].target.value)] = (spawn, arguments[0].value, holds)

    def visit_Await(self, node: cst.Await) -> None:
        """`await task`, `await asyncio.gather(*tasks)`: the work of tasks started inside a hold that is still
        open runs inside it (_remember_task)."""
        if not self._tasks or self._background:
            return
        function = self.context.enclosing_function()
        if function is None:
            return
        awaited = node.expression
        names = [awaited] if isinstance(awaited, cst.Name) else []
        if isinstance(awaited, cst.Call) and self.qualified_name(awaited.func) in self.catalog.guards.task_waits:
            for arg in awaited.args:
                value = arg.value
                names.extend(value.elements if isinstance(value, (cst.List, cst.Set, cst.Tuple)) else [value])
        for name in names:
            name = name.value if isinstance(name, (cst.Element, cst.StarredElement)) else name
            key = (id(function.node), name.value) if isinstance(name, cst.Name) else None
            if key is None or key not in self._tasks:
                continue
            spawn, work, then = self._tasks.pop(key)
            holds = [hold for hold in self._active_holds() if any(hold is open_then for open_then in then)]
            if holds:
                self._judge(work, holds, reported_at=spawn,
                            waited=f"the task is awaited on line {self.context.line_of(node)}, inside the block")

    def _judge(self, node: cst.Call, holds: list[Hold], carried_from: Optional[cst.CSTNode] = None,
               reported_at: Optional[cst.Call] = None, waited: str = "", reached: Optional[Reached] = None) -> None:
        """Reports `node` when it waits on an external call while the chosen one of `holds` is open.
        `carried_from`: the loop whose previous iteration left the hold open (see leave_For).
        `reported_at`: the call that starts `node` as a task, reported instead (`node` may not be in the
        module: the callable a task group runs); `waited`: what waits for that task inside the hold;
        `reached`: what `node` waits on, when the caller knows it."""
        hold = self.choose(holds)
        if hold is None:
            return
        reached = reached or self._reached(node, MAX_CHAIN_DEPTH, frozenset())
        if reached is not None and not reached.publishes_task and (
                self._nobody_waits_on(hold.library) or self._no_engine_serves(hold)
                or (hold.implicit and self._pool_outlasts_a_process(hold.library))
                or self._runs_once() or self._only_administrators_call() or (reached.sleeps and self._keeps_a_lock(hold))):
            return
        if reached is not None:
            consequence = self.consequence(hold)
            flag = self._debug_flag(reported_at or node)
            if flag:
                consequence += f" (this branch runs only when `{flag}` holds: a debug or test setting)"
            if carried_from is not None:
                consequence += (f" (the {'`for`' if isinstance(carried_from, cst.For) else '`while`'} loop runs "
                                "this call again with the transaction its previous pass began still open)")
            if waited:
                consequence += f" ({waited})"
            self.report(reported_at or node, call=reached.display, kind=reached.kind, library=hold.library,
                        opener=hold.opener, line=self.context.line_of(hold.line_node), consequence=consequence,
                        related=_located(hold.related + reached.related))

    # -- loops that carry a session's transaction into their next pass ------------------------
    def visit_For(self, node: cst.For) -> None:
        self._loops.append((node, frozenset(self._sessions)))

    def visit_While(self, node: cst.While) -> None:
        self._loops.append((node, frozenset(self._sessions)))

    def leave_For(self, node: cst.For) -> None:
        self._leave_loop(node)

    def leave_While(self, node: cst.While) -> None:
        self._leave_loop(node)

    def _leave_loop(self, node: "cst.For | cst.While") -> None:
        """A session whose transaction a loop's body begins and never ends is still in that transaction
        when the body runs again: the calls before the begin wait inside it from the second pass on
        (`for chunk in chunks: vector = embed(chunk); session.execute(insert, vector)`, committed after
        the loop). A body that ends the transaction, hands the session to anything, binds its name anew
        or may leave the loop after the begin is not judged: which pass runs inside it would depend on
        the path taken."""
        if not self._loops or self._loops[-1][0] is not node:
            return  # its visit raised and pushed nothing: the loops around it keep their entries
        _, open_before = self._loops.pop()
        if self._background or self.context.is_test_file:
            return
        function = self.context.enclosing_function()
        if function is None:
            return
        carried = [(key, hold) for key, hold in self._sessions.items()
                   if key[0] == id(function.node) and key not in open_before and hold.implicit]
        if not carried:
            return
        calls = _BodyCalls(self._starts_in_background)
        cst_visit(node.body, calls)
        for (_, receiver), hold in carried:
            begin = next((i for i, call in enumerate(calls.found) if call is hold.line_node), None)
            if begin is None or receiver in calls.bound or any(exit > begin for exit in calls.exits) or any(
                    call is not hold.line_node and self._ends_or_hands_on(call, receiver) for call in calls.found):
                continue
            for call in calls.found[:begin]:
                if id(call) not in self._carried:
                    self._carried.add(id(call))
                    self._judge(call, [hold], carried_from=node)

    def _ends_or_hands_on(self, call: cst.Call, receiver: str, ends: Optional[frozenset[str]] = None) -> bool:
        """`session.commit()` (one of `ends`: by default the methods that end an implicit transaction),
        or `save(session)`, `pool.putconn(conn)`: the receiver handed to the call."""
        if ends is None:
            ends = self._implicit_end_methods()
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in ends and dotted_name(func.value) == receiver:
            return True
        return any(dotted_name(arg.value) == receiver for arg in call.args)

    def _runs_once(self) -> bool:
        """Whether the function holding the connection runs once per process (a script's `main()`, a
        command, a start-up hook) or is reached only from such code: one connection held once, while
        nothing else waits for the pool. A task publish is still reported (DBP203): the task may run
        before the commit however often the code runs. Nested functions and a worker's endless loop (`while True:`
        that nothing leaves, client_flow.is_endless) are not judged once; a batch loop that ends is."""
        functions = [frame for frame in self.context.frames if frame.is_function]
        if len(functions) != 1 or not isinstance(functions[0].node, cst.FunctionDef):
            return False
        if any(frame.is_loop and is_endless(frame.node) for frame in self.context.frames):
            return False  # a worker's `while True:` loop holds a connection for every job it takes
        return runs_once_per_process(self.context, functions[0].node, self.context.enclosing_class())

    def _only_administrators_call(self) -> bool:
        """Whether the handler holding the connection is one only administrators may call (roles.py
        _requires_an_administrator: `@staff_member_required`, `@permission_classes([IsAdminUser])`,
        `Depends(get_current_admin_user)`, a `ModelAdmin` method): a few operators hold a few connections
        at a time, however slow the call, as DBP101 reads the same handler. A periodic task is still
        judged: it holds its connection through the slow call on every tick, beside the traffic's."""
        frames = [frame for frame in self.context.frames if frame.is_function or isinstance(frame.node, cst.ClassDef)]
        outermost = next((i for i, frame in enumerate(frames) if frame.is_function), None)
        if outermost is None or not isinstance(frames[outermost].node, cst.FunctionDef):
            return False
        klass = frames[outermost - 1].node if outermost > 0 else None
        return function_role(self.context, frames[outermost].node, klass).administrators_only

    def _keeps_a_lock(self, hold: Hold) -> bool:
        """A hold that takes a session-level lock (`pg_try_advisory_lock`, MySQL's `GET_LOCK`), in its
        block or in a project function the block calls: the connection is held to keep the lock, and
        a sleep inside it (between tries) is the point. A call to another service made while the lock
        is held is still reported."""
        if hold.node not in self._lock_cache:
            block = self._lock_words(hold.node)
            self._lock_cache[hold.node] = block.found or any(
                callee is not None and self._lock_words(callee[0]).found
                for callee in map(self._project_function, block.calls))
        return self._lock_cache[hold.node]

    def _lock_words(self, node: cst.CSTNode) -> "_LockWords":
        catalog = self.catalog
        words = catalog.guards.advisory_lock_functions
        # compiled once per catalog, not once per block and callee scanned
        pattern = catalog.derived("advisory-lock-pattern", lambda: re.compile(
            r"(?i)\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\s*\(") if words else None)
        found = _LockWords(words, pattern)
        cst_visit(node, found)
        return found

    def _debug_flag(self, node: cst.Call) -> str:
        """The test of an enclosing `if` that reads a debug or test setting (`settings.DEBUG`), if any,
        when `node` is in its body (not its `else`).

        Such code still holds the connection where it runs; the message says so, for the reader to judge."""
        flagged = []
        for frame in self.context.enclosing(cst.If):
            branch = frame.node
            assert isinstance(branch, cst.If)
            test = _text(self.context, branch.test)
            if _DEBUG_SETTING.search(test):
                flagged.append((branch, test))
        if not flagged:
            return ""
        # positions render the whole module: asked only when a flag's branch may hold the call
        positions = self.context._positions()
        line = positions[node].start.line
        return next((test for branch, test in flagged if line <= positions[branch.body].end.line), "")

    def leave_Call(self, node: cst.Call) -> None:
        if self._background and self._background[-1] is node:
            self._background.pop()

    def choose(self, holds: list[Hold]) -> Optional[Hold]:
        """The hold this rule reports for, innermost first, or None."""
        raise NotImplementedError

    def consequence(self, hold: Hold) -> str:
        raise NotImplementedError

    # -- holds --------------------------------------------------------------------------
    def _pop(self, node: cst.CSTNode) -> None:
        while self._holds and self._holds[-1].node is node:
            self._holds.pop()

    def _active_holds(self) -> list[Hold]:
        """Holds the current node runs inside: none across a function or lambda only defined in the block."""
        frames = self.context.frames
        last_function = max((i for i, f in enumerate(frames) if f.is_function), default=-1)
        holds = [h for h in reversed(self._holds) if h.depth > last_function]
        if self._sessions and last_function >= 0:
            function = id(frames[last_function].node)
            holds += [h for (owner, _), h in self._sessions.items() if owner == function]
        return holds

    # -- implicit transactions (an SQLAlchemy Session from its first query to its commit) ------
    def _track_sqlite(self, node: cst.Call) -> None:
        """`engine = create_engine("sqlite://")`, then `session = Session(engine)` or
        `Local = sessionmaker(bind=engine)` and `session = Local()`: remembered in `_on_sqlite`."""
        statement = self.context.current_statement
        if isinstance(statement, cst.Assign) and statement.value is node and len(statement.targets) == 1 \
                and isinstance(statement.targets[0].target, cst.Name) and self._on_sqlite_value(node):
            self._on_sqlite.add((id(self.context.binding_frame().node), statement.targets[0].target.value))

    def _on_sqlite_value(self, expression: cst.BaseExpression) -> bool:
        """An engine on an in-memory SQLite database (the catalog's `in-memory-urls`), or a session or
        session factory built on one (`Session(engine)`, `sessionmaker(bind=create_engine("sqlite://"))`,
        `Local()`)."""
        if not isinstance(expression, cst.Call):
            return self._sqlite_name(expression)
        qualified = self.qualified_name(expression.func)
        spec = self.catalog.client_for(qualified)
        if spec is not None and spec.owns_pool:
            # the whole URL, a literal: an f-string or a constant could name a file, pooled like a server's
            first = expression.args[0] if expression.args and expression.args[0].keyword is None else None
            url = first.value.evaluated_value if first is not None and isinstance(first.value, cst.SimpleString) else None
            return isinstance(url, str) and spec.in_memory(url)
        if self._sqlite_name(expression.func):
            return True  # `Local()` of a factory on SQLite
        if qualified is None or self.catalog.implicit_transaction(f"{qualified}()") is None:
            return False  # not a session or a session factory
        bound = [arg.value for arg in expression.args if arg.keyword is None or arg.keyword.value == "bind"]
        return bool(bound) and self._on_sqlite_value(bound[0])

    def _sqlite_name(self, expression: cst.BaseExpression) -> bool:
        if not isinstance(expression, cst.Name) or not self._on_sqlite:
            return False
        frame = self.context.frame_binding(expression.value)
        return frame is not None and (id(frame.node), expression.value) in self._on_sqlite

    def _track_sessions(self, node: cst.Call) -> list[Hold]:
        """Begins and ends the sessions' transactions `node` begins or ends; returns the holds it ends only
        after it waited on an external call inside them (a helper handed the session that posts, then commits)."""
        self._track_sqlite(node)
        function = self.context.enclosing_function()
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return []
        if self._track_assigned_checkout(node, function):
            return []
        func = node.func
        if self._ends_a_checkout(node, function):
            return []
        if self._ends_a_shared_session(node, function):
            return []
        self._begins_a_shared_session(node, function)
        model_query = self._model_query(node)
        session_function = self._session_function(node)
        if session_function is not None and session_function[1]:
            self._end_session((id(function.node), session_function[0].model_session))  # `close_old_connections()`
            return []
        begun = model_query or (session_function[0] if session_function is not None else None)
        if begun is not None:
            key = (id(function.node), begun.model_session)
            if key not in self._sessions:
                self._sessions[key] = Hold(function.node, self._function_depth(function), False, begun.library,
                                           self._display(node), node, implicit=True, shared=begun.model_session,
                                           related=self._enabled_by(begun))
            return []
        if isinstance(func, cst.Attribute):
            receiver = dotted_name(func.value)
            qualified = self.qualified_name(func.value) if receiver else None
            spec = self._enabled(self.catalog.implicit_transaction(qualified))
            if spec is not None and receiver is not None:
                key = (id(function.node), receiver)
                if func.attr.value in spec.end_methods:
                    self._end_session(key)
                    if qualified is not None:  # and what its models' queries began (`User.query.get()`)
                        self._end_session((id(function.node), qualified))
                elif self._sqlite_name(func.value):
                    pass  # a session on in-memory SQLite: one connection per thread, nobody waits for it
                elif func.attr.value in spec.begin_methods and key not in self._sessions:
                    # a local or a parameter of this function is its own session, not the one every module shares
                    own = self.context.frame_binding(receiver.split(".")[0]) not in (None, self.context.frames[0])
                    self._sessions[key] = Hold(function.node, self._function_depth(function), False, spec.library,
                                               f"{receiver}.{func.attr.value}()", node, implicit=True,
                                               shared="" if own else qualified or "", session_type=qualified or "")
                return []
        ended_after_waiting: list[Hold] = []
        for position, arg in enumerate(node.args):  # a session handed to another function
            receiver = dotted_name(arg.value)
            if receiver is None or arg.star:
                continue
            spec = self._enabled(self.catalog.implicit_transaction(self.qualified_name(arg.value)))
            if spec is None or self._sqlite_name(arg.value):
                continue
            key = (id(function.node), receiver)
            effect = self._session_effect(node, position, arg, spec)
            if effect in ("end", "restart") and key in self._sessions \
                    and self._waits_before_ending(node, position, arg, spec):
                ended_after_waiting.append(self._sessions[key])
            if effect == "restart":  # it ends the transaction, then a query of its own begins the next
                self._end_session(key)
            if effect in ("begin", "restart") and key not in self._sessions:
                self._sessions[key] = Hold(function.node, self._function_depth(function), False, spec.library,
                                           f"{self._display(node)}", node, implicit=True,
                                           session_type=self.qualified_name(arg.value) or "")
            elif effect == "end":
                self._end_session(key)
            elif effect == "unknown":  # stay silent about what follows (a callee that does neither changes nothing)
                self._sessions.pop(key, None)
        return ended_after_waiting

    def _begins_a_shared_session(self, node: cst.Call, function: Frame) -> None:
        """`user = load_user(user_id)`, a project function that queries a session every module shares and
        leaves its transaction open (ProjectIndex.shared_sessions_left_open: `User.query.get()`,
        `db.session.get()`, a helper's helper at most): that transaction is open here after the call."""
        index = self.context.index
        if index is None:
            return
        left_open = index.shared_sessions_left_open(self.catalog)
        name = self._callee_name(node.func) if left_open else None
        for session in sorted(left_open.get(name, ())) if name else ():
            key = (id(function.node), session)
            spec = self.catalog.implicit_transaction(session)
            # a connection the framework keeps for the whole request (Django's pool) is kept whoever queried;
            # a session's transaction a helper leaves open, only with `session-helpers` (about one in six right)
            if key not in self._sessions and spec is not None and (spec.setting or self.context.settings.session_helpers):
                self._sessions[key] = Hold(function.node, self._function_depth(function), False, spec.library,
                                           self._display(node), node, implicit=True, shared=session,
                                           related=self._enabled_by(spec))

    def _enabled(self, spec: Optional[ImplicitTransactionSpec]) -> Optional[ImplicitTransactionSpec]:
        """`spec`, unless it is a hold the project's settings do not enable (Django's pool switched off)."""
        index = self.context.index
        if spec is None or not spec.setting:
            return spec
        return spec if index is not None and index.holds_enabled(spec) else None

    def _session_function(self, node: cst.Call) -> Optional[tuple[ImplicitTransactionSpec, bool]]:
        """The hold a library function begins or ends on the session every module shares, where enabled,
        and whether it ends it: `get_object_or_404(Document, pk=pk)`, `close_old_connections()` of Django
        with its pool on."""
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            return None
        found = self.catalog.session_function(self.qualified_name(node.func))
        return found if found is not None and self._enabled(found[0]) is not None else None

    def _enabled_by(self, spec: ImplicitTransactionSpec) -> Related:
        """Where the project's settings enable the hold `spec` describes, to show beside the finding."""
        index = self.context.index
        site = index.hold_setting_site(spec) if index is not None else None
        if site is None:
            return ()
        path, line = site
        return (Location(display_path(index.root / path), line, 1,
                         f"`{spec.setting}` makes {spec.library} keep a connection until {spec.held_until}"),)

    def _callee_name(self, func: cst.BaseExpression) -> Optional[str]:
        """The qualified name of the project function or method a call's function names: an import or a
        module function (`load_user`, `services.load_user`), a class's method (`Setting.get_value`), or
        the enclosing class's own (`self.load()`)."""
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
            klass = self.context.enclosing_class()
            return f"{self.context.module_qualified(klass.name.value)}.{func.attr.value}" if klass is not None else None
        qualified = self.qualified_name(func)
        return qualified if qualified and "(" not in qualified else None

    def _model_query(self, node: cst.Call) -> Optional[ImplicitTransactionSpec]:
        """The implicit transaction whose session `node` queries through a model class's attribute:
        `User.query.get(1)`, `User.query.filter_by(name=name).first()` of a Flask-SQLAlchemy model
        (ProjectIndex.library_model). A lazy query method (`filter_by`) as the last call runs nothing."""
        func = node.func
        index = self.context.index
        if not isinstance(func, cst.Attribute) or index is None or not self.catalog.model_bases():
            return None
        methods = [func.attr.value]
        query = func.value
        while isinstance(query, cst.Call) and isinstance(query.func, cst.Attribute):
            methods.append(query.func.attr.value)
            query = query.func.value
        if not isinstance(query, cst.Attribute):
            return None
        if not self.catalog.runs_model_query(query.attr.value, methods):
            return None
        base = index.library_model(self.qualified_name(query.value), self.catalog)
        return self.catalog.model_query(base, query.attr.value) if base is not None else None

    def _ends_a_shared_session(self, node: cst.Call, function: Frame) -> bool:
        """`reset_user_dict()`, a project function that commits, rolls back or closes a session every module
        shares (Flask-SQLAlchemy's `db.session`, a module's registry): the transaction this function's
        queries began on it ends there. A session this function binds itself (a local, a parameter) is
        another object than the one the callee names, whatever both are typed as."""
        shared = {hold.shared: key for key, hold in self._sessions.items()
                  if key[0] == id(function.node) and hold.shared}
        callee = self._project_function(node) if shared else None
        if callee is None:
            return False
        callee_function, _, callee_context = callee
        ends = self._implicit_end_methods()

        def ended(function: cst.FunctionDef, nested: bool) -> set[str]:
            found = set()
            for call in calls_in(function.body):
                # `connections.close_all()` gives back the connection every module shares (end-functions)
                by_function = self.catalog.session_function(self.qualified_name(call.func)) \
                    if isinstance(call.func, (cst.Name, cst.Attribute)) else None
                if by_function is not None and by_function[1]:
                    found.add(by_function[0].model_session)
                elif isinstance(call.func, cst.Attribute) and call.func.attr.value in ends:
                    qualified = self.qualified_name(call.func.value)
                    if qualified:
                        found.add(qualified)
                elif not nested and shared.keys() & self.catalog.setting_kept_sessions() \
                        and (inner := self._project_function(call)) is not None:
                    # a helper of its own that gives the framework's connection back around the slow part
                    # (`with db_connection_released():` calling `connections.close_all()`)
                    inner_function, _, inner_context = inner
                    found |= self._in_context(inner_context, lambda: ended(inner_function, True))
            return found

        found = self._in_context(callee_context, lambda: ended(callee_function, False)) & shared.keys()
        for qualified in found:
            del self._sessions[shared[qualified]]
        return bool(found)

    def _implicit_end_methods(self) -> frozenset[str]:
        """The methods that end a session's implicit transaction (`commit`, `rollback`, `close`)."""
        return self.catalog.derived("implicit-transaction-end-methods", lambda: frozenset(
            m for spec in self.catalog.implicit_transactions for m in spec.end_methods))

    def _track_assigned_checkout(self, node: cst.Call, function: Frame) -> bool:
        """`conn = pool.getconn()`, `conn = await pool.acquire()`, `conn = engine.connect()` outside a `with`:
        the connection is held from that statement until it is given back (`pool.putconn(conn)`,
        `conn.close()`) or handed to any call, which this rule cannot follow further (_ends_a_checkout
        ends it there, as _track_sessions ends a session's transaction)."""
        assigned = self._assigned_checkout(self.context.current_statement, node)
        if assigned is None:
            return False
        name, _, checkout = assigned
        if not any(self._gives_back(call, name) for call in calls_in(function.node.body)):
            return False  # never given back: DBP304's finding, not a hold with an end
        key = (id(function.node), name)
        self._sessions[key] = Hold(function.node, self._function_depth(function), False, checkout.library,
                                   f"{_text(self.context, node.func)}()", node)
        return True

    def _assigned_checkout(self, statement: Optional[cst.CSTNode], call: Optional[cst.Call] = None,
                           ) -> Optional[tuple[str, cst.Call, CheckoutSpec]]:
        """(name, call, checkout) of `conn = pool.getconn()` or `conn = await pool.acquire()` (of `call`,
        when given: the call being visited); None for any other statement."""
        if not (isinstance(statement, cst.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0].target, cst.Name)):
            return None
        value = statement.value.expression if isinstance(statement.value, cst.Await) else statement.value
        if call is not None and value is not call:
            return None
        checkout = self._checkout_method(value.func) if isinstance(value, cst.Call) else None
        return (statement.targets[0].target.value, value, checkout) if checkout is not None else None

    def _ends_a_checkout(self, node: cst.Call, function: Frame) -> bool:
        """`conn.close()` (a release method) of a connection _track_assigned_checkout holds, or any call it
        is handed to (`pool.putconn(conn)`, `pool.release(conn)`, or a function that may keep it)."""
        held = [key for key, hold in self._sessions.items() if key[0] == id(function.node) and not hold.implicit]
        if not held:
            return False
        ended = [key for key in held if self._gives_back(node, key[1])]
        for key in ended:
            del self._sessions[key]
        return bool(ended)

    def _gives_back(self, call: cst.Call, name: str) -> bool:
        """`name.close()` (a release method), or `name` handed to the call (`pool.putconn(conn)`)."""
        return self._ends_or_hands_on(call, name, self.catalog.guards.release_method_names)

    def _function_depth(self, function: Frame) -> int:
        return next(i for i, f in enumerate(self.context.frames) if f is function) + 1

    def _session_effect(self, call: cst.Call, position: int, arg: cst.Arg, spec, depth: int = 0) -> Optional[str]:
        """What a project function does with a session passed to it: "begin" (queries, never ends it),
        "end" (commits, rolls back or closes it), "restart" (ends it, then queries: `db.commit();
        db.refresh(message)` leaves the next transaction open), None (neither); "unknown" for any other callee. What it
        hands the session to counts as its own doing, a few calls deep (`check_quota(db_session=db)`
        that passes it to `fetch_provider(db_session)`, which queries): any end there ends it, any
        callee not known leaves it unknown. Answered once per call for both rules (a module's context
        is shared)."""
        effects = self.context.__dict__.setdefault("_session_effects", {})
        key = (call, position, depth)
        if key not in effects:
            effects[key] = self._judge_session_effect(call, position, arg, spec, depth)
        return effects[key]

    def _judge_session_effect(self, call: cst.Call, position: int, arg: cst.Arg, spec, depth: int) -> Optional[str]:
        if self.catalog.external_call(self.qualified_name(call.func)) is not None:
            return None
        callee = self._project_function(call)
        if callee is None:
            # an object of a project class built on it (`UserRepository(db)`) that never commits, rolls back
            # nor closes anything: whatever its methods do with the session, they leave its transaction be
            qualified = self.qualified_name(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
            klass = project_class(self.context, qualified, self.settings) \
                if qualified and "(" not in qualified else None
            return None if klass is not None and not self._may_end_sessions(klass[0]) else "unknown"
        function, _, context = callee
        name = _handed_parameter(function, position, arg)
        if name is None:
            return "unknown"
        return self._parameter_effect(function, context, name, spec, depth)

    def _waits_before_ending(self, call: cst.Call, position: int, arg: cst.Arg, spec) -> bool:
        """Whether the project function `call` hands the session to (as its argument `arg`) reaches an
        external call before its first call that ends that session, or may end it (hands it on to a callee
        that ends it or that poollint cannot read): `send_webhook(payload, db=db)` that posts, then logs the
        delivery and commits, posts inside the caller's transaction."""
        callee = self._project_function(call)
        if callee is None:
            return False
        function, klass, context = callee
        name = _handed_parameter(function, position, arg)
        if name is None:
            return False

        def may_end(node: cst.Call) -> bool:
            func = node.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name:
                return func.attr.value in spec.end_methods
            return any(isinstance(a.value, cst.Name) and a.value.value == name
                       and self._session_effect(node, p, a, spec, 1) in ("end", "restart", "unknown")
                       for p, a in enumerate(node.args))

        return self._in_context(context, lambda: self._reach_function(
            function, klass, MAX_CHAIN_DEPTH - 1, frozenset({id(function)}), stop=may_end)) is not None

    def _parameter_effect(self, function: cst.FunctionDef, context: FileContext, name: str, spec,
                          depth: int) -> Optional[str]:
        """What `function` (of the module of `context`) does with the session its parameter `name` holds,
        as _session_effect tells."""
        methods = _MethodsCalledOn(name)
        cst_visit(function, methods)
        ends = methods.found & set(spec.end_methods)
        if ends and _ends_on_every_path(function.body, name, ends):
            # `db.commit(); db.refresh(message); return message`: the query after the last end begins
            # the transaction the caller goes on with
            ended_at = [i for i, method in enumerate(methods.in_order) if method in ends]
            after = methods.in_order[ended_at[-1] + 1:] if ended_at else []
            if any(method in spec.begin_methods for method in after):
                return "restart"
            return "end"
        # ended on some paths only (`if root is None: ...; db.commit()`): on the others a transaction it
        # began, or the caller's, is still open when it returns
        effects = {"begin"} if methods.found & set(spec.begin_methods) else set()
        if methods.handed and depth >= MAX_CHAIN_DEPTH:
            return "unknown"
        for handed, handed_position, handed_arg in methods.handed:
            effects.add(self._in_context(context, lambda: self._session_effect(
                handed, handed_position, handed_arg, spec, depth + 1)))
        for effect in ("end", "unknown", "restart", "begin"):
            if effect in effects:
                return effect
        return None

    def _opened_by(self, item: cst.BaseExpression, node: cst.With) -> Optional[Hold]:
        expression = item.expression if isinstance(item, cst.Await) else item
        line = node
        with_object = self.catalog.with_object_transaction(self.qualified_name(expression))
        if with_object is not None:
            return Hold(node, len(self.context.frames), True, with_object.library,
                        f"with {_text(self.context, expression)}", line, with_object.timeout)
        if not isinstance(expression, cst.Call):
            return None
        method_scope = self._project_method_scope(expression)
        if method_scope is not None:
            # `self._db_pool.connection()` of a project class whose method opens the hold: its own
            # checkout says which library, not the method's name (`connection`, `transaction`)
            return replace(method_scope, node=node, depth=len(self.context.frames), line_node=line,
                           opener=f"{_text(self.context, expression.func)}() -> {method_scope.opener}")
        spec = self._transaction_function(expression.func) or self._transaction_method(expression.func)
        checkout = self._checkout_method(expression.func) if spec is None else None
        if spec is None and checkout is None:
            scope = self._project_scope(expression)
            if scope is None:
                return None
            return replace(scope, node=node, depth=len(self.context.frames), line_node=line,
                           opener=f"{_text(self.context, expression.func)}() -> {scope.opener}")
        opener = f"{_text(self.context, expression.func)}()"
        if spec is not None:
            timeout = spec.timeout
            if timeout and any(arg.keyword is not None and arg.keyword.value == "timeout" for arg in expression.args):
                timeout = "configured"
            return Hold(node, len(self.context.frames), True, spec.library, opener, line, timeout)
        assert checkout is not None
        return Hold(node, len(self.context.frames), False, checkout.library, opener, line)

    def _transaction_function(self, target: cst.BaseExpression) -> Optional[TransactionSpec]:
        return self.catalog.transaction_function(self.qualified_name(target))

    def _transaction_method(self, target: cst.BaseExpression) -> Optional[TransactionSpec]:
        if not isinstance(target, cst.Attribute):
            return None
        found = self._receiver_spec(target.value, self.catalog.transaction_specs(target.attr.value))
        return found if isinstance(found, TransactionSpec) else None

    def _checkout_method(self, target: cst.BaseExpression) -> Optional[CheckoutSpec]:
        if not isinstance(target, cst.Attribute):
            return None
        found = self._receiver_spec(target.value, self.catalog.checkout_specs(target.attr.value))
        return found if isinstance(found, CheckoutSpec) else None

    def _receiver_spec(self, receiver: cst.BaseExpression, specs: tuple[Spec, ...]) -> Optional[Spec]:
        """The spec whose library the receiver belongs to.

        Known origin first: the receiver was built by (or annotated as) one of the spec's
        receivers or its library's client constructors. A receiver known to come from
        anything else is not a database object. An unknown receiver (a parameter without
        annotation, an attribute, an import from the project) is judged by its name and the
        name of whatever built it, in a project that imports a database library.
        """
        if not specs:
            return None
        qualified = self.qualified_name(receiver)
        root = qualified.split("(")[0] if qualified else None
        if root is not None:
            for spec in specs:
                if root in self.catalog.receivers_of(spec):
                    return spec
            if "(" in (qualified or "") and self._is_known_origin(root):
                return None
        built_by = root.rsplit(".", 1)[-1] if root and "(" in (qualified or "") else None
        names = [n for n in (_last_name(receiver), built_by) if n]
        for spec in specs:
            if not spec.receiver_names or not self._imports_database_library(receiver):
                continue
            if any(fnmatch.fnmatchcase(n.lower(), p.lower()) for n in names for p in spec.receiver_names):
                return spec
        return None

    def _is_known_origin(self, root: str) -> bool:
        """Built by a catalog constructor of another kind (an HTTP client, another library's pool)."""
        catalog = self.catalog
        return (
            catalog.client_for(root) is not None or catalog.external_client(root) is not None
            or any(root in catalog.receivers_of(s) for s in (*catalog.transactions, *catalog.checkouts))
        )

    def _imports_database_library(self, receiver: cst.BaseExpression) -> bool:
        """Whether a database library is imported where `receiver` comes from (see
        FileContext.imported_packages)."""
        catalog = self.catalog
        packages = catalog.derived("database-packages", lambda: frozenset(
            name.split(".")[0]
            for spec in (*catalog.transactions, *catalog.checkouts) if spec.methods
            for name in catalog.receivers_of(spec)
        ))
        return bool(packages & self.context.imported_packages(receiver))

    # -- calls ----------------------------------------------------------------------------
    def _starts_in_background(self, node: cst.Call) -> bool:
        qualified = self.qualified_name(node.func)
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else None
        return self.catalog.is_background(qualified, method) or (
            qualified is not None and qualified in self.catalog.after_commit_functions()
        )

    def _reached(self, node: cst.Call, depth: int, seen: frozenset[int],
                 caller_unset: frozenset[str] = frozenset()) -> Optional[Reached]:
        """The external call `node` makes, directly or through project functions (current scope's names).
        `caller_unset`: the parameters of the function `node` is in that its own caller left false, which
        count as false where `node` passes them on (`lock_context(key, use_lock=use_lock)`)."""
        qualified = self.qualified_name(node.func)
        if is_logging_call(node, qualified, self.catalog.guards):
            return None
        spec = self._external_spec(node, qualified)
        if spec is not None:
            duration = _literal_duration(spec, node)
            if duration is not None and duration < spec.shortest_wait:
                return None  # `asyncio.sleep(0)`, `asyncio.sleep(0.01)`: a yield, not a wait
            if spec.publishes_task != self.reports_task_publishes:
                return None
            if spec.publishes_task and (self._publish_deferred(node) or self._project_task_system(node)):
                return None
            direct = self.catalog.external_function(qualified) is spec
            display = self._display(node)
            return Reached((display,), _describe(spec, node, direct), spec.publishes_task,
                           self._site(node, f"`{display}` waits here"), sleeps=spec.kind == "sleep")
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else None
        if self.catalog.is_offload(qualified, method):
            return self._offloaded(node, depth, seen, caller_unset)
        if depth <= 0:
            return None
        return self._through_project(node, node, depth, seen, caller_unset)

    def _offloaded(self, node: cst.Call, depth: int, seen: frozenset[int],
                   caller_unset: frozenset[str]) -> Optional[Reached]:
        """What a call that runs its callable argument in a thread and waits for it waits on: a library
        call (`await asyncio.to_thread(requests.get, url)`), a project function, called with the
        arguments after it (`to_thread(sync_order, order_id)`, `loop.run_in_executor(None, embed, text)`),
        or a lambda's call (`to_thread(lambda: client.embed(text))`)."""
        positional = positional_arguments(node)
        for position, arg in enumerate(positional):
            argument = self.qualified_name(arg.value)
            spec = self.catalog.external_call(argument)
            if spec is not None:
                reached = Reached((self._display(node), f"{_text(self.context, arg.value)}()"),
                                  _describe(spec, None, self.catalog.external_function(argument) is spec),
                                  spec.publishes_task)
                return self._wanted(reached)
            if isinstance(arg.value, cst.Lambda) and isinstance(arg.value.body, cst.Call):
                inner = self._reached(arg.value.body, depth, seen, caller_unset)
            elif depth > 0 and isinstance(arg.value, (cst.Name, cst.Attribute)):
                # the callable as if called with the arguments handed on after it
                as_called = cst.Call(func=arg.value, args=tuple(positional[position + 1:]))
                inner = self._through_project(as_called, node, depth, seen, caller_unset)
            else:
                continue
            if inner is not None:
                return Reached((self._display(node), *inner.chain), inner.kind, inner.publishes_task,
                               inner.related, inner.sleeps)
        return None

    def _through_project(self, call: cst.Call, node: cst.Call, depth: int, seen: frozenset[int],
                         caller_unset: frozenset[str]) -> Optional[Reached]:
        """The external call a project function reaches, called as `call` (`node` itself, or the callable
        an offload call hands on, as if called) at `node`."""
        callee = self._project_function(call, reaching_only=True)
        if callee is None or id(callee[0]) in seen:
            return None
        function, klass, context = callee
        # a generator: handed on (`Response(stream())`), its body runs after this code; iterated here by
        # its statement (`list(rows())`) or by the loop or comprehension it heads (`for row in rows():`)
        places = (self.context.current_statement, self.context.frames[-1].node if self.context.frames else None)
        if runs_when_iterated(context, function) and not any(iterated_in(place, node) for place in places):
            return None
        unset = _flags_left_unset(function, klass, call, caller_unset)
        if context is self.context:
            inner = self._reach_function(function, klass, depth - 1, seen | {id(function)}, unset)
        else:
            inner = self._in_context(context, lambda: self._reach_function(
                function, klass, depth - 1, seen | {id(function)}, unset))
        if inner is None:
            return None
        return Reached((self._display(call), *inner.chain), inner.kind, inner.publishes_task,
                       self._site(node, f"calls `{self._display(call)}`") + inner.related, inner.sleeps)

    def _wanted(self, reached: Reached) -> Optional[Reached]:
        return reached if reached.publishes_task == self.reports_task_publishes else None

    def _external_spec(self, node: cst.Call, qualified: Optional[str]) -> Optional[ExternalCallSpec]:
        spec = self.catalog.external_call(qualified)
        if spec is None and qualified is not None and "()." in qualified:
            spec = self.catalog.external_call(self._through_kept_client(qualified))
        if spec is not None or not isinstance(node.func, cst.Attribute):
            return spec
        method, receiver = node.func.attr.value, node.func.value
        spec = self.catalog.external_method(method)
        if spec is None and self._is_task_function(receiver):
            spec = self.catalog.task_method(method)
        if spec is None:
            name = _last_name(receiver)
            receiver_origin = self.qualified_name(receiver) or ""
            if name and not ("(" in receiver_origin and self._is_known_origin(receiver_origin.split("(")[0])):
                spec = self.catalog.external_by_receiver_name(method, name, self.context.imports.values())
        return spec

    def _through_kept_client(self, qualified: str) -> Optional[str]:
        """`openai.OpenAI().chat.completions.create` for `app.agents.Runner().llm.chat.completions.create`
        (`runner.llm.chat.completions.create()` of `runner = Runner()`): a call on what the project class's
        `__init__` keeps on `self.llm`, when that is an external client of the catalog, read from outside
        the class as `self.llm` is read in its methods. Only classes the index knows to call something
        (an `__init__` building the client does), so that an ordinary `Foo().bar()` parses nothing."""
        built, _, rest = qualified.partition("().")
        attribute, _, tail = rest.partition(".")
        index = self.context.index
        if not tail or "(" in built or index is None or not index.calls_something(built):
            return None
        found = project_class(self.context, built, self.settings)
        if found is None:
            return None
        klass, context = found
        kept = context.kept_on(klass, attribute)
        return f"{kept}.{tail}" if context.is_external_client(kept) else None

    def _publish_deferred(self, node: cst.Call) -> bool:
        """`task.delay()` of a task whose base class defers the publish to after the commit.

        Celery's `delay()` calls `apply_async()`: a base that overrides `apply_async` defers both.
        """
        func = node.func
        if not isinstance(func, cst.Attribute) or not self._is_task_function(func.value):
            return False
        assert isinstance(func.value, cst.Name)
        task = self.context.module_functions[func.value.value]
        methods = {func.attr.value, "apply_async"}
        for decorator in task.decorators:
            if not isinstance(decorator.decorator, cst.Call):
                continue
            for arg in decorator.decorator.args:
                if arg.keyword is not None and arg.keyword.value == "base" and isinstance(arg.value, cst.Name):
                    base = self.context.module_classes.get(arg.value.value)
                    if base is not None and self._defers_to_commit(base, methods):
                        return True
        return False

    def _defers_to_commit(self, klass: cst.ClassDef, methods: set[str]) -> bool:
        """A method of `klass` named in `methods` hands its work to an after-commit hook."""
        after_commit = self.catalog.after_commit_functions()
        for statement in klass.body.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value in methods:
                calls = _Calls()
                cst_visit(statement, calls)
                if any(self.qualified_name(call.func) in after_commit for call in calls.found):
                    return True
        return False

    def _display(self, node: cst.Call) -> str:
        return f"{_text(self.context, node.func)}()"

    def _project_task_system(self, node: cst.Call) -> bool:
        """`handle_event.delay()` on a project function whose decorator is the project's own (`from
        app.dispatch import task`): what its `delay()` does (a broker, a `pg_notify` sent at commit, a
        thread) is the project's, not known to be a publish before the commit."""
        func = node.func
        receiver = func.value if isinstance(func, cst.Attribute) else None
        index = self.context.index
        if receiver is None or index is None:
            return False
        qualified = self.qualified_name(receiver)
        if not qualified or "(" in qualified:
            return False
        found = project_definition(index, qualified, self.settings, current=self.context)
        if found is None or not isinstance(found[0], cst.FunctionDef):
            return False
        definition, context = found
        for decorator in definition.decorators:
            name = context.qualified_name(decorator_target(decorator)[0])
            # a function or class the project defines (not `app.task` of a Celery app a module builds)
            if name and "(" not in name and project_definition(index, name, self.settings) is not None:
                return True
        return False

    def _is_task_function(self, node: cst.BaseExpression) -> bool:
        """A function of this module decorated as a task (`@dramatiq.actor`, `@app.task`)."""
        if not isinstance(node, cst.Name):
            return False
        function = self.context.module_functions.get(node.value)
        if function is None or self.context.lookup(node.value) != self.context.module_qualified(node.value):
            return False
        return function_role(self.context, function, None).per_call == "a task"

    def _project_function(self, node: cst.Call, reaching_only: bool = False,
                          ) -> Optional[tuple[cst.FunctionDef, Optional[cst.ClassDef], FileContext]]:
        """The project function `node` calls, its class and its module's context: a function of this
        module, a method of the enclosing class via `self.`, or a function of another project module.
        `reaching_only`: another module's function or a project class's method only when the index's
        call summaries say some project callable of its name may reach an external call (the screen's
        own judgement, ProjectIndex.reaching_names); the others' modules are not parsed for nothing."""
        func = node.func
        if isinstance(func, cst.Name):
            function = self.context.module_functions.get(func.value)
            if function is not None and self.context.lookup(func.value) == self.context.module_qualified(func.value):
                return function, None, self.context
        elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
            index = self.context.index
            for frame in self.context.enclosing(cst.ClassDef):
                assert isinstance(frame.node, cst.ClassDef)
                # the class's own method; an inherited one only when some project callable of that name
                # may reach an external call (its base's module is parsed for it)
                inherits = index is not None and index.may_reach_by_name(func.attr.value)
                return class_method(self.context, frame.node, func.attr.value, self.settings, inherited=inherits)
            return None
        index = self.context.index
        qualified = self.qualified_name(func)
        if reaching_only and index is not None:
            # by the name it resolves to: `from .tasks import dispatch as redis_dispatch` calls `dispatch`
            name = qualified.rsplit(".", 1)[-1] if qualified else _last_name(func)
            if not index.may_reach_by_name(name or ""):
                return None
        found = self._other_module_definition(qualified)
        if found is not None and isinstance(found[0], cst.FunctionDef):
            return found[0], None, found[1]
        return self._project_method(func)

    def _project_method(self, func: cst.BaseExpression) -> Optional[tuple[cst.FunctionDef, cst.ClassDef, FileContext]]:
        """A method called on an instance of a project class: `NominatimService().reverse()`, or
        `service.reverse()` after `service = NominatimService()`; or a classmethod or staticmethod
        called on the class itself (`Geography.locate(lat, lon)`)."""
        if not isinstance(func, cst.Attribute):
            return None
        qualified = self.qualified_name(func.value) or ""
        on_class = bool(qualified) and "(" not in qualified
        called = qualified if on_class else called_for(qualified)
        if called is None:
            return None
        found = project_class(self.context, called, self.settings)
        if found is None and not on_class:
            returned = self._returned_class(called)
            found = project_class(self.context, returned, self.settings) if returned else None
        if found is None:
            return None
        klass, context = found
        for statement in klass.body.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == func.attr.value:
                if on_class and not any(isinstance(d.decorator, cst.Name) and d.decorator.value in (
                        "classmethod", "staticmethod") for d in statement.decorators):
                    return None  # `Model.method(instance)`: its `self.` calls depend on the instance
                return statement, klass, context
        return None

    def _returned_class(self, qualified: str) -> Optional[str]:
        """The class a project function is annotated to return (`def get_worker() -> Optional[Worker]`),
        as its own module names it (FileContext._type_of), or, without an annotation, the class every
        `return` gives an object of (`return Worker()`, a lazy singleton: FileContext.returned_instance):
        what `get_worker().embed()` calls a method of."""
        found = project_function(self.context, qualified, self.settings)
        if found is None:
            return None
        function, context = found
        if function.returns is None:
            return self._in_context(context, lambda: context.returned_instance(function))
        annotation = function.returns.annotation
        return self._in_context(context, lambda: context._type_of(annotation))

    def _other_module_definition(self, qualified: Optional[str]) -> Optional[tuple[cst.CSTNode, FileContext]]:
        """A top-level function or class of another project module that a callee resolving to `qualified`
        names."""
        index = self.context.index
        if index is None or not qualified or "(" in qualified:
            return None
        found = project_definition(index, qualified, self.settings, current=self.context)
        if found is None or found[1].module_name == self.context.module_name:
            return None
        return found

    # -- scopes the project defines ---------------------------------------------------------
    def _project_scope(self, call: cst.Call) -> Optional[Hold]:
        """The hold a project context manager opens for its caller's block: a `@contextmanager` function
        that yields inside a transaction or checkout, or a class whose `__enter__` opens a transaction."""
        definition: Optional[cst.CSTNode] = None
        context = self.context
        if isinstance(call.func, cst.Name) and \
                self.context.lookup(call.func.value) == self.context.module_qualified(call.func.value):
            definition = self.context.module_functions.get(call.func.value) or \
                self.context.module_classes.get(call.func.value)
        if definition is None:
            found = self._other_module_definition(self.qualified_name(call.func))
            if found is None:
                # `self._uow()` of an object whose `__call__` builds a project class: that class's scope
                built_class = called_for(self.qualified_name(call))
                found = project_class(self.context, built_class, self.settings) if built_class else None
            if found is None:
                return None
            definition, context = found
        key = id(definition)
        if key not in self._scope_cache:
            self._scope_cache[key] = None  # a scope that uses itself ends here
            self._scope_cache[key] = self._in_context(context, lambda: self._scope_of(definition))
        return self._scope_cache[key]

    def _project_method_scope(self, call: cst.Call) -> Optional[Hold]:
        """The hold a context-manager method of a project class opens for its caller's block, when the
        call is on an instance of that class (`async with self._db_pool.connection() as conn:`)."""
        if not isinstance(call.func, cst.Attribute):
            return None
        found = self._project_method(call.func)
        if found is None:
            return None
        method, klass, context = found
        key = id(method)
        if key not in self._scope_cache:
            self._scope_cache[key] = None  # a scope that uses itself ends here

            def judge() -> Optional[Hold]:
                context.frames = [context.frames[0], Frame(klass)]  # `self.` is the method's class
                return self._scope_of(method)
            self._scope_cache[key] = self._in_context(context, judge)
        return self._scope_cache[key]

    def _scope_of(self, definition: cst.CSTNode) -> Optional[Hold]:
        if isinstance(definition, cst.FunctionDef):
            names = {self.qualified_name(decorator_target(d)[0]) for d in definition.decorators}
            if not names & self.catalog.guards.context_manager_decorators:
                return None
            scan = _ScopeScan(self, definition)
            cst_visit(definition, scan)
            return scan.found
        if isinstance(definition, cst.ClassDef):
            for statement in definition.body.body:
                if isinstance(statement, cst.FunctionDef) and statement.name.value in ("__enter__", "__aenter__"):
                    scan = _ScopeScan(self, statement, opened_in_body=True)
                    cst_visit(statement, scan)
                    if scan.found is not None:
                        return scan.found
            return self._connection_scope(definition)
        return None

    def _connection_scope(self, definition: cst.ClassDef) -> Optional[Hold]:
        """`with DBConn() as conn:` where `__enter__` opens a connection that is a transaction in a `with`
        of its own (`psycopg2.connect()`, directly or through a project function that returns one) and
        `__exit__` ends that transaction (`self.conn.commit()`): the caller's block is the transaction."""
        methods = {s.name.value: s for s in definition.body.body if isinstance(s, cst.FunctionDef)}
        enter = methods.get("__enter__") or methods.get("__aenter__")
        leave = methods.get("__exit__") or methods.get("__aexit__")
        if enter is None or leave is None:
            return None
        ends = {node.func.attr.value for node in calls_in(leave.body) if isinstance(node.func, cst.Attribute)}
        index = self.context.index
        for call in calls_in(enter.body):
            built = self.qualified_name(call)
            spec = self.catalog.with_object_transaction(built)
            if spec is None and index is not None:
                opened = index.opened_by(self.qualified_name(call.func))
                spec = self.catalog.with_object_transaction(f"{opened}()" if opened else None)
            if spec is not None and ends & set(spec.end_methods):
                opener = f"{_text(self.context, call.func)}()"
                return Hold(call, 0, True, spec.library, opener, call, spec.timeout,
                            self._site(call, f"`{opener}` opens the connection whose transaction `__exit__` ends"))
        return None

    def _in_context(self, context: FileContext, work):
        """Runs `work` with another module's context (or this one's from its top) as the rule's own."""
        own = self.context
        saved = own.frames, own.current_statement
        self.context = context
        context_saved = context.frames, context.current_statement
        context.frames = [context.frames[0]]
        try:
            return work()
        finally:
            context.frames, context.current_statement = context_saved
            self.context = own
            own.frames, own.current_statement = saved

    def _site(self, node: cst.CSTNode, message: str) -> tuple[Site, ...]:
        """A related location when `node` is in another module than the file reported on."""
        if self.context is self._own_context:
            return ()
        return (Site(self.context, node, message),)

    def _reach_function(self, function: cst.FunctionDef, klass: Optional[cst.ClassDef], depth: int,
                        seen: frozenset[int], unset: frozenset[str] = frozenset(),
                        stop: Optional[Callable[[cst.Call], bool]] = None) -> Optional[Reached]:
        """The first external call `function` reaches, in the order its body runs; with `stop`, only one
        reached before the first call `stop` accepts (not cached: the stop is the caller's)."""
        key = (id(function), depth, unset)
        if stop is None:
            if key in self._reach_cache:
                return self._reach_cache[key]
            self._reach_cache[key] = None  # a cycle ends here
        context = self.context
        saved = context.frames, context.current_statement
        context.frames = [context.frames[0]] + ([Frame(klass)] if klass is not None else [])
        try:
            scan = _BodyScan(self, function, depth, seen, unset, stop)
            cst_visit(function, scan)
        finally:
            context.frames, context.current_statement = saved
        if stop is None:
            self._reach_cache[key] = scan.found
        return scan.found


class _BodyScan(cst.CSTVisitor):
    """Walks one project function with the shared context's binding rules, in that function's own scope."""

    def __init__(self, rule: _HoldingRule, function: cst.FunctionDef, depth: int, seen: frozenset[int],
                 unset: frozenset[str] = frozenset(), stop: Optional[Callable[[cst.Call], bool]] = None) -> None:
        self.rule = rule
        self.function = function
        self.depth = depth
        self.seen = seen
        self.unset = unset  # parameters this call leaves false (`confirm_prompt=False` by default, `fetch=False`)
        self.stop = stop  # the scan ends, finding nothing more, at the first call this accepts
        self.stopped = False
        self.found: Optional[Reached] = None

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.found is not None or self.stopped:
            return False
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and node is not self.function:
            return False  # only defined here
        if node is self.function:
            self.rule.context.enter(node)
            return True
        if isinstance(node, cst.Decorator):
            return False
        self.rule.context.enter(node)
        if isinstance(node, cst.If) and self.unset and _requires_flag(node.test, self.unset):
            # `if confirm_prompt:` of a flag this call leaves false: only the test and the `else` run
            cst_visit(node.test, self)
            if node.orelse is not None and self.found is None:
                cst_visit(node.orelse, self)
            return False
        if isinstance(node, cst.Call):
            if self.stop is not None and self.stop(node):
                self.stopped = True
                return False
            if self.rule._starts_in_background(node):
                return False
            self.found = self.rule._reached(node, self.depth, self.seen, self.unset)
        return self.found is None

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.rule.context.leave(original_node)


class _ScopeScan(cst.CSTVisitor):
    """Finds the hold a project context manager is inside when it hands control to its caller.

    A generator context manager: a `yield` inside a transaction or checkout it opened (or under a
    transaction decorator). An `__enter__`: a transaction opened without a `with` of its own
    (`self._atomic = transaction.atomic(); self._atomic.__enter__()`), left open on return.
    """

    def __init__(self, rule: _HoldingRule, function: cst.FunctionDef, opened_in_body: bool = False) -> None:
        self.rule = rule
        self.function = function
        self.opened_in_body = opened_in_body
        self.holds: list[tuple[Optional[cst.With], Hold]] = []  # None: opened by a decorator
        self.with_items: set[int] = set()
        # connections a generator checks out by assignment (`conn = await pool.acquire()`), by name: one it
        # yields is its caller's until the generator resumes to give it back (`finally: pool.release(conn)`)
        self.checked_out: dict[str, Hold] = {}
        self.found: Optional[Hold] = None

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.found is not None:
            return False
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and node is not self.function:
            return False  # only defined here
        rule = self.rule
        assigned = rule._assigned_checkout(node) if isinstance(node, cst.Assign) and not self.opened_in_body else None
        if assigned is not None:
            name, value, checkout = assigned
            opener = f"{_text(rule.context, value.func)}()"
            self.checked_out[name] = Hold(value, 0, False, checkout.library, opener, value,
                                          related=rule._site(value, f"`{opener}` checks out the connection it yields"))
        if node is self.function:
            rule.context.enter(node)
            for decorator in self.function.decorators:
                expression = decorator.decorator
                target = expression.func if isinstance(expression, cst.Call) else expression
                spec = rule._transaction_function(target) or rule._transaction_method(target)
                if spec is not None:
                    self.holds.append((None, Hold(
                        node, 0, True, spec.library, f"@{_text(rule.context, expression)}", decorator, spec.timeout,
                        rule._site(decorator, "opens the transaction"))))
            return True
        if isinstance(node, cst.Decorator):
            return False
        rule.context.enter(node)
        if isinstance(node, cst.With):
            for item in node.items:
                expression = item.item.expression if isinstance(item.item, cst.Await) else item.item
                self.with_items.add(id(expression))
                hold = rule._opened_by(item.item, node)
                if hold is not None:
                    self.holds.append((node, replace(hold, related=hold.related + rule._site(
                        node, f"`{hold.opener}` opens the {'transaction' if hold.is_transaction else 'checkout'}"))))
        elif isinstance(node, cst.Yield) and self.holds and not self.opened_in_body:
            self.found = self.holds[-1][1]
        elif isinstance(node, cst.Yield) and isinstance(node.value, cst.Name) and node.value.value in self.checked_out:
            self.found = self.checked_out[node.value.value]
        elif isinstance(node, cst.Call) and self.opened_in_body and id(node) not in self.with_items:
            spec = rule._transaction_function(node.func) or rule._transaction_method(node.func)
            if spec is not None:
                opener = f"{_text(rule.context, node.func)}()"
                self.found = Hold(node, 0, True, spec.library, opener, node, spec.timeout,
                                  rule._site(node, f"`{opener}` opens the transaction"))
        return self.found is None

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if self.holds and self.holds[-1][0] is original_node:
            self.holds.pop()
        self.rule.context.leave(original_node)


class ExternalCallInTransaction(_HoldingRule):
    """Flags an external call made while a transaction holds a connection."""

    code = "DBP201"
    name = "external-call-in-transaction"
    message = "{call} ({kind}) runs inside the {library} transaction `{opener}` opened on line {line}: {consequence}"
    fix_hint = (
        "Move the call before the transaction or after it commits (Django: transaction.on_commit; "
        "or write an outbox row in the transaction and make the call from a worker)"
    )
    rationale = """
        A transaction keeps one pooled connection checked out, and its locks taken, until it
        commits. An HTTP request, a sleep, an e-mail, a subprocess, an object-storage transfer, an
        LLM completion, a chat bot's API call (aiogram, python-telegram-bot, pyTelegramBotAPI), a call
        on a gRPC stub (`orders_pb2_grpc.OrdersStub(channel).Reserve(request)`), the run of a compiled
        agent graph (LangGraph's `graph.invoke()`, every LLM call and tool of the run) or
        another cloud API call inside it parks that connection for the whole
        wait: under load every connection of the pool waits on the slow service, and new requests
        time out (Prisma `P2024`, SQLAlchemy `QueuePool limit ... reached`). A Prisma interactive
        transaction also has a 5 s default timeout: a slow call makes it roll back. The message
        says how long the wait may be: an HTTP request without a timeout, a sleep of N s, an LLM
        completion. Publishing a task to a broker is a short round trip with another risk (the task
        may run before the commit): that is DBP203, opt-in.

        Code that runs once per process is left alone: a script's `main()`, a command, a start-up
        hook, and functions reached only from them (in any module). It holds one connection, once,
        while nothing else waits for the pool. A worker's endless loop there (a `while True:` taking
        jobs, which no `break` or `return` leaves) holds it for job after job for as long as the worker
        lives, and is reported; a batch loop that ends (over rows, until none is left) is not. So is a
        handler only administrators may call (as DBP101 reads it: `@staff_member_required`,
        `@permission_classes([IsAdminUser])`, `Depends(get_current_admin_user)`, a `ModelAdmin`
        method): a few operators hold a few connections at a time, however slow the call. A
        periodic task is still reported: it holds its connection through the call on every tick,
        beside the traffic's. DBP202 follows the same rule.

        Fixes by library: make the call before the transaction starts or after its block ends
        (Prisma `async with db.tx()`, SQLAlchemy `with engine.begin()`/`session.begin()`, asyncpg and
        psycopg `conn.transaction()`, peewee `db.atomic()`, Tortoise `in_transaction()`, databases
        `database.transaction()`); for a decorated view or function, narrow `@transaction.atomic` /
        `@atomic()` to a `with` block around the writes only. Django: register the call with
        `transaction.on_commit(lambda: ...)`; Celery: `transaction.on_commit(lambda: task.delay(...))`
        or `task.delay_on_commit(...)`. When the call must happen exactly once with the commit, write
        an outbox row in the transaction and let a worker make the call (transactional outbox).

        Transactions: Prisma `db.tx()`; SQLAlchemy `engine.begin()`, `conn.begin()`,
        `session.begin()`, `Session.begin()` of a sessionmaker, `begin_nested()`; asyncpg and
        psycopg `conn.transaction()` and `with psycopg.connect()`; psycopg2 `with conn:`;
        Django `transaction.atomic()` as a context manager or decorator; peewee `db.atomic()`;
        Tortoise `in_transaction()` and `@atomic()`; databases `database.transaction()`.
        Django's `"ATOMIC_REQUESTS": True` (literally `True`, in a module-scope `DATABASES` of any
        settings module) runs every view the project's URLconfs route in one transaction: a
        function passed to `path()`/`re_path()` (through wrappers such as `login_required(...)`),
        the handler methods (`get`, `post`, ..., `list`, `create`, ...) and `@action` methods of a
        class routed with `.as_view()` or registered on a REST framework router. Async views and
        views marked `@transaction.non_atomic_requests` (a class view: on the class through
        `method_decorator(..., name="dispatch")`, or on its `dispatch`) are not. A module holding such views is analysed whole.
        A project context manager is a transaction too: a `@contextmanager`/`@asynccontextmanager`
        function that yields inside one (`with locked_job(id) as job:`) or yields a connection it
        checked out by assignment (`conn = await pool.acquire(); try: yield conn; finally: await
        pool.release(conn)`), or a class whose
        `__enter__` opens one, or opens a connection (psycopg2, psycopg; directly or through a
        project function) whose transaction its `__exit__` ends with `commit()`/`rollback()`
        (`with DBConn() as conn:`); a package's `from .util import *` re-exports it. Calls into project functions, of this module or another (through
        its imports), `self.` methods, methods of project classes (`Service().run()`), methods of
        the project object an `__init__` keeps on `self` (`self.provider.embed()` of `self.provider =
        OpenAIProvider()`, in any module), methods of a project object another module builds at its top
        level (`from app.services import assistant` of `assistant = Assistant()`), the client such an
        object keeps, read from outside its class (`clients.llm.chat.completions.create()` of an
        `__init__` keeping `self.llm = OpenAI()`, or that a method builds on first use when `__init__`
        leaves it `None`: `self._client = AsyncGroq(...)` in a lazy getter), and classmethods and
        staticmethods called on the class (`Geography.locate()`) are
        followed three levels deep; the message shows the chain (`notify_warehouse() ->
        requests.post()`) and each link in another module is a related location. A parameter
        annotated with a project interface that one class implements (`model: ChatModel`) is that
        class. A slow client another module builds at its top level (`openai_client = OpenAI()` in
        app/clients.py, then `from app.clients import openai_client`), or a slow library it imports
        and configures (`from app.clients import litellm`), is the same client or library here.
        A task group opened by a later item of the `with` that opens the transaction (`async with
        engine.begin() as conn, asyncio.TaskGroup() as tg:`) waits for its tasks inside it.

        Knowing the receiver: `.begin()`, `.transaction()`, `.atomic()` and `.tx()` count when the
        object was built by a catalog constructor or type (`engine = create_engine(...)`,
        `Session = sessionmaker(...)`, a parameter annotated `AsyncSession` or
        `asyncpg.Connection`). An object of unknown origin counts only when its name (or the
        name of what built it) is the library's usual one (`engine`, `session`, `SessionLocal`,
        `conn`, `db`, `pool`) and the file imports a database library; an object known to come
        from anything else never counts.

        Not reported: `transaction.on_commit(...)` callbacks; code after the block; functions and
        lambdas only defined in the block; logging calls; a literal sleep shorter than the catalog's
        `shortest-wait` (0.1 s: `asyncio.sleep(0)`, `asyncio.sleep(0.01)` between batches); test files.
        Fire-and-forget work (`asyncio.create_task(...)`, `executor.submit(...)`,
        `threading.Thread(...)`) is not reported: the block does not wait for it, so it does not
        hold the connection. A task the block awaits does (`task = asyncio.create_task(fetch(url))`
        or `tasks = [asyncio.create_task(...) for ...]`, then `await task` or `await
        asyncio.gather(*tasks)` before the block ends), and so does a task group: work started in an
        `asyncio.TaskGroup`, an anyio task group or a trio nursery whose `async with` block is inside
        the hold (`tg.create_task(fetch(url))`, `tg.start_soon(fetch, url)`) is reported at the call
        that starts it; a group opened around the hold waits only after the hold ends. Work handed to a thread and awaited is reported:
        `await asyncio.to_thread(requests.get, url)` and `loop.run_in_executor(None, ...)` wait
        like the direct call, and so does a project function handed over with its arguments
        (`to_thread(push_order, order_id)`) or a lambda's call (`to_thread(lambda: push_order(id))`).

        A method called on an object the function was given is followed when the parameter's
        annotation names a project class: `archiver: S3Archiver`, also quoted, optional or under
        `if TYPE_CHECKING:` (`"S3Archiver | None"`, `Optional[Notifier]`; not a union of two
        classes), kept on `self` by `__init__` (`self._archiver = archiver`); and inside it, an
        external client `__init__` kept on `self` (`self._s3 = boto3.client("s3")`) makes its calls.
        A context-manager method of such a class (`async with self._db_pool.connection() as conn:`
        of a project pool wrapper) holds what its own body opens, and the message names that
        library, not one the method's name suggests.
        So does a client a getter of the module or the class returns (`s3 = self._get_s3_client()`,
        `llm = get_llm()`), when every return that says gives the same external client: built
        there (imports inside the getter included), bound to a local, or kept on `self` by
        the class's methods (a lazy `if self._client is None: self._client = OpenAI()`).
        The same holds for what a project function is annotated to return (`def get_worker() ->
        Optional[EmbeddingWorker]`, then `get_worker().embed(text)`); a union of two classes is not
        followed. A module function without a return annotation gives the project class every one of
        its `return`s gives an object of: `return LLMService()`, a local built so, or a module name that
        is only ever `None` or that class's object (a lazy singleton: `global _llm; if _llm is None:
        _llm = LLMService()`); returns of two classes, or a module name something else is assigned,
        say nothing.
        An annotation naming an interface (a `Protocol`, an `ABC`, a class with abstract methods)
        stands for its implementation when the project has exactly one outside its tests
        (`storage: IObjectStorage` is `S3ObjectStorage`); with two or more, which one a caller
        gets is the wiring's choice, and the call is not followed. Calling an object of a class
        with `__call__` gives what that returns, by its annotation or the one project class it
        builds: `async with self._uow() as uow:` of a `uow: IUnitOfWorkFactory` whose
        implementation returns a unit of work that begins a transaction in `__aenter__` is that
        transaction.

        Calls into project functions are followed as they run: a generator function's body runs
        only where the block iterates it (`for row in rows():`, `list(rows())`), not when it is
        handed on (`Response(stream())`); a branch under `if flag:` of a parameter the call
        leaves at a false default (`confirm_prompt=False`, `webhook=None`) or passes as `False`,
        `None` or `0` (`by_object_uri(uri, fetch=False)`) does not run.

        Precision: measured on 12 findings in 3 projects of the precision corpus
        (benchmarks/precision): 8 true positives, 0 false positives, 4 debatable
        (`input()` prompts in atomic management commands).

        TypeScript and JavaScript: awaited `fetch`, axios, mailers, Stripe, AWS SDK and queue
        calls inside `prisma.$transaction(async (tx) => ...)`, also three levels into project
        functions across modules; 2 findings in 26 Node applications, both true positives
        (docs/typescript.md).
    """
    example = """
        import requests
        import sqlalchemy as sa

        engine = sa.create_engine("postgresql://app@db/app")

        def place_order(row):
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO orders VALUES (:id)"), row)
                requests.post("https://warehouse.example/orders", json=row)
    """
    use_instead = """
        import requests
        import sqlalchemy as sa

        engine = sa.create_engine("postgresql://app@db/app")

        def place_order(row):
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO orders VALUES (:id)"), row)
            requests.post("https://warehouse.example/orders", json=row)
    """
    references = (
        "https://prisma-client-py.readthedocs.io/en/stable/reference/transactions/",
        "https://docs.sqlalchemy.org/en/20/core/connections.html#using-transactions",
        "https://docs.djangoproject.com/en/5.1/topics/db/transactions/#performing-actions-after-commit",
        "https://microservices.io/patterns/data/transactional-outbox.html",
    )

    def choose(self, holds: list[Hold]) -> Optional[Hold]:
        return next((h for h in holds if h.is_transaction), None)

    def consequence(self, hold: Hold) -> str:
        text = "its connection stays checked out, in an open transaction, for the whole wait"
        if hold.timeout == "configured":
            text += ", and the transaction rolls back if it outlasts its timeout"
        elif hold.timeout:
            text += f", and the transaction rolls back if it outlasts its {hold.timeout} default timeout"
        return text


class ExternalCallWhileHoldingConnection(_HoldingRule):
    """Flags an external call made while a connection checked out of a pool is held."""

    code = "DBP202"
    name = "external-call-while-holding-connection"
    message = "{call} ({kind}) runs while `{opener}` on line {line} holds a pooled {library} connection: {consequence}"
    fix_hint = (
        "Give the connection back first: make the call before the block or after it, "
        "and keep the block to database work"
    )
    rationale = """
        A connection checked out of a pool (`async with pool.acquire()`, `with pool.connection()`,
        `with engine.connect()`) is unavailable to every other request until the block ends.
        Waiting on an HTTP request, a sleep, an e-mail, a subprocess or an API call inside the
        block keeps it checked out for nothing: a few slow calls empty the pool and other
        requests time out waiting for a connection (asyncpg, psycopg_pool `PoolTimeout`,
        SQLAlchemy `QueuePool limit ... reached`).

        A checkout assigned to a name outside a `with` (`conn = pool.getconn()`, `conn = await
        pool.acquire()`, `conn = engine.connect()`) is held from that statement on, until it is
        given back (`pool.putconn(conn)`, `await pool.release(conn)`, `conn.close()`). Handed to any
        other call (`save(conn)`, `pd.read_sql(query, conn)`), it is not followed further: what
        that call does with it is not known. The statements run in the order written: a call after
        a `finally` that gives the connection back is not inside. A checkout the function never gives
        back nor hands on is DBP304's finding, not judged here.

        Receivers are judged as for DBP201: a pool or engine built by a catalog constructor or
        annotated with a catalog type, or, when its origin is unknown, named like one (`pool`,
        `db_pool`, `engine`) in a project that imports a database library (an imported name is
        judged by what its module built). A block that is also a
        transaction is reported as DBP201. Calls into project functions are followed as for
        DBP201, fire-and-forget work is not reported, and neither are functions only defined in
        the block. A block that takes an advisory lock (`pg_try_advisory_lock`, MySQL's
        `GET_LOCK`, in its SQL or in a project function it calls) keeps its connection to keep
        the lock: a sleep between tries is not reported there (DBP201 likewise); any other
        external call is.

        An SQLAlchemy `Session` (and `AsyncSession`, a `sessionmaker()`/`scoped_session()` session,
        Flask-SQLAlchemy's `db.session`) begins a transaction at its first `execute`/`query`/`get`/
        `scalars`/`flush` and keeps its connection until `commit`, `rollback` or `close` (or the end
        of a `with` block that closes it: `with Session(engine) as session:`, `with closing(db):`; an
        end in an `if` branch or an `except` handler that then returns, raises, continues or breaks ends
        it on that path only, and the code after that branch runs with it still open): an
        external call in between is reported, with the session's first query as the start. A
        session a generator of the project yields to a `with` (`@contextmanager def session_scope():
        session = SessionLocal(); try: yield session ...`, `async with tenant_session(t) as db:`) is
        that session, also when the generator is in another module and opens it from a module object
        of the project (`async with async_session() as session: yield session`); when the generator
        queries it before it yields it (`await session.execute(set_config(...))`) and ends no
        transaction after that, the `with` body starts inside that transaction. A
        session handed to a project function that queries with it begins there, also when that
        function hands it on to one that queries (up to three calls deep, `check_quota(db)` ->
        `fetch_usage(db)`); handed to one that commits, rolls back or closes it on every path that
        returns (in `finally`, at its top level before any `return`, in both branches of an `if`), or
        hands it to one that ends it anywhere, or to anything unknown, it is not followed further,
        but the call itself is judged inside the transaction when the function reaches an external
        call before its first call that ends, or may end, the session (`send_webhook(payload, db=db)`
        that posts, then records the delivery and commits). Handed to one that neither queries nor
        ends it, or to the constructor of a project class that never commits, rolls back nor closes
        anything (a repository that only reads), its transaction is as it was.
        One that ends it on some paths only (`get_or_create()` committing only when it creates) leaves
        it open on the others; one that ends it and then queries again (`db.commit(); db.refresh(message)`,
        outside an `except` handler) leaves a new transaction open, begun at the call. A session every module
        shares (`db.session` of `db = SQLAlchemy()` in app/extensions.py, imported anywhere) ends
        where the function calls a project function that commits, rolls back or closes it itself
        (`reset_user_dict()` that ends with `db.session.commit()`). A Flask-SQLAlchemy model's
        `query` is a query on that shared session (`User.query.get(1)`, `User.query.filter_by(email=e).
        first()` of `class User(db.Model)`, directly or through the project's own base classes, in any
        module): a call that runs it begins the transaction, one that only builds it (`filter_by`,
        `order_by`) does not, and `db.session.commit()` ends it. With `session-helpers = true` (off by
        default: on unseen applications about one such finding in six was strictly right), a project
        function (of any module, a method too) that queries such a shared session (`db.session`, a
        model's `query`, a module's `scoped_session` registry) and neither commits, rolls back nor
        closes it, nor calls a function that does, leaves its transaction open for its caller
        (`user = find_user(user_id)`), through
        a helper's helper at most, also by the name a package re-exports it as; a rollback in an
        `except` handler ends it only when the query failed; a generator's query runs where it is
        iterated and is not counted, and neither is a cached function's (`@lru_cache`, Flask-Caching's
        `@cache.memoize()`), which queries on a cache miss only.
        The call that begins it is
        not judged inside the transaction it begins: whether its own slow call comes before a commit
        (in a function it calls in turn) is for the callee's code to show. A session pulled out of
        a project generator with `next()` or `anext()` (`db = next(get_db())`, in any module) is one
        when the generator is annotated to yield it (`-> Generator[Session, None, None]`,
        `-> AsyncIterator[AsyncSession]`), and so is a local annotated `Session` whose value
        cannot tell (a call or a name). A `for` or `while` body that begins the session's
        transaction and neither ends it, hands the session on, binds it anew nor may leave the loop
        after the begin (`break`, `return`, `raise`) runs again inside that transaction: the calls
        before the query are reported too, as waiting from the second pass on. Sessions of unknown
        origin (an unannotated parameter, `self.session`) are not judged, and neither is a
        session on an in-memory SQLite engine (`Session(create_engine("sqlite://"))`, or a factory
        bound to one): that database has one connection per thread and nobody waits for it. A
        file database is pooled (a QueuePool since SQLAlchemy 2.0) and is judged, unless every engine
        the application builds (outside tests and alembic's `env.py`) is on SQLite, by its URL, by
        `connect_args={"check_same_thread": False}`, or, for a URL it reads from elsewhere (Flask-SQLAlchemy's
        `SQLALCHEMY_DATABASE_URI` included), because the project's requirement and lock files name no
        driver of a database server (no psycopg, asyncpg, PyMySQL, `sqlalchemy[postgresql]`...), and the
        SQLAlchemy release the project pins, locks or bounds opens a connection per checkout there
        (NullPool: `create_engine` and Flask-SQLAlchemy before 2.0, `create_async_engine` with aiosqlite
        before 2.0.38). A synchronous session (`db: Session`, `sessionmaker()`'s) in a project
        whose every engine (outside tests and alembic's `env.py`) is asynchronous (`create_async_engine`) is
        not judged either: no engine of the project can give it a connection, and the code path fails at its
        first query (an `AsyncSession` handed on as `db: Session` has no `query`) or is not run.

        Nor is a hold where no process of the application serves more requests or tasks at once than
        the pool keeps connections by default (SQLAlchemy's 5, asyncpg's 10, psycopg_pool's 4), by what
        its deployment files run (a Dockerfile's `CMD` or `ENTRYPOINT`, compose commands, a Procfile,
        the scripts they start, `gunicorn.conf.py`): a gunicorn `sync` worker serves one request, a
        `gthread` worker its `--threads`, a prefork Celery or RQ worker one task; there, a session that
        keeps its connection while it waits keeps no other request from one. An asyncio server
        (uvicorn, gunicorn's uvicorn or gevent workers), Flask's development server, any other command
        that may run the application, or no deployment file at all keeps the hold judged. Threads the
        application starts itself (an in-process scheduler's) and a pool sized below the default in
        code are not read.

        With `pool-holds = true` (off by default: whether such a hold exhausts the pool depends on how many
        requests one process serves at once against the pool's `max_size`, which the code rarely shows),
        Django with its connection pool on (Django 5.1: `"pool"` in a PostgreSQL database's `OPTIONS`,
        set anywhere in a settings module, also in a branch or a function that builds the settings, to
        anything but `False` or `None`) checks a connection out of the pool at a request's or a task's
        first query and gives it back only when the request or task ends: a model's query (`Note.objects.
        get(pk=pk)`, `Note.objects.filter(...).first()`; one that only builds a queryset, `filter`,
        `order_by`, runs nothing), `get_object_or_404()`, or a call of a project function, method or class
        whose code runs one and does not give the connection back (`SiteConfig()` of a dataclass whose
        `__post_init__` loads it, through a helper's helper at most) begins the hold; what the function
        waits on after it is reported. `close_old_connections()` or `connections.close_all()`, directly or
        in a project function the function calls (`with connection_released():`), ends it. Without the
        pool each thread keeps a connection of its own that no other request waits for: nothing is judged.

        A FastAPI handler's dependencies run before its body and share one session per request
        (`db: Session = Depends(get_db)`, `Annotated[Session, Depends(get_db)]`, or an alias of that,
        `SessionDep`, in any module). A dependency that queries it and neither commits, rolls back nor
        closes it (`get_current_user` loading the user, directly, through a helper it hands the
        session to, or through a dependency of its own: `user = Depends(get_current_user)`,
        `user: CurrentUser`; or one the route declares without a parameter, in its decorator's
        `dependencies=[Depends(require_user)]` or in those of a router this module builds,
        `router = APIRouter(dependencies=[...])`) leaves its transaction open: the handler's body
        runs inside it until the handler commits the same session itself (its own `db =
        Depends(get_db)`) or hands it on. A dependency that yields, one with `use_cache=False`,
        and a session a dependency opens and closes itself are not followed. Where another
        dependency of the handler builds an object on that session (`service =
        Depends(get_item_service)`), whose class is not known or commits anywhere, the handler is
        not judged: which comes first is not known. A streamed response
        returned while the request's session is in a transaction (`StreamingResponse(...)`,
        `EventSourceResponse(...)`) is reported too: its body runs after the handler returns, and
        the dependency closes the session only when the stream ends (FastAPI 0.118.0 on, and
        before 0.106.0). Only a body that may take long is: server-sent events (`media_type=
        "text/event-stream"`) or a generator's (`StreamingResponse(relay(run_id))` of a generator
        function or method of the project); one already in memory (`io.BytesIO`, `iter([text])`)
        is sent at once. A project that pins or locks a release in between, or bounds FastAPI below
        0.118 (requirements files, pyproject.toml, Pipfile, lock files, at its root or one folder
        down), is not judged there.
    """
    example = """
        import asyncpg
        import httpx

        async def sync_user(pool: asyncpg.Pool, user_id: int):
            async with pool.acquire() as conn:
                row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
                await httpx.AsyncClient().post("https://crm.example/users", json=dict(row))
    """
    use_instead = """
        import asyncpg
        import httpx

        async def sync_user(pool: asyncpg.Pool, user_id: int):
            async with pool.acquire() as conn:
                row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
            await httpx.AsyncClient().post("https://crm.example/users", json=dict(row))
    """
    references = (
        "https://magicstack.github.io/asyncpg/current/usage.html#connection-pools",
        "https://www.psycopg.org/psycopg3/docs/advanced/pool.html",
        "https://docs.sqlalchemy.org/en/20/core/pooling.html",
    )

    def choose(self, holds: list[Hold]) -> Optional[Hold]:
        if any(h.is_transaction for h in holds):
            return None  # DBP201's finding
        return holds[0] if holds else None

    def consequence(self, hold: Hold) -> str:
        if hold.dependency:
            return ("the request's session stays idle in transaction, its connection checked out, until the "
                    "handler commits it or the response is sent")
        if hold.implicit:
            spec = self.catalog.implicit_transaction(hold.shared) if hold.shared else None
            if spec is not None and spec.held_until:
                return f"its connection stays checked out of the pool until {spec.held_until}"
            return ("the session stays idle in transaction, its connection checked out, until it commits, "
                    "rolls back or closes")
        return "the pool has one connection fewer for the whole wait"


class TaskPublishedInTransaction(_HoldingRule):
    """Flags a task published to a broker while a transaction is open."""

    code = "DBP203"
    name = "task-published-in-transaction"
    opt_in = True
    reports_task_publishes = True
    message = "{call} ({kind}) runs inside the {library} transaction `{opener}` opened on line {line}: {consequence}"
    fix_hint = (
        "Publish after the commit: transaction.on_commit(lambda: task.delay(...)), Celery's "
        "task.delay_on_commit(...), or a task base class whose apply_async defers to on_commit"
    )
    rationale = """
        Publishing a task (Celery `.delay()`/`.apply_async()`/`send_task()`, Dramatiq `.send()`)
        is a short broker round trip: it holds the transaction's connection for milliseconds, not
        for a slow service, so DBP201 leaves it out. The risk is a race: a worker can pick the task
        up before the transaction commits and not find its rows, or run it for a transaction that
        then rolls back.

        Not reported: publishes registered with `transaction.on_commit(...)`; `delay_on_commit`;
        a task whose `base=` class (in the same module) overrides `apply_async` or `delay` to
        defer to `transaction.on_commit`; `.delay()` of a function whose decorator the project
        defines itself (`from app.dispatch import task`): what that task system's `delay()` does
        (a broker, a `pg_notify` delivered at commit, a thread) is the project's; publishes outside
        the block.

        Opt-in: off unless selected (`select = ["DBP203"]` or `["DBP2"]`), because many
        applications accept the race or make their tasks wait for the row.
    """
    example = """
        from celery import shared_task
        from django.db import transaction

        @shared_task
        def send_receipt(order_id):
            ...

        def place_order(order):
            with transaction.atomic():
                order.save()
                send_receipt.delay(order.pk)
    """
    use_instead = """
        from celery import shared_task
        from django.db import transaction

        @shared_task
        def send_receipt(order_id):
            ...

        def place_order(order):
            with transaction.atomic():
                order.save()
                transaction.on_commit(lambda: send_receipt.delay(order.pk))
    """
    references = (
        "https://docs.celeryq.dev/en/stable/userguide/tasks.html#database-transactions",
        "https://docs.djangoproject.com/en/5.1/topics/db/transactions/#performing-actions-after-commit",
    )

    def choose(self, holds: list[Hold]) -> Optional[Hold]:
        return next((h for h in holds if h.is_transaction), None)

    def consequence(self, hold: Hold) -> str:
        return "a worker may run the task before the commit, or for a transaction that rolls back"


class OuterClientInTransaction(Rule):
    """Flags a query made on the client itself inside one of its interactive transactions."""

    code = "DBP204"
    name = "outer-client-in-transaction"
    example_language = "typescript"
    message = (
        "{call} runs on `{client}` inside its own {library} transaction `{opener}` opened on line {line}, not on "
        "the transaction's client{tx}: it waits for a second connection of the pool while the transaction holds "
        "one, so under load every connection can be held by a transaction waiting for another, and the query "
        "is not part of the transaction"
    )
    fix_hint = "Run the query on the transaction's client (`tx.user.findMany()`), or before the transaction starts"
    rationale = """
        An interactive transaction (`prisma.$transaction(async (tx) => ...)`) checks one connection out
        of the client's pool and keeps it until the callback returns; its queries go through `tx`.
        A query made on the client itself inside the callback (`prisma.user.findMany()`, a raw query,
        another `$transaction`) is not part of the transaction: it waits for another connection of the
        same pool while the transaction's connection sits idle. When as many transactions run at once
        as the pool has connections (Prisma's default is twice the CPUs plus one), each holds one and
        waits for a second that never comes: queries time out (`P2024`) and the transactions expire
        (`P2028`), as in prisma/orm#12277, where nine concurrent transactions of this shape failed on a
        pool of nine. The query also escapes the transaction: it does not see the transaction's
        uncommitted writes and is not rolled back with it.

        Reported at the query, or at the call of a project function that makes it (followed as far as
        DBP201 follows calls: three levels, in any module), with the chain. The client is the same when
        the query is made on the expression `$transaction` was called on (`prisma`, `this.prisma`) and
        no function in between binds that name again (the documentation's own
        `prisma.$transaction(async (prisma) => ...)` shadows it, and is the transaction's client), or
        on a name that resolves, through imports, to the same module-level client, or, in a project
        function the call leaves an argument out of, on the parameter whose default is that client
        (`client: Prisma.TransactionClient = prisma`, called as `docStatusId(id, code)` without `tx`;
        a call whose arguments spread an array may give it and is left alone). In `parameter ? a : b`
        of such a function, a call that gives that argument runs `a` and one that leaves it out runs `b`
        (`return client ? run(client) : prisma.$transaction(run)`: a transaction of its own, on the
        outer client, when called without one). Queries only built
        and never awaited, returned or handed to `Promise.all` do not run (a Prisma query runs when it
        is awaited). TypeScript and JavaScript only: the Python Prisma client is discontinued.
    """
    example = """
        import { prisma } from "./db";

        export async function transfer(from: string, to: string, amount: number) {
          await prisma.$transaction(async (tx) => {
            const sender = await prisma.account.findUnique({ where: { id: from } });
            await tx.account.update({ where: { id: from }, data: { balance: { decrement: amount } } });
            await tx.account.update({ where: { id: to }, data: { balance: { increment: amount } } });
          });
        }
    """
    use_instead = """
        import { prisma } from "./db";

        export async function transfer(from: string, to: string, amount: number) {
          await prisma.$transaction(async (tx) => {
            const sender = await tx.account.findUnique({ where: { id: from } });
            await tx.account.update({ where: { id: from }, data: { balance: { decrement: amount } } });
            await tx.account.update({ where: { id: to }, data: { balance: { increment: amount } } });
          });
        }
    """
    references = (
        "https://www.prisma.io/docs/orm/prisma-client/queries/transactions#interactive-transactions",
        "https://github.com/prisma/orm/issues/12277",
    )


_FALSE_NAMES = frozenset({"False", "None"})


def _flags_left_unset(function: cst.FunctionDef, klass: Optional[cst.ClassDef], call: cst.Call,
                      caller_unset: frozenset[str] = frozenset()) -> frozenset[str]:
    """The parameters of `function` that `call` leaves false: passed `False`, `None` or `0` (by keyword, or
    by position to a module function), or a parameter of the calling function that its own caller left
    false (`caller_unset`), or with such a default and passed neither by keyword nor by position (nor
    possibly through `*args`/`**kwargs`)."""
    def left_false(value: Optional[cst.BaseExpression]) -> bool:
        return _false_literal(value) or isinstance(value, cst.Name) and value.value in caller_unset

    if any(arg.star for arg in call.args):
        return frozenset()
    positional = [arg for arg in call.args if arg.keyword is None]
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    params = [*function.params.posonly_params, *function.params.params]
    # `obj.method(a)` binds `self` first; `Class.method(obj, a)` does not: count the stricter way
    reach = len(positional) + 1 if klass is not None else len(positional)
    unset = set()
    for position, param in enumerate(params):
        name = param.name.value
        if name in keywords:
            if left_false(keywords[name]):
                unset.add(name)
        elif position >= reach:
            if _false_default(param):
                unset.add(name)
        elif klass is None and left_false(positional[position].value):
            unset.add(name)
    unset.update(param.name.value for param in function.params.kwonly_params
                 if param.name.value in keywords and left_false(keywords[param.name.value])
                 or param.name.value not in keywords and _false_default(param))
    # `if confirm is None: confirm = settings.CONFIRM` makes it anything
    return frozenset(unset - set(assigned_names(function.body))) if unset else frozenset()


def _false_literal(value: Optional[cst.BaseExpression]) -> bool:
    return isinstance(value, cst.Name) and value.value in _FALSE_NAMES \
        or isinstance(value, cst.Integer) and value.value == "0"


def _false_default(param: cst.Param) -> bool:
    return _false_literal(param.default)


def _requires_flag(test: cst.BaseExpression, flags: frozenset[str]) -> bool:
    """`if flag:` or `if flag and other:`: the body runs only when `flag` is true."""
    if isinstance(test, cst.Name):
        return test.value in flags
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _requires_flag(test.left, flags) or _requires_flag(test.right, flags)
    return False


def _text(context, node: cst.CSTNode) -> str:
    """Source of a short expression on one line."""
    text = re.sub(r"\s+", " ", context.module.code_for_node(node)).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _last_name(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _describe(spec: ExternalCallSpec, node: Optional[cst.Call], direct: bool) -> str:
    """What the call waits on and for how long: `sleep of 5 s`, `HTTP request without a timeout`.

    A timeout is judged only on a direct function call: a client's methods may take theirs from
    the client.
    """
    if node is None:
        return spec.kind
    if spec.duration_argument >= 0:
        duration = _literal_duration(spec, node)
        return f"{spec.kind} of {_seconds(duration)} s" if duration is not None else spec.kind
    if spec.timeout_keyword and direct:
        if any(a.star == "**" or (a.keyword is not None and a.keyword.value == spec.timeout_keyword)
               for a in node.args):
            return spec.kind
        if spec.default_timeout:
            return f"{spec.kind}, default timeout {spec.default_timeout}"
        return f"{spec.kind} without a timeout"
    return spec.kind


class _LockWords(cst.CSTVisitor):
    """Whether code names an advisory-lock function (`sa.func.pg_try_advisory_lock(key)`, or in SQL
    text: `"SELECT pg_advisory_lock(%s)"`), and the calls it makes."""

    def __init__(self, words: frozenset[str], pattern: "Optional[re.Pattern[str]]") -> None:
        self.words = words
        self.pattern = pattern
        self.found = False
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)
        name = _last_name(node.func)
        if name is not None and name.lower() in self.words:
            self.found = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self.pattern is not None and self.pattern.search(node.value):
            self.found = True

    def visit_FormattedStringText(self, node: cst.FormattedStringText) -> None:
        if self.pattern is not None and self.pattern.search(node.value):
            self.found = True


def _leaves(block: cst.IndentedBlock, by: tuple[type, ...] = (cst.Return, cst.Raise, cst.Continue, cst.Break)) -> bool:
    """Whether the block's last statement leaves it for good (`return`, `raise`, `continue`, `break`), or
    leaves it by one of `by` only."""
    last = block.body[-1] if block.body else None
    return isinstance(last, cst.SimpleStatementLine) and any(isinstance(small, by) for small in last.body)


def _returns_or_raises(block: cst.IndentedBlock) -> bool:
    """Whether the block's last statement leaves the function: `return` or `raise`."""
    return _leaves(block, (cst.Return, cst.Raise))


def _ends_on_every_path(body: cst.BaseSuite, name: str, methods: set[str]) -> bool:
    """Whether every path through `body` that returns normally calls one of `methods` on `name` (a raise
    is the failure path, not judged): at its top level before any statement that may return, in a
    `with` or `try` body or `finally` so placed, or in every branch of an `if`."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else ()
    for statement in statements:
        if _ends_in(statement, name, methods):
            return True
        if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and any(
                isinstance(inner, cst.Return)
                for inner in cst_walk(statement, prune=(cst.FunctionDef, cst.Lambda, cst.ClassDef))):
            return False  # a path leaves before the end
    if isinstance(body, cst.SimpleStatementSuite):
        return _ends_in(cst.SimpleStatementLine(body=body.body), name, methods)
    return False


def _ends_in(statement: cst.CSTNode, name: str, methods: set[str]) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        called = _MethodsCalledOn(name)
        cst_visit(statement, called)
        return bool(called.found & methods)
    if isinstance(statement, cst.With):
        return _ends_on_every_path(statement.body, name, methods)
    if isinstance(statement, cst.Try):
        return _ends_on_every_path(statement.body, name, methods) or (
            statement.finalbody is not None and _ends_on_every_path(statement.finalbody.body, name, methods))
    if isinstance(statement, cst.If):
        other = statement.orelse
        if other is None:
            return False
        return _ends_on_every_path(statement.body, name, methods) and (
            _ends_in(other, name, methods) if isinstance(other, cst.If)
            else _ends_on_every_path(other.body, name, methods))
    return False


def _handed_parameter(function: cst.FunctionDef, position: int, arg: cst.Arg) -> Optional[str]:
    """The parameter of `function` that receives `arg`, the argument at `position` of a call to it (a
    method's `self` left out); None when poollint cannot tell (`*args`)."""
    parameters = [p.name.value for p in (*function.params.posonly_params, *function.params.params)]
    if parameters and parameters[0] in ("self", "cls"):
        parameters = parameters[1:]
    if arg.keyword is not None:
        return arg.keyword.value
    return parameters[position] if position < len(parameters) else None


class _MethodsCalledOn(cst.CSTVisitor):
    """Methods a function calls on one of its parameters, and whether it hands the parameter on; not in
    the functions and lambdas it only defines (a tool registered to run later, `async def load(): await
    db.execute(...)`), which run when they are called, not when it is."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.found: set[str] = set()
        # the methods in the order they are written, outside `except` handlers (the path that did not fail)
        self.in_order: list[str] = []
        self.handed: list[tuple[cst.Call, int, cst.Arg]] = []  # calls given the parameter: (call, position, argument)
        self._entered = False
        self._handlers = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        entered, self._entered = self._entered, True
        return not entered

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._handlers += 1

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._handlers -= 1

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self.name:
            self.found.add(func.attr.value)
            if not self._handlers:
                self.in_order.append(func.attr.value)
        self.handed.extend((node, position, a) for position, a in enumerate(node.args)
                           if isinstance(a.value, cst.Name) and a.value.value == self.name)


class _BodyCalls(cst.CSTVisitor):
    """The calls a block makes itself, in the order they run: not those of functions, lambdas or
    classes only defined in it, nor those handed to background work (`create_task(notify())`); and
    the names it binds (`session = Session()`: a new session each pass, the old one let go)."""

    def __init__(self, in_background) -> None:
        self.in_background = in_background
        self.found: list[cst.Call] = []
        self.bound: set[str] = set()
        # how many calls came before each `break`, `return` or `raise`: one after a begin may end the loop
        self.exits: list[int] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(node, (cst.Break, cst.Return, cst.Raise)):
            self.exits.append(len(self.found))
        if isinstance(node, cst.Call):
            if self.in_background(node):
                return False
            self.found.append(node)
        target = node.target if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For,
                                                    cst.NamedExpr)) \
            else node.name if isinstance(node, cst.AsName) else None
        if target is not None:
            for element in (target.elements if isinstance(target, (cst.Tuple, cst.List)) else (target,)):
                name = dotted_name(element.value if isinstance(element, cst.BaseElement) else element)
                if name:
                    self.bound.add(name)
        return True


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.found.append(node)


def _literal_duration(spec: ExternalCallSpec, node: cst.Call) -> Optional[float]:
    """The seconds a sleep-like call waits when its duration argument is a literal (`time.sleep(5)`)."""
    if spec.duration_argument < 0:
        return None
    positional = positional_arguments(node)
    if len(positional) <= spec.duration_argument:
        return None
    value = positional[spec.duration_argument].value
    return float(value.evaluated_value) if isinstance(value, (cst.Integer, cst.Float)) else None


def _seconds(duration: float) -> str:
    return str(int(duration)) if duration == int(duration) else str(duration)
