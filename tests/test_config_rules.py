"""DBP4xx: every fixtures/config case announces its findings; parsers keep real semantics; no secret is printed."""
from __future__ import annotations

import functools

import contextlib
import io
from pathlib import Path

import pytest

from conftest import FIXTURES, expected_findings, expected_fragments
from poollint.cli import main
from poollint.config.dotenv import is_template, parse_dotenv
from poollint.config.prisma import parse_prisma
from poollint.config.urls import find_pooler, is_placeholder, mask, parse_url, password_problems
from poollint.engine.runner import RunOptions, check_paths
from poollint.reporters import REPORTERS
from poollint.settings import Settings, load_settings

pytestmark = pytest.mark.usefixtures("one_index_per_settings")

CONFIG_CASES = sorted(p for p in (FIXTURES / "config").iterdir() if p.is_dir())
OPTIONS = RunOptions(cache=False, jobs=1)


def _run(target: Path, settings: Settings = None):  # type: ignore[assignment]
    if settings is None and target.is_relative_to(FIXTURES):
        return _run_with_own_settings(target)
    settings = settings or load_settings(target if target.is_dir() else target.parent)
    return check_paths([target], settings, options=OPTIONS)


@functools.lru_cache(maxsize=None)
def _run_with_own_settings(target: Path):
    """A fixture case with the settings of its own directory: the cases do not change, and several
    tests (each case alone, all formats, all cases together) read the same run."""
    return check_paths([target], load_settings(target if target.is_dir() else target.parent), options=OPTIONS)


def _relative(path: str, case: Path) -> str:
    return Path(path).resolve().relative_to(case.resolve()).as_posix()


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda p: p.name)
def test_config_case_findings_match_annotations(case: Path) -> None:
    """Every `# expect:` annotation and nothing else, each with the message fragment it names."""
    findings = _run(case).findings
    found = {(_relative(f.path, case), f.line, f.code) for f in findings}
    expected = {
        (path.relative_to(case).as_posix(), line, code)
        for path in sorted(case.rglob("*")) if path.is_file()
        for line, code in expected_findings(path)
    }
    assert found == expected
    for path in sorted(p for p in case.rglob("*") if p.is_file()):
        for line, code, fragment in expected_fragments(path):
            messages = [f.message for f in findings
                        if (_relative(f.path, case), f.line, f.code) == (path.relative_to(case).as_posix(), line, code)]
            assert any(fragment in m for m in messages), (path.name, line, code, fragment, messages)


def test_every_config_rule_has_a_positive_case() -> None:
    codes = {code for case in CONFIG_CASES for path in case.rglob("*") if path.is_file()
             for _, code in expected_findings(path)}
    assert {f"DBP40{i}" for i in range(1, 10)} | {"DBP410", "DBP000"} <= codes


def test_staged_file_alone_uses_the_project_as_context() -> None:
    """pre-commit passes only `.env`; schema.prisma next to it still says Prisma reads DATABASE_URL."""
    case = FIXTURES / "config" / "DBP402_supabase_pooler"
    found = {(_relative(f.path, case), f.line, f.code) for f in _run(case / ".env").findings}
    assert found == {(".env", 2, "DBP402")}


def test_pgbouncer_version_before_1_21_still_reports() -> None:
    case = FIXTURES / "config" / "DBP402_supabase_pooler"
    for version, codes in (("1.20.1", ["DBP402"]), ("1.21", []), ("1.23.0", [])):
        findings = _run(case, Settings(pgbouncer_version=version)).findings
        assert [f.code for f in findings] == codes, version


def test_select_and_per_file_ignores_apply_to_config_findings() -> None:
    case = FIXTURES / "config" / "DBP406_misspelled_and_invalid_parameters"
    assert _run(case, Settings(ignore=("DBP406",))).findings == []
    assert _run(case, Settings(per_file_ignores=((".env", ("DBP4",)),))).findings == []
    assert len(_run(case, Settings(select=("DBP406",))).findings) == 5


