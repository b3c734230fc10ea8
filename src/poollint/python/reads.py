"""What an analysis read besides its own file, so that a cached result is served only while all of it
still holds: other modules' contents, and answers of the project index."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

from poollint.limits import read_bytes

_READS: dict[str, str] = {}  # what was read since take_reads() -> its digest
# a recorded read that is a question to the project index, not a file: `index:<question>`
INDEX_READ = "index:"


def file_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# a recorded read that is the list of a project's requirement and lock files, by its root: a file added
# there changes what the project declares as much as an edit does (python/requirements.py)
DECLARING_FILES_READ = "declaring-files:"
# ...and the list of its deployment files, which say how many requests a process serves at once
# (python/processes.py)
DEPLOYMENT_FILES_READ = "deployment-files:"


def record_file_read(path: str, digest: str) -> None:
    _READS[path] = digest


def record_index_answer(question: str, answer: object) -> None:
    """A finding depends on what the project index answered (who imports a module, which packages the
    project imports): a cached result holds only while the index still answers the same. The facts'
    digest does not cover these (modules without facts contribute their imports only)."""
    _READS[INDEX_READ + question] = file_digest(repr(answer).encode())


def take_reads() -> dict[str, str]:
    """What was read since the last call (path or index question -> digest)."""
    reads = dict(_READS)
    _READS.clear()
    return reads


# folders whose files say nothing of how the project is declared or deployed
_SKIPPED_FOLDERS = frozenset({"node_modules", "venv", ".venv", "env", "site-packages", "docs", "tests", "test"})


def files_near(root: Path, patterns: tuple[str, ...], *, parent: bool = False) -> list[Path]:
    """The files matching `patterns` at the project's root and one folder down (and, with `parent`, in
    the folder above it: a monorepo's compose file beside the service's folder), in a stable order."""
    folders = [root]
    try:
        folders += sorted(child for child in root.iterdir()
                          if child.is_dir() and not child.name.startswith(".") and child.name not in _SKIPPED_FOLDERS)
    except OSError:
        return []
    if parent and root.parent != root:
        folders.append(root.parent)
    found: dict[Path, None] = {}
    for folder in folders:
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                if path.is_file():
                    found[path] = None
    return list(found)


def read_recorded(path: Path, kind: str, reads: list[tuple[str, str]]) -> Optional[str]:
    """The file's text, its digest added to `reads` for the cache; None when it cannot be read."""
    try:
        data = read_bytes(path, kind)
    except OSError:
        return None
    reads.append((str(path), file_digest(data)))
    return data.decode("utf-8", "replace")
