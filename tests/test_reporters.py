"""SARIF and GitHub annotations as code scanning and Actions read them."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import PER_REQUEST, ROOT
from poollint.cli import main
from poollint.engine.findings import Finding, Location
from poollint.reporters import REPORTERS
from poollint.reporters.github import escape_data, escape_property
from poollint.rules import ALL_RULES

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

MESSAGE = "`Prisma()` builds a new prisma connection pool on every call of `users()` (a request handler)"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "api.py").write_text(PER_REQUEST)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _sarif(capsys: pytest.CaptureFixture, *args: str) -> dict:
    assert main(["check", "--format", "sarif", "--no-cache", *args]) == 1
    return json.loads(capsys.readouterr().out)


def test_sarif_validates_against_the_official_schema(project: Path, capsys: pytest.CaptureFixture) -> None:
    log = _sarif(capsys)
    jsonschema.validate(log, SCHEMA)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_sarif_with_related_locations_and_odd_paths_validates() -> None:
    findings = [
        Finding("DBP101", "client-per-call", "a message", "app/my file%.py", 3, 5,
                related=(Location("app/jobs.py", 7, 1, "also built here"), Location("/abs/other.py", 2, 4))),
        Finding("DBP000", "not-analyzable", "syntax error: invalid syntax", "broken.py", 1, 1),
    ]
    log = json.loads(REPORTERS["sarif"](findings))
    jsonschema.validate(log, SCHEMA)
    first = log["runs"][0]["results"][0]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "app/my%20file%25.py", "uriBaseId": "%SRCROOT%",
    }
    assert first["relatedLocations"] == [
        {"id": 1, "physicalLocation": {"artifactLocation": {"uri": "app/jobs.py", "uriBaseId": "%SRCROOT%"},
                                       "region": {"startLine": 7, "startColumn": 1}},
         "message": {"text": "also built here"}},
        {"id": 2, "physicalLocation": {"artifactLocation": {"uri": "file:///abs/other.py"},
                                       "region": {"startLine": 2, "startColumn": 4}}},
    ]


def test_sarif_driver_lists_every_rule_with_its_documentation(project: Path, capsys: pytest.CaptureFixture) -> None:
    driver = _sarif(capsys)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "poollint"
    assert [r["id"] for r in driver["rules"]] == [rule.code for rule in ALL_RULES]
    for descriptor, rule in zip(driver["rules"], ALL_RULES):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary()
        assert descriptor["fullDescription"]["text"]
        assert descriptor["help"] == {"text": rule.documentation(), "markdown": rule.documentation()}
        assert descriptor["defaultConfiguration"]["level"] == "error"


def test_sarif_result_points_at_the_call(project: Path, capsys: pytest.CaptureFixture) -> None:
    run = _sarif(capsys)["runs"][0]
    [result] = run["results"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert result["ruleId"] == "DBP101"
    assert rule_ids[result["ruleIndex"]] == "DBP101"
    assert result["level"] == "error"
    assert result["message"] == {"text": MESSAGE}
    assert result["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "app/api.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 8, "startColumn": 10},
    }}]
    assert "relatedLocations" not in result


def test_sarif_fingerprint_survives_lines_inserted_above(project: Path, capsys: pytest.CaptureFixture) -> None:
    before = _sarif(capsys)["runs"][0]["results"][0]
    api = project / "app" / "api.py"
    api.write_text("import os\n\n\nLIMIT = 5\n" + PER_REQUEST)
    after = _sarif(capsys)["runs"][0]["results"][0]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 12
    assert after["partialFingerprints"] == before["partialFingerprints"]
    api.write_text(PER_REQUEST.replace("db = Prisma()", "db = Prisma(datasource={'url': 'x'})"))
    changed = _sarif(capsys)["runs"][0]["results"][0]
    assert changed["partialFingerprints"] != before["partialFingerprints"]


def test_sarif_fingerprints_tell_identical_lines_apart(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "api.py").write_text(PER_REQUEST + "\n" + PER_REQUEST.split("\n\n", 2)[2])
    results = _sarif(capsys)["runs"][0]["results"]
    prints = [r["partialFingerprints"]["poollint/v1"] for r in results]
    assert len(prints) == 2 and len(set(prints)) == 2


def test_github_annotation(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--format", "github", "--no-cache"]) == 1
    assert capsys.readouterr().out == f"::error file=app/api.py,line=8,col=10,title=DBP101::{MESSAGE}\n"


def test_github_escapes_workflow_command_syntax() -> None:
    finding = Finding("DBP103", "duplicate-module-clients", "100% of pools:\r\nsee a,b", "dir,x/a:b%.py", 2, 3)
    assert REPORTERS["github"]([finding]) == (
        "::error file=dir%2Cx/a%3Ab%25.py,line=2,col=3,title=DBP103::100%25 of pools:%0D%0Asee a,b\n"
    )
    assert escape_data("a%0A") == "a%250A"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_no_findings_is_still_well_formed(fmt: str, project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "app" / "api.py").write_text("from prisma import Prisma\n\ndb = Prisma()\n")
    assert main(["check", "--format", fmt, "--no-cache"]) == 0
    out = capsys.readouterr().out
    if fmt == "github":
        assert out == ""
    else:
        log = json.loads(out)
        jsonschema.validate(log, SCHEMA)
        assert log["runs"][0]["results"] == []
