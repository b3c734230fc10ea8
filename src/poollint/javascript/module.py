"""One TypeScript/JavaScript module's facts: imports, module bindings, top-level functions, exports.

Names resolve through imports and `require` to `<specifier>.<name>` (catalog/javascript.py);
the damaged statements of a tree with grammar errors are skipped, never reported.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, Optional

from poollint.javascript import source

Node = Any  # tree_sitter.Node

FUNCTION_TYPES = frozenset({
    "function_declaration", "generator_function_declaration", "function_expression", "function",
    "arrow_function", "method_definition", "generator_function",
})
LOOP_TYPES = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
# array methods that call their callback once per element
ITERATING_METHODS = frozenset({"forEach", "map", "flatMap", "filter", "reduce", "some", "every", "find", "findIndex"})
# wrappers that leave the value they hold unchanged
TRANSPARENT = frozenset({
    "parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression", "type_assertion",
})
CLASS_TYPES = frozenset({"class_declaration", "class", "abstract_class_declaration"})
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "all", "use", "route", "options", "head"})
PROCEDURE_METHODS = frozenset({"query", "mutation", "subscription"})
GLOBAL_OBJECTS = frozenset({"globalThis", "global", "window", "self"})


def text(node: Optional[Node]) -> str:
    if node is None:
        return ""
    return node.text.decode("utf-8", "replace")


def string_value(node: Optional[Node]) -> Optional[str]:
    """The value of a plain string literal."""
    if node is None or node.type != "string":
        return None
    raw = text(node)
    return raw[1:-1] if len(raw) >= 2 else None


def unwrap(node: Node) -> Node:
    while node is not None and node.type in TRANSPARENT and node.named_child_count:
        node = node.named_children[0]
    return node


def value_parent(node: Node) -> tuple[Node, Optional[Node]]:
    """The outermost expression that is `node`'s value (through parentheses, casts, `await`), and its parent."""
    current, parent = node, node.parent
    while parent is not None and (parent.type in TRANSPARENT or parent.type == "await_expression"):
        current, parent = parent, parent.parent
    return current, parent


def is_damaged(node: Node) -> bool:
    """Inside a grammar error, or in a statement that holds one: the tree there cannot be trusted."""
    current = node
    while current is not None:
        if current.type == "ERROR" or current.is_missing:
            return True
        if current.type.endswith(("_statement", "declaration")) or current.type in ("program", "statement_block"):
            return current.has_error if current.type not in ("program", "statement_block") else False
        current = current.parent
    return False


