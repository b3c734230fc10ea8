"""`--fix` and `--diff`: safe codemods, verified by re-analysis, never on a file that does not parse."""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest

from conftest import FIXTURES
from poollint.cli import main
from poollint.engine.baseline import fingerprint
from poollint.config.urls import mask_text
from poollint.engine.fixes import FIXERS, fix_file, fixable_codes
from poollint.engine.runner import RunOptions, check_paths
from poollint.settings import load_settings

FIXED_PAIRS = sorted(p for p in (FIXTURES / "python").rglob("*.fixed.py"))
pytestmark = pytest.mark.usefixtures("one_index_per_settings")


def _original(fixed: Path) -> Path:
    return fixed.with_name(fixed.name.replace(".fixed", "", 1))


def _findings(path: Path) -> list:
    settings = load_settings(path.parent)
    return check_paths([path], settings, options=RunOptions(cache=False, jobs=1)).findings


def _keyed(findings: list, path: Path) -> Counter:
    lines = path.read_text(encoding="utf-8").splitlines()
    return Counter((f.code, fingerprint(f, lines).line_hash) for f in findings)


# Configuration fixes need the project around the file (which library reads a URL): one directory per case,
# each fixed file next to its original as `<name>.fixed`.
CONFIG_CASES = sorted(p for p in (FIXTURES / "fixes").iterdir() if p.is_dir())


