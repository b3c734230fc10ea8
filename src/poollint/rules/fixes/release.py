"""DBP301's and DBP302's codemods: release a client in a `finally` block."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import libcst as cst

from poollint.python.cst.context import assigned_names
from poollint.rules.fixes import PYTHON, FixRequest, FixResult, codemod

# -- DBP302 / DBP301: release in a `finally` -------------------------------------------------------
class _LeavesBlock(cst.CSTVisitor):
    """Statements that leave a block early: inside try/finally they would now release first."""

    def __init__(self) -> None:
        self.loops = 0
        self.found = False

    def visit_Return(self, node: cst.Return) -> None:
        self.found = True

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True

    def visit_Global(self, node: cst.Global) -> None:
        self.found = True

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.found = True

    def visit_Break(self, node: cst.Break) -> None:
        self.found = self.found or self.loops == 0

    def visit_Continue(self, node: cst.Continue) -> None:
        self.found = self.found or self.loops == 0

    def visit_For(self, node: cst.For) -> None:
        self.loops += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loops += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.loops -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _leaves_early(statements: Sequence[cst.CSTNode]) -> bool:
    visitor = _LeavesBlock()
    for statement in statements:
        statement.visit(visitor)
    return visitor.found


@dataclass(frozen=True)
class _Located:
    module: cst.Module
    block: cst.IndentedBlock
    index: int  # of the statement in block.body
    positions: Mapping

    def lines_of(self, statement: cst.CSTNode) -> tuple[int, int]:
        position = self.positions[statement]
        return position.start.line, position.end.line


def _locate_statement(text: str, line: int, column: int) -> Optional[_Located]:
    """The simple statement holding the call that starts at (line, column), in a function or `if` block."""
    from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

    try:
        wrapper = MetadataWrapper(cst.parse_module(text))
    except (cst.ParserSyntaxError, RecursionError):
        return None
    positions = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    call = next((n for n, p in positions.items() if isinstance(n, cst.Call)
                 and (p.start.line, p.start.column + 1) == (line, column)), None)
    node: Optional[cst.CSTNode] = call
    while node is not None and not isinstance(node, cst.SimpleStatementLine):
        node = parents.get(node)
    if node is None or len(node.body) != 1:
        return None
    block = parents.get(node)
    if not isinstance(block, cst.IndentedBlock):
        return None  # module level: wrapping the rest of a module is no longer a small edit
    return _Located(wrapper.module, block, list(block.body).index(node), positions)


def _wrap_in_try_finally(located: _Located, start: int, end: int, release: cst.SimpleStatementLine,
                         consume_end: bool) -> Optional[str]:
    """`try: <block.body[start:end]> finally: <release>`; with consume_end the statement at `end` is the
    release being moved. None when the work is empty or leaves the block early (then `finally` would
    release before a `return` that may still need the connection)."""
    body = list(located.block.body)
    work = body[start:end]
    if not work or _leaves_early(work):
        return None
    first = work[0]
    blank = 0
    while blank < len(first.leading_lines) and first.leading_lines[blank].comment is None:
        blank += 1
    work[0] = first.with_changes(leading_lines=first.leading_lines[blank:])
    release = release.with_changes(leading_lines=[line for line in release.leading_lines if line.comment is not None])
    statement = cst.Try(
        body=cst.IndentedBlock(body=work),
        finalbody=cst.Finally(body=cst.IndentedBlock(body=[release])),
        leading_lines=first.leading_lines[:blank],
    )
    tail = body[end + 1:] if consume_end else body[end:]
    new_block = located.block.with_changes(body=[*body[:start], statement, *tail])
    return located.module.deep_replace(located.block, new_block).code  # type: ignore[union-attr]


def fix_disconnect_not_exception_safe(request: FixRequest) -> Optional[FixResult]:
    """Moves a happy-path release into a `finally` around the work between opening and release."""
    text, fixed = request.text, []
    for finding in sorted(request.findings, key=lambda f: (f.line, f.column), reverse=True):
        line = finding.fields.get("line")  # where the released client was opened
        located = _locate_statement(text, finding.line, finding.column)
        if not isinstance(line, int) or located is None:
            continue
        body = list(located.block.body)
        opening = next((i for i in range(located.index)
                        if located.lines_of(body[i])[0] <= line <= located.lines_of(body[i])[1]), None)
        if opening is None or not isinstance(body[opening], cst.SimpleStatementLine):
            continue  # opened in another block or by a compound statement: the edit would not be local
        release = body[located.index]
        assert isinstance(release, cst.SimpleStatementLine)
        new_text = _wrap_in_try_finally(located, opening + 1, located.index, release, consume_end=True)
        if new_text is not None:
            text = new_text
            fixed.append(finding)
    if not fixed:
        return None
    return FixResult(text, tuple(fixed), "move the release into a `finally` block")


codemod("DBP302", PYTHON)(fix_disconnect_not_exception_safe)


class _Rebinds(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.found = self.found or self.name in assigned_names(node)

    def visit_AsName(self, node: cst.AsName) -> None:
        self.found = self.found or (isinstance(node.name, cst.Name) and node.name.value == self.name)

    def visit_Del(self, node: cst.Del) -> None:
        self.found = True


def _opened_name(statement: cst.SimpleStatementLine) -> Optional[tuple[str, bool]]:
    """The name holding the opened client, and whether the opening was awaited."""
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        value = small.value
        awaited = isinstance(value, cst.Await)
        value = value.expression if isinstance(value, cst.Await) else value
        return (small.targets[0].target.value, awaited) if isinstance(value, cst.Call) else None
    if isinstance(small, cst.Expr):
        value = small.value
        awaited = isinstance(value, cst.Await)
        value = value.expression if isinstance(value, cst.Await) else value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) \
                and isinstance(value.func.value, cst.Name):
            return value.func.value.value, awaited
    return None


def fix_script_never_disconnects(request: FixRequest) -> Optional[FixResult]:
    """Releases a script's client in a `finally` around the rest of the block that opened it."""
    text, fixed = request.text, []
    for finding in sorted(request.findings, key=lambda f: (f.line, f.column), reverse=True):
        method = finding.fields.get("release_method")
        located = _locate_statement(text, finding.line, finding.column)
        if not method or located is None or finding.fields.get("note"):
            continue  # a note explains a case this edit does not cover
        opening = located.block.body[located.index]
        assert isinstance(opening, cst.SimpleStatementLine)
        opened = _opened_name(opening)
        if opened is None:
            continue
        name, awaited = opened
        if not awaited and _in_async_function(located):
            continue  # an async client built without await: its release may need an await we cannot know
        rest = list(located.block.body)[located.index + 1:]
        rebinds = _Rebinds(name)
        for statement in rest:
            statement.visit(rebinds)
        if rebinds.found:
            continue
        release = cst.parse_statement(f"{'await ' if awaited else ''}{name}.{method}()")
        assert isinstance(release, cst.SimpleStatementLine)
        end = len(located.block.body)
        new_text = _wrap_in_try_finally(located, located.index + 1, end, release, consume_end=False)
        if new_text is not None:
            text = new_text
            fixed.append(finding)
    if not fixed:
        return None
    return FixResult(text, tuple(fixed), "release the client in a `finally` block")


def _in_async_function(located: _Located) -> bool:
    """Is the block the body of an `async def` (or inside one)?"""
    finder = _AsyncOwner(located.block)
    located.module.visit(finder)
    return finder.is_async


class _AsyncOwner(cst.CSTVisitor):
    def __init__(self, block: cst.IndentedBlock) -> None:
        self.block = block
        self.stack: list[bool] = []
        self.is_async = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node.asynchronous is not None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if node is self.block:
            self.is_async = bool(self.stack and self.stack[-1])


codemod("DBP301", PYTHON)(fix_script_never_disconnects)
