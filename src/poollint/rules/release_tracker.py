"""The release analysis DBP301–DBP304 share: where a client, connection, session or checkout is
opened in a file, and whether it is given back on every path (rules/release.py reports it)."""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Optional

import libcst as cst

from poollint.catalog.model import CheckoutSpec, ClientSpec
from poollint.python.cst.context import (
    LOOP_TYPES, NEXT_BUILTINS, dotted_name, expression_root, is_main_guard, positional_arguments,
)
from poollint.python.cst.logging_calls import is_logging_call
from poollint.python.cst.walk import visit as cst_visit
from poollint.python.cst.modules import base_classes, borrowed_by, project_class
from poollint.python.cst.roles import decorator_target, function_role
from poollint.pyast import NEXT_NAMES
from poollint.python.facts import INSPECTING_BUILTINS
from poollint.rules.client_flow import (parameters_given, reached_only_from_run_once, runs_once_per_process,
                                        serves_an_endless_loop)

if TYPE_CHECKING:
    from poollint.python.cst.context import FileContext

_BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException"})
# builtins that look at a value without taking it over


@dataclass
class Opening:
    """A call that opens a connection or a client whose release this module tracks."""

    node: cst.Call
    # "client" (owns a pool), "connection" (a single connection), "session" (an ORM session) or "checkout"
    kind: str
    library: str
    release: tuple[str, ...]
    cm_releases: bool
    setting: str  # "script", "fixture", "setup" (unittest) or "function"
    scope: cst.CSTNode  # the function (or module) whose code runs it
    function: str = ""
    receiver: Optional[str] = None  # the client's name, for `db.connect()`
    shared: bool = False  # the receiver is bound at module level
    root: Optional[tuple[Any, ...]] = None
    # pulled out of a generator (`next(get_db())`): the generator's display and its local name, if any
    generator: Optional[tuple[str, Optional[str]]] = None


@dataclass
class Verdict:
    code: str
    node: cst.CSTNode
    root: Optional[tuple[Any, ...]]
    fields: dict[str, Any] = field(default_factory=dict)


# how DBP305 words a connection that only a transaction `with` ends (psycopg2's, pyodbc's)
_ENDED_BY_WITH = "is used in a `with` block that ends its transaction but does not close it: it stays open"


@dataclass
class _Uses:
    """How a tracked name is used in the code that can release it."""

    safe: bool = False
    releases: list[cst.Call] = field(default_factory=list)  # release calls (or helpers) not known to be safe
    returned: bool = False
    yielded: bool = False
    stored: bool = False  # kept on an object, in a container, in a global or a closure
    passed: bool = False  # handed to a function that may release it
    kept: list[cst.Call] = field(default_factory=list)  # handed to project objects that never release it
    ended_by_with: bool = False  # `with conn:` of a connection whose `with` ends a transaction, not the connection


class _Parents(cst.CSTVisitor):
    def __init__(self) -> None:
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.stack:
            self.parents[node] = self.stack[-1]
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()


class _Walk(cst.CSTVisitor):
    """Every node below a root, optionally not entering nested functions, lambdas and classes."""

    def __init__(self, nested: bool) -> None:
        self.nodes: list[cst.CSTNode] = []
        self.nested = nested
        self.closures: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        if not self.nested and isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            self.closures.append(node)
            return False
        return True


def _walk(root: cst.CSTNode, nested: bool) -> _Walk:
    walker = _Walk(nested)
    if isinstance(root, cst.FunctionDef):
        cst_visit(root.body, walker)
    else:
        cst_visit(root, walker)
    return walker


def _names_in(node: cst.CSTNode) -> set[str]:
    return {n.value for n in _walk(node, nested=True).nodes if isinstance(n, cst.Name)}


def _local_of(closure: cst.CSTNode, name: str) -> bool:
    """Whether `name` is a local variable of a nested function (assigned there, not declared nonlocal):
    then the closure's `name` is another value, and the outer one is not kept alive by it."""
    if not isinstance(closure, cst.FunctionDef):
        return False
    nodes = _walk(closure, nested=False).nodes
    if any(isinstance(n, (cst.Nonlocal, cst.Global)) and any(i.name.value == name for i in n.names) for n in nodes):
        return False
    params = closure.params
    if any(p.name.value == name for p in (*params.posonly_params, *params.params, *params.kwonly_params)):
        return True
    return any(isinstance(n, (cst.Assign, cst.AnnAssign)) and any(
        _is_name(t, name) for t in ([x.target for x in n.targets] if isinstance(n, cst.Assign) else [n.target]))
        for n in nodes)


