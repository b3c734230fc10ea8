"""One meaning of an import for every reader (python/names.py): the index's `ast` reader, the rules'
libcst context, the screen and the bytes scan of unread files agree on what each statement names."""
from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest

from poollint.python.cst.context import cst_import
from poollint.python.facts import read_module
from poollint.python.names import Importer, ast_import, imports_in_source, resolve_import
from poollint.settings import Settings

ROOTS = (("backend", frozenset({"shop"})),)

# (statement, importer module, is a package, what it binds)
CASES = [
    ("import sqlalchemy as sa", "app.db", False, {"sa": "sqlalchemy"}),
    ("import os.path", "app.db", False, {"os": "os"}),
    ("from .models import User", "app.views", False, {"User": "app.models.User"}),
    ("from . import models", "app", True, {"models": "app.models"}),
    ("from ..db import engine as main_engine", "app.api.routes", False, {"main_engine": "app.db.engine"}),
    ("from .db import engine", "views", False, {"engine": "db.engine"}),  # a top-level module's sibling
    ("from shop.db import engine", "backend.shop.views", False, {"engine": "backend.shop.db.engine"}),
    ("import shop.db as db", "backend.api", False, {"db": "backend.shop.db"}),
    ("from shop.db import engine", "tools.load", False, {"engine": "shop.db.engine"}),  # outside the root
    ("from .util import *", "database", True, {}),
]


@pytest.mark.parametrize("source, module, is_package, expected", CASES, ids=[c[0] for c in CASES])
def test_ast_and_libcst_statements_bind_the_same_names(source: str, module: str, is_package: bool,
                                                       expected: dict[str, str]) -> None:
    importer = Importer(module, is_package, ROOTS)
    from_ast = resolve_import(ast_import(ast.parse(source).body[0]), importer)
    statement = cst.parse_module(source).body[0].body[0]
    from_cst = resolve_import(cst_import(statement), importer)
    assert from_ast == from_cst
    assert from_ast.bindings == expected


def test_a_star_import_names_the_module_its_names_come_from() -> None:
    statement = cst.parse_module("from .util import *\n").body[0].body[0]
    assert resolve_import(cst_import(statement), Importer("database", True)).star_from == "database.util"


def test_the_index_reader_and_the_bytes_scan_name_the_same_imported_modules(tmp_path: Path) -> None:
    """A file the index reads and one it only scans for imports tell the project the same modules."""
    source = ("import os, json as j\nfrom sqlalchemy import create_engine\nfrom .models import (\n    User,\n"
              "    Order,\n)\nfrom . import db\n")
    facts = read_module(ast.parse(source), source, "app.views", "app/views.py", Settings().catalog)
    assert facts is not None
    scanned = imports_in_source(source.encode(), "app.views", "app/views.py")
    assert set(scanned) == set(facts.imports) == {
        "os", "json", "sqlalchemy", "sqlalchemy.create_engine", "app.models", "app.models.User", "app.models.Order",
        "app", "app.db"}
