"""Safe autofixes: a registry of codemods keyed by rule code, applied and verified one file at a time.

A fix is kept only when the file re-analyzes to the same findings minus the ones
it claims to fix; a file with a parse error is never touched.
"""
from __future__ import annotations

import codecs
import difflib
import io
import os
import stat
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from poollint.config.lines import split_lines, split_lines_keeping_ends
from poollint.config.urls import mask_text
from poollint.engine.baseline import fingerprint
from poollint.findings import Finding
from poollint.limits import atomic_write, read_bytes
from poollint.rules.fixes import CONFIGURATION, PYTHON, Codemod, FixRequest, all_codemods
from poollint.settings import Settings


# An analyzer returns a file's findings for its bytes (in a run over `paths`), or None when it cannot tell.
Analyzer = Callable[[Path, str, bytes, Settings, Sequence[Path]], Optional[list]]


@dataclass(frozen=True)
class FixerEntry:
    code: str
    fix: Codemod
    applies_to: Callable[[Path], bool]
    analyze: Analyzer


def _entries() -> dict[str, FixerEntry]:
    """Each family's codemods (rules/fixes/) with the analyzer that verifies them, by rule code."""
    by_kind = {PYTHON: (is_python, analyze_python_bytes), CONFIGURATION: (is_configuration, analyze_config_bytes)}
    return {code: FixerEntry(code, fix, *by_kind[kind]) for code, (kind, fix) in sorted(all_codemods().items())}


def fixable_codes() -> frozenset[str]:
    return frozenset(FIXERS)


# -- one file --------------------------------------------------------------------------------
@dataclass
class FileFix:
    path: Path
    shown: str
    old_text: str
    new_text: str
    encoding: str
    bom: bool
    descriptions: list[str] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text

    def diff(self) -> str:
        lines = difflib.unified_diff(
            split_lines_keeping_ends(self.old_text), split_lines_keeping_ends(self.new_text),
            fromfile=self._label("a"), tofile=self._label("b"),
        )
        return "".join(mask_text(_terminated(line)) for line in lines)

    def _label(self, side: str) -> str:
        return self.shown if self.shown.startswith("/") else f"{side}/{self.shown}"

    def write(self) -> None:
        """Replaces the file whole (a full disk or a crash leaves the old text), keeping its permissions;
        raises OSError when it cannot."""
        data = (codecs.BOM_UTF8 if self.bom else b"") + self.new_text.encode(self.encoding)
        target = self.path.resolve()  # a link inside the project stays a link; its target is fixed
        mode = stat.S_IMODE(os.stat(target).st_mode)
        atomic_write(target, data)
        os.chmod(target, mode)


def _terminated(line: str) -> str:
    return line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"


def _read(path: Path) -> Optional[tuple[str, str, bool]]:
    """(text, encoding, had a UTF-8 BOM), or None when the file cannot be decoded."""
    try:
        data = read_bytes(path, "python")
    except OSError:
        return None
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline) if path.suffix in (".py", ".pyi") \
            else ("utf-8", None)
        text = data[len(codecs.BOM_UTF8) if bom else 0:].decode("utf-8" if encoding == "utf-8-sig" else encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None
    if "\x00" in text:
        return None
    return text, ("utf-8" if encoding == "utf-8-sig" else encoding), bom


def _comparable(findings: Iterable[Finding], text: str) -> Counter:
    lines = split_lines(text)
    return Counter((f.code, fingerprint(f, lines).line_hash) for f in findings)


def fix_file(path: Path, shown: str, codes: Iterable[str], settings: Settings,
             paths: Sequence[Path] = ()) -> Optional[FileFix]:
    """Applies every registered fixer for `codes` that verifies; None when the file is left alone."""
    read = _read(path)
    if read is None:
        return None
    text, encoding, bom = read
    result = FileFix(path, shown, text, text, encoding, bom)
    for code in sorted(set(codes)):
        entry = FIXERS.get(code)
        if entry is None or not entry.applies_to(path) or not settings.is_enabled(code):
            continue
        data = result.new_text.encode(encoding)
        before = _enabled(entry.analyze(path, shown, data, settings, paths or [path]), shown, settings)
        if before is None or any(f.code == "DBP000" for f in before):
            return None  # never touch a file that does not parse
        targets = tuple(f for f in before if f.code == code)
        if not targets:
            continue
        attempt = entry.fix(FixRequest(path, shown, result.new_text, targets, settings))
        if attempt is None or attempt.new_text == result.new_text or not attempt.fixed:
            continue
        try:
            data = attempt.new_text.encode(encoding)
        except UnicodeEncodeError:
            continue
        after = _enabled(entry.analyze(path, shown, data, settings, paths or [path]), shown, settings)
        if after is None:
            continue
        remaining = [f for f in before if f not in attempt.fixed]
        if _comparable(after, attempt.new_text) != _comparable(remaining, result.new_text):
            continue  # the edit changed more than the findings it claims: not safe
        result.new_text = attempt.new_text
        result.descriptions.append(attempt.description)
        result.fixed.extend(attempt.fixed)
    return result if result.changed else None


def _enabled(findings: Optional[list], shown: str, settings: Settings) -> Optional[list]:
    if findings is None:
        return None
    return [f for f in findings
            if settings.is_enabled(f.code) and not settings.is_ignored_by_path(f.code, f.path)]


def fix_findings(findings: Sequence[Finding], settings: Settings, paths: Sequence[Path] = ()) -> list[FileFix]:
    """Fixes for every file holding a finding some fixer handles, in path order; `paths` are the run's."""
    codes_by_path: dict[str, set[str]] = {}
    for finding in findings:
        if finding.code in fixable_codes():
            codes_by_path.setdefault(finding.path, set()).add(finding.code)
    fixes = []
    for shown in sorted(codes_by_path):
        fixed = fix_file(Path(shown), shown, codes_by_path[shown], settings, paths)
        if fixed is not None:
            fixes.append(fixed)
    return fixes


# -- analyzers ----------------------------------------------------------------------------------
def is_python(path: Path) -> bool:
    return path.suffix in (".py", ".pyi")


def analyze_python_bytes(path: Path, shown: str, data: bytes, settings: Settings,
                         paths: Sequence[Path] = ()) -> Optional[list]:
    from poollint.engine.runner import analyze_python, module_name_for, project_root

    module_name = module_name_for(path, project_root([path], settings))
    findings, errors = analyze_python(path, shown, data, settings, screen=False, module_name=module_name)
    return None if errors else findings


# -- DBP408 / DBP402: one URL on one line of a configuration file ----------------------------------
def is_configuration(path: Path) -> bool:
    return not is_python(path)


def analyze_config_bytes(path: Path, shown: str, data: bytes, settings: Settings,
                         paths: Sequence[Path] = ()) -> Optional[list]:
    """The file's DBP4xx findings in a run over `paths` (its Python tells who reads a URL), `data` its content."""
    from poollint.engine.configcheck import check_config
    from poollint.engine.files import discover
    from poollint.engine.runner import project_root
    from poollint.paths import display_path
    from poollint.python.screen import passes_screen

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    paths = list(paths) or [path]
    files = list(discover(paths, settings.is_excluded))
    findings, errors = check_config(files, paths, project_root(paths, settings), settings, display_path,
                                    lambda content: passes_screen(content, settings), overrides={path.resolve(): text})
    return None if errors else [f for f in findings if f.path == shown]


FIXERS: dict[str, FixerEntry] = _entries()
