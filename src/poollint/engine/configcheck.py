"""The configuration half of a run: build the deployment model, run the DBP4xx rules, apply noqa."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence

from poollint.config.lines import fails_on_template_markup
from poollint.config.project import (
    DeploymentModel, add_python_facts, load_config_file, merge_compose_files, scan_python,
)
from poollint.config.pyscan import PythonFacts
from poollint.engine.files import is_config_file, is_python_file
from poollint.findings import Finding
from poollint.engine.suppress import NOQA, SLASH_NOQA, is_suppressed
from poollint.limits import escapes, read_bytes
from poollint.rules.meta import NotAnalyzable
from poollint.settings import Settings

logger = logging.getLogger(__name__)


def build_model(config_files: Iterable[Path], python_files: Iterable[Path], settings: Settings,
                shown: Callable[[Path], str], screen: Callable[[bytes], bool] = lambda data: True,
                dotenv: frozenset[Path] = frozenset(),
                known_facts: Optional[Mapping[Path, PythonFacts]] = None,
                overrides: Optional[Mapping[Path, str]] = None) -> DeploymentModel:
    """`dotenv`: files read as .env whatever their name (the `env-files` setting); `known_facts`:
    Python files' facts computed (or cached) by the Python pass, so they are not parsed twice;
    `overrides`: texts read instead of some configuration files (by resolved path)."""
    model = DeploymentModel(catalog=settings.catalog, overrides=dict(overrides or {}))
    config_files = list(config_files)
    known_facts = known_facts or {}
    for path in python_files:
        facts = known_facts.get(path)
        if facts is not None:
            add_python_facts(model, shown(path), facts, bool(config_files), lambda p=path: _read_text(p))
            continue
        try:
            data = read_bytes(path, "python")
        except OSError:
            continue
        scan_python(model, shown(path), data, settings.catalog, screen, attribution=bool(config_files))
    # a variable the code hands to a database library holds a URL whatever its name (`DB_CONNECTION`)
    extra = (*settings.url_variables, *sorted(model.consumers))
    for path in config_files:
        load_config_file(model, path, shown(path), extra, as_dotenv=path in dotenv)
    merge_compose_files(model)
    return model


def _read_text(path: Path) -> str:
    try:
        return read_bytes(path, "python").decode("utf-8", "replace")
    except OSError:
        return ""


# Where a project keeps deployment files next to the ones a hook passes (prisma/schema.prisma, k8s/...).
CONTEXT_SUBDIRECTORIES = ("prisma", "deploy", "k8s", "kubernetes", "manifests", "infra")


def context_files(files: Sequence[Path], paths: Sequence[Path], root: Path) -> list[Path]:
    """Config files around single files named on the command line (pre-commit passes only staged files).

    For each such file: its directory and every parent up to the project root, plus their
    `prisma/`, `k8s/`, ... subdirectories; not the whole tree, so that unrelated projects
    in one repository (examples, fixtures) do not leak into each other.
    """
    if all(p.is_dir() for p in paths):
        return []  # a directory is its own context
    root = root.resolve()
    directories: list[Path] = []
    for path in paths:
        if path.is_dir():
            continue
        directory = path.resolve().parent
        while True:
            for candidate in (directory, *(directory / sub for sub in CONTEXT_SUBDIRECTORIES)):
                if candidate not in directories and candidate.is_dir():
                    directories.append(candidate)
            if directory == root or directory.parent == directory or root not in directory.parents:
                break
            directory = directory.parent
    found: list[Path] = []
    for directory in directories:
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            continue
        found += [p for p in entries if p.is_file() and is_config_file(p) and p not in files and not escapes(p, root)]
    return found


def _configured_env_files(paths: Sequence[Path], root: Path, settings: Settings, known: Sequence[Path]) -> list[Path]:
    """Files named by `env-files` (globs relative to the project root) inside the checked paths."""
    if not settings.env_files:
        return []
    base = (settings.root or root).resolve()
    targets = [p.resolve() for p in paths]
    known_resolved = {p.resolve() for p in known}
    found: list[Path] = []
    for pattern in settings.env_files:
        try:
            matches = sorted(base.glob(pattern))
        except (ValueError, OSError):
            continue
        for match in matches:
            resolved = match.resolve()
            if match.is_file() and resolved not in known_resolved and match not in found and any(
                    resolved == t or t in resolved.parents for t in targets):
                found.append(match)
    return found


def check_config(files: Sequence[Path], paths: Sequence[Path], root: Path, settings: Settings,
                 shown: Callable[[Path], str], screen: Callable[[bytes], bool] = lambda data: True,
                 known_facts: Optional[Mapping[Path, PythonFacts]] = None,
                 overrides: Optional[Mapping[Path, str]] = None) -> tuple[list[Finding], int]:
    """DBP4xx findings for the config files among `files`, with the rest of the project as context;
    `overrides`: texts read instead of some configuration files (by resolved path)."""
    from poollint.rules import config_rules

    checked = [p for p in files if is_config_file(p)]
    python = [p for p in files if is_python_file(p) and not is_config_file(p)]
    dotenv_files = _configured_env_files(paths, root, settings, checked)
    checked += dotenv_files
    files = [*files, *dotenv_files]
    if not checked and not python:
        return [], 0
    if not any(settings.is_enabled(rule.code, rule.opt_in) for rule in config_rules()):
        python = []  # Python is scanned only to judge URLs; DBP000 for config files still counts
    reported = {shown(p) for p in files}
    context = [p for p in (context_files(files, paths, root) if checked else []) if shown(p) not in reported]
    model = build_model([*checked, *context], python, settings, shown, screen, dotenv=frozenset(dotenv_files),
                        known_facts=known_facts, overrides=overrides)
    if checked:
        reported |= {path for path, owners in model.env_files.items() if owners & reported}  # env_file: of a checked compose file
    findings: list[Finding] = [
        Finding(code=NotAnalyzable.code, name=NotAnalyzable.name, message=reason, path=path, line=line,
                column=1, fix_hint=NotAnalyzable.fix_hint)
        for path, line, reason in model.errors
        if path in reported and not fails_on_template_markup(model.files.get(path, ()), line)
    ]
    errors = 0
    for rule_class in config_rules():
        if not settings.is_enabled(rule_class.code, rule_class.opt_in):
            continue
        try:
            produced = list(rule_class(model, settings).check())
        except Exception as error:  # one rule's bug must not hide the others' findings
            logger.debug("rule %s crashed", rule_class.code, exc_info=True)
            errors += 1
            findings.append(Finding(code=NotAnalyzable.code, name=NotAnalyzable.name,
                                    message=f"internal error in {rule_class.code}: {error.__class__.__name__}",
                                    path=next(iter(sorted(reported)), "."), line=1, column=1))
            continue
        for finding in produced:
            if finding.path not in reported:
                continue
            lines = model.files.get(finding.path, ())
            noqa = SLASH_NOQA if finding.path.endswith((".prisma", ".ts", ".js", ".mjs", ".cjs", ".mts")) else NOQA
            if is_suppressed(finding.code, lines, (finding.line, finding.line - 1), noqa):
                continue
            findings.append(finding)
    return sorted(set(findings), key=Finding.sort_key), errors
