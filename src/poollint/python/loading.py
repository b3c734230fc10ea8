"""Which modules of a project one process may load together, from the project's import statements.

DBP103 counts a pool built at import time in several modules as duplicates only when one process
loads those modules. Imports say so: a module loads what it imports, at any depth, and loading a
module runs its packages' `__init__` too. Where the chains start, with a module nothing of the
project imports, something outside loads it by name (a server's command line, a framework's
conventions); such modules are taken to run beside those of their own folder.

Whether a process loads a module at all (ProjectIndex.may_run) reads the same graph: a module runs
when one of the modules whose import loads it may be started from outside, as its text, its path
or another file's mention of its name says (StartSigns, mentions).
"""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Collection, Iterable, Iterator, Mapping, Optional

from poollint.paths import is_test_path

if TYPE_CHECKING:
    from poollint.catalog.model import Guards


class LoadGraph:
    """The project's modules (`paths`: root-relative path -> module name) and, for every name imported
    at any level, the modules importing it (`importers`: `app.db` or `app.db.engine` -> importers)."""

    def __init__(self, paths: Mapping[str, str], importers: Mapping[str, tuple[str, ...]]) -> None:
        modules = set(paths.values())
        # `from models.models import x` in backend/main.py, run from backend/ where no source root was
        # inferred: the one module whose name ends so
        by_suffix: dict[str, Optional[str]] = {}
        for name in modules:
            parts = name.split(".")
            for start in range(1, len(parts)):
                suffix = ".".join(parts[start:])
                by_suffix[suffix] = None if suffix in by_suffix and by_suffix[suffix] != name else name
        by_module: dict[str, set[str]] = {}
        for target, names in importers.items():
            # `from app.db import engine` loads app.db; `import app.db` names it whole
            for candidate in (target, target.rsplit(".", 1)[0]):
                loaded = candidate if candidate in modules else by_suffix.get(candidate)
                if loaded is not None:
                    by_module.setdefault(loaded, set()).update(names)
                    break
        self._importers = {name: frozenset(found) for name, found in by_module.items()}
        submodules: dict[str, list[str]] = {}
        for name in modules:
            if "." in name:
                submodules.setdefault(name.rsplit(".", 1)[0], []).append(name)
        self._submodules = {package: tuple(sorted(names)) for package, names in submodules.items()}
        self._folders = {module: relative.rsplit("/", 1)[0] if "/" in relative else ""
                         for relative, module in paths.items()}
        self._relatives = {module: relative for relative, module in paths.items()}
        self._loaders: dict[str, frozenset[str]] = {}
        self._start_folders: dict[str, frozenset[str]] = {}

    def loaded_together(self, first: str, second: str) -> bool:
        """Whether one process may load both modules: some module's import loads both (one of them, or a
        module importing both at any depth), or the chains that load them start in one folder. Two
        modules whose chains start in different folders and meet nowhere are not known to share a
        process: an old copy of `db.py` that only an unused `api/deps.py` imports, beside the
        `main.py` that builds the application."""
        if first == second:
            return True
        loaders = self.loaders(first), self.loaders(second)
        return not loaders[0].isdisjoint(loaders[1]) or not self.start_folders(first).isdisjoint(
            self.start_folders(second))

    def relative(self, module: str) -> Optional[str]:
        """The root-relative path of a project module."""
        return self._relatives.get(module)

    def loaders(self, module: str) -> frozenset[str]:
        """The modules whose import loads `module`: itself, its submodules (loading `app.db.base` runs
        `app/db/__init__.py`), the modules importing any of them, and so on."""
        if module not in self._loaders:
            found = {module}
            frontier = [module]
            while frontier:
                loaded = frontier.pop()
                for loader in (*self._importers.get(loaded, ()), *self._submodules.get(loaded, ())):
                    if loader not in found:
                        found.add(loader)
                        frontier.append(loader)
            self._loaders[module] = frozenset(found)
        return self._loaders[module]

    def loaded_from(self, starts: Collection[str]) -> frozenset[str]:
        """The modules that loading `starts` loads: what they import at any depth, and the packages of
        each (`import app.db.base` runs app/__init__.py and app/db/__init__.py)."""
        if "_imports" not in self.__dict__:
            imports: dict[str, set[str]] = {}
            for loaded, importers in self._importers.items():
                for importer in importers:
                    imports.setdefault(importer, set()).add(loaded)
            self.__dict__["_imports"] = imports
        imports = self.__dict__["_imports"]
        found = set(starts)
        frontier = list(found)
        while frontier:
            module = frontier.pop()
            parts = module.split(".")
            packages = {".".join(parts[:end]) for end in range(1, len(parts))} & self._relatives.keys()
            for loaded in (*imports.get(module, ()), *packages):
                if loaded not in found:
                    found.add(loaded)
                    frontier.append(loaded)
        return frozenset(found)

    def start_folders(self, module: str) -> frozenset[str]:
        """The folders of the modules, among those whose import loads `module`, that nothing in the
        project loads: where its import chains start."""
        if module not in self._start_folders:
            self._start_folders[module] = frozenset(
                self._folders[loader] for loader in self.loaders(module)
                if loader in self._folders and not self._importers.get(loader) and not self._submodules.get(loader))
        return self._start_folders[module]


