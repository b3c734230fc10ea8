"""One tree, one answer: `fixtures/surfaces/shop` gives the findings its `# expect:` comments announce
through `poollint check` from the root and from a subfolder, in any order of paths, and through flake8
as a project run and as editors call it. (pre-commit: tests/test_pre_commit.py.)

The tree holds a root `pyproject.toml` with `exclude` and `per-file-ignores`, a package with its own
`poollint.toml`, cross-file DBP103, a Python URL literal (DBP408) and a `.env` (DBP402)."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from conftest import FIXTURES, expected_findings
from poollint.cli import main
from poollint.javascript import JAVASCRIPT_SUFFIXES

SHOP = FIXTURES / "surfaces" / "shop"
# a Next.js application with Prisma: TypeScript code and its configuration
NODE_SHOP = FIXTURES / "surfaces" / "node-shop"
PYTHON = (".py",)


def expected_in(tree: Path) -> set[tuple[str, int, str]]:
    """(path relative to the tree, line, code) of every `# expect:` in the tree."""
    found = set()
    for path in sorted(tree.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".prisma", ".env", "", *JAVASCRIPT_SUFFIXES) and ".poollint_cache" not in path.parts:
            relative = path.relative_to(tree).as_posix()
            found |= {(relative, line, code) for line, code in expected_findings(path)}
    return found


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("same-answer") / "shop"
    shutil.copytree(SHOP, copy)
    return copy


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> Callable[..., set]:
    """`poollint check` run in `cwd`, as `main()` runs it for the console script (in process: cheaper)."""
    def run(cwd: Path, *args: str) -> set[tuple[str, int, str]]:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        assert main(["check", "--no-cache", "--format", "json", *args]) in (0, 1)
        return {(f["path"], f["line"], f["code"]) for f in json.loads(capsys.readouterr().out)}
    return run


@pytest.fixture
def flake8(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> Callable[..., set]:
    """`flake8 --select DBP` run in `cwd` through flake8's own entry point, in process."""
    from flake8.main.cli import main as flake8_main

    def run(cwd: Path, *args: str) -> set[tuple[str, int, str]]:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        assert flake8_main(["--select", "DBP", *args]) in (0, 1)
        return _parse_flake8(capsys.readouterr().out)
    return run


def _parse_flake8(out: str) -> set[tuple[str, int, str]]:
    found = set()
    for line in out.splitlines():
        path, number, _column, rest = line.split(":", 3)
        found.add((path.removeprefix("./"), int(number), rest.split()[0]))
    return found


def _flake8_stdin(cwd: Path, *args: str, stdin: str) -> set[tuple[str, int, str]]:
    """As an editor calls it: a separate process reading the buffer from its standard input."""
    result = subprocess.run([sys.executable, "-m", "flake8", "--select", "DBP", *args, "-"], cwd=cwd, input=stdin,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return _parse_flake8(result.stdout)


def _below(findings: set[tuple[str, int, str]], folder: str) -> set[tuple[str, int, str]]:
    return {(path[len(folder) + 1:], line, code) for path, line, code in findings if path.startswith(folder + "/")}


def test_the_tree_announces_findings_of_every_kind() -> None:
    codes = {code for _, _, code in expected_in(SHOP)}
    assert codes == {"DBP101", "DBP102", "DBP103", "DBP402", "DBP408"}


@pytest.mark.skipif(not __import__("poollint.javascript", fromlist=["is_available"]).is_available(),
                    reason="the js extra (tree-sitter) is not installed")
def test_a_node_project_gets_code_and_configuration_findings_from_the_root_and_subfolders(
        tmp_path: Path, cli: Callable[..., set]) -> None:
    tree = tmp_path / "node-shop"
    shutil.copytree(NODE_SHOP, tree)
    expected = expected_in(tree)
    assert cli(tree) == expected
    assert cli(tree / "app") == _below(expected, "app")
    assert cli(tree / "prisma") == _below(expected, "prisma")


def test_cli_from_the_root_and_from_subfolders(shop: Path, cli: Callable[..., set]) -> None:
    expected = expected_in(shop)
    assert cli(shop) == expected
    assert cli(shop / "app") == _below(expected, "app")
    assert cli(shop / "services" / "worker") == _below(expected, "services/worker")
    assert cli(shop / "scripts") == set()  # per-file-ignores of the root's pyproject.toml, from inside


def test_cli_answer_does_not_depend_on_the_order_of_paths(shop: Path, cli: Callable[..., set]) -> None:
    expected = {f for f in expected_in(shop) if f[0].startswith(("app/", "services/"))}
    assert cli(shop, "services", "app") == expected
    assert cli(shop, "app", "services") == expected


def test_flake8_from_the_root_and_from_a_subfolder(shop: Path, flake8: Callable[..., set]) -> None:
    expected = {f for f in expected_in(shop) if f[0].endswith(PYTHON)}
    assert flake8(shop, ".") == expected
    assert flake8(shop / "app", ".") == _below(expected, "app")


def test_flake8_as_editors_call_it(shop: Path) -> None:
    """An editor sends the buffer on stdin with its path (`--stdin-display-name`), from the project root."""
    for relative in ("app/reports.py", "scripts/seed.py"):
        text = (shop / relative).read_text()
        expected = {f for f in expected_in(shop) if f[0] == relative}
        assert _flake8_stdin(shop, "--stdin-display-name", relative, stdin=text) == expected, relative
    # older pylsp: `flake8 -` with no display name; the buffer is no second copy of app/db.py (no DBP103)
    assert _flake8_stdin(shop, stdin=(shop / "app" / "db.py").read_text()) == set()


def test_cli_stdin_as_editors_call_it(shop: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., set]) -> None:
    for relative in ("app/reports.py", "app/jobs.py", ".env", "legacy/old_api.py"):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((shop / relative).read_bytes())))
        assert cli(shop, "-", "--stdin-filename", relative) == {f for f in expected_in(shop) if f[0] == relative}


