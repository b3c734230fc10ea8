"""Helpers over the stdlib `ast` tree, shared by the screen, the project index and the config scan."""
from __future__ import annotations

import ast
import re
from bisect import bisect_right
from functools import lru_cache
from typing import Any, Iterable, Optional, Sequence, Union


def word_pattern(words: Iterable[str]) -> "re.Pattern[bytes]":
    """Finds any of `words` as a whole word in a file's bytes (the screens' first look at a file).

    The words are written as a trie (`create_(?:async_engine|engine)`): Python's `re` tries every
    alternative of a flat list at every position of the file, three times slower on the catalog's words.
    """
    return _word_pattern(frozenset(words))


@lru_cache(maxsize=256)
def _word_pattern(words: frozenset[str]) -> "re.Pattern[bytes]":
    # the same words come back for every file of a project and every settings object: built once
    trie: dict = {}
    for word in words:
        node = trie
        for byte in word.encode():
            node = node.setdefault(byte, {})
        node[_WORD_END] = {}
    return re.compile(rb"\b(?:" + _trie_regex(trie) + rb")\b")


# the builtins that pull the next item out of a generator (`db = next(get_db())`)
NEXT_NAMES = frozenset({"next", "anext"})
# the annotations that say what a generator yields (`Generator[Session, None, None]`), qualified
GENERATOR_TYPES = frozenset(f"{module}.{name}" for module in ("typing", "collections.abc") for name in (
    "Generator", "Iterator", "Iterable", "AsyncGenerator", "AsyncIterator", "AsyncIterable"))
# `Annotated[Session, Depends(get_db)]`: the type is the first element, the rest is metadata
ANNOTATED_TYPES = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_WORD_END = -1  # a trie key no byte has: a word ends here


def _trie_regex(node: dict) -> bytes:
    branches = [re.escape(bytes([byte])) + _trie_regex(child)
                for byte, child in sorted(node.items()) if byte != _WORD_END]
    if not branches:
        return b""
    body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
    return b"(?:" + body + b")?" if _WORD_END in node else body


def literal_prefix(node: Optional[ast.AST]) -> Optional[str]:
    """The known start of a string value (the `ast` twin of python/cst/context.py's): a literal, the
    text before the first `{}` of an f-string or a literal's `.format()`, the left side of `+` or `%`."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return literal_prefix(node.values[0]) if node.values and isinstance(node.values[0], ast.Constant) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        template = literal_prefix(node.func.value)
        return template.split("{", 1)[0] if template is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        template = literal_prefix(node.left)
        return template.split("%", 1)[0] if template is not None and isinstance(node.op, ast.Mod) else template
    return None


def dotted_name(node: ast.AST) -> Optional[str]:
    """`a.b.c` for a chain of names and attributes, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def built_by(value: Optional[ast.AST]) -> Optional[ast.Call]:
    """The call an assigned value is built by: the call itself, or the one call of a conditional whose
    other branch is None (`OpenAI(api_key=key) if key else None`: where the name is used, it is that
    client or nothing, and a method called on it is the client's)."""
    if isinstance(value, ast.Call):
        return value
    if isinstance(value, ast.IfExp):
        for built, other in ((value.body, value.orelse), (value.orelse, value.body)):
            if isinstance(built, ast.Call) and isinstance(other, ast.Constant) and other.value is None:
                return built
    return None


def called_for(origin: Optional[str]) -> Optional[str]:
    """What was called to build an object whose origin (a qualified name as the readers spell one) is one
    call's result: `app.llm.LLMService` for `app.llm.LLMService()`; None for any other origin (a name, an
    attribute of a call's result, a call of a call's result)."""
    return origin[:-2] if origin and origin.endswith("()") and origin.count("(") == 1 else None