SHOWN = "shown"
CONVENTIONAL = "conventional"


class StartSigns:
    """What says, from a module's path and text alone, that something outside the project may load it
    by name or path, so that it runs although no module of the project imports it (the catalog's
    guards: `discovered-modules`, `discovered-folders`, `app-constructors`, `worker-app-constructors`,
    `handler-names`, `dynamic-loading-calls`)."""

    def __init__(self, guards: "Guards") -> None:
        self._modules = guards.discovered_modules
        self._folders = guards.discovered_folders
        served = sorted({name.rsplit(".", 1)[-1] for name in (*guards.app_constructors, *guards.worker_app_constructors)})
        handlers = sorted(guards.handler_names)
        alternatives = "|".join(re.escape(name) for name in served) or "(?!)"
        handler_names = "|".join(re.escape(name) for name in handlers) or "(?!)"
        # at the start of a line, so at module scope (or in a string, which only errs towards running):
        # a main guard; a statement that does something when the file runs (`main()`, `asyncio.run(...)`,
        # a `for` loop); an application object a server loads by name (`app = FastAPI()`); a handler a
        # serverless platform calls (`def lambda_handler(`, `handler = Mangum(app)`); a Streamlit script
        runs = (
            rb"(?:if[ \t]+__name__[ \t]*==|(?:await[ \t]+)?[A-Za-z_][\w.]*[ \t]*\(|(?:for|while|with|async[ \t]+(?:for|with))[ \t]"
            rb"|[A-Za-z_]\w*[ \t]*(?::[^=\n]*)?=[ \t]*(?:[\w.]+\.)?(?:" + alternatives.encode() + rb")\("
            rb"|(?:async[ \t]+)?def[ \t]+(?:" + handler_names.encode() + rb")\(|(?:" + handler_names.encode() + rb")[ \t]*="
            rb"|(?:import|from)[ \t]+streamlit\b)")
        # after a newline (a literal the regex engine finds fast), or at the very start
        self._runs_first, self._runs = re.compile(runs), re.compile(rb"\n" + runs)
        by_name = {name.rsplit(".", 1)[-1] for name in guards.loading_calls_by_name}
        dynamic = "|".join(re.escape(last) for last in sorted({name.rsplit(".", 1)[-1] for name in guards.dynamic_loading_calls})
                           if last not in by_name) or "(?!)"
        named = "|".join(re.escape(last) for last in sorted(by_name)) or "(?!)"
        self._dynamic_words = tuple(sorted({name.rsplit(".", 1)[-1].encode() for name in guards.dynamic_loading_calls}))
        # `import_module(name)`, `import_module(f"app.plugins.{name}")`, a literal it formats or adds to
        # (`import_module('app.routers.{}'.format(name))`, `"app.routers." + name`); not `__import__("datetime")`
        self._dynamic = re.compile(rb"\b(?:" + dynamic.encode() + rb")[ \t]*\(|\b(?:" + named.encode()
                                   + rb")[ \t]*\([ \t]*(?:(?![rRuUbB]?[\"'])|[rRuUbB]?(?:\"[^\"\n]*\"|'[^'\n]*')"
                                   + rb"[ \t]*(?:\.[ \t]*format[ \t]*\(|%|\+))")

    def started(self, relative: str, data: bytes) -> str:
        """Whether the module at `relative` (root-relative) may be loaded from outside the project:
        SHOWN when its text says so, CONVENTIONAL when a framework or test runner loads it by its name
        or folder (test code, `app/models.py`), "" when nothing says so."""
        if self._runs_first.match(data) is not None or self._runs.search(data) is not None:
            return SHOWN
        parts = relative.split("/")
        stem = parts[-1][:-3] if parts[-1].endswith(".py") else parts[-1]
        if stem in self._modules or is_test_path(PurePosixPath(relative)) \
                or any(folder in self._folders for folder in parts[:-1]):
            return CONVENTIONAL
        return ""

    def loads_by_computed_name(self, data: bytes) -> bool:
        """Whether the module loads modules whose names it computes (`importlib.import_module(name)`)."""
        return any(word in data for word in self._dynamic_words) and self._dynamic.search(data) is not None


