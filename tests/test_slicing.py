"""The slicer blanks out definitions no rule can report on, line for line, and loses no finding."""
from __future__ import annotations

import ast
from pathlib import Path

from poollint.engine.analyze import analyze_source
from poollint.engine.runner import _relevant_text
from poollint.python.screen import screen_words
from poollint.settings import Settings

SOURCE = '''\
import requests
import sqlalchemy as sa

engine = sa.create_engine("postgresql://app@db/app")


def unrelated(values):
    return sorted(values)


def post(order):
    requests.post("https://warehouse.example/orders", json=order)


def place(order):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders VALUES (:id)"), order)
        post(order)  # the chain needs post() kept


class Report:
    def render(self):
        return "report"


class Repository:
    def setUp(self):
        self.conn = engine.connect()

    def tearDown(self):
        self.conn.close()

    def helper(self):
        return 1
'''


def _sliced(source: str) -> str:
    settings = Settings()
    text = _relevant_text(source.encode(), ast.parse(source), screen_words(settings), settings)
    assert text is not None
    return text


def test_irrelevant_definitions_are_blanked_line_for_line() -> None:
    sliced = _sliced(SOURCE)
    original_lines, sliced_lines = SOURCE.splitlines(), sliced.splitlines()
    assert len(sliced_lines) == len(original_lines)
    kept = [i for i, line in enumerate(sliced_lines) if line == original_lines[i]]
    assert "def place(order):" in sliced and "def post(order):" in sliced  # transaction and its helper
    assert "def tearDown(self):" in sliced  # the tear-down of a kept class comes with it
    assert "def unrelated" not in sliced and "class Report" not in sliced and "def helper" not in sliced
    assert len(kept) < len(original_lines)
    ast.parse(sliced)  # still valid Python


def test_sliced_analysis_reports_what_the_whole_file_does(tmp_path: Path) -> None:
    settings = Settings()
    data = SOURCE.encode()
    whole, _ = analyze_source(Path("app.py"), "app.py", data, settings)
    sliced, _ = analyze_source(Path("app.py"), "app.py", data, settings, parse_text=_sliced(SOURCE))
    assert whole, "the example must have a finding to compare"
    assert [(f.line, f.column, f.code, f.message) for f in sliced] == \
        [(f.line, f.column, f.code, f.message) for f in whole]


def test_an_outline_partitioned_by_definition_holds_what_each_definition_walked_alone_holds():
    """The index's call summaries read each function through `Outline.partition` instead of walking
    it again: the two must see the same nodes, decorators, nested functions and lambdas included."""
    from poollint.pyast import Outline, dotted_name

    sources = [SOURCE, *(p.read_text() for p in sorted(Path(__file__).parents[1].glob("fixtures/python/*.py")))]
    compared = 0
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:  # the fixtures of DBP000
            continue
        definitions = [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for cls in (s for s in tree.body if isinstance(s, ast.ClassDef)):
            definitions += [m for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for definition, part in zip(definitions, Outline(tree).partition(definitions)):
            alone = Outline(definition)
            for kind in Outline._NODE_KINDS:
                assert {id(n) for n in getattr(part, kind)} == {id(n) for n in getattr(alone, kind)}, (
                    kind, definition.name)
            # the names of its attributes, drawn from the whole tree's, are the ones it names alone
            names = sorted(map(str, part.attribute_names()))
            assert names == sorted(map(str, alone.attribute_names())) == sorted(
                str(dotted_name(node)) for node in alone.attributes), definition.name
            compared += 1
    assert compared > 100


TEST_MODULE = '''\
import pytest
import sqlalchemy as sa

engine = sa.create_engine("postgresql://app@db/app")


@pytest.fixture
def connection():
    conn = engine.connect()
    yield conn


def test_counts_rows():
    conn = engine.connect()
    assert conn.execute(sa.text("SELECT 1")).scalar() == 1


class TestOrders:
    def setup_method(self):
        self.conn = engine.connect()

    def test_insert(self):
        conn = engine.connect()
        conn.execute(sa.text("INSERT INTO orders VALUES (1)"))
'''


def test_a_test_module_keeps_its_fixtures_and_set_up_but_not_the_bodies_of_its_tests(tmp_path: Path) -> None:
    """Every rule leaves test bodies alone, so libcst need not read them; their fixtures and set-up
    methods are DBP303's and stay. The same functions in a module that is not a test are kept."""
    settings = Settings()
    tree = ast.parse(TEST_MODULE)
    sliced = _relevant_text(TEST_MODULE.encode(), tree, screen_words(settings), settings, test_file=True)
    assert sliced is not None
    assert "def connection():" in sliced and "def setup_method(self):" in sliced
    assert "def test_counts_rows" not in sliced and "def test_insert" not in sliced
    assert len(sliced.splitlines()) == len(TEST_MODULE.splitlines())
    assert "def test_counts_rows" in _sliced(TEST_MODULE)  # not a test module: kept
    test_path = tmp_path / "tests" / "test_orders.py"
    whole, _ = analyze_source(test_path, "tests/test_orders.py", TEST_MODULE.encode(), settings)
    cut, _ = analyze_source(test_path, "tests/test_orders.py", TEST_MODULE.encode(), settings, parse_text=sliced)
    assert whole, "the fixture's connection must be reported to compare"
    assert [(f.line, f.code, f.message) for f in cut] == [(f.line, f.code, f.message) for f in whole]


def test_a_test_module_that_is_also_a_script_keeps_the_tests_its_own_code_runs() -> None:
    """`tests/trigger.py` whose main guard runs `test_trigger()`: the release rules judge that
    function as the script's code (a client it never closes on an error path), so it stays."""
    source = TEST_MODULE + '''

if __name__ == "__main__":
    test_counts_rows()
'''
    settings = Settings()
    sliced = _relevant_text(source.encode(), ast.parse(source), screen_words(settings), settings, test_file=True)
    assert sliced is not None and "def test_counts_rows" in sliced
