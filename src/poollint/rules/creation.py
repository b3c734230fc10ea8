"""DBP1xx: where pool-owning clients are created."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from poollint.catalog.model import ClientSpec
from poollint.engine.context import Frame, dotted_name
from poollint.engine.roles import body_facts, function_role
from poollint.rules.base import FileRule

_COLLECTION_METHODS = frozenset({"append", "add", "setdefault", "insert", "extend", "update", "put", "register"})


class _ClientCreation(FileRule):
    """Shared by DBP101 and DBP102: which calls build a pool, and how their value is kept."""

    def pool_constructor(self, node: cst.Call) -> Optional[ClientSpec]:
        spec = self.catalog.client_for(self.qualified_name(node.func))
        if spec is None or not spec.owns_pool or self.context.is_test_file:
            return None
        for arg in node.args:
            if arg.keyword is None:
                continue
            for exemption in spec.not_a_pool_if:
                if arg.keyword.value == exemption.keyword and exemption.matches(self.qualified_name(arg.value)):
                    return None
        if spec.exempt_url_schemes and node.args and node.args[0].keyword is None:
            first = node.args[0].value
            if isinstance(first, cst.SimpleString) and isinstance(first.evaluated_value, str):
                if first.evaluated_value.lower().startswith(spec.exempt_url_schemes):
                    return None
        return spec

    def statement_role(self, node: cst.Call) -> str:
        """How the innermost statement uses the call: "kept" in a container or attribute, "global", "returned", or ""."""
        statement = self.context.current_statement
        if isinstance(statement, (cst.Assign, cst.AnnAssign, cst.AugAssign)) and statement.value is node:
            targets = [t.target for t in statement.targets] if isinstance(statement, cst.Assign) else [statement.target]
            if any(isinstance(t, (cst.Subscript, cst.Attribute)) for t in targets):
                return "kept"
            function = self.context.enclosing_function()
            if function is not None and isinstance(function.node, cst.FunctionDef):
                declared = body_facts(function.node).globals
                if any(isinstance(t, cst.Name) and t.value in declared for t in targets):
                    return "global"
        if isinstance(statement, cst.Return) and statement.value is node:
            return "returned"
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
            outer = statement.value
            if isinstance(outer.func, cst.Attribute) and outer.func.attr.value in _COLLECTION_METHODS \
                    and any(arg.value is node for arg in outer.args):
                return "kept"
        return ""

    def display(self, node: cst.Call) -> str:
        return f"{dotted_name(node.func) or 'client'}()"


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
        decorated with `functools.cache`/`lru_cache`/`st.cache_resource`, a lazy global
        (`global engine; if engine is None: ...`) or a class-level cache, a start-up hook
        (FastAPI lifespan or `on_event("startup")`, a Flask app factory, Django's
        `AppConfig.ready`, a management or click/typer command), or a script's `main()`.
        A NullPool engine, a client built on an existing pool (`Redis(connection_pool=...)`),
        and SQLite engines own no server connections. A function that returns the client
        is a factory: the finding lands where a per-call function calls it. Test code is
        judged by DBP303/DBP304 instead.
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
        if _innermost_loop(self.context.frames) is not None and not chain:
            return  # DBP102's finding
        function = self.context.enclosing_function()
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return
        role = self._per_call_role(node, function)
        if role is None:
            return
        call = f"`{self.display(node)}`" if not chain else f"`{self.display(node)}` -> `{chain}`"
        self.report(node, root=("client", id(node)), call=call, library=spec.library,
                    function=function.node.name.value, role=f" ({role})" if role else "")

    def _per_call_role(self, node: cst.Call, function: Frame) -> Optional[str]:
        """The per-call role of the innermost function, "" for a plain function, None when guarded."""
        assert isinstance(function.node, cst.FunctionDef)
        role = function_role(self.context, function.node, self.context.enclosing_class())
        if role.runs_once or role.is_test:
            return None
        usage = self.statement_role(node)
        if usage in ("kept", "global"):
            return None
        if not role.per_call:
            if usage == "returned" or self._bound_and_returned(node, function.node):
                return None  # a factory: judged where it is called
            for outer in self.context.enclosing(cst.FunctionDef):
                if outer is function:
                    continue
                outer_role = function_role(self.context, outer.node, None)  # type: ignore[arg-type]
                if outer_role.runs_once or outer_role.is_test:
                    return None
        return role.per_call

    def _bound_and_returned(self, node: cst.Call, function: cst.FunctionDef) -> bool:
        """`engine = create_engine(...)` ... `return engine`: a factory, judged at its call sites."""
        statement = self.context.current_statement
        if not isinstance(statement, (cst.Assign, cst.AnnAssign)) or statement.value is not node:
            return False
        targets = [t.target for t in statement.targets] if isinstance(statement, cst.Assign) else [statement.target]
        names = {t.value for t in targets if isinstance(t, cst.Name)}
        return bool(names & returned_names(function))

    def _factory_call(self, node: cst.Call) -> tuple[Optional[ClientSpec], str]:
        """A call of a factory defined in this module: (the client it builds, its constructor)."""
        if not isinstance(node.func, cst.Name):
            return None, ""
        factory = self.context.module_functions.get(node.func.value)
        if factory is None or self.context.lookup(node.func.value) != self.context.module_qualified(node.func.value):
            return None, ""
        found = factory_constructor(self, factory)
        if found is None:
            return None, ""
        spec, constructor = found
        return spec, constructor


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
        comprehension of engines: one pool per database) and clients released in the same
        iteration are not reported.
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
        loop = _innermost_loop(self.context.frames)
        if loop is None:
            return
        spec = self.pool_constructor(node)
        if spec is None:
            return
        if isinstance(loop.node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)) and loop.node.elt is node:
            return  # a collection of clients, one per item
        if isinstance(loop.node, cst.DictComp) and loop.node.value is node:
            return
        if not isinstance(loop.node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            if self.statement_role(node) in ("kept", "global", "returned"):
                return
            if self._released_in_loop(node, loop.node):
                return
        self.report(node, root=("client", id(node)), call=f"`{self.display(node)}`", library=spec.library,
                    line=self.context.line_of(loop.node))

    def _released_in_loop(self, node: cst.Call, loop: cst.CSTNode) -> bool:
        spec = self.pool_constructor(node)
        assert spec is not None
        for item in self.context.enclosing(cst.With):
            if any(i.item is node for i in item.node.items):  # type: ignore[attr-defined]
                return spec.context_manager_releases
        statement = self.context.current_statement
        if isinstance(statement, cst.Assign) and statement.value is node:
            names = {t.target.value for t in statement.targets if isinstance(t.target, cst.Name)}
            return any(
                isinstance(call.func, cst.Attribute) and call.func.attr.value in spec.release
                and isinstance(call.func.value, cst.Name) and call.func.value.value in names
                for call in _calls_in(loop)
            )
        return False


def _innermost_loop(frames: list[Frame]) -> Optional[Frame]:
    """The innermost loop or comprehension inside the innermost function (or module)."""
    for frame in reversed(frames):
        if frame.is_function or isinstance(frame.node, cst.ClassDef):
            return None
        if frame.is_loop:
            return frame
    return None


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []
        self.returned: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Return(self, node: cst.Return) -> None:
        if isinstance(node.value, cst.Name):
            self.returned.add(node.value.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _calls_in(node: cst.CSTNode) -> list[cst.Call]:
    collector = _Calls()
    node.visit(collector)
    return collector.calls


def returned_names(function: cst.FunctionDef) -> set[str]:
    collector = _Calls()
    function.body.visit(collector)
    return collector.returned


def factory_constructor(rule: _ClientCreation, function: cst.FunctionDef) -> Optional[tuple[ClientSpec, str]]:
    """If `function` returns a new pool-owning client and is not cached, the client and its constructor."""
    role = function_role(rule.context, function, None)
    if role.runs_once:
        return None
    returned = returned_names(function)
    for statement in _return_and_assign_statements(function):
        if isinstance(statement, cst.Return) and isinstance(statement.value, cst.Call):
            call = statement.value
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
    function.body.visit(collector)
    return collector.found
