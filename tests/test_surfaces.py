"""The three doors agree: the CLI, the flake8 plugin and the pre-commit hook report the same findings."""
from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
import yaml

from conftest import ROOT

FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>DBP\d{3}) (?P<message>.*)$")


def _run(*args: str, cwd: Path = ROOT, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


@functools.lru_cache(maxsize=None)
def _cli_findings(*target: str) -> frozenset[tuple]:
    # the default selection, which flake8 has too (opt-in rules off), without configuration files;
    # one run per target of the unchanged fixtures, shared by the serial and the parallel flake8 test.
    # Run with flake8's settings and filtered here: flake8 in parallel then reads this run's results from the
    # cache, as an editor does after a CLI run; the serial run analyses for itself, in a cache of its own
    out = _run("-m", "poollint", "check", "--format", "json", *target)
    assert out.returncode in (0, 1), out.stderr
    return frozenset((f["path"], f["line"], f["column"], f["code"], f["message"]) for f in json.loads(out.stdout)
                     if not f["code"].startswith(("DBP0", "DBP4")))


def _flake8_findings(*target: str, extra: tuple[str, ...] = (), cache: Optional[Path] = None) -> set[tuple]:
    env = dict(os.environ, POOLLINT_CACHE_DIR=str(cache)) if cache is not None else None
    out = _run("-m", "flake8", "--select", "DBP", *extra, *target, env=env)
    found = set()
    for line in out.stdout.splitlines():
        match = FLAKE8_LINE.match(line)
        assert match, line
        found.add((match["path"].removeprefix("./"), int(match["line"]), int(match["col"]), match["code"], match["message"]))
    return found


# every fourth Python fixture: flake8 analysing for itself, in a cache of its own, is the suite's slowest test on
# the whole folder; the parallel test below reads every fixture, and `-m slow` runs this one on every fixture too
SOME_FIXTURES = tuple(sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fixtures" / "python").glob("*.py")
                             if not p.name.endswith(".fixed.py"))[::4])


@pytest.mark.parametrize("target", [pytest.param(SOME_FIXTURES, id="every-fourth-fixture"),
                                    pytest.param(("fixtures/python",), id="every-fixture", marks=pytest.mark.slow)])
def test_flake8_reports_what_the_cli_reports(tmp_path: Path, target: tuple[str, ...]) -> None:
    cli = _cli_findings(*target)
    assert cli, "the fixtures must produce findings"
    assert _flake8_findings(*target, cache=tmp_path / "cache") == cli


def test_flake8_in_parallel_reports_the_same() -> None:
    assert _flake8_findings("fixtures/python", extra=("-j", "2")) == _cli_findings("fixtures/python")


def test_flake8_noqa_suppresses(tmp_path: Path) -> None:
    source = (
        "from prisma import Prisma\n\n"
        "def handler(event, context):\n"
        "    a = Prisma()  # noqa: DBP101\n"
        "    b = Prisma()  # noqa\n"
        "    c = Prisma()  # noqa: E501\n"
        "    return a, b, c\n"
    )
    (tmp_path / "app.py").write_text(source)
    found = _flake8_findings(str(tmp_path / "app.py"))
    assert {(f[1], f[3]) for f in found} == {(6, "DBP101")}


def test_pre_commit_hook_covers_python_and_config_files() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "poollint")
    assert hook["entry"].split()[:2] == ["poollint", "check"]
    files = re.compile(hook["files"])
    for name in ("app/db.py", ".env", ".env.production", "prisma/schema.prisma", "docker-compose.yml",
                 "compose.prod.yaml", "deploy/pgbouncer.ini", "src/app.ts", "pages/api/users.js", "prisma/seed.mjs"):
        assert files.search(name), name
    for name in ("k8s/api.yaml", "kubernetes/base/deployment.yml", "deploy/prod/values.yaml",
                 "manifests/db.yaml", "helm/app/values.yaml"):
        assert files.search(name), name
    for name in ("README.md", "package.json", ".github/workflows/ci.yml"):
        assert not files.search(name), name
    exclude = re.compile(hook["exclude"])
    for name in ("node_modules/pkg/index.js", ".venv/lib/site.py", "build/lib/app.py", "dist/app.py",
                 "web/node_modules/x/schema.prisma"):
        assert exclude.search(name), name
    for name in ("app/build_info.py", "distribution/db.py", "app/db.py"):
        assert not exclude.search(name), name


def test_deploy_hook_checks_the_project_whatever_is_staged() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    deploy = hooks["poollint-deploy"]
    assert deploy["entry"] == "poollint check --select DBP4"
    assert (deploy["pass_filenames"], deploy["always_run"]) == (False, True)
    # one environment for both hooks: pre-commit builds it once
    assert deploy["additional_dependencies"] == hooks["poollint"]["additional_dependencies"]
