"""Finds the files to check: Python, TypeScript and JavaScript sources and the deployment files DBP4xx reads."""
from __future__ import annotations

import contextlib
import fnmatch
import functools
import gc
import os
import re
from pathlib import Path
from typing import Iterable, Iterator, Optional

from poollint.config.helm import is_helm_values
from poollint.config.prisma_config import PRISMA_CONFIG
from poollint.config.serverless import NEXT_CONFIG
from poollint.javascript import is_javascript_file

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__",
    "build", "dist", "site-packages", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".poollint_cache",
)


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Around starting worker processes: what the parent holds (the project index, the file list)
    is moved out of the garbage collector's sight, so that the forked workers' collections do not
    walk it again and again (and copy its pages) while they parse."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def resolved(path: Path) -> Path:
    """`path.resolve()`, once per path and process: a large run asks for the same paths several times.
    A relative path is resolved against the directory of the moment (an editor may change it)."""
    return _resolved_in(None if path.is_absolute() else os.getcwd(), path)


@functools.lru_cache(maxsize=1 << 16)
def _resolved_in(directory: Optional[str], path: Path) -> Path:
    return (Path(directory, path) if directory is not None else path).resolve()


def is_config_file(path: Path) -> bool:
    """A deployment or database configuration file that DBP4xx rules read."""
    name = path.name.lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return True
    if name in ("schema.prisma", "pgbouncer.ini", "vercel.json", "netlify.toml", "zappa_settings.json",
                "serverless.yml", "serverless.yaml", "template.yaml", "template.yml", "gunicorn.conf.py"):
        return True
    if name.endswith(".prisma") or PRISMA_CONFIG.fullmatch(name) or NEXT_CONFIG.fullmatch(name):
        return True
    if is_helm_values(path):
        return True
    if name.endswith((".yml", ".yaml")) and (
        name.startswith(("docker-compose", "compose")) or "k8s" in path.parts or "kubernetes" in path.parts
        or "deploy" in path.parts or "manifests" in path.parts or "helm" in path.parts
    ):
        return True
    return False


def is_python_file(path: Path) -> bool:
    return path.suffix in (".py", ".pyi") and path.suffix != ".pyi"


def _excluded(path: Path, patterns: Iterable[str]) -> bool:
    """Whether the file or directory name, or the path, or a directory on it, matches a pattern."""
    by_name, by_path = _exclusion_matchers(tuple(patterns))
    return by_name.match(path.name) is not None or by_path.match(path.as_posix()) is not None


_MATCHERS: dict[tuple[str, ...], "tuple[re.Pattern[str], re.Pattern[str]]"] = {}
_NOTHING = r"(?!)"


def _exclusion_matchers(patterns: tuple[str, ...]) -> "tuple[re.Pattern[str], re.Pattern[str]]":
    """Two regular expressions for all patterns at once: fnmatch per pattern and path was most of a large walk."""
    found = _MATCHERS.get(patterns)
    if found is None:
        stripped = [p.rstrip("/") for p in patterns]
        by_name = [fnmatch.translate(p) for p in stripped]
        by_path = [fnmatch.translate(form) for p in stripped for form in (p, f"*/{p}", f"*/{p}/*")]
        found = _MATCHERS[patterns] = (re.compile("|".join(by_name) or _NOTHING),
                                       re.compile("|".join(by_path) or _NOTHING))
    return found


def discover(paths: Iterable[Path], extra_excludes: Iterable[str] = ()) -> Iterator[Path]:
    """Yields files to check in a stable order. Paths named explicitly are always checked."""
    patterns = (*DEFAULT_EXCLUDES, *extra_excludes)
    seen: set[Path] = set()
    for root in paths:
        if root.is_file() or (root.is_symlink() and not root.exists()):
            if root not in seen and not _excluded(root, tuple(extra_excludes)):
                seen.add(root)
                yield root
            continue
        if not root.is_dir():
            continue
        for directory, dirnames, filenames in os.walk(root):
            base = Path(directory)
            dirnames[:] = sorted(d for d in dirnames if not _excluded(base / d, patterns))
            for filename in sorted(filenames):
                candidate = base / filename
                if not (is_python_file(candidate) or is_config_file(candidate) or is_javascript_file(candidate)):
                    continue
                if candidate in seen or _excluded(candidate, patterns):
                    continue
                seen.add(candidate)
                yield candidate


def is_test_path(path: Path) -> bool:
    name = path.name
    parts = {p.lower() for p in path.parts[:-1]}
    return (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
        or bool(parts & {"tests", "test", "testing"})
    )
