"""What a function's code does with a client it builds: keeps it (an attribute, a container, a
global, a closure), returns it (directly or wrapped), releases it (`finally`, `with`), or hands it on;
and which module functions are reached only from run-once code. The analysis DBP1xx judges with
(rules/creation.py), as rules/release_tracker.py is DBP3xx's.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable, Collection, Iterator, Mapping, Optional, Sequence

import libcst as cst

from poollint.catalog.model import ClientSpec
from poollint.python.cst.context import Frame, dotted_name, positional_arguments
from poollint.python.cst.roles import decorator_target, function_role
from poollint.python.cst.walk import visit as cst_visit, walk as cst_walk
from poollint.python.facts import INSPECTING_BUILTINS, MAX_CHAIN_DEPTH

# methods of a container that keep their argument (`self._pools.setdefault(alias, pool)`)
COLLECTION_METHODS = frozenset({"append", "add", "setdefault", "insert", "extend", "update", "put", "register"})


def tests_missing(test: cst.BaseExpression, names: set[str]) -> bool:
    """`x is None` or `not x` on one of `names`."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return isinstance(test.expression, cst.Name) and test.expression.value in names
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name):
        target = test.comparisons[0]
        return test.left.value in names and isinstance(target.operator, cst.Is) \
            and isinstance(target.comparator, cst.Name) and target.comparator.value == "None"
    return False


class CalledNames(cst.CSTVisitor):
    """The names called anywhere in a module (`Store(...)`), functions and classes included."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name):
            self.names.add(node.func.value)


class _Contains(cst.CSTVisitor):
    def __init__(self, target: cst.CSTNode) -> None:
        self.target = target
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if node is self.target:
            self.found = True
        return not self.found


def in_parameter_defaults(function: cst.FunctionDef, node: cst.Call) -> bool:
    """Whether the call is a parameter default: evaluated once, when the `def` runs at import."""
    for param in (*function.params.posonly_params, *function.params.params, *function.params.kwonly_params):
        if param.default is not None:
            finder = _Contains(node)
            param.default.visit(finder)
            if finder.found:
                return True
    return False


# a use at a module's top level, which runs when the module is imported (_References.callers)
AT_IMPORT_SCOPE = object()
AT_IMPORT = (AT_IMPORT_SCOPE, None)


class _References(cst.CSTVisitor):
    """Where a module function's name is used: called from a function or method, or anything else."""

    def __init__(self, name: str, skip_bases: bool = False) -> None:
        self.name = name
        self.skip_bases = skip_bases
        # None: a use that is not a call, or a call repeated by a loop of its calling function;
        # AT_IMPORT: a call at module scope, which runs when the module is imported; else the calling
        # function and, for a method, its class
        self.callers: list[Optional[tuple[Any, Optional[cst.ClassDef]]]] = []
        self._function: list[cst.FunctionDef] = []
        self._classes: list[cst.ClassDef] = []
        self._loops: list[int] = [0]  # loops open in the innermost function
        self._called: set[int] = set()
        self._not_uses: set[int] = set()  # a class's bases, when the caller follows subclasses itself
        self._decorator_calls: set[int] = set()  # `@with_limiter(limit=5)`: placed by visit_Decorator

    def visit_Annotation(self, node: cst.Annotation) -> bool:
        return False  # `store: Store` says what a value is; it calls nothing

    def names_target(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name

    def visit_Import(self, node: cst.Import) -> bool:
        return False  # `from app.db import init`: naming it is not using it

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node)
        self._not_uses.add(id(node.name))  # `class Store:` names it, builds nothing
        if self.skip_bases:
            self._not_uses.update(id(base.value) for base in node.bases)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._called.add(id(node.name))
        self._function.append(node)
        self._loops.append(0)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._function.pop()
        self._loops.pop()

    def visit_For(self, node: cst.For) -> None:
        self._loops[-1] += 1

    def leave_For(self, original_node: cst.For) -> None:
        self._loops[-1] -= 1

    def visit_While(self, node: cst.While) -> None:
        self._loops[-1] += 1

    def leave_While(self, original_node: cst.While) -> None:
        self._loops[-1] -= 1

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._comprehension(node, (node.elt,))

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._comprehension(node, (node.elt,))

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._comprehension(node, (node.elt,))

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._comprehension(node, (node.key, node.value))

    def _comprehension(self, node: "cst.BaseComp | cst.DictComp", items: tuple[cst.CSTNode, ...]) -> bool:
        """`[load(t) for t in tables()]`: `tables()` runs once, before the first item; the rest once per item."""
        first = node.for_in
        cst_visit(first.iter, self)
        self._loops[-1] += 1
        for part in (first.target, *first.ifs, *((first.inner_for_in,) if first.inner_for_in else ()), *items):
            cst_visit(part, self)
        self._loops[-1] -= 1
        return False

    def visit_Decorator(self, node: cst.Decorator) -> None:
        """`@with_limiter` or `@with_limiter(limit=5)` runs the function once, when the definition it
        decorates runs: at import for a module's function or a method of its class, else on each run of
        the function that defines it."""
        target, call = decorator_target(node)
        if not self.names_target(target):
            return
        self._called.add(id(target))
        if call is not None:
            self._decorator_calls.add(id(call))
        # the definition this decorator belongs to is the innermost one pushed; where it runs is outside it
        functions = [f for f in self._function if all(d is not node for d in f.decorators)]
        classes = [c for c in self._classes if all(d is not node for d in c.decorators)]
        if not functions:
            self.callers.append(AT_IMPORT if not self._loops[0] else None)
        elif len(self._loops) > len(functions) and self._loops[len(functions)]:
            self.callers.append(None)  # defined inside a loop of its function: runs once per pass
        else:
            function = functions[-1]
            klass = classes[-1] if classes and function in _members(classes[-1]) else None
            self.callers.append((function, klass))

    def visit_Call(self, node: cst.Call) -> None:
        if id(node) in self._decorator_calls:
            return
        if self.names_target(node.func):
            self._called.add(id(node.func))
            if self._function and not self._loops[-1]:
                # the innermost function makes the call: a route handler defined inside a start-up
                # function runs per call, not once with it
                function = self._function[-1]
                klass = self._classes[-1] if self._classes and function in _members(self._classes[-1]) else None
                self.callers.append((function, klass))
            elif not self._function and not self._classes:
                # module scope, a loop there too: it runs a fixed number of times, when the module is imported
                self.callers.append(AT_IMPORT)
            else:
                self.callers.append(None)

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self._called and id(node) not in self._not_uses and self.names_target(node):
            self.callers.append(None)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_uses.add(id(node.attr))  # `celery.task`: an attribute's name is not the function `task`
        if id(node) not in self._called and id(node) not in self._not_uses and self.names_target(node):
            self.callers.append(None)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_uses.add(id(node.keyword))  # `run(task=1)`: a keyword's name is not the function


