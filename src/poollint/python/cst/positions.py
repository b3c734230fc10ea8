"""Where each node of a libcst module starts and ends, as libcst's PositionProvider says, faster.

Rules ask for the line of a node only when they report, but then the whole module is rendered
with positions: on a 226 KB module (airflow/www/views.py) PositionProvider took 0.8 s, three
times the parse, because it builds two position objects for every node and splits every token
with a regex. This renders the module once with the same rules for where a node starts and
ends (the syntactic position: `record_syntactic_position`, else the span of its code) and keeps
four integers per node; the objects are built only for the nodes asked about.
`tests/test_positions.py` compares both on every fixture.

It uses libcst's code generation hooks (`CodegenState`, `CSTNode._codegen`), which are not
public API: should a libcst release change them, `module_positions` falls back to
PositionProvider.
"""
from __future__ import annotations

import re
from typing import Any, Optional

import libcst as cst
from libcst.metadata import CodePosition, CodeRange

try:
    from libcst._nodes.internal import CodegenState
except ImportError:  # pragma: no cover - a libcst without it: PositionProvider is used
    CodegenState = object  # type: ignore[misc,assignment]

_NEWLINE = re.compile(r"\r\n?|\n")

# (start line, start column, end line, end column): lines 1-based, columns 0-based, as libcst's
_Span = tuple[int, int, int, int]


class ModulePositions:
    """The position of every node of one module: `positions[node]` is a libcst CodeRange."""

    def __init__(self, spans: "dict[cst.CSTNode, _Span] | dict[cst.CSTNode, CodeRange]") -> None:
        self._spans = spans

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        span = self._spans[node]
        if isinstance(span, CodeRange):
            return span
        return CodeRange(CodePosition(span[0], span[1]), CodePosition(span[2], span[3]))

    def __contains__(self, node: object) -> bool:
        return node in self._spans

    def __len__(self) -> int:
        return len(self._spans)


def module_positions(module: cst.Module) -> ModulePositions:
    try:
        return ModulePositions(_spans(module))
    except (AttributeError, TypeError, KeyError):  # libcst's code generation changed
        from libcst.metadata import MetadataWrapper, PositionProvider

        return ModulePositions(dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)))


def _spans(module: cst.Module) -> "dict[cst.CSTNode, _Span]":
    state = _PositionState(default_indent=module.default_indent, default_newline=module.default_newline)
    module._codegen(state)
    return state.spans


class _PositionState(CodegenState):
    """PositionProvidingCodegenState's bookkeeping, with tuples for objects and a regex only for
    tokens that hold a line break."""

    def __init__(self, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.line = 1
        self.column = 0
        self.starts: list[tuple[int, int]] = []
        self.spans: dict[cst.CSTNode, _Span] = {}

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def _advance(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.starts.pop()
        if node not in self.spans:  # a syntactic position recorded inside stands
            self.spans[node] = (*start, self.line, self.column)

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> "_Recording":
        return _Recording(self, node, start_node, end_node)


class _Recording:
    """`with state.record_syntactic_position(node, start_node=..., end_node=...)`: the node's span is
    what its code inside the block covers, or starts where `start_node` starts and ends where
    `end_node` ends."""

    __slots__ = ("state", "node", "start_node", "end_node", "line", "column")

    def __init__(self, state: Any, node: cst.CSTNode, start_node: Optional[cst.CSTNode],
                 end_node: Optional[cst.CSTNode]) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node
        self.line = self.column = 0

    def __enter__(self) -> None:
        self.line, self.column = self.state.line, self.state.column

    def __exit__(self, *exc_info: object) -> bool:
        spans = self.state.spans
        start = spans[self.start_node][:2] if self.start_node is not None else (self.line, self.column)
        end = spans[self.end_node][2:] if self.end_node is not None else (self.state.line, self.state.column)
        spans[self.node] = (*start, *end)
        return False
