"""The index pass screens the files it parses, so that the runner need not parse them again.

Its verdict uses the catalog's words only; the project's own factories can still make a file
reportable, and the runner must notice.
"""
from __future__ import annotations

from pathlib import Path

from poollint.engine.index import build_index
from poollint.engine.runner import RunOptions, _indexed, _screen_from_index, check_paths
from poollint.settings import Settings

DB = '''\
import os
from sqlalchemy import create_engine


def make_engine():
    return create_engine(os.environ["DATABASE_URL"])
'''

# names sqlalchemy (so the index reads it) but calls no catalog constructor: only the
# project's factory, under another name, builds a pool here
VIEWS = '''\
from fastapi import FastAPI
from sqlalchemy import text

from .db import make_engine as build

app = FastAPI()


@app.get("/orders")
def orders():
    engine = build()
    return text(engine.pool.status())
'''

# names a constructor, so the index reads it, but calls none
PLAIN = '''\
from sqlalchemy import create_engine

__all__ = ["create_engine"]
'''


def _screen(index, path: Path, data: bytes, settings: Settings):  # type: ignore[no-untyped-def]
    """The runner's reading of the index pass's screen of these bytes."""
    return _screen_from_index(index, _indexed(index, path, data), path, data, settings)


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "db.py").write_text(DB)
    (app / "views.py").write_text(VIEWS)
    (app / "plain.py").write_text(PLAIN)
    return tmp_path


def test_a_file_only_the_projects_factory_makes_reportable_is_still_analyzed(tmp_path: Path) -> None:
    root = _project(tmp_path)
    index = build_index(root, Settings(), use_cache=False, wanted=frozenset({"app/views.py", "app/plain.py"}))
    verdict = index.screened.get("app/views.py")  # none when the module defines project words itself
    assert verdict is None or verdict.could_report is False  # the catalog alone sees nothing

    findings = check_paths([root], Settings(), options=RunOptions(cache=False, jobs=1)).findings
    assert [(Path(f.path).name, f.line, f.code) for f in findings if f.code == "DBP101"] == [("views.py", 11, "DBP101")]


def test_the_runner_trusts_the_index_only_for_the_same_bytes_and_no_factory_in_reach(tmp_path: Path) -> None:
    root = _project(tmp_path)
    settings = Settings()
    index = build_index(root, settings, use_cache=False, wanted=frozenset({"app/views.py", "app/plain.py"}))
    plain = root / "app" / "plain.py"
    trusted = _screen(index, plain, PLAIN.encode(), settings)
    assert trusted is not None and not trusted.could_report
    # edited between the two passes
    assert _screen(index, plain, (PLAIN + "x = 1\n").encode(), settings) is None
    # names a factory of the project
    assert _screen(index, root / "app" / "views.py", VIEWS.encode(), settings) is None


