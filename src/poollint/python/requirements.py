"""Which versions of a Python package a project declares: requirements files, pyproject.toml, Pipfile
and lock files, at the project's root and one folder down (`backend/requirements.txt`).

Some library behaviour that decides a finding changed between releases (FastAPI closed a dependency's
session before a streamed response from 0.106.0 to 0.117.x, and after it before and since; SQLAlchemy
pools an SQLite file database since 2.0, with aiosqlite since 2.0.38). Where the project says which
release it runs, the rules judge by that; where it does not, by the newest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from poollint.python.reads import DECLARING_FILES_READ, file_digest, files_near, read_recorded, record_file_read

Version = tuple[int, ...]

_DECLARING_FILES = ("requirements*.txt", "requirements/*.txt", "pyproject.toml", "Pipfile", "setup.py", "setup.cfg")
_LOCK_FILES = ("poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock")

@dataclass(frozen=True)
class DeclaredVersions:
    """What a project's files say of one package's version."""

    exact: tuple[Version, ...] = ()  # pinned (`==0.110.0`) or locked
    # exclusive upper bounds (`<0.115`, `~=0.110.0` -> 0.111, `^0.110` -> 0.111; `<=0.114.2` -> just above)
    below: tuple[Version, ...] = ()

    def all_within(self, lowest: Version, beyond: Version) -> Optional[bool]:
        """Whether every release the project may run lies in [lowest, beyond): True or False when it pins
        or locks one, or bounds it below `beyond` (and `lowest` is `(0,)`, the first release); None when
        that says nothing (no bound, or one that still allows releases below `lowest` and not beyond it)."""
        if self.exact:
            return all(lowest <= version < beyond for version in self.exact)
        if any(bound <= beyond for bound in self.below):
            # an older release than today's newest, which one not known: within when nothing lies below
            return True if lowest <= (0,) else None
        return False


def release_window(text: str) -> tuple[str, Version, Optional[Version]]:
    """How the catalog writes the releases a behaviour holds in: `fastapi>=0.106.0,<0.118.0` ->
    ("fastapi", (0, 106, 0), (0, 118, 0)); `sqlalchemy>=2.0.38` -> ("sqlalchemy", (2, 0, 38), None)."""
    match = re.fullmatch(r"\s*([\w.-]+)\s*>=\s*([\d.]+)\s*(?:,\s*<\s*([\d.]+)\s*)?", text)
    if match is None:
        raise ValueError(f"not `package>=first` nor `package>=first,<beyond`: {text!r}")
    beyond = tuple(map(int, match.group(3).split("."))) if match.group(3) else None
    return match.group(1), tuple(map(int, match.group(2).split("."))), beyond


def declared_versions(root: Path, package: str) -> DeclaredVersions:
    """DeclaredVersions of `package` in the project at `root`. Each file it reads is recorded for the
    cache, at every call: a cached result that depends on the answer is dropped when one changes."""
    found, reads = _declared_versions(root.resolve(), package.lower())
    for path, digest in reads:
        record_file_read(path, digest)
    return found


@lru_cache(maxsize=64)
def _declared_versions(root: Path, package: str) -> tuple[DeclaredVersions, tuple[tuple[str, str], ...]]:
    reads: list[tuple[str, str]] = [(DECLARING_FILES_READ + str(root), declaring_files_digest(root))]
    exact: list[Version] = []
    below: list[Version] = []
    name = _name_pattern(package)
    # PEP 508, in a requirements file or a pyproject.toml's list: `fastapi==0.110.0`, `"fastapi[all]>=0.100,<0.115"`
    pep508 = re.compile(rf"""(?im)(?<![\w.-]){name}(?:\[[^\]\n]*\])?\s*((?:(?:===|==|<=|>=|~=|!=|<|>)\s*[\w.*+!-]+\s*,?\s*)+)""")
    # Poetry's (and a Pipfile's) table: `fastapi = "^0.110.0"`, `fastapi = {version = "~0.110", extras = ["all"]}`, `fastapi = "0.110.0"`
    poetry = re.compile(rf"""(?im)^\s*{name}\s*=\s*(?:\{{[^}}\n]*?version\s*=\s*)?["']([^"'\n]+)["']""")
    locked = re.compile(rf"""(?im)^name\s*=\s*["']{name}["']\s*\n\s*version\s*=\s*["']([\w.]+)["']""")
    pipfile_locked = re.compile(rf"""(?i)"{name}"\s*:\s*\{{[^}}]*?"version"\s*:\s*"==([\w.]+)\"""")
    for path in files_near(root, _DECLARING_FILES):
        text = _read(path, reads)
        constraints = [match.group(1) for match in pep508.finditer(text)]
        if path.name in ("pyproject.toml", "Pipfile"):
            constraints += [match.group(1) if match.group(1)[:1] in "<>=!~^" else f"=={match.group(1)}"
                            for match in poetry.finditer(text)]
        for constraint in constraints:
            for operator, version in re.findall(r"(===|==|<=|>=|~=|!=|<|>|\^|~)\s*([\w.*+!-]+)", constraint):
                _constrain(operator, version, exact, below)
    for path in files_near(root, _LOCK_FILES):
        text = _read(path, reads)
        for match in (*locked.finditer(text), *pipfile_locked.finditer(text)):
            parsed = _parse(match.group(1))
            if parsed is not None:
                exact.append(parsed)
    return DeclaredVersions(tuple(exact), tuple(below)), tuple(reads)


