"""Each rule's triggers are enough: with a plan compiled from that rule alone, the screen and the
slicer lose none of its findings on its fixtures, its fixture projects and its example."""
from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, expected_findings
from poollint.engine import plan
from poollint.engine.runner import RunOptions, check_paths
from poollint.python.screen import EXTERNAL_CALLS
from poollint.rules import file_rules
from poollint.rules.creation import ClientPerCall
from poollint.settings import Settings, load_settings

_FILE_HEADER = re.compile(r"^# (?P<path>[\w./-]+\.py)$", re.MULTILINE)
PYTHON_FIXTURES = sorted(p for p in (FIXTURES / "python").rglob("*.py") if not p.name.endswith(".fixed.py"))
PROJECTS = sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir())

pytestmark = pytest.mark.usefixtures("one_index_per_settings")


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


def _cases(code: str, tmp_path: Path) -> list[tuple[Path, Settings]]:
    """Where the rule reports: the fixtures and fixture projects that expect it, and its example."""
    cases = [(path, load_settings(path.parent)) for path in PYTHON_FIXTURES if code in {c for _, c in expected_findings(path)}]
    cases += [(project, load_settings(project)) for project in PROJECTS
              if any(code in {c for _, c in expected_findings(p)} for p in project.rglob("*.py"))]
    rule = {r.code: r for r in file_rules()}[code]
    cases.append((_write_example(rule.example, tmp_path), Settings()))
    return cases


def _lost_findings(code: str, tmp_path: Path) -> list[str]:
    """The rule's findings that an unscreened run reports and a run screened by its plan alone does not."""
    lost = []
    for path, settings in _cases(code, tmp_path):
        alone = dataclasses.replace(settings, select=(code,), extend_select=(), ignore=())
        runs = [{(f.path, f.line, f.code, f.message) for f in check_paths(
            [path], alone, options=RunOptions(screen=screen, cache=False, jobs=1)).findings} for screen in (True, False)]
        assert runs[1], f"{code} reports nothing on {path} even unscreened: the case proves nothing"
        lost += [f"{path.name}: {finding}" for finding in sorted(runs[1] - runs[0])]
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


def test_a_rule_without_triggers_turns_the_screen_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ClientPerCall, "triggers", None)
    monkeypatch.setattr(plan, "_PLANS", {})
    assert plan.screen_vocabularies(Settings(select=("DBP101", "DBP201"))) is None
    monkeypatch.setattr(plan, "_PLANS", {})
    assert plan.screen_vocabularies(Settings(select=("DBP201",))) is not None
