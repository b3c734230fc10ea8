"""Pass two: screen each file, parse survivors once with libcst, run every enabled rule, collect findings.

The byte screen, the cache and the process pool live here; libcst is imported
only when a file passes the screen (engine/analyze.py).
"""
from __future__ import annotations

import ast
import gc
import itertools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from poollint.config.pyscan import PythonFacts, is_module_imported_as, python_facts
from poollint.engine.cache import ResultCache, RunRecord, cache_key
from poollint.engine.files import collect_less_often, discover, ignore_interrupts, is_config_file, is_python_file
from poollint.engine.index import find_project_root, index_covering, indexes_for, keep_spelling_answers
from poollint.engine.plan import screen_vocabularies
from poollint.engine.suppress import file_noqa_codes, is_suppressed_in_file, malformed_noqa
from poollint.findings import Finding
from poollint.javascript import is_javascript_file
from poollint.limits import UnreadableFile, escapes, read_bytes
from poollint.paths import display_path, is_test_path, resolved
from poollint.pyast import Outline, word_pattern
from poollint.python.facts import module_name_of_parts, src_is_package
from poollint.python.reads import take_reads
from poollint.python.project import ProjectIndex, project_screen_words
from poollint.python.screen import (ScreenWords, ScreenedFile, Verdict, content_digest, parse_tree, passes_screen,
                                    screen_verdict)
from poollint.python.source import ParseFailure, decode, with_deep_stack
from poollint.settings import Settings, SettingsResolver

# Below this many files to parse, starting worker processes costs more than it saves.
MIN_FILES_FOR_POOL = 8


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    files_parsed: int = 0
    internal_errors: int = 0  # rule crashes: the run exits 2
    notices: list[str] = field(default_factory=list)  # said once to the user (stderr), never findings
    warnings: list[str] = field(default_factory=list)  # `path:line: warning: ...`, printed on stderr

    def merge(self, other: "RunResult") -> None:
        self.findings = sorted([*self.findings, *other.findings], key=Finding.sort_key)
        self.files_checked += other.files_checked
        self.files_parsed += other.files_parsed
        self.internal_errors += other.internal_errors
        self.warnings += other.warnings
        self.notices += other.notices


# (files analysed so far, files to analyse): the CLI draws progress on a terminal
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunOptions:
    screen: bool = True
    jobs: Optional[int] = None  # None: one per CPU
    cache: bool = True
    progress: Optional[Progress] = field(default=None, compare=False)


def module_name_for(path: Path, root: Optional[Path]) -> str:
    """Dotted module name of a file below the project root, as the index names its modules
    (python/facts.py module_name_of_parts)."""
    try:
        parts = list(resolved(path).relative_to(resolved(root)).with_suffix("").parts) if root else []
    except (ValueError, OSError, RuntimeError):
        parts = []
    return module_name_of_parts(parts or [path.stem], root is not None and src_is_package(root))


def project_root(paths: Sequence[Path], settings: Settings) -> Path:
    """The project root (engine/index.py's PROJECT_MARKERS) above the first path, else that path."""
    if settings.root is not None:
        return settings.root
    return find_project_root(paths[0] if paths else Path.cwd())


def analyze_python(path: Path, shown: str, data: bytes, settings: Settings, *, screen: bool = True,
                   module_name: str = "", index: Optional[ProjectIndex] = None) -> tuple[list[Finding], int]:
    """Findings of one Python file and the number of internal rule errors."""
    findings, errors, _ = analyze_file(path, shown, data, settings, screen=screen, module_name=module_name,
                                       index=index, with_facts=False)
    return findings, errors


