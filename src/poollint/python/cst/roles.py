"""What a function is for: runs once per process (a guard), runs per call, or builds clients (a factory)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Optional

import libcst as cst

from poollint.python.cst.context import dotted_name
from poollint.python.cst.depends import module_routers
from poollint.python.cst.walk import visit as cst_visit
from poollint.python.cst.walk import walk

if TYPE_CHECKING:
    from poollint.python.cst.context import FileContext


@dataclass(frozen=True)
class FunctionRole:
    runs_once: str = ""  # why a client built here is a singleton, or ""
    per_call: str = ""  # what calls it per request/event, e.g. "a request handler", or ""
    is_test: bool = False
    # why it runs at a pace the traffic does not set, or "": a scheduler's ticks (a periodic task), or
    # the few administrators who alone may call it (a request handler that requires one)
    paced: str = ""
    # only administrators may call it: few callers at a time, as well as few calls (DBP201/DBP202 ask)
    administrators_only: bool = False


def decorator_target(decorator: cst.Decorator) -> tuple[cst.BaseExpression, Optional[cst.Call]]:
    """(`with_cache`, None) of `@with_cache`; (`with_cache`, the call) of `@with_cache(ttl=5)`."""
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        return expr.func, expr
    return expr, None


def _first_string_argument(call: Optional[cst.Call]) -> Optional[str]:
    if call is None or not call.args or not isinstance(call.args[0].value, cst.SimpleString):
        return None
    value = call.args[0].value.evaluated_value
    return value if isinstance(value, str) else None


_REQUEST_HANDLER = "a request handler"


def _route_path(context: "FileContext", target: cst.BaseExpression, call: cst.Call) -> Optional[str]:
    """The path a route decorator registers (`@router.get("/health")`, `@get("/health")`), after the
    `prefix=` its router was built with at module scope (`router = APIRouter(prefix="/health")`;
    `@router.get("")`); None when the decorator names none as a literal."""
    path = _first_string_argument(call)
    if path is None:
        path = next((arg.value.evaluated_value for arg in call.args if arg.keyword is not None
                     and arg.keyword.value == "path" and isinstance(arg.value, cst.SimpleString)), None)
    if not isinstance(path, str):
        return None
    if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
        built = context.module_calls.get(target.value.value)
        prefix = next((arg.value.evaluated_value for arg in built.args if arg.keyword is not None
                       and arg.keyword.value in ("prefix", "url_prefix") and isinstance(arg.value, cst.SimpleString)),
                      None) if built is not None else None
        if isinstance(prefix, str):
            path = prefix.rstrip("/") + ("/" + path.lstrip("/") if path.strip("/") else "")
    return path


class _BodyFacts(cst.CSTVisitor):
    """Calls and names inside a function body, without descending into nested functions."""

    def __init__(self) -> None:
        self.called: list[cst.Call] = []
        self.globals: set[str] = set()
        self.built: dict[str, cst.Call] = {}

    def visit_Call(self, node: cst.Call) -> None:
        self.called.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        # `worker = Worker(queue)`: what a local is built by, for the calls made on it
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and isinstance(node.value, cst.Call):
            self.built[node.targets[0].target.value] = node.value

    def visit_Global(self, node: cst.Global) -> None:
        self.globals.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.globals.update(item.name.value for item in node.names)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


class _Yields(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> bool:
        self.found = True
        return False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.found or isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False  # a nested definition's `yield` is its own
        return super().on_visit(node)


def runs_when_iterated(context: "FileContext", function: cst.FunctionDef) -> bool:
    """A generator function (not a context manager's): calling it runs nothing of its body, which
    runs only as its result is iterated (`for`, `list()`...). Cached per node."""
    cache = context.__dict__.setdefault("_lazy_cache", {})
    if function not in cache:
        decorators = context.catalog.guards.context_manager_decorators
        yields = _Yields()
        cst_visit(function.body, yields)
        cache[function] = yields.found and not any(
            context.qualified_name(decorator_target(d)[0]) in decorators for d in function.decorators)
    return cache[function]


# builtins that iterate their argument to the end (or, `next`, to its first item) before they return
_CONSUMING_BUILTINS = frozenset({"list", "tuple", "set", "frozenset", "dict", "sorted", "sum", "min", "max", "any",
                                 "all", "next"})


class _Iteration(cst.CSTVisitor):
    def __init__(self, call: cst.Call) -> None:
        self.call = call
        self.iterated = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.iterated:
            return False
        if isinstance(node, (cst.For, cst.CompFor)) and node.iter is self.call:
            self.iterated = True
        elif isinstance(node, cst.From) and node.item is self.call:
            self.iterated = True  # `yield from gen()`
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in _CONSUMING_BUILTINS \
                and any(arg.value is self.call for arg in node.args):
            self.iterated = True
        return not self.iterated


def iterated_in(statement: Optional[cst.CSTNode], call: cst.Call) -> bool:
    """Whether `statement` iterates the result of `call` itself: `for row in rows():`, a comprehension
    over it, `list(rows())`, `yield from rows()`."""
    if statement is None:
        return False
    finder = _Iteration(call)
    cst_visit(statement, finder)
    return finder.iterated


def body_facts(function: cst.FunctionDef) -> _BodyFacts:
    facts = _BodyFacts()
    cst_visit(function.body, facts)
    return facts


def _called_name(context: "FileContext", call: cst.Call, facts: _BodyFacts) -> Optional[str]:
    """The qualified name of what a call in the body calls, a method of a local the body built included
    (`worker = Worker(queue); worker.work()` -> `rq.Worker().work`): roles are asked before the body's
    own bindings are made."""
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in facts.built:
        maker = context.qualified_name(facts.built[func.value.value].func)
        return f"{maker}().{func.attr.value}" if maker else None
    return context.qualified_name(func)


def function_role(context: "FileContext", function: cst.FunctionDef, enclosing_class: Optional[cst.ClassDef]) -> FunctionRole:
    """Classifies a function from its decorators, name, class and body. Cached per node."""
    cache = context.__dict__.setdefault("_role_cache", {})
    if function in cache:
        return cache[function]
    role = _classify(context, function, enclosing_class)
    # a health probe is paced too, and may still be for administrators only (DBP201/DBP202 ask)
    if not (role.runs_once or role.is_test) and (not role.paced or role.per_call == _REQUEST_HANDLER):
        administrators = _requires_an_administrator(context, function, enclosing_class)
        if administrators:
            role = replace(role, paced=role.paced or administrators, administrators_only=True)
    cache[function] = role
    return role


def _names_an_administrator(context: "FileContext", node: cst.CSTNode) -> bool:
    """Whether an expression names what lets only administrators in: a callable or class whose name
    holds one of the catalog's `admin-name-words` (`IsAdminUser`, `[IsAuthenticated, IsAdminUser]`,
    `Depends(get_current_admin_user)`), a role string that is one (`"admin"`), or a lambda testing
    one of its `admin-user-attributes` (`lambda u: u.is_superuser`)."""
    guards = context.catalog.guards
    if isinstance(node, (cst.Name, cst.Attribute)):
        last = node.attr.value if isinstance(node, cst.Attribute) else node.value
        return guards.names_an_administrator(last)
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return isinstance(value, str) and value.lower() in guards.admin_name_words
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return any(_names_an_administrator(context, element.value) for element in node.elements)
    if isinstance(node, cst.Lambda):
        tested = _AttributeNames()
        cst_visit(node.body, tested)
        return bool(tested.names & guards.admin_user_attributes)
    if isinstance(node, cst.Call) and (context.qualified_name(node.func) or "") in guards.dependency_markers:
        return bool(node.args) and _names_an_administrator(context, node.args[0].value)
    return False


class _AttributeNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.names.add(node.attr.value)


def _requires_an_administrator(context: "FileContext", function: cst.FunctionDef,
                               enclosing_class: Optional[cst.ClassDef]) -> str:
    """Why only administrators may call the function, or "": a decorator that says so by its name
    (`@staff_member_required`, `@admin_required`) or by what it is given (`@permission_classes([IsAdminUser])`,
    `@user_passes_test(lambda u: u.is_superuser)`, a route's or its router's `dependencies=[Depends(
    require_admin)]`), a parameter that depends on one (`admin = Depends(get_current_admin_user)`, `Annotated[User,
    Depends(get_admin)]`), or a class whose `permission_classes` name one or whose base is an admin site's
    (`ModelAdmin`). Such a function runs at the pace of a few operators, not of the traffic."""
    guards = context.catalog.guards
    if not guards.admin_name_words:
        return ""
    for decorator in function.decorators:
        target, call = decorator_target(decorator)
        if _names_an_administrator(context, target):
            return f"only administrators may call it (@{dotted_name(target)})"
        if call is None:
            continue
        last = target.attr.value if isinstance(target, cst.Attribute) else (dotted_name(target) or "")
        given = [arg for arg in call.args if arg.keyword is not None and arg.keyword.value == "dependencies"]
        if last in guards.permission_decorators:
            given += [arg for arg in call.args if arg.keyword is None]
        if any(_names_an_administrator(context, arg.value) for arg in given):
            return f"only administrators may call it (@{dotted_name(target)})"
        # ...or those of the router it is declared on (`router = APIRouter(dependencies=[Depends(get_admin)])`)
        router = target.value if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) else None
        built = module_routers(context).get(router.value) if router is not None else None
        if built is not None and any(_names_an_administrator(context, arg.value) for arg in built.args
                                     if arg.keyword is not None and arg.keyword.value == "dependencies"):
            return f"only administrators may call it (its router `{router.value}`)"
    for param in (*function.params.params, *function.params.kwonly_params):
        depends = [param.default] if param.default is not None else []
        annotation = param.annotation.annotation if param.annotation is not None else None
        if isinstance(annotation, cst.Subscript):  # `Annotated[User, Depends(get_admin)]`
            depends += [element.slice.value for element in annotation.slice[1:]
                        if isinstance(element.slice, cst.Index)]
        if any(isinstance(value, cst.Call) and _names_an_administrator(context, value) for value in depends):
            return f"only administrators may call it (its parameter `{param.name.value}`)"
    if enclosing_class is not None:
        if any((context.qualified_name(base.value) or "") in guards.admin_site_bases for base in enclosing_class.bases):
            return "a method of an admin site's class"
        body = enclosing_class.body.body if isinstance(enclosing_class.body, cst.IndentedBlock) else ()
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Assign) and any(
                            isinstance(t.target, cst.Name) and t.target.value == "permission_classes"
                            for t in small.targets) and _names_an_administrator(context, small.value):
                        return "only administrators may call it (its class's `permission_classes`)"
    return _turns_away_non_administrators(context, function)


def _turns_away_non_administrators(context: "FileContext", function: cst.FunctionDef) -> str:
    """The body's first statements stop everybody but administrators, as TypeScript handlers' do
    (rules/javascript.py): Flask's `if not current_user.is_admin: abort(403)`, Django's `if not
    request.user.is_superuser: raise PermissionDenied`, or a project guard called first
    (`check_admin()`, `_require_admin(request)`, `require_role(user, ["admin"])`). Only a docstring and
    assignments without a call (`user = request.user`) may come before it: a client built earlier is
    built for everybody."""
    for statement in function.body.body if isinstance(function.body, cst.IndentedBlock) else ():
        if isinstance(statement, cst.If):
            if statement.orelse is None and _leaves_the_handler(context, statement.body) \
                    and _denies_non_administrators(context, statement.test):
                return "only administrators get past its first `if`"
            return ""
        if not isinstance(statement, cst.SimpleStatementLine):
            return ""
        for small in statement.body:
            if isinstance(small, cst.Expr):
                value = small.value.expression if isinstance(small.value, cst.Await) else small.value
                if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
                    continue  # the docstring
                if isinstance(value, cst.Call) and (_names_an_administrator(context, value.func)
                                                    or _admits_only_administrators(context, value)):
                    return f"only administrators get past `{dotted_name(value.func)}()`"
                return ""
            if not (isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None
                    and not any(isinstance(node, cst.Call) for node in walk(small.value))):
                return ""
    return ""


def _admits_only_administrators(context: "FileContext", call: cst.Call) -> bool:
    """A call whose result is dropped and whose arguments name roles, every one an administrator's
    (`require_role(user, ["admin"])`, `check_roles("superuser")`): thrown away, its result decides
    nothing, so it can only turn others away by raising. A list that also names another role
    (`["admin", "editor"]`) lets that role in too."""
    roles: list[cst.BaseExpression] = []
    for arg in call.args:
        if isinstance(arg.value, cst.SimpleString):
            roles.append(arg.value)
        elif isinstance(arg.value, (cst.List, cst.Tuple, cst.Set)) and arg.value.elements \
                and all(isinstance(element.value, cst.SimpleString) for element in arg.value.elements):
            roles.extend(element.value for element in arg.value.elements)
    return bool(roles) and all(_names_an_administrator(context, role) for role in roles)


def _denies_non_administrators(context: "FileContext", test: cst.BaseExpression) -> bool:
    """`not current_user.is_admin`, `not is_admin(user)`, `user.role != "admin"`, `not user or not
    user.is_superuser`: true for everybody who is not an administrator."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _admin_test(context, test.expression)
    if isinstance(test, cst.Comparison):
        return any(isinstance(target.operator, (cst.NotEqual, cst.IsNot, cst.NotIn)) for target in test.comparisons) \
            and any(_admin_test(context, side) for side in (test.left, *(t.comparator for t in test.comparisons)))
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        return _denies_non_administrators(context, test.left) or _denies_non_administrators(context, test.right)
    return False