# -- dotenv ------------------------------------------------------------------------------------
def test_dotenv_semantics() -> None:
    text = (
        "# comment\n"
        "export A=plain value  # trailing comment\n"
        "B='single ${A} kept'\n"
        'C="double ${A} and \\n escape"\n'
        "D=${MISSING:-fallback}/x\n"
        'E="line one\n'
        'line two"\n'
        "F=hash#inside\n"
        "A=second\n"
        "G=${A}\n"
        "H=${NOPE}\n"
        "BARE\n"
    )
    parsed = parse_dotenv(text)
    values = {k: (e.value, e.line) for k, e in parsed.values().items()}
    assert values == {
        "A": ("second", 9),
        "B": ("single ${A} kept", 3),
        "C": ("double plain value and \n escape", 4),
        "D": ("fallback/x", 5),
        "E": ("line one\nline two", 6),
        "F": ("hash#inside", 8),
        "G": ("second", 10),
        "H": ("${NOPE}", 11),
    }
    assert parsed.values()["H"].unresolved and not parsed.values()["G"].unresolved
    assert [e.key for e in parsed.entries].count("A") == 2
    assert parsed.errors == ()


def test_dotenv_errors_have_lines() -> None:
    parsed = parse_dotenv('OK=1\nthis is not an assignment\nX="open\n')
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (2, "line 2 is not an assignment (`NAME=value`)"),
        (3, 'unterminated " quote starting on line 3'),
    ]


def test_a_malformed_env_line_is_named_unmasked(tmp_path: Path) -> None:
    """The reason names the expected shape; the secret masker must not turn it into `KEY=****`."""
    (tmp_path / ".env").write_text("OK=1\nthis is not an assignment\n", encoding="utf-8")
    messages = [f.message for f in _run(tmp_path).findings]
    assert messages == ["cannot parse .env: line 2 is not an assignment (`NAME=value`)"]


def test_templates_and_placeholders() -> None:
    assert is_template(".env.example") and is_template(".env.sample") and not is_template(".env.production")
    for value in ("postgresql://USER:PASSWORD@HOST:PORT/DATABASE", "postgresql://u:<password>@h/db",
                  "postgresql://postgres:[YOUR-PASSWORD]@db.x.supabase.co:5432/postgres", "${DATABASE_URL}",
                  "postgresql://app:changeme@localhost/app"):
        assert is_placeholder(value), value
    assert not is_placeholder("postgresql://postgres:postgres@localhost:5432/app")


# -- URLs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("url, masked", [
    ("postgresql://app:FIXTURE-SECRET@db:5432/app", "postgresql://app:****@db:5432/app"),
    ("postgresql://app:FIXTURE-SECRET@2024#@db:5432/app", "postgresql://app:****@db:5432/app"),
    ("prisma://accelerate.prisma-data.net/?api_key=FIXTURE-SECRET", "prisma://accelerate.prisma-data.net/?api_key=****"),
    ("postgresql://db/app?sslmode=require&password=FIXTURE-SECRET&token=FIXTURE-SECRET",
     "postgresql://db/app?sslmode=require&password=****&token=****"),
    ("redis://FIXTURE-SECRET@cache:6379/0", "redis://****@cache:6379/0"),
    ("redis://:FIXTURE-SECRET@cache:6379/0", "redis://:****@cache:6379/0"),
    ("mongodb+srv://app:FIXTURE-SECRET@cluster0.example.net/app?secret=FIXTURE-SECRET",
     "mongodb+srv://app:****@cluster0.example.net/app?secret=****"),
    ("host=db user=app password=FIXTURE-SECRET dbname=app", "host=db user=app password=**** dbname=app"),
    ("postgresql://app@db/app", "postgresql://app@db/app"),
    ("postgresql://app:FIXTURE?SECRET@db:5432/app", "postgresql://app:****@db:5432/app"),
    ("postgresql://app:FIXTURE/SECRET@db:5432/app?sslmode=require", "postgresql://app:****@db:5432/app?sslmode=require"),
    ("postgresql://app:FIXTURE#SECRET@db/app", "postgresql://app:****@db/app"),
    ("postgresql://db/app?application_name=me@home", "postgresql://db/app?application_name=me@home"),
    ("postgresql://app:FIXTURE-SECRET/app", "postgresql://app:****/app"),
    ("postgresql://[::1]:5432/app", "postgresql://[::1]:5432/app"),
])
def test_mask(url: str, masked: str) -> None:
    assert mask(url) == masked
    assert "SECRET" not in mask(url)
    url_parts = parse_url(url)
    assert url_parts is None or not any("SECRET" in problem for problem in url_parts.problems)