def analyze_file(path: Path, shown: str, data: bytes, settings: Settings, *, screen: bool = True,
                 module_name: str = "", index: Optional[ProjectIndex] = None, with_facts: bool = True,
                 screened: Optional[ScreenedFile] = None,
                 url_facts: Any = None) -> tuple[list[Finding], int, Optional[PythonFacts]]:
    """Findings, internal errors and what the file says about database URLs (DBP4xx's input).

    The file is parsed with `ast` once, for the screen and the URL facts; libcst only when
    the screen lets it through. `screened`: what the index pass found for these bytes when
    it holds for this run (`_screen_from_index`); then `ast` is not needed at all. `url_facts`: the
    URL facts the index pass read from these bytes (as JSON) when its screen does not hold: they do not
    depend on the project's words.
    """
    if screen and index is not None and index.holds_request_transactions(index.module_for(path)):
        # a module of views that a setting runs in transactions is analysed whole: the screen looks for calls
        screen, screened = False, None
    if screened is not None and screened.relevant_text is not None and screened.facts is not None \
            and screened.test_file == is_test_path(path):  # the rules' reading of the path decides what is cut
        from poollint.engine.analyze import analyze_source

        findings, errors = with_deep_stack(analyze_source, path, shown, data, settings, module_name=module_name,
                                           index=index, parse_text=screened.relevant_text, absent=screened.absent)
        return findings, errors, PythonFacts.from_json(screened.facts)
    words = project_screen_words(settings, index) if screen else None
    passed_bytes = words is None or words.passes_bytes(data)
    if words is not None and passed_bytes:
        # past the bytes stage, the enabled rules' triggers say what to look for; a rule that
        # declares none may report anywhere, and then nothing is screened
        vocabularies = screen_vocabularies(settings)
        words = None if vocabularies is None else project_screen_words(settings, index, vocabularies)
    outline: Optional[Outline] = None
    if not passed_bytes:
        tree: "ast.Module | ParseFailure | None" = None
        verdict: "Verdict | ParseFailure" = Verdict(False)
    elif words is not None and not words.call_pattern.search(data):
        # names a database library but calls nothing the screen looks for: parsed only so that
        # a syntax error is still reported (DBP000)
        tree = parse_tree(data)
        verdict = tree if isinstance(tree, ParseFailure) else Verdict(False)
    else:
        tree = parse_tree(data)
        outline = Outline(tree) if isinstance(tree, ast.Module) else None
        verdict = screen_verdict(tree, words, outline)
    facts = None
    if with_facts:
        facts = PythonFacts.from_json(url_facts) if url_facts is not None else python_facts(
            data, settings.catalog, passes_screen(data, settings), tree if isinstance(tree, ast.Module) else None, outline)
    if isinstance(verdict, Verdict) and not verdict.could_report:
        return [], 0, facts
    if isinstance(verdict, ParseFailure):
        if verdict.template:
            return [], 0, facts
        if not verdict.newer:
            from poollint.engine.analyze import unreadable_if_it_runs

            return unreadable_if_it_runs(_not_analyzable(shown, verdict), path, index), 0, facts
        if words is not None and not words.call_pattern.search(data):
            return [], 0, facts  # newer syntax that calls nothing the rules look for
        # valid syntax of a newer Python: `ast` can neither screen nor slice it, libcst checks it whole
    from poollint.engine.analyze import analyze_source

    parse_text = None
    if words is not None and isinstance(tree, ast.Module):
        parse_text = _relevant_text(data, tree, words, settings, outline, test_file=is_test_path(path))
    findings, errors = with_deep_stack(analyze_source, path, shown, data, settings, module_name=module_name,
                                       index=index, parse_text=parse_text,
                                       absent=verdict.absent if isinstance(verdict, Verdict) else frozenset())
    return findings, errors, facts


def _relevant_text(data: bytes, tree: ast.Module, words: ScreenWords, settings: Settings,
                   outline: Optional[Outline] = None, test_file: bool = False) -> Optional[str]:
    """The file with the definitions no rule can report on blanked out (python/slicing.py)."""
    from poollint.python.slicing import slice_for_rules

    text = decode(data)
    if isinstance(text, ParseFailure):
        return None
    return slice_for_rules(text, tree, words, settings.catalog, outline, test_file=test_file)


