"""Checks the TypeScript and JavaScript files of a run (the optional tree-sitter front end).

A bytes screen first: only files that name a Prisma client, a transaction or a release are
parsed up front; the modules their transactions call into are parsed on demand. Without the
extra installed, a run that meets such files says once how to enable the code rules.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

from poollint.findings import Finding
from poollint.python.source import ParseFailure
from poollint.javascript import INSTALL_HINT, is_available, is_javascript_file, is_skipped_path
from poollint.limits import UnreadableFile, read_bytes

if TYPE_CHECKING:
    from poollint.javascript.module import JsModule
    from poollint.javascript.project import JsProject
    from poollint.rules.javascript import Judge

logger = logging.getLogger(__name__)
T = TypeVar("T")

# `// noqa: DBP101` on the line; `// poollint-disable-next-line DBP101` on the line above
_NOQA = re.compile(r"//\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_DISABLE_NEXT = re.compile(r"//\s*poollint-disable-next-line(?:\s+(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
                           re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
# A file a rule may report in builds a client (`new PrismaClient(`, also through an alias or a
# namespace), opens an interactive transaction or disconnects; a mere type import does not count.
_SCREEN = re.compile(rb"new\s+[\w$.]*PrismaClient\b|\bPrismaClient\s*(?:as\b|:)|\$transaction\s*[(<]|\$disconnect\s*\(")


def javascript_files(files: Sequence[Path]) -> list[Path]:
    return [path for path in files if is_javascript_file(path) and not is_skipped_path(path)]


def mentions_prisma(data: bytes) -> bool:
    # the literal test first: bytes.find runs at memory speed, the expression only on the few files left
    return (b"PrismaClient" in data or b"$transaction" in data or b"$disconnect" in data) \
        and _SCREEN.search(data) is not None


def check_javascript(files: Sequence[Path], root: Path, display_path: Callable[[Path], str],
                     duplicate_threshold: int = 2) -> tuple[list[Finding], list[str], int, int]:
    """Findings, notices for the user, the number of files read and of internal errors."""
    candidates = javascript_files(files)
    if not candidates:
        return [], [], 0, 0
    screened: list[tuple[Path, bytes]] = []
    findings: list[Finding] = []
    for path in candidates:
        try:
            data = read_bytes(path, "javascript")
        except UnreadableFile as error:
            findings.append(_not_analyzable(display_path(path), error.reason))
            continue
        if mentions_prisma(data):
            screened.append((path, data))
    if not screened:
        return findings, [], len(candidates), 0
    if not is_available():
        return findings, [
            f"poollint: {len(screened)} TypeScript/JavaScript file{'s' if len(screened) != 1 else ''} use Prisma; "
            f"install the code rules for them with `{INSTALL_HINT}`"
        ], len(candidates), 0
    from poollint.catalog.javascript import javascript_catalog
    from poollint.javascript.module import JsModule
    from poollint.javascript.project import JsProject, absolute
    from poollint.rules.javascript import MAX_DEPTH, Judge

    project = JsProject(absolute(root))
    project.register_packages([absolute(path) for path in candidates])
    judge = Judge(project, javascript_catalog(), display_path, duplicate_threshold)
    crashes: list[Finding] = []

    def guarded(path: Path, step: Callable[[], T], fallback: T) -> T:
        """One file's crash (a bug of ours, a tree too deep) is reported once; the run goes on."""
        try:
            return step()
        except (Exception, RecursionError) as error:
            logger.debug("TypeScript rules crashed on %s", path, exc_info=True)
            crashes.append(_not_analyzable(display_path(path), f"internal error in the TypeScript rules: "
                                                               f"{error.__class__.__name__}: {error}"))
            return fallback

    modules = []
    for path, data in screened:
        module = guarded(path, lambda: JsModule(absolute(path), data), None)
        if module is not None:
            project.add(module)
            modules.append((path, module))
    sites_by_module = {}
    for path, module in modules:
        sites_by_module[module.path] = guarded(path, lambda: judge.constructions(module), [])
    # classes whose instances keep a client, and the classes whose instances keep those (a service that
    # keeps a model that keeps the client), as deep as the rules follow calls
    searched: set[str] = set()
    for _ in range(MAX_DEPTH):
        owner_names = judge.owner_names() - searched
        if not owner_names:
            break
        searched |= owner_names
        _add_files_matching(candidates, screened, modules, project, _names_pattern(rb"\bnew\s+", owner_names, rb"(?![\w$])"))
        for path, module in modules:
            sites_by_module.setdefault(module.path, []).extend(guarded(path, lambda: judge.instantiations(module), []))
    factory_names = {name for (_, name) in judge.factories if name != "default"}
    if factory_names:
        _add_files_matching(candidates, screened, modules, project, _names_pattern(rb"\b", factory_names, rb"\s*\("))
        for path, module in modules:
            sites_by_module.setdefault(module.path, []).extend(guarded(path, lambda: judge.factory_calls(module), []))
    all_sites = []
    for path, module in modules:
        sites = sites_by_module.get(module.path, [])
        all_sites.extend(sites)
        guarded(path, lambda: _judge_module(judge, project, module, sites), None)
    guarded(absolute(root), lambda: judge.judge_duplicates(all_sites), None)
    texts = {module.path: module.data for _, module in modules}
    kept = [f for f in judge.findings if not _suppressed(f, texts, display_path)]
    return findings + kept + crashes, [], len(candidates), len(crashes)


def _judge_module(judge: "Judge", project: "JsProject", module: "JsModule", sites: list) -> None:
    is_script = project.is_script(module)
    is_test = project.is_test(module.path)
    judge.judge_creation(sites, is_test=is_test, is_script=is_script)
    judge.judge_transactions(module)
    if is_script and not is_test:
        judge.judge_script(module, [s for s in sites if s.placement != "loop"])


def _names_pattern(before: bytes, names: set[str], after: bytes) -> "re.Pattern[bytes]":
    return re.compile(before + rb"(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")" + after)


def _add_files_matching(candidates: Sequence[Path], screened: list[tuple[Path, bytes]], modules: list,
                        project: object, pattern: "re.Pattern[bytes]") -> None:
    """Files that call a project factory or build an object of a project class that keeps a client, by
    name, though they never say `PrismaClient`."""
    from poollint.javascript.module import JsModule
    from poollint.javascript.project import absolute

    already = {path for path, _ in screened} | {path for path, _ in modules}
    for path in candidates:
        if path in already:
            continue
        try:
            data = read_bytes(path, "javascript")
        except OSError:
            continue
        if pattern.search(data):
            module = JsModule(absolute(path), data)
            project.add(module)  # type: ignore[attr-defined]
            modules.append((path, module))


def _suppressed(finding: Finding, texts: dict[Path, bytes], display_path: Callable[[Path], str]) -> bool:
    data = next((d for p, d in texts.items() if display_path(p) == finding.path), None)
    if data is None:
        return False
    lines = data.decode("utf-8", "replace").splitlines()
    for number, pattern in ((finding.line, _NOQA), (finding.line - 1, _DISABLE_NEXT)):
        if 1 <= number <= len(lines):
            match = pattern.search(lines[number - 1])
            if match is None:
                continue
            codes = match.group("codes")
            if not codes or any(finding.code.startswith(code.upper()) for code in _CODE.findall(codes)):
                return True
    return False


def _not_analyzable(path: str, reason: str) -> Finding:
    from poollint.engine.analyze import not_analyzable

    return not_analyzable(path, ParseFailure(reason))
