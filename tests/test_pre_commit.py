"""`pre-commit try-repo` with this repository's hook fails on a project with a violation."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args],
                   cwd=cwd, check=True, capture_output=True)


def test_try_repo_fails_and_prints_the_finding(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    hook_repo = tmp_path / "poollint"
    # a committed snapshot of the working tree: try-repo installs the hook from it
    shutil.copytree(ROOT, hook_repo, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__"))
    _git(hook_repo, "init", "-q")
    _git(hook_repo, "add", ".")
    _git(hook_repo, "commit", "-qm", "snapshot")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(FIXTURES / "python" / "DBP101_lambda_handler_create_engine.py", project / "handler.py")
    # a Next.js route handler in the same commit: code rules for TypeScript run in the same hook
    route = FIXTURES / "typescript" / "DBP101_next_route_handler" / "app" / "api" / "users" / "route.ts"
    (project / "app").mkdir()
    shutil.copy(route, project / "app" / "route.ts")
    _git(project, "init", "-q")
    _git(project, "add", ".")
    _git(project, "commit", "-qm", "init")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "poollint", "--all-files"],
        cwd=project, capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "handler.py:9:14: DBP101" in result.stdout
    assert "app/route.ts:12:14: DBP101" in result.stdout