def _not_analyzable(path: str, failure: ParseFailure) -> Finding:
    from poollint.engine.analyze import not_analyzable

    return not_analyzable(path, failure)


# -- worker processes ---------------------------------------------------------------------------
_WORKER_SETTINGS: Optional[Settings] = None
_WORKER_INDEXES: dict[Path, ProjectIndex] = {}


def _init_worker(settings: Settings, indexes: Optional[dict[Path, ProjectIndex]] = None) -> None:
    global _WORKER_SETTINGS, _WORKER_INDEXES
    _WORKER_SETTINGS = settings
    _WORKER_INDEXES = indexes or {}


def _init_pool_worker(settings: Settings, indexes: Optional[dict[Path, ProjectIndex]] = None) -> None:
    ignore_interrupts()
    collect_less_often()
    _init_worker(settings, indexes)
    # the index just unpickled lives as long as the worker: its collections need not walk it again
    gc.freeze()


# findings, internal errors, URL facts, and the other project files the analysis read (path -> digest)
FileResult = tuple[list[Finding], int, Optional[PythonFacts], dict[str, str]]


# a file to analyse: its path, as shown, its module, whether to screen it, what the index pass read of
# it, and whether that screen holds for this run (else only its URL facts do: analyze_file)
_Job = tuple[str, str, str, bool, Optional[ScreenedFile], bool]


def _analyze_job(job: _Job) -> FileResult:
    path, shown, module_name, screen, indexed, trusted = job
    assert _WORKER_SETTINGS is not None
    try:
        data = read_bytes(Path(path), "python")
    except UnreadableFile as error:
        return [_not_analyzable(shown, ParseFailure(error.reason))], 0, None, {}
    if indexed is not None and content_digest(data) != indexed.digest:
        indexed = None  # changed since the index pass read it
    screened = indexed if trusted else None
    url_facts = indexed.facts if indexed is not None and not trusted else None
    take_reads()
    findings, errors, facts = analyze_file(Path(path), shown, data, _WORKER_SETTINGS, screen=screen,
                                           module_name=module_name, index=index_covering(_WORKER_INDEXES, Path(path)),
                                           screened=screened, url_facts=url_facts)
    return findings, errors, facts, take_reads()


def _run_jobs(jobs: list[_Job], sizes: list[tuple[str, int]],
              settings: Settings, workers: int, indexes: Optional[dict[Path, ProjectIndex]] = None,
              progress: Optional[Progress] = None) -> list[FileResult]:
    """Each job's result, in the jobs' order. `sizes`: each job's project root and byte count, which
    decide the order the pool takes them in (_job_order)."""
    if workers <= 1 or len(jobs) < MIN_FILES_FOR_POOL:
        _init_worker(settings, indexes)
        serial: list[FileResult] = []
        for job in jobs:
            serial.append(_analyze_job(job))
            if progress is not None:
                progress(len(serial), len(jobs))
        return serial
    order = _job_order(sizes)
    # one pool per project, each worker given that project's index only: a worker holds one index and
    # what its files parse, never every project's, nor the main process's heap (_worker_context)
    own_index = {str(index.root): {root: index} for root, index in (indexes or {}).items()}
    context = _worker_context()
    done: list[FileResult] = []
    for project, positions in itertools.groupby(order, key=lambda position: sizes[position][0]):
        group = [jobs[position] for position in positions]
        with context.Pool(min(workers, len(group)), initializer=_init_pool_worker,
                          initargs=(settings, own_index.get(project, {}))) as pool:
            for outcome in pool.imap(_analyze_job, group, chunksize=1):
                done.append(outcome)
                if progress is not None:
                    progress(len(done), len(jobs))
    results: list[FileResult] = [([], 0, None, {})] * len(jobs)
    for index, result in zip(order, done):
        results[index] = result
    return results


