"""Fixture projects (several modules, one directory each): cross-file findings from every door."""
from __future__ import annotations

import functools
import json
import pickle
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, expected_findings, expected_fragments
from poollint.engine import runner
from poollint.engine.runner import RunOptions, check_paths
from poollint.settings import load_settings

PROJECTS = sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir())
FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>DBP\d{3}) (?P<message>.*)$")


def _python_files(project: Path) -> list[Path]:
    return sorted(p for p in project.rglob("*.py") if ".poollint_cache" not in p.parts)


def _expected(project: Path) -> set[tuple[str, int, str]]:
    return {
        (path.relative_to(project).as_posix(), line, code)
        for path in _python_files(project) for line, code in expected_findings(path)
    }


def _check(project: Path, cache: bool = False) -> list:
    if not cache:
        return list(_screened(project))
    settings = load_settings(project)
    return check_paths([project], settings, options=RunOptions(cache=cache, jobs=1)).findings


@functools.lru_cache(maxsize=None)
def _screened(project: Path) -> tuple:
    """An unchanged fixture project's uncached, screened findings: the tests that read them share one
    run per worker."""
    settings = load_settings(project)
    return tuple(check_paths([project], settings, options=RunOptions(cache=False, jobs=1)).findings)


# a worker's index is checked on every project with `-m slow`; the default suite takes those whose
# answers hold module facts once the cache is written (holder classes), and a cross-module chain
PICKLED_INDEX_IN_DEFAULT_SUITE = frozenset({
    "DBP304_connection_kept_by_a_wrapper_of_a_lazy_engine_positive",
    "DBP304_connection_kept_by_an_object_lent_to_a_helper_positive",
    "DBP304_session_kept_by_an_object_of_another_module", "DBP201_calls_into_other_modules",
})


@pytest.mark.parametrize("project", [
    pytest.param(p, id=p.name, marks=() if p.name in PICKLED_INDEX_IN_DEFAULT_SUITE else pytest.mark.slow)
    for p in PROJECTS])