def _quoted_names(annotation: ast.Constant) -> list[ast.Name]:
    """The names in a string annotation, placed where the string is."""
    try:
        parsed = ast.parse(annotation.value.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    names = [node for node in ast.walk(parsed) if isinstance(node, ast.Name)]
    for node in names:
        ast.copy_location(node, annotation)
    return names


def definition_start(node: ast.AST) -> tuple[int, int]:
    """(line, column) where a statement or expression begins: a decorated definition at its first
    decorator's line (column 0: nothing else begins on that line)."""
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        return min(d.lineno for d in decorators), 0
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


class Outline:
    """The nodes of an `ast` tree the screen, the index and the URL scan read, found in one walk.

    `ast.walk` costs more than parsing when every pass repeats it; this walks once, in the same
    breadth-first order, without descending into `ctx` markers, and keeps the node kinds
    those passes look at.
    """

    _NODE_KINDS = ("imports", "calls", "functions", "withs", "names", "attributes", "assigns", "scopes")
    __slots__ = (*_NODE_KINDS, "bindings", "quoted", "_attribute_names")

    def __init__(self, root: ast.AST) -> None:
        # `name = call(...)` at module scope: what the name stands for where the module uses it
        self.bindings: list[tuple[str, ast.Call]] = [
            (statement.targets[0].id, call) for statement in getattr(root, "body", ())
            if isinstance(root, ast.Module) and isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and (call := built_by(statement.value)) is not None]
        self.imports: list[Union[ast.Import, ast.ImportFrom]] = []
        self.calls: list[ast.Call] = []
        self.functions: list[Union[ast.FunctionDef, ast.AsyncFunctionDef]] = []
        self.withs: list[Union[ast.With, ast.AsyncWith]] = []
        self.names: list[ast.Name] = []
        self.attributes: list[ast.Attribute] = []
        self.assigns: list[ast.Assign] = []
        # the other nodes that open a scope of their own (a function's are in `functions`)
        self.scopes: list[Union[ast.Lambda, ast.ClassDef]] = []
        self._attribute_names: Optional[dict[int, Optional[str]]] = None
        kept: dict[type, list[Any]] = {
            ast.Import: self.imports, ast.ImportFrom: self.imports, ast.Call: self.calls,
            ast.FunctionDef: self.functions, ast.AsyncFunctionDef: self.functions,
            ast.With: self.withs, ast.AsyncWith: self.withs, ast.Name: self.names, ast.Attribute: self.attributes,
            ast.Assign: self.assigns, ast.Lambda: self.scopes, ast.ClassDef: self.scopes,
        }
        bucket_of = kept.get
        node_type = ast.AST
        nodes = [root]
        append = nodes.append
        fields_of = _FIELDS
        for node in nodes:  # grows while it is read: a breadth-first walk
            kind = type(node)
            bucket = bucket_of(kind)
            if bucket is not None:
                bucket.append(node)
            fields = fields_of.get(kind)
            if fields is None:
                fields = _child_fields(kind)
            for name in fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, node_type):
                            append(item)
                elif isinstance(value, node_type):
                    append(value)
        # a quoted parameter annotation (`archiver: "Archiver | None"`, a forward reference) names a
        # type as much as an unquoted one: its names count where the function uses the parameter
        # (`quoted`: those names, which are no node of the tree)
        quoted: list[ast.Name] = []
        for function in self.functions:
            arguments = function.args
            for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                annotation = argument.annotation
                if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                    quoted.extend(_quoted_names(annotation))
        self.names.extend(quoted)
        self.quoted = frozenset(id(name) for name in quoted)


    def partition(self, definitions: Sequence[Union[ast.FunctionDef, ast.AsyncFunctionDef]]) -> list["Outline"]:
        """The outline of each definition (with its decorators), drawn from this one's nodes by line
        instead of a walk of its own. The definitions' lines must not overlap: the top-level
        functions and the methods of top-level classes of the module this outlines."""
        spans = sorted((definition_start(d)[0], d.end_lineno or d.lineno, i)
                       for i, d in enumerate(definitions))
        starts = [first for first, _, _ in spans]
        parts = [Outline.__new__(Outline) for _ in definitions]
        names = self._names_of_attributes()
        for part in parts:
            for kind in Outline._NODE_KINDS:
                setattr(part, kind, [])
            part.bindings = []  # a definition binds no module name
            part.quoted = self.quoted
            part._attribute_names = names
        for kind in Outline._NODE_KINDS:
            for node in getattr(self, kind):
                line = node.lineno
                at = bisect_right(starts, line) - 1
                if at >= 0 and line <= spans[at][1]:
                    getattr(parts[spans[at][2]], kind).append(node)
        return parts

    def attribute_names(self) -> list[Optional[str]]:
        """`dotted_name` of each of `attributes`, in their order."""
        names = self._names_of_attributes()
        return [names[id(node)] for node in self.attributes]

    def _names_of_attributes(self) -> dict[int, Optional[str]]:
        # once per tree, shared with its partitions: the screen and the index ask for every
        # attribute's name several times, and `a.b.c` is `a.b`'s name and `.c`
        names = self._attribute_names
        if names is None:
            names = self._attribute_names = {}
            for node in reversed(self.attributes):  # breadth-first: `a.b` comes after `a.b.c`
                value = node.value
                if type(value) is ast.Name:
                    names[id(node)] = f"{value.id}.{node.attr}"
                else:
                    inner = names.get(id(value)) if type(value) is ast.Attribute else None
                    if inner is None:
                        inner = dotted_name(value)  # not walked here (another kind's node), or not a name
                    names[id(node)] = None if inner is None else f"{inner}.{node.attr}"
        return names


_FIELDS: dict[type, tuple[str, ...]] = {}
# Fields that never hold a node: skipping them only saves time, the walk checks every value anyway.
_LEAF_FIELDS = frozenset({"ctx", "id", "attr", "arg", "module", "level", "asname", "kind", "type_comment",
                          "is_async", "conversion"})
_NAMED_BY_STRING = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.alias, ast.ExceptHandler)


def _child_fields(node_type: type) -> tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        if issubclass(node_type, ast.Constant):
            fields = ()
        else:
            fields = tuple(f for f in node_type._fields if f not in _LEAF_FIELDS and not (
                f == "name" and issubclass(node_type, _NAMED_BY_STRING)) and not (
                f == "names" and issubclass(node_type, (ast.Global, ast.Nonlocal))))
        _FIELDS[node_type] = fields
    return fields