def _admin_test(context: "FileContext", node: cst.BaseExpression) -> bool:
    """What an administrators' test reads: `current_user.is_admin`, `"admin"`, `Role.ADMIN`, a call of
    one or given one (`is_admin(user)`, `user.has_role("admin")`)."""
    if isinstance(node, cst.Await):
        return _admin_test(context, node.expression)
    if isinstance(node, cst.Call):
        return _admin_test(context, node.func) or any(_admin_test(context, arg.value) for arg in node.args)
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return isinstance(value, str) and context.catalog.guards.names_an_administrator(value)
    return isinstance(node, (cst.Name, cst.Attribute)) and _names_an_administrator(context, node)


def _leaves_the_handler(context: "FileContext", block: cst.BaseSuite) -> bool:
    """The block ends in `return`, `raise` or a call that raises (`abort(403)`: the catalog's
    `aborting-functions`)."""
    last = block.body[-1] if isinstance(block, cst.IndentedBlock) and block.body else None
    smalls = last.body if isinstance(last, cst.SimpleStatementLine) else (
        block.body if isinstance(block, cst.SimpleStatementSuite) else ())
    final = smalls[-1] if smalls else None
    if isinstance(final, (cst.Return, cst.Raise)):
        return True
    return isinstance(final, cst.Expr) and isinstance(final.value, cst.Call) and (
        context.qualified_name(final.value.func) or "") in context.catalog.guards.aborting_functions