def test_url_parts_as_drivers_see_them() -> None:
    url = parse_url("postgresql+asyncpg://app:p%40ss@db.example.com:6432/app?prepared_statement_cache_size=0&x=1&x=2")
    assert url is not None
    assert (url.dialect, url.driver, url.host, url.port, url.database, url.family) == (
        "postgresql", "asyncpg", "db.example.com", 6432, "app", "postgres")
    assert url.param("x") == "2" and url.problems == ()
    assert parse_url("mongodb://a:1,b:2/app?replicaSet=rs").problems == ()
    assert parse_url("postgresql://app:a/b@db/app").password_marks == "/"
    assert parse_url("postgresql://app:100%@db/app").password_marks == "%"
    assert parse_url("postgresql://app:100%25@db/app").password_marks == ""


# What each reader does with `postgresql://app:ab<char>cd@db.example.com:5432/app`, measured by
# calling sqlalchemy.engine.make_url 2.1, psycopg.conninfo.conninfo_to_dict 3.3 (libpq), asyncpg
# 0.32's connect_utils parser and Node's WHATWG URL (the parser of Prisma's engines): True when
# the reader gets the host or password wrong, or raises.
READER_BREAKS = {
    "sqlalchemy": {"@": True, "/": False, "#": False, "?": False, "[": False, "]": False, " ": False, "%": False},
    "psycopg": {"@": True, "/": True, "#": False, "?": False, "[": False, "]": False, " ": True, "%": True},
    "asyncpg": {"@": True, "/": True, "#": True, "?": True, "[": True, "]": True, " ": False, "%": False},
    "prisma": {"@": False, "/": True, "#": True, "?": True, "[": False, "]": False, " ": False, "%": False},
}


@pytest.mark.parametrize("library,char,breaks", [
    (library, char, breaks) for library, table in READER_BREAKS.items() for char, breaks in table.items()
], ids=lambda v: repr(v) if isinstance(v, str) and len(v) == 1 else str(v))
def test_password_character_per_reader(library: str, char: str, breaks: bool) -> None:
    password = "ab%zz" if char == "%" else f"ab{char}cd"
    url = parse_url(f"postgresql://app:{password}@db.example.com:5432/app")
    assert url is not None and url.host == "db.example.com"
    assert bool(password_problems(url, {library})) is breaks


def test_password_readers_unknown_and_driver_urls() -> None:
    """With no known reader only what breaks most of them (`@`, `/`); a `+driver` URL is SQLAlchemy's."""
    plain = parse_url("postgresql://app:a#b@cd@db.example.com/app")
    assert password_problems(plain, set()) == ["unencoded `@` in the password (percent-encode it)"]
    assert password_problems(parse_url("postgresql://app:a#b?c@db.example.com/app"), set()) == []
    driver = parse_url("postgresql+asyncpg://app:a#b?c@db.example.com/app")
    assert password_problems(driver, {"asyncpg", "sqlalchemy"}) == []
    both = password_problems(plain, {"prisma", "psycopg"})
    assert both == ["unencoded `@` in the password (percent-encode it) breaks libpq (psycopg)",
                    "unencoded `#` in the password (percent-encode it) breaks Prisma"]
    assert parse_url("not a url") is None


@pytest.mark.parametrize("url, kind, transaction", [
    ("postgresql://u:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres", "supabase", True),
    ("postgresql://u:p@aws-0-eu-central-1.pooler.supabase.com:5432/postgres", "supabase", False),
    ("postgresql://u:p@ep-cool-dawn-1-pooler.eu-central-1.aws.neon.tech/app", "neon", True),
    ("postgresql://u:p@bouncer.internal:6432/app", "pgbouncer", True),
    ("prisma+postgres://accelerate.prisma-data.net/?api_key=k", "accelerate", False),
])
def test_poolers(url: str, kind: str, transaction: bool) -> None:
    pooler = find_pooler(parse_url(url))
    assert pooler is not None and (pooler.kind, pooler.transaction_mode) == (kind, transaction)


