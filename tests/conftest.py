"""Shared helpers for the test suite."""
from __future__ import annotations

import compileall
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session: pytest.Session) -> None:
    """The suite starts poollint (and flake8 with its plugin) in many processes; where
    PYTHONDONTWRITEBYTECODE is set, as on the CI machines, each would compile poollint's sources
    again (about 0.1 s a process). Compiled once here, they are read from __pycache__ (gitignored)."""
    compileall.compile_dir(str(ROOT / "src" / "poollint"), quiet=1)
FIXTURES = ROOT / "fixtures"

# A FastAPI route that builds a Prisma client per request: DBP101 at line 8, column 10.
PER_REQUEST = (
    "from fastapi import FastAPI\n"
    "from prisma import Prisma\n\n"
    "app = FastAPI()\n\n"
    "@app.get('/users')\n"
    "async def users():\n"
    "    db = Prisma()\n"
    "    return db\n"
)

_EXPECT = re.compile(r"(?:#|//)\s*expect:\s*(?P<codes>DBP\d{3}(?:\s*,\s*DBP\d{3})*)(?:\s+\"(?P<fragment>[^\"]*)\")?")
_COMMENT_ONLY = re.compile(r"^\s*(?:#|//)")


def expected_findings(path: Path) -> set[tuple[int, str]]:
    """(line, code) pairs a fixture announces with `# expect: CODE` (STYLE.md)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    expected: set[tuple[int, str]] = set()
    pending: list[str] = []
    for number, line in enumerate(lines, start=1):
        match = _EXPECT.search(line)
        if _COMMENT_ONLY.match(line):
            if match:
                pending.extend(c.strip() for c in match.group("codes").split(","))
            continue
        if pending and line.strip():
            expected.update((number, code) for code in pending)
            pending = []
        if match:
            expected.update((number, c.strip()) for c in match.group("codes").split(","))
    return expected


def expected_fragments(path: Path) -> list[tuple[int, str, str]]:
    """(line, code, fragment) for annotations like `# expect: DBP103 "app/jobs.py"`."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match and match.group("fragment"):
            out.append((number, match.group("codes").split(",")[0].strip(), match.group("fragment")))
    return out


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="module")
def one_index_per_settings():
    """Runs over the unchanged fixtures of this repository index the same project (this
    repository: a fixture folder without a project marker of its own belongs to it): each
    settings' index is built once, for all those Python fixtures (so each file's screen still
    comes from the index, as in a CLI run), instead of once per run (about a second a run). Runs
    over other files (a fixture project of its own, a temporary project) index as usual."""
    from poollint.engine import runner
    from poollint.engine.files import is_python_file
    from poollint.engine.index import find_project_root, indexes_for

    known: dict = {}
    fixtures = sorted(p for p in FIXTURES.rglob("*.py") if ".poollint_cache" not in p.parts and find_project_root(p, is_root=known) == ROOT)
    shareable = {path.resolve() for path in fixtures}
    built: dict[str, dict] = {}
    own = runner._project_indexes

    def shared(files, settings, options, root):
        python_files = [path for path in files if is_python_file(path)]  # what the index covers
        if not python_files or not all(path.resolve() in shareable for path in python_files):
            return own(files, settings, options, root)
        if settings.fingerprint() not in built:
            built[settings.fingerprint()] = indexes_for(fixtures, settings, use_cache=False)
        return built[settings.fingerprint()]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "_project_indexes", shared)
        yield