def _name_pattern(package: str) -> str:
    """A distribution's name as files may spell it: `-`, `_` and `.` are the same (PEP 503)."""
    return "[-_.]".join(re.escape(part) for part in re.split(r"[-_.]", package))


def declares_any(root: Path, packages: tuple[str, ...], extras: tuple[str, ...] = ()) -> Optional[bool]:
    """Whether the project at `root` declares one of `packages`, or a package with an extra whose name
    holds one of `extras` (`sqlalchemy[postgresql_asyncpg]`): None when it has no requirement or lock
    file to say. A name written anywhere in those files counts (a comment too): the answer errs
    towards declared. Each file read is recorded for the cache, as for declared_versions."""
    found, reads = _declares_any(root.resolve(), tuple(sorted(p.lower() for p in packages)),
                                 tuple(sorted(e.lower() for e in extras)))
    for path, digest in reads:
        record_file_read(path, digest)
    return found


@lru_cache(maxsize=64)
def _declares_any(root: Path, packages: tuple[str, ...],
                  extras: tuple[str, ...]) -> tuple[Optional[bool], tuple[tuple[str, str], ...]]:
    reads: list[tuple[str, str]] = [(DECLARING_FILES_READ + str(root), declaring_files_digest(root))]
    names = "|".join(_name_pattern(package) for package in packages) or "(?!)"
    named = re.compile(rf"(?i)(?<![\w.-])(?:{names})(?![\w-])")
    in_extras = re.compile(rf"(?i)\[[^\]\n]*(?:{'|'.join(re.escape(e) for e in extras) or '(?!)'})")
    files = list(files_near(root, _DECLARING_FILES + _LOCK_FILES))
    declared = any(named.search(text) or in_extras.search(text) for text in (_read(path, reads) for path in files))
    return (declared if files else None), tuple(reads)


def _constrain(operator: str, text: str, exact: list[Version], below: list[Version]) -> None:
    if text.endswith(".*"):  # `==0.110.*`: below the next minor
        parsed = _parse(text[:-2])
        if parsed is not None and operator in ("==", "==="):
            below.append((*parsed[:-1], parsed[-1] + 1))
        return
    parsed = _parse(text)
    if parsed is None:
        return
    if operator in ("==", "==="):
        exact.append(parsed)
    elif operator == "<":
        below.append(parsed)
    elif operator == "<=":
        below.append((*parsed, 1))  # just above it
    elif operator == "~=" and len(parsed) >= 2:
        below.append((*parsed[:-2], parsed[-2] + 1))
    elif operator == "~":  # Poetry's tilde: the next minor (`~1.2.3` -> 1.3, `~1` -> 2)
        below.append((parsed[0], parsed[1] + 1) if len(parsed) >= 2 else (parsed[0] + 1,))
    elif operator == "^":  # Poetry's caret: the next release that changes the first non-zero part
        first = next((i for i, part in enumerate(parsed) if part != 0), len(parsed) - 1)
        below.append((*parsed[:first], parsed[first] + 1))


def _parse(text: str) -> Optional[Version]:
    match = re.match(r"v?(\d+(?:\.\d+)*)", text)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def declaring_files_digest(root: Path) -> str:
    """Which requirement and lock files the project at `root` has, as a digest: recorded with what was
    read of them, so that a cached result depending on them is dropped when one is added or removed."""
    found = sorted(str(path) for path in files_near(root, _DECLARING_FILES + _LOCK_FILES))
    return file_digest("\n".join(found).encode())


def _read(path: Path, reads: list[tuple[str, str]]) -> str:
    return read_recorded(path, "python", reads) or ""
