"""Every Python fixture announces its findings; the engine must produce exactly those."""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from conftest import FIXTURES, expected_findings, expected_fragments
from poollint.engine.runner import RunOptions, check_paths
from poollint.settings import load_settings

PYTHON_FIXTURES = sorted(
    p for p in (FIXTURES / "python").rglob("*.py") if not p.name.endswith(".fixed.py")
)


pytestmark = pytest.mark.usefixtures("one_index_per_settings")


@functools.lru_cache(maxsize=None)
def _found(path: Path, screen: bool) -> tuple:
    """A fixture does not change during the run: the tests that read its screened findings (the
    annotations and their fragments, the screen's equivalence) share one run per worker."""
    settings = load_settings(path.parent)
    return tuple(check_paths([path], settings, options=RunOptions(screen=screen, cache=False, jobs=1)).findings)


@pytest.mark.parametrize("path", PYTHON_FIXTURES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_fixture_findings_match_annotations(path: Path) -> None:
    """Every `# expect:` annotation and nothing else, each with the message fragment it names."""
    findings = _found(path, screen=True)
    assert {(f.line, f.code) for f in findings} == expected_findings(path)
    for line, code, fragment in expected_fragments(path):
        messages = [f.message for f in findings if f.line == line and f.code == code]
        assert any(fragment in m for m in messages), (line, code, fragment, messages)


@pytest.mark.parametrize("path", PYTHON_FIXTURES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_screen_loses_nothing(path: Path) -> None:
    """The byte screen only skips files that could not produce a finding."""
    screened = [(f.line, f.code, f.message) for f in _found(path, screen=True)]
    unscreened = [(f.line, f.code, f.message) for f in _found(path, screen=False)]
    assert screened == unscreened

