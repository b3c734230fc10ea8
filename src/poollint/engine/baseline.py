"""Fingerprints that survive moved code, and the baseline file that records today's findings by them.

A finding's fingerprint is its rule, its path and a hash of the offending line's
normalized text; its context hash adds the nearest non-blank lines around it.
Neither includes the line number, so lines inserted above a finding change nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from poollint.engine.findings import Finding

BASELINE_VERSION = 1


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


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def read_lines(path: str) -> list[str]:
    """The file's lines as text; an unreadable file has none (its findings then hash on the rule alone)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()


def _neighbour(lines: Sequence[str], index: int, step: int) -> str:
    index += step
    while 0 <= index < len(lines):
        text = normalize(lines[index])
        if text:
            return text
        index += step
    return ""


def fingerprint(finding: Finding, lines: Sequence[str], path: Optional[str] = None) -> Fingerprint:
    index = finding.line - 1
    line = normalize(lines[index]) if 0 <= index < len(lines) else ""
    context = (_neighbour(lines, index, -1), line, _neighbour(lines, index, +1))
    return Fingerprint(
        code=finding.code,
        path=path if path is not None else finding.path,
        line_hash=_digest(finding.code, line),
        context_hash=_digest(finding.code, *context),
    )


def fingerprints(findings: Sequence[Finding], base: Optional[Path] = None) -> list[Fingerprint]:
    """One fingerprint per finding, reading each file once; paths relative to `base` when given."""
    cache: dict[str, list[str]] = {}
    out = []
    for finding in findings:
        if finding.path not in cache:
            cache[finding.path] = read_lines(finding.path)
        out.append(fingerprint(finding, cache[finding.path], _relative(finding.path, base)))
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
    """Records `findings`; returns how many. Entries are sorted so the file diffs well in review."""
    base = path.resolve().parent
    counts: Counter = Counter()
    messages: dict[tuple[str, str, str, str], str] = {}
    for finding, fp in zip(findings, fingerprints(findings, base)):
        counts[fp.exact_key] += 1
        messages.setdefault(fp.exact_key, finding.message)
    entries = [
        {"code": code, "path": file, "line_hash": line_hash, "context_hash": context_hash,
         "count": count, "message": messages[(code, file, line_hash, context_hash)]}
        for (code, file, line_hash, context_hash), count in sorted(counts.items())
    ]
    document = {"poollint_baseline": BASELINE_VERSION, "findings": entries}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return sum(counts.values())


@dataclass(frozen=True)
class Baseline:
    exact: Counter  # (code, path, line_hash, context_hash) -> count
    path: Path

    @classmethod
    def load(cls, path: Path) -> "Baseline":
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise BaselineError(f"cannot read baseline {path}: {error.strerror or error}") from None
        except (ValueError, UnicodeDecodeError) as error:
            raise BaselineError(f"baseline {path} is not valid JSON: {error}") from None
        if not isinstance(document, dict) or document.get("poollint_baseline") != BASELINE_VERSION:
            raise BaselineError(f"{path} is not a poollint baseline (version {BASELINE_VERSION})")
        exact: Counter = Counter()
        for entry in _entries(document, path):
            exact[(entry["code"], entry["path"], entry["line_hash"], entry["context_hash"])] += entry["count"]
        return cls(exact=exact, path=path)

    def new_findings(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings the baseline does not account for, in their original order.

        Exact matches (same line and neighbours) are consumed first; what remains matches
        on the line alone, so a finding whose neighbours changed is still recognised, and
        a line that occurs once more than recorded yields exactly one new finding.
        """
        prints = fingerprints(findings, self.path.resolve().parent)
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
    for entry in entries:
        valid = isinstance(entry, dict) and all(
            isinstance(entry.get(key), str) for key in ("code", "path", "line_hash", "context_hash")
        ) and isinstance(entry.get("count", 1), int) and not isinstance(entry.get("count", 1), bool)
        if not valid:
            raise BaselineError(f"baseline {path} has a malformed entry: {json.dumps(entry)[:120]}")
        yield {**entry, "count": entry.get("count", 1)}
