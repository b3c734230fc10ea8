"""Fingerprints that survive moved code, and the baseline file that records today's findings by them.

A finding's fingerprint is its rule, its path and a hash of the offending line's
normalized text; its context hash adds the nearest non-blank lines around it.
Neither includes the line number, so lines inserted above a finding change nothing.
A baseline is committed and read by anyone: lines are hashed after masking (a
password never enters a hash) and keyed with the baseline's own salt.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from poollint.config.lines import split_lines
from poollint.config.urls import mask_text
from poollint.findings import Finding, for_output, printable
from poollint.limits import UnreadableFile, atomic_write, read_bytes

# 1: unsalted hashes of the raw lines (still read); 2: salted hashes of the masked lines.
BASELINE_VERSION = 2
READABLE_VERSIONS = (1, 2)


class BaselineError(Exception):
    """A baseline file that cannot be read; the CLI exits 2 with this message."""


@dataclass(frozen=True)
class Fingerprint:
    code: str
    path: str  # POSIX, relative to the baseline's directory (or the working directory)
    line_hash: str  # the offending line alone
    context_hash: str  # the offending line and its nearest non-blank neighbours

    @property
    def loose_key(self) -> tuple[str, str, str]:
        return (self.code, self.path, self.line_hash)

    @property
    def exact_key(self) -> tuple[str, str, str, str]:
        return (self.code, self.path, self.line_hash, self.context_hash)


def normalize(line: str) -> str:
    """Whitespace-insensitive: re-indenting or re-spacing a line keeps its fingerprint."""
    return " ".join(line.split())


def _digest(salt: str, *parts: str) -> str:
    data = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    if salt:
        return hmac.new(salt.encode(), data, hashlib.sha256).hexdigest()[:32]
    return hashlib.sha256(data).hexdigest()[:32]


def read_lines(path: str) -> list[str]:
    """The file's lines as text; an unreadable file has none (its findings then hash on the rule alone)."""
    try:
        data = read_bytes(Path(path), "python")
    except OSError:
        return []
    return split_lines(data.decode("utf-8", errors="replace"))


def _neighbour(lines: Sequence[str], index: int, step: int) -> str:
    index += step
    while 0 <= index < len(lines):
        text = normalize(lines[index])
        if text:
            return text
        index += step
    return ""


LEGACY = None  # the salt argument that reproduces version 1's hashes of raw lines


def fingerprint(finding: Finding, lines: Sequence[str], path: Optional[str] = None,
                salt: Optional[str] = "") -> Fingerprint:
    """`salt`: the baseline's key; "" for SARIF's public fingerprints; LEGACY to match a version 1 baseline."""
    index = finding.line - 1
    shown = (lambda text: text) if salt is LEGACY else mask_text
    line = shown(normalize(lines[index])) if 0 <= index < len(lines) else ""
    context = (shown(_neighbour(lines, index, -1)), line, shown(_neighbour(lines, index, +1)))
    return Fingerprint(
        code=finding.code,
        path=printable(path if path is not None else finding.path),
        line_hash=_digest(salt or "", finding.code, line),
        context_hash=_digest(salt or "", finding.code, *context),
    )


def fingerprints(findings: Sequence[Finding], base: Optional[Path] = None,
                 salt: Optional[str] = "") -> list[Fingerprint]:
    """One fingerprint per finding, reading each file once; paths relative to `base` when given."""
    cache: dict[str, list[str]] = {}
    out = []
    for finding in findings:
        if finding.path not in cache:
            cache[finding.path] = read_lines(finding.path)
        out.append(fingerprint(finding, cache[finding.path], _relative(finding.path, base), salt))
    return out


def _relative(path: str, base: Optional[Path]) -> str:
    if base is None:
        return path
    try:
        return Path(os.path.relpath(Path(path).resolve(), base.resolve())).as_posix()
    except (ValueError, OSError):  # another drive on Windows
        return Path(path).as_posix()


