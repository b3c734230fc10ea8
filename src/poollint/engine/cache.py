"""Per-file results on disk, keyed by content, poollint version and settings.

Entries are written to a temporary file and renamed into place, so concurrent
runs (flake8 workers, two terminals) never read a half-written entry; a
corrupt, unreadable or wrongly-typed entry is a miss. The cache lives in the
checked tree, which poollint does not trust: symlinks in it are not followed,
every entry carries a checksum, and no entry holds a password.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from poollint import __version__
from poollint.config.urls import holds_secret, mask_text
from poollint.findings import Finding, Location
from poollint.python.cst.modules import reads_still_hold
from poollint.limits import atomic_write, read_bytes

if TYPE_CHECKING:
    from poollint.python.project import ProjectIndex

CACHE_DIR_NAME = ".poollint_cache"
# Where to keep the cache instead of `<project>/.poollint_cache` (`--cache-dir` sets it for the run).
CACHE_DIR_VARIABLE = "POOLLINT_CACHE_DIR"
# An entry no run has read or written for this long is removed by the next run's pruning.
STALE_AFTER_SECONDS = 7 * 24 * 3600
PRUNE_EVERY_SECONDS = 24 * 3600


_CODE_FINGERPRINT: Optional[str] = None


def code_fingerprint() -> str:
    """Sizes and mtimes of poollint's own files: an edited rule invalidates the cache even without a new version."""
    global _CODE_FINGERPRINT
    if _CODE_FINGERPRINT is None:
        package = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256(__version__.encode())
        for path in sorted(package.rglob("*")):
            if path.suffix in (".py", ".toml"):
                stat = path.stat()
                digest.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        _CODE_FINGERPRINT = digest.hexdigest()
    return _CODE_FINGERPRINT


def cache_key(data: bytes, shown: str, module_name: str, settings_fingerprint: str, extra: str = "") -> str:
    digest = hashlib.sha256()
    for part in (code_fingerprint(), settings_fingerprint, shown, module_name, extra):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(data)
    return digest.hexdigest()


def cache_directory(root: Path) -> Optional[Path]:
    """`$POOLLINT_CACHE_DIR` when set, else `.poollint_cache` below `root`; created if missing; None when
    it cannot be trusted.

    The checked tree is not ours: a `.poollint_cache` (or a directory in it) that is a symlink
    would make poollint write, and prune old indexes, wherever it points, so such a cache is
    not used at all.
    """
    configured = os.environ.get(CACHE_DIR_VARIABLE)
    if configured:
        try:  # the user's own choice, outside the checked tree: its parents may be created
            Path(configured).parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
    directory = Path(configured) if configured else root / CACHE_DIR_NAME
    return directory if _real_directory(directory) else None


def _real_directory(directory: Path) -> bool:
    """`directory` is a directory and no symlink (created when missing)."""
    try:
        directory.mkdir(exist_ok=True)
        return stat.S_ISDIR(os.lstat(directory).st_mode)
    except OSError:
        return False


# An entry is this header, the checksum of what follows, a newline and the payload's JSON: the checksum is
# taken over the bytes as written, so a reader need not write the payload again to check it
_ENTRY_HEADER = b"poollint-cache 2 "


def read_entry(path: Path) -> Optional[Any]:
    """A JSON document poollint wrote with `write_entry`; None when missing, damaged, not ours or not a file."""
    try:
        data = read_bytes(path, "cache", follow_symlinks=False)
    except OSError:
        return None
    header, _, body = data.partition(b"\n")
    if not header.startswith(_ENTRY_HEADER) or header[len(_ENTRY_HEADER):] != _checksum(path.name, body).encode():
        return None  # torn, edited, moved from another key or written by another version: a miss, never a wrong answer
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def write_entry(path: Path, payload: Any) -> None:
    """Writes `payload` with a checksum over it and the entry's name; the directories on the way must be real."""
    if not _real_directory(path.parent):
        raise OSError(f"{path.parent} is not a directory poollint created")
    body = json.dumps(payload).encode("utf-8", "surrogatepass")
    atomic_write(path, _ENTRY_HEADER + _checksum(path.name, body).encode() + b"\n" + body)


