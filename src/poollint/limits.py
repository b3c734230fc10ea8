"""What poollint agrees to read: regular files only, at most so many bytes per kind, never through a
symlink that leaves the project. Every file the checked tree holds is read here, so a FIFO, a device or a
huge file costs a DBP000 with its reason instead of a hung or exhausted run.
"""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import Iterator, Optional

from poollint.paths import resolved_folder

# Bytes read per kind of file. Python passes a byte screen before anything parses it, so a large file
# that names no database library stays cheap; the parsers' own caps are below.
MAX_BYTES = {
    "python": 64_000_000,
    "javascript": 16_000_000,
    "config": 5_000_000,
    "yaml": 2_000_000,  # compose, Kubernetes, serverless.yml: pyyaml reads about a megabyte a second
    "settings": 2_000_000,  # pyproject.toml, poollint.toml
    "cache": 64_000_000,  # .poollint_cache entries and indexes
    "baseline": 64_000_000,
}
# What the parsers are given: `ast` and libcst use tens to hundreds of times a file's size in memory
# (libcst: 13 MB of source took 6.9 GB), so beyond these a file is reported as too large.
MAX_AST_BYTES = 8_000_000
MAX_CST_CHARS = 1_500_000
# Values assembled from `${VAR}` references (.env, compose): an exponential chain of references is cut here.
MAX_INTERPOLATED_CHARS = 65_536
# Scalars and collections a YAML document may expand to through aliases (billion laughs), beyond its own size.
MAX_YAML_EXPANSION = 1_000_000
# Seconds one configuration file may take to read. Every reader is linear and takes well under a second
# on a file at the cap; the budget is what stops a future reader's quadratic (or endless) case.
CONFIG_SECONDS = 10.0


class OverBudget(BaseException):
    """Raised inside a reader that ran past its time budget. A BaseException: a reader's own
    `except Exception` must not swallow it."""


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Interrupts the block with OverBudget after `seconds` (POSIX, main thread, no timer already set;
    elsewhere the block runs unbounded and the size caps are what protect the run)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread() \
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise OverBudget()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class UnreadableFile(OSError):
    """A file poollint will not read; `reason` is what DBP000 says."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def megabytes(size: int) -> str:
    """A size as a user reads it: `30 KB`, `1.5 MB`, `64 MB`."""
    if size < 1_000_000:
        return f"{size // 1000} KB" if size >= 1000 else f"{size} bytes"
    return f"{size / 1_000_000:.1f} MB" if size < 10_000_000 else f"{size // 1_000_000} MB"


def escapes(path: Path, root: Optional[Path]) -> bool:
    """The path lies below `root` as written, but a symlink on the way takes it outside."""
    if root is None:
        return False
    # plain strings: a run asks this of every file it reads, and pathlib's parsing was most of the cost
    try:
        absolute = os.path.abspath(path)
        real_root = str(resolved_folder(str(root)))
        if not (_is_below(absolute, os.path.abspath(root)) or _is_below(absolute, real_root)):
            return False  # named outside the project: the user asked for it
        # one resolve per directory, not per file: a large tree asks for every file
        directory, name = os.path.split(absolute)
        target = str(path.resolve()) if os.path.islink(path) else os.path.join(str(resolved_folder(directory)), name)
    except (OSError, RuntimeError, ValueError):
        return False
    return not _is_below(target, real_root)


def _is_below(path: str, folder: str) -> bool:
    """`Path(path).is_relative_to(folder)` for two normalized absolute paths."""
    path, folder = os.path.normcase(path), os.path.normcase(folder)
    return path == folder or path.startswith(folder if folder.endswith(os.sep) else folder + os.sep)


def read_bytes(path: Path, kind: str, root: Optional[Path] = None, *, follow_symlinks: bool = True) -> bytes:
    """The file's bytes; raises UnreadableFile (an OSError) with a reason for anything but a regular file
    within the size cap of `kind`, or a symlink out of `root` (the project)."""
    limit = MAX_BYTES[kind]
    if root is not None and escapes(path, root):
        raise UnreadableFile("a symlink to a file outside the project, not followed")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not wait for one
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP and not follow_symlinks:
            raise UnreadableFile("a symlink, not followed") from None
        raise UnreadableFile(f"cannot read: {error.strerror or error}") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableFile(f"not a regular file ({_file_type(status.st_mode)}), skipped")
        if status.st_size > limit:
            raise UnreadableFile(f"too large to read ({megabytes(status.st_size)}; the limit is {megabytes(limit)})")
        chunks = []
        total = 0
        while True:  # a file that grows while read is cut at the cap as well
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UnreadableFile(f"too large to read (over {megabytes(limit)})")
        return b"".join(chunks)
    except UnreadableFile:
        raise
    except OSError as error:
        raise UnreadableFile(f"cannot read: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a file"


def atomic_write(path: Path, data: bytes) -> None:
    """Writes a temporary file beside `path` and renames it into place: `path` is never left half-written."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