# -- the baseline file --------------------------------------------------------------------------
def write_baseline(path: Path, findings: Sequence[Finding]) -> int:
    """Records `findings`; returns how many. Entries are sorted so the file diffs well in review.

    The file is written whole or not at all; a directory that is missing or read-only, or a full
    disk, is a BaselineError."""
    base = path.resolve().parent
    salt = _existing_salt(path) or secrets.token_hex(16)  # rewriting keeps the salt: the diff shows real changes
    counts: Counter = Counter()
    messages: dict[tuple[str, str, str, str], str] = {}
    for finding, fp in zip(findings, fingerprints(findings, base, salt)):
        counts[fp.exact_key] += 1
        messages.setdefault(fp.exact_key, for_output(finding, mask_text).message)
    entries = [
        {"code": code, "path": file, "line_hash": line_hash, "context_hash": context_hash,
         "count": count, "message": messages[(code, file, line_hash, context_hash)]}
        for (code, file, line_hash, context_hash), count in sorted(counts.items())
    ]
    document = {"poollint_baseline": BASELINE_VERSION, "salt": salt, "findings": entries}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as error:
        raise BaselineError(f"cannot write baseline {path}: {error.strerror or error}") from None
    return sum(counts.values())


def _existing_salt(path: Path) -> Optional[str]:
    try:
        document = json.loads(read_bytes(path, "baseline"))
    except (OSError, ValueError, RecursionError):
        return None
    salt = document.get("salt") if isinstance(document, dict) else None
    return salt if isinstance(salt, str) and re.fullmatch(r"[0-9a-f]{32}", salt) else None


@dataclass(frozen=True)
class Baseline:
    exact: Counter  # (code, path, line_hash, context_hash) -> count
    path: Path
    salt: Optional[str] = LEGACY

    @classmethod
    def load(cls, path: Path) -> "Baseline":
        try:
            document = json.loads(read_bytes(path, "baseline").decode("utf-8"))
        except UnreadableFile as error:
            raise BaselineError(f"cannot read baseline {path}: {error.reason}") from None
        except (ValueError, UnicodeDecodeError) as error:
            raise BaselineError(f"baseline {path} is not valid JSON: {error}") from None
        except RecursionError:
            raise BaselineError(f"baseline {path} is nested too deeply to be a baseline") from None
        if not isinstance(document, dict) or document.get("poollint_baseline") not in READABLE_VERSIONS:
            raise BaselineError(f"{path} is not a poollint baseline (version {BASELINE_VERSION})")
        salt = LEGACY
        if document["poollint_baseline"] >= 2:
            salt = document.get("salt")
            if not isinstance(salt, str) or not salt:
                raise BaselineError(f"baseline {path} has no `salt`")
        exact: Counter = Counter()
        for entry in _entries(document, path):
            exact[(entry["code"], entry["path"], entry["line_hash"], entry["context_hash"])] += entry["count"]
        return cls(exact=exact, path=path, salt=salt)

    def new_findings(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings the baseline does not account for, in their original order.

        Exact matches (same line and neighbours) are consumed first; what remains matches
        on the line alone, so a finding whose neighbours changed is still recognised, and
        a line that occurs once more than recorded yields exactly one new finding.
        """
        prints = fingerprints(findings, self.path.resolve().parent, self.salt)
        exact = Counter(self.exact)
        loose: Counter = Counter()
        unmatched: list[int] = []
        for index, fp in enumerate(prints):
            if exact[fp.exact_key] > 0:
                exact[fp.exact_key] -= 1
            else:
                unmatched.append(index)
        for (code, file, line_hash, _), count in exact.items():
            loose[(code, file, line_hash)] += count
        new = []
        for index in unmatched:
            key = prints[index].loose_key
            if loose[key] > 0:
                loose[key] -= 1
            else:
                new.append(findings[index])
        return new


def _entries(document: dict, path: Path) -> Iterable[dict[str, Any]]:
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f"baseline {path} has no `findings` list")
    for number, entry in enumerate(entries, start=1):
        valid = isinstance(entry, dict) and all(
            isinstance(entry.get(key), str) for key in ("code", "path", "line_hash", "context_hash")
        ) and isinstance(entry.get("count", 1), int) and not isinstance(entry.get("count", 1), bool) \
            and entry.get("count", 1) >= 1
        if not valid:
            raise BaselineError(f"baseline {path} has a malformed entry (number {number} of `findings`)")
        yield {**entry, "count": entry.get("count", 1)}