class _QualifiedReferences(_References):
    """Uses of a project function in another module, by what each name resolves to there
    (`dbutil.upgrade_if_needed(...)`, `from app.db import init as setup; setup()`)."""

    def __init__(self, context, qualified: Collection[str]) -> None:
        super().__init__(next(iter(qualified)).rsplit(".", 1)[-1])
        self.context = context
        self.qualified = qualified  # the function's name and the names modules re-export it as

    def names_target(self, node: cst.BaseExpression) -> bool:
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return False
        first = node
        while isinstance(first, cst.Attribute):
            first = first.value
        for function in reversed(self._function):  # `from app.db import init_db` inside the caller itself
            bound = self.context.imports_inside(function).get(first.value) if isinstance(first, cst.Name) else None
            if bound is not None:
                return f"{bound}{(dotted_name(node) or '')[len(first.value):]}" in self.qualified
        return self.context.qualified_name(node) in self.qualified


class _MethodReferences(_References):
    """Uses of a method by its name: every call of `.init_db()` is placed by its caller, whatever object
    it is made on (a call on an unrelated object only adds a caller to judge); any other `.init_db`
    is a use whose caller is not known."""

    def names_target(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Attribute) and node.attr.value == self.name

    def visit_Name(self, node: cst.Name) -> None:
        pass  # a bare name is not the method


def _members(klass: cst.ClassDef) -> tuple[cst.CSTNode, ...]:
    return tuple(klass.body.body) if isinstance(klass.body, cst.IndentedBlock) else ()


# other modules read to find who calls a function: more than this many importers and the question stays open
MAX_IMPORTERS_READ = 12


def reached_only_from_run_once(context, function: cst.FunctionDef, depth: int = 0,
                               klass: Optional[cst.ClassDef] = None, paced: bool = False) -> bool:
    """A function (of the module, or a method of `klass`) whose every use is a call from code that runs
    once (a command, a script's `main()`, a start-up hook, an application's `start()`), directly or
    through such helpers, in this module and in the modules that import it (the project index's
    imports). A use that is not a call, or a call the analysis cannot place, decides against it.
    `paced`: code that runs at a pace the traffic does not set counts as such code too (FunctionRole.paced:
    a periodic task, an administrators-only handler), for the rules whose harm grows with how often the
    code runs rather than with how long each run holds a connection."""
    return _every_use_from(context, function, klass, depth,
                           "_reached_only_from_run_once_or_paced" if paced else "_reached_only_from_run_once",
                           lambda where, caller: _caller_runs_once(where, caller[0], caller[1], depth, paced))