def _is_name(node: Optional[cst.CSTNode], name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _call_display(node: cst.Call) -> str:
    if isinstance(node.func, cst.Name) and node.func.value in NEXT_NAMES and node.args:
        pulled = node.args[0].value  # `next(get_db())`, `anext(session_gen)`: the generator says what it is
        inner = dotted_name(pulled.func) if isinstance(pulled, cst.Call) else dotted_name(pulled)
        if inner:
            return f"`{node.func.value}({inner}{'()' if isinstance(pulled, cst.Call) else ''})`"
    if isinstance(node.func, cst.Attribute):
        receiver = node.func.value
        built_by = dotted_name(receiver.func) if isinstance(receiver, cst.Call) and not receiver.args else None
        # `get_engine().connect()`: a factory's result, called without arguments, reads as written
        base = dotted_name(node.func) or (f"{built_by}().{node.func.attr.value}" if built_by
                                          else f"….{node.func.attr.value}")
    elif isinstance(node.func, cst.Call) and dotted_name(node.func.func):
        base = f"{dotted_name(node.func.func)}(...)"  # `sessionmaker(bind=engine)()`
    else:
        base = dotted_name(node.func) or "call"
    return f"`{base}()`"


class ReleaseTracker:
    """Collects openings during the traversal and judges them once at the end; shared by DBP301–DBP304."""

    def __init__(self, context: "FileContext") -> None:
        # the context keeps its tracker (`of`); the tracker refers back weakly, so that the file's tree
        # is freed by reference counting once the file is done, not left for a full garbage collection
        self._context = weakref.ref(context)
        self.catalog = context.catalog
        self.guards = context.catalog.guards
        self.openings: list[Opening] = []
        self.constructors: dict[tuple[int, str], cst.Call] = {}
        self.exempt_pools: set[tuple[int, str]] = set()
        self._seen: Optional[cst.Call] = None
        self._verdicts: Optional[list[Verdict]] = None
        self._parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.is_script, self.script_module = self._script_kind()

    @property
    def context(self) -> "FileContext":
        context = self._context()
        assert context is not None, "a release tracker outlived its file"
        return context

    @classmethod
    def of(cls, context: "FileContext") -> "ReleaseTracker":
        tracker = context.__dict__.get("_release_tracker")
        if tracker is None:
            tracker = cls(context)
            context.__dict__["_release_tracker"] = tracker
        return tracker

    # -- what kind of file ------------------------------------------------------------------
    def _script_kind(self) -> tuple[bool, bool]:
        """(the file runs as a script, its module-level code is the script's code)."""
        module = self.context.module
        shebang = self.context.source.startswith("#!")
        runner = False
        guard = False
        for statement in module.body:
            if isinstance(statement, cst.If) and is_main_guard(statement.test):
                guard = True
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                        if self.context.qualified_name(small.value.func) in self.guards.script_runners:
                            runner = True
        return shebang or runner or guard, shebang or runner

    # -- during the traversal ---------------------------------------------------------------
    def see(self, node: cst.Call) -> None:
        if self._seen is node:
            return
        self._seen = node
        opening = self._classify(node)
        if opening is not None:
            self.openings.append(opening)

    def _setting(self) -> Optional[tuple[str, cst.CSTNode, str]]:
        context = self.context
        frame = context.enclosing_function()
        if frame is None:
            if any(isinstance(f.node, cst.ClassDef) for f in context.frames):
                return None
            if self.script_module or any(
                isinstance(f.node, cst.If) and is_main_guard(f.node.test) for f in context.frames
            ):
                return "script", context.module, ""
            return None
        function = frame.node
        if not isinstance(function, cst.FunctionDef):
            return None
        name = function.name.value
        if any(context.qualified_name(decorator_target(d)[0]) in self.guards.pytest_fixtures for d in function.decorators):
            return "fixture", function, name
        owner = context.enclosing_class()
        if owner is not None:
            if name in self.guards.setup_methods and self._is_test_case(owner):
                return "setup", function, f"{owner.name.value}.{name}"
            return "function", function, name
        if context.module_functions.get(name) is function and (
            (self.is_script and (name == "main" or name in context.main_guard_calls))
            or function_role(context, function, None).runs_once == "a command-line command"
        ):
            return "script", function, name
        return "function", function, name

    def _is_test_case(self, owner: cst.ClassDef) -> bool:
        return any(self.context.qualified_name(base.value) in self.guards.test_case_bases for base in owner.bases)

    def _classify(self, node: cst.Call) -> Optional[Opening]:
        context = self.context
        func = context.qualified_name(node.func)
        spec = self.catalog.client_for(func)
        if spec is not None:
            return self._constructed(node, spec)
        if func in NEXT_BUILTINS:
            return self._pulled_from_generator(node)
        built = self._project_pool_in_setup(node)
        if built is not None:
            return built
        if isinstance(node.func, cst.Attribute):
            receiver = context.qualified_name(node.func.value)
            if receiver and receiver.endswith("()"):
                return self._method_opening(node, receiver[:-2], node.func.attr.value)
        elif isinstance(node.func, cst.Name):
            return self._factory_opening(node)
        return None

    def _project_pool_in_setup(self, node: cst.Call) -> Optional[Opening]:
        """`self.dbconn = storage.DBConn(dsn)` in a test case's `setUp`: a project class (or function) that
        builds a pool per call (the project index's factories); its `tearDown` must mention it. Pytest
        fixtures are left alone: what releases such an object (`conn.engine.dispose()`, a method of its
        own) is not known from its name."""
        index = self.context.index
        if index is None or (self._setting() or ("",))[0] != "setup":
            return None
        factory = index.factory(self.context.qualified_name(node.func))
        spec = self.catalog.client_for(factory.constructor) if factory is not None and not factory.cached else None
        if spec is None or not spec.owns_pool:
            return None
        return self._opening(node, "client", spec.library, spec.release, spec.context_manager_releases,
                             root=("client", id(node)))

    def _constructed(self, node: cst.Call, spec: ClientSpec) -> Optional[Opening]:
        statement = self.context.current_statement
        if spec.pool_argument and not self._bound_to_pool(node, spec.pool_argument):
            return None  # `Session(bind=connection)`: it uses the connection it is given
        if spec.connect:
            # a client that opens nothing until `connect()`: remember where it was built
            if isinstance(statement, (cst.Assign, cst.AnnAssign)) and statement.value is node:
                targets = [t.target for t in statement.targets] if isinstance(statement, cst.Assign) else [statement.target]
                for target in targets:
                    if isinstance(target, cst.Name):
                        self.constructors[(id(self.context.binding_frame().node), target.value)] = node
            setting = self._setting()
            if setting is None or setting[0] != "setup":
                return None
        if spec.owns_pool and _exempt(self.context, node, spec):
            for target in _assigned_names(statement, node):
                self.exempt_pools.add((id(self.context.binding_frame().node), target))
            return None
        return self._opening(node, "client" if spec.owns_pool else spec.kind, spec.library, spec.release,
                             spec.context_manager_releases, root=("client", id(node)) if spec.owns_pool else None)

    def _pulled_from_generator(self, node: cst.Call) -> Optional[Opening]:
        """`db = next(get_db())`, `session = await anext(session_gen)`: a session or connection a project
        generator opens and yields (FileContext.qualified_name of the call). The generator closes it
        only when it is finished, so it is this function's to close, like one it opened itself."""
        made = self.context.qualified_name(node)
        spec = self.catalog.client_for(made[:-2]) if made and made.endswith("()") else None
        if spec is None or spec.owns_pool or spec.connect:
            return None
        opening = self._opening(node, spec.kind, spec.library, spec.release, spec.context_manager_releases)
        if opening is not None:
            generator = node.args[0].value
            display = f"`{dotted_name(generator.func)}()`" if isinstance(generator, cst.Call) and dotted_name(
                generator.func) else "the generator"
            opening.generator = (display, generator.value if isinstance(generator, cst.Name) else None)
        return opening

    def _bound_to_pool(self, node: cst.Call, keyword: str) -> bool:
        """Whether a session built by `node` checks connections out of a pool: it is a configured factory's
        call (`SessionLocal()`) that is given no `keyword`, or its first argument or `keyword` is a
        pool-owning client (an engine). `maker(bind=connection)` uses the connection it is given
        (alembic's `op.get_bind()`), whatever the factory was configured with."""
        named = [arg for arg in node.args if arg.keyword is not None and arg.keyword.value == keyword]
        if (self.context.qualified_name(node.func) or "").endswith("()") and not named:
            return True
        positional = positional_arguments(node)
        argument = named[0] if named else positional[0] if positional else None
        if argument is not None and self._names_exempt_pool(argument.value):
            return False  # `Session(bind=engine)` of `engine = create_engine("sqlite://")`: no server
        origin = self.context.qualified_name(argument.value) if argument is not None else None
        return origin is not None and origin.endswith("()") and self.catalog.pool_client(origin[:-2]) is not None

    def _method_opening(self, node: cst.Call, owner_name: str, method: str) -> Optional[Opening]:
        owner = self.catalog.client_for(owner_name)
        if owner is not None and method in owner.connect and isinstance(node.func, cst.Attribute) \
                and isinstance(node.func.value, cst.Name):
            name = node.func.value.value
            frame = self.context.frame_binding(name)
            if frame is None:
                return None
            constructor = self.constructors.get((id(frame.node), name))
            opening = self._opening(node, "client", owner.library, owner.release, owner.context_manager_releases,
                                    root=("client", id(constructor if constructor is not None else node)))
            if opening is not None:
                opening.receiver = name
                opening.shared = frame.node is self.context.module
            return opening
        checkout = self._checkout(owner, owner_name, method)
        if checkout is None and owner is None:
            checkout = self._checkout_on_factory_result(owner_name, method) \
                or self._checkout_by_name(node, owner_name, method) or self._checkout_by_use(node, method)
        if checkout is None or self._from_exempt_pool(node):
            return None
        return self._opening(node, "checkout", checkout.library, checkout.release, checkout.context_manager_releases)

    def _checkout_on_factory_result(self, owner_name: str, method: str) -> Optional[CheckoutSpec]:
        """`get_engine().connect()`, `engine = get_engine(); engine.connect()`: what a project factory
        returns is the client its constructor builds (ProjectIndex.factory), lazily cached or not, so the
        checkout takes a connection out of that client's pool. A factory of an SQLite URL builds none."""
        index = self.context.index
        return self.catalog.checkout_taken(index.factory_checkout(f"{owner_name}().{method}()")) if index else None

    def _checkout_by_name(self, node: cst.Call, owner_name: str, method: str) -> Optional[CheckoutSpec]:
        """`engine = build_engine(url)` (a helper of another package) then `engine.connect()`: an object of
        unknown origin, judged by its name in a project that imports the checkout's library."""
        receiver = node.func.value if isinstance(node.func, cst.Attribute) else None
        if not isinstance(receiver, cst.Name) or self.catalog.external_client(owner_name) is not None \
                or any(owner_name in self.catalog.receivers_of(s) for s in (*self.catalog.transactions,
                                                                            *self.catalog.checkouts)):
            return None
        found = self.catalog.named_like_receiver([spec for spec in self.catalog.checkouts if method in spec.methods],
                                                 receiver.value, self.context.imported_packages(receiver))
        return found if isinstance(found, CheckoutSpec) else None

    def _checkout_by_use(self, node: cst.Call, method: str) -> Optional[CheckoutSpec]:
        """`pubsub = client.pubsub()` on a client a provider handed over, then `await pubsub.subscribe(...)`
        in the same function: what is awaited on the checkout tells its library (`awaited_uses`), in a
        project that imports the library."""
        statement = self.context.current_statement
        setting = self._setting()
        if not isinstance(statement, cst.Assign) or statement.value is not node or len(statement.targets) != 1 \
                or not isinstance(statement.targets[0].target, cst.Name) or setting is None:
            return None
        taken = statement.targets[0].target.value
        specs = [spec for spec in self.catalog.checkouts if method in spec.methods and spec.awaited_uses
                 and spec.library.split("-")[0] in self.context.imported_packages(node.func)]
        if not specs:
            return None
        awaited = {inner.expression.func.attr.value for inner in _walk(setting[1], nested=False).nodes
                   if isinstance(inner, cst.Await) and isinstance(inner.expression, cst.Call)
                   and isinstance(inner.expression.func, cst.Attribute)
                   and isinstance(inner.expression.func.value, cst.Name) and inner.expression.func.value.value == taken}
        return next((spec for spec in specs if awaited & set(spec.awaited_uses)), None)

    def _from_exempt_pool(self, node: cst.Call) -> bool:
        """`engine = create_engine("sqlite://...")` (or NullPool) then `engine.connect()`: nothing waits on a server."""
        return isinstance(node.func, cst.Attribute) and self._names_exempt_pool(node.func.value)

    def _names_exempt_pool(self, expression: cst.BaseExpression) -> bool:
        """`engine`, bound here to an SQLite or NullPool engine (`exempt_pools`)."""
        if not isinstance(expression, cst.Name):
            return False
        frame = self.context.frame_binding(expression.value)
        return frame is not None and (id(frame.node), expression.value) in self.exempt_pools

    def _checkout(self, owner: Optional[ClientSpec], owner_name: str, method: str) -> Optional[CheckoutSpec]:
        found = self.catalog.checkout_on_client(owner_name, method) if owner is not None else None
        return found or next((spec for spec in self.catalog.checkout_specs(method) if owner_name in spec.receivers), None)

    def _factory_opening(self, node: cst.Call) -> Optional[Opening]:
        """`conn = get_conn()` where `get_conn` of this module returns a new single connection."""
        assert isinstance(node.func, cst.Name)
        name = node.func.value
        factory = self.context.module_functions.get(name)
        if factory is None or self.context.lookup(name) != self.context.module_qualified(name):
            factory = self._nested_function(name)
            if factory is None:
                return self._imported_opening(node)
        if function_role(self.context, factory, None).runs_once:
            return None
        spec = self._returned_connection(factory)
        if spec is None:
            index = self.context.index
            if index is None or factory is not self.context.module_functions.get(name):
                return None
            # a checkout it returns (`return engine.connect()`): the index read it (ModuleFacts.openers)
            return self._opened_by_project(node, index.opened_by(self.context.module_qualified(name)))
        return self._opening(node, spec.kind, spec.library, spec.release, spec.context_manager_releases)

    def _imported_opening(self, node: cst.Call) -> Optional[Opening]:
        """`db = get_session()` where `get_session` of another project module returns a new session
        (the project index's openers)."""
        index = self.context.index
        if index is None:
            return None
        return self._opened_by_project(node, index.opened_by(self.context.qualified_name(node.func)))

    def _opened_by_project(self, node: cst.Call, opened: Optional[str]) -> Optional[Opening]:
        """The opening of a call of a project function that returns a connection, a session or a checkout
        it opens (ProjectIndex.opened_by: a catalog constructor, or `create_engine().connect()`)."""
        checkout = self.catalog.checkout_taken(opened)
        if checkout is not None:
            return self._opening(node, "checkout", checkout.library, checkout.release, checkout.context_manager_releases)
        spec = self.catalog.client_for(opened)
        if spec is None:
            return None
        return self._opening(node, spec.kind, spec.library, spec.release, spec.context_manager_releases)

    def _nested_function(self, name: str) -> Optional[cst.FunctionDef]:
        """`def connect(): ...` defined in an enclosing function, not rebound there."""
        if self.context.lookup(name) is not None and name not in self.context.module_functions:
            return None
        for frame in reversed(self.context.frames):
            if not isinstance(frame.node, cst.FunctionDef):
                continue
            body = frame.node.body.body if isinstance(frame.node.body, cst.IndentedBlock) else ()
            for statement in body:
                if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
                    return statement
        return None

    def _returned_connection(self, factory: cst.FunctionDef) -> Optional[ClientSpec]:
        cache = self.context.__dict__.setdefault("_connection_factories", {})
        if factory in cache:
            return cache[factory]
        found: Optional[ClientSpec] = None
        walker = _walk(factory, nested=False)
        returned = {n.value.value for n in walker.nodes if isinstance(n, cst.Return) and isinstance(n.value, cst.Name)}
        for node in walker.nodes:
            value: Optional[cst.BaseExpression] = None
            if isinstance(node, cst.Return):
                value = node.value
            elif isinstance(node, cst.Assign) and any(_is_name_in(t.target, returned) for t in node.targets):
                value = node.value
            if isinstance(value, cst.Await):
                value = value.expression
            if isinstance(value, cst.Call):
                spec = self.catalog.client_for(self.context.qualified_name(value.func))
                if spec is not None and not spec.owns_pool and not spec.connect and (
                        not spec.pool_argument or self._bound_to_pool(value, spec.pool_argument)):
                    found = spec
                    break
        cache[factory] = found
        return found

    def _opening(self, node: cst.Call, kind: str, library: str, release: tuple[str, ...], cm_releases: bool,
                 root: Optional[tuple[Any, ...]] = None) -> Optional[Opening]:
        setting = self._setting()
        if setting is None:
            return None
        where, scope, function = setting
        if kind == "client" and where == "function":
            return None  # a pool built per call is DBP101's; one built once lives as long as the process
        if where == "function" and (self.context.is_test_file or function.startswith("test")):
            return None  # test bodies poke at connections on purpose; their fixtures are DBP303's
        if not release and not cm_releases:
            return None
        return Opening(node, kind, library, tuple(release), cm_releases, where, scope, function, root=root)

    # -- after the traversal ----------------------------------------------------------------
    def verdicts(self) -> list[Verdict]:
        if self._verdicts is None:
            self._verdicts = []
            if self.openings:
                collector = _Parents()
                cst_visit(self.context.module, collector)
                self._parents = collector.parents
                for opening in self.openings:
                    verdict = self._judge(opening)
                    if verdict is not None:
                        self._verdicts.append(verdict)
        return self._verdicts

    def _judge(self, opening: Opening) -> Optional[Verdict]:
        if opening.receiver is not None:
            name: Optional[str] = opening.receiver
            note = ""
            direct = None
        else:
            target = self._target(opening)
            if target is None:
                return None
            direct, name, note = target
            if direct == "safe":
                return None
            if opening.generator is not None:
                display, generator_name = opening.generator
                if generator_name is not None and self._generator_finished(opening, generator_name):
                    return None
                note = note or (f"{display} closes it only when it runs to its end, and nothing finishes "
                                f"{f'`{generator_name}`' if generator_name else 'it'}: `close()` the session "
                                f"(or the generator) in `finally`")
            if direct == "kept":
                return self._judge_kept(opening, name)
            if opening.setting == "setup" and name is not None and name.startswith("."):
                return self._judge_setup(opening, name[1:])
        if name is None:
            if opening.setting == "fixture" and direct in ("returned", "yielded", "with"):
                return self._fixture_finding(opening, note)
            if direct == "with":
                if self._left_to_deallocation(opening, None, None):
                    return self._deallocation_verdict(opening, _ENDED_BY_WITH)
                return self._missing(opening, note)
            return None
        uses = self._uses(opening, name)
        if self._serves_a_worker(opening, name):
            return None
        if opening.setting in ("fixture", "setup"):
            if uses.safe or uses.releases or uses.stored:
                return None
            if uses.returned or uses.yielded or direct in ("returned", "yielded") or not uses.passed:
                return self._fixture_finding(opening, note)
            return None
        if uses.safe or uses.returned or uses.stored:
            return None
        if uses.releases:
            if self._effectively_safe(opening, uses.releases):
                return None
            if self._leak_ends_with_the_script(opening) or self._leaks_once_per_process(opening):
                return None
            first = uses.releases[0]
            if self._left_to_deallocation(opening, name, uses):
                return self._deallocation_verdict(
                    opening, f"is closed by {_call_display(first)} on line {self.context.line_of(first)} outside a "
                             f"`finally` block: on an exception it stays open")
            if opening.setting == "script" and opening.kind != "checkout":
                return Verdict("DBP302", first, opening.root, {
                    "release": _call_display(first), "library": opening.library, "a": _article(opening.library), "thing": _thing(opening),
                    "line": self.context.line_of(opening.node),
                })
            return Verdict("DBP304", opening.node, opening.root, {
                "call": _call_display(opening.node), "verb": _verb(opening), "given": _given(opening), "library": opening.library, "a": _article(opening.library),
                "thing": _thing(opening), "how": f" ({_call_display(first)} on line {self.context.line_of(first)} is not in a `finally` block)",
            })
        if uses.yielded or (uses.passed and not (direct == "with" and self._only_lent(opening, name))):
            return None
        if uses.kept:
            if not self._only_lent(opening, name):
                return None  # the object that keeps it is returned, stored or handed on: so is the duty to close
            keeper = _call_display(uses.kept[0])
            note = f"{note}; " if note else ""
            note += f"{keeper} keeps it and never {_verb_release(opening)} it"
        elif (direct == "with" or uses.ended_by_with) and self._left_to_deallocation(opening, name, uses):
            return self._deallocation_verdict(opening, _ENDED_BY_WITH)
        return self._missing(opening, note, name)

    def _left_to_deallocation(self, opening: Opening, name: Optional[str], uses: Optional[_Uses]) -> bool:
        """A single connection of a driver that closes it when the object is freed, which a function's code
        closes on its normal path only, or ends in a `with` that commits or rolls back, and which never leaves
        the function's frame: nothing returns, yields, stores or hands on it or a cursor made from it, and
        no closure captures either. What is left open on the other paths is closed when CPython frees the
        frame, once the function has returned or its exception has been handled: late, not for good, and
        nothing of a pool waits for it. That shape is DBP305's (opt-in), not DBP304's."""
        if opening.kind != "connection" or opening.setting != "function" \
                or not self.catalog.closed_when_dropped(opening.library):
            return False
        function = self._enclosing(opening.node, cst.FunctionDef)
        if not isinstance(function, cst.FunctionDef) or function is not opening.scope or function.asynchronous:
            return False
        if name is None:
            return True  # `with psycopg2.connect(dsn):`: nothing but the `with` holds it
        if uses is None or uses.kept or any(self._enclosing(r, cst.FunctionDef) is not function for r in uses.releases):
            return False
        if uses.returned or uses.yielded or uses.stored or uses.passed:
            return False
        for alias in self._made_from(function, name):
            made = self._uses(opening, alias)
            if made.stored or made.passed or made.kept or self._hands_on(function, alias):
                return False
        return True

    def _hands_on(self, function: cst.FunctionDef, name: str) -> bool:
        """Whether the function returns or yields what `name` holds (a cursor), other than the rows its
        `fetch*()` methods read (catalog `row-methods`)."""
        for node in _walk(function, nested=False).nodes:
            if isinstance(node, (cst.Return, cst.Yield)) and node.value is not None:
                value = node.value
                rows = {id(call.func.value) for call in _walk(value, nested=False).nodes
                        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                        and call.func.attr.value in self.guards.row_methods}
                if any(isinstance(n, cst.Name) and n.value == name and id(n) not in rows
                       for n in _walk(value, nested=False).nodes):
                    return True
        return False

    def _made_from(self, function: cst.FunctionDef, name: str) -> set[str]:
        """Local names bound to what a method of `name` returns (`cur = conn.cursor()`): a cursor keeps its
        connection alive for as long as it lives."""
        nodes = _walk(function, nested=False).nodes
        made = {target.value for targets, call in _assigned_calls(nodes)
                if isinstance(call.func, cst.Attribute) and _is_name(expression_root(call.func), name)
                for target in targets if isinstance(target, cst.Name) and target.value != name}
        for node in nodes:
            if isinstance(node, cst.WithItem) and node.asname is not None and isinstance(node.asname.name, cst.Name) \
                    and isinstance(node.item, cst.Call) and isinstance(node.item.func, cst.Attribute) \
                    and _is_name(expression_root(node.item.func), name):
                made.add(node.asname.name.value)
        return made

    def _deallocation_verdict(self, opening: Opening, how: str) -> Verdict:
        return Verdict("DBP305", opening.node, opening.root, {
            "call": _call_display(opening.node), "library": opening.library, "a": _article(opening.library),
            "how": how,
        })

    def _serves_a_worker(self, opening: Opening, name: str) -> bool:
        """A connection or subscription opened before a worker's endless loop (`pubsub.psubscribe(...)`,
        then `while True: pubsub.get_message()`), in a module function that only run-once code starts
        (a start-up hook's task, a script's `main()`): it is meant to live as long as the worker, which
        starts once; only the exception that ends the worker skips its release."""
        scope = opening.scope
        if opening.setting != "function" or not isinstance(scope, cst.FunctionDef) or name.startswith("."):
            return False
        if not serves_an_endless_loop(opening.node, scope, {name}):
            # a loop over a subscription stream (`async for message in pubsub.listen()`) serves until the
            # connection drops; inside a loop of its own (a retry loop), it is opened again on every pass
            streams = frozenset(stream for spec in self.catalog.clients if spec.library == opening.library
                                for stream in spec.subscription_streams)
            if not streams or self._in_loop(opening.node, scope) \
                    or not serves_an_endless_loop(opening.node, scope, {name}, streams):
                return False
        return self._started_once(scope)

    def _started_once(self, function: cst.FunctionDef) -> bool:
        """A module function that only run-once code calls, or a function nested in such a one or in a
        start-up function, which calls it there (`asyncio.create_task(listen())` in `main()`) outside
        any loop and uses it for nothing else."""
        if self.context.module_functions.get(function.name.value) is function:
            return reached_only_from_run_once(self.context, function)
        outer = self._enclosing(function, cst.FunctionDef)
        if outer is None or self.context.module_functions.get(outer.name.value) is not outer or not (
                function_role(self.context, outer, None).runs_once or reached_only_from_run_once(self.context, outer)):
            return False
        uses = [node for node in _walk(outer, nested=False).nodes
                if _is_name(node, function.name.value) and node is not function.name]
        calls = [node for node in uses if isinstance(self._parents.get(node), cst.Call)
                 and self._parents[node].func is node]  # type: ignore[attr-defined]
        return bool(uses) and len(calls) == len(uses) and not any(self._in_loop(call, outer) for call in calls)

    def _generator_finished(self, opening: Opening, generator_name: str) -> bool:
        """Whether the function may finish or close the generator it pulled the opening from: any use of
        its name but `gen = make()` and the `next(gen)` itself (`gen.close()`, `next(gen, None)`, a `for`
        over it, `contextlib.closing(gen)`, handing it on)."""
        pulled = opening.node.args[0].value
        return any(_is_name(node, generator_name) and node is not pulled
                   and not isinstance(self._parents.get(node), cst.AssignTarget)
                   for node in _walk(opening.scope, nested=True).nodes)

    def _judge_kept(self, opening: Opening, attribute: Optional[str]) -> Optional[Verdict]:
        """`self.session = Session()` in `__init__` of a class whose objects never let it go
        (ModuleFacts.holders), built per call somewhere in the project (ProjectIndex.holder_made_per_call):
        each object holds a session or connection until it is collected. Any other `self.` attribute,
        or a class the project builds only once, is left alone."""
        scope, index = opening.scope, self.context.index
        if attribute is None or index is None or not isinstance(scope, cst.FunctionDef) \
                or scope.name.value != "__init__":
            return None
        klass = self._parents.get(self._parents.get(scope))  # the class whose body holds `__init__`
        if not isinstance(klass, cst.ClassDef) or self._parents.get(klass) is not self.context.module:
            return None
        held = index.holder_made_per_call(self.context.module_qualified(klass.name.value))
        if held is None or held[0] != attribute:
            return None
        name, caller = klass.name.value, ".".join(held[1].split(".")[-2:])
        return self._missing(opening, f"`{name}` keeps it on `self.{attribute}` and never {_verb_release(opening)} "
                                      f"it; a `{name}` is built on every call of `{caller}()`", None)

    def _only_lent(self, opening: Opening, name: str) -> bool:
        """Whether the calls that take the connection bound by `with ... as name`, or kept by project
        objects that never release it, only borrow it.

        The `with` scopes the connection to its block, so a function called there uses it and gives
        it back; an object that only keeps it gives nothing back either. It escapes when what such a
        call builds from it is returned, yielded or stored (on an object, in a container of another
        object, handed to another object's method: `items.append(Queue(conn))`), or when it runs in
        the background."""
        tracked = {name}
        nodes = _walk(opening.scope, nested=False).nodes
        for _ in range(3):  # `queue = Queue(conn)`, then `worker = Worker(queue)`
            before = len(tracked)
            for targets, call in _assigned_calls(nodes):
                if not self._takes(call, tracked):
                    continue
                if not all(isinstance(target, cst.Name) for target in targets):
                    return False  # `self.queue = Queue(conn)`: kept on an object
                tracked.update(target.value for target in targets if isinstance(target, cst.Name))
            if len(tracked) == before:
                break
        containers = _local_containers(opening.scope, nodes)
        for _ in range(3):  # `resources.update(repository=repo)`, then `job(**resources)`
            before = len(tracked)
            for node in nodes:
                if not (isinstance(node, cst.Call) and self._takes(node, tracked)):
                    continue
                func = node.func
                method = func.attr.value if isinstance(func, cst.Attribute) else None
                if self.catalog.is_background(self.context.qualified_name(func), method):
                    return False
                if isinstance(func, cst.Attribute):
                    root = expression_root(func.value)
                    if isinstance(root, cst.Name) and root.value in containers:
                        tracked.add(root.value)  # a dict or list of this function's own carries it
                    elif not (isinstance(root, cst.Name) and (root.value in tracked or root.value in self.context.imports)):
                        return False  # handed to another object, which may keep it
            if len(tracked) == before:
                break
        for alias in tracked - {name}:
            kept = self._uses(opening, alias)
            if kept.returned or kept.yielded or kept.stored:
                return False
        return True

    @staticmethod
    def _takes(call: cst.Call, names: set[str]) -> bool:
        """Whether one of `names` is an argument of the call, directly or through a call in its arguments."""
        return any(isinstance(arg.value, cst.Name) and arg.value.value in names
                   or isinstance(arg.value, cst.Call) and ReleaseTracker._takes(arg.value, names) for arg in call.args)

    def _in_loop(self, node: Optional[cst.CSTNode], scope: cst.CSTNode) -> bool:
        """Whether `node` runs once per pass of a loop or comprehension of `scope` (its function or module)."""
        while node is not None and node is not scope:
            if isinstance(node, LOOP_TYPES):
                return True
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                return False
            node = self._parents.get(node)
        return False

    def _missing(self, opening: Opening, note: str, name: Optional[str] = None) -> Optional[Verdict]:
        # a script's client left open once is DBP301's when the exit does not clean it up; one opened
        # on every pass of a loop piles up while the script runs, like a function's (DBP304). A checkout
        # taken once and never given back is the script's, or the command's, until its exit, which
        # closes it as it closes the client: nothing waits for it
        if opening.setting == "script" and not self._in_loop(opening.node, opening.scope):
            if not self._exit_leaves_work(opening, name):
                return None
            if opening.kind != "checkout":
                return Verdict("DBP301", opening.node, opening.root, {
                    "call": _call_display(opening.node), "library": opening.library, "a": _article(opening.library),
                    "thing": _thing(opening), "release": " or ".join(f"`{m}()`" for m in opening.release[:2]) or "`with`",
                    "note": note and f"; {note}", "release_method": opening.release[0] if opening.release else "",
                })
        if opening.setting in ("fixture", "setup"):
            return self._fixture_finding(opening, note)
        return Verdict("DBP304", opening.node, opening.root, {
            "call": _call_display(opening.node), "verb": _verb(opening), "given": _given(opening), "library": opening.library, "a": _article(opening.library),
            "thing": _thing(opening), "how": note and f" ({note})",
        })

    def _exit_leaves_work(self, opening: Opening, name: Optional[str]) -> bool:
        """Whether a script's exit leaves something behind when the script never releases the client.

        The exit of a synchronous script closes its sockets and the server sees them go at once:
        nothing piles up. Async drivers are different: an engine, pool or connection collected
        after its event loop has closed fails or warns (`Event loop is closed`) instead of
        closing. And a client whose catalog entry says it outlives the process (Prisma's query
        engine) is left running."""
        if self.catalog.outlives_process(opening.library):
            return True
        function = self._enclosing(opening.node, cst.FunctionDef)
        if isinstance(function, cst.FunctionDef) and function.asynchronous is not None:
            return True
        if isinstance(self._parents.get(opening.node), cst.Await):
            return True
        return name is not None and self._used_asynchronously(opening, name)

    def _used_asynchronously(self, opening: Opening, name: str) -> bool:
        """`engine` built at module level and used in `async with engine.begin()` or `await conn.fetch()`."""
        for node in _walk(opening.scope, nested=True).nodes:
            if isinstance(node, cst.Await):
                roots = [expression_root(node.expression)]
            elif isinstance(node, cst.With) and node.asynchronous is not None:
                roots = [expression_root(item.item) for item in node.items]
            else:
                continue
            if any(_is_name(root, name) for root in roots):
                return True
        return False

    def _fixture_finding(self, opening: Opening, note: str) -> Optional[Verdict]:
        if opening.setting == "fixture" and self._session_scoped(opening.scope) \
                and not self.catalog.outlives_process(opening.library):
            return None  # built once per test process, whose end closes it: nothing piles up
        where = f"fixture `{opening.function}`" if opening.setting == "fixture" else f"`{opening.function}()`"
        return Verdict("DBP303", opening.node, opening.root, {
            "call": _call_display(opening.node), "where": where, "library": opening.library, "a": _article(opening.library),
            "thing": _thing(opening), "note": note and f"; {note}",
        })

    def _session_scoped(self, function: cst.CSTNode) -> bool:
        """`@pytest.fixture(scope="session")`: one run per test process."""
        if not isinstance(function, cst.FunctionDef):
            return False
        for decorator in function.decorators:
            target, call = decorator_target(decorator)
            if call is not None and self.context.qualified_name(target) in self.guards.pytest_fixtures \
                    and any(a.keyword is not None and a.keyword.value == "scope" and isinstance(a.value, cst.SimpleString)
                            and a.value.evaluated_value == "session" for a in call.args):
                return True
        return False

    def _judge_setup(self, opening: Opening, attribute: str) -> Optional[Verdict]:
        """`self.db = connect()` in `setUp`: released by a `tearDown*` that mentions it, or by a cleanup."""
        owner = self._enclosing(opening.scope, cst.ClassDef)
        if owner is None:
            return None
        for node in _walk(owner, nested=True).nodes:
            if isinstance(node, cst.FunctionDef) and node.name.value in self.guards.teardown_methods:
                if any(isinstance(n, cst.Attribute) and n.attr.value == attribute for n in _walk(node, True).nodes):
                    return None
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and (
                node.func.attr.value in self.guards.cleanup_methods or node.func.attr.value in self.guards.context_methods
            ):
                return None
        return self._fixture_finding(opening, "")

    def _target(self, opening: Opening) -> Optional[tuple[str, Optional[str], str]]:
        """How the opened value is kept: ("safe"|"name"|"with"|"returned"|"yielded", name, note); None if it escapes."""
        parents = self._parents
        expression: cst.CSTNode = opening.node
        releases_on_exit = opening.cm_releases
        while True:
            parent = parents.get(expression)
            if isinstance(parent, cst.Await):
                expression = parent
                continue
            if (isinstance(parent, cst.IfExp) and expression is not parent.test) or (
                    isinstance(parent, cst.BooleanOperation) and expression is parent.right):
                # `con = con if con else get_db_connection()`, `con = con or connect()`: opened here
                # when the caller passed none, and then this function's to give back
                expression = parent
                continue
            if isinstance(parent, cst.Arg):
                call = parents.get(parent)
                if not isinstance(call, cst.Call):
                    return None
                if self.context.qualified_name(call.func) in self.guards.closing_functions:
                    releases_on_exit = True
                    expression = call
                    continue
                if isinstance(call.func, cst.Attribute) and call.func.attr.value in self.guards.context_methods:
                    if releases_on_exit:
                        return "safe", None, ""
                    expression = call
                    continue
                return None  # handed to another function
            break
        if isinstance(parent, cst.WithItem):
            if releases_on_exit:
                return "safe", None, ""
            note = "`with` ends a transaction but does not close it" if opening.kind == "connection" \
                else "`with` does not give it back"
            asname = parent.asname.name if parent.asname is not None else None
            return "with", asname.value if isinstance(asname, cst.Name) else None, note
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is expression:
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            if len(targets) != 1:
                return None
            target = targets[0]
            if isinstance(target, cst.Name):
                if expression is opening.node and opening.generator is not None:
                    # `pending = anext(get_session())`, then `session = await pending`: the session is the
                    # awaited name's
                    return "name", self._awaited_into(opening, target.value) or target.value, ""
                return "name", target.value, ""
            if opening.setting == "setup" and isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                return "name", "." + target.attr.value, ""
            if opening.setting == "function" and isinstance(target, cst.Attribute) and _is_name(target.value, "self"):
                return "kept", target.attr.value, ""
            return None
        if isinstance(parent, cst.Return):
            return "returned", None, ""
        if isinstance(parent, cst.Yield):
            return "yielded", None, ""
        return None

    def _awaited_into(self, opening: Opening, name: str) -> Optional[str]:
        """The name that the one `<other> = await <name>` of the opening's scope binds, if there is one."""
        found = {statement.targets[0].target.value for statement in _walk(opening.scope, nested=False).nodes
                 if isinstance(statement, cst.Assign) and len(statement.targets) == 1
                 and isinstance(statement.targets[0].target, cst.Name) and isinstance(statement.value, cst.Await)
                 and _is_name(statement.value.expression, name)}
        return found.pop() if len(found) == 1 else None

    def _uses(self, opening: Opening, name: str) -> _Uses:
        uses = _Uses()
        shared = opening.shared or opening.scope is self.context.module
        walker = _walk(self.context.module if shared else opening.scope, nested=shared)
        release = set(opening.release)
        for closure in walker.closures:
            if name in _names_in(closure) and not _local_of(closure, name):
                if self._registered_lambda(closure, name, release):
                    uses.safe = True
                else:
                    uses.stored = True
        for node in walker.nodes:
            if isinstance(node, cst.Call):
                self._call_use(node, name, release, opening, uses)
            elif isinstance(node, cst.WithItem):
                item = node.item
                if _is_name(item, name) and opening.cm_releases:
                    uses.safe = True
                elif _is_name(item, name):
                    uses.ended_by_with = True
                elif isinstance(item, cst.Call) and self.context.qualified_name(item.func) in self.guards.closing_functions \
                        and item.args and _is_name(item.args[0].value, name):
                    uses.safe = True
            elif isinstance(node, cst.Return) and node.value is not None and not shared:
                # `return conn`, `return conn.cursor()`, `return Repo(conn)`; not `return sql_query(conn, q)`
                # of a function that only borrows it (its result does not hold the connection)
                if name in _names_in(node.value) and not self._only_borrowed_in(node.value, name, release, opening):
                    uses.returned = True
            elif isinstance(node, cst.Yield) and node.value is not None and name in _names_in(node.value):
                uses.yielded = True
            elif isinstance(node, (cst.Assign, cst.AnnAssign)) and _is_name(node.value, name):
                uses.stored = True
            elif isinstance(node, (cst.Global, cst.Nonlocal)) and not shared:
                if any(item.name.value == name for item in node.names):
                    uses.stored = True
            elif isinstance(node, (cst.List, cst.Tuple, cst.Set, cst.Dict)) and not isinstance(
                self._parents.get(node), cst.Return
            ):
                elements = node.elements
                if any(_is_name(getattr(e, "value", None), name) for e in elements):
                    uses.stored = True
        return uses

    def _call_use(self, node: cst.Call, name: str, release: set[str], opening: Opening, uses: _Uses) -> None:
        func = node.func
        method = func.attr.value if isinstance(func, cst.Attribute) else None
        args = [arg.value for arg in node.args]
        named = any(_is_name(a, name) for a in args)
        if method in release and (_is_name(func.value, name) or named):  # type: ignore[union-attr]
            self._add_release(node, uses)
            return
        if self.context.qualified_name(func) in self.guards.cleanup_functions or method in self.guards.cleanup_methods:
            for a in args:
                if isinstance(a, cst.Attribute) and a.attr.value in release and (_is_name(a.value, name) or named):
                    uses.safe = True
                if _is_name(a, name) and isinstance(func, cst.Attribute):
                    uses.stored = True
            return
        if method in self.guards.context_methods:
            for a in args:
                if _is_name(a, name) and opening.cm_releases:
                    uses.safe = True
                elif isinstance(a, cst.Call) and self.context.qualified_name(a.func) in self.guards.closing_functions \
                        and a.args and _is_name(a.args[0].value, name):
                    uses.safe = True
            return
        if self.context.qualified_name(func) in self.guards.borrowing_functions:
            return  # `async_sessionmaker(engine)`: the session factory borrows the engine and never disposes it
        if not named or (isinstance(func, cst.Name) and func.value in INSPECTING_BUILTINS
                         and self.context.lookup(func.value) in (None, f"builtins.{func.value}")):
            return
        if isinstance(func, cst.Name) and self._helper_releases(func.value, node, name, release):
            self._add_release(node, uses)
            return
        if self._borrowing_class(func, release):
            uses.kept.append(node)
            return
        if self._borrowing_function(func, node, name, release):
            return  # `rows = sql_query(con, ...)`: it runs queries on the connection and gives it back to nobody
        uses.passed = True

    def _add_release(self, node: cst.Call, uses: _Uses) -> None:
        if self._in_finally(node):
            uses.safe = True
            return
        closure = self._enclosing(node, (cst.FunctionDef, cst.Lambda))
        if isinstance(closure, cst.Lambda):
            parent = self._parents.get(closure)
            if isinstance(parent, cst.Arg) and self._registered(parent):
                uses.safe = True
                return
        helper = closure if isinstance(closure, cst.FunctionDef) else None
        if helper is not None and not self._opens_in(helper):
            # a release in another function: judged where that function is called
            sites = self._call_sites(helper.name.value)
            if not sites or any(self._in_finally(s) or isinstance(s, cst.Arg) for s in sites):
                uses.safe = True
                return
            node = sites[0]  # type: ignore[assignment]
        uses.releases.append(node)

    def _opens_in(self, function: cst.FunctionDef) -> bool:
        return any(o.scope is function for o in self.openings)

    def _call_sites(self, function: str) -> list[cst.CSTNode]:
        sites: list[cst.CSTNode] = []
        for node in _walk(self.context.module, nested=True).nodes:
            if isinstance(node, cst.Call) and _is_name(node.func, function):
                sites.append(node)
            elif isinstance(node, cst.Arg) and _is_name(node.value, function):
                sites.append(node)
        return sites

    def _registered(self, site: cst.CSTNode) -> bool:
        """`atexit.register(shutdown)` and friends."""
        if not isinstance(site, cst.Arg):
            return False
        call = self._parents.get(site)
        if not isinstance(call, cst.Call):
            return False
        method = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
        return self.context.qualified_name(call.func) in self.guards.cleanup_functions \
            or method in self.guards.cleanup_methods

    def _registered_lambda(self, closure: cst.CSTNode, name: str, release: set[str]) -> bool:
        if not isinstance(closure, cst.Lambda):
            return False
        parent = self._parents.get(closure)
        if not isinstance(parent, cst.Arg) or not self._registered(parent):
            return False
        return any(
            isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in release
            for n in _walk(closure, nested=True).nodes
        )

    def _borrowing_class(self, func: cst.BaseExpression, release: set[str]) -> bool:
        """`OrderRepository(session)`: a project class whose objects keep what they are given and never
        give anything back. No method of it, nor of its project bases, calls a release method or is one;
        it is no context manager or finalizer and starts no background work. The function that opened
        the connection still has to release it. A class of a library, or with a base poollint cannot
        read, may release it: not one of these."""
        found = self._project_class(func)
        return found is not None and self._never_releases(found[0], found[1], release, 0)

    def _only_borrowed_in(self, expression: cst.BaseExpression, name: str, release: set[str],
                          opening: Opening) -> bool:
        """Every use of `name` in `expression` is an argument of a call to a project function that only
        borrows it (`sql_query(con, q)`), or, for a connection, the receiver of a call whose result a
        builtin consumes there (`len(list(conn.execute(q)))`: rows, not the connection, are returned)."""
        uses = [n for n in _walk(expression, nested=True).nodes if _is_name(n, name)]
        for use in uses:
            arg = self._parents.get(use)
            call = self._parents.get(arg) if isinstance(arg, cst.Arg) else None
            if isinstance(call, cst.Call) and self._borrowing_function(call.func, call, name, release):
                continue
            if opening.kind in ("checkout", "connection") and self._consumed_in_place(use, release):
                continue
            return False
        return bool(uses)

    def _consumed_in_place(self, use: cst.Name, release: set[str]) -> bool:
        """`conn.execute(q)` inside `list(...)`, `len(...)`: a builtin that copies or measures what the
        call gives, so nothing that holds the connection leaves the expression. A session's objects may
        still load through it (`list(session.query(User))`), so only connections are judged so."""
        method = self._parents.get(use)
        call = self._parents.get(method)
        if not (isinstance(method, cst.Attribute) and method.value is use and method.attr.value not in release
                and isinstance(call, cst.Call) and call.func is method):
            return False
        arg = self._parents.get(call)
        consumer = self._parents.get(arg) if isinstance(arg, cst.Arg) else None
        return isinstance(consumer, cst.Call) and isinstance(consumer.func, cst.Name) \
            and consumer.func.value in CONSUMING_BUILTINS and self.context.lookup(consumer.func.value) is None

    def _borrowing_function(self, func: cst.BaseExpression, call: cst.Call, name: str, release: set[str]) -> bool:
        """A project function (of any module) that only calls methods on the parameter `name` is handed
        (modules.borrowed_by): neither a hand-off nor a release."""
        index = self.context.index
        qualified = self.context.qualified_name(func)
        if index is None or not qualified or "(" in qualified:
            return False
        borrowed = borrowed_by(index, qualified, frozenset(release | _FINALIZERS | self.guards.release_method_names))
        if not borrowed:
            return False
        passed_at = [arg for arg in call.args if _is_name(arg.value, name)]
        return len(parameters_given(call, borrowed, (name,))) == len(passed_at)  # every one of them only borrows it

    def _project_class(self, func: cst.BaseExpression) -> Optional[tuple[cst.ClassDef, "FileContext"]]:
        qualified = self.context.qualified_name(func)
        if not qualified or "(" in qualified:
            return None
        # another module is parsed only for a name spelled like a class (`OrderRepository`): a call of a
        # function there (`crud.get_user(db)`) is a hand-off as before, without parsing that module
        return project_class(self.context, qualified, self.context.settings,
                             other_modules=qualified.rsplit(".", 1)[-1][:1].isupper())

    def _never_releases(self, klass: cst.ClassDef, context: "FileContext", release: set[str], depth: int) -> bool:
        for base in base_classes(context, klass, context.settings):
            if depth >= 2 or base is None or not self._never_releases(base[0], base[1], release, depth + 1):
                return False
        gives_back = release | _FINALIZERS
        for node in _walk(klass, nested=True).nodes:
            if isinstance(node, cst.FunctionDef) and node.name.value in gives_back:
                return False
            if isinstance(node, cst.Call):
                func = node.func
                method = func.attr.value if isinstance(func, cst.Attribute) else None
                if method in gives_back or self.catalog.is_background(context.qualified_name(func), method):
                    return False
        return True

    def _helper_releases(self, helper_name: str, call: cst.Call, name: str, release: set[str]) -> bool:
        """`close_quietly(conn)` where the module's `close_quietly(c)` calls `c.close()`."""
        helper = self.context.module_functions.get(helper_name)
        if helper is None:
            return False
        params = [p.name.value for p in (*helper.params.posonly_params, *helper.params.params)]
        bound: Optional[str] = None
        for index, arg in enumerate(call.args):
            if _is_name(arg.value, name):
                if arg.keyword is not None:
                    bound = arg.keyword.value
                elif index < len(params):
                    bound = params[index]
        if bound is None:
            return False
        for node in _walk(helper, nested=True).nodes:
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in release:
                if _is_name(node.func.value, bound) or any(_is_name(a.value, bound) for a in node.args):
                    return True
        return False

    def _in_finally(self, node: cst.CSTNode) -> bool:
        current = self._parents.get(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda)):
            if isinstance(current, cst.Finally):
                return True
            current = self._parents.get(current)
        return False

    def _enclosing(self, node: cst.CSTNode, kind: type) -> Any:
        current = self._parents.get(node)
        while current is not None and not isinstance(current, kind):
            current = self._parents.get(current)
        return current

    def _in_broad_handler(self, node: cst.CSTNode) -> bool:
        current = self._parents.get(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda)):
            if isinstance(current, cst.ExceptHandler):
                kind = current.type
                return kind is None or (isinstance(kind, cst.Name) and kind.value in _BROAD_EXCEPTIONS)
            current = self._parents.get(current)
        return False

    def _statement(self, node: cst.CSTNode) -> tuple[Optional[cst.CSTNode], Optional[cst.CSTNode]]:
        """The statement holding `node` and the block whose body lists it."""
        current: Optional[cst.CSTNode] = node
        while current is not None:
            parent = self._parents.get(current)
            if isinstance(parent, (cst.IndentedBlock, cst.Module)):
                return current, parent
            current = parent
        return None, None

    def _effectively_safe(self, opening: Opening, releases: list[cst.Call]) -> bool:
        """Releases outside `finally` that still run on every path."""
        handled = [r for r in releases if self._in_broad_handler(r)]
        if handled and len(handled) < len(releases):
            return True  # released in `except Exception: ...; raise` and after the work
        opened, block = self._statement(opening.node)
        if opened is None or block is None or not isinstance(opened, cst.SimpleStatementLine):
            return False
        body = list(block.body)
        start = body.index(opened)
        released = _released_names(releases)
        for release in releases:
            statement, release_block = self._statement(release)
            if release_block is not block or statement not in body:
                continue
            between = body[start + 1: body.index(statement)]
            # a lazily connecting session's first query that only tests the database fails only when
            # the connect does, with nothing checked out
            rest = [line for line in between if not self._only_logs(line, released)]
            if not rest or (len(rest) == 1 and self._tests_liveness(rest[0], opening, released)):
                return True  # nothing that may raise with a connection checked out runs before the release
            if len(between) == 1 and isinstance(between[0], cst.Try) and _swallows(between[0]):
                return True
        return False

    def _leak_ends_with_the_script(self, opening: Opening) -> bool:
        """A one-shot script's opening that an exception can leave open only once per run: nothing
        catches the exception on the way to the script's end (it ends the process, whose exit closes
        every socket), or the opening runs at most once per run (no loop around it or around the calls
        that lead to it), so at most one connection stays open until the script exits. A handler that
        goes on inside a loop of retries or of items would leave one open per turn."""
        if not self.is_script or self.catalog.outlives_process(opening.library):
            return False
        scope = opening.scope
        if opening.setting == "function":
            if not isinstance(scope, cst.FunctionDef) or not reached_only_from_run_once(
                    self.context, scope, klass=self._module_class_of(scope)):
                return False
        elif opening.setting != "script":
            return False
        return self._on_every_path_to_the_script(opening.node, scope, 0, self._caught) \
            or self._on_every_path_to_the_script(opening.node, scope, 0, self._in_loop)

    def _leaks_once_per_process(self, opening: Opening) -> bool:
        """An opening, released only on success, in code that runs once per process (a start-up hook,
        an app factory, `main()`, a command, or a function or method only such code calls) with no loop
        around it: a failure can keep at most one connection, once, for as long as the process lives.
        Bounded, not a pool running out, as in a one-shot script (_leak_ends_with_the_script); a retry
        loop around it keeps one per failed pass and is still reported. Paced code (a periodic task, a
        handler only administrators may call, or code only such code and run-once code reach) counts
        too: a failed run leaves its object to be collected, one per tick or per operator's action at
        worst, whatever the traffic."""
        if opening.setting != "function" or self.catalog.outlives_process(opening.library):
            return False
        scope = opening.scope
        if not isinstance(scope, cst.FunctionDef) or self._in_loop(opening.node, scope):
            return False
        klass = self._module_class_of(scope)
        if klass is None and self.context.module_functions.get(scope.name.value) is not scope:
            return False  # a nested function runs as often as what defines it calls it
        return runs_once_per_process(self.context, scope, klass, paced=True)  # (a test's openings are never tracked)

    def _module_class_of(self, method: cst.FunctionDef) -> Optional[cst.ClassDef]:
        """The module-level class whose body defines `method`, if it is one's."""
        klass = self._parents.get(self._parents.get(method))
        if isinstance(klass, cst.ClassDef) and self._parents.get(klass) is self.context.module:
            return klass
        return None

    def _on_every_path_to_the_script(self, node: cst.CSTNode, scope: cst.CSTNode, depth: int, breaks: Any) -> bool:
        """Whether `breaks(node, scope)` is false at `node` in `scope` and then at every call of `scope`, up to
        the module's code (`breaks`: a handler that goes on catches it, a loop runs it again)."""
        if depth > MAX_SCRIPT_CALL_DEPTH or breaks(node, scope):
            return False
        if not isinstance(scope, cst.FunctionDef):
            return True  # the module's code
        name = scope.name.value
        if self.context.module_functions.get(name) is scope:
            calls = [n for n in self._parents if isinstance(n, cst.Call) and isinstance(n.func, cst.Name)
                     and n.func.value == name]
            uses = [n for n in self._parents if isinstance(n, cst.Name) and n.value == name and n is not scope.name]
        elif self._module_class_of(scope) is not None:
            # a method is called by its name, on `self` or on an object the script built; a call of a
            # like-named method of another class only adds a caller to judge
            calls = [n for n in self._parents if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
                     and n.func.attr.value == name]
            uses = [n for n in self._parents if isinstance(n, cst.Attribute) and n.attr.value == name]
        else:
            return False
        if not calls or len(uses) != len(calls):
            return False  # handed on (a thread, an executor, a callback): where and how often it runs is not known
        for call in calls:
            caller = self._enclosing(call, cst.FunctionDef)
            if not self._on_every_path_to_the_script(call, caller if caller is not None else self.context.module,
                                                     depth + 1, breaks):
                return False
        return True

    def _caught(self, node: cst.CSTNode, scope: cst.CSTNode) -> bool:
        """A `try` of `scope` around `node` with a handler that goes on, or `contextlib.suppress`."""
        current, parent = node, self._parents.get(node)
        while parent is not None and current is not scope:
            if isinstance(parent, cst.Try) and current is parent.body \
                    and any(not _ends_or_reraises(h) for h in parent.handlers):
                return True
            if isinstance(parent, cst.With) and any(
                    isinstance(i.item, cst.Call) and (dotted_name(i.item.func) or "").rsplit(".", 1)[-1] == "suppress"
                    for i in parent.items):
                return True
            current, parent = parent, self._parents.get(parent)
        return False

    def _tests_liveness(self, statement: cst.CSTNode, opening: Opening, opened: set[str]) -> bool:
        """`session.execute(text("SELECT 1"))` (awaited or not) on a session that checks its connection
        out at its first query: a statement of the catalog's `liveness-queries` run by one of its
        `liveness-methods`, whose failure is the connect's."""
        if opening.kind != "session" or not isinstance(statement, cst.SimpleStatementLine) \
                or len(statement.body) != 1 or not isinstance(statement.body[0], cst.Expr):
            return False
        call = statement.body[0].value
        call = call.expression if isinstance(call, cst.Await) else call
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                and isinstance(call.func.value, cst.Name) and call.func.value.value in opened and call.args):
            return False
        query = call.args[0].value
        if isinstance(query, cst.Call) and (dotted_name(query.func) or "").rsplit(".", 1)[-1] == "text" \
                and len(query.args) == 1:
            query = query.args[0].value
        value = query.evaluated_value if isinstance(query, cst.SimpleString) else None
        return isinstance(value, str) and self.catalog.is_liveness_query(opening.library, call.func.attr.value, value)

    def _only_logs(self, statement: cst.CSTNode, opened: set[str]) -> bool:
        """A line of logging calls (`logger.info("connected to %s", url)`, `print(...)`) whose arguments
        call nothing and do not look at what was opened (a property may query it): it cannot raise
        (python/cst/logging_calls.py)."""
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        for small in statement.body:
            if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
                return False
            call = small.value
            if not is_logging_call(call, self.context.qualified_name(call.func), self.guards):
                return False
            if any(isinstance(node, (cst.Call, cst.Await, cst.Yield))
                   or (isinstance(node, cst.Name) and node.value in opened)
                   for arg in call.args for node in _walk(arg, nested=True).nodes):
                return False
        return True


