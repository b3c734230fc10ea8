"""Pass one: per-module facts of a whole project (module-scope clients, factories, entry points), read with the stdlib `ast` and cached on disk by file size and mtime.

Rules of pass two ask a `ProjectIndex` about other modules: DBP103 (the same datasource built at
import time by several modules), and DBP101/DBP104 (factories defined in another module).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from poollint.catalog.model import Catalog
from poollint.pyast import Outline, word_pattern
from poollint.engine.files import collect_less_often, frozen_heap, ignore_interrupts, is_built_in_excluded
from poollint.python.source import ParseFailure, decode
from poollint.limits import read_bytes
from poollint.paths import file_stamp, is_test_path, resolved, stamps_digest
from poollint.python.facts import (MAX_CHAIN_DEPTH, ModuleFacts, index_source, module_name_from_relative, read_module,
                                   src_is_package, summary_words)
from poollint.python.names import (SourceRoots, imports_in_source, infer_source_roots, module_loading_pattern,
                                   root_packages, rooted, roots_to_json)
from poollint.python.loading import CONVENTIONAL, StartSigns, may_name_modules
from poollint.python.project import ProjectIndex, facts_digest
from poollint.engine.plan import screen_vocabularies
from poollint.python.screen import (VOCABULARIES, ScreenWords, ScreenedFile, content_digest, names_a_screen_call, parse_text,
                                    STANDARD_LIBRARY, passes_catalog_screen, passes_screen, screen_file, screen_words)
from poollint.settings import Settings

logger = logging.getLogger(__name__)

# what marks a project's root: its packaging, its repository, its poollint configuration; and a setup.py
# outside a package (`_is_root_with`: projects that predate pyproject.toml; `app/setup.py` is a module)
PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", ".git", "poollint.toml", ".poollint.toml")
PROJECT_MARKERS_SET = frozenset(PROJECT_MARKERS)
INDEX_FORMAT = 30  # 4: call summaries (ModuleFacts.calls); 5: openers; 6: script-shaped modules; 7: inheriting
# classes; 8: every file's imports; 9: re-exports; 10: classes keeping what a project function returns;
# 11: importers of each project name; 12: imported packages; 13: importers from every file's text;
# 14: openers through builders the project re-exports; 15: database libraries every file imports;
# 16: source roots (the first part of every import, the project's name parts)
# 17: routed views and settings that run every view in a transaction (ATOMIC_REQUESTS)
# 18: functions that install a parameter as module state
# 19: classes keeping what a project callable opens (ModuleFacts.project_holders); lazy singleton factories
# 20: a factory's other candidate callables (Factory.alternatives)
# 21: the parameters a module function's result may carry (ModuleFacts.result_parameters)
# 22: factories memoised in a dict of their class
# 23: what a scheduler runs (ModuleFacts.scheduled); 24: beat entries under any name
# 25: which modules something outside may load (StartSigns), and loading by computed names
# 26: classes lending what they keep (ModuleFacts.lent_holders), parameters only borrowed; calls on self.<object>
# 27: parameters filled from a dependency (ModuleFacts.dependencies, dependency_aliases)
# 28: the engines a project builds, with their SQLite database (ModuleFacts.engines)
# 29: a src/ folder with an __init__.py is the package `src` (module names keep it)
# 30: generators that query the session before they yield it (ModuleFacts.begun_yields)


# -- the project ----------------------------------------------------------------------------------
def find_project_root(path: Path, settings: Optional[Settings] = None, within: Optional[Path] = None,
                      is_root: Optional[dict[Path, bool]] = None) -> Path:
    """The nearest directory at or above `path` holding pyproject.toml/setup.cfg/.git; with none,
    `within` (the directory the run was started on) when `path` is below it, else `path`'s directory.

    A tree without any marker (an unpacked archive, an app folder) is one project from the top
    the user pointed at: its packages import each other, and a root per directory would cut them apart.
    A home folder or the file system's root is never that top. `is_root`: what one run already knows
    of each directory (its files' folders share their parents)."""
    start = resolved(path)
    start = start if start.is_dir() else start.parent
    known = is_root if is_root is not None else {}
    for directory in (start, *start.parents):
        if directory not in known:
            known[directory] = any((directory / marker).exists() for marker in PROJECT_MARKERS) or (
                (directory / "setup.py").exists() and not (directory / "__init__.py").exists())
        if known[directory]:
            return directory
    if within is not None:
        top = resolved(within)
        top = top if top.is_dir() else top.parent
        # never a home folder or the file system's root: an editor may run flake8 there on one file
        if (start == top or top in start.parents) and top.parent != top and top != resolved(Path.home()):
            return top
    return start


def _is_root_with(filenames: list[str], dirnames: list[str]) -> bool:
    """Whether a directory holding these files and subdirectories is a project's root (PROJECT_MARKERS)."""
    return bool(PROJECT_MARKERS_SET.intersection(filenames)) or ".git" in dirnames or (
        "setup.py" in filenames and "__init__.py" not in filenames)


def project_files(root: Path, is_excluded: Optional[Callable[[Path], bool]] = None) -> list[tuple[str, Path]]:
    """(root-relative POSIX path, path) of the project's Python files; nested projects are their own.
    `is_excluded`: None when nothing is (a path is built only to be asked)."""
    out: list[tuple[str, Path]] = []
    top = str(root)
    # plain strings below the root: a warm run walks every project, and pathlib's parsing showed
    for directory, dirnames, filenames in os.walk(top):
        if directory != top and _is_root_with(filenames, dirnames):
            dirnames[:] = []
            continue
        dirnames[:] = sorted(name for name in dirnames if not is_built_in_excluded(name)
                             and not (is_excluded is not None and is_excluded(Path(directory, name))))
        folder = os.path.relpath(directory, top).replace(os.sep, "/")
        prefix = "" if folder == "." else folder + "/"
        for filename in sorted(filenames):
            if filename.endswith(".py"):
                path = Path(directory, filename)
                if is_excluded is not None and is_excluded(path):
                    continue
                out.append((prefix + filename, path))
    return out


def project_text_files(root: Path) -> list[tuple[str, Path]]:
    """(root-relative POSIX path, path) of the project's files that may name a module to load by its
    name or path (python/loading.py may_name_modules): code, configuration, scripts, documents. Also
    those the settings exclude from checking: an excluded script still runs."""
    out: list[tuple[str, Path]] = []
    for directory, dirnames, filenames in os.walk(root):
        base = Path(directory)
        dirnames[:] = sorted(name for name in dirnames if not is_built_in_excluded(name))
        for filename in sorted(filenames):
            if may_name_modules(filename):
                out.append(((base / filename).relative_to(root).as_posix(), base / filename))
    return out


def build_index(root: Path, settings: Settings, *, use_cache: bool = True,
                wanted: frozenset[str] = frozenset()) -> ProjectIndex:
    """The project's index, reusing the cached facts of every file whose size and mtime did not change.

    Files are indexed when they pass the runner's byte screen, or when they mention the name
    of a factory found so far (`get_engine()` in app/deps.py returning `make_engine()` of
    app/db.py), a few rounds deep. Of the files the run checks (`wanted`, root-relative), the
    ones read here are screened too (`ProjectIndex.screened`).
    """
    root = root.resolve()
    files = project_files(root, settings.is_excluded if settings.excludes_anything else None)
    cache_path = _cache_path(root, settings) if use_cache else None
    stats = {relative: file_stamp(path) for relative, path in files}
    manifest = stamps_digest(stats)
    compact_path = cache_path.with_name(cache_path.stem + "-compact.json") if cache_path is not None else None
    if use_cache:
        compact = _read_json(compact_path)
        if compact.get("manifest") == manifest:
            try:
                index = ProjectIndex.from_compact(root, compact)
            except (KeyError, TypeError, ValueError):
                pass
            else:
                index.text_files = partial(project_text_files, root)
                index.manifest = manifest
                _load_spelling_answers(index, cache_path)
                return index
    cached = _read_json(cache_path) if use_cache else {}
    previous = cached.get("files", {})
    if not isinstance(previous, dict):
        previous = {}
    entries: dict[str, dict[str, Any]] = {}
    src_package = src_is_package(root)
    names = {relative: module_name_from_relative(relative, src_package) for relative, _ in files}
    # the index screens the run's files with the words the runner uses (ProjectIndex.project_packages)
    project = frozenset(name.split(".")[0] for name in names.values() if name)
    name_parts = frozenset(part for name in names.values() for part in name.split("."))
    changed = False
    source_roots: SourceRoots = ()
    screened: list[str] = []
    syntax_only: list[str] = []  # checked files that name a library but call nothing: only parsed
    screened_files: dict[str, ScreenedFile] = {}

    def read(relatives: Sequence[str], only_syntax: Sequence[str] = ()) -> None:
        nonlocal changed
        if not relatives and not only_syntax:
            return
        changed = True
        jobs = [(str(root), relative, names[relative], _SCREEN if relative in wanted else _INDEX)
                for relative in relatives] + [(str(root), relative, "", _SYNTAX) for relative in only_syntax]
        for (_, relative, _, mode), (facts, screened_file) in zip(
                jobs, _index_files(jobs, settings, project | root_packages(source_roots), source_roots)):
            if mode != _SYNTAX:  # a file only parsed stays unread: a later round may index it
                entries[relative]["read"] = True
                entries[relative]["facts"] = facts
                decoded.pop(relative, None)
            if screened_file is not None:
                screened_files[relative] = screened_file

    decoded: dict[str, ModuleFacts] = {}  # relative path -> its facts as read: each round asks again

    def modules() -> dict[str, ModuleFacts]:
        found = {}
        for relative, entry in entries.items():
            if entry["facts"]:
                if relative not in decoded:
                    decoded[relative] = ModuleFacts.from_json(entry["facts"])
                found[decoded[relative].module] = decoded[relative]
        return found

    registrations = _registration_pattern(settings.catalog)
    module_objects = _module_object_pattern(settings.catalog)
    loading_calls = module_loading_pattern(settings.catalog.guards.module_loading_calls)
    start_signs = StartSigns(settings.catalog.guards)
    # a setting that runs every view in a transaction (RequestTransactionSpec), and the URLconfs that say
    # which functions are views: request handlers for every rule (roles.py), and what that setting holds
    request_settings, request_routes = _request_transaction_patterns(settings.catalog)
    names_hold_setting = _hold_setting_test(settings.catalog)
    hold_uses = _hold_use_pattern(settings.catalog)
    holding: list[str] = []  # files that may query what such a setting keeps: read once one sets it
    routing: list[str] = []
    kept: list[str] = []  # files whose cached entry stands
    new_parts = name_parts - frozenset(cached.get("parts", ())) if previous else frozenset()
    library_packages = screen_words(settings).packages
    external = summary_words(settings.catalog).external_pattern
    for relative, path in files:
        stat = stats[relative]
        if stat is None:
            continue
        old = previous.get(relative)
        # an entry stands while its file is unchanged and nothing it imports became a name of the
        # project (its imports keep only those: `shop.db` counts once backend/shop/ appears)
        if isinstance(old, dict) and tuple(old.get("stat", ())) == stat and "starts" in old \
                and new_parts.isdisjoint(old.get("heads", ())):
            entries[relative] = old
            kept.append(relative)
            continue
        changed = True
        try:
            data = read_bytes(path, "python", root)
        except OSError:
            continue
        # what it imports of the project (which modules one process loads together, re-exports);
        # `from models.models import x` run from backend/ names backend.models.models; and which
        # database libraries, by package (ProjectIndex.imported_packages: `engine.connect()` on an
        # engine of unknown origin is SQLAlchemy's in a project that imports it, in any module)
        imported = imports_in_source(data, names[relative], relative, loading_calls)
        heads = {name.split(".")[0] for name in imported}
        entries[relative] = {"stat": list(stat), "read": False, "facts": None, "factory_screen": "",
                             "imports": [name for name in imported if name.split(".")[0] in name_parts]
                             + sorted(heads & library_packages), "heads": sorted(heads),
                             # whether something outside may load it, whether it loads modules by computed names
                             "starts": start_signs.started(relative, data),
                             "dynamic": not is_test_path(Path(relative)) and start_signs.loads_by_computed_name(data)}
        names_library = passes_screen(data, settings)  # scanned once: most files fail here
        if (names_library and (names_a_screen_call(data, settings) or module_objects.search(data))) \
                or registrations.search(data) \
                or external.search(data) or (request_settings is not None and request_settings.search(data)) \
                or names_hold_setting(data):
            screened.append(relative)
        else:
            if relative in wanted and names_library:
                syntax_only.append(relative)
            if request_routes is not None and request_routes.search(data):
                routing.append(relative)
            if hold_uses is not None and hold_uses.search(data):
                holding.append(relative)
    # where absolute imports start (`backend/` of a service run from there), from every file's imports:
    # facts read with other roots name other modules, so those files are read again
    source_roots = infer_source_roots({names[relative]: entry["imports"] for relative, entry in entries.items()},
                                      names.values(), library_packages | STANDARD_LIBRARY)
    if roots_to_json(source_roots) != cached.get("roots", []):
        changed = True
        for relative in kept:
            if entries[relative]["read"]:
                entries[relative].update(read=False, facts=None, factory_screen="")
                screened.append(relative)
    read(screened, syntax_only)
    if routing:
        read([relative for relative in routing if not entries[relative]["read"]])
    if holding and any(module.hold_settings for module in modules().values()):
        read([relative for relative in holding if not entries[relative]["read"]])
    def imports_of(relative: str) -> tuple[str, ...]:
        return tuple(rooted(name, names[relative], source_roots) for name in entries[relative].get("imports", ()))

    # modules that call a factory found so far, or a function that may make an external call
    # (the chain DBP2xx follows from a transaction into other modules), a round per step; and modules
    # that import what another module lends to call out through (`from app.llm import client`)
    for _ in range(MAX_CHAIN_DEPTH):
        so_far = ProjectIndex(root, modules())
        factory_names = sorted({name.rsplit(".", 1)[-1] for name in (*so_far.pool_factories(), *so_far.reaching_callables(),
                                                                      *so_far.library_builders(settings.catalog),
                                                                      *so_far.holder_builders(),
                                                                      *so_far.followed_bases(),
                                                                      *so_far.opening_callables(settings.catalog),
                                                                      *so_far.lent_callees())})
        # and modules that import a session every module shares, or what a model class stands on (`from
        # app.extensions import db` for `db.session.get()` or `class User(db.Model)`), a base class a round at a time
        lent = so_far.external_bindings() | so_far.session_foundations(settings.catalog)
        if not factory_names and not lent:
            break
        factory_digest = hashlib.sha256("\0".join([*factory_names, "\1", *sorted(lent)]).encode()).hexdigest()[:16]
        pattern = word_pattern(factory_names) if factory_names else None
        mentioning = []
        for relative, entry in entries.items():
            if entry["read"] or entry.get("factory_screen") == factory_digest:
                continue
            changed = True
            entry["factory_screen"] = factory_digest
            if lent and not lent.isdisjoint(imports_of(relative)):
                mentioning.append(relative)
                continue
            if pattern is None:
                continue
            try:
                data = read_bytes(root / relative, "python", root)
            except OSError:
                continue
            if pattern.search(data):
                mentioning.append(relative)
        if not mentioning:
            break
        read(mentioning)
    if use_cache and (changed or set(previous) != set(entries) or new_parts):
        _write_cache(root, cache_path, {"files": entries, "roots": roots_to_json(source_roots),
                                        "parts": sorted(name_parts)})

    facts_json = {e["facts"]["module"]: e["facts"] for e in entries.values() if e["facts"]}
    index = ProjectIndex(root, modules(), names, facts_digest(facts_json), other_imports={
        names[relative]: imports_of(relative) for relative, entry in entries.items() if not entry["facts"]},
        project_imports={names[relative]: imports_of(relative) for relative in entries}, source_roots=source_roots,
        inert=frozenset(relative for relative, entry in entries.items() if not entry["starts"]),
        conventional=frozenset(relative for relative, entry in entries.items() if entry["starts"] == CONVENTIONAL),
        loads_dynamically=any(entry["dynamic"] for entry in entries.values()))
    if use_cache:
        _write_cache(root, compact_path, {"manifest": manifest, **index.compact(settings.catalog)})
    index.screened = screened_files
    index.text_files = partial(project_text_files, root)
    index.manifest = manifest
    if use_cache:
        _load_spelling_answers(index, cache_path)
    return index


def _spelling_path(cache_path: Optional[Path]) -> Optional[Path]:
    return cache_path.with_name(cache_path.stem + "-spelling.json") if cache_path is not None else None


def _load_spelling_answers(index: ProjectIndex, cache_path: Optional[Path]) -> None:
    """The answers of `ProjectIndex.files_spelling` the last run kept (the index uses them while the
    project's text files are unchanged)."""
    stored = _read_json(_spelling_path(cache_path))
    answers = stored.get("answers")
    if isinstance(stored.get("manifest"), str) and isinstance(answers, dict) and all(
            isinstance(word, str) and isinstance(files, list) and all(isinstance(f, str) for f in files)
            for word, files in answers.items()):
        index.known_spelling, index.known_spelling_manifest = answers, stored["manifest"]


def keep_spelling_answers(index: ProjectIndex, settings: Settings) -> None:
    """Writes the run's `files_spelling` answers for the next run, when it worked out new ones."""
    manifest, answers = index.spelling_answers()
    if not answers or (manifest == index.known_spelling_manifest and answers.keys() <= index.known_spelling.keys()):
        return
    if manifest == index.known_spelling_manifest:
        answers = {**index.known_spelling, **answers}
    _write_cache(index.root, _spelling_path(_cache_path(index.root, settings)), {"manifest": manifest, "answers": answers})


def _registration_pattern(catalog: Catalog) -> "re.Pattern[bytes]":
    """Bytes of a module-scope command registration by a call, or of a schedule, so that the index reads
    its module."""
    guards = catalog.guards
    decorators = "|".join(re.escape(n) for n in sorted(guards.command_decorator_attributes)) or "(?!)"
    methods = "|".join(re.escape(n) for n in sorted(guards.command_registration_methods)) or "(?!)"
    # ...and what puts a function on a schedule, anywhere in the module (ModuleFacts.scheduled)
    schedules = "|".join(re.escape(n) for n in sorted(guards.periodic_schedule_settings)) or "(?!)"
    scheduling = "|".join(re.escape(n) for n in sorted(guards.periodic_registration_methods)) or "(?!)"
    return re.compile(rf"^\w[\w.]*\.(?:(?:{decorators})\([^\n]*\)|(?:{methods}))\(\s*\w"
                      rf"|\b(?:{schedules})\b|\.(?:{scheduling})\(|[\"']schedule[\"'][ \t]*:".encode(), re.MULTILINE)


def _module_object_pattern(catalog: Catalog) -> "re.Pattern[bytes]":
    """Bytes of a module-scope name bound to an object a rule follows (`db = SQLAlchemy()` of
    app/extensions.py): modules that import it use that object (ProjectIndex.object_origin)."""
    names = "|".join(re.escape(n) for n in sorted(catalog.object_builder_names())) or "(?!)"
    return re.compile(rf"^[A-Za-z_]\w*[ \t]*(?::[^=\n]*)?=[ \t]*(?:await[ \t]+)?(?:[\w.]+\.)?(?:{names})\(".encode(),
                      re.MULTILINE)


def _request_transaction_patterns(catalog: Catalog) -> tuple[Optional["re.Pattern[bytes]"], Optional["re.Pattern[bytes]"]]:
    """Bytes of a setting that runs every view in a transaction, and of a module that routes views."""
    specs = catalog.request_transactions
    if not specs:
        return None, None
    settings = "|".join(sorted(re.escape(spec.setting) for spec in specs))
    names = sorted({name.rsplit(".", 1)[-1].rstrip("()") for spec in specs for name in (*spec.routes, *spec.router_methods)})
    return (re.compile(rf"[\"']({settings})[\"']".encode()),
            re.compile(rf"\b({'|'.join(re.escape(n) for n in names)})\(".encode()))


def _hold_setting_test(catalog: Catalog) -> Callable[[bytes], bool]:
    """Whether a file's bytes may set a setting that makes the framework keep a connection through a
    request (ImplicitTransactionSpec.setting: Django's `"pool"` in a module naming its PostgreSQL backend)."""
    tests = [(re.compile(rf"[\"']{re.escape(spec.setting)}[\"']".encode()), [w.encode() for w in spec.setting_words])
             for spec in catalog.implicit_transactions if spec.setting]
    if not tests:
        return lambda data: False
    return lambda data: any(all(word in data for word in words) and quoted.search(data) is not None
                            for quoted, words in tests)


def _hold_use_pattern(catalog: Catalog) -> Optional["re.Pattern[bytes]"]:
    """Bytes of a module that may define or query what a setting-enabled hold keeps (Django's models, their
    `objects`, `get_object_or_404(...)`): read when the project's settings enable that hold."""
    specs = [spec for spec in catalog.implicit_transactions if spec.setting]
    words = sorted({part for spec in specs for query in spec.model_queries for part in query.rsplit(".", 2)[-2:]}
                   | {name.rsplit(".", 1)[-1] for spec in specs for name in spec.begin_functions})
    return re.compile(rf"\b({'|'.join(re.escape(w) for w in words)})\b".encode()) if words else None


# Below this many files to read, starting worker processes costs more than it saves
# (a forked worker starts in a few milliseconds; a file takes about ten to read).
MIN_FILES_FOR_POOL = 24
_WORKER_CATALOG: Optional[Catalog] = None
_WORKER_WORDS: Optional[ScreenWords] = None
_IndexResult = tuple[Optional[dict[str, Any]], Optional[ScreenedFile]]


_WORKER_PROJECT: frozenset[str] = frozenset()
_WORKER_ROOTS: SourceRoots = ()


_WORKER_VOCABULARIES: frozenset[str] = VOCABULARIES


def _init_index_worker(catalog: Catalog, project_packages: frozenset[str] = frozenset(),
                       vocabularies: frozenset[str] = VOCABULARIES, source_roots: SourceRoots = ()) -> None:
    global _WORKER_CATALOG, _WORKER_WORDS, _WORKER_PROJECT, _WORKER_VOCABULARIES, _WORKER_ROOTS
    ignore_interrupts()
    collect_less_often()
    _WORKER_CATALOG = catalog
    _WORKER_WORDS = None
    _WORKER_PROJECT = project_packages
    _WORKER_ROOTS = source_roots
    _WORKER_VOCABULARIES = vocabularies


# What a job asks of a file: its module facts; those and the screen's verdict (a file the run
# checks); or only whether it parses (a checked file that names a library but calls nothing
# the screen looks for: no rule can report in it, but a syntax error is still reported).
_INDEX, _SCREEN, _SYNTAX = 0, 1, 2


def _index_file(job: tuple[str, str, str, int]) -> _IndexResult:
    """The module's facts, and for a file the run checks, the screen's verdict and URL facts from the same parse."""
    global _WORKER_WORDS
    root, relative, module, mode = job
    catalog = _WORKER_CATALOG
    assert catalog is not None
    try:
        data = read_bytes(Path(root) / relative, "python", Path(root))
    except OSError:
        return None, None
    if mode == _INDEX:
        facts = index_source(data, module, relative, catalog, _WORKER_PROJECT, _WORKER_ROOTS)
        return (facts.to_json() if facts is not None else None), None
    from poollint.config.pyscan import python_facts

    if _WORKER_WORDS is None:
        # at least as wide as the runner's words will be (its project words are not known yet): the
        # project's own packages may hold clients, any project function may reach an external call
        _WORKER_WORDS = ScreenWords.from_catalog(catalog, project_packages=_WORKER_PROJECT,
                                                 extra_packages=_WORKER_PROJECT, vocabularies=_WORKER_VOCABULARIES)
    words = _WORKER_WORDS
    text = decode(data)
    if isinstance(text, ParseFailure):
        return None, screen_file(data, text, None, words, None)
    tree = parse_text(text)
    if isinstance(tree, ParseFailure):
        return None, screen_file(data, tree, None, words, None)
    if mode == _SYNTAX:
        return None, ScreenedFile(content_digest(data), False, frozenset(),
                                  python_facts(data, catalog, True, tree).to_json())
    outline = Outline(tree)
    # a module that defines project words is screened all the same: the runner trusts the verdict only
    # when the whole project's words hold none of them (ProjectIndex.defines_screen_words)
    facts = read_module(tree, text, module, relative, catalog, outline, _WORKER_PROJECT, _WORKER_ROOTS)
    # read as the runner reads them (`passes_screen`): the runner keeps them whatever its own screen says
    url_facts = python_facts(data, catalog, passes_catalog_screen(data, catalog), tree, outline)
    screened = screen_file(data, tree, outline, words, url_facts.to_json())
    if screened.could_report:  # the runner's analysis need not parse it with ast again
        from poollint.python.slicing import slice_for_rules

        test_file = is_test_path(Path(root) / relative)
        screened = replace(screened, test_file=test_file, relevant_text=slice_for_rules(
            text, tree, words, catalog, outline, test_file=test_file))
    return (facts.to_json() if facts is not None else None), screened


def _index_files(jobs: list[tuple[str, str, str, int]], settings: Settings,
                 project_packages: frozenset[str] = frozenset(), source_roots: SourceRoots = ()) -> list[_IndexResult]:
    """Facts of many files: in worker processes for a cold start of a large project."""
    import multiprocessing

    # the screen's verdicts follow the enabled rules' plan; when it is "no screen" the runner ignores them
    vocabularies = VOCABULARIES
    if any(mode == _SCREEN for *_, mode in jobs):
        plan = screen_vocabularies(settings)  # an empty plan (no Python rule enabled) looks for nothing
        vocabularies = VOCABULARIES if plan is None else plan
    workers = min(os.cpu_count() or 1, len(jobs) // (MIN_FILES_FOR_POOL // 4) or 1)
    # flake8's -j workers are daemonic and may not start processes of their own
    if len(jobs) < MIN_FILES_FOR_POOL or workers <= 1 or multiprocessing.current_process().daemon:
        _init_index_worker(settings.catalog, project_packages, vocabularies, source_roots)
        return [_index_file(job) for job in jobs]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with frozen_heap(), multiprocessing.get_context(method).Pool(
        workers, initializer=_init_index_worker,
        initargs=(settings.catalog, project_packages, vocabularies, source_roots)
    ) as pool:
        return pool.map(_index_file, jobs, chunksize=8)


def _cache_path(root: Path, settings: Settings) -> Optional[Path]:
    """Where the index is cached; None when the project's cache directory cannot be trusted (a symlink)."""
    from poollint.engine.cache import cache_directory, code_fingerprint

    directory = cache_directory(root)
    if directory is None:
        return None
    # the root is part of the name: a shared `--cache-dir` holds the indexes of several projects
    digest = hashlib.sha256(f"{INDEX_FORMAT}:{code_fingerprint()}:{settings.fingerprint()}:{root}".encode()).hexdigest()
    return directory / f"index-{digest[:20]}.json"


def _read_json(path: Optional[Path]) -> dict[str, Any]:
    """A cache file's content; {} when missing, half-written, damaged or not ours (a miss, never an error)."""
    from poollint.engine.cache import read_entry

    data = read_entry(path) if path is not None else None
    return data if isinstance(data, dict) else {}


def _write_cache(root: Path, path: Optional[Path], payload: dict[str, Any]) -> None:
    from poollint.engine.cache import write_entry
    from poollint.limits import atomic_write

    if path is None:
        return
    try:
        ignore = path.parent / ".gitignore"
        if not os.path.lexists(ignore):
            atomic_write(ignore, b"# created by poollint\n*\n")
        write_entry(path, {"root": str(root), **payload})
        _remove_stale_indexes(path)
    except OSError as error:  # a read-only checkout still lints, just without a cache
        logger.debug("cannot write the project index cache %s: %s", path, error)


# Indexes written under another poollint version or configuration are kept this long, in case a
# concurrent run (another flake8 configuration, an older poollint in pre-commit) still reads them.
_STALE_INDEX_SECONDS = 24 * 3600


def _remove_stale_indexes(current: Path) -> None:
    """Old indexes in poollint's own cache directory (cache_directory refused it if it were a link)."""
    import stat as stat_module
    import time

    for other in current.parent.glob("index-*.json"):
        try:
            status = os.lstat(other)
            if other != current and stat_module.S_ISREG(status.st_mode) \
                    and time.time() - status.st_mtime > _STALE_INDEX_SECONDS:
                other.unlink()
        except OSError:
            pass


_PROCESS_INDEXES: dict[tuple[str, str], ProjectIndex] = {}


def index_for_file(path: Path, settings: Settings) -> ProjectIndex:
    """The index of the project holding `path`, built once per process (the flake8 plugin's door).
    Without a project marker, the project is the working directory flake8 runs in, as for the CLI
    run there."""
    root = find_project_root(path, within=Path.cwd())
    key = (str(root), settings.fingerprint())
    if key not in _PROCESS_INDEXES:
        _PROCESS_INDEXES[key] = build_index(root, settings)
    return _PROCESS_INDEXES[key]


def indexes_for(paths: Sequence[Path], settings: Settings, *, use_cache: bool = True,
                within: Optional[Path] = None) -> dict[Path, ProjectIndex]:
    """One index per project root among `paths` (the CLI's door), each screening the paths below it.
    `within`: the run's root, the project of files that have no marker above them."""
    roots: dict[Path, Path] = {}
    wanted: dict[Path, set[str]] = {}
    is_root: dict[Path, bool] = {}
    for path in paths:
        directory = path.parent
        if directory not in roots:
            roots[directory] = find_project_root(path, within=within, is_root=is_root)
        root = roots[directory]
        below = wanted.setdefault(root, set())
        try:  # resolved as the runner looks the file up (ProjectIndex.relative)
            below.add(resolved(path).relative_to(root).as_posix())
        except (ValueError, OSError, RuntimeError):
            pass  # outside the project: the runner screens it itself
    return {root: build_index(root, settings, use_cache=use_cache, wanted=frozenset(relatives))
            for root, relatives in wanted.items()}


def index_covering(indexes: dict[Path, ProjectIndex], path: Path) -> Optional[ProjectIndex]:
    """The index of the innermost project holding `path`."""
    if not indexes:
        return None
    full = str(resolved(path))
    best: Optional[ProjectIndex] = None
    for root, index in indexes.items():
        prefix = str(root)
        if full == prefix or full.startswith(prefix.rstrip(os.sep) + os.sep):
            if best is None or len(root.parts) > len(best.root.parts):
                best = index
    return best
