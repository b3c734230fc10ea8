"""pre-commit as a user wires it: `pre-commit try-repo` with this repository's two hooks, and the README's
`repo: local` snippet pasted into a fresh repository, on the tree of tests/test_same_answer.py."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from test_same_answer import NODE_SHOP, SHOP, expected_in

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

FINDING = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):\d+: (?P<code>DBP\d{3}) ", re.M)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args],
                   cwd=cwd, check=True, capture_output=True)


def _project(tmp_path: Path, tree: Path = SHOP) -> Path:
    """A fixture tree as a fresh repository, `.env` gitignored as the usual templates do."""
    project = tmp_path / tree.name
    shutil.copytree(tree, project)
    (project / ".gitignore").write_text(".env\n.poollint_cache/\n")
    _git(project, "init", "-q")
    _git(project, "add", ".")
    _git(project, "commit", "-qm", "init")
    return project


def _by_hook(output: str) -> dict[str, set[tuple[str, int, str]]]:
    """The findings each hook printed, from pre-commit's `- hook id: X` sections."""
    sections = re.split(r"^- hook id: ", output, flags=re.M)[1:]
    found: dict[str, set[tuple[str, int, str]]] = {}
    for section in sections:
        hook = section.split("\n", 1)[0].strip()
        found[hook] = {(m["path"], int(m["line"]), m["code"]) for m in FINDING.finditer(section)}
    return found


def _pre_commit(project: Path, tmp_path: Path, *args: str, path: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    if path:
        env["PATH"] = path + os.pathsep + env.get("PATH", "")
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=project, capture_output=True,
                          text=True, env=env, timeout=900)


def _readme_snippet(marker: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- ci:{marker} -->\n```yaml\n(?P<body>.*?)```", readme, re.S)
    assert match, marker
    return match["body"]


def _hooks_give_the_cli_answer(tmp_path: Path, tree: Path, config: str, path: str = "") -> None:
    """`pre-commit run --all-files` with `config` in a fresh repository of `tree`: the `poollint` hook reports
    what the CLI reports on every committed file, `poollint-deploy` the DBP4xx (the gitignored `.env`
    included), and neither prints the fixture's secret."""
    project = _project(tmp_path, tree)
    (project / ".pre-commit-config.yaml").write_text(config)
    result = _pre_commit(project, tmp_path, "run", "--all-files", path=path)
    assert result.returncode == 1, result.stdout + result.stderr
    hooks = _by_hook(result.stdout)
    expected = expected_in(tree)
    assert hooks["poollint"] == {f for f in expected if f[0] != ".env"}
    assert hooks["poollint-deploy"] == {f for f in expected if f[2].startswith("DBP4")}
    assert "FIXTURE-SECRET" not in result.stdout + result.stderr


def test_readme_local_hooks_work_when_pasted(tmp_path: Path) -> None:
    """The README's `repo: local` configuration, pasted as it is, with poollint installed where pre-commit runs."""
    pytest.importorskip("pre_commit")
    _hooks_give_the_cli_answer(tmp_path, SHOP, _readme_snippet("pre-commit-local"), path=str(Path(sys.executable).parent))


def _snapshot(tmp_path: Path, tag: str = "") -> Path:
    """A committed snapshot of the working tree, as a clone the hooks are installed from."""
    clone = tmp_path / "poollint"
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(
        ".git", ".venv", "*.egg-info", "__pycache__", ".poollint_cache", ".pytest_cache"))
    _git(clone, "init", "-q")
    _git(clone, "add", ".")
    _git(clone, "commit", "-qm", "snapshot")
    if tag:
        _git(clone, "tag", tag)
    return clone


def _manifest_as_local_hooks() -> str:
    """This repository's `.pre-commit-hooks.yaml`, every key as it is, run as `repo: local` hooks with
    `language: system`: pre-commit applies the manifest's entry, files, exclude, types and
    pass_filenames as it would to a clone, without building the environment (that is
    `test_readme_repo_hooks_give_the_cli_answer`, under `-m slow`)."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    local = [{**{k: v for k, v in hook.items() if k != "additional_dependencies"}, "language": "system"}
             for hook in hooks]
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}, sort_keys=False)


def test_the_hooks_manifest_gives_the_cli_answer(tmp_path: Path) -> None:
    """The hooks a user gets from `repo:` (the manifest's patterns and entries), in a Python project and
    in a Node project: `poollint` sees every committed file it is meant for, `.env` (gitignored) is
    checked by `poollint-deploy` only, and no secret is printed."""
    pytest.importorskip("pre_commit")
    for tree in (SHOP, NODE_SHOP):
        _hooks_give_the_cli_answer(tmp_path, tree, _manifest_as_local_hooks(), path=str(Path(sys.executable).parent))


@pytest.mark.slow
def test_readme_repo_hooks_give_the_cli_answer(tmp_path: Path) -> None:
    """The README's `repo:` configuration with the path of a clone and the tag it names, in a Python
    project and then in a Node project: pre-commit builds the hooks' environment once (from the
    registry's packages) and both projects use it; the Node project needs the TypeScript grammars,
    which the hook installs itself. The `poollint` hook sees every committed file; the gitignored
    `.env` is checked by `poollint-deploy` only."""
    pytest.importorskip("pre_commit")
    snippet = _readme_snippet("pre-commit-repo")
    clone = _snapshot(tmp_path, tag=re.search(r"rev: (\S+)", snippet)[1])  # type: ignore[index]
    for tree in (SHOP, NODE_SHOP):
        _hooks_give_the_cli_answer(tmp_path, tree, snippet.replace("/path/to/poollint", str(clone)))
    assert {code for _, _, code in expected_in(NODE_SHOP)} == {"DBP101", "DBP301", "DBP402"}


@pytest.mark.slow
def test_try_repo_gives_the_cli_answer(tmp_path: Path) -> None:
    """`pre-commit try-repo` (README: tries both hooks without editing the configuration) builds its
    own environment from the clone on every call."""
    pytest.importorskip("pre_commit")
    clone = _snapshot(tmp_path)
    project = _project(tmp_path)
    result = _pre_commit(project, tmp_path, "try-repo", str(clone), "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    hooks = _by_hook(result.stdout)
    assert hooks["poollint"] | hooks["poollint-deploy"] == expected_in(SHOP)