def _worker_context() -> Any:
    """Where the analysis workers start: from a small server process that has imported the analysis
    (`forkserver`), not from this process, which by then holds every project's index and what the
    index pass freed (about 170 MB on the bench corpus, which each forked worker counted in its own
    size before it parsed anything). Where there is no fork server (Windows), a fresh interpreter."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # not the default `__main__`: the server must not run the command that started it
    context.set_forkserver_preload(["poollint.engine.runner", "poollint.engine.analyze"])
    return context


def _job_order(sizes: list[tuple[str, int]]) -> list[int]:
    """The order the pool takes the jobs in, from each one's (project root, byte count): one project
    after another, so that the other modules a worker parses for a project's files stay in its cache
    (python/cst/modules.py) while that project's files come; within a project, biggest files first, and
    the smallest project last, so that no worker is left alone with one huge file at the end."""
    totals: dict[str, int] = {}
    for project, size in sizes:
        totals[project] = totals.get(project, 0) + size
    return sorted(range(len(sizes)), key=lambda i: (-totals[sizes[i][0]], sizes[i][0], -sizes[i][1]))


# -- the run ------------------------------------------------------------------------------------
def _screen_from_index(index: Optional[ProjectIndex], screened: Optional[ScreenedFile], path: Path,
                       data: bytes, settings: Settings) -> Optional[ScreenedFile]:
    """The index pass's screen of this file (`screened`, what `_indexed` found for these bytes), when it
    holds for this run (see ScreenedFile)."""
    if index is None or screened is None:
        return None
    own = index.module_for(path)
    if own is not None and index.defines_screen_words(own, settings.catalog, settings.session_helpers):
        return None  # the project's words may change the verdict or the slice (the index screened without them)
    # so may a project word the file imports, but only where the file spells it: the screen and the
    # slice find a word by its name (`get_engine()`, `db.engine.begin()`, `from app.db import engine as e`).
    # A file that could report is screened again all the same: the index's slice, cut without the
    # project's words, keeps more definitions than libcst needs (a fifth more lines on the bench corpus)
    imported = index.imported_project_words(screened.imports, settings.catalog, settings.session_helpers)
    if imported and (screened.could_report or word_pattern(imported).search(data)):
        return None
    vocabularies = screen_vocabularies(settings)
    if vocabularies is None:
        return None  # no screen for this run: an enabled rule declares no triggers
    reaching = project_screen_words(settings, index, vocabularies).reaching_names if screened.through_project else None
    if reaching is not None:  # the index's words were wider: the project's own judge it (ProjectIndex.reaching_names)
        if screened.reaching_candidates is None or not screened.reaching_candidates.isdisjoint(reaching):
            return None  # screened again, and cut with the project's words
        return replace(screened, could_report=False, relevant_text=None, through_project=False)
    return screened


def _indexed(index: Optional[ProjectIndex], path: Path, data: bytes) -> Optional[ScreenedFile]:
    """What the index pass read of these bytes, whether or not its screen holds for this run."""
    relative = index.relative(path) if index is not None and index.screened else None
    indexed = index.screened.get(relative) if index is not None and relative is not None else None
    return indexed if indexed is not None and indexed.facts is not None and indexed.digest == content_digest(data) else None


def _filter(findings: Iterable[Finding], settings: Settings) -> list[Finding]:
    file_codes: dict[str, Optional[frozenset[str]]] = {}
    kept = []
    for f in findings:
        if not settings.is_enabled(f.code) or settings.is_ignored_by_path(f.code, f.path):
            continue
        if f.path not in file_codes:
            file_codes[f.path] = _file_noqa(Path(f.path))
        if not is_suppressed_in_file(f.code, file_codes[f.path]):
            kept.append(f)
    return kept


def _file_noqa(path: Path) -> Optional[frozenset[str]]:
    """The file-level `# flake8: noqa` / `# poollint: noqa[: CODES]` of a file holding findings."""
    try:
        data = read_bytes(path, "config" if is_config_file(path) else "python")
        return file_noqa_codes(data.decode("utf-8", "replace"))
    except OSError:
        return None


def noqa_warnings(shown: str, data: bytes) -> list[str]:
    lowered = data.lower()
    if b"noqa" not in lowered or b"dbp" not in lowered:  # malformed_noqa warns only of DBP codes
        return []
    text = data.decode("utf-8", "replace")
    return [f"{shown}:{line}: warning: `{comment}` is read as a bare `# noqa` (every code on the line); "
            f"write `# noqa: DBP101` or `# noqa`" if not comment.lower().replace(" ", "").startswith("#noqa:")
            else f"{shown}:{line}: warning: `{comment}` names no valid code; write `# noqa: DBP101`"
            for line, comment in malformed_noqa(text)]


def _covering(indexes: dict[Path, ProjectIndex], path: Path) -> tuple[Optional[ProjectIndex], Optional[str]]:
    """The index of the innermost project holding `path` and its root-relative path there; (None, None) for
    a path that does not resolve (a symlink loop: reading it reports that)."""
    try:
        index = index_covering(indexes, path)
    except (OSError, RuntimeError):
        return None, None
    return index, index.relative(path) if index is not None else None


def _project_indexes(files: Sequence[Path], settings: Settings, options: RunOptions,
                     root: Path) -> dict[Path, ProjectIndex]:
    """Pass one: the index of every project the Python files belong to (cross-file rules need it)."""
    python_files = [path for path in files if is_python_file(path)]
    if not python_files:
        return {}
    return indexes_for(python_files, settings, use_cache=options.cache, within=root)


def check_paths(paths: Sequence[Path], settings: Settings, *, screen: bool = True,
                options: Optional[RunOptions] = None, files: Optional[Sequence[Path]] = None) -> RunResult:
    """The whole run: every file below `paths` (or `files`, found below them by the caller), in a
    deterministic order."""
    options = options or RunOptions(screen=screen)
    result = RunResult()
    root = project_root(paths, settings)
    cache = ResultCache(root) if options.cache else None
    fingerprint = settings.fingerprint()
    pending: list[_Job] = []
    pending_keys: list[Optional[str]] = []
    pending_paths: list[Path] = []
    pending_sizes: list[tuple[str, int]] = []  # each pending file's project root and byte count (_job_order)
    facts: dict[Path, PythonFacts] = {}  # what each Python file says about URLs, for DBP4xx
    candidates = list(discover(paths, settings.is_excluded)) if files is None else list(files)
    files = []
    for path in candidates:
        if escapes(path, root):  # a link in the checked tree must not make poollint read (or fix) elsewhere
            result.findings.append(_not_analyzable(display_path(path), ParseFailure(
                "a symlink to a file outside the project, not followed")))
        else:
            files.append(path)
    indexes = _project_indexes(files, settings, options, root)
    # by project root: what the last run over the same project files found of each file, and this run
    before = {index.root: cache.last_run(index, fingerprint) if cache and options.screen else RunRecord()
              for index in indexes.values()}
    now = {root: RunRecord() for root in before}

    def take_cached(path: Path, cached: tuple[list[Finding], int, Any]) -> None:
        result.findings.extend(cached[0])
        result.internal_errors += cached[1]
        if cached[2] is not None:
            try:
                facts[path] = PythonFacts.from_json(cached[2])
            except (TypeError, ValueError, KeyError, IndexError):
                pass  # a damaged entry's facts: the configuration pass reads the file itself

    for path in files:
        if not is_python_file(path):
            continue
        index, relative = _covering(indexes, path)
        if index is not None and relative is not None:
            last, this = before[index.root], now[index.root]
            if relative in last.skipped:
                try:
                    facts[path] = PythonFacts.from_json(last.skipped[relative])
                except (TypeError, ValueError, KeyError, IndexError):
                    pass  # a damaged entry: the file is read as if it were new
                else:
                    this.skipped[relative] = last.skipped[relative]
                    result.files_checked += 1
                    continue
            if relative in last.keys and cache is not None:
                cached = cache.get(last.keys[relative], index)
                if cached is not None:
                    take_cached(path, cached)
                    this.keys[relative] = last.keys[relative]
                    result.files_checked += 1
                    continue
        shown = display_path(path)
        try:
            data = read_bytes(path, "python")
        except UnreadableFile as error:
            result.findings.append(_not_analyzable(shown, ParseFailure(error.reason)))
            continue
        result.files_checked += 1
        warnings = noqa_warnings(shown, data)
        result.warnings += warnings
        # a file of the project's files (the manifest covers them) that warns of nothing is not read next time
        recorded = now[index.root] if index is not None and relative in index.paths and not warnings else None
        screen = options.screen and not (index is not None and index.holds_request_transactions(index.module_for(path)))
        if screen and not passes_screen(data, settings) and not (index and index.mentions_factory(data, settings.catalog)):
            facts[path] = python_facts(data, settings.catalog, screened=False)
            if recorded is not None:
                recorded.skipped[relative] = facts[path].to_json()
            continue
        module_name = (index.module_name(path) if index else None) or module_name_for(path, root)
        key = cache_key(data, shown, module_name, fingerprint, index.digest() if index else "") if cache else None
        if recorded is not None and key is not None:
            recorded.keys[relative] = key
        cached = cache.get(key, index) if cache and key else None
        if cached is not None:
            take_cached(path, cached)
            continue
        indexed = _indexed(index, path, data)
        screened = _screen_from_index(index, indexed, path, data, settings) if screen else None
        if screened is not None and not screened.could_report:  # parsed by the index pass, nothing to report
            facts[path] = PythonFacts.from_json(screened.facts)
            if cache and key:
                cache.put(key, [], 0, screened.facts)
            continue
        pending.append((str(path), shown, module_name, screen, indexed, screened is not None))
        pending_keys.append(key)
        pending_paths.append(path)
        pending_sizes.append((str(index.root) if index is not None else "", len(data)))
    workers = options.jobs or os.cpu_count() or 1
    done = _run_jobs(pending, pending_sizes, settings, workers, indexes, options.progress)
    for key, path, (findings, errors, file_facts, reads) in zip(pending_keys, pending_paths, done):
        result.findings.extend(findings)
        result.internal_errors += errors
        if file_facts is not None:
            facts[path] = file_facts
        if cache and key and not errors:
            cache.put(key, findings, errors, file_facts.to_json() if file_facts is not None else None, reads)
    result.files_parsed = len(pending)
    if cache:
        for index in indexes.values():
            if options.screen and now[index.root] != before[index.root]:
                cache.put_last_run(index, fingerprint, now[index.root])
            keep_spelling_answers(index, settings)
        cache.prune()
    # -- configuration files (DBP4xx): one deployment model for the run (engine/configcheck.py) --
    # They report on configuration files and on URL literals in Python only: a run with neither
    # does not import the configuration parsers.
    if settings.env_files or any(is_config_file(p) for p in files) or any(f.writes_urls for f in facts.values()):
        from poollint.engine.configcheck import check_config

        config_findings, config_errors = check_config(
            [p for p in files if not is_javascript_file(p) or is_config_file(p)], paths, root, settings, display_path,
                                                      lambda data: passes_screen(data, settings), facts)
    else:
        config_findings, config_errors = [], 0
    result.findings.extend(config_findings)
    result.internal_errors += config_errors
    # -- TypeScript and JavaScript (the optional tree-sitter front end, engine/jscheck.py) --
    if any(is_javascript_file(p) for p in files):
        from poollint.engine.jscheck import check_javascript

        js_findings, notices, js_files, js_errors = check_javascript(files, root, display_path,
                                                                     settings.duplicate_client_threshold)
        result.findings.extend(js_findings)
        result.internal_errors += js_errors
        result.notices.extend(notices)
        result.files_checked += js_files
    for path in files:
        if is_config_file(path) and not is_python_file(path):
            result.files_checked += 1
            try:
                result.warnings += noqa_warnings(display_path(path), read_bytes(path, "config", root))
            except OSError:
                pass  # reported by the configuration pass
    result.findings = sorted(_filter(result.findings, settings), key=Finding.sort_key)
    return result


# -- several configurations in one run ---------------------------------------------------------
def check_tree(paths: Sequence[Path], resolver: SettingsResolver,
               options: Optional[RunOptions] = None) -> RunResult:
    """A run where each file follows its nearest configuration file (a monorepo's packages each keep
    theirs, whatever the order of the paths): the files are grouped by configuration, each group is
    one run with its own settings, and the findings are merged."""
    # discover asks the first of files (named or found) only, the second of the folders it walks into
    files = list(discover(paths, lambda path: resolver.for_entry(path, False).is_excluded(path),
                          lambda folder: resolver.for_entry(folder, True).is_excluded(folder)))
    groups: dict[int, tuple[Settings, list[Path]]] = {}
    for path in files:
        settings = resolver.for_entry(path, False)
        groups.setdefault(id(settings), (settings, []))[1].append(path)
    if not groups:
        return RunResult()
    if len(groups) == 1:
        [(settings, group)] = groups.values()
        return check_paths(paths, settings, options=options, files=group)
    result = RunResult()
    for settings, group in groups.values():
        result.merge(check_paths(_paths_within(paths, settings.root), settings, options=options, files=group))
    return result


def _paths_within(paths: Sequence[Path], root: Optional[Path]) -> list[Path]:
    """The run's paths as one configuration's group sees them: those inside its folder, and its folder
    itself where a path holds it."""
    if root is None:
        return list(paths)
    inside: list[Path] = []
    for path in paths:
        absolute = Path(os.path.abspath(path))
        if absolute == root or root in absolute.parents:
            inside.append(path)
        elif absolute in root.parents and root not in inside:
            inside.append(root)
    return inside or list(paths)


# -- an editor's buffer --------------------------------------------------------------------------
def check_buffer(path: Path, data: bytes, settings: Settings, options: Optional[RunOptions] = None,
                 named: bool = True) -> RunResult:
    """Findings of `data` as if it were the content of `path` (`poollint check - --stdin-filename PATH`):
    a Python buffer gets the file rules, the project's cross-file facts and the URL rules on its
    literals; a `.env`, compose or `schema.prisma` buffer is judged with the project's other
    configuration files around it, as the file on disk would be. A buffer that is not `named` has no
    place in the project: it gets no cross-file facts (it would be a duplicate of every module)."""
    from poollint.engine.configcheck import check_config

    options = options or RunOptions()
    shown = display_path(path)
    result = RunResult(files_checked=1)
    result.warnings += noqa_warnings(shown, data)
    root = project_root([path], settings)
    with _buffer_in_place_of(path, data):
        if is_python_file(path) and not is_config_file(path):
            index = _buffer_index(path, data, settings) if named else None
            module_name = (index.module_name(path) if index is not None else None) or module_name_for(path, root)
            # an editor's flake8 checks the file again on every save: a buffer whose content, project facts
            # and settings were judged before gets that judgement back (an unnamed buffer has no project)
            cache = ResultCache(root) if options.cache and named else None
            findings, errors, facts = _analyze_buffer(path, shown, data, settings, options, module_name, index, cache)
            result.findings += findings
            result.internal_errors += errors
            if facts is not None and facts.writes_urls:
                callees = _forwarders_of_callees(facts, index, settings)
                more, more_errors = check_config([path, *callees], [path], root, settings, display_path,
                                                 lambda content: passes_screen(content, settings),
                                                 {path: facts, **callees})
                result.findings += more
                result.internal_errors += more_errors
        elif is_config_file(path):
            findings, errors = check_config([path], [path], root, settings, display_path,
                                            lambda content: passes_screen(content, settings))
            result.findings += [f for f in findings if f.path == shown]
            result.internal_errors += errors
    codes = file_noqa_codes(data.decode("utf-8", "replace"))
    result.findings = sorted((f for f in result.findings
                              if settings.is_enabled(f.code) and not settings.is_ignored_by_path(f.code, f.path)
                              and not is_suppressed_in_file(f.code, codes)), key=Finding.sort_key)
    return result


def _analyze_buffer(path: Path, shown: str, data: bytes, settings: Settings, options: RunOptions, module_name: str,
                    index: Optional[ProjectIndex], cache: Optional[ResultCache]
                    ) -> tuple[list[Finding], int, Optional[PythonFacts]]:
    """analyze_file for one buffer, through the same per-file cache as `poollint check` (keyed by the
    content, the module, the settings and the project facts; dropped when a module it read changed)."""
    key = cache_key(data, shown, module_name, settings.fingerprint(), index.digest() if index else "") if cache else None
    cached = cache.get(key, index) if cache is not None and key else None
    if cached is not None:
        try:
            facts = PythonFacts.from_json(cached[2]) if cached[2] is not None else None
        except (TypeError, ValueError, KeyError, IndexError):
            facts = None  # a damaged entry's facts
        if facts is None:  # facts quoting a password are never stored: read again for the URL rules
            facts = python_facts(data, settings.catalog, passes_screen(data, settings))
        return cached[0], cached[1], facts
    take_reads()
    findings, errors, facts = analyze_file(path, shown, data, settings, screen=options.screen,
                                           module_name=module_name, index=index)
    reads = take_reads()
    if cache is not None and key and not errors:
        cache.put(key, findings, errors, facts.to_json() if facts is not None else None, reads)
        cache.prune()
    return findings, errors, facts


def _forwarders_of_callees(facts: PythonFacts, index: Optional[ProjectIndex], settings: Settings) -> dict[Path, PythonFacts]:
    """The project modules whose functions a buffer hands URLs to (`create_db_engine(f"postgres://...")`),
    with only what they say about forwarding them to a library: the whole run learns that from every
    module's facts, one buffer from the modules it calls."""
    if index is None or not facts.handed:
        return {}
    wanted = {callee.rpartition(".")[0] for callee, *_ in facts.handed} - {""}
    found: dict[Path, PythonFacts] = {}
    for relative, module in index.paths.items():
        if not any(is_module_imported_as(module, name) for name in wanted):
            continue
        try:
            data = read_bytes(index.root / relative, "python")
        except UnreadableFile:
            continue
        forwarders = python_facts(data, settings.catalog, passes_screen(data, settings)).forwarders
        if forwarders:
            found[index.root / relative] = PythonFacts(forwarders=forwarders)
    return found