def reached_only_from_unbuilt_classes(context, function: cst.FunctionDef, depth: int = 0,
                                      klass: Optional[cst.ClassDef] = None) -> bool:
    """A function (of the module, or a method of `klass`) whose every use is a call from the `__init__` of
    a class that nothing in the project builds or names (see `_built_only_outside`), directly or through
    such helpers: it runs as often as code outside the project makes instances (a library's class, a
    component of a monorepo whose users are other projects), which nothing here shows."""
    if klass is not None and function.name.value == "__init__":
        return depth <= 3 and function in _members(klass) and _built_only_outside(context, klass, depth)
    return _every_use_from(
        context, function, klass, depth, "_reached_only_from_unbuilt_classes",
        lambda where, caller: caller is not AT_IMPORT and not function_role(where, caller[0], caller[1]).per_call
        and reached_only_from_unbuilt_classes(where, caller[0], depth + 1, caller[1]))


def _every_use_from(context, function: cst.FunctionDef, klass: Optional[cst.ClassDef], depth: int, memo: str,
                    accepts: Any) -> bool:
    """Whether the function has uses and every one is a call, from another function, that `accepts(where,
    caller)`: in this module and in those that import it (a class's `__init__`: where the class is built)."""
    name = function.name.value
    if depth > 3:
        return False
    if klass is None and context.module_functions.get(name) is not function:
        return False
    if klass is not None and function not in _members(klass):
        return False
    cache = context.__dict__.setdefault(memo, {})
    if function in cache:
        return cache[function]
    cache[function] = False  # recursion through a cycle decides nothing
    if klass is not None and name == "__init__":
        uses, elsewhere = _constructor_uses(context, klass, depth)
    else:
        references: _References = _References(name) if klass is None else _MethodReferences(name)
        cst_visit(context.module, references)
        uses = [(context, caller) for caller in references.callers]
        elsewhere = _uses_in_importers(context, name, klass)
    answer = elsewhere is not None and bool(uses or elsewhere) and all(
        caller is not None and caller[0] is not function and accepts(where, caller)
        for where, caller in (*uses, *elsewhere))
    cache[function] = answer
    return answer


def _built_only_outside(context, klass: cst.ClassDef, depth: int) -> bool:
    """No code of the project builds the class or names it, except the `__init__` of classes that are
    themselves built only outside (a subclass's included). Its bases are this module's classes: a
    framework's base class (a request handler, a view) is built by the framework, per request maybe."""
    module_classes = {node.name.value for node in context.module.body if isinstance(node, cst.ClassDef)}
    if depth > 3 or any(not (isinstance(base.value, cst.Name) and base.value.value in module_classes | {"object"})
                        or base.keyword is not None for base in klass.bases):
        return False
    uses, elsewhere = _constructor_uses(context, klass, depth)
    return elsewhere is not None and all(
        caller is not None and caller is not AT_IMPORT and caller[1] is not None and caller[1] is not klass
        and caller[0].name.value == "__init__" and _built_only_outside(where, caller[1], depth + 1)
        for where, caller in (*uses, *elsewhere))


def _constructor_uses(context, klass: cst.ClassDef, depth: int) -> tuple[list, "Optional[list]"]:
    """Where a class's `__init__` runs: where the class is built (`Store()`), here and in the modules that
    import it, and, for a subclass of this module, in the subclass's own `__init__` (which is taken to
    call it) or where the subclass is built. A subclass in another module is a use no one can place
    (its base names the class there): the question stays open."""
    built = _References(klass.name.value, skip_bases=True)
    cst_visit(context.module, built)
    uses: list = [(context, caller) for caller in built.callers]
    elsewhere = _uses_in_importers(context, klass.name.value, None)
    if elsewhere is None or depth > 3:
        return uses, None
    for subclass in _subclasses(context, klass):
        own = next((m for m in _members(subclass) if isinstance(m, cst.FunctionDef) and m.name.value == "__init__"), None)
        if own is not None:
            uses.append((context, (own, subclass)))
        else:
            more, more_elsewhere = _constructor_uses(context, subclass, depth + 1)
            if more_elsewhere is None:
                return uses, None
            uses.extend(more)
            elsewhere.extend(more_elsewhere)
    return uses, elsewhere


def _subclasses(context, klass: cst.ClassDef) -> list[cst.ClassDef]:
    return [node for node in context.module.body if isinstance(node, cst.ClassDef) and node is not klass
            and any(isinstance(base.value, cst.Name) and base.value.value == klass.name.value for base in node.bases)]