def test_a_worker_given_the_index_finds_what_the_main_process_finds(project: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An analysis worker receives its project's index pickled (ProjectIndex.__getstate__: module facts
    as JSON texts, the answers worked out so far but those that hold module facts), with the cache on,
    whose compact form works out some of those answers before the workers start."""
    def findings(copy: Path) -> list[tuple[int, str, str]]:
        found = check_paths([copy], load_settings(copy), options=RunOptions(cache=True, jobs=1)).findings
        return [(_relative(copy, f), f.line, f.code, f.message) for f in found]

    in_this_process = findings(_copy(project, tmp_path / "main"))
    original = runner._init_worker

    def given_pickled(settings, indexes=None) -> None:
        original(settings, {root: pickle.loads(pickle.dumps(index)) for root, index in (indexes or {}).items()})

    monkeypatch.setattr(runner, "_init_worker", given_pickled)
    assert findings(_copy(project, tmp_path / "worker")) == in_this_process


def _relative(project: Path, finding) -> str:
    return (Path.cwd() / finding.path).resolve().relative_to(project.resolve()).as_posix()


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_project_findings_match_annotations_with_or_without_the_screen(project: Path) -> None:
    """Every `# expect:` annotation and nothing else, each with the message fragment it names; and the
    same findings without the screen: what another module defines (a factory, a client) widens the
    screen enough for every finding. One test, so that two workers do not each make the screened run."""
    findings = _check(project)
    assert {(_relative(project, f), f.line, f.code) for f in findings} == _expected(project)
    for path in _python_files(project):
        relative = path.relative_to(project).as_posix()
        for line, code, fragment in expected_fragments(path):
            messages = [f.message for f in findings
                        if _relative(project, f) == relative and f.line == line and f.code == code]
            assert any(fragment in m for m in messages), (relative, line, code, fragment, messages)
    unscreened = check_paths([project], load_settings(project), options=RunOptions(screen=False, cache=False, jobs=1))
    assert [(_relative(project, f), f.line, f.code, f.message) for f in findings] == \
        [(_relative(project, f), f.line, f.code, f.message) for f in unscreened.findings]


def test_duplicate_findings_name_the_other_sites_as_related_locations() -> None:
    project = FIXTURES / "projects" / "DBP103_two_modules_one_database"
    findings = [f for f in _check(project) if f.code == "DBP103"]
    related = {_relative(project, f): [(Path(r.path).name, r.line) for r in f.related] for f in findings}
    assert related == {"app/db.py": [("jobs.py", 6)], "app/jobs.py": [("db.py", 5)],
                       "app/billing.py": [("legacy.py", 4)], "app/legacy.py": [("billing.py", 3)]}


def _copy(project: Path, tmp_path: Path) -> Path:
    target = tmp_path / project.name
    shutil.copytree(project, target, ignore=shutil.ignore_patterns(".poollint_cache", "__pycache__"))
    return target


def _start_flake8(project: Path, *extra: str, target: str = ".") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flake8", "--select", "DBP", *extra, target], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish_flake8(process: subprocess.Popen) -> set[tuple[str, int, int, str, str]]:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode in (0, 1), stderr
    return _parse_flake8(stdout)


def _flake8(project: Path, *extra: str, target: str = ".") -> set[tuple[str, int, int, str, str]]:
    return _finish_flake8(_start_flake8(project, *extra, target=target))


def _parsed_by_flake8(cli: set[tuple[str, int, int, str, str]]) -> set[tuple[str, int, int, str, str]]:
    """What flake8 reports of the CLI's findings: not a file that does not parse, which flake8 reports
    itself (E999) without handing it to plugins."""
    return {finding for finding in cli if finding[3] != "DBP000"}


def _parse_flake8(stdout: str) -> set[tuple[str, int, int, str, str]]:
    found = set()
    for line in stdout.splitlines():
        match = FLAKE8_LINE.match(line)
        assert match, line
        path = match["path"][2:] if match["path"].startswith("./") else match["path"]
        found.add((path, int(match["line"]), int(match["col"]), match["code"], match["message"]))
    return found


# flake8's parallel workers start a process of their own per project (about half a second each): the
# default suite runs them on projects of each kind of cross-file finding, `-m slow` on every project
PARALLEL_FLAKE8_IN_DEFAULT_SUITE = frozenset({
    "DBP103_two_modules_one_database", "DBP201_calls_into_other_modules",
    "DBP304_session_kept_by_an_object_of_another_module", "DBP201_view_in_atomic_requests_positive",
})


@pytest.mark.parametrize("project", [
    pytest.param(p, id=p.name, marks=() if p.name in PARALLEL_FLAKE8_IN_DEFAULT_SUITE else pytest.mark.slow)
    for p in PROJECTS])
def test_flake8_in_parallel_reports_what_the_cli_reports(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    from poollint.cli import main

    copy = _copy(project, tmp_path)
    parallel_copy = _copy(project, tmp_path / "parallel")
    # the parallel run works in a copy of its own (its cache must not serve the CLI run) while that runs
    parallel = _start_flake8(parallel_copy, "-j", "2")
    monkeypatch.chdir(copy)
    assert main(["check", "--format", "json", "."]) in (0, 1)
    cli = {(f["path"], f["line"], f["column"], f["code"], f["message"]) for f in json.loads(capsys.readouterr().out)}
    assert _finish_flake8(parallel) == _parsed_by_flake8(cli)
    assert {(path, line, code) for path, line, _, code, _ in cli} == _expected(project)


# Serial flake8 beside the CLI costs two checks of a project (flake8 also runs its own checkers on every
# file): the default suite compares them on the projects with findings to compare (not the negative
# half of a pair, whose annotations say it reports nothing), `-m slow` on every project
@pytest.mark.parametrize("project", [
    pytest.param(p, id=p.name, marks=pytest.mark.slow if p.name.endswith("_negative") else ()) for p in PROJECTS])
def test_flake8_reports_what_the_cli_reports(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture) -> None:
    """The CLI and serial flake8 run in this process, through their own entry points (a process each
    costs more than the check); flake8's parallel workers: test_flake8_in_parallel_reports_what_the_cli_reports."""
    from flake8.main.cli import main as flake8_main

    from poollint.cli import main

    copy = _copy(project, tmp_path)
    monkeypatch.chdir(copy)
    assert main(["check", "--format", "json", "."]) in (0, 1)
    cli = {(f["path"], f["line"], f["column"], f["code"], f["message"]) for f in json.loads(capsys.readouterr().out)}
    assert {(path, line, code) for path, line, _, code, _ in cli} == _expected(project)
    assert flake8_main(["--jobs", "1", "--select", "DBP", "."]) in (0, 1)
    assert _parse_flake8(capsys.readouterr().out) == _parsed_by_flake8(cli)
    assert not [message for *_, message in cli if "FIXTURE-SECRET" in message]


