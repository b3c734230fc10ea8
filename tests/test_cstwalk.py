"""The rules walk libcst trees with python/cst/walk.py instead of libcst's visitors: same nodes, same order."""
from __future__ import annotations

import functools

import libcst as cst
import pytest

from conftest import FIXTURES
from poollint.python.cst.walk import traverse, walk

# The fixtures (the code shapes the rules read) and SYNTAX below; SYNTAX holds every node type
# poollint's own sources hold beyond the fixtures' (checked when it was written: walking all of
# src/ too cost 7 s of the suite's CPU and found no other type).
SOURCES = sorted(p for p in FIXTURES.rglob("*.py") if ".poollint_cache" not in p.parts)

# Every kind of syntax whose children libcst visits in an order of its own, in one module.
SYNTAX = '''\
from . import a
from ..b.c import (d as e, f)
@decorator(arg=1)
@other
async def function(x: int = 1, *args: str, y=None, **kwargs) -> "int":
    try:
        value = x if x else y
    except (ValueError, TypeError) as error:
        raise RuntimeError("no") from error
    else:
        pass
    finally:
        del value
    async with lock() as held, other():
        await held.send(key=value, *args, **kwargs)
    return [i for i in range(3) if i], {k: v for k, v in kwargs.items()}, lambda z=1: z


@dataclass
class Model(Base, metaclass=Meta):
    field: int = 0

    def method(self, /, a, *, b):
        global counter
        while self.a[1:2]:
            yield from self.b
        for item in items:
            counter += item
        match item:
            case {"k": [1, *rest]} if rest:
                pass
            case Point(x=0) | None:
                pass
        flags &= +mask & 0xFF
        flags |= 1 << shift
        total = (a + b) // 2 if a <= b else -a
        if (found := {*items, *others}) and {x for x in found}:
            print("one" "two", *found, {**defaults, "k": 1}, sum(x for x in found))
'''


def _libcst_order(module: cst.Module) -> list[cst.CSTNode]:
    seen: list[cst.CSTNode] = []

    class Recorder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            seen.append(node)
            return True

    module.visit(Recorder())
    return seen


_BRACKETS = (cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
             cst.RightCurlyBrace, cst.Asynchronous)


def _is_layout(node: cst.CSTNode) -> bool:
    return type(node).__module__ in ("libcst._nodes.whitespace", "libcst._nodes.op") or isinstance(node, _BRACKETS)


# The whole-tree comparisons with libcst take every `EVERY`th fixture source in the default suite (with
# SYNTAX, which holds every kind of syntax libcst orders its own way); `-m slow` takes them all
EVERY = [pytest.param(2, id="every-second-fixture"), pytest.param(1, id="every-fixture", marks=pytest.mark.slow)]


@functools.lru_cache(maxsize=None)
def parsed_sources(every: int = 1) -> tuple[tuple[str, cst.Module], ...]:
    """SYNTAX and every `every`th fixture that parses (not a DBP000 syntax error, not a template), each
    named, parsed once for the tests that compare a whole tree: a test per source cost the suite more in
    pytest's own overhead than in the checks."""
    parsed = []
    for name, source in [("syntax", SYNTAX), *((p.relative_to(FIXTURES).as_posix(), p) for p in SOURCES[::every])]:
        try:
            parsed.append((name, cst.parse_module(source if isinstance(source, str) else source.read_text("utf-8"))))
        except (cst.ParserSyntaxError, UnicodeDecodeError):
            continue
    return tuple(parsed)


def _walks_in_libcst_order(module: cst.Module, walked: list[cst.CSTNode]) -> bool:
    visited = _libcst_order(module)
    walked_ids = {id(node) for node in walked}
    skipped = {type(node).__name__ for node in visited if id(node) not in walked_ids and not _is_layout(node)}
    return [node for node in visited if id(node) in walked_ids] == walked and not skipped


@pytest.mark.parametrize("every", EVERY)
def test_walk_sees_every_node_a_rule_reads_in_libcst_order(every: int) -> None:
    sources = parsed_sources(every)
    assert len(sources) > len(SOURCES) // (2 * every), "the fixtures parse"
    assert [name for name, module in sources if not _walks_in_libcst_order(module, list(walk(module)))] == []


def test_a_walk_that_skips_a_node_is_caught() -> None:
    """The comparison above fails for a walk that leaves out a kind of node a rule reads, or reorders."""
    module = cst.parse_module(SYNTAX)
    walked = list(walk(module))
    assert _walks_in_libcst_order(module, walked)
    assert not _walks_in_libcst_order(module, [node for node in walked if not isinstance(node, cst.Lambda)])
    assert not _walks_in_libcst_order(module, walked[1:] + walked[:1])


def test_traverse_calls_leave_after_the_children_and_can_skip_them() -> None:
    module = cst.parse_module("def f():\n    g(h())\n\ndef k():\n    m()\n")
    events: list[str] = []

    def enter(node: cst.CSTNode):
        if isinstance(node, (cst.FunctionDef, cst.Call)):
            name = node.name.value if isinstance(node, cst.FunctionDef) else cst.Module([]).code_for_node(node.func)
            events.append(f"enter {name}")
        return not (isinstance(node, cst.FunctionDef) and node.name.value == "k")

    def leave(node: cst.CSTNode) -> None:
        if isinstance(node, (cst.FunctionDef, cst.Call)):
            name = node.name.value if isinstance(node, cst.FunctionDef) else cst.Module([]).code_for_node(node.func)
            events.append(f"leave {name}")

    traverse(module, enter, leave)
    assert events == ["enter f", "enter g", "enter h", "leave h", "leave g", "leave f", "enter k", "leave k"]


def test_walk_prunes_below_but_yields_the_pruned_node() -> None:
    module = cst.parse_module("def f():\n    a()\n    def inner():\n        b()\n    c()\n")
    function = module.body[0]
    calls = [cst.Module([]).code_for_node(n.func) for n in walk(function.body, prune=(cst.FunctionDef,))
             if isinstance(n, cst.Call)]
    assert calls == ["a", "c"]
    assert any(isinstance(n, cst.FunctionDef) for n in walk(function.body, prune=(cst.FunctionDef,)))