def runs_once_per_process(context, function: cst.FunctionDef, klass: Optional[cst.ClassDef] = None,
                          depth: int = 0, paced: bool = False) -> bool:
    """A function (or a method of `klass`) that runs once per process: its role says so (a command, a
    script's `main()`, a start-up hook), or it is reached only from such code; a request handler, a task
    or a hook runs per call, whoever else calls it. `paced`: or at a pace the traffic does not set (a
    periodic task, an administrators-only handler, or code only such code and run-once code reach)."""
    role = function_role(context, function, klass)
    if role.runs_once or (paced and role.paced):
        return True
    return not role.per_call and reached_only_from_run_once(context, function, depth, klass, paced)


def _caller_runs_once(context, caller: Any, klass: Optional[cst.ClassDef], depth: int,
                      paced: bool = False) -> bool:
    """A caller that runs once per process (`paced`: or at a pace the traffic does not set). A module's top
    level runs once, when it is imported, unless the module is a Streamlit script, which runs again on
    every interaction."""
    if caller is AT_IMPORT_SCOPE:
        return "streamlit" not in context.own_imported_packages()
    return runs_once_per_process(context, caller, klass, depth + 1, paced)


def _uses_in_importers(context, name: str, klass: Optional[cst.ClassDef]) -> "Optional[list[tuple[object, object]]]":
    """The uses of a module function (or of a method, by its name) in the other project modules that
    import its module, each parsed whole; None when they cannot all be read. Without a project index,
    nothing is known of other modules: an empty list."""
    from poollint.python.cst.modules import module_context, module_names_word

    index = context.index
    if index is None or not context.module_name:
        return []
    module = context.module_name
    # `import app.db`, `from app.db import init`, or the name re-exported by a package above (`from app
    # import init`); a method is reached through its class (`from app.hub import Hub`). A module that
    # imports the name re-exports it to its own importers (`from .tables import init`, where tables.py
    # has `from .postgres import init`)
    imported = name if klass is None else klass.name.value
    packages = [".".join(module.split(".")[:cut]) for cut in range(1, module.count(".") + 1)]
    names = sorted({module, f"{module}.{imported}", *(f"{package}.{imported}" for package in packages)})
    importers = [other for other in _importers_of(index, names) if other != module]
    qualified = {context.module_qualified(name)}
    # those that import the name itself, `from .postgres import init`, bind it for their importers
    reexporters = [other for other in _importers_of(index, [f"{module}.{imported}"]) if other != module] \
        if klass is None else []
    for _ in range(MAX_CHAIN_DEPTH if reexporters else 0):
        # who imports it from them, and so re-exports it one level further
        further = [other for other in _importers_of(index, [f"{source}.{imported}" for source in reexporters])
                   if other != module]
        more = [other for other in further if other not in importers]
        if not more:
            break
        importers.extend(more)
        qualified.update(f"{source}.{imported}" for source in reexporters)
        reexporters = further
        if not reexporters:
            break
    # importing the module names it too (`from app.db import get_db` beside `init_db`): those that never
    # spell the name cannot use it, and are not parsed
    importers = [other for other in importers if module_names_word(index, other, name)]
    if not importers:
        return []
    if len(importers) > MAX_IMPORTERS_READ:
        return None
    found: list[tuple[object, object]] = []
    for other in importers:
        other_context = module_context(index, other, context.settings)
        if other_context is None:
            return None
        if other_context.is_test_file:
            # tests say nothing of how production calls it: a hook a framework calls per request
            # may have only tests for callers in the project
            continue
        references = _MethodReferences(name) if klass is not None \
            else _QualifiedReferences(other_context, qualified)
        cst_visit(other_context.module, references)
        found.extend((other_context, caller) for caller in references.callers)
    return found


def _importers_of(index, names: list[str]) -> tuple[str, ...]:
    from poollint.python.reads import record_index_answer

    found = index.importers_of(names)
    record_index_answer("importers " + " ".join(sorted(names)), found)
    return found


def produces(value: Optional[cst.BaseExpression], node: cst.Call) -> bool:
    """Whether `value` evaluates to the call's result: the call itself, awaited, or a branch of `x if c else y`."""
    if value is node:
        return True
    if isinstance(value, cst.Await):
        return produces(value.expression, node)
    if isinstance(value, cst.IfExp):
        return produces(value.body, node) or produces(value.orelse, node)
    if isinstance(value, cst.BooleanOperation):  # `connection or self._new_engine()`
        return produces(value.left, node) or produces(value.right, node)
    return False


def subscribed(value: Optional[cst.BaseExpression]) -> Optional[cst.BaseExpression]:
    """What subscriptions are taken from (`client["shop"]["orders"]` -> `client`), which the object they
    give keeps alive; the value itself when it is no subscription."""
    while isinstance(value, cst.Subscript):
        value = value.value
    return value