@pytest.mark.parametrize("url", [
    "postgresql://u:p@db.abcdefgh.supabase.co:5432/postgres",
    "postgresql://u:p@ep-cool-dawn-1.eu-central-1.aws.neon.tech/app",
    "redis://cache:6432/0",
])
def test_not_poolers(url: str) -> None:
    assert find_pooler(parse_url(url)) is None


def test_prisma_schema_datasource() -> None:
    schema = parse_prisma(
        'datasource db {\n  provider = "postgresql" // c\n  url = env("DATABASE_URL")\n'
        '  directUrl = "postgresql://a:b@h/db" // note\n}\nenum Role { A B }\n'
    )
    (datasource,) = schema.datasources
    assert datasource.provider == "postgresql"
    assert [(u.field, u.line, u.env, u.literal) for u in datasource.urls] == [
        ("url", 3, "DATABASE_URL", None), ("directUrl", 4, None, "postgresql://a:b@h/db")]
    assert parse_prisma("datasource db {\n  url = env(\"X\")\n").error == (
        1, "the datasource block `db` opened on line 1 is never closed")


# -- never a secret, never a traceback --------------------------------------------------------
@pytest.fixture(scope="module")
def config_findings() -> list:
    """Every configuration case's findings, computed once for all the formats."""
    return [f for case in CONFIG_CASES for f in _run(case).findings]


@pytest.mark.parametrize("format_name", sorted(REPORTERS))
def test_no_output_format_contains_the_fixture_secret(format_name: str, config_findings: list) -> None:
    assert {f.code for f in config_findings} >= {"DBP401", "DBP404", "DBP410"}
    output = REPORTERS[format_name](config_findings)
    assert "FIXTURE-SECRET" not in output


def test_cli_output_has_no_secret(capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--no-cache", "--format", "json", str(FIXTURES / "config")]) == 1
    captured = capsys.readouterr()
    assert "FIXTURE-SECRET" not in captured.out + captured.err
    # every other format: through the CLI in tests/test_secrets.py, and on every case's findings above


MALFORMED = {
    "docker-compose.yml": b"services:\n  api: {environment: [\n",
    "compose.yaml": b"services:\n  api:\n    environment: !custom\n      DATABASE_URL: !Ref x\n    ports: !reset []\n",
    "serverless.yml": b"a: &a [*a]\n",
    "template.yaml": b"Resources: !If [a, b, c]\n" + b"[" * 5000 + b"\n",
    ".env": b"\xff\xfeDATABASE_URL=postgresql://x\n",
    ".env.production": b"DATABASE_URL=postgresql://a:b@h/db\x00\n",
    "schema.prisma": b"datasource db {\n  url = env(\n",
    "pgbouncer.ini": b"[pgbouncer]\npool_mode\n",
    "vercel.json": b"{" * 100000,
    "netlify.toml": b"[build\n",
    "zappa_settings.json": b"[1, 2]",
}


def test_malformed_files_give_findings_not_tracebacks(tmp_path: Path) -> None:
    for name, data in MALFORMED.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "deploy.yaml").write_bytes(b"apiVersion: v1\nkind: Deployment\nspec: [1\n")
    result = check_paths([tmp_path], Settings(), options=OPTIONS)
    assert result.internal_errors == 0
    by_file = {(Path(f.path).name, f.code) for f in result.findings}
    assert by_file == {
        ("docker-compose.yml", "DBP000"), ("template.yaml", "DBP000"), (".env", "DBP000"), ("serverless.yml", "DBP000"),
        (".env.production", "DBP000"), ("schema.prisma", "DBP000"), ("pgbouncer.ini", "DBP000"),
        ("vercel.json", "DBP000"), ("netlify.toml", "DBP000"), ("deploy.yaml", "DBP000"),
    }
    assert all(f.line >= 1 and f.message for f in result.findings)


# -- budget ------------------------------------------------------------------------------------
def test_budget_prints_the_table_for_a_compose_project() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["budget", str(FIXTURES / "config" / "DBP407_compose_replicas_workers")])
    text = out.getvalue()
    assert status == 1
    lines = [line.split() for line in text.splitlines()]
    assert ["api", "4", "4", "5", "10", "240"] == lines[2][:6]
    # a prefork Celery worker's two processes run one task, with one connection, each
    assert ["worker", "1", "2", "1", "0", "2"] == lines[3][:6]
    assert "total at peak: 242" in text
    assert "max_connections 100 (PostgreSQL default) - reserved 3 = 97 available" in text
    assert "verdict: EXCEEDED by 145" in text
    assert "FIXTURE-SECRET" not in text


