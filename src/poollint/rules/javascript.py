"""DBP101, DBP102, DBP103, DBP201, DBP204, DBP301 and DBP302 for TypeScript and JavaScript (Prisma ORM).

The codes, names, messages and documentation are the Python rules' own (RULES_BY_CODE);
this module judges the facts of javascript/module.py with the same criteria.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from poollint.catalog.javascript import JavascriptCatalog
from poollint.catalog.model import ClientSpec, Guards
from poollint.findings import Finding, Location
from poollint.javascript.module import (
    CLASS_TYPES,
    FUNCTION_TYPES,
    HTTP_METHODS,
    ITERATING_METHODS,
    LOOP_TYPES,
    PROCEDURE_METHODS,
    ROUTE_METHODS,
    JsModule,
    Node,
    ancestors,
    callback_of,
    function_body,
    function_display_name,
    is_damaged,
    memoised_function,
    string_value,
    text,
    unwrap,
    value_parent,
)
from poollint.javascript.project import JsProject, next_route_file, next_route_path
from poollint.javascript.source import CALLS

# Same bound as the Python rules: calls into project functions are followed three levels deep.
MAX_DEPTH = 3
# Functions that run once per process: start-up hooks (NestJS, Fastify plugins)
STARTUP_FUNCTIONS = frozenset({"onModuleInit", "onApplicationBootstrap", "bootstrap", "startServer", "start"})
# an application factory runs once per process (and once per test)
APP_FACTORY = re.compile(r"^(?:create|build|make|init|setup|start)(?:App|Server|Application|Api)$")
# A call that keeps what it is given (a registry, a DI container, a map of tenants' clients)
STORING_METHODS = frozenset({"set", "push", "register", "decorate", "provide", "bind", "add", "unshift", "put",
                             "useValue", "singleton"})
# Calls that run their callback later: the transaction does not wait for it
DEFERRING_CALLS = frozenset({"setTimeout", "setImmediate", "setInterval", "nextTick", "queueMicrotask", "on", "once",
                             "addEventListener", "after", "waitUntil", "addListener", "subscribe", "catch", "finally"})
SAFE_RELEASE_CALLBACKS = frozenset({"finally", "catch"})
PROCESS_EXIT_HOOKS = re.compile(r"^process\.(on|once)$")
EXPORTED_HANDLER_ROLES = {"handler": "request handler", "middleware": "middleware", "fetch": "fetch handler"}


@dataclass
class Site:
    """Where a pool-owning client is built: `new PrismaClient()` or a call of a project factory."""

    module: JsModule
    node: Node
    spec: ClientSpec
    display: str  # `new PrismaClient()` or `createClient()` -> `new PrismaClient()`
    placement: str = ""  # module | function | loop | guarded | factory | class
    function: Optional[Node] = None
    loop: Optional[Node] = None
    binding: Optional[str] = None
    global_key: Optional[str] = None
    shared_store: bool = False
    # for `new Store()` of a project class whose instances keep a client: the `new PrismaClient()` it builds
    client_site: Optional["Site"] = None


@dataclass
class Judge:
    project: JsProject
    catalog: JavascriptCatalog
    display_path: Callable[[Path], str]
    duplicate_threshold: int = 2
    findings: list[Finding] = field(default_factory=list)
    factories: dict[tuple[Path, str], Site] = field(default_factory=dict)
    # (module, class name) -> what its constructor or an instance field builds and keeps on the instance
    owners: dict[tuple[Path, str], Site] = field(default_factory=dict)
    _instantiated: set[tuple[Path, int]] = field(default_factory=set)
    _reach_cache: dict[tuple[Path, int], Optional[tuple[tuple[str, ...], str]]] = field(default_factory=dict)

    # -- building clients (DBP101, DBP102, DBP103) --------------------------------------------------
    def constructions(self, module: JsModule) -> list[Site]:
        sites = []
        for node in module.new_expressions(self._client_constructor_names(module)):
            if is_damaged(node):
                continue
            name = module.qualified_name(node.child_by_field_name("constructor"))
            spec = self.catalog.client_for(name)
            if spec is None:
                continue
            constructor = text(node.child_by_field_name("constructor"))
            site = Site(module, node, spec, f"new {constructor}()")
            self.place(site)
            self._remember_owner(site)
            sites.append(site)
            if site.placement == "factory" and site.function is not None:
                self._remember_factory(site)
        return sites

    def _client_constructor_names(self, module: JsModule) -> set[str]:
        """The local names `new` may build a client with: `PrismaClient` or its alias, `ns.` of a namespace."""
        names = set()
        for local, (specifier, imported) in module.imported_names():
            if imported in ("*", "default"):
                names.add(re.escape(local) + r"\s*\.")  # `new Prisma.PrismaClient()`
            elif self.catalog.client_for(f"{specifier}.{imported}") is not None:
                names.add(re.escape(local) + r"(?![\w$])")
        return names

    def _remember_owner(self, site: Site) -> None:
        """A class whose instances keep the client the site builds (`this.prisma = new PrismaClient()` in its
        constructor, an instance field): each `new` of it builds a pool."""
        klass = _instance_keeper(site)
        if klass is not None:
            self.owners.setdefault((site.module.path, klass), site)

    def owner_names(self) -> set[str]:
        return {name for _, name in self.owners}

    def instantiations(self, module: JsModule) -> list[Site]:
        """`new Store()` of a project class whose instances keep a client (directly, or through the
        instance of another such class they keep: `new UserService()` -> `new UserModel()` ->
        `new PrismaClient()`), in this module; each is placed and judged as the client it builds."""
        names = self.owner_names()
        sites: list[Site] = []
        if not names:
            return sites
        for node in module.new_expressions({re.escape(name) + r"(?![\w$])" for name in names}):
            constructor = unwrap(node.child_by_field_name("constructor"))
            if (module.path, node.start_byte) in self._instantiated or constructor is None \
                    or constructor.type != "identifier" or is_damaged(node):
                continue
            owner = self._site_named(self.owners, module, text(constructor))
            if owner is None:
                continue
            self._instantiated.add((module.path, node.start_byte))
            site = Site(module, node, owner.spec, f"new {text(constructor)}()` -> `{owner.display}",
                        client_site=owner.client_site or owner)
            self.place(site)
            self._remember_owner(site)
            if site.placement == "factory" and site.function is not None:
                self._remember_factory(site)
            sites.append(site)
        return sites

    def _site_named(self, sites: dict[tuple[Path, str], Site], module: JsModule, name: str) -> Optional[Site]:
        """The site a module-level name of `module` stands for in `sites` (owners, factories), defined
        there or imported (through re-exports)."""
        if (module.path, name) in sites:
            return sites[(module.path, name)]
        if name in module.imports:
            target = self.resolve_export(module, *module.imports[name])
            if target is not None:
                return sites.get((target[0].path, target[1]))
        return None

    def _remember_factory(self, site: Site) -> None:
        function = site.function
        module = site.module
        for name, defined in module.functions.items():
            if defined == function:
                self.factories[(module.path, name)] = site

    def factory_calls(self, module: JsModule) -> list[Site]:
        """Calls of a project function that returns a new client, in this module."""
        sites = []
        names = {name for _, name in self.factories}
        for call in module.captures(module.root, CALLS, "call"):
            callee = unwrap(call.child_by_field_name("function"))
            if callee is None or callee.type != "identifier" or is_damaged(call):
                continue
            if text(callee) not in names and module.imports.get(text(callee), ("", ""))[1] not in names | {"default"}:
                continue
            factory = self._site_named(self.factories, module, text(callee))
            if factory is None:
                continue
            site = Site(module, call, factory.spec, f"{text(callee)}()` -> `{factory.display}")
            self.place(site)
            if site.placement == "factory" and site.function is not None:
                self._remember_factory(site)
            sites.append(site)
        return sites

    def place(self, site: Site) -> None:
        """Where the value goes and what runs the code that builds it."""
        module, holder = site.module, site.node
        holder, parent = _through_chains(holder)
        while parent is not None:
            kind = parent.type
            if kind == "ternary_expression":
                holder, parent = _through_chains(parent)
                continue
            if kind == "pair" and parent.parent is not None and parent.parent.type == "object":
                holder, parent = _through_chains(parent.parent)
                continue
            if kind == "arguments" and parent.parent is not None and parent.parent.type == "call_expression" \
                    and _method_name(parent.parent) not in STORING_METHODS:
                # `return tagDatasource(new PrismaClient())`: a wrapper hands the client on
                holder, parent = _through_chains(parent.parent)
                continue
            break
        if parent is not None:
            kind = parent.type
            if kind == "augmented_assignment_expression":
                site.placement, site.global_key, site.shared_store = "guarded", text(parent.child_by_field_name("left")), True
            elif kind == "binary_expression" and _operator(parent) in ("??", "||") \
                    and parent.child_by_field_name("right") == holder:
                site.placement, site.global_key = "guarded", text(parent.child_by_field_name("left"))
            elif kind == "assignment_expression" and parent.child_by_field_name("right") == holder:
                left = unwrap(parent.child_by_field_name("left"))
                if left.type in ("member_expression", "subscript_expression"):
                    site.placement, site.global_key = "guarded", text(left)
                elif left.type == "identifier":
                    site.binding = text(left)
            elif kind == "variable_declarator":
                target = parent.child_by_field_name("name")
                if target is not None and target.type == "identifier":
                    site.binding = text(target)
            elif kind in ("return_statement", "arrow_function"):
                site.placement = "factory"
            elif kind == "arguments" and parent.parent is not None and _method_name(parent.parent) in STORING_METHODS:
                site.placement = "guarded"
            elif kind in ("public_field_definition", "field_definition"):
                site.placement = "class"
        function, loop, guard = _location(module, site.node)
        site.function, site.loop = function, loop
        if site.placement == "factory" and function is not None and memoised_function_of(function):
            site.placement = "guarded"  # `cache(() => new PrismaClient())` returns the same client
        if site.placement:
            if site.placement == "guarded" and site.global_key and function is None:
                site.placement = "module"  # `const prisma = globalThis.prisma ?? new PrismaClient()`
            if site.placement == "factory" and function is None:
                site.placement = "module"
            return
        if guard:
            site.placement = "guarded"
        elif function is None:
            site.placement = "loop" if loop is not None else "module"
        elif _in_class_constructor(function) or (function.parent is not None and function.parent.type in CLASS_TYPES):
            site.placement = "class"
        elif site.binding and function is not None:
            site.placement = self._binding_use(module, function, site.binding)
            if site.placement == "factory" and memoised_function_of(function):
                site.placement = "guarded"
        else:
            site.placement = "loop" if loop is not None else "function"
        if site.placement == "function" and loop is not None:
            site.placement = "loop"

    def _binding_use(self, module: JsModule, function: Node, name: str) -> str:
        """`const client = new PrismaClient()` in a function: returned (a factory), stored, or used per call."""
        if name in module.declared and not _declares_locally(function, name):
            return "guarded"  # `prisma = new PrismaClient()` assigns the module's lazy singleton
        body = text(function_body(function))
        escaped = re.escape(name)
        if re.search(rf"\breturn\s+(?:await\s+)?{escaped}\s*(?:[;)}}]|$)", body, re.MULTILINE) or \
                re.search(rf"\breturn\s*\{{[^}}]*\b{escaped}\b(?!\s*[.(\[])", body) or \
                _returns_through_chains(function, name):
            return "factory"
        if re.search(rf"[\w$\]\)]\.[\w$]+\s*(?:\?\?|\|\|)?=\s*{escaped}\b|\[[^\]]+\]\s*=\s*{escaped}\b", body):
            return "guarded"  # stored on a global, a cache or `this`
        assigned = re.compile(rf"(?<![\w$.])([\w$]+)\s*=\s*{escaped}\b")
        if any(m.group(1) in module.declared and not _declares_locally(function, m.group(1))
               for m in assigned.finditer(body)):
            return "guarded"
        if re.search(rf"\.(?:set|push|register|decorate|provide)\([^)]*\b{escaped}\b", body):
            return "guarded"
        if re.search(rf"[\[,{{]\s*(?:[\w$]+\s*:\s*)?{escaped}\s*[\],}}]", body):
            return "guarded"  # handed on inside an array or object (`replicas: [replica]`)
        if _released_in_finally(function, name):
            return "released"  # closed on every path: still one pool per request in a handler
        return "function"

    def runs_once(self, module: JsModule, function: Node) -> bool:
        name = function_display_name(function)
        if name in module.entry_calls or name in STARTUP_FUNCTIONS or APP_FACTORY.match(name) \
                or memoised_function_of(function) or _registers_routes(function):
            return True
        return False

    def role(self, module: JsModule, function: Node) -> str:
        """What calls `function` once per request; "" for a plain function."""
        name = function_display_name(function)
        served_as = next_route_file(module.path.parts)
        if served_as == "route handler" and name in HTTP_METHODS:
            return "Next.js route handler"
        if served_as == "API route" and name in ("default", "handler"):
            return "Next.js API route"
        body = function_body(function)
        if module.uses_server_directive or (body is not None and body.type == "statement_block" and body.named_child_count
                                            and text(body.named_children[0]).strip(";'\" ") == "use server"):
            return "server action"
        if name in ("getServerSideProps", "loader", "action", "load", "generateMetadata"):
            return "per-request data loader"
        callback = callback_of(function)
        if callback is not None:
            call, method = callback
            if _route_path_argument(call, method) is not None:
                return "route handler"
            if method in PROCEDURE_METHODS:
                return "tRPC procedure"
            if method in ("defineEventHandler", "eventHandler"):
                return "route handler"
        for ancestor in ancestors(function):
            if ancestor.type == "pair" and text(ancestor.child_by_field_name("key")) in ("Query", "Mutation", "Subscription"):
                return "GraphQL resolver"
            if ancestor.type in FUNCTION_TYPES:
                break
        if name in EXPORTED_HANDLER_ROLES and name in module.exports.values():
            return EXPORTED_HANDLER_ROLES[name]
        return ""

    def judge_creation(self, sites: list[Site], *, is_test: bool, is_script: bool) -> None:
        if is_test:
            return
        for site in sites:
            module = site.module
            if site.placement == "loop" and site.loop is not None:
                self.report("DBP102", module, site.node, call=f"`{site.display}`",
                            library=site.spec.library, line=module.line_of(site.loop))
            elif site.placement in ("function", "released") and site.function is not None and not is_script:
                if self._outer_runs_once(module, site.function):
                    continue
                if self.only_administrators_reach(site):
                    continue  # it runs at the pace of a few operators, not of the traffic (the Python rule's own)
                role = self.role(module, site.function)
                if self.probe_path(module, site.function, role):
                    continue  # a health or readiness probe runs at its prober's interval (the Python rule's own)
                if site.placement == "released" and not role:
                    continue  # a short-lived client for one job (a probe, a migration step), closed on every path
                self.report("DBP101", module, site.node, call=f"`{site.display}`",
                            library=site.spec.library, function=function_display_name(site.function),
                            role=f" ({role})" if role else "")

    def probe_path(self, module: JsModule, function: Node, role: str) -> str:
        """The path of the health or readiness probe `function` (whose `role` is given) serves (catalog
        `health-check-route-segments`: a route whose last segment is `health`, `healthz`, `ready`, `ping`...),
        or "": a Next.js route handler or API route by its file's place, a route callback by the path it is
        registered at when written out. A prober calls it at its own interval, whatever the traffic."""
        segments = self.catalog.guards.health_check_route_segments
        path = ""
        if not segments:
            return path
        if role in ("Next.js route handler", "Next.js API route"):
            path = next_route_path(module.path.parts)
        elif role == "route handler":
            callback = callback_of(function)
            argument = _route_path_argument(*callback) if callback is not None else None
            if argument is not None and argument.type == "string":
                path = text(argument).strip("'\"")
        return path if path and path.rstrip("/").rsplit("/", 1)[-1] in segments else ""

    def only_administrators_reach(self, site: Site) -> str:
        """Why only administrators may run the code that builds the client, or "": the handler around
        it (or one enclosing it) is registered behind a guard named for them (`router.post("/", requireAuth,
        requireAdmin, async (req, res) => ...)`, `authorize("admin")`), wrapped by one (`withAdmin(async
        (req) => ...)`), is an administrators' tRPC procedure (`adminProcedure.mutation(...)`), or turns
        everybody else away before it: `await requireAdmin()`, `if (session?.user?.role !== "ADMIN")
        return ...`, `const admin = await getAdminUser(req); if (!admin) return ...`."""
        guards = self.catalog.guards
        if not guards.admin_name_words or site.function is None:
            return ""
        for function in (site.function, *(a for a in ancestors(site.function) if a.type in FUNCTION_TYPES)):
            reason = _registered_for_administrators(function, guards) or _turns_away_non_administrators(
                function, site.node, guards)
            if reason:
                return reason
        return ""

    def _outer_runs_once(self, module: JsModule, function: Node) -> bool:
        if self.runs_once(module, function):
            return True
        if self.role(module, function):
            return False
        return any(self.runs_once(module, outer) for outer in ancestors(function) if outer.type in FUNCTION_TYPES)

    def judge_duplicates(self, sites: list[Site]) -> None:
        """DBP103: module-scope clients of one package, counted by module, not by importer."""
        groups: dict[tuple[Any, ...], list[Site]] = {}
        for site in sites:
            if not site.node.type == "new_expression" or not (site.placement == "module" or _lazy_module_client(site)):
                continue
            module = site.module
            if self.project.is_test(module.path) or self.project.is_script(module) or self.project.is_config(module.path):
                continue
            if module.entry_calls & set(module.functions):
                continue  # `main()` at the bottom: the module runs as its own process
            if not self.project.may_be_loaded(module):
                continue  # its pool is never built
            client = site.client_site or site  # `new UserService()`: the client its constructor builds
            datasource = _datasource(client.module, client.node)
            if datasource is None:
                continue
            constructor = client.module.qualified_name(client.node.child_by_field_name("constructor"))
            key = (self.project.package_dir(module.path), constructor, datasource)
            groups.setdefault(key, []).append(site)
        for (_, _, datasource), group in sorted(groups.items(), key=lambda item: str(item[0])):
            by_module: dict[Path, Site] = {}
            shared: set[str] = set()
            for site in group:
                if site.shared_store and site.global_key:
                    if site.global_key in shared:
                        continue  # `globalThis.prisma ??= ...` in both: one client per process
                    shared.add(site.global_key)
                by_module.setdefault(site.module.path, site)
            if len(by_module) < self.duplicate_threshold:
                continue
            processes = {path: self.project.processes_loading(site.module) for path, site in by_module.items()}
            for path, site in by_module.items():
                # two modules whose known processes differ (a server and a worker, each its own entry file)
                # never hold their pools in one process; one whose processes are unknown may share any
                others = [(p, s) for p, s in by_module.items() if p != path
                          and (not processes[path] or not processes[p] or processes[path] & processes[p])]
                if len(others) + 1 < self.duplicate_threshold:
                    continue
                self.report("DBP103", site.module, site.node, call=f"`{site.display}`",
                            library=site.spec.library, datasource=datasource,
                            when=f"once per process, kept in the module's `{site.binding}` on first use"
                            if site.placement == "guarded" else "at import time",
                            others=_listed([f"{self.display_path(p)}:{s.module.line_of(s.node)}" for p, s in others]),
                            related=tuple(Location(self.display_path(p), s.module.line_of(s.node),
                                                   s.module.column_of(s.node), f"{s.display} builds the same pool here")
                                          for p, s in others))

    # -- external calls in transactions (DBP201) ---------------------------------------------------
    def judge_transactions(self, module: JsModule) -> None:
        if self.project.is_test(module.path):
            return
        for call in module.method_calls(frozenset(self.catalog.transaction_methods)):
            callee = call.child_by_field_name("function")
            method = text(callee.child_by_field_name("property"))
            spec = self.catalog.transaction_methods.get(method)
            if spec is None or is_damaged(call):
                continue
            arguments = call.child_by_field_name("arguments")
            if arguments is None or not arguments.named_child_count:
                continue
            callback = unwrap(arguments.named_children[0])
            if callback.type not in FUNCTION_TYPES:
                continue  # the array form runs its queries back to back
            timeout = spec.timeout
            if arguments.named_child_count > 1 and re.search(r"\btimeout\s*:", text(arguments.named_children[1])):
                timeout = "configured"
            consequence = "its connection stays checked out, in an open transaction, for the whole wait"
            if timeout == "configured":
                consequence += ", and the transaction rolls back if it outlasts its timeout"
            elif timeout:
                consequence += f", and the transaction rolls back if it outlasts its {timeout} default timeout"
            opener = f"{text(callee)}()"
            for node, chain, kind in self.external_calls_in(module, callback, MAX_DEPTH, frozenset()):
                self.report("DBP201", module, node, call="`" + " -> ".join(chain) + "`", kind=kind,
                            library=spec.library, opener=opener, line=module.line_of(call), consequence=consequence)
            client = unwrap(callee.child_by_field_name("object"))
            transaction_client = _first_parameter(callback)
            for node, chain in self.outer_client_queries(module, callback, client, transaction_client, MAX_DEPTH):
                self.report("DBP204", module, node, call="`" + " -> ".join(chain) + "`", client=_short(client),
                            library=spec.library, opener=opener, line=module.line_of(call),
                            tx=f" `{transaction_client}`" if transaction_client else "")

    # -- queries through the client a transaction runs on (DBP204) -----------------------------------
    def outer_client_queries(self, module: JsModule, callback: Node, client: Node, transaction_client: Optional[str],
                             depth: int) -> Iterator[tuple[Node, tuple[str, ...]]]:
        """The waited-on queries the transaction's callback makes on `client` itself (the expression its
        `$transaction` was called on), directly or through project functions that use the same
        module-level client and are not handed `transaction_client` (the callback's parameter)."""
        shown = _short(client)
        identity = self._module_client(module, client)
        for call in self._waited_calls(module, callback):
            queried = self._queried_client(call)
            if queried is not None:
                if (_short(queried) == shown and not _rebinds(queried, callback, shown)) \
                        or (identity is not None and self._module_client(module, queried) == identity):
                    yield call, (_shown_call(call),)
                continue
            if identity is None or depth <= 1 or _hands_over(call, transaction_client):
                continue  # a helper handed the transaction's client may query on it instead (`tx ? tx : prisma`)
            inner = self._queries_through(module, call, identity, depth - 1, frozenset())
            if inner is not None:
                yield call, inner

    def _queries_through(self, module: JsModule, call: Node, identity: tuple[Path, str], depth: int,
                         seen: frozenset[tuple[Path, int]]) -> Optional[tuple[str, ...]]:
        """The chain from a call of a project function to a query it makes on the module-level client
        `identity`, at most `depth` calls down."""
        callee = unwrap(call.child_by_field_name("function"))
        if callee is None or callee.type != "identifier":
            return None
        target = self._function_named(module, text(callee))
        if target is None:
            return None
        target_module, function = target
        key = (target_module.path, function.start_byte)
        if key in seen:
            return None
        for inner in self._waited_calls(target_module, function):
            if _branch_not_taken(function, call, inner):
                continue
            queried = self._queried_client(inner)
            if queried is not None:
                if self._module_client(target_module, queried) == identity \
                        or self._defaults_to(target_module, function, call, queried) == identity:
                    return _short(callee) + "()", _shown_call(inner)
                continue
            if depth > 1:
                deeper = self._queries_through(target_module, inner, identity, depth - 1, seen | {key})
                if deeper is not None:
                    return (_short(callee) + "()", *deeper)
        return None

    def _waited_calls(self, module: JsModule, function: Node) -> Iterator[Node]:
        body = function_body(function)
        if body is None:
            return
        for call in module.captures(body, CALLS, "call"):
            if not is_damaged(call) and _runs_inline(call, function) and _is_waited(module, call):
                yield call

    def _queried_client(self, call: Node) -> Optional[Node]:
        """`prisma` of `prisma.user.findMany()` or of a raw query on `prisma`; None for a call that runs no query."""
        callee = unwrap(call.child_by_field_name("function"))
        if callee.type != "member_expression":
            return None
        target = unwrap(callee.child_by_field_name("object"))
        model = target.child_by_field_name("property") if target.type == "member_expression" else None
        depth = self.catalog.query_depth(text(callee.child_by_field_name("property")), text(model) if model else None)
        if depth is None:
            return None
        return target if depth == 1 else unwrap(target.child_by_field_name("object"))

    def _defaults_to(self, module: JsModule, function: Node, call: Node, queried: Node) -> Optional[tuple[Path, str]]:
        """The module-level client a parameter of `function` stands for when `call` leaves it out and its
        default names one (`client: Prisma.TransactionClient = prisma`, called as `docStatusId(id, code)`)."""
        if queried.type != "identifier":
            return None
        default = _parameter_default(function, text(queried))
        if default is None:
            return None
        position, value = default
        given = _arguments_given(call)
        if given is None or len(given) > position:
            return None
        return self._module_binding(module, text(value)) if value.type == "identifier" else None

    def _module_client(self, module: JsModule, node: Node) -> Optional[tuple[Path, str]]:
        """The module and module-level name a plain name stands for where it is used, through imports
        and re-exports: two uses with the same answer are the same client."""
        if node.type != "identifier":
            return None
        name = text(node)
        if _rebinds(node, None, name):
            return None
        return self._module_binding(module, name)

    def _module_binding(self, module: JsModule, name: str) -> Optional[tuple[Path, str]]:
        """The module and module-level name that `name`, at the module's scope, stands for."""
        for _ in range(5):
            if name in module.imports:
                target = self.resolve_export(module, *module.imports[name])
                if target is None:
                    return None
                module, name = target
                continue
            return (module.path, name) if name in module.declared else None
        return None

    def external_calls_in(self, module: JsModule, function: Node, depth: int,
                          seen: frozenset[tuple[Path, int]]) -> Iterator[tuple[Node, tuple[str, ...], str]]:
        """The waited-on external calls `function` makes, directly or through project functions."""
        body = function_body(function)
        if body is None:
            return
        for call in module.captures(body, CALLS, "call"):
            if is_damaged(call) or not _runs_inline(call, function) or not _is_waited(module, call):
                continue
            found = self._external(module, call, function, depth, seen)
            if found is not None:
                yield call, found[0], found[1]

    def _external(self, module: JsModule, call: Node, scope: Node, depth: int,
                  seen: frozenset[tuple[Path, int]]) -> Optional[tuple[tuple[str, ...], str]]:
        callee = unwrap(call.child_by_field_name("function"))
        if callee is None:
            return None
        shown = _short(callee) + "()"
        name = module.qualified_name(callee)
        kind = self.catalog.external_function(name)
        if kind is not None:
            return (shown,), kind
        if callee.type == "member_expression":
            kind = self._client_kind(module, callee, scope) or self._sent_command(module, call)
            if kind is not None:
                return (shown,), kind
        if callee.type == "identifier" and text(callee) == "setTimeout" and _in_promise_executor(call):
            return (shown,), "sleep"
        if callee.type == "identifier" and depth > 1:
            target = self._function_named(module, text(callee))
            if target is not None:
                target_module, target_function = target
                key = (target_module.path, target_function.start_byte)
                if key in seen:
                    return None
                inner = self._reaches(target_module, target_function, depth - 1, seen | {key})
                if inner is not None:
                    return (shown, *inner[0]), inner[1]
        return None

    def _reaches(self, module: JsModule, function: Node, depth: int,
                 seen: frozenset[tuple[Path, int]]) -> Optional[tuple[tuple[str, ...], str]]:
        key = (module.path, function.start_byte)
        if key in self._reach_cache:
            return self._reach_cache[key]
        result = None
        for _, chain, kind in self.external_calls_in(module, function, depth, seen):
            result = (chain, kind)
            break
        self._reach_cache[key] = result
        return result

    def _client_kind(self, module: JsModule, callee: Node, scope: Node) -> Optional[str]:
        """`stripe.customers.create` where `stripe = new Stripe(...)` here, in the module or in the module it is imported from."""
        members = module.members_after_head(callee)
        head_node = unwrap(callee)
        while head_node.type == "member_expression":
            head_node = unwrap(head_node.child_by_field_name("object"))
        if head_node.type in ("call_expression", "new_expression"):  # `nodemailer.createTransport(...).sendMail(...)`
            constructor = head_node.child_by_field_name("function") or head_node.child_by_field_name("constructor")
            client = self.catalog.external_client(module.qualified_name(constructor))
            if client is not None and members and members[0] not in client.local_methods:
                return client.kind
            return None
        if head_node.type != "identifier" or not members:
            return None
        client = self._binding_client(module, text(head_node), head_node, 0)
        if client is None or members[0] in client.local_methods:
            return None
        return client.kind

    def _sent_command(self, module: JsModule, call: Node) -> Optional[str]:
        """`client.send(new PutObjectCommand(...))` (AWS SDK v3), the command built inline or just before."""
        if _method_name(call) != "send":
            return None
        arguments = call.child_by_field_name("arguments")
        command = unwrap(arguments.named_children[0]) if arguments is not None and arguments.named_child_count else None
        if command is not None and command.type == "identifier":
            command = _local_value(call, text(command))
            command = unwrap(command) if command is not None else None
        if command is None or command.type != "new_expression":
            return None
        return self.catalog.external_function(module.qualified_name(command.child_by_field_name("constructor")))

    def _binding_client(self, module: JsModule, name: str, at: Optional[Node], hops: int) -> Any:
        value = _local_value(at, name) if at is not None else None
        if value is None and name in module.bindings:
            value = module.bindings[name]
        if value is not None:
            return self._value_client(module, value)
        if name in module.imports and hops < 3:
            specifier, imported = module.imports[name]
            if imported in ("*", "default"):
                direct = self.catalog.external_client(specifier)
                if direct is not None and imported == "*":
                    return None  # the module itself, not a client built from it
            target = self.resolve_export(module, specifier, imported)
            if target is not None:
                return self._binding_client(target[0], target[1], None, hops + 1)
        return None

    def _value_client(self, module: JsModule, value: Node) -> Any:
        value = _under_await(value)
        if value.type in ("new_expression", "call_expression"):
            constructor = value.child_by_field_name("constructor") or value.child_by_field_name("function")
            return self.catalog.external_client(module.qualified_name(constructor))
        return None

    def _function_named(self, module: JsModule, name: str) -> Optional[tuple[JsModule, Node]]:
        if name in module.functions:
            return module, module.functions[name]
        if name in module.imports:
            target = self.resolve_export(module, *module.imports[name])
            if target is not None and target[1] in target[0].functions:
                return target[0], target[0].functions[target[1]]
        return None

    def resolve_export(self, module: JsModule, specifier: str, imported: str,
                       hops: int = 0) -> Optional[tuple[JsModule, str]]:
        """The project module and module-level name an import names (through re-exports)."""
        if hops > 4:
            return None
        path = self.project.resolve(module.path, specifier)
        if path is None:
            return None
        target = self.project.module(path)
        if target is None:
            return None
        wanted = "default" if imported in ("default", "*") else imported
        if wanted in target.exports:
            return target, target.exports[wanted]
        if wanted in target.functions or wanted in target.bindings:
            return target, wanted
        for reexport_specifier, exported, original in target.reexports:
            if exported == wanted and original is not None:
                return self.resolve_export(target, reexport_specifier, original, hops + 1)
            if exported is None:
                found = self.resolve_export(target, reexport_specifier, wanted, hops + 1)
                if found is not None:
                    return found
        return None

    # -- scripts (DBP301, DBP302) -------------------------------------------------------------------
    def judge_script(self, module: JsModule, sites: list[Site]) -> None:
        releases: dict[str, list[Node]] = {}
        for call in module.method_calls(self.catalog.release_methods):
            callee = call.child_by_field_name("function")
            if not is_damaged(call):
                releases.setdefault(text(callee.child_by_field_name("object")), []).append(call)
        # a path that ends the process (an explicit `process.exit()`; on failure, also a rejection
        # nothing handles) closes every socket at once and leaves nothing open; a natural end does not
        exits_on_success, exits_on_failure = module.script_exits()
        for site in sites:
            if site.placement not in ("module", "function") or site.binding is None:
                continue
            if site.binding in module.exports.values() or site.node.type != "new_expression":
                continue  # handed to the modules that import it
            if site.client_site is not None:
                continue  # an object of the project's, which may release its client its own way
            pool = self._adapter_pool(module, site)
            calls = releases.get(site.binding, []) + (module.calls_on(pool, site.spec.adapter_pool_release) if pool else [])
            if exits_on_failure and (calls or exits_on_success):
                continue
            if not calls and not _names_after_its_binding(module, site.binding):
                continue  # never used: Prisma connects at the first query, so this one never connects
            if not calls:
                releases_named = [f"`{m}()`" for m in site.spec.release[:2]]
                releases_named += [f"`{pool}.{m}()`" for m in site.spec.adapter_pool_release[:1] if pool]
                self.report("DBP301", module, site.node, call=f"`{site.display}`", a="a",
                            library=site.spec.library, thing="client", release=" or ".join(releases_named), note="")
            elif not any(_is_exception_safe(call) for call in calls):
                if site.placement == "module" or (site.function is not None and self.runs_once(module, site.function)):
                    # built once per run: the failure that skips the release ends the script's work, and Node's
                    # exit then disconnects the client (Prisma disconnects when the process ends)
                    continue
                first = calls[0]
                self.report("DBP302", module, first, release=f"`{_short(first.child_by_field_name('function'))}()`",
                            a="a", library=site.spec.library, thing="client", line=module.line_of(site.node))

    def _adapter_pool(self, module: JsModule, site: Site) -> Optional[str]:
        """The name of the pool the client's driver adapter runs on, when the code builds it (`const pool =
        new Pool(...)`; `new PrismaClient({ adapter: new PrismaPg(pool) })` or through an `adapter` name)."""
        if not site.spec.adapter_pools:
            return None
        arguments = site.node.child_by_field_name("arguments")
        options = unwrap(arguments.named_children[0]) if arguments is not None and arguments.named_child_count else None
        adapter = _value_of(module, _property(options, "adapter"), site.node)
        adapter_arguments = adapter.child_by_field_name("arguments") \
            if adapter is not None and adapter.type in ("new_expression", "call_expression") else None
        pool = unwrap(adapter_arguments.named_children[0]) \
            if adapter_arguments is not None and adapter_arguments.named_child_count else None
        if pool is None or pool.type != "identifier":
            return None
        built = _value_of(module, pool, site.node)
        callee = built.child_by_field_name("constructor" if built.type == "new_expression" else "function") \
            if built is not None and built.type in ("new_expression", "call_expression") else None
        return text(pool) if self.catalog.builds_adapter_pool(site.spec, module.qualified_name(callee)) else None

    # -- reporting ---------------------------------------------------------------------------------
    def report(self, code: str, module: JsModule, node: Node, *, related: tuple[Location, ...] = (),
               **fields: Any) -> None:
        # the Python rule of the same code renders the message; imported (with libcst) only
        # when there is something to report
        from poollint.rules import RULES_BY_CODE

        rule = RULES_BY_CODE[code]
        self.findings.append(Finding(
            code=rule.code, name=rule.name, message=rule.render(**fields), path=self.display_path(module.path),
            line=module.line_of(node), column=module.column_of(node), related=related, fix_hint=rule.fix_hint,
        ))


# -- helpers -------------------------------------------------------------------------------------
def _names_after_its_binding(module: JsModule, binding: str) -> bool:
    """Whether an identifier of the module other than its declaration names `binding` (a use, or
    another binding of that name: a client that may be used is taken to be)."""
    names = (node for node in _descendants_of_types(module.root, {"identifier", "shorthand_property_identifier"})
             if text(node) == binding)
    return next(names, None) is not None and next(names, None) is not None


def _method_name(call: Node) -> str:
    callee = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    callee = unwrap(callee) if callee is not None else None
    if callee is not None and callee.type == "member_expression":
        return text(callee.child_by_field_name("property"))
    return text(callee)


def _operator(node: Node) -> str:
    operator = node.child_by_field_name("operator")
    return text(operator) if operator is not None else ""


def _through_chains(node: Node) -> tuple[Node, Optional[Node]]:
    """`new PrismaClient().$extends(...)` is still the client: climb through such chains."""
    holder, parent = value_parent(node)
    while parent is not None and parent.type == "member_expression" and parent.child_by_field_name("object") == holder \
            and parent.parent is not None and parent.parent.type == "call_expression" \
            and text(parent.child_by_field_name("property")).startswith("$"):
        holder, parent = value_parent(parent.parent)
    return holder, parent


def _returns_through_chains(function: Node, name: str) -> bool:
    """A `return client.$extends(...)` of this function: the client it returns, extended, is still
    the one it built (see `_through_chains`), so the function is a factory like `return client`."""
    for statement in _descendants_of_types(function_body(function), {"return_statement"}):
        if next((a for a in ancestors(statement) if a.type in FUNCTION_TYPES), None) != function \
                or not statement.named_child_count:
            continue
        value = unwrap(statement.named_children[0])
        while value is not None and value.type == "await_expression" and value.named_child_count:
            value = unwrap(value.named_children[0])
        chained = False
        while value is not None and value.type == "call_expression":
            callee = unwrap(value.child_by_field_name("function"))
            if callee is None or callee.type != "member_expression" \
                    or not text(callee.child_by_field_name("property")).startswith("$"):
                break
            value, chained = unwrap(callee.child_by_field_name("object")), True
        if chained and value is not None and value.type == "identifier" and text(value) == name:
            return True
    return False


def _location(module: JsModule, node: Node) -> tuple[Optional[Node], Optional[Node], bool]:
    """(innermost function, innermost loop inside it, whether an `if` guards it against a second build)."""
    loop = None
    guard = False
    child = node
    for ancestor in ancestors(node):
        kind = ancestor.type
        if kind in LOOP_TYPES and loop is None and ancestor.child_by_field_name("body") == child:
            loop = ancestor
        elif kind == "if_statement" and ancestor.child_by_field_name("condition") != child \
                and _tests_existing_instance(module, ancestor.child_by_field_name("condition")):
            guard = True
        elif kind in FUNCTION_TYPES:
            callback = callback_of(ancestor)
            if callback is not None and callback[1] in ITERATING_METHODS and loop is None:
                loop = callback[0]
                child = ancestor
                continue
            return ancestor, loop, guard
        elif kind == "class_body":
            return None, loop, True
        child = ancestor
    return None, loop, guard


def _instance_keeper(site: Site) -> Optional[str]:
    """The name of the class whose instances keep what `site` builds: an instance field's initializer
    (not a static one, built once), or `this.<name> = ...` in the class's constructor."""
    holder, parent = _through_chains(site.node)
    body = None
    if parent is not None and parent.type in ("public_field_definition", "field_definition"):
        if not any(child.type == "static" for child in parent.children):
            body = parent.parent
    elif parent is not None and parent.type == "assignment_expression" and parent.child_by_field_name("right") == holder \
            and site.function is not None and _in_class_constructor(site.function):
        left = unwrap(parent.child_by_field_name("left"))
        target = left.child_by_field_name("object") if left.type == "member_expression" else None
        if target is not None and target.type == "this":
            body = site.function.parent
    klass = body.parent if body is not None and body.type == "class_body" else None
    name = klass.child_by_field_name("name") if klass is not None and klass.type in CLASS_TYPES else None
    return text(name) if name is not None else None


def _registers_routes(function: Node) -> bool:
    """The function's own statements register route handlers (`app.post("/login", async (req, res) =>
    ...)`): it sets the application up, once, as `module.exports = function (app) {...}` modules do."""
    body = function_body(function)
    if body is None or body.type != "statement_block":
        return False
    for statement in body.named_children:
        if statement.type != "expression_statement" or not statement.named_child_count:
            continue
        call = _under_await(statement.named_children[0])
        callee = unwrap(call.child_by_field_name("function")) if call.type == "call_expression" else None
        if callee is None or callee.type != "member_expression" \
                or text(callee.child_by_field_name("property")) not in ROUTE_METHODS:
            continue
        arguments = call.child_by_field_name("arguments")
        values = [unwrap(a) for a in arguments.named_children] if arguments is not None else []
        # a path and a handler function: `cache.get("key")` or `store.put("key", value)` is no route
        path = text(values[0]).strip("'\"`") if values else ""
        if len(values) >= 2 and values[0].type in ("string", "template_string") and path.startswith(("/", "${")) \
                and any(v.type in FUNCTION_TYPES for v in values[1:]):
            return True
    return False


def _names_an_administrator(node: Optional[Node], guards: Guards) -> bool:
    """Whether an expression names what lets only administrators in: a guard or attribute named for
    them (`requireAdmin`, `user.isAdmin`, `Role.ADMIN`), a role's string (`"ADMIN"`), or a call of
    one or given one (`isAdmin(user)`, `hasRole(user, "admin")`, `["ADMIN", "OWNER"].includes(role)`)."""
    if node is None:
        return False
    node = unwrap(node)
    kind = node.type
    if kind in ("identifier", "property_identifier", "shorthand_property_identifier"):
        return guards.names_an_administrator(text(node))
    if kind == "string":
        return guards.names_an_administrator(string_value(node) or "")
    if kind == "member_expression":
        return _names_an_administrator(node.child_by_field_name("property"), guards) or \
            _names_an_administrator(node.child_by_field_name("object"), guards)
    if kind == "call_expression":
        arguments = node.child_by_field_name("arguments")
        return _names_an_administrator(node.child_by_field_name("function"), guards) or any(
            _names_an_administrator(argument, guards) for argument in (arguments.named_children if arguments else ()))
    if kind in ("await_expression", "array", "parenthesized_expression"):
        return any(_names_an_administrator(child, guards) for child in node.named_children)
    return False


def _registered_for_administrators(function: Node, guards: Guards) -> str:
    """`app.get("/x", requireAdmin, handler)`, `withAdmin(handler)`, `adminProcedure.query(handler)`."""
    callback = callback_of(function)
    if callback is None:
        return ""
    call, method = callback
    callee = unwrap(call.child_by_field_name("function"))
    arguments = call.child_by_field_name("arguments")
    if method in ROUTE_METHODS and callee.type == "member_expression":
        guard = next((argument for argument in (arguments.named_children if arguments else ())
                      if unwrap(argument).type not in FUNCTION_TYPES and _names_an_administrator(argument, guards)
                      and unwrap(argument).type != "string"), None)  # the route's path is no guard
        return f"only administrators may call it (`{_short(guard)}`)" if guard is not None else ""
    if method in PROCEDURE_METHODS and callee.type == "member_expression":
        root = callee.child_by_field_name("object")
        while root is not None and root.type in ("member_expression", "call_expression"):
            root = root.child_by_field_name("object" if root.type == "member_expression" else "function")
        if root is not None and root.type == "identifier" and guards.names_an_administrator(text(root)):
            return f"only administrators may call it (`{text(root)}`)"
        return ""
    if guards.names_an_administrator(method):  # a wrapper: `export const GET = withAdmin(async (req) => ...)`
        return f"only administrators may call it (`{method}(...)`)"
    return ""


def _turns_away_non_administrators(function: Node, before: Node, guards: Guards) -> str:
    """A statement of the function's body, before the one holding `before`, that stops everybody but
    administrators: an administrators' guard called on its own (`await requireAdmin()`), an `if` that
    leaves unless the user is one, or one that leaves on what such a guard returned."""
    body = function_body(function)
    if body is None or body.type != "statement_block":
        return ""
    from_guards: set[str] = set()  # names bound to what an administrators' guard returned
    for statement in body.named_children:
        if statement.end_byte > before.start_byte:
            break
        if statement.type == "expression_statement" and statement.named_child_count:
            call = _under_await(statement.named_children[0])
            if _calls_a_guard_for_administrators(call, guards):
                return f"only administrators get past `{_short(call)}`"
        elif statement.type in ("lexical_declaration", "variable_declaration"):
            for declarator in statement.named_children:
                value = declarator.child_by_field_name("value")
                if value is not None and _calls_a_guard_for_administrators(_under_await(value), guards):
                    from_guards.update(text(name) for name in _descendants_of_types(
                        declarator.child_by_field_name("name"), _BOUND_NAMES))
        elif statement.type == "if_statement" and _leaves(statement.child_by_field_name("consequence")):
            condition = statement.child_by_field_name("condition")
            if _denies_non_administrators(condition, guards) or any(
                    text(name) in from_guards for name in _descendants_of_types(condition, {"identifier"})):
                return f"only administrators get past `if {_short(condition)}`"
    return ""


def _under_await(node: Node) -> Node:
    """The expression `node` is, unwrapped, or the one under its `await`: `await requireAdmin()`'s call."""
    node = unwrap(node)
    if node.type == "await_expression" and node.named_child_count:
        node = unwrap(node.named_children[0])
    return node


def _calls_a_guard_for_administrators(node: Node, guards: Guards) -> bool:
    return node.type == "call_expression" and _names_an_administrator(node.child_by_field_name("function"), guards)


_BOUND_NAMES = frozenset({"identifier", "shorthand_property_identifier_pattern"})
# Next.js's navigation functions throw: nothing after them runs
_THROWING_CALLS = frozenset({"redirect", "permanentRedirect", "notFound", "forbidden", "unauthorized"})


def _denies_non_administrators(condition: Optional[Node], guards: Guards) -> bool:
    """`!isAdmin(user)`, `role !== "ADMIN"`, `!session || !session.user.isAdmin`: true for everybody
    who is not an administrator."""
    if condition is None:
        return False
    condition = unwrap(condition)
    if condition.type == "unary_expression" and text(condition.child_by_field_name("operator")) == "!":
        return _names_an_administrator(condition.child_by_field_name("argument"), guards)
    if condition.type == "binary_expression":
        operator = _operator(condition)
        left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
        if operator in ("!==", "!="):
            return _names_an_administrator(left, guards) or _names_an_administrator(right, guards)
        if operator == "||":
            return _denies_non_administrators(left, guards) or _denies_non_administrators(right, guards)
    return False


def _leaves(branch: Optional[Node]) -> bool:
    """The branch ends in `return`, `throw` or a Next.js call that throws (`redirect("/login")`)."""
    if branch is None:
        return False
    last = branch.named_children[-1] if branch.type == "statement_block" and branch.named_child_count else branch
    if last.type in ("return_statement", "throw_statement"):
        return True
    if last.type == "expression_statement" and last.named_child_count:
        call = unwrap(last.named_children[0])
        return call.type == "call_expression" and text(call.child_by_field_name("function")) in _THROWING_CALLS
    return False


def _descendants_of_types(node: Optional[Node], kinds: frozenset[str] | set[str]) -> Iterator[Node]:
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if current.type in kinds:
            yield current
        stack.extend(current.named_children)


def _tests_existing_instance(module: JsModule, condition: Optional[Node]) -> bool:
    """`if (!global.prisma)`, `if (!prisma)` for a module-level `prisma`, `if (!this.client)`."""
    if condition is None:
        return False
    raw = text(condition)
    if "NODE_ENV" in raw or "process.env" in raw:
        return False
    if re.search(r"\b(?:globalThis|global|window|this|cache|clients|instances?)\b", raw):
        return True
    return any(re.search(rf"(?<![\w$.]){re.escape(name)}\b", raw) for name in module.declared if name not in module.functions)


def _lazy_module_client(site: Site) -> bool:
    """A module's own lazily built client: `let prisma = null; function db() { if (!prisma) prisma = new
    PrismaClient(); return prisma }` builds one pool per process, as a module-scope client does."""
    return site.placement == "guarded" and site.function is not None and site.binding is not None \
        and site.binding in site.module.declared and site.binding not in site.module.imports \
        and not _declares_locally(site.function, site.binding)


def _route_path_argument(call: Node, method: str) -> Optional[Node]:
    """The path a route registration (`router.get("/health", handler)`) gives as its first argument, a
    string or template string; None for a call that registers no route."""
    arguments = call.child_by_field_name("arguments")
    first = arguments.named_children[0] if arguments is not None and arguments.named_child_count else None
    return first if method in ROUTE_METHODS and first is not None and first.type in ("string", "template_string") \
        else None


def _first_parameter(function: Node) -> Optional[str]:
    """`tx` of `async (tx) => ...`, of `tx => ...` and of `async function (tx: Tx) {...}`."""
    single = function.child_by_field_name("parameter")
    if single is not None:
        return text(single)
    parameters = function.child_by_field_name("parameters")
    first = parameters.named_children[0] if parameters is not None and parameters.named_child_count else None
    if first is None:
        return None
    pattern = first.child_by_field_name("pattern") or first
    return text(pattern) if pattern.type == "identifier" else None


def _parameters(function: Node) -> list[tuple[Node, Optional[Node]]]:
    """`function`'s parameters in order, each as (what it binds, its default value or None): `client`,
    `client = prisma` (JavaScript), `client: Tx = prisma` (TypeScript), `{ a, b } = {}`, `...rest`."""
    parameters = function.child_by_field_name("parameters")
    found: list[tuple[Node, Optional[Node]]] = []
    for parameter in parameters.named_children if parameters is not None else []:
        if parameter.type == "assignment_pattern":  # JavaScript
            found.append((parameter.child_by_field_name("left") or parameter, parameter.child_by_field_name("right")))
        else:  # TypeScript's required_parameter / optional_parameter, or a plain JavaScript name or pattern
            found.append((parameter.child_by_field_name("pattern") or parameter, parameter.child_by_field_name("value")))
    return found


def _parameter_default(function: Node, name: str) -> Optional[tuple[int, Node]]:
    """The position of `function`'s parameter `name` and its default value (`client = prisma`,
    `client: Tx = prisma`), if it has one."""
    for position, (pattern, value) in enumerate(_parameters(function)):
        if pattern.type == "identifier" and text(pattern) == name:
            return (position, unwrap(value)) if value is not None else None
    return None


def _arguments_given(call: Node) -> Optional[list[Node]]:
    """The arguments `call` gives, in order; None when one spreads an array, which may give any number."""
    arguments = call.child_by_field_name("arguments")
    given = arguments.named_children if arguments is not None else []
    return None if any(argument.type == "spread_element" for argument in given) else given


def _branch_not_taken(function: Node, call: Node, inner: Node) -> bool:
    """Whether `inner` sits in the branch of `parameter ? a : b` that `call` does not take, `parameter` being
    one of `function`'s: a call that gives the argument takes `a`, one that leaves it out takes `b`
    (`return client ? run(client) : prisma.$transaction(run)`)."""
    names = [text(pattern) for pattern, _ in _parameters(function)]
    given = _arguments_given(call)
    if given is None:
        return False
    node = inner
    while node is not None and node != function:
        parent = node.parent
        if parent is not None and parent.type == "ternary_expression":
            condition = unwrap(parent.child_by_field_name("condition"))
            if condition.type == "identifier" and text(condition) in names:
                taken = "consequence" if names.index(text(condition)) < len(given) else "alternative"
                if parent.child_by_field_name(taken) != node and parent.child_by_field_name("condition") != node:
                    return True
        node = parent
    return False


def _hands_over(call: Node, name: Optional[str]) -> bool:
    """Whether `call` is handed `name` among its arguments (`f(tx)`, `f({ tx })`, `f({ db: tx })`)."""
    arguments = call.child_by_field_name("arguments")
    return name is not None and arguments is not None \
        and re.search(rf"(?<![\w$.]){re.escape(name)}(?![\w$])", text(arguments)) is not None


def _rebinds(node: Node, scope: Optional[Node], shown: str) -> bool:
    """Whether a function around `node` (up to `scope`, or to the module) binds the name that `shown`
    starts with again, so that it names something else there: a parameter or local of that name, or
    `this` inside a `function` (an arrow function keeps its outer `this`)."""
    head = re.match(r"[\w$]+", shown)
    if head is None:
        return True
    name = head.group(0)
    for ancestor in ancestors(node):
        if ancestor.type in FUNCTION_TYPES:
            if name == "this" and ancestor.type != "arrow_function":
                return True
            if name != "this" and _declares_locally(ancestor, name):
                return True
        if ancestor == scope:
            return False
    return False


def _released_in_finally(function: Node, name: str) -> bool:
    pattern = re.compile(rf"\b{re.escape(name)}\.\$disconnect\(")
    for clause in _descendants_of_types(function_body(function), {"finally_clause"}):
        if pattern.search(text(clause)):
            return True
    return False


def _declares_locally(function: Node, name: str) -> bool:
    return re.search(rf"\b(?:const|let|var)\s+{re.escape(name)}\b", text(function_body(function))) is not None \
        or re.search(rf"\b{re.escape(name)}\b", text(function.child_by_field_name("parameters"))) is not None


def _in_class_constructor(function: Node) -> bool:
    return function.type == "method_definition" and text(function.child_by_field_name("name")) == "constructor"


def memoised_function_of(function: Node) -> bool:
    holder, parent = value_parent(function)
    if parent is None or parent.type != "arguments" or parent.parent is None:
        return False
    return memoised_function(parent.parent) == function


def _datasource(module: JsModule, node: Node) -> Optional[str]:
    """Which database a `new PrismaClient(...)` talks to; None when an adapter or URL hides it."""
    arguments = node.child_by_field_name("arguments")
    options = arguments.named_children[0] if arguments is not None and arguments.named_child_count else None
    if options is None:
        return "the datasource of its `schema.prisma`"
    options = unwrap(options)
    if options.type != "object":
        return None
    raw = text(options)
    if re.search(r"\badapter\b", raw):
        return None
    match = re.search(r"\b(?:datasourceUrl|url)\s*:\s*([^,}\n]+)", raw)
    if match:
        return f"`{match.group(1).strip()}`"
    if re.search(r"\bdatasources?\b", raw):
        return None
    return "the datasource of its `schema.prisma`"


def _runs_inline(call: Node, scope: Node) -> bool:
    """Whether code in `scope` runs `call` before it goes on: nested callbacks of `map`,
    `Promise.all`, a Promise executor do; functions stored or scheduled for later do not."""
    for ancestor in ancestors(call):
        if ancestor == scope:
            return True
        if ancestor.type not in FUNCTION_TYPES:
            continue
        if _is_promise_executor(ancestor):
            continue
        callback = callback_of(ancestor)
        if callback is None or callback[1] in DEFERRING_CALLS:
            return False
    return False


def _is_promise_executor(function: Node) -> bool:
    holder, parent = value_parent(function)
    return parent is not None and parent.type == "arguments" and parent.parent is not None \
        and parent.parent.type == "new_expression" and text(parent.parent.child_by_field_name("constructor")) == "Promise"


def _in_promise_executor(call: Node) -> bool:
    for ancestor in ancestors(call):
        if ancestor.type in FUNCTION_TYPES:
            return _is_promise_executor(ancestor)
    return False


def _is_waited(module: JsModule, call: Node) -> bool:
    """The enclosing function waits for the call's result: awaited, returned, or awaited through
    `.then()`, `Promise.all([...])`, a Promise executor or an inline callback."""
    current = call
    while True:
        holder, parent = value_parent(current)
        if holder.type == "await_expression" or (holder is not current and _has_await(holder, current)):
            return True
        if parent is None:
            return False
        kind = parent.type
        if kind in ("return_statement", "yield_expression"):
            return True
        if kind == "arrow_function" and parent.child_by_field_name("body") == holder:
            return True
        if kind == "ternary_expression" and parent.child_by_field_name("condition") != holder:
            current = parent  # `return client ? run(client) : prisma.$transaction(run)`: the branch taken is waited
            continue
        if kind == "member_expression" and parent.child_by_field_name("object") == holder:
            current = parent.parent if parent.parent is not None and parent.parent.type == "call_expression" else parent
            continue
        if kind in ("array", "arguments", "spread_element", "pair", "object"):
            current = parent
            if kind == "arguments" and parent.parent is not None:
                current = parent.parent
            continue
        if kind == "expression_statement" and _in_promise_executor(current):
            return True
        return False


def _has_await(holder: Node, inner: Node) -> bool:
    node = inner.parent
    while node is not None and node != holder.parent:
        if node.type == "await_expression":
            return True
        node = node.parent
    return False


def _property(options: Optional[Node], key: str) -> Optional[Node]:
    """The value of `key` in an object literal (`{ adapter }` is the name `adapter`)."""
    if options is None or options.type != "object":
        return None
    for entry in options.named_children:
        if entry.type == "shorthand_property_identifier" and text(entry) == key:
            return entry
        if entry.type == "pair" and text(entry.child_by_field_name("key")) == key:
            return entry.child_by_field_name("value")
    return None


def _value_of(module: JsModule, node: Optional[Node], at: Node) -> Optional[Node]:
    """An expression, or what a name holds: the closest `const` around `at`, else the module's binding
    (through `await`, parentheses and casts)."""
    if node is None:
        return None
    node = unwrap(node)
    if node.type in ("identifier", "shorthand_property_identifier"):
        node = _local_value(at, text(node)) or module.bindings.get(text(node))
    while node is not None and node.type == "await_expression" and node.named_child_count:
        node = unwrap(node.named_children[0])
    return node


def _local_value(at: Node, name: str) -> Optional[Node]:
    """The value of `const <name> = ...` in a block around `at` (the closest declaration)."""
    for ancestor in ancestors(at):
        if ancestor.type != "statement_block":
            continue
        for statement in ancestor.named_children:
            if statement.type not in ("lexical_declaration", "variable_declaration"):
                continue
            for declarator in statement.named_children:
                target = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
                if target is not None and target.type == "identifier" and text(target) == name:
                    return declarator.child_by_field_name("value")
    return None


def _is_exception_safe(call: Node) -> bool:
    """A release in `finally`, in `catch` (with the success path's), in `.finally()`/`.catch()`
    callbacks, or in a `process.on(...)` exit handler."""
    for ancestor in ancestors(call):
        if ancestor.type in ("finally_clause", "catch_clause"):
            return True
        if ancestor.type in FUNCTION_TYPES:
            callback = callback_of(ancestor)
            if callback is None:
                continue
            caller, method = callback
            if method in SAFE_RELEASE_CALLBACKS:
                return True
            if method == "then":
                arguments = caller.child_by_field_name("arguments")
                if arguments is not None and arguments.named_child_count > 1:
                    return True
            if PROCESS_EXIT_HOOKS.match(text(caller.child_by_field_name("function")) or ""):
                return True
    return False


def _listed(items: list[str], most: int = 4) -> str:
    if len(items) <= most:
        return ", ".join(items)
    return ", ".join(items[:most]) + f" and {len(items) - most} more"


def _shown_call(call: Node) -> str:
    """`prisma.user.findMany()`; a tagged template's tag alone (`prisma.$queryRaw`)."""
    arguments = call.child_by_field_name("arguments")
    tagged = arguments is not None and arguments.type == "template_string"
    return _short(call.child_by_field_name("function")) + ("" if tagged else "()")


def _short(node: Node) -> str:
    raw = re.sub(r"\s+", "", text(node))
    return raw if len(raw) <= 60 else raw[:57] + "..."