def carries(value: Optional[cst.BaseExpression], node: cst.Call) -> bool:
    """Whether `value` is the call's result or an object taken from it by subscription, which keeps the
    client alive (`MongoClient(url)["shop"]`, `client[db][coll]`)."""
    return produces(subscribed(value), node)


def releases(call: cst.Call, names: set[str], spec: ClientSpec) -> bool:
    """`client.close()` on one of `names`, with a release method of the client's library."""
    return (
        isinstance(call.func, cst.Attribute) and call.func.attr.value in spec.release
        and isinstance(call.func.value, cst.Name) and call.func.value.value in names
    )


def is_argument_of(value: Optional[cst.BaseExpression], node: cst.Call) -> bool:
    """Whether the call is an argument, at any depth, of the call that `value` evaluates to."""
    if isinstance(value, cst.Await):
        value = value.expression
    if not isinstance(value, cst.Call):
        return False
    return any(arg.value is node or is_argument_of(arg.value, node) for arg in value.args)


# what the project index knows of a call's function: (its positional parameters, those its result may
# carry), or None when it may carry any argument (ProjectIndex.result_parameters)
ResultParameters = Callable[[cst.Call], Optional[tuple[tuple[str, ...], frozenset[str]]]]


class _KeptNames(cst.CSTVisitor):
    """Names whose value is stored somewhere that outlives the call: an attribute, a container, a global."""

    def __init__(self, module_functions: Mapping[str, cst.FunctionDef] = MappingProxyType({}),
                 project_result: Optional[ResultParameters] = None) -> None:
        # helpers whose result keeps only the arguments they return (`oid = get_oid(name, engine)`)
        self.module_functions = module_functions
        self.project_result = project_result
        self.kept: set[str] = set()
        self.closures: dict[str, set[str]] = {}  # nested function -> names it uses
        # local name -> the names its value was built from (`maker = sessionmaker(bind=engine)`)
        self.built_from: dict[str, set[str]] = {}
        # `metadata.bind = engine` on a plain name: that name -> the names stored on it
        self.stored_on: dict[str, set[str]] = {}
        self.uses: dict[str, int] = {}  # every occurrence of each name
        self.bookkeeping: dict[str, int] = {}  # occurrences as an assignment target or an attribute store's base
        self._not_variables: set[int] = set()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:  # `self.stores: SimpleNamespace = SimpleNamespace(...)`
            self._assigned(node.value, [node.target])

    def visit_Assign(self, node: cst.Assign) -> None:
        self._assigned(node.value, [target.target for target in node.targets])

    def _assigned(self, value: cst.BaseExpression, targets: list[cst.BaseExpression]) -> None:
        held = subscribed(value)  # `self.crawls = mdb["crawls"]`: the collection holds the client
        value_names = ({held.value} if isinstance(held, cst.Name) else set()) \
            | _argument_names(value, self.module_functions, self.project_result)
        for target in unpacked_targets(targets):
            if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
                    and target.value.value not in ("self", "cls"):
                base = target.value.value
                self.stored_on.setdefault(base, set()).update(value_names)
                self.bookkeeping[base] = self.bookkeeping.get(base, 0) + 1
            elif isinstance(target, (cst.Attribute, cst.Subscript)):
                # `self.session = scoped_session(maker)`: the object stored holds what it was built from
                self.kept |= value_names
            elif isinstance(target, cst.Name):
                self.built_from.setdefault(target.value, set()).update(
                    _argument_names(value, self.module_functions, self.project_result))
                self.bookkeeping[target.value] = self.bookkeeping.get(target.value, 0) + 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_variables.add(id(node.attr))  # `Base.metadata`: an attribute's name, not a variable

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_variables.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self._not_variables:
            self.uses[node.value] = self.uses.get(node.value, 0) + 1

    def kept_through_locals(self) -> set[str]:
        """`kept`, with every local a kept value was built from, transitively. What is stored on an
        attribute of a plain name is kept, unless the name is a local whose object goes nowhere (assigned
        here and used for nothing else: `metadata = copy(Base.metadata); metadata.bind = engine`)."""
        for base, stored in self.stored_on.items():
            if base not in self.built_from or self.uses.get(base, 0) > self.bookkeeping.get(base, 0):
                self.kept |= stored
        kept, pending = set(self.kept), list(self.kept)
        while pending:
            for name in self.built_from.get(pending.pop(), ()):
                if name not in kept:
                    kept.add(name)
                    pending.append(name)
        return kept

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and (node.func.attr.value in COLLECTION_METHODS or _is_super_init(node)):
            # `super().__init__(engine)`: the base class keeps it on the instance
            self.kept.update(arg.value.value for arg in node.args if isinstance(arg.value, cst.Name))

    def visit_Global(self, node: cst.Global) -> None:
        self.kept.update(item.name.value for item in node.names)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        names = _UsedNames()
        cst_visit(node.body, names)
        self.closures[node.name.value] = names.used


