"""No output of any door ever contains a fixture password: every format, and `poollint budget`."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES
from poollint.cli import main
from poollint.reporters import REPORTERS

SECRET = "FIXTURE-SECRET"
CASES = sorted(p for p in (FIXTURES / "config").iterdir() if p.is_dir()) + sorted(
    p for p in (FIXTURES / "projects").iterdir() if p.is_dir()
)


def test_the_fixtures_do_hold_the_secret() -> None:
    holding = [p for case in CASES for p in case.rglob("*") if p.is_file() and SECRET in p.read_text(errors="ignore")]
    assert holding, "the secret test needs fixtures with credentials"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_budget_never_prints_a_secret(case: Path, capsys: pytest.CaptureFixture) -> None:
    main(["budget", str(case)])
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the formats: the first run analyses the fixtures, the others read its results
    (the cache holds no secret either), so each format costs a warm run."""
    return tmp_path_factory.mktemp("secrets-cache")


def _cases_holding_the_secret() -> list[Path]:
    """Each fixture case with the secret in one of its files: a single-file fixture, or the directory of
    a case of several files (a project, a configuration case), as a user would check it."""
    cases = set()
    for path in FIXTURES.rglob("*"):
        if path.is_file() and ".poollint_cache" not in path.parts and SECRET in path.read_text(errors="ignore"):
            kind, *rest = path.relative_to(FIXTURES).parts
            cases.add(path if kind == "python" else FIXTURES / kind / rest[0])
    return sorted(cases)


@pytest.mark.parametrize("output_format", sorted(REPORTERS))
def test_check_never_prints_a_secret(output_format: str, capsys: pytest.CaptureFixture, shared_cache: Path) -> None:
    cases = [str(case) for case in _cases_holding_the_secret()]
    main(["check", "--cache-dir", str(shared_cache), "--format", output_format, *cases])
    captured = capsys.readouterr()
    assert captured.out, "the fixtures produce findings"
    assert SECRET not in captured.out + captured.err
