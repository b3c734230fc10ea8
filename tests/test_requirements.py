"""Which release of a package a project declares (python/requirements.py): DBP202 judges a streamed
response by the FastAPI release the project runs."""
import shutil
from pathlib import Path

import pytest

from poollint.catalog import load_catalog
from poollint.python.requirements import _declared_versions, declared_versions, declares_any, release_window

WINDOW = ((0, 106), (0, 118))  # the releases that closed dependencies before a response streamed


@pytest.mark.parametrize("name, text, within", [
    ("requirements.txt", "fastapi==0.110.0\nuvicorn\n", True),
    ("requirements.txt", "fastapi[standard]==0.121.2\n", False),
    ("requirements.txt", "fastapi==0.99.1\n", False),
    ("requirements.txt", "fastapi>=0.100\n", False),  # the newest release
    ("requirements.txt", "fastapi>=0.100,<0.115\n", None),  # an older release, which one not known
    ("requirements.txt", "fastapi-users==12.1.0\n", False),  # another package
    ("requirements-prod.txt", "fastapi ~= 0.110.0\n", None),
    ("pyproject.toml", '[project]\ndependencies = ["fastapi[all]<=0.112.2", "sqlalchemy"]\n', None),
    ("pyproject.toml", '[tool.poetry.dependencies]\nfastapi = "^0.110.0"\n', None),
    ("pyproject.toml", '[tool.poetry.dependencies]\nfastapi = {version = "0.109.2", extras = ["all"]}\n', True),
    ("Pipfile", '[packages]\nfastapi = "==0.111.0"\n', True),
    ("uv.lock", 'version = 1\n\n[[package]]\nname = "fastapi"\nversion = "0.115.2"\n', True),
    ("poetry.lock", '[[package]]\nname = "fastapi"\nversion = "0.118.0"\n', False),
])
def test_the_declared_release_decides(tmp_path: Path, name: str, text: str, within) -> None:
    (tmp_path / name).write_text(text)
    assert declared_versions(tmp_path, "fastapi").all_within(*WINDOW) is within


def test_a_service_folder_one_level_down_counts(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "requirements.txt").write_text("fastapi==0.110.0\n")
    assert declared_versions(tmp_path, "fastapi").all_within(*WINDOW) is True


def test_nothing_declared_means_the_newest_release(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("sqlalchemy==2.0.30\n")
    assert declared_versions(tmp_path, "fastapi").all_within(*WINDOW) is False


@pytest.mark.parametrize("text, within", [
    ("sqlalchemy<2.0\n", True),  # every release it allows is older than 2.0
    ("sqlalchemy~=1.4.46\n", True),
    ("sqlalchemy>=1.4,<2.1\n", False),  # may be 2.0: the newest it allows is taken
    ("sqlalchemy==1.4.52\n", True),
])
def test_an_upper_bound_alone_decides_from_the_first_release(tmp_path: Path, text: str, within) -> None:
    # DBP202 asks whether a project runs a release before SQLAlchemy pooled SQLite files (2.0)
    (tmp_path / "requirements.txt").write_text(text)
    assert declared_versions(tmp_path, "sqlalchemy").all_within((0,), (2, 0)) is within


def test_a_requirements_file_added_later_changes_the_cached_answer(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A project that declares nothing runs the newest SQLAlchemy, which pools an aiosqlite file database:
    DBP202 reports the session held across an LLM call. Pinning a release that does not, in a
    requirements file added afterwards, silences it on the next (warm) run as on a cold one."""
    from poollint.engine.runner import RunOptions, check_paths
    from poollint.settings import load_settings

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "projects" / \
        "DBP202_session_on_an_unpooled_sqlite_release_negative"
    project = tmp_path / "project"
    shutil.copytree(fixture, project, ignore=shutil.ignore_patterns(".poollint_cache"))
    (project / "requirements.txt").unlink()
    monkeypatch.chdir(project)

    def codes() -> list[str]:
        result = check_paths([Path(".")], load_settings(project), options=RunOptions(cache=True, jobs=1))
        return [finding.code for finding in result.findings]

    assert codes() == ["DBP202"]
    (project / "requirements.txt").write_text("sqlalchemy[asyncio]==2.0.30\naiosqlite==0.20.0\n")
    _declared_versions.cache_clear()  # what one run (one process) read; the next run is a new process
    assert codes() == []


@pytest.mark.parametrize("text, window", [
    ("fastapi>=0.106.0,<0.118.0", ("fastapi", (0, 106, 0), (0, 118, 0))),
    ("sqlalchemy >= 2.0.38", ("sqlalchemy", (2, 0, 38), None)),
])
def test_the_catalog_writes_releases_one_way(text: str, window) -> None:
    assert release_window(text) == window


def test_a_release_written_otherwise_is_an_error() -> None:
    with pytest.raises(ValueError, match="sqlalchemy<2.0"):
        release_window("sqlalchemy<2.0")


@pytest.mark.parametrize("name, text, declared", [
    ("requirements.txt", "sqlalchemy[asyncio]==2.0.30\naiosqlite\n", False),
    ("requirements.txt", "sqlalchemy==2.0.30\npsycopg2_binary>=2.9\n", True),  # `_` for `-`
    ("requirements.txt", "SQLAlchemy[asyncio,postgresql_asyncpg]==2.0.30\n", True),  # an extra installs asyncpg
    ("requirements.txt", "databases[postgresql]\n", True),
    ("requirements.txt", "sqlalchemy\nasyncpg-stubs\n", False),  # another distribution
    ("pyproject.toml", '[tool.poetry.dependencies]\nsqlalchemy = "^2.0"\nPyMySQL = "^1.1"\n', True),
    ("poetry.lock", '[[package]]\nname = "mysqlclient"\nversion = "2.2.4"\n', True),
])
def test_which_declarations_name_a_server_driver(tmp_path: Path, name: str, text: str, declared: bool) -> None:
    """DBP202 takes an engine whose URL it cannot see for SQLite's when the project declares no driver
    of a database server (catalog `server-drivers`, `server-extras`)."""
    sqlalchemy = next(spec for spec in load_catalog().clients if spec.library == "sqlalchemy" and spec.server_drivers)
    (tmp_path / name).write_text(text)
    assert declares_any(tmp_path, sqlalchemy.server_drivers, sqlalchemy.server_extras) is declared


def test_a_project_without_requirement_files_says_nothing_of_its_drivers(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import sqlalchemy\n")
    assert declares_any(tmp_path, ("asyncpg",), ("postgres",)) is None