def _checksum(name: str, body: bytes) -> str:
    return hashlib.sha256(f"{__version__}\0{name}\0".encode("utf-8", "surrogateescape") + body).hexdigest()


def _is_int(value: Any, minimum: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


_FINDING_TEXT = ("code", "name", "message", "path", "fix_hint")
_LOCATION_TEXT = ("path", "message")


def _finding(item: Any) -> Finding:
    """A cached finding, checked field by field: a wrong type must cost the entry, not the run."""
    if not isinstance(item, dict) or set(item) != {*_FINDING_TEXT, "line", "column", "end_line", "end_column",
                                                   "related"}:
        raise ValueError("not a finding")
    related = item["related"]
    if not (all(isinstance(item[k], str) for k in _FINDING_TEXT) and _is_int(item["line"], 1)
            and _is_int(item["column"], 1) and _is_int(item["end_line"]) and _is_int(item["end_column"])
            and isinstance(related, list)):
        raise ValueError("not a finding")
    locations = []
    for location in related:
        if not (isinstance(location, dict) and set(location) == {*_LOCATION_TEXT, "line", "column"}
                and all(isinstance(location[k], str) for k in _LOCATION_TEXT)
                and _is_int(location["line"], 1) and _is_int(location["column"], 1)):
            raise ValueError("not a location")
        locations.append(Location(**location))
    return Finding(**{**item, "related": tuple(locations)})


@dataclass
class RunRecord:
    """Of the files of one project in a run: those the screen skipped, with their URL facts as JSON, and
    the key of every other file's cached result (root-relative paths)."""

    skipped: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)