def _released_names(releases: list[cst.Call]) -> set[str]:
    """The names the release calls give back: `conn` of `conn.close()` and of `close_quietly(conn)`."""
    names = {expression_root(r.func).value for r in releases if isinstance(r.func, cst.Attribute)
             and isinstance(expression_root(r.func), cst.Name)}
    return names | {a.value.value for r in releases for a in r.args if isinstance(a.value, cst.Name)}


# builtins that copy or measure what they are given and keep no reference to where it came from
CONSUMING_BUILTINS = INSPECTING_BUILTINS | frozenset({"list", "tuple", "set", "frozenset", "dict", "sum", "min", "max"})

# methods that give back what an object holds, whatever its release method is called
_FINALIZERS = frozenset({"__exit__", "__aexit__", "__del__", "close", "aclose", "dispose"})


def _local_containers(scope: cst.CSTNode, nodes: list[cst.CSTNode]) -> set[str]:
    """Names of dicts, lists and sets this function makes itself (`resources = {}`, its `**kwargs`): what
    is put in them stays in the function unless they are returned, stored or handed on."""
    names: set[str] = set()
    if isinstance(scope, cst.FunctionDef):
        for star in (scope.params.star_kwarg, scope.params.star_arg):
            if isinstance(star, cst.Param):
                names.add(star.name.value)
    for node in nodes:
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            value = node.value
            if isinstance(value, (cst.Dict, cst.List, cst.Set)) or (
                    isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
                    and value.func.value in ("dict", "list", "set") and not value.args):
                names.add(node.targets[0].target.value)
    return names