class JsModule:
    """The facts of one file. `data` is kept: nodes read their text from it."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self.data = data
        self.tree = source.parse(path, data)
        self.root = self.tree.root_node
        self.imports: dict[str, tuple[str, str]] = {}  # local name -> (specifier, "default" | "*" | name)
        self.bindings: dict[str, Node] = {}  # module-level name -> its value expression
        self.declared: set[str] = set()  # every module-level name, with or without a value
        self.functions: dict[str, Node] = {}  # module-level callable name -> function node
        self.exports: dict[str, str] = {}  # exported name -> module-level name
        self.reexports: list[tuple[str, Optional[str], Optional[str]]] = []  # (specifier, exported, imported)
        self.entry_calls: set[str] = set()  # functions called at module scope: `main()`, `main().catch(...)`
        self.uses_server_directive = False
        # a call statement at the top level (`app.listen(3000)`, `(async () => {...})()`, `await main()`): the
        # module does something when loaded, as an entry file does, not only define and export
        self.runs_at_load = False
        self._read_top_level()
        # names a function binds to a module it loads itself (`const { PrismaClient } = await
        # import("@prisma/client")`): (the function's byte range, local name) -> (specifier, imported)
        self.function_imports: dict[tuple[tuple[int, int], str], tuple[str, str]] = {}
        self._read_function_imports()

    # -- the module's top level ------------------------------------------------------------------
    def _read_top_level(self) -> None:
        for index, statement in enumerate(self.root.named_children):
            if statement.has_error:
                continue
            kind = statement.type
            if kind == "expression_statement" and index <= 2 and string_value(statement.named_children[0]
                                                                               if statement.named_child_count else None) == "use server":
                self.uses_server_directive = True
            if kind == "import_statement":
                self._read_import(statement)
            elif kind == "export_statement":
                self._read_export(statement)
            elif kind in ("lexical_declaration", "variable_declaration"):
                self._read_declaration(statement)
            elif kind in ("function_declaration", "generator_function_declaration"):
                self._read_function(statement)
            elif kind in CLASS_TYPES:
                name = statement.child_by_field_name("name")
                if name is not None:
                    self.declared.add(text(name))
            elif kind == "expression_statement" and statement.named_child_count:
                self.runs_at_load |= _awaited(statement.named_children[0]).type == "call_expression"
                self._read_expression_statement(statement.named_children[0])

    def _read_import(self, statement: Node) -> None:
        specifier = string_value(statement.child_by_field_name("source"))
        for child in statement.named_children:
            if child.type == "import_require_clause":
                name = child.named_children[0] if child.named_child_count else None
                spec = string_value(child.child_by_field_name("source"))
                if name is not None and spec is not None:
                    self.imports[text(name)] = (spec, "*")
            if child.type != "import_clause" or specifier is None:
                continue
            for part in child.named_children:
                if part.type == "identifier":
                    self.imports[text(part)] = (specifier, "default")
                elif part.type == "namespace_import" and part.named_child_count:
                    self.imports[text(part.named_children[0])] = (specifier, "*")
                elif part.type == "named_imports":
                    for item in part.named_children:
                        if item.type != "import_specifier":
                            continue
                        name = text(item.child_by_field_name("name"))
                        alias = item.child_by_field_name("alias")
                        self.imports[text(alias) if alias is not None else name] = (specifier, name)

    def _read_export(self, statement: Node) -> None:
        declaration = statement.child_by_field_name("declaration")
        specifier = string_value(statement.child_by_field_name("source"))
        is_default = any(child.type == "default" for child in statement.children)
        if declaration is not None:
            names = self._read_declaration_node(declaration)
            for name in names:
                self.exports[name] = name
            if is_default and names:
                self.exports["default"] = names[0]
            elif is_default and declaration.type in FUNCTION_TYPES:
                self.functions["default"] = declaration
                self.exports["default"] = "default"
            return
        clause = next((c for c in statement.named_children if c.type == "export_clause"), None)
        if clause is not None:
            for item in clause.named_children:
                if item.type != "export_specifier":
                    continue
                name = text(item.child_by_field_name("name"))
                alias = item.child_by_field_name("alias")
                exported = text(alias) if alias is not None else name
                if specifier is not None:
                    self.reexports.append((specifier, exported, name))
                else:
                    self.exports[exported] = name
            return
        if specifier is not None:  # export * from "./x"
            self.reexports.append((specifier, None, None))
            return
        value = statement.child_by_field_name("value")
        if is_default and value is not None:
            value = unwrap(value)
            if value.type == "identifier":
                self.exports["default"] = text(value)
            else:
                self.bindings["default"] = value
                self.exports["default"] = "default"
                if value.type in FUNCTION_TYPES:
                    self.functions["default"] = value

    def _read_declaration(self, statement: Node) -> None:
        self._read_declaration_node(statement)

    def _read_declaration_node(self, declaration: Node) -> list[str]:
        if declaration.type in ("function_declaration", "generator_function_declaration"):
            return self._read_function(declaration)
        if declaration.type in CLASS_TYPES:
            name = declaration.child_by_field_name("name")
            return [text(name)] if name is not None else []
        if declaration.type not in ("lexical_declaration", "variable_declaration"):
            return []
        names = []
        for declarator in declaration.named_children:
            if declarator.type != "variable_declarator":
                continue
            target = declarator.child_by_field_name("name")
            value = declarator.child_by_field_name("value")
            value = unwrap(value) if value is not None else None
            if target is None:
                continue
            if target.type == "identifier":
                name = text(target)
                names.append(name)
                self.declared.add(name)
                if value is None:
                    continue
                required = self.required_specifier(value)
                if required is not None:
                    self.imports[name] = (required, "*")
                    continue
                self.bindings[name] = value
                function = memoised_function(value) or (value if value.type in FUNCTION_TYPES else None)
                if function is not None:
                    self.functions[name] = function
            elif target.type == "object_pattern" and value is not None:
                names.extend(self._read_destructuring(target, value))
        return names

    def _read_destructuring(self, pattern: Node, value: Node) -> list[str]:
        """`const { PrismaClient } = require("@prisma/client")` or `= pkg` of an imported `pkg`."""
        base = self.required_specifier(value)
        if base is None and value.type == "identifier" and text(value) in self.imports:
            specifier, imported = self.imports[text(value)]
            base = specifier if imported in ("*", "default") else f"{specifier}.{imported}"
        names = []
        for key, local in _destructured_names(pattern):
            names.append(local)
            self.declared.add(local)
            if base is not None:
                self.imports[local] = (base, key)
        return names

    def _read_function(self, declaration: Node) -> list[str]:
        name = declaration.child_by_field_name("name")
        if name is None:
            return []
        self.functions[text(name)] = declaration
        self.declared.add(text(name))
        return [text(name)]

    def _read_expression_statement(self, expression: Node) -> None:
        expression = _awaited(expression)
        if expression.type == "assignment_expression":
            self._read_commonjs_export(expression)
            return
        # `main()`, `main().then(...).catch(...)`, `void main()`: the entry point of a script
        head, _ = _call_chain(expression)
        if head is not None and head.type == "identifier":
            self.entry_calls.add(text(head))

    def script_exits(self) -> tuple[bool, bool]:
        """Whether the script's process ends at once (after its entry succeeds, when it fails): an
        explicit `process.exit()`, or on failure a rejection or exception nothing handles, which
        ends a Node process too. The process and every socket it holds go with it; a path that runs
        out of work, or whose error is caught and logged, leaves the process running."""
        statements = [s for s in self.root.named_children if s.type not in ("comment", "empty_statement")]
        entries = [s for s in statements if s.type == "expression_statement" and _entry_chain(self, s) is not None]
        if len(entries) == 1:
            function, links = _entry_chain(self, entries[0])
            return _chain_exits(function, links)
        if entries or not statements:
            return False, False
        # `if (require.main === module) main()...`, or one entry per branch (`if (id) one(id) else all()`):
        # the script exits on a path only if every branch that runs an entry exits on it
        guarded = [s for s in statements if s.type == "if_statement" and _branch_entries(self, s)]
        if len(guarded) == 1:
            exits = [_chain_exits(*_entry_chain(self, entry)) for entry in _branch_entries(self, guarded[0])]
            return all(success for success, _ in exits), all(failure for _, failure in exits)
        if guarded:
            return False, False
        last = statements[-1]
        if last.type == "try_statement":  # top-level await: `try { ...; process.exit(0) } catch { process.exit(1) }`
            handler = last.child_by_field_name("handler")
            return (_ends_in_exit(last.child_by_field_name("body")),
                    handler is not None and _exits_unconditionally(handler.child_by_field_name("body")))
        handled = any(s.type == "try_statement" and s.child_by_field_name("handler") is not None for s in statements)
        return _is_exit_statement(last), not handled

    def _read_commonjs_export(self, assignment: Node) -> None:
        left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
        target = text(left)
        if right is None:
            return
        right = unwrap(right)
        if target == "module.exports":
            if right.type == "identifier":
                self.exports["default"] = text(right)
            elif right.type == "object":
                for item in right.named_children:
                    if item.type == "shorthand_property_identifier":
                        self.exports[text(item)] = text(item)
                    elif item.type == "pair" and unwrap(item.child_by_field_name("value")).type == "identifier":
                        self.exports[text(item.child_by_field_name("key"))] = text(unwrap(item.child_by_field_name("value")))
            else:
                self.bindings["default"] = right
                self.exports["default"] = "default"
        elif target.startswith(("module.exports.", "exports.")) and target.count(".") == target.startswith("module.") + 1:
            name = target.rsplit(".", 1)[-1]
            self.bindings[name] = right
            self.exports[name] = name
            if right.type in FUNCTION_TYPES:
                self.functions[name] = right

    def _read_function_imports(self) -> None:
        """`const { PrismaClient } = await import("@prisma/client")` (or `require(...)`, or `const
        prisma = await import(...)`) inside a function binds those names in that function only."""
        for match in _LOADER_CALL.finditer(self.data):
            loader = self.root.descendant_for_byte_range(match.start(), match.start() + len(match.group(1)))
            if loader is not None and loader.parent is not None and loader.parent.type == loader.type:
                loader = loader.parent  # the `import` keyword's token inside its node
            call = loader.parent if loader is not None else None
            if call is None or call.type != "call_expression" or call.child_by_field_name("function") != loader:
                continue
            declarator = call.parent
            while declarator is not None and (declarator.type in TRANSPARENT or declarator.type == "await_expression"):
                declarator = declarator.parent
            if declarator is None or declarator.type != "variable_declarator" or is_damaged(declarator):
                continue
            function = enclosing_function(declarator)
            target = declarator.child_by_field_name("name")
            specifier = self.required_specifier(call)
            if function is None or target is None or specifier is None:
                continue  # a module-level binding is one of `imports`
            scope = (function.start_byte, function.end_byte)
            if target.type == "identifier":
                self.function_imports[(scope, text(target))] = (specifier, "*")
            elif target.type == "object_pattern":
                for key, local in _destructured_names(target):
                    self.function_imports[(scope, local)] = (specifier, key)

    def imported_names(self) -> Iterator[tuple[str, tuple[str, str]]]:
        """(local name, (specifier, imported name)) of every import, the module's and its functions'."""
        yield from self.imports.items()
        for (_, local), imported in self.function_imports.items():
            yield local, imported

    def imported_as(self, node: Node) -> Optional[tuple[str, str]]:
        """(specifier, imported name) of an identifier: a function's own import of it first, from the
        innermost function out, then the module's."""
        name = text(node)
        for function in ancestors(node):
            if function.type in FUNCTION_TYPES:
                found = self.function_imports.get(((function.start_byte, function.end_byte), name))
                if found is not None:
                    return found
        return self.imports.get(name)

    # -- names -----------------------------------------------------------------------------------
    def required_specifier(self, node: Optional[Node]) -> Optional[str]:
        """`require("x")` (also `await import("x")`) is module "x"."""
        if node is None:
            return None
        node = unwrap(node)
        if node.type == "await_expression" and node.named_child_count:
            node = unwrap(node.named_children[0])
        if node.type != "call_expression":
            return None
        function = node.child_by_field_name("function")
        if function is None or text(function) not in ("require", "import"):
            return None
        arguments = node.child_by_field_name("arguments")
        first = arguments.named_children[0] if arguments is not None and arguments.named_child_count else None
        return string_value(first)

    def qualified_name(self, node: Optional[Node]) -> Optional[str]:
        """`<specifier>.<name>` for imported names and their members; a bare name for the others."""
        if node is None:
            return None
        node = unwrap(node)
        if node.type == "identifier":
            imported_as = self.imported_as(node)
            if imported_as is not None:
                specifier, imported = imported_as
                return specifier if imported in ("*", "default") else f"{specifier}.{imported}"
            return text(node)
        if node.type == "member_expression":
            base = self.qualified_name(node.child_by_field_name("object"))
            prop = node.child_by_field_name("property")
            return f"{base}.{text(prop)}" if base is not None and prop is not None else None
        if node.type == "call_expression":
            return self.required_specifier(node)
        return None

    def head_name(self, node: Optional[Node]) -> Optional[str]:
        """`stripe` of `stripe.customers.create`; None when the chain starts with a call or `this`."""
        node = unwrap(node) if node is not None else None
        while node is not None and node.type == "member_expression":
            node = unwrap(node.child_by_field_name("object"))
        return text(node) if node is not None and node.type == "identifier" else None

    def members_after_head(self, node: Node) -> list[str]:
        out: list[str] = []
        node = unwrap(node)
        while node is not None and node.type == "member_expression":
            out.append(text(node.child_by_field_name("property")))
            node = unwrap(node.child_by_field_name("object"))
        return list(reversed(out))

    # -- where a node is -------------------------------------------------------------------------
    def line_of(self, node: Node) -> int:
        return node.start_point[0] + 1

    def column_of(self, node: Node) -> int:
        """1-based, in characters of the line (tree-sitter counts bytes)."""
        row, byte_column = node.start_point
        line_start = node.start_byte - byte_column
        return len(self.data[line_start:node.start_byte].decode("utf-8", "replace")) + 1

    def captures(self, node: Node, query: str, name: str) -> Iterator[Node]:
        return source.captures(self.path, node, query, name)

    # The few nodes the rules start from are found by their bytes: a regular expression over the
    # file, then the tree at that offset. Cheaper than a query whose predicates run in Python.
    def new_expressions(self, constructors: Optional[set[str]] = None) -> list[Node]:
        """`new X(...)` expressions; only those whose constructor starts with one of `constructors`
        (regular expressions: `PrismaClient`, `Prisma\\s*\\.`) when given."""
        found = []
        pattern = _NEW
        if constructors is not None:
            if not constructors:
                return []
            names = b"|".join(name.encode() for name in sorted(constructors))  # regular expressions already
            pattern = re.compile(rb"new(?=\s+(?:" + names + rb"))")
        for match in pattern.finditer(self.data):
            keyword = self.root.descendant_for_byte_range(match.start(), match.end())
            if keyword is not None and keyword.type == "new" and keyword.parent is not None \
                    and keyword.parent.type == "new_expression":
                found.append(keyword.parent)
        return found

    def method_calls(self, methods: frozenset[str]) -> list[Node]:
        """`x.$transaction(...)`-style calls of the named methods."""
        found = []
        for match in _DOLLAR_WORD.finditer(self.data):
            if match.group(0).decode() not in methods:
                continue
            name = self.root.descendant_for_byte_range(match.start(), match.end())
            member = name.parent if name is not None and name.type == "property_identifier" else None
            call = member.parent if member is not None and member.type == "member_expression" else None
            if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == member:
                found.append(call)
        return found

    def calls_on(self, receiver: str, methods: tuple[str, ...]) -> list[Node]:
        """`<receiver>.<method>(...)` calls of the named methods on a plain name (`pool.end()`)."""
        if not methods:
            return []
        pattern = re.compile(rb"(?<![\w$.])" + re.escape(receiver.encode()) + rb"\s*\??\.\s*(?:"
                             + b"|".join(re.escape(m.encode()) for m in methods) + rb")(?![\w$])")
        found = []
        for match in pattern.finditer(self.data):
            name = self.root.descendant_for_byte_range(match.end() - 1, match.end())
            member = name.parent if name is not None and name.type == "property_identifier" else None
            call = member.parent if member is not None and member.type == "member_expression" else None
            if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == member \
                    and text(member.child_by_field_name("object")) == receiver:
                found.append(call)
        return found