def test_flake8_on_one_file_reports_cross_file_findings(tmp_path: Path) -> None:
    copy = _copy(FIXTURES / "projects" / "DBP103_two_modules_one_database", tmp_path)
    found = _flake8(copy, target="app/jobs.py")
    assert {(path, line, code) for path, line, _, code, _ in found} == {("app/jobs.py", 6, "DBP103")}
    assert (copy / ".poollint_cache" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_editing_a_file_gives_fresh_results(tmp_path: Path) -> None:
    copy = _copy(FIXTURES / "projects" / "DBP103_two_modules_one_database", tmp_path)
    before = {(f[0], f[3]) for f in _flake8(copy, target="app/db.py")}
    assert before == {("app/db.py", "DBP103")}
    jobs = copy / "app" / "jobs.py"
    original = jobs.read_text()
    jobs.write_text(original.replace('os.getenv("DATABASE_URL")', 'os.getenv("JOBS_DATABASE_URL")'))
    assert _flake8(copy, target="app/db.py") == set()
    both = {"app/db.py", "app/jobs.py"}
    assert {(_relative(copy, f), f.code) for f in _check(copy, cache=True) if _relative(copy, f) in both} == set()
    time.sleep(0.01)
    jobs.write_text(original)
    assert {(f[0], f[3]) for f in _flake8(copy, target="app/db.py")} == before
    assert {(_relative(copy, f), f.code) for f in _check(copy, cache=True) if _relative(copy, f) in both} == {
        ("app/db.py", "DBP103"), ("app/jobs.py", "DBP103")}


def test_editing_a_factory_gives_fresh_results(tmp_path: Path) -> None:
    copy = _copy(FIXTURES / "projects" / "DBP101_factory_from_another_module", tmp_path)
    assert ("app/api.py", 16, "DBP101") in {(f[0], f[1], f[3]) for f in _flake8(copy, target="app/api.py")}
    db = copy / "app" / "db.py"
    db.write_text(db.read_text().replace("def get_engine():", "@lru_cache\ndef get_engine():"))
    found = {(f[0], f[1], f[3]) for f in _flake8(copy, target="app/api.py")}
    assert ("app/api.py", 16, "DBP101") not in found
    assert ("app/api.py", 16, "DBP101") not in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}


def test_editing_a_class_that_holds_a_session_gives_fresh_results(tmp_path: Path) -> None:
    """Whether a class holds a session per object comes from its module and from the modules that build
    it: an edit of either is seen by the next cached run and by flake8 on the class's file alone."""
    copy = _copy(FIXTURES / "projects" / "DBP304_session_kept_by_objects_made_per_call", tmp_path)
    held = ("app/data.py", 12, "DBP304")
    assert held in {(f[0], f[1], f[3]) for f in _flake8(copy, target="app/data.py")}
    assert held in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    services = copy / "app" / "services.py"
    services.write_text(services.read_text() + "\n\ndef main():\n    ReportData().count()\n")
    api = copy / "app" / "api.py"
    original = api.read_text()
    api.write_text(original.replace("    return ReportService().summary()", "    return {}"))
    assert held not in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    assert held not in {(f[0], f[1], f[3]) for f in _flake8(copy, target="app/data.py")}
    time.sleep(0.01)
    api.write_text(original)
    data = copy / "app" / "data.py"
    data.write_text(data.read_text().replace(
        '        return self.session.execute(f"SELECT count(*) FROM {self.table}").scalar()',
        '        return self.session.execute(f"SELECT count(*) FROM {self.table}").scalar()\n\n'
        '    def close(self):\n        self.session.close()'))
    assert held not in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    assert held not in {(f[0], f[1], f[3]) for f in _flake8(copy, target="app/data.py")}


