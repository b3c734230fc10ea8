"""DBP201/DBP202 behaviour that fixtures cannot express: whole messages, docs, catalog extensions."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from poollint.cli import main
from poollint.engine.runner import analyze_python
from poollint.settings import Settings

CHAIN = '''
import requests
import sqlalchemy as sa

engine = sa.create_engine("postgresql://app@db/app")


def post(order):
    requests.post("https://warehouse.example/orders", json=order)


def notify_warehouse(order):
    post(order)


def place_order(order):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders VALUES (:id)"), order)
        notify_warehouse(order)
'''


def _messages(source: str, settings: Settings = Settings()) -> list[tuple[int, str, str]]:
    data = textwrap.dedent(source).lstrip().encode()
    findings, errors = analyze_python(Path("app.py"), "app.py", data, settings, screen=False)
    assert errors == 0
    return [(f.line, f.code, f.message) for f in findings]


def test_message_names_the_chain_the_transaction_and_the_cost() -> None:
    assert _messages(CHAIN) == [(
        18, "DBP201",
        "`notify_warehouse() -> post() -> requests.post()` (HTTP request without a timeout) runs inside the sqlalchemy transaction "
        "`engine.begin()` opened on line 16: its connection stays checked out, in an open transaction, "
        "for the whole wait",
    )]


def test_prisma_message_names_the_default_timeout() -> None:
    source = '''
    import httpx
    from prisma import Prisma

    db = Prisma()

    async def pay(payment):
        async with db.tx() as tx:
            await tx.payment.create(data=payment)
            httpx.post("https://bank.example", json=payment)
    '''
    assert _messages(source) == [(
        9, "DBP201",
        "`httpx.post()` (HTTP request, default timeout 5 s) runs inside the prisma transaction `db.tx()` opened on line 7: its "
        "connection stays checked out, in an open transaction, for the whole wait, and the transaction rolls "
        "back if it outlasts its 5 s default timeout",
    )]


def test_checkout_message_says_what_is_held() -> None:
    source = '''
    import time
    import asyncpg

    async def job(pool: asyncpg.Pool):
        async with pool.acquire() as conn:
            time.sleep(1)
    '''
    assert _messages(source) == [(
        6, "DBP202",
        "`time.sleep()` (sleep of 1 s) runs while `pool.acquire()` on line 5 holds a pooled asyncpg connection: "
        "the pool has one connection fewer for the whole wait",
    )]


def test_a_call_after_the_chain_depth_is_not_followed() -> None:
    deeper = (
        "def post(order):\n    deeper(order)\n\n\n"
        "def deeper(order):\n    again(order)\n\n\n"
        "def again(order):\n    requests"
    )
    source = CHAIN.replace("def post(order):\n    requests", deeper)
    assert "def again" in source
    assert _messages(source) == []


def test_explain_prints_the_documentation(capsys: pytest.CaptureFixture) -> None:
    assert main(["explain", "DBP201"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## DBP201 external-call-in-transaction\n")
    for fragment in ("### Why it exhausts the pool", "transaction.on_commit", "outbox", "5 s default timeout",
                     "Fire-and-forget", "### Use instead"):
        assert fragment in out, fragment


def test_explain_dbp202(capsys: pytest.CaptureFixture) -> None:
    assert main(["explain", "DBP202"]) == 0
    assert capsys.readouterr().out.startswith("## DBP202 external-call-while-holding-connection\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_catalog_extensions_add_a_transaction_an_external_call_and_background_work(
    project: Path, capsys: pytest.CaptureFixture
) -> None:
    (project / "pyproject.toml").write_text(textwrap.dedent('''
        [tool.poollint]
        [[tool.poollint.transactions]]
        library = "acme"
        functions = ["acme.db.unit_of_work"]

        [[tool.poollint.external-calls]]
        kind = "payment API"
        functions = ["acme.pay.charge"]

        [[tool.poollint.background]]
        functions = ["acme.jobs.later"]
    '''))
    (project / "app" / "orders.py").write_text(textwrap.dedent('''
        from acme.db import unit_of_work
        from acme.jobs import later
        from acme.pay import charge

        def checkout(order):
            with unit_of_work():
                order.save()
                charge(order.total)
                later(charge(order.total))
    '''))
    assert main(["check", "--no-cache"]) == 1
    assert capsys.readouterr().out == (
        "app/orders.py:9:9: DBP201 `charge()` (payment API) runs inside the acme transaction `unit_of_work()` "
        "opened on line 7: its connection stays checked out, in an open transaction, for the whole wait\n"
    )


def test_unknown_key_in_a_transactions_extension_is_an_error(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.poollint]\n[[tool.poollint.transactions]]\nlibrary = "acme"\nreceiver-name = ["db"]\n'
    )
    assert main(["check"]) == 2
    assert "unknown key `receiver-name`" in capsys.readouterr().err


PUBLISH = '''
from celery import shared_task
from django.db import transaction


@shared_task
def send_receipt(order_id):
    ...


def place_order(order):
    with transaction.atomic():
        order.save()
        send_receipt.delay(order.pk)
'''


def test_task_publish_is_reported_only_when_its_opt_in_rule_is_selected() -> None:
    assert _messages(PUBLISH) == []
    assert [(line, code) for line, code, _ in _messages(PUBLISH, Settings(select=("DBP2",)))] == [(13, "DBP203")]
    assert [(line, code) for line, code, _ in _messages(PUBLISH, Settings(select=("DBP203",)))] == [(13, "DBP203")]
    assert _messages(PUBLISH, Settings(select=("DBP2",), ignore=("DBP203",))) == []


def test_chain_into_other_modules_names_each_link_as_a_related_location() -> None:
    from conftest import FIXTURES
    from poollint.engine.runner import RunOptions, check_paths
    from poollint.settings import load_settings

    project = FIXTURES / "projects" / "DBP201_calls_into_other_modules"
    findings = check_paths([project], load_settings(project), options=RunOptions(cache=False, jobs=1)).findings
    related = {(Path(f.path).name, f.line): [(Path(r.path).as_posix().split("app/")[-1], r.line, r.message)
                                             for r in f.related] for f in findings}
    assert related[("views.py", 10)] == [
        ("services.py", 8, "calls `llm.complete()`"), ("clients/llm.py", 6, "`httpx.post()` waits here")]
    assert related[("plain.py", 8)] == [
        ("db.py", 10, "`engine.begin()` opens the transaction"),
        ("services.py", 8, "calls `llm.complete()`"), ("clients/llm.py", 6, "`httpx.post()` waits here")]


def test_only_the_branch_under_a_debug_setting_says_so() -> None:
    from conftest import FIXTURES

    source = (FIXTURES / "python" / "DBP201_debug_setting_branch.py").read_text()
    flagged = {line: "debug or test setting" in message for line, _, message in _messages(source)}
    assert flagged == {11: True, 15: False, 17: False}


def test_an_implicit_transactions_extension_names_its_models_query(project: Path, capsys: pytest.CaptureFixture) -> None:
    """An ORM of the project's own kind (`class Invoice(db.Model)` whose `Invoice.objects.first()` runs on
    `db.session`) is taught by the catalog as data, with the same meaning as Flask-SQLAlchemy's `query`."""
    (project / "pyproject.toml").write_text(textwrap.dedent('''
        [tool.poollint]
        [[tool.poollint.implicit-transactions]]
        library = "acme-orm"
        receivers = ["acme.orm.Database().session"]
        begin-methods = ["execute"]
        end-methods = ["commit", "rollback"]
        lazy-query-methods = ["where"]
        model-queries = ["acme.orm.Database().Model.objects"]
        model-session = "acme.orm.Database().session"
    '''))
    (project / "app" / "db.py").write_text("from acme.orm import Database\n\ndb = Database()\n")
    (project / "app" / "models.py").write_text("from app.db import db\n\n\nclass Invoice(db.Model):\n    pass\n")
    (project / "app" / "billing.py").write_text(textwrap.dedent('''
        import requests

        from app.db import db
        from app.models import Invoice


        def send_latest():
            invoice = Invoice.objects.where(paid=False).first()
            requests.post("https://mail.example.com/send", json={"id": invoice.id}, timeout=10)


        def send_after_commit():
            invoice = Invoice.objects.where(paid=False).first()
            db.session.commit()
            requests.post("https://mail.example.com/send", json={"id": invoice.id}, timeout=10)
    '''))
    assert main(["check", "--no-cache"]) == 1
    assert capsys.readouterr().out == (
        "app/billing.py:10:5: DBP202 `requests.post()` (HTTP request) runs while "
        "`Invoice.objects.where(paid=False).first()` on line 9 holds a pooled acme-orm connection: the session "
        "stays idle in transaction, its connection checked out, until it commits, rolls back or closes\n"
    )