class _Returns(cst.CSTVisitor):
    def __init__(self) -> None:
        self.values: list[Optional[cst.BaseExpression]] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.values.append(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _returns_of(function: cst.FunctionDef) -> list[Optional[cst.BaseExpression]]:
    collector = _Returns()
    cst_visit(function.body, collector)
    return collector.values


def reinitialises_cached_instance(function: cst.FunctionDef, klass: Optional[cst.ClassDef]) -> bool:
    """`__init__` of a class whose `__new__` may hand back an existing instance: Python runs `__init__` on it
    again, so a client it builds unconditionally (no early `return`) is rebuilt on every construction."""
    if klass is None or function.name.value != "__init__" or _returns_of(function):
        return False
    new = next((s for s in klass.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "__new__"), None)
    if new is None:
        return False
    # a `__new__` that only returns `super().__new__(cls)` makes a new instance every time
    return any(value is not None and not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
                                          and value.func.attr.value == "__new__")
               for value in _returns_of(new))


def is_self(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


class _Assignments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Assign] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        self.found.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def assignments(function: cst.FunctionDef) -> list[cst.Assign]:
    collector = _Assignments()
    cst_visit(function.body, collector)
    return collector.found


def calls_assigned_to_self(function: cst.FunctionDef, attribute: str) -> list[cst.BaseExpression]:
    """Values `function` assigns to `self.<attribute>`."""
    return [a.value for a in assignments(function) if any(
        isinstance(t.target, cst.Attribute) and is_self(t.target.value) and t.target.attr.value == attribute
        for t in a.targets)]


def _is_super_init(node: cst.Call) -> bool:
    func = node.func
    return isinstance(func, cst.Attribute) and func.attr.value == "__init__" and isinstance(func.value, cst.Call) \
        and isinstance(func.value.func, cst.Name) and func.value.func.value == "super"


class _UsedNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.used: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.used.add(node.value)


def kept_names(scope: cst.CSTNode, module_functions: Mapping[str, cst.FunctionDef] = MappingProxyType({}),
               project_result: Optional[ResultParameters] = None) -> set[str]:
    cache = _KEPT_CACHE.get(id(scope))
    if cache is not None and cache[0] is scope:
        return cache[1]
    collector = _KeptNames(module_functions, project_result)
    cst_visit(scope, collector)
    for name in list(collector.kept):  # `self.run = run`: what the stored closure uses lives as long
        collector.kept |= collector.closures.get(name, set())
    kept = collector.kept_through_locals()
    _KEPT_CACHE.clear()  # one scope at a time is enough: calls of one function arrive together
    _KEPT_CACHE[id(scope)] = (scope, kept)
    return kept


_KEPT_CACHE: dict[int, tuple[cst.CSTNode, set[str]]] = {}


class FinallyBlocks(cst.CSTVisitor):
    """`finally:` bodies of a function, not of functions nested in it."""

    def __init__(self) -> None:
        self.blocks: list[cst.CSTNode] = []

    def visit_Try(self, node: cst.Try) -> None:
        if node.finalbody is not None:
            self.blocks.append(node.finalbody)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def innermost_loop(frames: list[Frame]) -> Optional[Frame]:
    """The innermost loop or comprehension inside the innermost function (or module)."""
    for frame in reversed(frames):
        if frame.is_function or isinstance(frame.node, cst.ClassDef):
            return None
        if frame.is_loop:
            return frame
    return None


def _argument_names(value: Optional[cst.BaseExpression],
                    module_functions: Mapping[str, cst.FunctionDef] = MappingProxyType({}),
                    project_result: Optional[ResultParameters] = None) -> set[str]:
    """Names passed, at any depth, as arguments of the call (or elements of the literal) `value` evaluates
    to, except those a call of the module's own helper, or of a project function the index has read
    (`project_result`), does not return (see `_kept_arguments`)."""
    if isinstance(value, cst.Await):
        value = value.expression
    if isinstance(value, (cst.List, cst.Tuple, cst.Set, cst.Dict)):  # `[Store(client)]`: the literal keeps it
        pending = [element.value for element in value.elements]
    elif isinstance(value, cst.Call):
        pending = _kept_arguments(value, module_functions, project_result)
    else:
        return set()
    names: set[str] = set()
    while pending:
        inner = subscribed(pending.pop())  # `cls(client[db][coll])`: the client lives on
        if isinstance(inner, cst.Name):
            names.add(inner.value)
        elif isinstance(inner, (cst.List, cst.Tuple, cst.Set)):  # `Namespace(stores=[Store(conn)])`
            pending.extend(element.value for element in inner.elements)
        elif isinstance(inner, cst.Dict):  # `SimpleNamespace(**{"tasks": TaskStore(conn)})`
            pending.extend(element.value for element in inner.elements)
        else:
            names |= _argument_names(inner, module_functions, project_result)
    return names