def test_a_file_the_screen_skipped_is_read_again_once_edited(tmp_path: Path) -> None:
    """A warm run does not read the files the last run over the same project files skipped at the screen;
    an edit of one, or of any other Python file of the project, makes every file count again."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "db.py").write_text("import os\nfrom sqlalchemy import create_engine\n\n"
                               "engine = create_engine(os.environ['DATABASE_URL'])\n")
    views = app / "views.py"
    views.write_text("from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/a')\ndef a():\n    return {}\n")
    settings = load_settings(tmp_path)
    runs = [check_paths([tmp_path], settings, options=RunOptions(cache=True, jobs=1)) for _ in range(3)]
    assert [(run.findings, run.files_checked) for run in runs] == [([], 3)] * 3
    time.sleep(0.01)
    views.write_text(views.read_text().replace("    return {}", "    return create_engine('postgresql://db/shop')")
                     .replace("from fastapi import FastAPI", "from fastapi import FastAPI\nfrom sqlalchemy import create_engine"))
    edited = check_paths([tmp_path], settings, options=RunOptions(cache=True, jobs=1))
    assert [(Path(f.path).name, f.code) for f in edited.findings] == [("views.py", "DBP101")]
    assert edited.files_checked == 3


def test_a_warm_run_from_another_directory_shows_paths_from_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cached results hold paths as shown from the working directory: a run started elsewhere over the same,
    unchanged files shows them from there."""
    copy = _copy(FIXTURES / "projects" / "DBP201_function_nothing_names_positive", tmp_path)
    from_above = copy.relative_to(tmp_path)
    settings = load_settings(copy)
    shown = {}
    for directory, target in ((copy, Path(".")), (tmp_path, from_above), (copy, Path("."))):
        monkeypatch.chdir(directory)
        for _ in range(2):
            found = check_paths([target], settings, options=RunOptions(cache=True, jobs=1)).findings
            shown.setdefault(directory, set()).add(tuple(sorted({f.path for f in found})))
    assert shown == {copy: {("app/jobs.py",)}, tmp_path: {(f"{from_above.as_posix()}/app/jobs.py",)}}


def test_a_text_file_that_starts_naming_a_function_gives_fresh_results(tmp_path: Path) -> None:
    """Whether anything names a function (that nothing names does not run) is read from every text file
    of the project, and a warm run keeps the answers while none of those files changed: an edit of a
    schedule file that starts naming the function is seen by the next cached run."""
    copy = _copy(FIXTURES / "projects" / "DBP201_function_nothing_names_negative", tmp_path)
    schedule = copy / "schedule.yml"
    schedule.write_text("jobs: []\n")
    reminders = ("app/jobs.py", 10, "DBP201")
    for _ in range(3):  # cold, warm (works the answers out), warm (reuses them)
        assert reminders not in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    time.sleep(0.01)
    schedule.write_text("jobs: [app.jobs.send_reminders]\n")
    assert reminders in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}


