"""DBP3xx: giving connections back — scripts, test fixtures, checkouts, single connections and sessions."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from poollint.catalog.model import ImplicitTransactionSpec
from poollint.python.cst.context import Frame
from poollint.python.screen import CHECKOUTS, CONSTRUCTORS, TRANSACTIONS
from poollint.rules.base import FileRule
from poollint.rules.release_tracker import ReleaseTracker


class _Release(FileRule):
    """Shared by DBP301–DBP304: one tracker per file collects openings; each rule reports its code."""

    triggers = frozenset({CONSTRUCTORS, CHECKOUTS})

    def visit_Call(self, node: cst.Call) -> None:
        ReleaseTracker.of(self.context).see(node)

    def finish(self) -> None:
        for verdict in ReleaseTracker.of(self.context).verdicts():
            if verdict.code == self.code:
                self.report(verdict.node, root=verdict.root, **verdict.fields)


class ScriptNeverDisconnects(_Release):
    """Flags a script that never releases a client its exit does not clean up (async drivers, Prisma)."""

    code = "DBP301"
    name = "script-never-disconnects"
    message = "{call} opens {a} {library} {thing} and the script never calls {release}{note}"
    fix_hint = (
        "Use the client as a context manager (`async with Prisma() as db:`, `with psycopg.connect() as conn:`) "
        "or close it in a `finally` block"
    )
    rationale = """
        Reported only where the script's exit does not clean up after it. An engine, pool or
        connection of an async driver (built in an `async def`, awaited, or used with `await`
        or `async with`) that is garbage-collected after `asyncio.run` has closed its loop
        fails or warns (`Event loop is closed`) instead of closing, and Prisma leaves its query
        engine running (the catalog's `outlives-process`). A synchronous script that never
        closes its connection is not reported: its exit closes the socket and the server sees
        it go at once, so nothing piles up; one that opens a connection on every pass of a
        loop is DBP304's. A release that runs only on success is DBP302's, sync or not, where
        the exception that skips it can leave the process running (a click command invoked by a
        test's `CliRunner` keeps its process after the failure, a retry loop tries again); not
        where nothing catches it on its way out of a one-shot script (see DBP302).

        A script is a file with `if __name__ == "__main__":`, a top-level `asyncio.run(...)`
        (or `anyio.run`, `trio.run`), or a shebang line; its code is the main-guard block,
        the functions it calls (`main()`), click/typer commands decorated in any file, and,
        for shebang and `asyncio.run` files, the module itself. Releases that count: `disconnect()`,
        `close()`, `dispose()`, `aclose()` in any form, a `with`/`async with` block whose
        exit closes (not psycopg2's or sqlite3's, which only end a transaction),
        `contextlib.closing`, an `ExitStack`, `atexit.register(...)`. A client handed to
        another function or stored elsewhere is not reported; one handed to a session factory
        (`sessionmaker(engine)`, `async_sessionmaker(bind=engine)`) is only borrowed and must
        still be disposed.

        Precision: measured on 1 finding in 1 project of the precision corpus: 1 true
        positive (SQLAlchemy's asyncio example never awaits `engine.dispose()`).

        TypeScript and JavaScript: `prisma/seed.ts`, `scripts/*` and files run by `package.json`
        scripts that build a client, use it and never call `$disconnect()` (DBP302: only on success;
        an unused client never connects). A client on a driver adapter over a pool the script builds
        (`new PrismaClient({ adapter: new PrismaPg(pool) })`, catalog `adapter-pools`) is released
        as well by ending that pool (`pool.end()`), which closes every connection it used;
        3 findings in 26 Node applications, all true positives (docs/typescript.md).
    """
    example = """
        import asyncio

        from prisma import Prisma

        async def main():
            db = Prisma()
            await db.connect()
            print(await db.user.count())

        asyncio.run(main())
    """
    use_instead = """
        import asyncio

        from prisma import Prisma

        async def main():
            async with Prisma() as db:
                print(await db.user.count())

        asyncio.run(main())
    """
    references = (
        "https://prisma-client-py.readthedocs.io/en/stable/reference/client/#context-manager",
        "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#using-asyncio-scoped-session",
        "https://www.psycopg.org/psycopg3/docs/basic/usage.html#connection-context",
    )


class DisconnectNotExceptionSafe(_Release):
    """Flags a script's disconnect or close that runs only when no exception is raised."""

    code = "DBP302"
    name = "disconnect-not-exception-safe"
    message = "{release} is skipped when an exception is raised; the {library} {thing} opened on line {line} stays open"
    fix_hint = "Move the call into a `finally` block, or use the client as a context manager"
    rationale = """
        A disconnect at the end of the happy path does not run when a query, a network call
        or a bug raises first. Where the process goes on after the exception (a retry loop
        around a flaky API, a scheduler that runs the job again, a click command invoked by a
        test's `CliRunner`), each failed run leaves its connections open until the client is
        garbage-collected or the server drops them; Prisma's query engine outlives even the
        process.

        A process that ends on the exception closes its sockets at once, so nothing stays open:
        in a one-shot script (a main guard, a top-level `asyncio.run(...)` or a shebang line),
        a release in the script's code, or in a function or a method of a class of the file that
        only the script's code calls (directly, no thread, executor or callback in between, at most
        five calls deep: `main()` -> `tool.report()` -> `self._size()`), is not reported
        when no `try` on the way out catches the exception and goes on: every handler between
        the opening and the module's top level re-raises or ends the process (`sys.exit(1)`),
        and no `contextlib.suppress` wraps it. Nor when the opening runs at most once per run:
        no loop or comprehension around it, nor around any call on the way from the script's
        code. A handler that logs and goes on then leaves one connection open until the script
        exits and its exit closes it, bounded, not a pool running out (triaged debatable on
        every sample); one inside a loop of retries or items leaves one more per turn and is
        reported. The same holds for DBP304's checkouts and connections in such a script. Click and typer commands in files without a main guard
        stay reported (a test's `CliRunner` catches the exception), and so does a client whose
        catalog entry outlives the process (Prisma).

        Safe places: a `finally` block, a `with`/`async with` block that closes, an
        `ExitStack`/`AsyncExitStack` callback, `atexit.register(...)`, or a helper that
        is always called from a `finally`.

        TypeScript and JavaScript: Prisma ORM for Node.js disconnects when the Node.js process
        ends, and a one-off script's process ends once its entry's failure is logged and nothing
        else keeps it running. So a script client built once per run (at the module's top level,
        or in the entry function the module calls, `main().catch(console.error)`) is not
        reported; one built in a function the script may call again (per item, per tenant), whose
        `$disconnect()` (or adapter pool's `end()`) a caught failure skips, is: the next pass opens
        another while it stays connected.
    """
    example = """
        import asyncio

        from prisma import Prisma

        async def main():
            db = Prisma()
            await db.connect()
            print(await db.user.count())
            await db.disconnect()

        asyncio.run(main())
    """
    use_instead = """
        import asyncio

        from prisma import Prisma

        async def main():
            db = Prisma()
            await db.connect()
            try:
                print(await db.user.count())
            finally:
                await db.disconnect()

        asyncio.run(main())
    """
    references = ("https://docs.python.org/3/reference/compound_stmts.html#finally-clause",)


class FixtureWithoutTeardown(_Release):
    """Flags a pytest fixture or unittest `setUp*` that connects and never releases the connection."""

    code = "DBP303"
    name = "fixture-without-teardown"
    message = "{where} opens {a} {library} {thing} with {call} and never releases it{note}"
    fix_hint = (
        "Yield the client from the fixture and close it after the `yield` (or use `async with`/`with`); "
        "in unittest, close it in `tearDown*` or register `addCleanup`/`addAsyncCleanup`"
    )
    rationale = """
        A fixture runs once per test (or per module or class). When it `return`s a
        connected client, or `yield`s one and does nothing after the `yield`, every run
        leaves its connections open until the test process ends. A suite of a few hundred
        tests then hits `too many clients already` or the pool timeout halfway through, and
        the failures look random. A `scope="session"` fixture runs once per test process, whose
        end closes what it built: nothing piles up, and it is not reported (unless the client
        outlives the process, as Prisma's query engine does). Neither is an engine on SQLite (a URL
        literal, an f-string, a module constant or a local name the fixture binds once to one of
        those, starting with `sqlite:`) or a NullPool engine: nothing stays open on a server.

        Counted as teardown: code after the `yield` that closes the client, a `with`/`async
        with` around the `yield` whose exit closes, `request.addfinalizer(...)`, and in
        unittest a `tearDown`/`tearDownClass`/`asyncTearDown` that mentions the attribute or
        any `addCleanup`/`addAsyncCleanup`/`enterContext` call.

        In a test case's `setUp`, a project class or function that builds a pool (the project
        index's factories: `self.dbconn = storage.DBConn(dsn)`, whose `__init__` keeps an engine)
        counts like the library's constructor. Pytest fixtures that build such an object are not
        judged: what releases it (`conn.engine.dispose()`, a method of its own) is not known.
    """
    example = """
        import psycopg2
        import pytest

        @pytest.fixture
        def conn():
            return psycopg2.connect("dbname=test")
    """
    use_instead = """
        import psycopg2
        import pytest

        @pytest.fixture
        def conn():
            connection = psycopg2.connect("dbname=test")
            yield connection
            connection.close()
    """
    references = (
        "https://docs.pytest.org/en/stable/how-to/fixtures.html#teardown-cleanup-aka-fixture-finalization",
        "https://docs.python.org/3/library/unittest.html#unittest.TestCase.addCleanup",
    )


class CheckoutNotReleased(_Release):
    """Flags a pooled checkout, single connection or ORM session that is not given back on every path."""

    # and a session's query: one built in the `with` block that closes the session may leave it
    triggers = _Release.triggers | {TRANSACTIONS}

    code = "DBP304"
    name = "checkout-not-released"
    message = "{call} {verb} {a} {library} {thing} that is not {given} on every path{how}"
    fix_hint = (
        "Use the checkout as a context manager (`async with pool.acquire() as conn:`, `with engine.connect() as conn:`) "
        "or give it back in a `finally` block (`putconn()`, `release()`, `close()`)"
    )
    rationale = """
        A pool lends a fixed number of connections. A checkout that is not given back when
        an exception is raised, or on an early `return`, is lost to the pool for good
        (psycopg2, psycopg_pool, asyncpg) or until garbage collection (SQLAlchemy); a few
        failed requests later the pool is empty and every caller waits for a timeout
        (`connection pool exhausted`, `QueuePool limit ... reached`). A single connection
        (`psycopg2.connect`, `asyncpg.connect`, ...) opened in a function and not closed
        on every path leaks a server connection the same way. So does an SQLAlchemy
        `Session` a function builds for itself (`SessionLocal()`, `Session(engine)`, a
        `sessionmaker` kept on `self`, a project function that returns one): it checks a
        connection out at its first query and holds it until it is closed; close it in
        `finally` or use `with Session(engine) as session:`. A session bound to a connection
        it is given (`Session(bind=op.get_bind())` in a migration) holds nothing of its own.
        Flask-SQLAlchemy 2's `db.create_scoped_session()` builds a new registry on every call, whose
        thread session holds its connection until the registry's `remove()`: one a function builds
        for itself is judged like a session (`remove()` in `finally`). A registry kept on an object or
        at module scope lives as long as its owner, and `scoped_session(...)` built in a function is
        usually the application's registry being set up: neither is reported.

        A release right after the opening, or after nothing but logging calls whose arguments call
        nothing (`logger.info("connected")`, `app.logger.warning(...)`, `print(...)`: catalog
        `log-methods` on receivers whose last name matches `logger-names`, any call into a
        `logging-modules` module, `log-functions`), runs on every path. So does the release of a session
        whose only query before it is a liveness check (`session.execute(text("SELECT 1"))`, catalog
        `liveness-queries`): a session takes its connection at its first query, so when that query fails
        it is the connect that failed, and nothing is checked out (a start-up wait for the database, a
        route that says whether it answers). Any other first query, or a second one, may fail with the
        connection taken.

        Note that `with psycopg2.connect() as conn:` and `with pool.getconn() as conn:`
        (psycopg2) end a transaction but do not close or return the connection. A
        function that returns, stores or hands the connection to another function passes
        on the duty to release it and is not reported, except that a connection bound by
        such a `with` is only lent to the calls in its block: it escapes when what they
        build from it is returned, yielded, stored or handed to another object's method
        (`items.append(Queue(conn))`), or when it runs in the background (`threading.Thread`,
        `submit`). Handing it to a project class that only keeps it is no hand-off either
        (`repository = OrderRepository(session)`, a DAO): when no method of the class or of
        its project bases releases anything (no `close`, `dispose`, `__exit__`, `__del__`,
        no release call, no background work), the function still has to close it, unless
        the object itself is returned, stored or handed to another object; a dict or list
        the function makes, or its `**kwargs`, carries it no further. A class poollint cannot
        read (a library's, or with such a base) may release it and is trusted to. Neither is
        handing it to a project function (of any module) that only borrows it: one that calls
        methods on it (`rows = sql_query(con, q)`, `return count_channels(db)`) and does nothing
        else with it, no release, no hand-off, no return, no store. A connection opened only
        when the caller passes none (`con = con if con else get_connection()`, `con = con or
        connect()`) is this function's to give back; in a one-shot script whose exception nothing
        catches on the way out, or that opens it at most once per run, the process's end gives it
        back (see DBP302). Likewise a release skipped only by a failure in code that runs once per
        process (a start-up hook, an app factory, `main()`, a command, or a function only such code
        calls), with no loop around the opening: at most one connection, once, for the process's
        life, bounded; a retry loop there keeps one per failed pass and is reported. The same holds in a
        periodic task or a handler only administrators may call (see DBP101), or a function only such
        code and run-once code call: a failed run leaves one object to be collected, at the pace of a
        scheduler's ticks or of a few operators, whatever the traffic. A script that opens a
        connection on every pass of a loop and never closes it is reported here, not as DBP301. A
        checkout a one-shot script's `main()` or a command-line command takes once, outside any loop,
        and never gives back is its until the process exits, which closes it as it closes a client
        (DBP301): not reported, unless the driver is async (its exit cannot close what a closed event
        loop holds) or the library outlives the process; a module function (or a function
        nested in the caller) that returns a new connection, or a checkout it takes from a pool
        (`return engine.connect()`), is checked where it is called,
        in any module, also when it builds the session with a library builder that another
        project module re-exports (`from app.db import sessionmaker`) or that a function of its
        own module returns (`get_session_maker(engine)()`).
        So is an object of a project class that wraps the one connection or session its `__init__`
        opens (`self.conn = psycopg2.connect(...)`) and lets it go only by a method named as the
        library's own release (`def close(self): self.conn.close()`): `db = Database()` must be
        closed like the connection. A class with a base, its own `__exit__` or `__del__`, or another
        release-like method (`shutdown()`) is left to say what releases it.
        So is a session pulled out of a generator dependency outside the framework that would
        finish it (`db = next(get_db())`, `session = await anext(get_session())`, `next(gen)` of a
        parameter annotated `Callable[[], Generator[Session, None, None]]`): the generator closes
        the session only when it runs to its end. poollint knows what a generator yields from its
        annotation (`-> Generator[Session, None, None]`, `-> AsyncIterator[AsyncSession]`). Any
        other use of the generator's name (`gen.close()`, `next(gen, None)`, `closing(gen)`, handing
        it on) may finish it, and silences the finding.
        A closure keeps a connection alive only when it uses that very name, not its own
        local of the same name. A checkout on an object of unknown origin (`engine =
        build_engine(url)` from another package) is judged by the object's name
        (`engine`, `*_engine`, `pool`) only in a file that imports the checkout's library.
        An object can hold one too: a class whose `__init__` keeps a session, connection or
        checkout it opens on `self` (`self.session = SessionLocal()`), and in which nothing ever
        lets it go, holds one per object: reported at that line when the project builds such
        objects per call, in a function or method that does not run once (not `main`, not a
        registered command, not a test), directly or through the constructors of other classes
        (a handler's `ReportService()`, whose `__init__` builds `ReportData()`). What lets it go:
        a method of the class named like a release (`close`, `dispose`, `__exit__`, `__del__`,
        `shutdown`...), a release call on it, or any use of `self.session` other than calling its
        methods (returned, handed on, rebound). Handing it to a project function or method that only
        borrows it (calls its methods, and neither keeps, returns, rebinds, hands on nor releases it:
        `Journal().serial(self.connection)`) lets nothing go. A class with a base is not judged: the base may
        release it. An asyncio redis `PubSub` (`client.pubsub()`) takes a connection of the
        client's pool at its first subscribe and never returns it unless closed (`aclose()` or
        `async with`); a synchronous one gives it back when collected and is not reported.
        DB-API drivers (psycopg2, pymysql, snowflake, mysql-connector, mysqlclient, oracledb,
        cx_Oracle, pyodbc, pymssql, pg8000, clickhouse-driver, databricks, trino, redshift,
        vertica, teradatasql, hdbcli, ibm_db_dbi, aiomysql, asyncmy) open one connection per
        `connect()`; `with` closes it except in psycopg2 and pyodbc, whose `with` only ends a
        transaction. A single connection of psycopg2, pyodbc or PyMySQL that a function closes on
        its normal path only, or only ends in such a `with`, and that never leaves the function
        is DBP305's (opt-in): the driver closes it when CPython frees the function's frame. One the
        function never closes at all is reported here. A lazy ORM query (`session.query(User)` and what `filter`, `order_by`,
        `limit`... make of it) built in the `with` block that closes its session and returned or
        yielded out of it runs after the session closed: the session opens a new connection for it,
        which nothing closes (idle in transaction); it is reported at the `return`. The session is
        one the catalog knows, or a `with` item of unknown origin bound to a session's name
        (`with get_session() as session:`) in a file that imports SQLAlchemy.
    """
    example = """
        from psycopg2.pool import ThreadedConnectionPool

        pool = ThreadedConnectionPool(1, 10, "dbname=app")

        def count_users():
            conn = pool.getconn()
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM users")
                count = cur.fetchone()[0]
            pool.putconn(conn)
            return count
    """
    use_instead = """
        from psycopg2.pool import ThreadedConnectionPool

        pool = ThreadedConnectionPool(1, 10, "dbname=app")

        def count_users():
            conn = pool.getconn()
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT count(*) FROM users")
                    return cur.fetchone()[0]
            finally:
                pool.putconn(conn)
    """
    references = (
        "https://www.psycopg.org/docs/pool.html",
        "https://magicstack.github.io/asyncpg/current/api/index.html#asyncpg.pool.Pool.acquire",
        "https://docs.sqlalchemy.org/en/20/core/connections.html#basic-usage",
        "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#closing",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._lent: list[_LentSession] = []  # sessions `with` blocks close at their end, innermost last

    # -- a lazy query that leaves the `with` block closing its session -------------------------
    def visit_With(self, node: cst.With) -> None:
        function = self.context.enclosing_function()
        if function is None or self.context.is_test_file:
            return
        for item in node.items:
            asname = item.asname.name if item.asname is not None else None
            spec = self._closes_a_session(item.item, asname.value) if isinstance(asname, cst.Name) else None
            if spec is not None and spec.query_methods:
                assert isinstance(asname, cst.Name)
                self._lent.append(_LentSession(node, asname.value, function, spec))

    def leave_With(self, node: cst.With) -> None:
        while self._lent and self._lent[-1].block is node:
            self._lent.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        lent = self._innermost_lent()
        if lent is None:
            return
        for target in node.targets:
            if not isinstance(target.target, cst.Name):
                continue
            name = target.target.value
            if _builds_query(node.value, lent, name):
                lent.queries.add(name)
            else:
                lent.queries.discard(name)

    def visit_Return(self, node: cst.Return) -> None:
        self._escapes(node, node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.BaseExpression):
            self._escapes(node, node.value)

    def _escapes(self, node: cst.CSTNode, value: Optional[cst.BaseExpression]) -> None:
        lent = self._innermost_lent()
        if lent is None or value is None:
            return
        if (isinstance(value, cst.Name) and value.value in lent.queries) or _builds_query(value, lent, None):
            self.report(node, call=f"`{lent.session}.{lent.spec.query_methods[0]}()`", verb="opens", a="a",
                        library=lent.spec.library,
                        thing="connection", given="closed",
                        how=(f" (its lazy query leaves the `with` block on line {self.context.line_of(lent.block)} "
                             f"that closes `{lent.session}`: running it later opens a new connection that nothing "
                             "closes, idle in transaction)"))

    def _innermost_lent(self) -> "Optional[_LentSession]":
        """The innermost session lent to the current code, when the code runs in the `with` block's own
        function (not in a function only defined there)."""
        if not self._lent:
            return None
        lent = self._lent[-1]
        return lent if self.context.enclosing_function() is lent.function else None

    def _closes_a_session(self, expression: cst.BaseExpression, name: str) -> Optional[ImplicitTransactionSpec]:
        """The implicit transactions of the session a `with` item binds to `name`, whose end closes it: `with
        Session(engine) as session:`, a session factory's call, or a call of unknown origin (`with
        get_session() as session:` of another package) bound to a name the catalog gives sessions,
        in a file that imports their library."""
        if not isinstance(expression, cst.Call):
            return None
        qualified = self.qualified_name(expression)
        known = self.catalog.implicit_transaction(qualified)
        if known is not None:
            return known
        root = (qualified or "").split("(")[0]
        if root and (self.catalog.client_for(root) is not None or self.catalog.external_client(root) is not None):
            return None
        if "session" not in name.lower():
            return None
        by_library = {spec.library: spec for spec in self.catalog.implicit_transactions}
        named = self.catalog.named_like_receiver([spec for spec in self.catalog.transactions if spec.library in by_library],
                                                 name, self.context.imported_packages())
        return by_library[named.library] if named is not None else None


@dataclass
class _LentSession:
    """A session a `with` block binds and closes at its end, and the names bound in the block to a lazy
    query built on it (`rows = session.query(User).filter(...)`)."""

    block: cst.With
    session: str
    function: Frame
    spec: ImplicitTransactionSpec
    queries: set[str] = field(default_factory=set)


def _builds_query(value: cst.BaseExpression, lent: _LentSession, rebound: Optional[str]) -> bool:
    """`session.query(X)` and what query methods make of it, or of a name already holding one; and
    `q = narrow(q, ...)`, which hands a query to a function and keeps the name for what comes back."""
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    if isinstance(func, cst.Attribute):
        receiver, method = func.value, func.attr.value
        if isinstance(receiver, cst.Name):
            if receiver.value == lent.session:
                return method in lent.spec.query_methods
            return method in lent.spec.lazy_query_methods and receiver.value in lent.queries
        return method in lent.spec.lazy_query_methods and _builds_query(receiver, lent, None)
    return rebound is not None and rebound in lent.queries and bool(value.args) \
        and isinstance(value.args[0].value, cst.Name) and value.args[0].value.value == rebound


class ConnectionLeftToDeallocation(_Release):
    """Flags a single connection closed on the normal path only, left to CPython to close on the others."""

    code = "DBP305"
    name = "connection-left-to-deallocation"
    opt_in = True
    message = "{call} opens {a} {library} connection that {how} until CPython frees the function's frame"
    fix_hint = "Close it in a `finally` block, or open it as `with contextlib.closing(connect(...)) as conn:`"
    rationale = """
        A function opens a single connection (not a pool's) of a driver whose connection object
        closes itself when it is freed (psycopg2, pyodbc, PyMySQL: catalog `closed-when-dropped`),
        and closes it on its normal path only: `conn.close()` outside a `finally` block, or a
        `with conn:` that commits or rolls back but does not close (psycopg2, pyodbc). When an
        exception leaves the function, or after the `with`, the connection stays open until CPython
        frees the function's frame: at its return, or once its exception has been handled and its
        traceback dropped (an error reporter that keeps tracebacks keeps the connection too). On
        PyPy, or when a reference cycle holds the frame, that waits for the garbage collector.
        Nothing of a pool waits for it, and it does not pile up: each failed call leaves one server
        connection open a little longer.

        Reported only when the connection never leaves the function: nothing returns, yields,
        stores or hands on it or a cursor made from it, and no closure captures either (otherwise
        DBP304 judges it). A connection the function never closes at all is DBP304's.

        Opt-in: off unless selected (`select = ["DBP305"]` or `["DBP3"]`). On the application
        samples nearly every such finding was triaged debatable (it lingers, it does not leak),
        below the 90% strict precision a default rule keeps (SPEC.md).
    """
    example = """
        import psycopg2

        def count_users(dsn):
            conn = psycopg2.connect(dsn)
            cur = conn.cursor()
            cur.execute("SELECT count(*) FROM users")
            count = cur.fetchone()[0]
            conn.close()
            return count
    """
    use_instead = """
        import contextlib

        import psycopg2

        def count_users(dsn):
            with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM users")
                return cur.fetchone()[0]
    """
    references = (
        "https://www.psycopg.org/docs/usage.html#with-statement",
        "https://docs.python.org/3/library/contextlib.html#contextlib.closing",
    )