def test_a_file_importing_a_factorys_package_is_screened_again_only_where_it_spells_the_factory(
        tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app" / "plain.py").write_text("import app\n" + PLAIN)
    (root / "app" / "uses.py").write_text("import app\n" + PLAIN + "\nprint(app.db.make_engine)\n")
    settings = Settings()
    index = build_index(root, settings, use_cache=False, wanted=frozenset({"app/plain.py", "app/uses.py"}))
    for name in ("plain", "uses"):
        assert index.screened[f"app/{name}.py"].could_report is False  # the catalog alone sees nothing
    # the project's factory can change the verdict only where the file names it
    plain = _screen(index, root / "app" / "plain.py", (root / "app" / "plain.py").read_bytes(), settings)
    assert plain is not None and not plain.could_report
    assert _screen(index, root / "app" / "uses.py", (root / "app" / "uses.py").read_bytes(), settings) is None


def test_a_file_that_calls_nothing_is_only_parsed_and_stays_open_to_later_rounds(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app" / "broken.py").write_text("import sqlalchemy\ndef f(:\n")
    # the application loads it (one nothing loads is not reported: fixtures/projects/DBP000_unparsable_*)
    (root / "app" / "main.py").write_text("from app import broken\n\nif __name__ == '__main__':\n    broken.f()\n")
    # names a library but no catalog call: round one only parses it; it calls a factory, so round two indexes it
    (root / "app" / "jobs.py").write_text("import sqlalchemy\nfrom app.db import make_engine\n\nengine = make_engine()\n")
    wanted = frozenset({"app/broken.py", "app/jobs.py"})
    index = build_index(root, Settings(), use_cache=False, wanted=wanted)
    assert index.screened["app/broken.py"].could_report is True  # the runner reports the syntax error
    assert [c.via for c in index.modules["app.jobs"].clients] == ["app.db.make_engine"]

    findings = check_paths([root / "app" / "broken.py"], Settings(), options=RunOptions(cache=False, jobs=1)).findings
    assert [(f.line, f.code) for f in findings] == [(2, "DBP000")]


def test_a_reportable_file_comes_with_its_slice_so_ast_runs_once(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app" / "api.py").write_text(
        "from sqlalchemy import create_engine, text\n\n\ndef unrelated():\n    return 1\n\n\n"
        "def handler(event, context):\n    engine = create_engine('postgresql://db/app')\n"
        "    with engine.connect() as connection:\n        return connection.execute(text('select 1')).all()\n"
    )
    settings = Settings()
    index = build_index(root, settings, use_cache=False, wanted=frozenset({"app/api.py"}))
    data = (root / "app" / "api.py").read_bytes()
    screened = _screen(index, root / "app" / "api.py", data, settings)
    assert screened is not None and screened.could_report
    assert "def unrelated" not in screened.relevant_text and "def handler" in screened.relevant_text
    assert screened.relevant_text.count("\n") == data.decode().count("\n")  # findings keep their lines

    findings = check_paths([root / "app" / "api.py"], settings, options=RunOptions(cache=False, jobs=1)).findings
    assert [(f.line, f.code) for f in findings] == [(9, "DBP101")]


DEPS = '''\
from typing import Generator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

engine = create_engine("postgresql://app@db/app")


def get_db() -> Generator[Session, None, None]:
    with Session(engine) as session:
        yield session
'''

# `next()` of the project's session generator, and of an iterator of rows: both import sqlalchemy
JOBS = '''\
from sqlalchemy import text

from .deps import get_db


def nightly_cleanup():
    db = next(get_db())
    db.execute(text("DELETE FROM turns"))
    db.commit()
'''

ROWS = '''\
from sqlalchemy import text


def first_row(rows):
    return next(iter(rows), text("SELECT 1"))
'''


def test_a_next_call_is_analyzed_only_when_a_generator_of_the_project_may_give_a_session(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    app = tmp_path / "app"
    app.mkdir()
    for name, text in {"__init__.py": "", "deps.py": DEPS, "jobs.py": JOBS, "rows.py": ROWS}.items():
        (app / name).write_text(text)
    settings = Settings()
    index = build_index(tmp_path, settings, use_cache=False, wanted=frozenset({"app/jobs.py", "app/rows.py"}))
    # the index pass cannot tell which generators give sessions: both are left to the runner's screen
    for relative in ("app/jobs.py", "app/rows.py"):
        verdict = index.screened.get(relative)
        assert verdict is None or verdict.through_project or not verdict.could_report
    import poollint.engine.analyze as analyze

    findings, parsed = _files_reaching(analyze, "analyze_source", tmp_path, settings)
    assert findings == [("jobs.py", 7, "DBP304")]
    assert "rows.py" not in parsed and "jobs.py" in parsed


def _files_reaching(module, function: str, root: Path,
                    settings: Settings) -> tuple[list[tuple[str, int, str]], list[str]]:
    """The run's findings (file, line, code) and the files that reached `module.function` (the runner's
    analysis after the index pass: `analyze_file`; libcst: `analyze_source`)."""
    reached: list[str] = []
    real = getattr(module, function)

    def recording(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        reached.append(Path(path).name)
        return real(path, *args, **kwargs)

    setattr(module, function, recording)
    try:
        findings = check_paths([root], settings, options=RunOptions(cache=False, jobs=1)).findings
    finally:
        setattr(module, function, real)
    return [(Path(f.path).name, f.line, f.code) for f in findings], reached


def _analyzed_files(root: Path, settings: Settings) -> tuple[list[tuple[str, int, str]], list[str]]:
    """The run's findings and the files the runner read again after the index pass."""
    import poollint.engine.runner as runner

    return _files_reaching(runner, "analyze_file", root, settings)


# `.get()` on an object of another module: the index's facts take it for a shared session this module
# may leave open, but the project resolves it to a dict, so the module defines no word of the project
CONFIG = '''\
from sqlalchemy import text

from app.registry import settings_cache


def get_config(key):
    return settings_cache.get(key)


def select_one():
    return text("SELECT 1")
'''


def test_a_module_whose_words_resolve_to_none_keeps_the_index_verdict(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app" / "registry.py").write_text("settings_cache = {}\n")
    (root / "app" / "config.py").write_text(CONFIG)
    (root / "app" / "sessions.py").write_text(
        "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\n"
        "def find_user(user_id):\n    return db.session.get(dict, user_id)\n")
    settings = Settings()
    index = build_index(root, settings, use_cache=False, wanted=frozenset({"app/config.py", "app/sessions.py"}))
    config = index.modules["app.config"]
    assert config.defines_screen_words and not index.defines_screen_words(config, settings.catalog)
    # a helper that leaves a real shared session open is a word of the project: its module is screened again
    assert index.defines_screen_words(index.modules["app.sessions"], settings.catalog)

    findings, analyzed = _analyzed_files(root, settings)
    assert "config.py" not in analyzed and "sessions.py" in analyzed
    assert findings == [("views.py", 11, "DBP101")]


SERVICES = '''\
import requests


def notify(user):
    return {"user": user}


def push(user):
    requests.post("https://hooks.example/users", json={"user": user})
'''

# a transaction that calls a project function: only a function that may reach an external call makes it
# reportable, and the index pass cannot tell which one does until every module is read
APPROVE = '''\
from django.db import transaction

from app.services import {name}


def approve(user):
    with transaction.atomic():
        user.save()
        {name}(user)
'''


def test_a_transaction_calling_the_project_is_settled_by_the_names_it_calls(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app" / "services.py").write_text(SERVICES)
    (root / "app" / "quiet.py").write_text(APPROVE.format(name="notify"))
    (root / "app" / "loud.py").write_text(APPROVE.format(name="push"))
    # the views call both (a function nothing names never runs: engine/analyze.py)
    (root / "app" / "__init__.py").write_text("from app import loud, quiet\n\nAPPROVALS = [loud.approve, quiet.approve]\n")
    settings = Settings()
    index = build_index(root, settings, use_cache=False, wanted=frozenset({"app/quiet.py", "app/loud.py"}))
    for name, called in (("quiet", "app.services.notify"), ("loud", "app.services.push")):
        verdict = index.screened[f"app/{name}.py"]
        assert verdict.through_project and verdict.reaching_candidates == frozenset({called})

    findings, analyzed = _analyzed_files(root, settings)
    assert "quiet.py" not in analyzed and "loud.py" in analyzed
    assert [f for f in findings if f[0] != "views.py"] == [("loud.py", 9, "DBP201")]
