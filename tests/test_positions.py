"""python/cst/positions.py gives every node the position libcst's PositionProvider gives it.

A finding's line and column, its end, and the lines of related locations and of debug-flag
branches all come from there."""
from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from poollint.python.cst.positions import module_positions
from test_cstwalk import EVERY, parsed_sources

# line breaks of every kind, a backslash continuation, a string spanning lines, decorators and
# comments before a definition (its position starts at `def`, after them), a file without a
# final line break
BREAKS = ('import os\r\n\r\nx = (1,\r\n     2)\ry = """a\nb"""\n'
          'z = 1 + \\\n    2\n# comment\n@decorator\n\n@other(\n  1)\ndef f(a,\n      b): return a\nf(1, 2)')


def _provider_positions(module: cst.Module) -> dict:
    return dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))


def _positions_agree(module: cst.Module) -> bool:
    expected = _provider_positions(module)
    found = module_positions(module)
    return len(found) == len(expected) and all(found[node] == position for node, position in expected.items())


@pytest.mark.parametrize("every", EVERY)
def test_every_node_has_the_position_position_provider_gives(every: int) -> None:
    sources = [("breaks", cst.parse_module(BREAKS)), *parsed_sources(every)]
    assert [name for name, module in sources if not _positions_agree(module)] == []


def test_a_finding_deep_in_a_file_gets_its_line_and_columns() -> None:
    module = cst.parse_module("import requests\n\n\ndef f():\n    with tx():\n        requests.get(\n            url)\n")
    call = module.body[1].body.body[0].body.body[0].body[0].value
    position = module_positions(module)[call]
    assert (position.start.line, position.start.column, position.end.line, position.end.column) == (6, 8, 7, 16)