def test_every_fixer_has_a_fixture() -> None:
    fixed_codes = {_original(p).name.split("_")[0] for p in FIXED_PAIRS if p.suffix == ".py"}
    fixed_codes |= {case.name.split("_")[0] for case in CONFIG_CASES}
    assert fixed_codes == set(FIXERS)


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda p: p.name)
def test_config_fix_produces_the_fixed_siblings(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("poollint.engine.configcheck")
    code = case.name.split("_")[0]
    shutil.copytree(case, tmp_path / "case", ignore=shutil.ignore_patterns("*.fixed"))
    monkeypatch.chdir(tmp_path / "case")
    before = check_paths([Path(".")], load_settings(Path(".")), options=RunOptions(cache=False, jobs=1)).findings
    assert code in {f.code for f in before}
    assert main(["check", "--no-cache", "--diff", "."]) == 1
    diff = capsys.readouterr().out
    assert diff.startswith("--- a/") and "FIXTURE-SECRET" not in diff
    main(["check", "--no-cache", "--fix", "."])
    capsys.readouterr()
    siblings = sorted(case.rglob("*.fixed"))
    assert siblings
    for sibling in siblings:
        fixed = Path(sibling.relative_to(case).as_posix()[: -len(".fixed")])
        assert fixed.read_text(encoding="utf-8") == sibling.read_text(encoding="utf-8"), fixed
    after = check_paths([Path(".")], load_settings(Path(".")), options=RunOptions(cache=False, jobs=1)).findings
    assert code not in {f.code for f in after}
    assert {(f.path, f.code) for f in after} == {(f.path, f.code) for f in before if f.code != code}


@pytest.mark.parametrize("fixed", FIXED_PAIRS, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_fix_produces_the_fixed_sibling(fixed: Path) -> None:
    original = _original(fixed)
    result = fix_file(original, str(original), fixable_codes(), load_settings(original.parent))
    assert result is not None
    assert result.new_text == fixed.read_text(encoding="utf-8")


@pytest.mark.parametrize("fixed", FIXED_PAIRS, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_fixed_sibling_parses_and_loses_exactly_the_fixed_findings(fixed: Path) -> None:
    original = _original(fixed)
    if fixed.suffix == ".py":
        cst.parse_module(fixed.read_text(encoding="utf-8"))
    result = fix_file(original, str(original), fixable_codes(), load_settings(original.parent))
    assert result is not None and result.fixed
    before = _findings(original)
    after = _findings(fixed)
    fixed_code = _original(fixed).name.split("_")[0]
    assert {f.code for f in result.fixed} == {fixed_code}
    fixed_at = {(f.code, f.line, f.column) for f in result.fixed}
    remaining = [f for f in before if (f.code, f.line, f.column) not in fixed_at]
    assert len(remaining) == len(before) - len(result.fixed)
    assert _keyed(after, fixed) == _keyed(remaining, original)
    assert fix_file(fixed, str(fixed), fixable_codes(), load_settings(fixed.parent)) is None  # nothing left to fix


# -- DBP101 through the command line ---------------------------------------------------------------
FACTORY = '''\
"""Orders API."""
from flask import Flask
from sqlalchemy import create_engine, text

app = Flask(__name__)


def make_engine():  # one place for the URL
    return create_engine("postgresql://app:FIXTURE-SECRET@db/app")


@app.route("/orders")
def orders():
    engine = make_engine()
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT 1")).scalar())
'''

DIFF = '''\
--- a/app/api.py
+++ b/app/api.py
@@ -1,10 +1,13 @@
 """Orders API."""
+import functools
+
 from flask import Flask
 from sqlalchemy import create_engine, text
 
 app = Flask(__name__)
 
 
+@functools.cache
 def make_engine():  # one place for the URL
     return create_engine("postgresql://app:****@db/app")
 
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "api.py").write_text(FACTORY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_diff_prints_a_unified_diff_exits_one_and_writes_nothing(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--no-cache", "--diff"]) == 1
    out = capsys.readouterr().out
    assert out == DIFF
    assert "FIXTURE-SECRET" not in out
    assert (project / "app" / "api.py").read_text() == FACTORY


def test_diff_exits_zero_when_nothing_would_change(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "api.py").write_text(FACTORY.replace("def make_engine():", "def make_engine(url=None):"))
    assert main(["check", "--no-cache", "--diff"]) == 0
    assert capsys.readouterr().out == ""


def test_fix_writes_reports_and_exits_on_what_remains(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--no-cache", "--fix"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "poollint: fixed 1 finding in 1 file\npoollint: no findings in 1 file\n"
    text = (project / "app" / "api.py").read_text()
    assert text.startswith('"""Orders API."""\nimport functools\n\nfrom flask import Flask\n')
    assert "@functools.cache\ndef make_engine():  # one place for the URL\n" in text
    assert main(["check", "--no-cache"]) == 0


def test_fix_keeps_crlf_line_endings(project: Path, capsys: pytest.CaptureFixture) -> None:
    api = project / "app" / "api.py"
    api.write_bytes(FACTORY.replace("\n", "\r\n").encode())
    assert main(["check", "--no-cache", "--fix"]) == 0
    data = api.read_bytes()
    assert b"@functools.cache\r\ndef make_engine():" in data
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_fix_reuses_an_existing_functools_import(project: Path) -> None:
    api = project / "app" / "api.py"
    api.write_text(FACTORY.replace("from flask import Flask\n", "from functools import partial\n\nfrom flask import Flask\n"))
    assert main(["check", "--no-cache", "--fix"]) == 0
    text = api.read_text()
    assert "from functools import cache, partial\n" in text
    assert "@cache\ndef make_engine():" in text


@pytest.mark.parametrize("change", [
    ("def make_engine():", "async def make_engine():"),  # a cached coroutine can be awaited once
    ("def make_engine():", "@contextmanager\ndef make_engine():"),  # already wrapped
    ("    return create_engine(", "    yield create_engine("),  # a generator
    ("    engine = make_engine()\n", "    engine = make_engine()\n    engine.dispose()\n"),  # a caller ends its life
    ("    with engine.connect() as conn:", "    with make_engine() as e, engine.connect() as conn:"),
    ("app = Flask(__name__)\n", "app = Flask(__name__)\nfunctools = None\n"),  # the name means something else
    ("app = Flask(__name__)\n", "app = Flask(__name__)\nmake_engine = None\n"),  # the name is rebound
])
def test_no_fix_where_caching_could_change_behaviour(project: Path, capsys: pytest.CaptureFixture,
                                                      change: tuple[str, str]) -> None:
    changed = FACTORY.replace(*change)
    assert changed != FACTORY
    (project / "app" / "api.py").write_text(changed)
    assert main(["check", "--no-cache"]) == 1
    assert "DBP101" in capsys.readouterr().out
    assert main(["check", "--no-cache", "--diff"]) == 0
    assert capsys.readouterr().out == ""
    assert (project / "app" / "api.py").read_text() == changed


def test_prisma_factory_connected_by_its_caller_is_not_cached(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "api.py").write_text(
        "from fastapi import FastAPI\nfrom prisma import Prisma\n\napp = FastAPI()\n\n\n"
        "def get_db():\n    return Prisma()\n\n\n"
        "@app.get('/users')\nasync def users():\n    db = get_db()\n    await db.connect()\n"
        "    return await db.user.find_many()\n"
    )
    assert main(["check", "--no-cache"]) == 1
    capsys.readouterr()
    assert main(["check", "--no-cache", "--diff"]) == 0
    assert capsys.readouterr().out == ""


def test_file_with_a_parse_error_is_never_touched(project: Path, capsys: pytest.CaptureFixture) -> None:
    broken = FACTORY + "\ndef broken(:\n    pass\n"
    (project / "app" / "api.py").write_text(broken)
    assert main(["check", "--no-cache", "--fix"]) == 1
    assert (project / "app" / "api.py").read_text() == broken
    assert "DBP000" in capsys.readouterr().out


def test_fix_and_diff_exclude_each_other(project: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["check", "--fix", "--diff"])
    assert raised.value.code == 2


def test_write_baseline_with_fix_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--fix", "--write-baseline", "b.json"]) == 2
    assert capsys.readouterr().err == "poollint: error: --write-baseline cannot be combined with --fix or --diff\n"


def test_mask_secrets_in_diff_lines() -> None:
    assert mask_text('+DATABASE_URL="postgres://app:FIXTURE-SECRET@db:5432/app?password=x&sslmode=require"\n') == (
        '+DATABASE_URL="postgres://app:****@db:5432/app?password=****&sslmode=require"\n'
    )


def test_release_opened_in_another_block_is_not_moved(project: Path, capsys: pytest.CaptureFixture) -> None:
    source = (
        "import psycopg2\n\n\n"
        "def export(fresh):\n"
        "    if fresh:\n"
        "        conn = psycopg2.connect('dbname=app')\n"
        "    else:\n"
        "        conn = psycopg2.connect('dbname=archive')\n"
        "    print(conn.server_version)\n"
        "    conn.close()\n\n\n"
        "if __name__ == '__main__':\n"
        "    for attempt in range(3):  # retried: a failed attempt's connection stays open meanwhile\n"
        "        try:\n"
        "            export(True)\n"
        "            break\n"
        "        except psycopg2.OperationalError:\n"
        "            pass\n"
    )
    (project / "app" / "api.py").write_text(source)
    assert main(["check", "--no-cache", "--select", "DBP302"]) == 1
    assert capsys.readouterr().out.count("DBP302") == 2
    assert main(["check", "--no-cache", "--select", "DBP302", "--diff"]) == 0
    assert capsys.readouterr().out == ""
    assert (project / "app" / "api.py").read_text() == source


@pytest.mark.parametrize("fixed", FIXED_PAIRS, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_a_fix_reads_the_findings_data_not_its_wording(fixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rewording a rule's message (a translation, a clearer phrase) must not break its codemod."""
    from poollint.rules import RULES_BY_CODE

    rule = RULES_BY_CODE[_original(fixed).name.split("_")[0]]
    monkeypatch.setattr(rule, "message", "reworded: " + " ".join(f"<{{{name}}}>" for name in _fields_of(rule.message)))
    original = _original(fixed)
    result = fix_file(original, str(original), fixable_codes(), load_settings(original.parent))
    assert result is not None and result.new_text == fixed.read_text(encoding="utf-8")


def _fields_of(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]