def _buffer_index(path: Path, data: bytes, settings: Settings) -> Optional[ProjectIndex]:
    from poollint.engine.index import index_for_file

    try:
        index = index_for_file(path, settings)
        try:
            if read_bytes(path, "python") == data:
                return index  # the saved file (flake8 on a project), which the index has read as it is
        except UnreadableFile:
            pass
        return index.with_source(path, data, settings)
    except (OSError, ValueError, RecursionError):
        return None  # the per-file rules still run without it


class _buffer_in_place_of:
    """While a buffer is checked, the configuration readers see it instead of the file on disk (which
    may be older, or missing: an editor's new file)."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.target = Path(os.path.abspath(path))
        self.text = data.decode("utf-8", "replace")

    def __enter__(self) -> None:
        from poollint.config import project

        self.original = project._read
        target, text, original = self.target, self.text, self.original

        def read(candidate: Path, shown: str, model: Any) -> Optional[str]:
            if Path(os.path.abspath(candidate)) != target:
                return original(candidate, shown, model)
            from poollint.config.lines import split_lines

            model.files[shown] = tuple(split_lines(text))  # as the reader records it: noqa and columns read it
            return text

        project._read = read  # type: ignore[assignment]

    def __exit__(self, *exc: Any) -> None:
        from poollint.config import project

        project._read = self.original  # type: ignore[assignment]
