"""Every rule is documented, named by the conventions, covered by fixtures, and its examples are honest."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT
from poollint.docs import render_rules_markdown
from poollint.engine.runner import RunOptions, analyze_python, check_paths
from poollint.rules import ALL_RULES
from poollint.rules.base import FileRule, ProjectRule
from poollint.settings import Settings

FAMILIES = {"0": "meta", "1": "creation", "2": "holding", "3": "release", "4": "configuration"}


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in ALL_RULES}) == len(ALL_RULES)
    assert len({r.name for r in ALL_RULES}) == len(ALL_RULES)


def test_rules_are_listed_in_code_order() -> None:
    codes = [r.code for r in ALL_RULES]
    assert codes == sorted(codes)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_names_follow_the_conventions(rule) -> None:
    assert re.fullmatch(r"DBP\d{3}", rule.code)
    assert FAMILIES[rule.code[3]] == rule.__module__.rsplit(".", 1)[-1]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert rule.__name__ == "".join(part.capitalize() for part in rule.name.split("-"))
    assert (rule.__doc__ or "").strip().startswith("Flags")


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_documentation_fields_are_filled(rule) -> None:
    for field in ("message", "fix_hint", "rationale", "example", "use_instead"):
        assert getattr(rule, field, "").strip(), field
    settings_keys = {f.replace("_", "-") for f in Settings.__dataclass_fields__}
    assert set(rule.options) <= settings_keys


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_each_rule_has_a_fixture(rule) -> None:
    assert list(FIXTURES.rglob(f"{rule.code}_*")), f"no fixture named {rule.code}_*"


PYTHON_RULES = [r for r in ALL_RULES if issubclass(r, FileRule) and not issubclass(r, ProjectRule)]
PROJECT_RULES = [r for r in ALL_RULES if issubclass(r, ProjectRule)]
_FILE_HEADER = re.compile(r"^# (?P<path>[\w./-]+\.py)$", re.MULTILINE)


# every rule selected by its code, opt-in rules included
EVERY_RULE = Settings(select=tuple(r.code for r in ALL_RULES))


def _codes_of(source: str) -> list[str]:
    text = textwrap.dedent(source).strip() + "\n"
    findings, errors = analyze_python(Path("example.py"), "example.py", text.encode(), EVERY_RULE, screen=False)
    assert errors == 0
    return [f.code for f in findings]


@pytest.mark.parametrize("rule", PYTHON_RULES, ids=lambda r: r.code)
def test_example_raises_exactly_its_code(rule) -> None:
    codes = _codes_of(rule.example)
    assert codes and set(codes) == {rule.code}


@pytest.mark.parametrize("rule", PYTHON_RULES, ids=lambda r: r.code)
def test_use_instead_raises_nothing(rule) -> None:
    assert _codes_of(rule.use_instead) == []


def test_docs_rules_md_is_generated() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == render_rules_markdown()


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_readme_lists_every_rule(rule) -> None:
    assert f"| {rule.code} | `{rule.name}` |" in (ROOT / "README.md").read_text(encoding="utf-8")


def _project_codes(source: str, tmp_path: Path) -> list[str]:
    """A project rule's example is several files, each after a `# path.py` line: check them as one project."""
    text = textwrap.dedent(source).strip() + "\n"
    headers = list(_FILE_HEADER.finditer(text))
    assert len(headers) >= 2, "a project rule's example shows several files"
    (tmp_path / "pyproject.toml").write_text("[tool.poollint]\n")
    for header, following in zip(headers, [*headers[1:], None]):
        end = following.start() if following else len(text)
        target = tmp_path / header["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text[header.end():end].strip() + "\n")
    result = check_paths([tmp_path], Settings(), options=RunOptions(cache=False, jobs=1))
    assert result.internal_errors == 0
    return [f.code for f in result.findings]


@pytest.mark.parametrize("rule", PROJECT_RULES, ids=lambda r: r.code)
def test_project_example_raises_exactly_its_code(rule, tmp_path: Path) -> None:
    codes = _project_codes(rule.example, tmp_path)
    assert codes and set(codes) == {rule.code}


@pytest.mark.parametrize("rule", PROJECT_RULES, ids=lambda r: r.code)
def test_project_use_instead_raises_nothing(rule, tmp_path: Path) -> None:
    assert _project_codes(rule.use_instead, tmp_path) == []


def test_documentation_gives_the_measured_numbers_from_the_one_data_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from poollint.rules import measured

    by_code = {rule.code: rule for rule in ALL_RULES}
    monkeypatch.setattr(measured, "APPLICATIONS", {"validation": 14, "development": 37})
    monkeypatch.setattr(measured, "MEASURED", {"DBP101": {"validation": (8, 3, 5, 2, 1),
                                                          "development": (1, 1, 0, 0, 1)}})
    text = by_code["DBP101"].documentation()
    assert "- validation: 8 findings in 3 of 14 applications, 62% strict, 71% lenient" in text
    assert "- development: 1 finding in 1 of 37 applications, 0% strict, n/a lenient" in text
    assert "- validation: no findings in 14 applications" in by_code["DBP102"].documentation()