def test_a_function_returning_a_builder_of_clients_is_not_a_factory(tmp_path: Path) -> None:
    """Only the function's own statements count: the `return` of a nested function is not its return."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "db.py").write_text(
        "import os\nfrom sqlalchemy import create_engine\n\n\n"
        "def engine_builder(url):\n    def build():\n        return create_engine(url)\n    return build\n\n\n"
        "def make_engine():\n    return create_engine(os.environ['DATABASE_URL'])\n"
    )
    (app / "views.py").write_text(
        "from fastapi import FastAPI\n\nfrom app.db import engine_builder, make_engine\n\napp = FastAPI()\n\n\n"
        "@app.get('/a')\ndef a():\n    return engine_builder('sqlite://')\n\n\n"
        "@app.get('/b')\ndef b():\n    return make_engine()\n"
    )
    findings = _check(tmp_path)
    assert [(Path(f.path).name, f.line, f.code) for f in findings if f.code == "DBP101"] == [("views.py", 15, "DBP101")]


def test_a_setup_py_beside_the_packages_makes_one_project_and_one_inside_a_package_does_not(tmp_path: Path) -> None:
    """A tree without pyproject.toml or .git (an older project, an unpacked sdist): its setup.py marks the
    root, so modules of different packages are one project; `app/setup.py`, a module, marks nothing."""
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(name='shop')\n")
    for package, module in (("app", "db.py"), ("worker", "jobs.py")):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        loads_the_app = "from app import db  # the worker loads the web app's pool too\n" if package == "worker" else ""
        (tmp_path / package / module).write_text(
            f"import os\nfrom sqlalchemy import create_engine\n{loads_the_app}\n"
            "engine = create_engine(os.environ['DATABASE_URL'])\n")
    (tmp_path / "app" / "setup.py").write_text("def configure(app):\n    return app\n")
    found = {(_relative(tmp_path, f), f.code) for f in _check(tmp_path)}
    assert found == {("app/db.py", "DBP103"), ("worker/jobs.py", "DBP103")}


def test_a_new_caller_in_a_module_without_facts_gives_fresh_results(tmp_path: Path) -> None:
    """A helper judged run-once from its callers is judged again, not served from the cache, when a
    module that names no database library starts calling it per request: the cached result recorded
    the index's answer to "who imports this module", and that answer changed."""
    copy = _copy(FIXTURES / "projects" / "DBP101_helper_reached_only_from_run_once_elsewhere", tmp_path)
    helper = ("hub/dbutil.py", 6, "DBP101")
    assert helper not in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    (copy / "hub" / "status.py").write_text(
        "from fastapi import APIRouter\n\nfrom hub.dbutil import upgrade_schema\n\nrouter = APIRouter()\n\n\n"
        "@router.post('/upgrade')\ndef upgrade_now():\n    upgrade_schema('postgresql://hub@db/hub')\n"
    )
    assert helper in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    assert ("./" + helper[0], helper[1]) in {(f[0], f[1]) for f in _flake8(copy)} or \
        (helper[0], helper[1]) in {(f[0], f[1]) for f in _flake8(copy)}