def test_budget_takes_a_pool_the_code_does_not_size_from_the_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default pool of a Python library is the catalog's (`default-pool-size`, `default-overflow`), the
    one number DBP202 reads too: a catalog that says otherwise changes the budget."""
    from poollint.catalog.model import Catalog

    assert Settings().catalog.default_pool("sqlalchemy") == (5, 10)
    monkeypatch.setattr(Catalog, "default_pool", lambda self, library: (7, 3) if library == "sqlalchemy" else None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["budget", str(FIXTURES / "config" / "DBP407_compose_replicas_workers")])
    assert ["api", "4", "4", "7", "3", "160"] == [line.split() for line in out.getvalue().splitlines()][2][:6]


def test_budget_within_limits_exits_zero() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["budget", str(FIXTURES / "config" / "DBP407_ok_within_budget")])
    assert status == 0
    assert "verdict: ok (137 to spare)" in out.getvalue()
    assert "batch" not in out.getvalue()  # it talks to PgBouncer, not to PostgreSQL


# -- which library reads a variable ----------------------------------------------------------
def test_which_library_reads_a_variable() -> None:
    from poollint.config.project import DeploymentModel, scan_python

    source = b"""
import os
from os import getenv

import sqlalchemy as sa
from asyncpg import create_pool
from prisma import Prisma
from pydantic_settings import BaseSettings

URL = getenv("ANALYTICS_DATABASE_URL")
engine = sa.create_engine(os.environ["DATABASE_URL"])
reports = sa.create_engine(URL)
UNUSED = os.environ["CACHE_URL"]


class AppSettings(BaseSettings):
    events_database_url: str


settings = AppSettings()


async def start():
    return await create_pool(dsn=settings.events_database_url)

