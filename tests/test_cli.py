"""The command line as a user meets it: output, exit status, configuration, suppression."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PER_REQUEST
from poollint import __version__
from poollint.cli import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "api.py").write_text(PER_REQUEST)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text_output_and_exit_one(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check"]) == 1
    assert capsys.readouterr().out == (
        "app/api.py:8:10: DBP101 `Prisma()` builds a new prisma connection pool on every call of `users()` "
        "(a request handler)\n"
    )


def test_json_output_has_the_contract_keys(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--format", "json", "app"]) == 1
    [finding] = json.loads(capsys.readouterr().out)
    assert {k: finding[k] for k in ("code", "name", "path", "line", "column", "related")} == {
        "code": "DBP101", "name": "client-per-call", "path": "app/api.py", "line": 8, "column": 10, "related": [],
    }


def test_clean_project_exits_zero(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "api.py").write_text("from prisma import Prisma\n\ndb = Prisma()\n")
    assert main(["check"]) == 0
    assert capsys.readouterr().out == ""


def test_exit_zero_flag(project: Path) -> None:
    assert main(["check", "--exit-zero"]) == 0


def test_select_and_ignore(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--ignore", "DBP101"]) == 0
    assert main(["check", "--select", "DBP2"]) == 0
    assert main(["check", "--select", "DBP1"]) == 1


def test_noqa_suppresses_one_code(project: Path) -> None:
    api = project / "app" / "api.py"
    api.write_text(PER_REQUEST.replace("db = Prisma()", "db = Prisma()  # noqa: DBP101"))
    assert main(["check"]) == 0
    api.write_text(PER_REQUEST.replace("db = Prisma()", "db = Prisma()  # noqa: DBP102"))
    assert main(["check"]) == 1
    api.write_text(PER_REQUEST.replace("db = Prisma()", "db = Prisma()  # noqa"))
    assert main(["check"]) == 0


def test_pyproject_settings_are_found_walking_up(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.poollint]\nignore = ["DBP101"]\n')
    assert main(["check", "app/api.py"]) == 0


def test_per_file_ignores(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.poollint.per-file-ignores]\n"app/*.py" = ["DBP1"]\n')
    assert main(["check"]) == 0


def test_exclude(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.poollint]\nexclude = ["app"]\n')
    assert main(["check"]) == 0


def test_default_excludes_skip_virtualenvs(project: Path) -> None:
    venv = project / ".venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "vendored.py").write_text(PER_REQUEST)
    (project / "app" / "api.py").write_text("")
    assert main(["check"]) == 0


def test_unknown_key_is_an_error_naming_it(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text('[tool.poollint]\nselekt = ["DBP1"]\n')
    assert main(["check"]) == 2
    assert "unknown key `selekt`" in capsys.readouterr().err


def test_bad_value_is_an_error_naming_the_key(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text("[tool.poollint]\nmax-connections = 0\n")
    assert main(["check"]) == 2
    assert "`max-connections`" in capsys.readouterr().err


def test_invalid_toml_names_file_and_line(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text('[tool.poollint]\nselect = ["DBP1"\n')
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "pyproject.toml:2: invalid TOML: Unclosed array" in err
    (project / "pyproject.toml").write_text('[tool.poollint]\nselect = [DBP1]\n')
    assert main(["check"]) == 2
    assert "pyproject.toml:2:11: invalid TOML" in capsys.readouterr().err


def test_bad_catalog_extension_names_the_key(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.poollint]\n[[tool.poollint.clients]]\nlibrary = "mine"\nconstructors = ["x.y"]\nkindd = "pool"\n'
    )
    assert main(["check"]) == 2
    assert "unknown key `kindd`" in capsys.readouterr().err


def test_catalog_extension_adds_a_client(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.poollint]\n[[tool.poollint.clients]]\nlibrary = "acme-db"\nconstructors = ["acme.db.Pool"]\n'
    )
    (project / "app" / "api.py").write_text(
        "from acme.db import Pool\n\ndef handler(event, context):\n    return Pool().query()\n"
    )
    assert main(["check"]) == 1
    assert "acme-db connection pool" in capsys.readouterr().out


@pytest.mark.parametrize("outlives", [True, False])
def test_a_client_that_outlives_the_process_is_reported_in_a_synchronous_script(
        project: Path, capsys: pytest.CaptureFixture, outlives: bool) -> None:
    extension = "outlives-process = true\n" if outlives else ""
    (project / "pyproject.toml").write_text(
        '[tool.poollint]\n[[tool.poollint.clients]]\nlibrary = "acme-db"\nconstructors = ["acme.db.Connection"]\n'
        'kind = "connection"\nrelease = ["close"]\n' + extension
    )
    (project / "app" / "api.py").write_text(
        "from acme.db import Connection\n\nif __name__ == '__main__':\n    conn = Connection()\n    conn.query()\n"
    )
    assert main(["check", "--select", "DBP301"]) == (1 if outlives else 0)
    out = capsys.readouterr().out
    assert ("app/api.py:4:12: DBP301 `Connection()` opens an acme-db connection" in out) is outlives


def test_unknown_code_in_select_is_a_usage_error(project: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--select", "E501"])
    assert exit_info.value.code == 2


def test_missing_path_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_syntax_error_is_reported_and_the_run_goes_on(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "broken.py").write_text("import sqlalchemy\ndef f(:\n")
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "app/broken.py:2:7: DBP000 syntax error" in out
    assert "app/api.py:8:10: DBP101" in out


def test_undecodable_file_is_reported(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "latin.py").write_bytes(b"import sqlalchemy\nname = '\xff\xfe'\n")
    main(["check"])
    assert "app/latin.py:2:1: DBP000 cannot decode as utf-8" in capsys.readouterr().out


def test_rules_lists_every_rule(capsys: pytest.CaptureFixture) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "DBP101  client-per-call" in out and "DBP102  client-in-loop" in out


def test_explain_prints_the_documentation(capsys: pytest.CaptureFixture) -> None:
    assert main(["explain", "dbp101"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## DBP101 client-per-call")
    assert "### Use instead" in out and "lifespan" in out


def test_explain_unknown_code(capsys: pytest.CaptureFixture) -> None:
    assert main(["explain", "DBP999"]) == 2


def test_version(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"poollint {__version__}"


def test_two_runs_in_one_process_from_different_directories(tmp_path_factory: pytest.TempPathFactory,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture) -> None:
    """An editor or a test runner keeps poollint loaded: a relative path belongs to the current directory,
    and so does the project index its cross-file findings come from."""
    views = "from fastapi import FastAPI\n\nfrom app.db import make_engine\n\napp = FastAPI()\n\n\n" \
            "@app.get('/')\ndef index():\n    return make_engine()\n"
    for name, factory in (("with_factory", "from sqlalchemy import create_engine\n\n\n"
                                           "def make_engine():\n    return create_engine('postgresql://db/app')\n"),
                          ("without_factory", "def make_engine():\n    return None\n")):
        root = tmp_path_factory.mktemp(name)
        (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
        (root / "app").mkdir()
        (root / "app" / "db.py").write_text(factory)
        (root / "app" / "views.py").write_text(views)
        monkeypatch.chdir(root)
        status = main(["check", "app/views.py", "--no-cache"])
        out = capsys.readouterr().out
        assert (status, "DBP101" in out) == ((1, True) if name == "with_factory" else (0, False)), out


TASK_IN_TRANSACTION = '''from celery import shared_task
from django.db import transaction


@shared_task
def send_receipt(order_id):
    ...


def place_order(order):
    with transaction.atomic():
        order.save()
        send_receipt.delay(order.pk)
'''


def test_an_opt_in_rule_reports_only_when_selected_more_narrowly_than_dbp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "orders.py").write_text(TASK_IN_TRANSACTION)
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 0  # the default selection, DBP, leaves opt-in rules out
    assert main(["check", "--select", "DBP"]) == 0
    capsys.readouterr()
    assert main(["check", "--select", "DBP203"]) == 1
    assert capsys.readouterr().out.startswith("orders.py:13:9: DBP203 ")
    assert main(["check", "--select", "DBP2"]) == 1  # a prefix narrower than the whole tool selects it too
    assert main(["check", "--select", "DBP2", "--ignore", "DBP203"]) == 0
    (tmp_path / "pyproject.toml").write_text('[tool.poollint]\nextend-select = ["DBP203"]\n')
    assert main(["check"]) == 1
    (tmp_path / "pyproject.toml").write_text('[tool.poollint]\nselect = ["DBP"]\n')
    assert main(["check"]) == 0


def test_rules_listing_marks_opt_in_rules(capsys: pytest.CaptureFixture) -> None:
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert any(line.startswith("DBP203") and line.endswith("(opt-in)") for line in listing)
    assert not any(line.startswith("DBP101") and "(opt-in)" in line for line in listing)
