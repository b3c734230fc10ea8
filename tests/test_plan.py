"""Each rule's triggers are enough, and its requirement true: with a plan compiled from that rule
alone, the screen, the slicer and the rules the screen leaves out of a file (FileRule.requires) lose
none of its findings on its fixtures, its fixture projects and its example."""
from __future__ import annotations

import ast
import dataclasses
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, expected_findings
from poollint.engine import plan
from poollint.engine.runner import RunOptions, check_paths
from poollint.python.screen import EXTERNAL_CALLS, ScreenWords, Verdict, screen_verdict
from poollint.rules import file_rules
from poollint.rules.creation import ClientPerCall
from poollint.settings import Settings, load_settings

_FILE_HEADER = re.compile(r"^# (?P<path>[\w./-]+\.py)$", re.MULTILINE)
PYTHON_FIXTURES = sorted(p for p in (FIXTURES / "python").rglob("*.py") if not p.name.endswith(".fixed.py"))
PROJECTS = sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir())


def _write_example(source: str, directory: Path) -> Path:
    """A rule's example as files: one `example.py`, or a project rule's `# path.py`-headed files."""
    text = textwrap.dedent(source).strip() + "\n"
    (directory / "pyproject.toml").write_text("[tool.poollint]\n")
    headers = list(_FILE_HEADER.finditer(text))
    if len(headers) < 2:
        (directory / "example.py").write_text(text)
    for header, following in zip(headers, [*headers[1:], None]):
        target = directory / header["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text[header.end():following.start() if following else len(text)].strip() + "\n")
    return directory


def _annotated(code: str, tmp_path: Path) -> list[tuple[Path, Settings, set[tuple[str, int]]]]:
    """Where the fixtures expect the rule (test_fixtures.py and test_projects.py hold those annotations
    equal to an unscreened run): the single-file fixtures copied into one small project (each run
    indexes its project), and each fixture project as it is."""
    copies = tmp_path / "fixtures"
    cases = []
    expected: set[tuple[str, int]] = set()
    for path in PYTHON_FIXTURES:
        lines = {line for line, c in expected_findings(path) if c == code}
        if lines:
            copy = copies / path.relative_to(FIXTURES / "python")
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
            expected |= {(copy.resolve().as_posix(), line) for line in lines}
    if expected:
        (copies / "pyproject.toml").write_text("[tool.poollint]\n")
        cases.append((copies, load_settings(copies), expected))
    for project in PROJECTS:
        found = {(p.resolve().as_posix(), line) for p in project.rglob("*.py")
                 for line, c in expected_findings(p) if c == code}
        if found:
            cases.append((project, load_settings(project), found))
    return cases


def _alone(settings: Settings, code: str) -> Settings:
    return dataclasses.replace(settings, select=(code,), extend_select=(), ignore=())


def _found(path: Path, settings: Settings, screen: bool) -> set[tuple[str, int]]:
    findings = check_paths([path], settings, options=RunOptions(screen=screen, cache=False, jobs=1)).findings
    return {(Path(f.path).resolve().as_posix(), f.line) for f in findings}


def _lost_findings(code: str, tmp_path: Path) -> list[str]:
    """Where the rule reports unscreened (its annotations, its example) and not with its plan alone."""
    lost = []
    for path, settings, expected in _annotated(code, tmp_path):
        lost += [f"{Path(name).relative_to(path.resolve())}:{line}"
                 for name, line in sorted(expected - _found(path, _alone(settings, code), True))]
    rule = {r.code: r for r in file_rules()}[code]
    example = tmp_path / "example"
    example.mkdir()
    _write_example(rule.example, example)
    unscreened = _found(example, _alone(Settings(), code), False)
    assert unscreened, f"{code}'s example reports nothing even unscreened"
    lost += [f"example {name}:{line}" for name, line in sorted(unscreened - _found(example, _alone(Settings(), code), True))]
    return lost


@pytest.mark.parametrize("code", [rule.code for rule in file_rules()])
def test_a_plan_from_the_rule_alone_loses_none_of_its_findings(code: str, tmp_path: Path) -> None:
    lost = _lost_findings(code, tmp_path)
    assert not lost, f"{code}'s triggers miss what it reports on:\n" + "\n".join(lost)


def test_a_rule_whose_trigger_is_wrong_is_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """DBP101 declaring only external calls: its plan looks for no constructor, and its findings go."""
    monkeypatch.setattr(ClientPerCall, "triggers", frozenset({EXTERNAL_CALLS}))
    monkeypatch.setattr(plan, "_PLANS", {})
    assert _lost_findings("DBP101", tmp_path)


def test_a_rule_whose_requirement_is_wrong_is_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """DBP101 requiring an external call in the file: it is no longer run where there is none, and its
    findings go."""
    monkeypatch.setattr(ClientPerCall, "requires", frozenset({EXTERNAL_CALLS}))
    assert _lost_findings("DBP101", tmp_path)


@pytest.mark.parametrize("source, external", [
    ("import sqlalchemy\n\ndef handler():\n    return sqlalchemy.create_engine('postgresql://h/db')\n", False),
    ("import requests, sqlalchemy\n\ndef handler():\n    engine = sqlalchemy.create_engine('postgresql://h/db')\n"
     "    requests.get('https://example.com', timeout=5)\n", True),
    # a function of the project may make one (the index pass does not know yet which do)
    ("import sqlalchemy\nfrom app.mail import notify\n\ndef handler():\n"
     "    sqlalchemy.create_engine('postgresql://h/db')\n    notify()\n", True),
])
def test_the_screen_says_when_a_file_names_no_external_call(source: str, external: bool) -> None:
    words = ScreenWords.from_catalog(Settings().catalog, project_packages=frozenset({"app"}))
    verdict = screen_verdict(ast.parse(source), words)
    assert isinstance(verdict, Verdict) and verdict.could_report
    assert (EXTERNAL_CALLS in verdict.absent) is not external


def test_a_rule_without_triggers_turns_the_screen_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ClientPerCall, "triggers", None)
    monkeypatch.setattr(plan, "_PLANS", {})
    assert plan.screen_vocabularies(Settings(select=("DBP101", "DBP201"))) is None
    monkeypatch.setattr(plan, "_PLANS", {})
    assert plan.screen_vocabularies(Settings(select=("DBP201",))) is not None
