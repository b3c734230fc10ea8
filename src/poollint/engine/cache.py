"""Per-file results on disk, keyed by content, poollint version and settings.

Entries are written to a temporary file and renamed into place, so concurrent
runs (flake8 workers, two terminals) never read a half-written entry; a
corrupt or unreadable entry is a miss.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional

from poollint import __version__
from poollint.engine.findings import Finding, Location

CACHE_DIR_NAME = ".poollint_cache"


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


class ResultCache:
    def __init__(self, root: Path) -> None:
        self.directory = root / CACHE_DIR_NAME / "files"

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key[2:]}.json"

    def get(self, key: str) -> Optional[tuple[list[Finding], int, Any]]:
        """(findings, internal errors, the file's facts for the configuration rules as JSON) or None."""
        try:
            payload = json.loads(self._entry(key).read_text(encoding="utf-8"))
            findings = [
                Finding(**{**item, "related": tuple(Location(**r) for r in item["related"])})
                for item in payload["findings"]
            ]
            return findings, int(payload["errors"]), payload["facts"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, findings: list[Finding], errors: int, facts: Any = None) -> None:
        entry = self._entry(key)
        payload = {
            "findings": [
                {**{k: v for k, v in f.as_dict().items() if k != "related"},
                 "related": [r.__dict__ for r in f.related]}
                for f in findings
            ],
            "errors": errors,
            "facts": facts,
        }
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.directory.parent / ".gitignore"
            if not ignore.exists():
                _atomic_write(ignore, "# created by poollint\n*\n")
            _atomic_write(entry, json.dumps(payload))
        except OSError:
            pass  # a read-only checkout still lints, just without a cache


def _atomic_write(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
