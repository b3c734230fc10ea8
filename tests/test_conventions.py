"""The command line's conventions a ruff or flake8 user expects, each through `poollint check` itself."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PER_REQUEST, ROOT
from poollint import __version__
from poollint.cli import main

POOLER_ENV = 'DATABASE_URL="postgresql://app:FIXTURE-SECRET@aws-0-eu.pooler.supabase.com:6543/postgres"\n'
# what tells poollint that Prisma reads DATABASE_URL (DBP402 asks for `pgbouncer=true` then)
SCHEMA = 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n'
SCRIPT = "from prisma import Prisma\n\nfor tenant in range(3):\n    Prisma()\n"  # DBP102 at 4:5


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "api.py").write_text(PER_REQUEST)
    (tmp_path / "schema.prisma").write_text(SCHEMA)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _lines(capsys: pytest.CaptureFixture) -> list[str]:
    return capsys.readouterr().out.splitlines()


# -- the same answer wherever it is asked from --------------------------------------------------
def test_per_file_ignores_and_exclude_are_anchored_at_the_configuration_folder(
        project: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "scripts").mkdir()
    (project / "scripts" / "seed.py").write_text(SCRIPT)
    (project / "scripts" / "legacy_import.py").write_text(SCRIPT)
    (project / "app" / "scripts").mkdir()
    (project / "app" / "scripts" / "seed.py").write_text(SCRIPT)  # not the root's scripts/: reported
    (project / "pyproject.toml").write_text(
        '[tool.poollint]\nexclude = ["scripts/legacy_*.py"]\n'
        '[tool.poollint.per-file-ignores]\n"scripts/*.py" = ["DBP102"]\n"app/api.py" = ["DBP101"]\n')
    assert main(["check", "--no-cache"]) == 1
    from_root = _lines(capsys)
    assert [line.split(": ")[0] for line in from_root] == ["app/scripts/seed.py:4:5"]
    monkeypatch.chdir(project / "app")
    assert main(["check", "--no-cache"]) == 1
    assert _lines(capsys) == ["scripts/seed.py:4:5: " + from_root[0].split(": ", 1)[1]]
    monkeypatch.chdir(project / "scripts")
    assert main(["check", "--no-cache", "."]) == 0  # seed.py ignored, legacy_import.py excluded, from inside
    assert main(["check", "--no-cache", "legacy_import.py"]) == 0
    assert main(["check", "--no-cache", "seed.py"]) == 0


def test_each_file_follows_its_nearest_configuration(project: Path, capsys: pytest.CaptureFixture) -> None:
    """A monorepo: the answer does not depend on the order of the paths."""
    for name, ignore in (("billing", "DBP101"), ("search", "DBP102")):
        package = project / "services" / name
        package.mkdir(parents=True)
        (package / "pyproject.toml").write_text(f'[tool.poollint]\nignore = ["{ignore}"]\n')
        (package / "api.py").write_text(PER_REQUEST)
        (package / "loop.py").write_text(SCRIPT)
    expected = ["services/billing/loop.py:4:5: DBP102", "services/search/api.py:8:10: DBP101"]
    for order in (["services/billing", "services/search"], ["services/search", "services/billing"], ["services"]):
        assert main(["check", "--no-cache", *order]) == 1
        assert [line.split(" ")[0] + " " + line.split(" ")[1] for line in _lines(capsys)] == expected, order


def test_built_in_excludes_apply_to_named_files(project: Path, capsys: pytest.CaptureFixture) -> None:
    """pre-commit names staged files one by one: `build/` stays skipped as `check .` skips it."""
    for folder in ("build", ".venv/lib", "node_modules/pkg"):
        (project / folder).mkdir(parents=True)
        (project / folder / "gen.py").write_text(PER_REQUEST)
    (project / "app" / "api.py").write_text("")
    assert main(["check", "--no-cache", "build/gen.py", ".venv/lib/gen.py", "node_modules/pkg/gen.py"]) == 0
    assert main(["check", "--no-cache", "."]) == 0


def test_ignore_wins_over_select(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--no-cache", "--select", "DBP101", "--ignore", "DBP101"]) == 0
    assert main(["check", "--no-cache", "--select", "DBP101", "--ignore", "DBP1"]) == 1  # the longer prefix wins
    (project / "pyproject.toml").write_text('[tool.poollint]\nselect = ["DBP1"]\nignore = ["DBP1"]\n')
    assert main(["check", "--no-cache"]) == 0


@pytest.mark.parametrize("comment, status", [
    ("# flake8: noqa", 0),
    ("# poollint: noqa", 0),
    ("# poollint: noqa: DBP101", 0),
    ("# poollint: noqa: DBP1", 0),
    ("# poollint: noqa: DBP2", 1),
    ("# flake8: noqa: DBP101", 1),  # flake8 reads a file-level noqa with codes as nothing at file level
])
def test_file_level_noqa(comment: str, status: int, project: Path) -> None:
    (project / "app" / "api.py").write_text(f"{comment}\n{PER_REQUEST}")
    assert main(["check", "--no-cache"]) == status


def test_file_level_noqa_in_a_configuration_file(project: Path) -> None:
    (project / ".env").write_text(POOLER_ENV)
    assert main(["check", "--no-cache", "--select", "DBP402"]) == 1
    (project / ".env").write_text("# poollint: noqa: DBP402\n" + POOLER_ENV)
    assert main(["check", "--no-cache", "--select", "DBP402"]) == 0


def test_malformed_noqa_is_a_warning(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "api.py").write_text(PER_REQUEST.replace("db = Prisma()", "db = Prisma()  # noqa DBP102"))
    assert main(["check", "--no-cache"]) == 0  # flake8 reads it as a bare noqa, and so do we
    err = capsys.readouterr().err
    assert "app/api.py:8: warning: `# noqa DBP102` is read as a bare `# noqa`" in err
    (project / "app" / "api.py").write_text(PER_REQUEST.replace("db = Prisma()", "db = Prisma()  # noqa: DBP-101"))
    main(["check", "--no-cache"])
    assert "app/api.py:8: warning: `# noqa: DBP-101` names no valid code" in capsys.readouterr().err
    (project / "app" / "api.py").write_text(PER_REQUEST.replace("db = Prisma()", "db = Prisma()  # noqa: DBP101"))
    main(["check", "--no-cache"])
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("comment", ["# noqa E501", "# noqa: 501", "# NOQA: detect if Pillow is installed"])
def test_another_tools_noqa_is_not_warned_about(project: Path, capsys: pytest.CaptureFixture, comment: str) -> None:
    (project / "app" / "api.py").write_text(PER_REQUEST.replace("app = FastAPI()", f"app = FastAPI()  {comment}"))
    main(["check", "--no-cache"])
    assert "warning" not in capsys.readouterr().err


# -- what a run prints ------------------------------------------------------------------------------
def test_summary_line_on_stderr(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "factory.py").write_text(
        "from flask import Flask\nfrom sqlalchemy import create_engine\n\napp = Flask(__name__)\n\n\n"
        "def make_engine():\n    return create_engine('postgresql://db/app')\n\n\n"
        "@app.route('/')\ndef index():\n    return make_engine()\n")
    assert main(["check", "--no-cache"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "poollint: 2 findings in 2 files; some rules reported have safe autofixes: see `--diff`\n"
    assert len(captured.out.splitlines()) == 2
    assert main(["check", "--no-cache", "--quiet"]) == 1
    assert capsys.readouterr().err == ""
    (project / "app" / "api.py").write_text("")
    (project / "app" / "factory.py").write_text("")
    assert main(["check", "--no-cache"]) == 0
    assert capsys.readouterr().err == "poollint: no findings in 3 files\n"  # schema.prisma too


def test_summary_knows_every_rule_with_an_autofix() -> None:
    from poollint.cli import AUTOFIX_CODES
    from poollint.engine.fixes import fixable_codes

    assert AUTOFIX_CODES == fixable_codes()


def test_statistics(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "other.py").write_text(PER_REQUEST)
    (project / "app" / "loop.py").write_text(SCRIPT)
    assert main(["check", "--no-cache", "--statistics"]) == 1
    assert capsys.readouterr().out == "2  DBP101  client-per-call\n1  DBP102  client-in-loop\n"


@pytest.mark.parametrize("flags", [["--show-source"], ["--output-format", "full"], ["--format", "full"]])
def test_show_source_with_the_fix_hint(flags: list[str], project: Path, capsys: pytest.CaptureFixture) -> None:
    from poollint.rules import RULES_BY_CODE

    assert main(["check", "--no-cache", *flags]) == 1
    out = capsys.readouterr().out
    assert out.startswith("app/api.py:8:10: DBP101 `Prisma()` builds")
    assert "  |\n8 |     db = Prisma()\n  |          ^^^^^^^^\n" in out
    assert f"  = help: {RULES_BY_CODE['DBP101'].fix_hint}\n" in out


def test_show_source_never_prints_a_password(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / ".env").write_text(POOLER_ENV)
    assert main(["check", "--no-cache", "--show-source", "--select", "DBP4"]) == 1
    out = capsys.readouterr().out
    assert '1 | DATABASE_URL="postgresql://app:****@aws-0-eu.pooler.supabase.com:6543/postgres"' in out
    assert "FIXTURE-SECRET" not in out


def test_output_format_alias_and_output_file(project: Path, capsys: pytest.CaptureFixture) -> None:
    report = project / "reports" / "poollint.json"
    assert main(["check", "--no-cache", "--output-format", "json", "--output-file", str(report)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "poollint: 1 finding in 1 file; some rules reported have safe autofixes: see `--diff`\n"
    assert [f["code"] for f in json.loads(report.read_text())] == ["DBP101"]


def test_exclude_extend_exclude_and_extend_select(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "scripts").mkdir()
    (project / "scripts" / "loop.py").write_text(SCRIPT)
    (project / "pyproject.toml").write_text('[tool.poollint]\nexclude = ["scripts"]\nselect = ["DBP2"]\n')
    assert main(["check", "--no-cache"]) == 0
    assert main(["check", "--no-cache", "--extend-select", "DBP1"]) == 1
    assert _lines(capsys) == ["app/api.py:8:10: DBP101 `Prisma()` builds a new prisma connection pool on every "
                              "call of `users()` (a request handler)"]
    assert main(["check", "--no-cache", "--extend-select", "DBP1", "--exclude", "app"]) == 1  # replaces `scripts`
    assert [line.split(":")[0] for line in _lines(capsys)] == ["scripts/loop.py"]
    assert main(["check", "--no-cache", "--extend-select", "DBP1", "--extend-exclude", "app/*.py"]) == 0


def test_version_short_flag(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["-V"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"poollint {__version__}\n"


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"]])
def test_help_has_examples_and_exit_codes(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(argv)
    out = capsys.readouterr().out
    assert "examples:\n  poollint check " in out
    assert "exit status:\n  0    no findings\n  1    findings" in out
    assert "130  interrupted (Ctrl-C)" in out


# -- standard input ---------------------------------------------------------------------------------
def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


def test_stdin_python_buffer_is_named_and_judged_unsaved(project: Path, capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, PER_REQUEST.replace("    db = Prisma()", "    # unsaved\n\n    db = Prisma()"))
    assert main(["check", "-", "--stdin-filename", "app/api.py"]) == 1
    assert _lines(capsys) == ["app/api.py:10:10: DBP101 `Prisma()` builds a new prisma connection pool on every "
                              "call of `users()` (a request handler)"]


@pytest.mark.parametrize("name, text, expected", [
    (".env", POOLER_ENV, ".env:1:15: DBP402"),  # the value's column, as for the file on disk
    ("docker-compose.yml", "services:\n  api:\n    environment:\n      DATABASE_URL: "
                           "postgres://app:FIXTURE-SECRET@db:6432/app\n", "docker-compose.yml:4:"),
    ("prisma/schema.prisma", 'datasource db {\n  provider = "postgresql"\n'
                             '  url = "postgresql://app:FIXTURE-SECRET@db.example.com/app"\n}\n',
     "prisma/schema.prisma:3:"),
    ("app/settings.py", "from sqlalchemy import create_engine\n\n"
                        "engine = create_engine('postgres://app:FIXTURE-SECRET@db/app')\n", "app/settings.py:3:"),
])
def test_stdin_dispatches_on_the_file_name(name: str, text: str, expected: str, project: Path,
                                           capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, text)
    assert main(["check", "-", "--stdin-filename", name, "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(expected), out
    assert "FIXTURE-SECRET" not in out


def test_stdin_buffer_of_an_excluded_file_is_not_reported(project: Path, capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "pyproject.toml").write_text('[tool.poollint]\nexclude = ["app"]\n')
    _stdin(monkeypatch, PER_REQUEST)
    assert main(["check", "-", "--stdin-filename", "app/api.py"]) == 0
    assert capsys.readouterr().out == ""


# -- --add-noqa -------------------------------------------------------------------------------------
def test_add_noqa_to_python_and_configuration_files(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "api.py").write_text(PER_REQUEST.replace("db = Prisma()", "db = Prisma()  # noqa: E501"))
    (project / "app" / "loop.py").write_text(SCRIPT)
    (project / "app" / "doc.py").write_text(
        "from prisma import Prisma\n\n\ndef handler(event, context):\n"
        "    return Prisma(datasource={'url': '''postgresql://h/db\n'''})\n")
    (project / ".env").write_text("# production\n" + POOLER_ENV)
    assert main(["check", "--no-cache", "--add-noqa"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "app/doc.py:5: the line ends inside a string" in captured.err
    assert captured.err.endswith("poollint: added 4 noqa comments in 4 files\n")
    assert "    db = Prisma()  # noqa: DBP101, E501\n" in (project / "app" / "api.py").read_text()
    assert (project / "app" / "loop.py").read_text().endswith("    Prisma()  # noqa: DBP102\n")
    # DBP405 too: `handler(event, context)` in app/doc.py makes it a Lambda deployment
    assert (project / ".env").read_text() == "# production\n# noqa: DBP402, DBP405\n" + POOLER_ENV
    assert (project / "schema.prisma").read_text() == SCHEMA.replace("  url ", "  // noqa: DBP403\n  url ")
    assert main(["check", "--no-cache", "--exclude", "app/doc.py"]) == 0
    assert main(["check", "--no-cache", "--add-noqa", "--exclude", "app/doc.py"]) == 0
    assert capsys.readouterr().err.endswith("poollint: added 0 noqa comments in 0 files\n")


# -- the cache --------------------------------------------------------------------------------------
def test_cache_dir_option_and_variable(project: Path, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("cache")
    monkeypatch.delenv("POOLLINT_CACHE_DIR", raising=False)
    assert main(["check", "--cache-dir", str(elsewhere / "a")]) == 1
    assert not (project / ".poollint_cache").exists()
    assert list((elsewhere / "a" / "files").rglob("*.json"))
    monkeypatch.setenv("POOLLINT_CACHE_DIR", str(elsewhere / "b"))
    assert main(["check"]) == 1
    assert list((elsewhere / "b" / "files").rglob("*.json"))
    assert not (project / ".poollint_cache").exists()


def test_stale_cache_entries_are_pruned_and_clean_removes_the_cache(
        project: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POOLLINT_CACHE_DIR", raising=False)
    assert main(["check"]) == 1
    files = project / ".poollint_cache" / "files"
    [current] = [d for d in files.iterdir() if d.is_dir()]
    old_version = files / "0123456789abcdef" / "ab" / "old.json"  # written by another poollint
    old_version.parent.mkdir(parents=True)
    old_version.write_text("{}")
    stale = current / "cd" / "stale.json"  # a file's content no run has seen for a month
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("{}")
    month_ago = stale.stat().st_mtime - 30 * 24 * 3600
    os.utime(stale, (month_ago, month_ago))
    (files / ".last-prune").unlink()  # pruning runs at most once a day
    assert main(["check"]) == 1
    assert not old_version.exists() and not stale.exists()
    assert [p.name for p in current.rglob("*.json")]  # the entry in use stays
    capsys.readouterr()
    assert main(["clean"]) == 0
    assert not (project / ".poollint_cache").exists()
    # a folder with no project marker belongs to the project the run started in: one cache
    assert capsys.readouterr().err.splitlines() == ["poollint: removed .poollint_cache"]
    assert main(["clean"]) == 0
    assert capsys.readouterr().err == "poollint: no cache to remove\n"


# -- configuration discovery ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["poollint.toml", ".poollint.toml"])
def test_poollint_toml_is_found(name: str, project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / name).write_text('ignore = ["DBP101"]\n')
    assert main(["check", "--no-cache"]) == 0
    (project / name).write_text('ignore = ["DBP101"]\nexclud = ["x"]\n')
    assert main(["check", "--no-cache"]) == 2
    assert f"{name}: unknown key `exclud` in the configuration; did you mean `exclude`?" in capsys.readouterr().err


def test_poollint_toml_wins_over_pyproject_in_the_same_folder(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.poollint]\nselect = ["DBP2"]\n')
    assert main(["check", "--no-cache"]) == 0
    (project / "poollint.toml").write_text('select = ["DBP1"]\n')
    assert main(["check", "--no-cache"]) == 1


def test_dotted_key_form_is_read(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool]\npoollint.ignore = ["DBP101"]\n')
    assert main(["check", "--no-cache", "app"]) == 0


def test_unknown_key_suggests_the_closest(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text('[tool.poollint]\nper-file-ignore = { "x.py" = ["DBP1"] }\n')
    assert main(["check"]) == 2
    assert ("unknown key `per-file-ignore` in [tool.poollint]; did you mean `per-file-ignores`?"
            in capsys.readouterr().err)


# -- a terminal -------------------------------------------------------------------------------------
def test_progress_on_a_terminal_then_ctrl_c_exits_130_with_one_line(tmp_path: Path) -> None:
    """A long cold run draws progress on stderr when it is a terminal; Ctrl-C (SIGINT to the whole
    process group, as a terminal sends it) ends it with exit status 130 and one line, no traceback."""
    pty = pytest.importorskip("pty")
    import select
    import signal

    source = PER_REQUEST + "".join(
        f"\n\n@app.get('/r{i}')\nasync def route_{i}():\n    with engine.begin() as conn:\n"
        f"        requests.post('https://example.org', json={i})\n    return Prisma()\n" for i in range(20))
    source = "import requests\nfrom sqlalchemy import create_engine\n" + source + "\nengine = create_engine('x')\n"
    for number in range(200):
        (tmp_path / f"module_{number}.py").write_text(source)
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "poollint", "check", "--no-cache", "-j", "2", "."],
                               cwd=tmp_path, stdin=follower, stdout=subprocess.DEVNULL, stderr=follower,
                               start_new_session=True,
                               # as in a terminal: a test runner may have been started with SIGINT ignored
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(follower)
    seen = b""
    try:
        while b"analysing" not in seen:
            ready, _, _ = select.select([leader], [], [], 120)
            assert ready, seen
            seen += os.read(leader, 4096)
        assert b"\rpoollint: analysing " in seen and b"/200 files" in seen
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 130
        while True:
            ready, _, _ = select.select([leader], [], [], 1)
            if not ready:
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    tail = seen.split(b"poollint: interrupted", 1)
    assert len(tail) == 2, seen
    assert b"Traceback" not in seen and tail[1].strip() == b""


def test_no_progress_when_stderr_is_not_a_terminal(project: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "poollint", "check", "--no-cache"], cwd=project,
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 1
    assert result.stderr == "poollint: 1 finding in 1 file; some rules reported have safe autofixes: see `--diff`\n"


# -- the settings reference -------------------------------------------------------------------------
def test_docs_settings_md_is_generated() -> None:
    from poollint.docs import render_settings_markdown

    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == render_settings_markdown()


def test_settings_reference_documents_every_key_with_an_example_that_loads(tmp_path: Path) -> None:
    from poollint.settings import _KEYS, SETTING_DOCS, load_settings

    assert {d.key for d in SETTING_DOCS} == set(_KEYS)
    for doc in SETTING_DOCS:
        assert doc.default and doc.description, doc.key
        text = doc.example if doc.example.startswith("[[") else f"[tool.poollint]\n{doc.example}\n"
        (tmp_path / "pyproject.toml").write_text(text)
        load_settings(tmp_path)  # raises SettingsError on a wrong example