def _task_schedule(context: "FileContext", name: str, decorator: Optional[cst.Call]) -> str:
    """Why a task runs on a schedule: its decorator's keyword says so (`periodic=cron(...)`), or a beat
    schedule or a registration call of the project names it, by its `name=` or by its module path."""
    keywords = {arg.keyword.value: arg.value for arg in decorator.args if arg.keyword is not None} \
        if decorator is not None else {}
    scheduling = sorted(keywords.keys() & context.catalog.guards.periodic_task_keywords)
    if scheduling:
        return f"scheduled by its decorator's `{scheduling[0]}=`"
    explicit = keywords.get("name")
    task_name = explicit.evaluated_value if isinstance(explicit, cst.SimpleString) else None
    if context.index is not None and context.index.runs_on_a_schedule(
            context.module_qualified(name), task_name if isinstance(task_name, str) else None):
        return "a task the project's beat schedule or a registration call puts on a schedule"
    return ""


def _unaliased(context: "FileContext", target: cst.BaseExpression,
               call: Optional[cst.Call]) -> tuple[cst.BaseExpression, Optional[cst.Call]]:
    """The decorator a module-level alias stands for: (`shared_task`, the call) of `@shared_task_with_retry`
    after `shared_task_with_retry = shared_task(acks_late=True)`, as `@shared_task(acks_late=True)` would
    read; any other decorator as it is written."""
    if call is None and isinstance(target, cst.Name) and target.value not in context.module_functions:
        built = context.module_calls.get(target.value)
        if built is not None:
            return built.func, built
    return target, call