_NEW = re.compile(rb"new(?![\w$])")  # the tree tells a keyword from `renew` or `x.new`
_LOADER_CALL = re.compile(rb"(?<![\w$.])(import|require)\s*\(")  # `await import("x")`, `require("x")`
_DOLLAR_WORD = re.compile(rb"\$[A-Za-z]+(?![\w$])")


def _destructured_names(pattern: Node) -> Iterator[tuple[str, str]]:
    """(key, local name) of each plain name an object pattern binds: `{ a, b: c }` gives (a, a), (b, c)."""
    for item in pattern.named_children:
        if item.type == "shorthand_property_identifier_pattern":
            yield text(item), text(item)
        elif item.type == "pair_pattern":
            local = item.child_by_field_name("value")
            if local is not None and local.type == "identifier":
                yield text(item.child_by_field_name("key")), text(local)


def ancestors(node: Node) -> Iterator[Node]:
    current = node.parent
    while current is not None:
        yield current
        current = current.parent


def enclosing_function(node: Node) -> Optional[Node]:
    return next((a for a in ancestors(node) if a.type in FUNCTION_TYPES), None)


def function_body(function: Node) -> Optional[Node]:
    return function.child_by_field_name("body")


def memoised_function(value: Node) -> Optional[Node]:
    """The function in `cache(() => ...)`, `memoize(...)`, `once(...)`: runs once per argument set."""
    value = unwrap(value)
    if value.type != "call_expression":
        return None
    callee = text(value.child_by_field_name("function")).rsplit(".", 1)[-1]
    if not MEMOISERS.match(callee):
        return None
    arguments = value.child_by_field_name("arguments")
    for argument in arguments.named_children if arguments is not None else ():  # `singleton("db", () => ...)`
        if unwrap(argument).type in FUNCTION_TYPES:
            return unwrap(argument)
    return None