def _kept_arguments(call: cst.Call, module_functions: Mapping[str, cst.FunctionDef],
                    project_result: Optional[ResultParameters] = None) -> list[cst.BaseExpression]:
    """The arguments a call's result may keep: all of them for an object built from them (`Store(client)`,
    `sessionmaker(bind=engine)`) or anything of a library's or another module's; for a function of this
    module (or a method of the enclosing class, as `self.name`), those it may return: `_is_locked_out(key,
    redis)` returning what it computes with the client keeps none, `_queue_len(redis, key)` returning
    `await redis.zcard(key)` at most `key`. The `ast` twin is python/facts.py's
    `_ModuleReader._passes_arguments_on`."""
    arguments = [arg.value for arg in call.args]
    function = module_functions.get(call.func.value) if isinstance(call.func, cst.Name) else None
    method = isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name) \
        and call.func.value.value in ("self", "cls")
    if method:
        function = module_functions.get(f"self.{call.func.attr.value}")  # type: ignore[attr-defined]
    if function is None:
        if isinstance(call.func, cst.Name) and call.func.value in INSPECTING_BUILTINS:
            return []  # `str(engine)`: a value computed from it (a rebound builtin's name is a module function)
        known = project_result(call) if project_result is not None else None
        if known is None or any(arg.star for arg in call.args):
            return arguments
        positional, returned = list(known[0]), set(known[1])  # a function of another module the index read
    else:
        returned = returned_names(function)
        params = function.params
        positional = [p.name.value for p in (*params.posonly_params, *params.params)][1 if method else 0:]
        starred = {p.name.value for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)}
        if starred & returned or any(arg.star for arg in call.args):
            return arguments if returned else []  # `*args` may carry any argument into what it returns
    kept: list[cst.BaseExpression] = []
    for index, arg in enumerate(call.args):
        name = arg.keyword.value if arg.keyword is not None else positional[index] if index < len(positional) else None
        if name is None or name in returned:
            kept.append(arg.value)
    return kept


class _Calls(cst.CSTVisitor):
    def __init__(self, module_functions: Mapping[str, cst.FunctionDef] = MappingProxyType({}),
                 project_result: Optional[ResultParameters] = None) -> None:
        self.module_functions = module_functions
        self.project_result = project_result
        self.calls: list[cst.Call] = []
        self.returned: set[str] = set()
        self.flows: dict[str, set[str]] = {}  # `store = Store(client=client)`: client flows into store

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        targets = {t.target.value for t in node.targets if isinstance(t.target, cst.Name)}
        for name in _argument_names(node.value, self.module_functions, self.project_result):
            self.flows.setdefault(name, set()).update(targets)

    def visit_Return(self, node: cst.Return) -> None:
        # `return client["shop"]`: the database keeps its client
        value = subscribed(node.value.expression if isinstance(node.value, cst.Await) else node.value)
        if isinstance(value, cst.Name):
            self.returned.add(value.value)
        elif isinstance(value, cst.Tuple):
            self.returned.update(e.value.value for e in value.elements if isinstance(e.value, cst.Name))
        else:
            # `return Engine(pool)`: the client leaves wrapped in what the function returns
            self.returned |= _argument_names(value, self.module_functions, self.project_result)

    def returned_through_flows(self) -> set[str]:
        returned = set(self.returned)
        changed = True
        while changed:
            changed = False
            for name, targets in self.flows.items():
                if name not in returned and targets & returned:
                    returned.add(name)
                    changed = True
        return returned

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def calls_in(node: cst.CSTNode) -> list[cst.Call]:
    collector = _Calls()
    cst_visit(node, collector)
    return collector.calls


def returned_names(function: cst.FunctionDef,
                   module_functions: Mapping[str, cst.FunctionDef] = MappingProxyType({}),
                   project_result: Optional[ResultParameters] = None) -> set[str]:
    """Names whose value the function returns, directly or wrapped in what it returns. `module_functions`
    (and the enclosing class's methods as `self.name`, see `own_functions`) and the functions of other
    modules the index read (`project_result`): helpers whose result keeps none of their arguments
    unless they return one of their parameters."""
    collector = _Calls(module_functions, project_result)
    cst_visit(function.body, collector)
    return collector.returned_through_flows()


