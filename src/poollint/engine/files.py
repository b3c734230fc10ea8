"""Finds the files to check: Python, TypeScript and JavaScript sources and the deployment files DBP4xx reads."""
from __future__ import annotations

import contextlib
import gc
import os
import signal
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

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


# Young objects between collections of the youngest generation (Python's default is 700). A libcst
# tree is hundreds of thousands of objects, an `ast` tree tens of thousands: at 700 allocations per
# collection, the collector took about 10 s of each analysis worker's 50 on the bench corpus, and a
# fifth of the whole run's CPU time; at 20,000 about 2.4 s, with the same peak memory. Cyclic garbage
# is still collected, only in fewer, larger batches.
YOUNG_COLLECTION_THRESHOLD = 20_000


def collect_less_often() -> None:
    """In poollint's own processes (the command line and its workers, not flake8's): fewer garbage
    collections while trees are built."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


def ignore_interrupts() -> None:
    """In a worker process: Ctrl-C is the parent's to handle (it stops the pool); a worker that
    raised KeyboardInterrupt too would print one traceback per process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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


def is_built_in_excluded(name: str) -> bool:
    """Folders no project wants checked: version control, virtual environments, caches, build output."""
    return name in _BUILT_IN or name.endswith(".egg-info")


_BUILT_IN = frozenset(DEFAULT_EXCLUDES)


def _never(path: Path) -> bool:
    return False


def _named_path_excluded(path: Path) -> bool:
    """A file named on the command line (as pre-commit names staged files) inside `build/`, `.venv/`, ...
    is skipped as `check .` skips it. Only the folders below the working directory count: a project
    may itself live under a folder called `build`."""
    try:
        parts = Path(os.path.abspath(path)).relative_to(os.getcwd()).parts
    except ValueError:
        parts = (path.name,)
    return any(is_built_in_excluded(part) for part in parts)


def discover(paths: Iterable[Path], is_excluded: Callable[[Path], bool] = _never,
             is_excluded_folder: Optional[Callable[[Path], bool]] = None) -> Iterator[Path]:
    """Yields files to check in a stable order. Built-in excludes apply to every path, named or found;
    `is_excluded` is the user's `exclude` (anchored at each file's configuration folder), asked of the
    folders a walk finds through `is_excluded_folder` when given (it need not tell a folder from a file)."""
    excluded_folder = is_excluded_folder or is_excluded
    seen: set[Path] = set()
    for root in paths:
        if root.is_file() or (root.is_symlink() and not root.exists()):
            if root not in seen and not _named_path_excluded(root) and not is_excluded(root):
                seen.add(root)
                yield root
            continue
        if not root.is_dir() or _named_path_excluded(root):
            continue
        for directory, dirnames, filenames in os.walk(root):
            base = Path(directory)
            dirnames[:] = sorted(d for d in dirnames if not is_built_in_excluded(d) and not excluded_folder(base / d))
            for filename in sorted(filenames):
                candidate = base / filename
                if not (is_python_file(candidate) or is_config_file(candidate) or is_javascript_file(candidate)):
                    continue
                if candidate in seen or is_excluded(candidate):
                    continue
                seen.add(candidate)
                yield candidate