def test_a_module_that_starts_loading_a_leftover_pool_gives_fresh_results(tmp_path: Path) -> None:
    """Two modules build the same pool, but no import chain loads both (the second is an old copy only a
    module nothing imports uses): no DBP103. When the routes, which name no database library, start
    importing that module, the next cached run and flake8 on the pool's file report both pools."""
    copy = _copy(FIXTURES / "projects" / "DBP103_leftover_engine_module_negative", tmp_path)
    both = {("app/db/base.py", 7, "DBP103"), ("app/db/database.py", 7, "DBP103")}
    assert both.isdisjoint({(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)})
    routes = copy / "app" / "api" / "routes.py"
    routes.write_text("from app.api.deps import get_session\n" + routes.read_text())
    assert both <= {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    assert ("app/db/database.py", 7, "DBP103") in {(f[0], f[1], f[3]) for f in _flake8(copy, target="app/db/database.py")}


def test_a_folder_that_becomes_a_source_root_gives_fresh_results(tmp_path: Path) -> None:
    """backend/views.py imports `shop.db`: an installed package until backend/shop/ appears, then the
    project's backend.shop.db, whose engine and factory the views use. A warm run must see the change
    in every module the index read before, as a cold run does."""
    source = FIXTURES / "projects" / "DBP201_backend_folder_is_a_source_root"
    copy = tmp_path / "project"
    (copy / "backend").mkdir(parents=True)
    shutil.copy(source / "pyproject.toml", copy)
    shutil.copy(source / "backend" / "shop" / "views.py", copy / "backend" / "views.py")
    assert _check(copy, cache=True) == []
    shutil.copytree(source / "backend" / "shop", copy / "backend" / "shop",
                    ignore=shutil.ignore_patterns("views.py", "__pycache__", ".poollint_cache"))
    warm = {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    assert warm == {("backend/views.py", 14, "DBP201"), ("backend/views.py", 19, "DBP101")}
    assert warm == {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=False)}


def _parsed_modules(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The modules parsed whole as "other modules" of the project (python/cst/modules.py) during a run."""
    import poollint.python.cst.modules as modules

    parsed: list[str] = []
    real_parse = modules.parse

    def counting(text: str):
        parsed.append(text.splitlines()[0] if text else "")
        return real_parse(text)

    monkeypatch.setattr(modules, "parse", counting)
    modules._LOADED.clear()
    return parsed


def test_a_transaction_calling_its_own_modules_names_does_not_parse_that_module_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A transaction calls names of its own module that are no function of it (a class, a module-level
    object): the rules look for them in the file as analysed, never by parsing
    the whole file a second time (a large views module took ~80 MB more per worker that way)."""
    project = tmp_path / "shop"
    (project / "shop").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (project / "shop" / "__init__.py").write_text("")
    (project / "shop" / "notify.py").write_text(
        "# notify module\nimport httpx\n\n\ndef send(order_id):\n    httpx.post('https://crm.example', json=order_id)\n")
    (project / "shop" / "views.py").write_text(
        "# views module\nimport functools\n\nfrom sqlalchemy import create_engine\n\nfrom shop.notify import send\n\n"
        "engine = create_engine('postgresql://db/shop')\nrecorder = functools.partial(print, 'order')\n\n\n"
        "class Audit:\n    def __init__(self, order_id):\n        self.order_id = order_id\n\n\n"
        "def place(order_id):\n    with engine.begin() as conn:\n        conn.execute('INSERT ...')\n"
        "        recorder(Audit(order_id))\n        send(order_id)  # expect: DBP201\n")
    parsed = _parsed_modules(monkeypatch)
    found = {(_relative(project, f), f.line, f.code) for f in _check(project)}
    assert ("shop/views.py", 21, "DBP201") in found  # the chain into notify.py still followed
    assert parsed == ["# notify module"]


def test_other_modules_kept_between_files_stay_within_a_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker keeps the other modules it parsed for the next files, up to a budget of source: the
    least recently used go first, and none is dropped while a file is being analysed."""
    import poollint.python.cst.modules as modules

    project = tmp_path / "shop"
    (project / "shop").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (project / "shop" / "__init__.py").write_text("")
    (project / "shop" / "db.py").write_text("from sqlalchemy import create_engine\n\nengine = create_engine('postgresql://db/shop')\n")
    padding = "".join(f"\n\ndef unused_{n}():\n    return {n}\n" for n in range(40))
    for name in ("billing", "mailer"):
        (project / "shop" / f"{name}.py").write_text(
            f"# {name} module\nimport httpx\n\n\ndef send(order_id):\n    httpx.post('https://x.example', json=order_id)\n"
            + padding)
        (project / "shop" / f"{name}_views.py").write_text(
            f"from shop.db import engine\nfrom shop.{name} import send\n\n\n"
            "def place(order_id):\n    with engine.begin() as conn:\n        send(order_id)  # expect: DBP201\n")
    one_module = len((project / "shop" / "billing.py").read_text())
    monkeypatch.setattr(modules, "LOADED_BUDGET_CHARS", one_module)
    parsed = _parsed_modules(monkeypatch)
    found = {(_relative(project, f), f.line, f.code) for f in _check(project)}
    assert found == _expected(project)
    assert sorted(parsed) == ["# billing module", "# mailer module"]
    modules.forget_loaded_modules()
    assert [key[0].rsplit("/", 1)[-1] for key in modules._LOADED] == ["mailer.py"]


NO_PROCESS_LOADS = FIXTURES / "projects" / "DBP201_module_no_process_loads_negative"
LEFTOVER_ROUTE = {("app/routes/orders.py", 14, "DBP201")}


def test_a_module_that_starts_being_loaded_gives_fresh_results(tmp_path: Path) -> None:
    """A route module the application no longer loads is silent; once the application imports it again,
    the next cached run and flake8 on the module report it (the silence is an answer of the index that
    the cached result records)."""
    copy = _copy(NO_PROCESS_LOADS, tmp_path)
    assert LEFTOVER_ROUTE.isdisjoint({(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)})
    main = copy / "app" / "main.py"
    main.write_text(main.read_text().replace("from fastapi import FastAPI\n",
                                             "from fastapi import FastAPI\n\nfrom app.routes import orders  # noqa: F401\n"))
    assert LEFTOVER_ROUTE <= {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    assert ("app/routes/orders.py", 14, "DBP201") in {(f[0], f[1], f[3]) for f in _flake8(copy, target="app/routes/orders.py")}


@pytest.mark.parametrize("change", [
    pytest.param(("Procfile", "web: uvicorn app.main:app\nclose: python -m app.routes.orders\n"), id="a Procfile names it"),
    pytest.param(("app/serverless.py", "from app.routes.orders import close_order\n\n\ndef lambda_handler(event, context):\n"
                                        "    return close_order(event['id'])\n"), id="a serverless handler imports it"),
    pytest.param(("app/plugins.py", "import importlib\n\n\ndef load(name):\n    return importlib.import_module(name)\n"),
                 id="the project loads modules by computed names"),
    pytest.param(("README.md", "Close an order by hand: `python -m app.routes.orders`.\n"), id="a README names it"),
])
def test_a_module_nothing_imports_is_reported_when_something_may_start_it(tmp_path: Path, change: tuple[str, str]) -> None:
    """What says a module nothing imports may still run: a file naming it, a module that shows it starts
    and imports it, loading by computed names anywhere in the project."""
    copy = _copy(NO_PROCESS_LOADS, tmp_path)
    relative, text = change
    target = copy / relative
    target.write_text((target.read_text() if target.exists() and relative.endswith(".py") else "") + text)
    assert LEFTOVER_ROUTE <= {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=False)}


def test_a_package_whose_start_the_project_does_not_show_is_reported(tmp_path: Path) -> None:
    """A library, or a project that shows no application start (only tests and modules): its modules
    run in processes poollint cannot see, so nothing is taken to be unloaded."""
    copy = _copy(NO_PROCESS_LOADS, tmp_path)
    (copy / "app" / "main.py").unlink()
    (copy / "Procfile").unlink()
    tests = copy / "tests"
    tests.mkdir()
    (tests / "test_db.py").write_text("from app.db import engine\n\n\ndef test_engine():\n    assert engine\n")
    assert LEFTOVER_ROUTE <= {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=False)}


@pytest.mark.parametrize("change", [
    pytest.param(("app/clock.py", 'def now():\n    return __import__("datetime").datetime.now()\n'), id="a literal import"),
    pytest.param(("tests/test_plugins.py", "import importlib\n\n\ndef test_load(name='app.db'):\n"
                                           "    assert importlib.import_module(name)\n"), id="a test's computed import"),
    pytest.param(("app/worker.py", "from celery import Celery\n\napp = Celery('shop')\napp.autodiscover_tasks()\n"),
                 id="Celery's task discovery"),
])
def test_what_loads_no_module_by_computed_names(tmp_path: Path, change: tuple[str, str]) -> None:
    """`__import__("datetime")` names one module (a library here), a test's imports run in tests only,
    Celery's discovery loads `tasks` modules: the leftover route stays unloaded."""
    copy = _copy(NO_PROCESS_LOADS, tmp_path)
    relative, text = change
    (copy / relative).parent.mkdir(exist_ok=True)
    (copy / relative).write_text(text)
    assert LEFTOVER_ROUTE.isdisjoint({(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=False)})


NOTHING_NAMES = FIXTURES / "projects" / "DBP201_function_nothing_names_negative"


def test_a_function_that_starts_being_called_gives_fresh_results(tmp_path: Path) -> None:
    """A job function nothing names is silent; once a route calls it, the next cached run and flake8 on
    its module report it (the silence is an answer of the index that the cached result records)."""
    copy = _copy(NOTHING_NAMES, tmp_path)
    reminder = ("app/jobs.py", 10, "DBP201")
    assert reminder not in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    main = copy / "app" / "main.py"
    main.write_text(main.read_text() + '\n\n@app.post("/reminders")\ndef remind():\n    jobs.send_reminders()\n')
    assert reminder in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=True)}
    assert reminder in {(f[0], f[1], f[3]) for f in _flake8(copy, target="app/jobs.py")}


def test_a_script_the_settings_exclude_still_calls_what_it_names(tmp_path: Path) -> None:
    """Excluding a folder from the checks does not stop its scripts from running: a job function only an
    excluded script calls is still judged (and so is a module only such a script names)."""
    copy = _copy(NOTHING_NAMES, tmp_path)
    (copy / "pyproject.toml").write_text((copy / "pyproject.toml").read_text() + '\n[tool.poollint]\nexclude = ["scripts"]\n')
    (copy / "scripts").mkdir()
    (copy / "scripts" / "remind.py").write_text(
        "from app.jobs import send_reminders\n\nif __name__ == '__main__':\n    send_reminders()\n")
    assert ("app/jobs.py", 10, "DBP201") in {(_relative(copy, f), f.line, f.code) for f in _check(copy, cache=False)}