def _routed_view(context: "FileContext", function: cst.FunctionDef, enclosing_class: Optional[cst.ClassDef]) -> bool:
    """A view some URLconf or router of the project routes (ProjectIndex.routed_view): a module function
    (`path("orders/", views.create_order)`), or any method of a module class it routes (`Orders.as_view()`,
    `router.register("orders", OrderViewSet)`), whose instances the framework builds for each request."""
    index = context.index
    if index is None:
        return False
    if enclosing_class is None:
        return context.module_functions.get(function.name.value) is function \
            and index.routed_view(context.module_qualified(function.name.value))
    return context.module_classes.get(enclosing_class.name.value) is enclosing_class \
        and index.routed_view(context.module_qualified(enclosing_class.name.value))


def _keyword_names(context: "FileContext", call: cst.Call, keyword: str) -> frozenset[str]:
    """What the call's `keyword=` argument names, resolved (`scope=Scope.APP` -> `dishka.Scope.APP`)."""
    return frozenset(name for arg in call.args if arg.keyword is not None and arg.keyword.value == keyword
                     for name in (context.qualified_name(arg.value),) if name)


def _classify(context: "FileContext", function: cst.FunctionDef, enclosing_class: Optional[cst.ClassDef]) -> FunctionRole:
    guards = context.catalog.guards
    name = function.name.value
    is_test = context.is_test_file or name.startswith("test")
    for decorator in function.decorators:
        target, call = _unaliased(context, *decorator_target(decorator))
        qualified = context.qualified_name(target) or ""
        last = target.attr.value if isinstance(target, cst.Attribute) else (dotted_name(target) or "")
        if qualified in guards.cache_decorators \
                or isinstance(target, cst.Attribute) and last in guards.cache_decorator_attributes:
            return FunctionRole(runs_once=f"cached by @{dotted_name(target)}", is_test=is_test)
        if qualified in guards.pytest_fixtures:
            return FunctionRole(runs_once="a pytest fixture", is_test=True)
        if last == "on_event" and _first_string_argument(call) in guards.startup_event_names:
            return FunctionRole(runs_once="a start-up hook")
        if isinstance(target, cst.Attribute) and last in guards.startup_decorator_attributes:
            return FunctionRole(runs_once="a start-up hook")
        if qualified.split(".")[0] in guards.chat_handler_packages:
            # `@bot.command()` of discord.py is no command-line command: it runs on every message
            if name in guards.chat_startup_events:
                return FunctionRole(runs_once="a bot's start-up event")
            return FunctionRole(per_call="a chat-bot handler, run on every command, message or event", is_test=is_test)
        if qualified in guards.singleton_provider_decorators or (
                qualified in guards.scoped_provider_decorators and call is not None
                and _keyword_names(context, call, "scope") & guards.container_scopes):
            return FunctionRole(runs_once="a dependency-injection container's singleton provider")
        if qualified in guards.command_decorators or (
            isinstance(target, cst.Attribute) and last in guards.command_decorator_attributes
        ):
            return FunctionRole(runs_once="a command-line command")
        if qualified in guards.process_task_decorators or qualified.rsplit(".", 1)[0] in guards.process_task_decorators:
            return FunctionRole(runs_once="a task run in a process of its own")
        if last in guards.periodic_task_decorator_attributes:
            return FunctionRole(per_call="a periodic task", is_test=is_test,
                                paced=f"declared periodic by @{dotted_name(target)}")
        if qualified in guards.task_decorators or (
            isinstance(target, cst.Attribute) and last in guards.task_decorator_attributes
        ):
            return FunctionRole(per_call="a task", is_test=is_test, paced=_task_schedule(context, name, call))
        # what a framework registers is a handler whatever its name (`@router.post(...) def test_alerts()`,
        # an endpoint that tests an integration): a test only in a test file
        if call is not None and (qualified in guards.route_decorators or (
                isinstance(target, cst.Attribute) and last in guards.route_decorator_attributes)):
            path = _route_path(context, target, call)
            if path is not None and path.rstrip("/").rsplit("/", 1)[-1] in guards.health_check_route_segments:
                return FunctionRole(per_call=_REQUEST_HANDLER, is_test=context.is_test_file,
                                    paced=f"a health probe (`{path}`), called at its prober's interval")
            return FunctionRole(per_call=_REQUEST_HANDLER, is_test=context.is_test_file)
        if isinstance(target, cst.Attribute) and last in guards.request_hook_decorator_attributes:
            return FunctionRole(per_call="a hook run on every request", is_test=context.is_test_file)
        if enclosing_class is not None and call is None and dotted_name(target) == "property" \
                and context.lookup("property") is None:
            return FunctionRole(per_call="a property, evaluated on every access", is_test=is_test)
    if _routed_view(context, function, enclosing_class):
        return FunctionRole(per_call=_REQUEST_HANDLER, is_test=context.is_test_file)
    if enclosing_class is None and context.index is not None \
            and context.index.registered_to_run_once(context.module_qualified(name)):
        return FunctionRole(runs_once="registered by a call to run once (a command, a container's singleton)")
    if enclosing_class is None and context.index is not None \
            and context.index.runs_on_a_schedule(context.module_qualified(name)):
        return FunctionRole(paced="put on a schedule by a call (`add_job`, `add_periodic_task`)", is_test=is_test)
    if "lifespan" in name or name in context.lifespan_names():
        return FunctionRole(runs_once="a lifespan hook")
    if name == "main" or (enclosing_class is None and name in context.main_guard_calls):
        return FunctionRole(runs_once="the script's entry point")
    if enclosing_class is None and name in context.process_targets():
        return FunctionRole(runs_once="a process's entry point")
    if enclosing_class is not None:
        bases = {dotted_name(arg.value) or "" for arg in enclosing_class.bases}
        if name == "ready" and any(b.endswith("AppConfig") for b in bases):
            return FunctionRole(runs_once="Django's AppConfig.ready")
        if name == "handle" and any(b.endswith("BaseCommand") for b in bases):
            return FunctionRole(runs_once="a management command")
        if any(f"{context.qualified_name(arg.value)}.{name}" in guards.once_per_process_methods
               for arg in enclosing_class.bases):
            return FunctionRole(runs_once="an application's start-up method")
        if name == "__init__" and any(context.qualified_name(arg.value) in guards.app_constructors
                                      for arg in enclosing_class.bases):
            return FunctionRole(runs_once="the constructor of the process's application object")
        if name in guards.task_class_methods and any(
                context.qualified_name(arg.value) in guards.task_base_classes for arg in enclosing_class.bases):
            return FunctionRole(per_call="a task", is_test=is_test)
    if enclosing_class is None and name in guards.chat_extension_entry_points \
            and context.own_imported_packages() & guards.chat_handler_packages:
        return FunctionRole(runs_once="a bot extension's entry point, run when the extension loads")
    facts = body_facts(function)
    callees = [_called_name(context, call, facts) for call in facts.called]
    if any(callee in guards.app_constructors for callee in callees):
        return FunctionRole(runs_once="an application factory")
    if any(callee in guards.main_loop_calls for callee in callees):
        return FunctionRole(runs_once="a process's entry point, which runs its main loop")
    if is_test:
        return FunctionRole(is_test=True)
    if name in guards.handler_names or (name.endswith("_handler") and len(function.params.params) == 2):
        return FunctionRole(per_call="a serverless handler")
    if name.startswith("resolve_"):
        return FunctionRole(per_call="a GraphQL resolver")
    return FunctionRole()
