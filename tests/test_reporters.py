"""SARIF and GitHub annotations as code scanning and Actions read them."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import PER_REQUEST, ROOT
from poollint.cli import main
from poollint.findings import Finding, Location
from poollint.reporters import REPORTERS
from poollint.reporters.github import escape_data, escape_property
from poollint.reporters.sarif import public_text
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
        assert descriptor["help"] == {"text": public_text(rule.documentation()),
                                      "markdown": public_text(rule.documentation())}
        assert descriptor["help"]["text"].startswith(f"## {rule.code} {rule.name}\n")
        assert "Precision:" not in descriptor["help"]["text"] + descriptor["fullDescription"]["text"]
        assert "Measured precision" not in descriptor["help"]["text"]
        assert descriptor["defaultConfiguration"]["level"] == "error"
        assert descriptor["properties"]["precision"] == ("medium" if rule.opt_in else "high")
        assert descriptor["properties"]["problem.severity"] == "error"


def test_sarif_help_drops_the_measurement_notes_and_keeps_the_rest() -> None:
    """DBP101's documentation says how its precision was measured on our corpus: notes for maintainers."""
    rule = next(r for r in ALL_RULES if r.code == "DBP101")
    assert "Precision: measured" in rule.documentation() and "### Measured precision" in rule.documentation()
    help_text = public_text(rule.documentation())
    assert "Precision: measured" not in help_text and "Measured precision" not in help_text
    assert "### Why it exhausts the pool" in help_text and "### Use instead" in help_text


def test_sarif_help_uri_points_at_the_rule_docs(project: Path, capsys: pytest.CaptureFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POOLLINT_DOCS_URL", "https://example.org/poollint/rules.html")
    log = _sarif(capsys)
    jsonschema.validate(log, SCHEMA)
    [dbp101] = [r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "DBP101"]
    assert dbp101["helpUri"] == "https://example.org/poollint/rules.html#dbp101-client-per-call"


def test_sarif_related_locations_are_linked_from_the_message() -> None:
    findings = [Finding("DBP103", "duplicate-module-clients", "a pool for [db] here", "app/a.py", 3, 5,
                        related=(Location("app/b.py", 7, 1), Location("app/c.py", 2, 4)))]
    log = json.loads(REPORTERS["sarif"](findings))
    jsonschema.validate(log, SCHEMA)
    [result] = log["runs"][0]["results"]
    assert result["message"]["text"] == r"a pool for \[db\] here (see [app/b.py:7](1), [app/c.py:2](2))"
    assert [r["id"] for r in result["relatedLocations"]] == [1, 2]


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
        "region": {"startLine": 8, "startColumn": 10, "endLine": 8, "endColumn": 18},
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
    assert capsys.readouterr().out == (
        f"::error file=app/api.py,line=8,endLine=8,col=10,endColumn=18,title=DBP101 client-per-call::{MESSAGE}\n")


def test_github_job_summary_lists_every_finding_beyond_ten(project: Path, capsys: pytest.CaptureFixture,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub shows ten annotations per step; the rest would be lost without the job summary."""
    summary = project / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", "--format", "github", "--no-cache"]) == 1
    assert not summary.exists()  # one finding: the annotation is enough
    capsys.readouterr()
    for number in range(11):
        (project / "app" / f"api{number}.py").write_text(PER_REQUEST)
    assert main(["check", "--format", "github", "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert out.count("::error ") == 12
    assert "::notice title=poollint::12 findings" in out
    table = summary.read_text()
    assert table.startswith("### poollint: 12 findings\n")
    assert table.count("| DBP101 client-per-call |") == 12
    assert "`app/api7.py:8:10`" in table


def test_gitlab_code_quality_report(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--format", "gitlab", "--no-cache"]) == 1
    [issue] = json.loads(capsys.readouterr().out)
    assert issue["check_name"] == "DBP101 client-per-call"
    assert issue["description"] == f"DBP101 {MESSAGE}"
    assert issue["severity"] == "major"
    assert issue["location"] == {"path": "app/api.py", "lines": {"begin": 8, "end": 8}}
    before = issue["fingerprint"]
    (project / "app" / "api.py").write_text("import os\n\n" + PER_REQUEST)
    assert main(["check", "--format", "gitlab", "--no-cache"]) == 1
    [moved] = json.loads(capsys.readouterr().out)
    assert moved["location"]["lines"]["begin"] == 10
    assert moved["fingerprint"] == before  # lines inserted above do not make it a new issue


def test_github_escapes_workflow_command_syntax() -> None:
    finding = Finding("DBP103", "duplicate-module-clients", "100% of pools:\r\nsee a,b", "dir,x/a:b%.py", 2, 3)
    assert REPORTERS["github"]([finding]) == (
        "::error file=dir%2Cx/a%3Ab%25.py,line=2,endLine=2,col=3,title=DBP103 duplicate-module-clients::"
        "100%25 of pools:%0D%0Asee a,b\n"
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