def test_cli_stdin_buffer_gives_the_columns_and_noqa_of_the_file(shop: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(shop)
    assert main(["check", "--no-cache", "--format", "json", ".env"]) == 1
    on_disk = [(f["line"], f["column"], f["code"]) for f in json.loads(capsys.readouterr().out)]
    text = (shop / ".env").read_text()
    for buffer, expected in ((text, on_disk), ("# noqa: DBP402\n" + text.split("\n", 1)[1], [])):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(buffer.encode())))
        main(["check", "--no-cache", "--format", "json", "-", "--stdin-filename", ".env"])
        assert [(f["line"], f["column"], f["code"]) for f in json.loads(capsys.readouterr().out)] == expected


def test_a_tree_without_project_markers_is_one_project(tmp_path: Path, cli: Callable[..., set],
                                                       flake8: Callable[..., set]) -> None:
    """No pyproject.toml, setup.cfg or .git anywhere above: the folder the run starts in is the project,
    so `from . import db_connect` in `jobs/queue/worker.py` finds the opener of `jobs/queue/__init__.py`
    (with a root per folder, the import was unresolved and the leak went unreported)."""
    tree = tmp_path / "unmarked"
    shutil.copytree(FIXTURES / "surfaces" / "unmarked", tree)
    assert not any((parent / ".git").exists() or (parent / "pyproject.toml").exists() for parent in tree.parents)
    expected = expected_in(tree)
    assert expected == {("jobs/queue/worker.py", 7, "DBP304")}
    assert cli(tree) == expected
    assert flake8(tree, ".") == expected


def test_a_home_folder_without_markers_is_not_one_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An editor may run flake8 with the home folder as its working directory: a file there without a
    project marker keeps its own folder as its project instead of indexing the whole home folder."""
    from poollint.engine.index import find_project_root

    home = tmp_path / "home"
    (home / "notes").mkdir(parents=True)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    assert find_project_root(home / "notes" / "scratch.py", within=home) == (home / "notes").resolve()
    assert find_project_root(home / "notes" / "scratch.py", within=home / "notes") == (home / "notes").resolve()
    work = tmp_path / "work"
    (work / "app" / "jobs").mkdir(parents=True)
    assert find_project_root(work / "app" / "jobs" / "run.py", within=work) == work.resolve()


def test_an_editor_buffer_checked_again_is_answered_from_the_cache_until_the_project_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """flake8 in an editor checks the file on every save: the second check of unchanged content reuses
    the first judgement, and a change in a module the judgement depends on is seen."""
    from poollint.engine import index, runner
    from poollint.settings import load_settings

    (tmp_path / "pyproject.toml").write_text("[tool.poollint]\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "db.py").write_text(
        "from sqlalchemy import create_engine\n\n\ndef get_engine():\n    return create_engine('postgresql://db/app')\n")
    api = tmp_path / "app" / "api.py"
    # a URL with a password: facts quoting it are never cached, and DBP408 must still be reported
    api.write_text("from fastapi import FastAPI\nfrom sqlalchemy import create_engine\n\nfrom app.db import get_engine\n\n"
                   "app = FastAPI()\nreplica = create_engine('postgres://app:FIXTURE-SECRET@replica/app')\n\n\n"
                   "@app.get('/users')\ndef users():\n    return get_engine().connect()\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings(tmp_path)

    def check() -> list[tuple[int, str]]:
        monkeypatch.setattr(index, "_PROCESS_INDEXES", {})  # each save starts a new flake8 process
        result = runner.check_buffer(Path("app/api.py"), api.read_bytes(), settings, runner.RunOptions(jobs=1))
        return [(f.line, f.code) for f in result.findings]

    assert check() == [(7, "DBP408"), (12, "DBP101")]
    judged = runner.analyze_file

    def not_again(*args: object, **kwargs: object) -> object:
        raise AssertionError("judged again although nothing changed")

    monkeypatch.setattr(runner, "analyze_file", not_again)
    assert check() == [(7, "DBP408"), (12, "DBP101")]
    (tmp_path / "app" / "db.py").write_text(
        "import functools\n\nfrom sqlalchemy import create_engine\n\n\n@functools.cache\ndef get_engine():\n"
        "    return create_engine('postgresql://db/app')\n")
    monkeypatch.setattr(runner, "analyze_file", judged)
    assert check() == [(7, "DBP408")]