MEMOISERS = re.compile(r"^(cache|unstable_cache|memoize|memoizeOne|memoizee|memo|once|lazy|singleton|pMemoize|useMemo)$", re.I)


def function_display_name(function: Node) -> str:
    """How a message names a function: its declared name, the variable or property it is
    bound to, or what it is passed to (`app.get` for an Express handler)."""
    name = function.child_by_field_name("name")
    if name is not None:
        return text(name)
    holder, parent = value_parent(function)
    if parent is None:
        return "<anonymous>"
    if parent.type == "variable_declarator":
        return text(parent.child_by_field_name("name"))
    if parent.type == "pair":
        return text(parent.child_by_field_name("key"))
    if parent.type == "assignment_expression":
        return text(parent.child_by_field_name("left"))
    if parent.type == "arguments" and parent.parent is not None:
        callee = parent.parent.child_by_field_name("function")
        if callee is not None:
            inner = text(callee).split("\n", 1)[0]
            return inner if len(inner) <= 40 else inner[-40:]
    if parent.type == "export_statement":
        return "default"
    return "<anonymous>"


def callback_of(function: Node) -> Optional[tuple[Node, str]]:
    """(the call, its method name) when `function` is passed as an argument: `app.get("/", (req) => ...)`."""
    holder, parent = value_parent(function)
    if parent is None or parent.type != "arguments" or parent.parent is None:
        return None
    call = parent.parent
    callee = call.child_by_field_name("function") if call.type == "call_expression" else None
    if callee is None:
        return None
    callee = unwrap(callee)
    if callee.type == "member_expression":
        return call, text(callee.child_by_field_name("property"))
    if callee.type == "identifier":
        return call, text(callee)
    return None