def mentions(texts: Iterable[tuple[str, bytes]], words: Collection[str]) -> dict[str, set[str]]:
    """Which of `words` each file among `texts` ((root-relative path, content), see `read_texts`)
    spells as a word, by word: `celery -A tubealgo.jobs` in a Procfile, `"app.workers.sync"` in a
    setting, `python -m app.tools.backfill` in a README. One pass, whatever the number of words. A file
    past MAX_MENTION_FILE_BYTES, Python or not, names no module: it is data or generated."""
    found: dict[str, set[str]] = {}
    if not words:
        return found
    # a lookahead finds words that overlap (`app.workers` and `workers.refunds` in `app.workers.refunds`)
    pattern = re.compile(rb"(?<![\w])(?=(" + "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w))).encode()
                         + rb")(?![\w]))")
    for relative, data in texts:
        if len(data) > MAX_MENTION_FILE_BYTES:
            continue
        for word in set(pattern.findall(data)):
            found.setdefault(word.decode("ascii", "replace"), set()).add(relative)
    return found


def spelling_files(texts: Iterable[tuple[str, bytes]], word: str) -> frozenset[str]:
    """The files among `texts` ((root-relative path, content)) that spell `word` other than as the name
    a `def` or `class` statement gives, or on a commented-out line of Python (`# await connect()`):
    where a call, an import, a string or a setting may name a function. Also those that compute a name
    from a part of it cut at an underscore (`f"handle_{kind}"`, `"%s_report" % name`, `"handle_" + kind`):
    that name may be looked up (`getattr(module, ...)`, `globals()[...]`)."""
    pattern, quoted = _spelling_tests(word)
    needle = word.encode()
    found: set[str] = set()
    for relative, data in texts:
        if any(part in data for part in quoted):
            found.add(relative)
            continue
        if needle not in data:
            continue
        python = relative.endswith((".py", ".pyi"))
        for match in pattern.finditer(data):
            if not (python and _on_a_comment_line(data, match.start())):
                found.add(relative)
                break
    return frozenset(found)


def spelling_lines(data: bytes, word: str) -> Optional[list[int]]:
    """The lines (from 1) of a Python file's `data` that spell `word` as spelling_files counts a spelling;
    None when it quotes a part of it (a name computed from it may be looked up from anywhere)."""
    pattern, quoted = _spelling_tests(word)
    if any(part in data for part in quoted):
        return None
    return [data.count(b"\n", 0, match.start()) + 1 for match in pattern.finditer(data)
            if not _on_a_comment_line(data, match.start())]


def _spelling_tests(word: str) -> tuple["re.Pattern[bytes]", list[bytes]]:
    """What spells `word` (spelling_files): the pattern of the word itself, not as the name a `def` or
    `class` gives, and the quoted parts of it, cut at an underscore."""
    pattern = re.compile(rb"(?<![\w])(?<!def )(?<!class )" + re.escape(word.encode()) + rb"(?![\w])")
    cuts = [i for i, char in enumerate(word) if char == "_" and 0 < i < len(word) - 1]
    # a head of the word up to an underscore that a name is computed from (`f"send_{kind}"`, `"send_%s"`,
    # `"send_" + kind`), or a tail from an underscore (`f"{kind}_reminders"`, `"%s_reminders"`,
    # `kind + "_reminders"`): plain substrings, whose test is many times faster than a search with a class
    # of quotes (a warm run asks this of every text file). A string that only starts like the word
    # (`"send_mail"`) names another function.
    quotes = (b'"', b"'")
    quoted = [quote + word[:i + 1].encode() + after for i in cuts for quote in quotes
              for after in (b"{", b"%", quote)] \
        + [before + word[i:].encode() + quote for i in cuts for quote in quotes for before in (b"}", b"%s", quote)]
    return pattern, quoted


def _on_a_comment_line(data: bytes, position: int) -> bool:
    line_start = data.rfind(b"\n", 0, position) + 1
    return data[line_start:position].lstrip().startswith(b"#")


def read_texts(files: Iterable[tuple[str, Path]]) -> Iterator[tuple[str, bytes]]:
    """(root-relative path, content) of each of `files` that can be read; past MAX_MENTION_FILE_BYTES
    only Python files (a large one is still code that may call a function; any other is data)."""
    for relative, path in files:
        try:
            if not relative.endswith((".py", ".pyi")) and path.stat().st_size > MAX_MENTION_FILE_BYTES:
                continue
            yield relative, path.read_bytes()
        except OSError:
            continue


# files that may name a module to load: code, configuration, scripts and documents; past this size a
# file is data or generated
MAX_MENTION_FILE_BYTES = 1_000_000
_MENTION_SUFFIXES = (".py", ".pyi", ".ipynb", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".json", ".sh", ".bash", ".md",
                     ".rst", ".txt", ".conf", ".service", ".env", ".ps1", ".bat", ".cmd", ".mk", ".tf", ".hcl", ".cron",
                     ".j2", ".jinja", ".jinja2", ".tpl", ".tmpl")


def may_name_modules(filename: str) -> bool:
    lowered = filename.lower()
    return lowered.endswith(_MENTION_SUFFIXES) or lowered.startswith(("dockerfile", "procfile", "makefile", "justfile", "crontab")) \
        or lowered.startswith(".env") or lowered == "containerfile"