def own_functions(context, klass: Optional[cst.ClassDef]) -> Mapping[str, cst.FunctionDef]:
    """The module's functions and, as `self.name`, the methods of `klass`: what `returned_names` may
    follow (`total = await self._queue_len(redis)` keeps nothing of `redis` when `_queue_len` returns
    none of its parameters)."""
    if klass is None:
        return context.module_functions
    methods = {f"self.{s.name.value}": s for s in _members(klass) if isinstance(s, cst.FunctionDef)}
    return {**context.module_functions, **methods} if methods else context.module_functions


def unpacked_targets(targets: list[cst.BaseExpression]) -> list[cst.BaseExpression]:
    """Assignment targets with tuples and lists taken apart: `client, db = init_db()`."""
    out: list[cst.BaseExpression] = []
    for target in targets:
        if isinstance(target, (cst.Tuple, cst.List)):
            out.extend(unpacked_targets([element.value for element in target.elements]))
        else:
            out.append(target)
    return out


def parameters_given(call: cst.Call, parameters: Sequence[tuple[int, str]], names: Collection[str]) -> list[str]:
    """Which of a project function's `parameters` ((position or -1 for keyword-only, name), as the index
    records them) this call passes one of `names` to, by position or keyword."""
    positional = [arg.value for arg in positional_arguments(call)]
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    given = []
    for position, parameter in parameters:
        value = keywords.get(parameter)
        if value is None and 0 <= position < len(positional):
            value = positional[position]
        if isinstance(value, cst.Name) and value.value in names:
            given.append(parameter)
    return given


def serves_an_endless_loop(node: cst.CSTNode, function: cst.FunctionDef, names: set[str],
                           streams: frozenset[str] = frozenset()) -> bool:
    """`client = Redis(); while True: client.set(...); sleep(5)`: a worker that runs until it fails, on
    one client (or connection) bound to `names` that serves every pass. It is opened as often as the
    worker starts, not per request (a call that returned would be needed for that), and it is let go
    only when the worker ends. With `streams`, a loop over one of its subscription streams (`async for
    message in pubsub.listen()`), which ends only when the connection drops, is such a worker too."""
    if not names:
        return False
    for block in _statement_blocks(function.body):
        for index, statement in enumerate(block):
            if any(inner is node for inner in cst_walk(statement, prune=(cst.FunctionDef, cst.Lambda, cst.ClassDef))) \
                    and any((is_endless(later) and _names_any(later, names))
                            or iterates_a_stream(later, lambda value: _is_one_of(value, names), streams)
                            for later in block[index + 1:]):
                return True
    return False


def iterates_a_stream(statement: cst.CSTNode, holds: Any, streams: frozenset[str]) -> bool:
    """`for message in pubsub.listen():` over a subscription stream of an object that `holds(...)` says is
    the client's, leaving it by no `break` of its own: it runs until the connection drops."""
    return isinstance(statement, cst.For) and isinstance(statement.iter, cst.Call) \
        and isinstance(statement.iter.func, cst.Attribute) and statement.iter.func.attr.value in streams \
        and holds(statement.iter.func.value) and not any(isinstance(inner, cst.Break) for inner in cst_walk(
            statement.body, prune=(cst.For, cst.While, cst.FunctionDef, cst.Lambda, cst.ClassDef)))


def _is_one_of(value: cst.BaseExpression, names: set[str]) -> bool:
    return isinstance(value, cst.Name) and value.value in names


def _statement_blocks(body: cst.BaseSuite) -> Iterator[Sequence[cst.BaseStatement]]:
    """Every statement sequence of a function body, not those of nested definitions."""
    for inner in cst_walk(body, prune=(cst.FunctionDef, cst.Lambda, cst.ClassDef)):
        if isinstance(inner, cst.IndentedBlock):
            yield inner.body


def is_endless(statement: cst.CSTNode) -> bool:
    """`while True:` (or `while 1:`) that no `break` or `return` of its own leaves."""
    if not isinstance(statement, cst.While) or statement.orelse is not None:
        return False
    test = statement.test
    if not ((isinstance(test, cst.Name) and test.value == "True") or (isinstance(test, cst.Integer) and test.value == "1")):
        return False
    return not any(isinstance(inner, cst.Return) or (isinstance(inner, cst.Break) and _leaves(inner, statement))
                   for inner in cst_walk(statement.body, prune=(cst.FunctionDef, cst.Lambda, cst.ClassDef)))


def _leaves(brk: cst.Break, loop: cst.While) -> bool:
    """Whether `brk` belongs to `loop` itself, not to a loop nested in it."""
    for inner in cst_walk(loop.body, prune=(cst.FunctionDef, cst.Lambda, cst.ClassDef)):
        if isinstance(inner, (cst.For, cst.While)) and any(b is brk for b in cst_walk(inner.body)):
            return False
    return True


def _names_any(node: cst.CSTNode, names: set[str]) -> bool:
    return any(isinstance(inner, cst.Name) and inner.value in names for inner in cst_walk(node))