# A script's entry call and the promise methods chained on it: `main().then(...).catch(...)`
PROMISE_CHAIN_METHODS = frozenset({"then", "catch", "finally"})


def _entry_chain(module: JsModule, statement: Node) -> Optional[tuple[Node, list[tuple[str, list[Node]]]]]:
    """(the function the statement runs, the promise methods chained on its call, innermost first)
    for `main()`, `await main()`, `void main().catch(...)` or an IIFE; None for anything else."""
    if not statement.named_child_count:
        return None
    head, links = _call_chain(_awaited(statement.named_children[0]))
    if head is None or any(method not in PROMISE_CHAIN_METHODS for method, _ in links):
        return None
    if head.type == "identifier" and text(head) in module.functions:
        return module.functions[text(head)], links
    if head.type in FUNCTION_TYPES:
        return head, links
    return None


def _awaited(expression: Node) -> Node:
    """The expression under `await` or a unary operator (`void main()`), unwrapped."""
    expression = unwrap(expression)
    if expression.type in ("await_expression", "unary_expression") and expression.named_child_count:
        expression = unwrap(expression.named_children[-1])
    return expression


def _call_chain(expression: Node) -> tuple[Optional[Node], list[tuple[str, list[Node]]]]:
    """`main().then(a).catch(b)`: the callee of the innermost call (`main`, or a function called at once)
    and the methods called on its result with their arguments, innermost first; (None, []) when the
    innermost callee is a member (`console.log(x)`) or the expression is no call."""
    links: list[tuple[str, list[Node]]] = []
    while expression.type == "call_expression":
        callee = expression.child_by_field_name("function")
        if callee is None:
            return None, []
        callee = unwrap(callee)
        if callee.type != "member_expression":
            return callee, links
        arguments = expression.child_by_field_name("arguments")
        links.insert(0, (text(callee.child_by_field_name("property")),
                         list(arguments.named_children) if arguments is not None else []))
        expression = unwrap(callee.child_by_field_name("object"))
    return None, []