class ResultCache:
    """Entries live under `files/<poollint's code fingerprint>/`: when poollint changes, the whole
    folder of the old version is stale and pruning removes it at once. Within one version an entry
    read again is touched, and one untouched for a week is removed (`prune`)."""

    def __init__(self, root: Path) -> None:
        base = cache_directory(root)
        self.files = base / "files" if base is not None else None
        self.directory = self.files / code_fingerprint()[:16] if self.files is not None else None

    def _entry(self, key: str) -> Optional[Path]:
        return self.directory / key[:2] / f"{key[2:]}.json" if self.directory is not None else None

    def prune(self, now: Optional[float] = None) -> int:
        """Removes other versions' folders and entries untouched for a week, at most once a day;
        returns how many entries it removed."""
        if self.files is None:
            return 0
        now = time.time() if now is None else now
        marker = self.files / ".last-prune"
        try:
            if now - marker.stat().st_mtime < PRUNE_EVERY_SECONDS:
                return 0
        except OSError:
            pass
        removed = 0
        try:
            versions = list(self.files.iterdir())
        except OSError:
            return 0
        for version in versions:
            try:
                if not stat.S_ISDIR(os.lstat(version).st_mode):
                    continue  # a symlink is never followed, let alone emptied
            except OSError:
                continue
            entries = [Path(folder, name) for folder, _, names in os.walk(version) for name in names
                       if name.endswith(".json")]
            if version != self.directory:
                removed += len(entries)
                shutil.rmtree(version, ignore_errors=True)
                continue
            for entry in entries:
                try:
                    if now - os.lstat(entry).st_mtime > STALE_AFTER_SECONDS:
                        entry.unlink()
                        removed += 1
                except OSError:
                    continue
        try:
            marker.touch()
        except OSError:
            pass
        return removed

    def get(self, key: str, index: "Optional[ProjectIndex]" = None) -> Optional[tuple[list[Finding], int, Any]]:
        """(findings, internal errors, the file's facts for the configuration rules as JSON) or None.
        `index`: the run's project index, which answers again what the cached analysis asked of it."""
        entry = self._entry(key)
        payload = read_entry(entry) if entry is not None else None
        if not isinstance(payload, dict) or set(payload) - {"reads"} != {"findings", "errors", "facts"}:
            return None
        # findings that followed calls into other modules hold while those files are unchanged
        reads = payload.get("reads", {})
        if not isinstance(reads, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in reads.items()):
            return None
        if reads and not reads_still_hold(reads, index):
            return None
        if not isinstance(payload["findings"], list) or not _is_int(payload["errors"]):
            return None
        if payload["facts"] is not None and not isinstance(payload["facts"], (list, dict)):
            return None
        try:
            findings = [_finding(item) for item in payload["findings"]]
        except (ValueError, TypeError):
            return None
        try:
            os.utime(entry)  # still in use: pruning keeps it
        except OSError:
            pass
        return findings, payload["errors"], payload["facts"]

    def last_run(self, index: "ProjectIndex", settings_fingerprint: str) -> "RunRecord":
        """What the last run from this directory over the same files of `index`'s project found of each
        (`RunRecord`): while no Python file of the project changed (`ProjectIndex.manifest`), the screen,
        which reads a file's bytes, the settings and the project's facts, says the same of each, and each
        file's result is under the same key, so a warm run need not read them."""
        entry = self._record_entry(index, settings_fingerprint)
        payload = read_entry(entry) if entry is not None else None
        if not (isinstance(payload, dict) and index.manifest and payload.get("manifest") == index.manifest):
            return RunRecord()
        skipped, keys = payload.get("skipped"), payload.get("keys")
        if not (isinstance(skipped, dict) and all(isinstance(k, str) and isinstance(v, list) for k, v in skipped.items())
                and isinstance(keys, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items())):
            return RunRecord()
        try:
            os.utime(entry)  # still in use: pruning keeps it
        except OSError:
            pass
        return RunRecord(skipped, keys)

    def put_last_run(self, index: "ProjectIndex", settings_fingerprint: str, record: "RunRecord") -> None:
        entry = self._record_entry(index, settings_fingerprint)
        if entry is None or not index.manifest:
            return
        # facts quoting a URL with a secret are never written (see `put`): such a file is read every run
        skipped = {relative: facts for relative, facts in record.skipped.items() if not holds_secret(json.dumps(facts))}
        self._write(entry, {"manifest": index.manifest, "skipped": skipped, "keys": record.keys})

    def _record_entry(self, index: "ProjectIndex", settings_fingerprint: str) -> Optional[Path]:
        if self.directory is None:
            return None
        # the working directory too: results show paths relative to it, and their keys hold them
        digest = hashlib.sha256(f"{settings_fingerprint}\0{index.root}\0{os.getcwd()}".encode(
            "utf-8", "surrogateescape")).hexdigest()
        return self.directory / f"run-{digest[:20]}.json"

    def put(self, key: str, findings: list[Finding], errors: int, facts: Any = None,
            reads: Optional[dict[str, str]] = None) -> None:
        entry = self._entry(key)
        if entry is None or self.directory is None:
            return
        payload = {
            "findings": [
                {**{k: v for k, v in f.as_dict().items() if k != "related"},
                 "related": [r.__dict__ for r in f.related]}
                for f in findings
            ],
            "errors": errors,
            # nothing poollint writes may hold a password: facts quoting a URL with a secret are
            # computed again on the next run instead of being stored
            "facts": None if facts is not None and holds_secret(json.dumps(facts)) else facts,
            "reads": reads or {},
        }
        for item in payload["findings"]:
            item["message"] = mask_text(item["message"])
        self._write(entry, payload)

    def _write(self, entry: Path, payload: Any) -> None:
        """Writes an entry of this version's folder, the folders on the way and the cache's `.gitignore`
        first; nothing when a folder is no real directory or the checkout is read-only."""
        assert self.files is not None and self.directory is not None
        try:
            if not (_real_directory(self.files.parent) and _real_directory(self.files)
                    and _real_directory(self.directory)):
                return
            ignore = self.files.parent / ".gitignore"
            if not os.path.lexists(ignore):
                atomic_write(ignore, b"# created by poollint\n*\n")
            write_entry(entry, payload)
        except OSError:
            pass  # a read-only checkout still lints, just without a cache