def _verb_release(opening: "Opening") -> str:
    return {"close": "closes", "dispose": "disposes of", "release": "releases", "putconn": "returns",
            "remove": "removes"}.get(opening.release[0] if opening.release else "close", "releases")


# calls between a one-shot script's code and an opening that the script walk follows (`main()` ->
# `tool.report()` -> `self.collect()` -> `self._size()`), and no deeper: recursion ends there too
MAX_SCRIPT_CALL_DEPTH = 5

# calls that end the process: a handler that makes one does not go on
_PROCESS_EXITS = frozenset({"sys.exit", "exit", "quit", "os._exit"})


def _ends_or_reraises(handler: cst.ExceptHandler) -> bool:
    """A handler whose own statements re-raise or end the process (`sys.exit(1)`, `raise SystemExit`)."""
    for inner in _walk(handler, nested=False).nodes:
        if isinstance(inner, cst.Raise):
            return True
        if isinstance(inner, cst.Call) and dotted_name(inner.func) in _PROCESS_EXITS:
            return True
    return False


def _swallows(statement: cst.Try) -> bool:
    """A `try` with a broad handler that does not re-raise: the statement after it always runs."""
    for handler in statement.handlers:
        kind = handler.type
        if kind is None or (isinstance(kind, cst.Name) and kind.value in _BROAD_EXCEPTIONS):
            return not any(isinstance(n, cst.Raise) for n in _walk(handler, nested=False).nodes) \
                and not any(isinstance(n, cst.Return) for n in _walk(statement, nested=False).nodes)
    return False


