"""Paths as poollint shows and compares them: resolved once per process, shown relative to the
working directory, what counts as test code, and what tells a changed file without reading it."""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Mapping, Optional


def resolved(path: Path) -> Path:
    """`path.resolve()`, once per path and process: a large run asks for the same paths several times.
    A relative path is resolved against the directory of the moment (an editor may change it)."""
    return _resolved_in(None if path.is_absolute() else os.getcwd(), path)


@functools.lru_cache(maxsize=1 << 16)
def _resolved_in(directory: Optional[str], path: Path) -> Path:
    full = Path(directory, path) if directory is not None else path
    if full.name not in ("", "..") and not os.path.islink(full):
        # the folder resolved once for all its files: one lstat per file instead of one per part
        return resolved_folder(str(full.parent)) / full.name
    return full.resolve()


@functools.lru_cache(maxsize=1 << 14)
def resolved_folder(folder: str) -> Path:
    """`Path(folder).resolve()`, once per folder and process."""
    return Path(folder).resolve()


def display_path(path: Path, cwd: Optional[Path] = None) -> str:
    """Relative to the working directory when below it, POSIX separators."""
    return _display_path(os.getcwd(), cwd, path)


@functools.lru_cache(maxsize=1 << 16)
def _display_path(process_directory: str, cwd: Optional[Path], path: Path) -> str:
    try:
        return resolved(path).relative_to(resolved(cwd or Path(process_directory))).as_posix()
    except (ValueError, OSError, RuntimeError):
        return path.as_posix()


def is_test_path(path: Path) -> bool:
    name = path.name
    parts = {p.lower() for p in path.parts[:-1]}
    return (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
        or bool(parts & {"tests", "test", "testing"})
    )


def file_stamp(path: Path) -> Optional[tuple[int, ...]]:
    """What tells a changed file without reading it: size, mtime, ctime and inode; None when it cannot be
    stat'ed. An edit can keep the size and put the old mtime back (`touch -r`, `cp -p`, `git stash pop`),
    but the kernel sets ctime on every change, as git's index relies on."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


def stamps_digest(stamps: Mapping[str, Optional[tuple[int, ...]]]) -> str:
    """One digest of files' stamps (relative path -> file_stamp): it holds while none of them changed and
    no file came or went."""
    return hashlib.sha256(json.dumps(sorted(stamps.items())).encode()).hexdigest()