def _branch_entries(module: JsModule, statement: Node) -> list[Node]:
    """The entry statements of an `if`'s branches (`else if` included), one per branch; none when a
    branch runs more than one or none is found."""
    entries: list[Node] = []
    branch: Optional[Node] = statement
    while branch is not None and branch.type == "if_statement":
        found = _the_entry_of(module, branch.child_by_field_name("consequence"))
        if found is None:
            return []
        entries.append(found)
        alternative = branch.child_by_field_name("alternative")
        branch = alternative.named_children[0] if alternative is not None and alternative.named_child_count else None
        if branch is not None and branch.type != "if_statement":
            found = _the_entry_of(module, branch)
            if found is None:
                return []
            entries.append(found)
            break
    return entries


def _the_entry_of(module: JsModule, branch: Optional[Node]) -> Optional[Node]:
    """The one entry statement of a branch (a block or a single statement)."""
    if branch is None:
        return None
    statements = branch.named_children if branch.type == "statement_block" else [branch]
    entries = [s for s in statements if s.type == "expression_statement" and _entry_chain(module, s) is not None]
    return entries[0] if len(entries) == 1 else None


def _chain_exits(function: Node, links: list[tuple[str, list[Node]]]) -> tuple[bool, bool]:
    """Follows a promise chain from the entry call outwards: a `catch` that does not exit turns
    the failure into a success for the links after it; a chain without a handler leaves the
    rejection unhandled, which ends the process."""
    on_success = _ends_in_exit(function_body(function))
    on_failure = caught = False
    if not any(method == "catch" or (method == "then" and len(arguments) > 1) for method, arguments in links):
        on_failure = True
    for method, arguments in links:
        handlers = [_exits_when_called(a) for a in arguments]
        if method == "finally" and handlers and handlers[0]:
            on_success = on_failure = True
        elif method == "then":
            if handlers and handlers[0]:
                on_success = True
                on_failure = on_failure or caught
            if len(handlers) > 1 and handlers[1]:
                on_failure = True
        elif method == "catch" and handlers:
            if handlers[0]:
                on_failure = True
            caught = True
    return on_success, on_failure


def _exits_when_called(callback: Node) -> bool:
    callback = unwrap(callback)
    if text(callback) == "process.exit":
        return True
    if callback.type not in FUNCTION_TYPES:
        return False
    body = function_body(callback)
    if body is not None and body.type != "statement_block":
        return _is_exit_call(unwrap(body))
    return _exits_unconditionally(body)


def _exits_unconditionally(block: Optional[Node]) -> bool:
    """A `process.exit()` among the block's own statements (not under an `if`)."""
    return block is not None and any(_is_exit_statement(s) for s in block.named_children)


def _ends_in_exit(block: Optional[Node]) -> bool:
    if block is None or block.type != "statement_block":
        return False
    statements = [s for s in block.named_children if s.type != "comment"]
    return bool(statements) and _is_exit_statement(statements[-1])


def _is_exit_statement(statement: Node) -> bool:
    return statement.type == "expression_statement" and statement.named_child_count > 0 \
        and _is_exit_call(unwrap(statement.named_children[0]))


def _is_exit_call(expression: Node) -> bool:
    return expression.type == "call_expression" and text(expression.child_by_field_name("function")) == "process.exit"