db = Prisma(datasource={"url": os.environ.get("PRISMA_DATABASE_URL")})
"""
    model = DeploymentModel(catalog=Settings().catalog)
    scan_python(model, "app.py", source, model.catalog)
    assert model.consumers == {
        "DATABASE_URL": {"sqlalchemy"},
        "ANALYTICS_DATABASE_URL": {"sqlalchemy"},
        "EVENTS_DATABASE_URL": {"asyncpg"},
        "PRISMA_DATABASE_URL": {"prisma"},
    }
    assert model.python_serverless == []


def test_lambda_handler_makes_the_project_serverless() -> None:
    from poollint.config.project import DeploymentModel, scan_python

    model = DeploymentModel(catalog=Settings().catalog)
    scan_python(model, "handler.py", b"def lambda_handler(event, context):\n    return 1\n", model.catalog)
    assert model.python_serverless == ["handler.py"] and model.is_serverless(None)
    assert not model.is_serverless(False)


def test_budget_for_kubernetes_uses_the_autoscaler_maximum() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["budget", str(FIXTURES / "config" / "DBP407_kubernetes_hpa")])
    assert status == 1
    rows = [line.split() for line in out.getvalue().splitlines()]
    assert ["api", "10", "4", "5", "10", "600"] == rows[2][:6]  # HPA maxReplicas 10, not replicas 3


def test_sibling_projects_do_not_leak_into_each_other() -> None:
    """One run over every case (a monorepo of unrelated projects) finds exactly what the cases find alone."""
    root = FIXTURES / "config"
    together = {(_relative(f.path, root), f.line, f.code) for f in _run(root, Settings()).findings
                if not _relative(f.path, root).startswith(("DBP402_ok_pgbouncer_version", "DBP405_ok_serverless_false",
                                                            "DBP407_kubernetes_hpa", "DBP406_env_files",
                                                            "DBP405_poollint_toml"))}
    alone = {(f"{case.name}/{path}", line, code) for case in CONFIG_CASES
             if not case.name.startswith(("DBP402_ok_pgbouncer_version", "DBP405_ok_serverless_false",
                                          "DBP407_kubernetes_hpa", "DBP406_env_files",
                                          "DBP405_poollint_toml"))  # they need their settings file
             for path, line, code in ((_relative(f.path, case), f.line, f.code) for f in _run(case).findings)}
    assert together == alone


def test_configuration_findings_point_at_the_value() -> None:
    """The column is where the URL starts, in .env (after the quote) and in compose (after the key)."""
    case = FIXTURES / "config" / "DBP402_interpolated_password_in_compose"
    columns = {(_relative(f.path, case), f.line): f.column for f in _run(case).findings}
    assert columns == {(".env", 3): len('DATABASE_URL="') + 1, ("docker-compose.yml", 7): len('      DATABASE_URL: "') + 1}


def test_dangling_env_symlink_is_not_an_error(tmp_path: Path) -> None:
    """A committed `.env` link to a file each developer creates later is skipped silently, named or walked."""
    (tmp_path / ".env").symlink_to(tmp_path / "missing" / ".env.local")
    (tmp_path / ".env.production").write_text('DATABASE_URL="postgresql://app:FIXTURE-SECRET@db.example.com/app"\n')
    assert _run(tmp_path).findings == []
    assert _run(tmp_path / ".env").findings == []


def test_serverless_message_prefers_vercel_json_over_next_config(tmp_path: Path) -> None:
    case = FIXTURES / "config" / "DBP405_nextjs_on_vercel_without_vercel_json"
    for name in ("next.config.mjs", "package.json", "schema.prisma", ".env.production"):
        (tmp_path / name).write_bytes((case / name).read_bytes())
    (tmp_path / "vercel.json").write_text('{"framework": "nextjs"}')
    messages = [f.message for f in _run(tmp_path).findings if f.code == "DBP405"]
    assert len(messages) == 1 and messages[0].endswith("/vercel.json)")


def test_a_url_handed_to_a_wrapper_in_another_module_gets_the_same_answer_from_flake8_and_stdin(
        tmp_path: Path) -> None:
    """flake8 and `check -` see one file; the wrapper that hands the URL to SQLAlchemy is in another module."""
    import shutil
    import subprocess
    import sys

    case = tmp_path / "project"
    shutil.copytree(FIXTURES / "config" / "DBP408_url_built_in_code", case)
    (case / "pyproject.toml").write_text("[project]\nname = 'project'\n")
    cli = {(_relative(f.path, case), f.line, f.code) for f in _run(case, load_settings(case)).findings}
    assert ("app/sessions.py", 17, "DBP408") in cli  # through app/db/engines.py's create_db_engine
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--select", "DBP", "app/sessions.py"], cwd=case,
                            capture_output=True, text=True, timeout=300)
    assert {(line.split(":")[0], int(line.split(":")[1]), line.split()[1]) for line in flake8.stdout.splitlines()} == cli
    source = (case / "app" / "sessions.py").read_text()
    stdin = subprocess.run([sys.executable, "-m", "poollint", "check", "--no-cache", "-", "--stdin-filename",
                            "app/sessions.py"], cwd=case, input=source, capture_output=True, text=True, timeout=300)
    assert {(line.split(":")[0], int(line.split(":")[1]), line.split()[1]) for line in stdin.stdout.splitlines()
            if line.startswith("app/")} == cli


@pytest.mark.parametrize("rebinding", ["url += '?sslmode=require'", "for url in urls: pass", "(url := urls[0])",
                                       "with open(path) as url: pass", "url = url.replace('a', 'b')"])
def test_a_url_name_rebound_before_the_library_reads_it_is_not_judged_as_the_literal(rebinding: str) -> None:
    from poollint.catalog import load_catalog
    from poollint.config.pyscan import python_facts

    source = ("from sqlalchemy import create_engine\n\n"
              "def engine(urls, path):\n"
              "    url = 'postgres://app@db/app'\n"
              f"    {rebinding}\n"
              "    return create_engine(url)\n")
    assert python_facts(source.encode(), load_catalog(), True).literals == ()
    kept = source.replace(f"    {rebinding}\n", "")
    assert python_facts(kept.encode(), load_catalog(), True).literals == ((4, "postgres://app@db/app", "sqlalchemy", False),)