def _assigned_calls(nodes: list[cst.CSTNode]) -> Iterator[tuple[list[cst.BaseAssignTargetExpression], cst.Call]]:
    """`target = call(...)` and `target: T = await call(...)` among `nodes`: each statement's targets and call."""
    for node in nodes:
        if isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None:
            value = node.value.expression if isinstance(node.value, cst.Await) else node.value
            if isinstance(value, cst.Call):
                yield ([t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]), value


def _assigned_names(statement: Optional[cst.CSTNode], node: cst.Call) -> list[str]:
    if isinstance(statement, cst.Assign) and statement.value is node:
        return [t.target.value for t in statement.targets if isinstance(t.target, cst.Name)]
    if isinstance(statement, cst.AnnAssign) and statement.value is node and isinstance(statement.target, cst.Name):
        return [statement.target.value]
    return []


def _is_name_in(node: cst.BaseExpression, names: set[str]) -> bool:
    return isinstance(node, cst.Name) and node.value in names


def _exempt(context: "FileContext", node: cst.Call, spec: ClientSpec) -> bool:
    """A NullPool engine or an SQLite URL: nothing stays open on a server."""
    return spec.owns_pool and context.pool_built_by(node) is None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _thing(opening: Opening) -> str:
    return "connection" if opening.kind == "checkout" else opening.kind


def _given(opening: Opening) -> str:
    return "given back" if opening.kind == "checkout" else "closed"


def _verb(opening: Opening) -> str:
    return "checks out" if opening.kind == "checkout" else "takes" if opening.generator is not None else "opens"