def test_a_model_session_outside_the_receivers_is_an_error(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text(textwrap.dedent('''
        [tool.poollint]
        [[tool.poollint.implicit-transactions]]
        library = "acme-orm"
        receivers = ["acme.orm.Session"]
        begin-methods = ["execute"]
        end-methods = ["commit"]
        model-queries = ["acme.orm.Database().Model.objects"]
        model-session = "acme.orm.Database().session"
    '''))
    assert main(["check"]) == 2
    assert "`implicit-transactions.model-session` must name one of its `receivers`" in capsys.readouterr().err


@pytest.mark.parametrize("fixture, name, setting, wrong_value, reported", [
    # a helper that leaves a shared session's transaction open begins its caller's hold
    ("DBP202_shared_session_left_open_by_a_helper_positive", "portal", "session-helpers", '"yes"',
     "runs while `find_user()` on line 17 holds"),
    # Django keeps a request's pooled connection from its first query
    ("DBP202_django_pooled_connection_positive", "notes", "pool-holds", "1",
     "runs while `Note.objects.get()` on line 18 holds a pooled django connection"),
])
def test_an_opt_in_hold_is_judged_only_with_its_setting_on(
        tmp_path: Path, capsys: pytest.CaptureFixture, fixture: str, name: str, setting: str, wrong_value: str,
        reported: str) -> None:
    import shutil

    project = tmp_path / name
    shutil.copytree(Path(__file__).parent.parent / "fixtures" / "projects" / fixture, project,
                    ignore=shutil.ignore_patterns(".poollint_cache"))
    assert main(["check", "--no-cache", str(project)]) == 1  # the fixture turns it on
    assert reported in capsys.readouterr().out

    (project / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    assert main(["check", "--no-cache", str(project)]) == 0
    assert "DBP202" not in capsys.readouterr().out

    (project / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n[tool.poollint]\n{setting} = {wrong_value}\n')
    assert main(["check", "--no-cache", str(project)]) == 2
    assert f"`{setting}` must be true or false" in capsys.readouterr().err
