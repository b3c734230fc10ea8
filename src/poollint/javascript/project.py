"""A Node project as the rules see it: import specifiers resolved to project modules
(relative paths, `tsconfig.json`/`jsconfig.json` `paths` and `baseUrl`, the usual `@/` and `~/`
aliases, workspace packages by name), modules parsed on demand, and which files run as scripts.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import re
import shlex
from pathlib import Path
from typing import Any, Optional, Sequence

from poollint.javascript import JAVASCRIPT_SUFFIXES, SKIPPED_DIRECTORIES, is_javascript_file, is_skipped_path
from poollint.javascript.module import JsModule
from poollint.limits import read_bytes

logger = logging.getLogger(__name__)

RESOLVE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
# a file run by itself: `tsx prisma/seed.ts`, `node scripts/backfill.mjs`
SCRIPT_DIRECTORIES = frozenset({"scripts", "script", "seed", "seeds", "seeders", "bin"})
TEST_DIRECTORIES = frozenset({"test", "tests", "__tests__", "__mocks__", "e2e", "cypress", "playwright",
                              "spec", "specs", "fixtures", "__fixtures__", "testing", "test-utils", "mocks",
                              "testcontainers", "test-helpers", "tests-e2e"})
TEST_NAME = re.compile(r"(^|[.\-_])(test|spec|e2e|stories|story|bench|mock|mocks)\.[cm]?[jt]sx?$|^(jest|vitest|playwright|cypress)[.\-]")
CONFIG_NAME = re.compile(r"\.config\.[cm]?[jt]s$|^(jest|vitest)\.(setup|global)")
# an import as written: `import x from "..."`, `export * from "..."`, `import "..."`, `import("...")`,
# `require("...")`
_SPECIFIER = re.compile(rb"""(?:\bfrom|\bimport|\brequire)\s*\(?\s*["']([^"'\n]{1,300})["']""")
# where frameworks and platforms load modules by their place, without an import: Next.js app/ and pages/,
# Remix and SvelteKit routes, Nuxt server/, serverless functions; and the usual names of entry files
ENTRY_DIRECTORIES = frozenset({"app", "pages", "routes", "api", "server", "functions", "netlify", "lambda",
                               "lambdas", "handlers", "workers", "jobs", "cron", "trigger"})
# where a framework's one server loads modules by their place (Next.js, Remix, SvelteKit)
FRAMEWORK_DIRECTORIES = frozenset({"app", "pages", "routes"})
ENTRY_STEMS = frozenset({"index", "main", "server", "app", "worker", "middleware", "instrumentation", "handler",
                         "cli", "bot", "cron", "job", "start", "serve"})
_SCRIPT_FILE = re.compile(r"[\w./@~-]+\.(?:[cm]?[jt]s|tsx)\b")
_JSON_COMMENTS = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def read_jsonc(path: Path) -> Optional[dict[str, Any]]:
    """A `tsconfig.json` as TypeScript reads it: comments and trailing commas allowed."""
    try:
        raw = read_bytes(path, "config").decode("utf-8", "replace")
    except OSError:
        return None
    stripped = _JSON_COMMENTS.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", raw)
    try:
        value = json.loads(_TRAILING_COMMA.sub(r"\1", stripped))
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


class PathAliases:
    """`compilerOptions.paths` and `baseUrl` of one tsconfig (with what it `extends`)."""

    def __init__(self, directory: Path, paths: dict[str, list[str]], base_url: Optional[Path]) -> None:
        self.directory = directory
        self.paths = paths
        self.base_url = base_url

    @classmethod
    def read(cls, config: Path, depth: int = 0) -> "PathAliases":
        document = read_jsonc(config) or {}
        options = document.get("compilerOptions") if isinstance(document.get("compilerOptions"), dict) else {}
        parent = None
        extends = document.get("extends")
        if isinstance(extends, str) and extends.startswith(".") and depth < 3:
            target = (config.parent / extends)
            target = target if target.suffix == ".json" else target.with_name(target.name + ".json")
            if target.is_file():
                parent = cls.read(target, depth + 1)
        base_url = options.get("baseUrl")
        base = (config.parent / base_url) if isinstance(base_url, str) else (parent.base_url if parent else None)
        paths: dict[str, list[str]] = dict(parent.paths) if parent else {}
        raw_paths = options.get("paths")
        if isinstance(raw_paths, dict):
            root = base or config.parent
            for pattern, targets in raw_paths.items():
                if isinstance(targets, list):
                    paths[pattern] = [str(root / t) for t in targets if isinstance(t, str)]
        return cls(config.parent, paths, base)


class JsProject:
    """Modules below one checked tree, parsed once each, on first use."""

    def __init__(self, root: Path) -> None:
        self.root = absolute(root)
        self._modules: dict[Path, Optional[JsModule]] = {}
        self._aliases: dict[Path, Optional[PathAliases]] = {}
        self._package_dirs: dict[Path, Optional[Path]] = {}
        self._package_json: dict[Path, dict[str, Any]] = {}
        self.workspace_packages: dict[str, Path] = {}  # package name -> its directory
        self.script_files: set[Path] = set()
        self._tests: dict[Path, bool] = {}
        self._scripts: dict[Path, bool] = {}
        self._imported: Optional[set[Path]] = None
        self._importers: dict[Path, set[Path]] = {}  # a file -> the project files that import it
        self._shebang_files: set[Path] = set()

    # -- modules ---------------------------------------------------------------------------------
    def module(self, path: Path) -> Optional[JsModule]:
        path = absolute(path)
        if path not in self._modules:
            try:
                data = read_bytes(path, "javascript")
            except OSError:
                self._modules[path] = None
                return None
            self._modules[path] = JsModule(path, data)
        return self._modules[path]

    def add(self, module: JsModule) -> None:
        self._modules[absolute(module.path)] = module

    # -- packages, scripts and workspaces -------------------------------------------------------
    def package_dir(self, path: Path) -> Optional[Path]:
        """The nearest directory above `path` with a package.json (within the checked tree)."""
        directory = path.parent
        trail = []
        found: Optional[Path] = None
        while True:
            if directory in self._package_dirs:
                found = self._package_dirs[directory]
                break
            trail.append(directory)
            if (directory / "package.json").is_file():
                found = directory
                self._read_package(directory)
                break
            if directory == self.root or directory.parent == directory or self.root not in directory.parents:
                break
            directory = directory.parent
        for visited in trail:
            self._package_dirs[visited] = found
        return found

    def _read_package(self, directory: Path) -> None:
        document = read_jsonc(directory / "package.json") or {}
        self._package_json[directory] = document
        name = document.get("name")
        if isinstance(name, str) and name:
            self.workspace_packages.setdefault(name, directory)
        commands = []
        scripts = document.get("scripts")
        if isinstance(scripts, dict):
            commands.extend(v for v in scripts.values() if isinstance(v, str))
        prisma = document.get("prisma")
        if isinstance(prisma, dict) and isinstance(prisma.get("seed"), str):
            commands.append(prisma["seed"])
        for command in commands:
            if not _SCRIPT_FILE.search(command):
                continue
            try:
                words = shlex.split(command)
            except ValueError:
                words = command.split()
            for word in words:
                if _SCRIPT_FILE.fullmatch(word) and not word.startswith("-"):
                    candidate = (directory / word)
                    if candidate.suffix in JAVASCRIPT_SUFFIXES:
                        self.script_files.add(absolute(candidate))

    def is_script(self, module: JsModule) -> bool:
        """A file run as its own short-lived process: prisma/seed.ts, scripts/*, a package.json script."""
        if module.path not in self._scripts:
            self._scripts[module.path] = self._is_script(module)
        return self._scripts[module.path]

    def _is_script(self, module: JsModule) -> bool:
        path = module.path
        self.package_dir(path)  # reads the package.json scripts on the way
        if absolute(path) in self.script_files:
            return True
        return self._script_by_place(path, module.data.startswith(b"#!"))

    def _script_by_place(self, path: Path, shebang: bool) -> bool:
        """A script by its name, folder or first line, whether package.json runs it or not."""
        if path.stem in ("seed", "seeds") or path.stem.startswith("seed-") or path.stem.startswith("seed_"):
            return True
        relative_parts = self._relative_parts(path)
        if next_route_file(relative_parts):
            return False  # `app/api/seed/route.ts`: the server runs it per request, whatever its folder's name
        if any(part in SCRIPT_DIRECTORIES for part in relative_parts[:-1]):
            return True
        return shebang

    def is_test(self, path: Path) -> bool:
        if path not in self._tests:
            parts = self._relative_parts(path)
            self._tests[path] = bool(TEST_NAME.search(path.name)) or any(part in TEST_DIRECTORIES for part in parts[:-1])
        return self._tests[path]

    def is_config(self, path: Path) -> bool:
        return bool(CONFIG_NAME.search(path.name))

    def _relative_parts(self, path: Path) -> tuple[str, ...]:
        """Below the file's package (its package.json folder, named too), else below the checked root:
        the folders around a project (`fixtures/`, `examples/`) say nothing about its files."""
        path = absolute(path)
        package = self.package_dir(path)
        if package is not None:
            return (package.name, *path.relative_to(package).parts)
        try:
            return path.relative_to(self.root).parts
        except ValueError:
            return path.parts

    # -- import resolution ------------------------------------------------------------------------
    def aliases(self, path: Path) -> Optional[PathAliases]:
        directory = path.parent
        trail = []
        found: Optional[PathAliases] = None
        while True:
            if directory in self._aliases:
                found = self._aliases[directory]
                break
            trail.append(directory)
            for name in ("tsconfig.json", "jsconfig.json"):
                if (directory / name).is_file():
                    found = PathAliases.read(directory / name)
                    break
            if found is not None or directory == self.root or directory.parent == directory \
                    or self.root not in directory.parents:
                break
            directory = directory.parent
        for visited in trail:
            self._aliases[visited] = found
        return found

    def resolve(self, importer: Path, specifier: str) -> Optional[Path]:
        """The project file an import specifier names, or None (an npm package, or not found)."""
        if specifier.startswith("."):
            return _existing_module(importer.parent / specifier)
        aliases = self.aliases(importer)
        if aliases is not None:
            for pattern, targets in aliases.paths.items():
                prefix, star, suffix = pattern.partition("*")
                if star and specifier.startswith(prefix) and specifier.endswith(suffix):
                    middle = specifier[len(prefix):len(specifier) - len(suffix) if suffix else None]
                    for target in targets:
                        found = _existing_module(Path(target.replace("*", middle, 1)))
                        if found is not None:
                            return found
                elif not star and specifier == pattern:
                    for target in targets:
                        found = _existing_module(Path(target))
                        if found is not None:
                            return found
            if aliases.base_url is not None and not specifier.startswith("@"):
                found = _existing_module(aliases.base_url / specifier)
                if found is not None:
                    return found
        if specifier.startswith(("@/", "~/", "#/")):
            package = self.package_dir(importer) or self.root
            for base in (package / "src", package, package / "app"):
                found = _existing_module(base / specifier[2:])
                if found is not None:
                    return found
            return None
        return self._resolve_workspace(specifier)

    def _resolve_workspace(self, specifier: str) -> Optional[Path]:
        parts = specifier.split("/")
        name_length = 2 if specifier.startswith("@") else 1
        name, rest = "/".join(parts[:name_length]), "/".join(parts[name_length:])
        directory = self.workspace_packages.get(name)
        if directory is None:
            return None
        if rest:
            for base in (directory / rest, directory / "src" / rest):
                found = _existing_module(base)
                if found is not None:
                    return found
            return None
        document = self._package_json.get(directory, {})
        entries = [document.get(key) for key in ("types", "typings", "main", "module")]
        exports = document.get("exports")
        if isinstance(exports, str):
            entries.append(exports)
        elif isinstance(exports, dict):
            dot = exports.get(".", exports)
            if isinstance(dot, str):
                entries.append(dot)
            elif isinstance(dot, dict):
                entries.extend(v for v in dot.values() if isinstance(v, str))
        for entry in entries:
            if isinstance(entry, str):
                found = _existing_module(directory / entry)
                if found is not None and not is_skipped_path(found):
                    return found
        for base in (directory / "src" / "index", directory / "index"):
            found = _existing_module(base)
            if found is not None:
                return found
        return None

    def register_packages(self, files: list[Path]) -> None:
        """Reads the package.json above every file once: workspace names and package scripts."""
        for path in files:
            self.package_dir(path)

    def _project_files(self) -> list[Path]:
        """The JavaScript and TypeScript files below the project root, less build output and dependencies
        (absolute and normalised, as the root is)."""
        found: list[Path] = []
        for folder, directories, names in os.walk(self.root):
            directories[:] = [d for d in directories if d not in SKIPPED_DIRECTORIES and not d.startswith(".")]
            found.extend(Path(folder, name) for name in names if is_javascript_file(Path(name)))
        return found

    def may_be_loaded(self, module: JsModule) -> bool:
        """Whether some process may load the module: a file of the project imports it, it runs as a script,
        it sits where a framework loads modules without an import (a route, a page) or has an entry
        file's name, or its package.json names it. A library module nothing imports is never loaded (a
        leftover `lib/prisma.ts` beside the `server/db.ts` the application imports)."""
        path = absolute(module.path)
        parts = self._relative_parts(path)
        if path.stem in ENTRY_STEMS or path.stem.startswith(("+", "_")) \
                or any(part in ENTRY_DIRECTORIES for part in parts[:-1]) or self.is_script(module):
            return True
        return self._named_by_package_json(path) or path in self._imported_files()

    def _named_by_package_json(self, path: Path) -> bool:
        """`"main": "server/db.js"`, `"bin": {...}`, `"exports"`, a script: the file, or its build, by its path."""
        package = self.package_dir(path)
        if package is None or package not in path.parents:
            return False
        named = re.escape(path.relative_to(package).with_suffix("").as_posix()) + r"\.[cm]?[jt]sx?\b"
        return re.search(named, json.dumps(self._package_json.get(package, {}))) is not None

    def _imported_files(self) -> set[Path]:
        """The files some JavaScript or TypeScript file below the project root imports, as the rules resolve
        imports: every file, not only the run's, so that a run over some files (a pre-commit hook's) gives
        the answer a run over all gives."""
        if self._imported is None:
            found: set[Path] = set()
            files = self._project_files()
            self.register_packages(files)  # every workspace package's name before any import is resolved
            resolved: dict[tuple[Any, ...], Optional[Path]] = {}
            folders: dict[Path, tuple[Any, ...]] = {}
            for importer in files:
                try:
                    data = read_bytes(importer, "javascript")
                except OSError:
                    continue
                if data.startswith(b"#!"):
                    self._shebang_files.add(importer)
                folder = importer.parent
                if folder not in folders:  # what resolves a bare or aliased specifier the same way
                    folders[folder] = (id(self.aliases(importer)), self.package_dir(importer))
                specifiers = {match.group(1) for match in _SPECIFIER.finditer(data) if not _commented(data, match.start())}
                for specifier in specifiers:
                    text = specifier.decode("utf-8", "replace")
                    key = (folder, text) if text.startswith(".") else (*folders[folder], text)
                    if key not in resolved:
                        target = self.resolve(importer, text)
                        resolved[key] = absolute(target) if target is not None else None
                    target = resolved[key]
                    if target is not None:
                        found.add(target)
                        self._importers.setdefault(target, set()).add(importer)
            self._imported = found
        return self._imported

    def processes_loading(self, module: JsModule) -> frozenset[tuple[str, Path]]:
        """The long-running processes that may load the module, each named by where it starts: an entry
        file nothing imports that starts something when loaded (`server/index.ts` calling `app.listen()`,
        `backend/server.js`: one process each), or the package's framework for the other files loaded by
        their place or name (Next.js routes and pages, `app/`, `routes/`, a `jobs/worker.ts` that only
        exports: one server). Found by walking imports back from the module to the files nothing imports; tests,
        scripts and configuration files start processes of their own, which do not count, and a file
        nothing starts (no entry's name or place, no package.json naming it) starts none. Empty when no
        such start is found."""
        self._imported_files()
        start = absolute(module.path)
        seen, stack, found = {start}, [start], set()
        while stack:
            current = stack.pop()
            importers = [i for i in self._importers.get(current, ()) if not self._starts_own_process(i)]
            if not importers and not self._starts_own_process(current):
                process = self._process_started_by(current)
                if process is not None:
                    found.add(process)
            for importer in importers:
                if importer not in seen:
                    seen.add(importer)
                    stack.append(importer)
        return frozenset(found)

    def _starts_own_process(self, path: Path) -> bool:
        """A test, a configuration file or a script: run by itself, apart from the application. (A file
        package.json runs is an entry, `"start": "tsx server/index.ts"`, unless it is a script by its place.)"""
        return self.is_test(path) or self.is_config(path) or self._script_by_place(path, path in self._shebang_files)

    def _process_started_by(self, path: Path) -> Optional[tuple[str, Path]]:
        parts = self._relative_parts(path)
        package = self.package_dir(path) or self.root
        if path in self.script_files:
            return ("entry", path)
        if path.stem in ENTRY_STEMS and not any(part in FRAMEWORK_DIRECTORIES for part in parts[:-1]):
            module = self.module(path)
            if module is not None and module.runs_at_load:
                return ("entry", path)  # `backend/server.js` that calls `fastify.listen()`: a process of its own
        if path.stem.startswith(("+", "_")) or any(part in ENTRY_DIRECTORIES for part in parts[:-1]):
            return ("framework", package)
        return ("entry", path) if self._named_by_package_json(path) else None


def _commented(data: bytes, offset: int) -> bool:
    """Whether the line holding `offset` is commented out before it (`// import { x } from "./x"`, or a
    documentation comment's ` * import ...`): an import nobody runs loads nothing."""
    before = data[data.rfind(b"\n", 0, offset) + 1:offset]
    return b"//" in before or before.lstrip().startswith((b"*", b"/*"))


def next_route_file(parts: Sequence[str]) -> str:
    """What Next.js serves a file as, from its path's parts: "route handler" (`app/**/route.ts`), "API
    route" (`pages/api/**`), or "" for neither."""
    if not parts:
        return ""
    if os.path.splitext(parts[-1])[0] == "route" and "app" in parts:
        return "route handler"
    if "pages" in parts and "api" in parts[list(parts).index("pages"):]:
        return "API route"
    return ""


def next_route_path(parts: Sequence[str]) -> str:
    """The URL path Next.js serves a route file at (`app/api/(ops)/health/route.ts` -> `/api/health`,
    `pages/api/ping/index.ts` -> `/api/ping`), without route groups; "" for a file that is no route."""
    served_as = next_route_file(parts)
    if served_as == "route handler":
        app = len(parts) - 1 - list(reversed(parts)).index("app")
        segments = list(parts[app + 1:-1])
    elif served_as == "API route":
        pages = list(parts).index("pages")
        segments = list(parts[pages + 1:-1])
        stem = os.path.splitext(parts[-1])[0]
        if stem != "index":
            segments.append(stem)
    else:
        return ""
    return "/" + "/".join(segment for segment in segments if not (segment.startswith("(") and segment.endswith(")")))


def _existing_module(base: Path) -> Optional[Path]:
    return _existing_module_at(os.path.normpath(os.path.abspath(base)))


@functools.lru_cache(maxsize=1 << 14)
def _existing_module_at(base: str) -> Optional[Path]:
    """Strings and os.path: a large project resolves thousands of imports, and pathlib's
    resolve() was most of a run."""
    candidates = []
    stem, suffix = os.path.splitext(base)
    if suffix in (".js", ".jsx", ".mjs", ".cjs"):  # ESM imports name the compiled file
        candidates += [stem + s for s in (".ts", ".tsx", ".mts", ".cts")]
    candidates.append(base)
    candidates += [base + s for s in RESOLVE_SUFFIXES]
    candidates += [os.path.join(base, f"index{s}") for s in RESOLVE_SUFFIXES]
    for candidate in candidates:
        if os.path.isfile(candidate) and is_javascript_file(Path(candidate)):
            return Path(candidate)
    return None


def absolute(path: Path) -> Path:
    """The absolute, normalised path (no symlink resolution: it costs a stat per part)."""
    return Path(os.path.normpath(os.path.abspath(path)))
