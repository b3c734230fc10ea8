"""Read-only traversal of a libcst tree, in libcst's own order, without libcst's visitor machinery.

`CSTNode.visit` rebuilds every node it passes (each child is visited "and replaced", and the
new node validated), which was most of the libcst time of a run. The rules only read the
tree, so they walk it here: children in the order `visit` gives them, skipping the nodes no
rule reads (whitespace, comments, parentheses, commas and other punctuation).

tests/test_cstwalk.py checks the order against libcst's on every fixture.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterator, Optional

import libcst as cst

# Fields holding only layout and punctuation: no rule reads those nodes.
_LAYOUT_FIELDS = frozenset({
    "leading_lines", "lines_after_decorators", "lpar", "rpar", "lbrace", "rbrace", "lbracket", "rbracket",
    "comma", "semicolon", "colon", "first_colon", "second_colon", "equal", "star", "dot", "header", "footer",
    "trailing_whitespace", "leading_whitespace", "newline", "asynchronous", "operator", "whitespace",
})

# Node types whose fields libcst visits in another order than it declares them (source order),
# by name: older libcst versions lack some of them.
_VISIT_ORDER_BY_NAME: dict[str, tuple[str, ...]] = {
    "Arg": ("keyword", "value"),
    "ClassDef": ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    "FunctionDef": ("decorators", "name", "type_parameters", "params", "returns", "body"),
    "ExceptHandler": ("type", "name", "body"),
    "ExceptStarHandler": ("type", "name", "body"),
    "IfExp": ("body", "test", "orelse"),
    "ImportFrom": ("relative", "module", "names"),
    "Parameters": ("posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params", "star_kwarg"),
    "MatchCase": ("pattern", "guard", "body"),
    "TypeAlias": ("name", "type_parameters", "value"),
}
_VISIT_ORDER: dict[type, tuple[str, ...]] = {
    getattr(cst, name): order for name, order in _VISIT_ORDER_BY_NAME.items() if hasattr(cst, name)}

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(node_type: type) -> tuple[str, ...]:
    """The fields of `node_type` that may hold nodes a rule reads, in libcst's visiting order."""
    fields = _CHILD_FIELDS.get(node_type)
    if fields is None:
        declared = [f.name for f in dataclasses.fields(node_type)]
        order = _VISIT_ORDER.get(node_type)
        if order is not None:
            declared = [f for f in order if f in declared] + [f for f in declared if f not in order]
        fields = _CHILD_FIELDS[node_type] = tuple(
            f for f in declared if f not in _LAYOUT_FIELDS and not f.startswith("whitespace"))
    return fields


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    node_type = cst.CSTNode
    for name in _CHILD_FIELDS.get(type(node)) or child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, node_type):
            out.append(value)
        elif type(value) is tuple or type(value) is list:
            out.extend(item for item in value if isinstance(item, node_type))
    return out


def traverse(root: cst.CSTNode, enter: Callable[[cst.CSTNode], Optional[bool]],
             leave: Callable[[cst.CSTNode], None]) -> None:
    """Calls `enter` before and `leave` after each node's children, like a CSTVisitor's
    on_visit/on_leave; `enter` returning False skips the children. Iterative: no depth limit."""
    stack: list[tuple[cst.CSTNode, bool]] = [(root, False)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, entered = pop()
        if entered:
            leave(node)
            continue
        if enter(node) is False:
            leave(node)
            continue
        push((node, True))
        kids = children(node)
        for index in range(len(kids) - 1, -1, -1):
            push((kids[index], False))


def walk(root: cst.CSTNode, prune: tuple[type, ...] = ()) -> Iterator[cst.CSTNode]:
    """`root` and the nodes below it in visiting order, not looking inside nodes of `prune` types
    below the root (those are still yielded, as a visitor's visit_ method still sees them)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if node is not root and prune and isinstance(node, prune):
            continue
        kids = children(node)
        kids.reverse()
        stack.extend(kids)


def visit(root: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """`root.visit(visitor)` for a visitor that only reads: the same calls, without rebuilding the tree."""
    traverse(root, visitor.on_visit, visitor.on_leave)
