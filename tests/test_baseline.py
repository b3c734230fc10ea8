"""`--write-baseline` records today's findings; `--baseline` then fails only on new ones."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from poollint.cli import main

HEADER = (
    "from fastapi import FastAPI\n"
    "from prisma import Prisma\n\n"
    "app = FastAPI()\n"
)


def handler(name: str) -> str:
    return f"\n\n@app.get('/{name}')\nasync def {name}():\n    db = Prisma()\n    return db\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "api.py").write_text(HEADER + handler("users"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    code = main(["check", "--no-cache", *args])
    return code, capsys.readouterr().out


def _record(capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--no-cache", "--write-baseline", "poollint-baseline.json"]) == 0
    capsys.readouterr()


def test_write_baseline_exits_zero_and_records_hashes_not_lines(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--no-cache", "--write-baseline", "poollint-baseline.json"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "poollint: recorded 1 finding in poollint-baseline.json\n"
    document = json.loads((project / "poollint-baseline.json").read_text())
    [entry] = document["findings"]
    assert {k: entry[k] for k in ("code", "path", "count")} == {"code": "DBP101", "path": "app/api.py", "count": 1}
    assert "Prisma()" not in entry["line_hash"] + entry["context_hash"]
    assert "line" not in entry


def test_baselined_findings_pass(project: Path, capsys: pytest.CaptureFixture) -> None:
    _record(capsys)
    assert _check(capsys, "--baseline", "poollint-baseline.json") == (0, "")


def test_baseline_survives_lines_inserted_above(project: Path, capsys: pytest.CaptureFixture) -> None:
    _record(capsys)
    api = project / "app" / "api.py"
    api.write_text("import os\nimport sys\n\nTIMEOUT = 30\n" + HEADER + handler("users"))
    code, out = _check(capsys)
    assert (code, out.split(":")[1]) == (1, "13")  # the finding moved from line 9 to 13
    assert _check(capsys, "--baseline", "poollint-baseline.json") == (0, "")


def test_baseline_survives_code_moved_and_reindented(project: Path, capsys: pytest.CaptureFixture) -> None:
    _record(capsys)
    moved = handler("users").replace("    db = Prisma()\n", "    if True:\n        db = Prisma()\n")
    (project / "app" / "api.py").write_text(HEADER + "\n\nLIMIT = 5\n" + moved)
    assert _check(capsys, "--baseline", "poollint-baseline.json") == (0, "")


def test_new_finding_fails_and_only_it_is_reported(project: Path, capsys: pytest.CaptureFixture) -> None:
    _record(capsys)
    (project / "app" / "api.py").write_text(HEADER + handler("users") + handler("orders"))
    code, out = _check(capsys, "--baseline", "poollint-baseline.json")
    assert code == 1
    assert out == (
        "app/api.py:15:10: DBP101 `Prisma()` builds a new prisma connection pool on every call of `orders()` "
        "(a request handler)\n"
    )


def test_duplicates_are_counted(project: Path, capsys: pytest.CaptureFixture) -> None:
    api = project / "app" / "api.py"
    api.write_text(HEADER + handler("users") + handler("orders"))
    _record(capsys)
    entries = json.loads((project / "poollint-baseline.json").read_text())["findings"]
    assert sum(e["count"] for e in entries) == 2
    assert _check(capsys, "--baseline", "poollint-baseline.json") == (0, "")
    api.write_text(HEADER + handler("users") + handler("orders") + handler("items"))
    code, out = _check(capsys, "--baseline", "poollint-baseline.json")
    assert code == 1
    assert len(out.splitlines()) == 1


def test_baseline_paths_are_relative_to_the_baseline_file(project: Path, capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _record(capsys)
    monkeypatch.chdir(project / "app")
    assert _check(capsys, "--baseline", "../poollint-baseline.json", ".") == (0, "")


def test_baseline_with_other_formats(project: Path, capsys: pytest.CaptureFixture) -> None:
    _record(capsys)
    assert _check(capsys, "--baseline", "poollint-baseline.json", "--format", "json") == (0, "[]\n")


@pytest.mark.parametrize("content, fragment", [
    (None, "cannot read baseline"),
    ("not json", "is not valid JSON"),
    ('{"findings": []}', "is not a poollint baseline"),
    ('{"poollint_baseline": 1, "findings": [{"code": 1}]}', "malformed entry"),
])
def test_unreadable_baseline_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture,
                                              content: str, fragment: str) -> None:
    if content is not None:
        (project / "poollint-baseline.json").write_text(content)
    assert main(["check", "--no-cache", "--baseline", "poollint-baseline.json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("poollint: error: ") and fragment in err


def test_baseline_and_write_baseline_exclude_each_other(project: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["check", "--baseline", "a.json", "--write-baseline", "b.json"])
    assert raised.value.code == 2


def test_baseline_covers_configuration_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("poollint.engine.configcheck")
    (tmp_path / "schema.prisma").write_text(
        'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n'
    )
    url = "postgresql://app:FIXTURE-SECRET@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
    (tmp_path / ".env").write_text(f'DATABASE_URL="{url}"\n')
    monkeypatch.chdir(tmp_path)
    code, out = _check(capsys)
    assert code == 1 and out.startswith(".env:1:15: DBP402 ")
    _record(capsys)
    assert "FIXTURE-SECRET" not in (tmp_path / "poollint-baseline.json").read_text()
    (tmp_path / ".env").write_text(f'# production\nLOG_LEVEL=info\n\nDATABASE_URL="{url}"\n')
    assert _check(capsys, "--baseline", "poollint-baseline.json") == (0, "")
