"""poollint's own configuration: `[tool.poollint]` in pyproject.toml, or `poollint.toml`/`.poollint.toml`."""
from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping, Optional

from poollint import _toml
from poollint.catalog.load import EXTENSION_KEYS, CatalogError, load_catalog
from poollint.catalog.model import Catalog
from poollint.limits import UnreadableFile, read_bytes


class SettingsError(Exception):
    """Bad configuration: the message names the file and the key. Exit status 2."""


CODE_PATTERN = re.compile(r"^DBP\d{0,3}$")

_LIST_OF_STR = "a list of strings"
_KEYS: dict[str, str] = {
    "select": _LIST_OF_STR,
    "ignore": _LIST_OF_STR,
    "extend-select": _LIST_OF_STR,
    "exclude": _LIST_OF_STR,
    "per-file-ignores": "a table of glob = [codes]",
    "env-files": _LIST_OF_STR,
    "url-variables": _LIST_OF_STR,
    "serverless": '"auto", true or false',
    "max-connections": "a positive integer",
    "reserved-connections": "a non-negative integer",
    "replicas": "a positive integer",
    "workers": "a positive integer",
    "pgbouncer-version": 'a version string such as "1.21.0"',
    "duplicate-client-threshold": "an integer of at least 2",
    "session-helpers": "true or false",
    "pool-holds": "true or false",
    **{key: "an array of tables" for key in EXTENSION_KEYS},
}


@dataclass(frozen=True)
class SettingDoc:
    """One key of docs/settings.md: its default, an example (TOML under `[tool.poollint]`) and what it does."""

    key: str
    default: str
    example: str
    description: str


# Every key of _KEYS, in the order docs/settings.md lists them; a test parses each example.
SETTING_DOCS: tuple[SettingDoc, ...] = (
    SettingDoc("select", '`["DBP"]`', 'select = ["DBP1", "DBP402"]',
               "Codes or prefixes to enable. An opt-in rule is enabled only by a selection more specific "
               "than `DBP` (`DBP2`, `DBP203`). `--select` replaces it."),
    SettingDoc("extend-select", "`[]`", 'extend-select = ["DBP203"]',
               "Codes or prefixes enabled in addition to `select`. `--extend-select` adds to it."),
    SettingDoc("ignore", "`[]`", 'ignore = ["DBP102"]',
               "Codes or prefixes to disable. The longest matching prefix of `select`/`ignore` decides; "
               "`ignore` wins a tie. `--ignore` adds to it."),
    SettingDoc("exclude", "`[]`", 'exclude = ["migrations", "scripts/legacy_*.py"]',
               "Paths or globs not to check, relative to this file's folder: one with a `/` is anchored "
               "there, one without names a file or folder anywhere below. Virtual environments, "
               "`node_modules/`, `build/`, `dist/` and caches are always skipped. `--exclude` replaces it, "
               "`--extend-exclude` adds to it. An excluded file still runs: where it names a module or a "
               "function (`python -m app.jobs`, `from app.jobs import send_reminders`), that code is judged."),
    SettingDoc("per-file-ignores", "`{}`", 'per-file-ignores = { "scripts/*.py" = ["DBP301"] }',
               "Codes or prefixes ignored in the files a glob names, relative to this file's folder "
               "(as `exclude`)."),
    SettingDoc("env-files", "`[]`", 'env-files = ["config/*.env", "deploy/app.conf"]',
               "Files read as dotenv files whatever their name (globs relative to this file's folder), "
               "besides `.env` and `.env.*`."),
    SettingDoc("url-variables", "`[]`", 'url-variables = ["PRIMARY_DSN"]',
               "Names of environment variables that hold a database URL, besides `DATABASE_URL`, "
               "`*_DATABASE_URL`, `POSTGRES_URL*`, `REDIS_URL` and the others DBP4xx knows."),
    SettingDoc("serverless", '`"auto"`', "serverless = true",
               "Whether the project deploys serverless (DBP405): `\"auto\"` detects it from `vercel.json`, "
               "`serverless.yml`, SAM templates, Lambda handlers..."),
    SettingDoc("max-connections", "PostgreSQL's 100, or `-c max_connections=N` from compose", "max-connections = 500",
               "The database server's `max_connections` for the connection budget (DBP407, `poollint budget`)."),
    SettingDoc("reserved-connections", "3 (PostgreSQL's `superuser_reserved_connections`)", "reserved-connections = 10",
               "Connections kept for administrators, migrations and monitoring, taken off the budget."),
    SettingDoc("replicas", "from compose `deploy.replicas`, Kubernetes `replicas`/HPA, else 1", "replicas = 4",
               "How many instances of the application run at once (DBP407)."),
    SettingDoc("workers", "from gunicorn/uvicorn settings, else 1", "workers = 8",
               "Worker processes per instance, each with its own pool (DBP407)."),
    SettingDoc("pgbouncer-version", "unknown", 'pgbouncer-version = "1.21.0"',
               "The PgBouncer version of the project's pooler: from 1.21.0 it supports prepared statements "
               "in transaction mode, so DBP402 only asks for the settings that version still needs."),
    SettingDoc("duplicate-client-threshold", "2", "duplicate-client-threshold = 3",
               "How many modules must build a pool for the same database at import time before DBP103 "
               "reports them."),
    SettingDoc("pool-holds", "false", "pool-holds = true",
               "Whether a connection a framework keeps checked out of its pool for a whole request or task is "
               "judged (DBP202): with Django 5.1's pool on (`\"pool\"` in a PostgreSQL database's `OPTIONS`), "
               "a request's first query takes a connection that Django gives back only when the request "
               "ends, so a slow call after it holds that connection. Off by default: whether that exhausts "
               "the pool depends on how many requests one process serves at once against the pool's "
               "`max_size`, which the code rarely shows; on the development parts of the application "
               "corpora none of 28 such findings was strictly right (a process with no more threads than "
               "its pool, an e-mail backend that only queues), while it catches paperless-ngx's fixed bug."),
    SettingDoc("session-helpers", "false", "session-helpers = true",
               "Whether a project function that queries a session every module shares (Flask-SQLAlchemy's "
               "`db.session`, a model's `query`, a module's `scoped_session` registry) and neither commits, "
               "rolls back nor closes it is taken to leave its transaction open for its callers, so that "
               "an external call after `user = find_user(user_id)` is reported (DBP202). Off by default: "
               "on the development parts of the application corpora, 9 of the 61 such findings were strictly "
               "right; most of the others were real holds on rare or administrators' paths, or code nothing runs."),
    SettingDoc("clients", "none", '[[tool.poollint.clients]]\nlibrary = "acme-db"\nconstructors = ["acme.db.make_pool"]',
               "Your own pool-owning constructors and factories, in the format of the built-in catalog "
               "(`src/poollint/catalog/data/*.toml`): `library`, `constructors`, `release`... "
               "`kind = \"connection\"` for a single connection and `kind = \"session\"` for an ORM session "
               "(DBP301-DBP304: closed on every path); a session's `pool-argument` names the argument that "
               "binds it to a pool (`bind`); `outlives-process = true` for a client that a script must release "
               "even when it runs once (DBP301), because the process exit does not stop what it started; "
               "`registry = true` for a constructor of a registry of per-thread sessions (Flask-SQLAlchemy 2's "
               "`db.create_scoped_session()`): one a function builds for itself must be released there, one "
               "kept on an object or a module lives as long as its owner."),
    SettingDoc("transactions", "none",
               '[[tool.poollint.transactions]]\nlibrary = "acme-db"\nfunctions = ["acme.db.transaction"]',
               "Your own transaction scopes (context managers or decorators), for DBP201."),
    SettingDoc("implicit-transactions", "none",
               '[[tool.poollint.implicit-transactions]]\nlibrary = "acme-db"\nreceivers = ["acme.db.Session"]\n'
               'begin-methods = ["query"]\nend-methods = ["commit", "rollback"]',
               "Objects whose first query opens a transaction that lasts until they commit or roll back "
               "(SQLAlchemy's Session): what runs in between holds a connection (DBP202). Optional "
               "`query-methods` build a lazy query on the object and `lazy-query-methods` make another of "
               "one: such a query returned out of the `with` block that closes the object is DBP304's. "
               "Optional `model-queries` (`<model base>.<attribute>`, as `flask_sqlalchemy.SQLAlchemy()."
               "Model.query`) name a class attribute of the project's models, through their base classes, "
               "that queries the receiver `model-session` (one of `receivers`): `User.query.get(1)` begins "
               "that session's transaction. Optional `begin-functions` and `end-functions` name library "
               "functions that begin and end the hold on `model-session` (Django's `get_object_or_404`, "
               "`close_old_connections`). Optional `setting` makes the entry count only with `pool-holds = true` "
               "and only in a project whose "
               "settings set that key (a dict key or an assigned subscript, to anything but `False` or `None`, "
               "in a module that spells every one of `setting-words`), and `held-until` says in the message "
               "when the framework gives the connection back: Django keeps a request's connection out of its "
               "pool until the request ends only with `\"pool\"` in its `OPTIONS`."),
    SettingDoc("request-transactions", "none",
               '[[tool.poollint.request-transactions]]\nlibrary = "acme-web"\nsetting = "TRANSACTION_PER_REQUEST"\n'
               'routes = ["acme.web.route"]\nhandler-methods = ["get", "post"]',
               "A setting that runs every routed view in one transaction (Django's `ATOMIC_REQUESTS`): a "
               "module-scope dict or subscript that sets `setting` to `True` makes the views that `routes` "
               "(or a router's `router-methods` on one of `routers`) name hold a connection for the whole "
               "request (DBP201); `class-view-methods`, `handler-decorators` and `opt-out-decorators` say "
               "which methods of a class view run in it and which views opted out."),
    SettingDoc("checkouts", "none",
               '[[tool.poollint.checkouts]]\nlibrary = "acme-db"\nmethods = ["lease"]\nrelease = ["give_back"]',
               "Your own ways of checking a connection out of a pool and giving it back (DBP202, DBP304)."),
    SettingDoc("external-calls", "none",
               '[[tool.poollint.external-calls]]\nkind = "payment API call"\nfunctions = ["acme.payments.charge"]',
               "Calls that wait on something outside the database and must not run while a connection is "
               "held (DBP201, DBP202)."),
    SettingDoc("background", "none", '[[tool.poollint.background]]\nfunctions = ["acme.tasks.run_later"]',
               "Calls that hand their argument to another thread or process: what they run does not hold "
               "the caller's connection."),
    SettingDoc("offload", "none", '[[tool.poollint.offload]]\nfunctions = ["acme.sync.to_thread"]',
               "Calls that run a function elsewhere and wait for it (`run_in_executor`-like)."),
)


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("DBP",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    env_files: tuple[str, ...] = ()
    url_variables: tuple[str, ...] = ()
    serverless: Optional[bool] = None  # None means "auto": detect from the project
    max_connections: Optional[int] = None
    reserved_connections: Optional[int] = None
    replicas: Optional[int] = None
    workers: Optional[int] = None
    pgbouncer_version: Optional[str] = None
    duplicate_client_threshold: int = 2
    session_helpers: bool = False  # a shared session left open by a project helper begins its caller's hold
    pool_holds: bool = False  # a connection a framework keeps for a whole request where its pool is on (Django)
    extensions: tuple[tuple[str, Any], ...] = ()
    source: Optional[Path] = None  # the configuration file these came from
    # `--exclude`/`--extend-exclude` patterns, anchored at the working directory of the command line
    command_line_exclude: tuple[str, ...] = ()
    command_line_base: Optional[Path] = None
    catalog: Catalog = field(default_factory=load_catalog, compare=False, repr=False)

    @property
    def root(self) -> Optional[Path]:
        return self.source.parent if self.source else None

    def is_enabled(self, code: str, opt_in: bool = False) -> bool:
        """flake8's and ruff's rule: the longest matching prefix of select/ignore wins; ignore wins ties.

        An opt-in rule needs a selection more specific than the whole tool's `DBP` (`DBP2`, `DBP203`).
        """
        selected = max((len(p) for p in self.select + self.extend_select if code.startswith(p)), default=-1)
        ignored = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        if opt_in and selected <= len("DBP"):
            return False
        return selected >= 0 and selected > ignored

    def relative(self, path: "Path | str") -> str:
        """`path` (absolute, or relative to the working directory) relative to the configuration file's
        folder, POSIX separators: what `exclude` and `per-file-ignores` patterns are matched against."""
        return relative_posix(Path(path), self.root)

    def is_ignored_by_path(self, code: str, path: "Path | str") -> bool:
        """Whether a `per-file-ignores` pattern, anchored at the configuration file's folder, covers `code`."""
        relative = self.relative(path)
        return any(matches_pattern(relative, pattern) and any(code.startswith(c) for c in codes)
                   for pattern, codes in self.per_file_ignores)

    @property
    def excludes_anything(self) -> bool:
        return bool(self.exclude or self.command_line_exclude)

    def is_excluded(self, path: Path) -> bool:
        """Whether `exclude` (anchored at the configuration file's folder) or the command line's
        `--exclude`/`--extend-exclude` (anchored at the working directory) names `path`."""
        if self.exclude and any(matches_pattern(self.relative(path), p) for p in self.exclude):
            return True
        if self.command_line_exclude:
            relative = relative_posix(path, self.command_line_base)
            return any(matches_pattern(relative, p) for p in self.command_line_exclude)
        return False

    def fingerprint(self) -> str:
        """Changes whenever a setting that can change findings changes: part of cache keys.

        Computed once per (frozen) instance: the screen asks for it several times per file."""
        known = self.__dict__.get("_fingerprint")
        if known is None:
            payload = {k: v for k, v in self.__dict__.items() if k not in ("catalog", "source", "_fingerprint")}
            known = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
            object.__setattr__(self, "_fingerprint", known)
        return known


def relative_posix(path: Path, base: Optional[Path]) -> str:
    """`path` relative to `base` with POSIX separators; the path as given when it is not below `base`."""
    if base is not None:
        try:
            return Path(os.path.abspath(path)).relative_to(os.path.abspath(base)).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def matches_pattern(relative: str, pattern: str) -> bool:
    """ruff's and flake8's reading of a path pattern: one without `/` names a file or folder anywhere
    (`migrations`, `test_*.py`); one with `/` is anchored at the folder it is relative to
    (`scripts/legacy_*.py`), and names everything below a folder it matches."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    pattern = pattern.rstrip("/")
    if not pattern:
        return False
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in relative.split("/"))
    return fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(relative, pattern + "/*")


# Looked for in each folder, in this order (ruff's own order for ruff.toml): the first that configures
# poollint is the folder's configuration. A pyproject.toml without a [tool.poollint] table does not count.
CONFIG_FILE_NAMES = (".poollint.toml", "poollint.toml", "pyproject.toml")


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest configuration file above `start` (a file's folder, or `start` if it is a folder)."""
    start = Path(os.path.abspath(start))
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        found = _config_in(folder)
        if found is not None:
            return found
    return None


find_config = find_pyproject


def _config_in(directory: "Path | str") -> Optional[Path]:
    for name in CONFIG_FILE_NAMES:
        # os.path on strings: a run asks this of every folder it walks, and pathlib's parsing showed
        full = os.path.join(directory, name)
        if not os.path.isfile(full):
            continue
        candidate = Path(full)
        if name != "pyproject.toml":
            return candidate
        try:
            text = read_bytes(candidate, "settings").decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "poollint" not in text:
            continue
        try:  # the dotted-key form `[tool]` + `poollint.ignore = [...]` counts as much as `[tool.poollint]`
            tool = _toml.loads(text).get("tool", {})
        except (_toml.TOMLDecodeError, RecursionError):
            return candidate  # mentions poollint: reading it reports the error with its line
        if isinstance(tool, Mapping) and "poollint" in tool:
            return candidate
    return None


class SettingsResolver:
    """The settings of every checked file: those of `--config` for all, else of the nearest configuration
    file above the file (a monorepo's packages each keep theirs), with the command line's overrides applied.
    Each folder is looked up and each file read once per run."""

    def __init__(self, config: Optional[Path] = None,
                 adjust: Callable[[Settings], Settings] = lambda settings: settings) -> None:
        self._config = config
        self._adjust = adjust
        self._config_of: dict[str, Optional[Path]] = {}  # by absolute folder
        self._settings_of: dict[Optional[Path], Settings] = {}
        self._config_of_path: dict[str, Optional[Path]] = {}  # a run asks of each file several times
        self._settings_of_entry_folder: dict[str, Settings] = {}  # by folder as written (for_entry)

    def config_for(self, path: Path) -> Optional[Path]:
        if self._config is not None:
            return self._config
        key = str(path)
        if key not in self._config_of_path:
            self._config_of_path[key] = self._config_of_folder(path)
        return self._config_of_path[key]

    def _config_of_folder(self, path: Path) -> Optional[Path]:
        # plain strings: a run asks this of every file and folder, and pathlib's parsing dominated warm runs
        absolute = os.path.abspath(path)
        return self._config_above(absolute if os.path.isdir(absolute) else os.path.dirname(absolute))

    def _config_above(self, folder: str) -> Optional[Path]:
        """The configuration of the absolute `folder`: its own or its nearest parent's."""
        missed: list[str] = []
        found: Optional[Path] = None
        while True:
            if folder in self._config_of:
                found = self._config_of[folder]
                break
            missed.append(folder)
            found = _config_in(folder)
            parent = os.path.dirname(folder)
            if found is not None or parent == folder:
                break
            folder = parent
        for folder in missed:
            self._config_of.setdefault(folder, found)
        return found

    def for_path(self, path: Path) -> Settings:
        return self._settings(self.config_for(path))

    def for_entry(self, path: Path, is_folder: bool) -> Settings:
        """`for_path` of a path whose kind the caller knows (a directory walk's entry): no stat, and one
        absolute path per folder as written, not per file (the working directory stays for a run)."""
        if self._config is not None:
            return self._settings(self._config)
        text = str(path)
        folder = text if is_folder else os.path.dirname(text)
        found = self._settings_of_entry_folder.get(folder)
        if found is None:
            found = self._settings_of_entry_folder[folder] = self._settings(self._config_above(os.path.abspath(folder)))
        return found

    def _settings(self, source: Optional[Path]) -> Settings:
        if source not in self._settings_of:
            self._settings_of[source] = self._adjust(read_settings_file(source) if source else Settings())
        return self._settings_of[source]


def _string_list(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{path}: [tool.poollint] `{key}` must be {_KEYS[key]}")
    return tuple(value)


def _codes(path: Path, key: str, value: Any) -> tuple[str, ...]:
    codes = _string_list(path, key, value)
    for code in codes:
        if not CODE_PATTERN.match(code):
            raise SettingsError(f"{path}: [tool.poollint] `{key}` has `{code}`, not a DBP code or prefix")
    return codes


def _int(path: Path, key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingsError(f"{path}: [tool.poollint] `{key}` must be {_KEYS[key]}")
    return value


def parse_settings(table: Mapping[str, Any], path: Path) -> Settings:
    """Builds Settings from a [tool.poollint] table; unknown keys are an error."""
    where = "[tool.poollint]" if path.name == "pyproject.toml" else "the configuration"
    for key in table:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key).replace("_", "-"), list(_KEYS), n=1, cutoff=0.6)
            hint = f"; did you mean `{close[0]}`?" if close else f"; known keys: {', '.join(sorted(_KEYS))}"
            raise SettingsError(f"{path}: unknown key `{key}` in {where}{hint}")
    kwargs: dict[str, Any] = {"source": path}
    for key in ("select", "ignore", "extend-select"):
        if key in table:
            kwargs[key.replace("-", "_")] = _codes(path, key, table[key])
    for key in ("exclude", "env-files", "url-variables"):
        if key in table:
            kwargs[key.replace("-", "_")] = _string_list(path, key, table[key])
    for pattern in kwargs.get("env_files", ()):
        # globbed below the project root: an absolute pattern, `.` or `..` would leave it (or crash pathlib)
        parts = PurePosixPath(pattern.replace("\\", "/")).parts
        if not pattern.strip() or not parts or parts[0] == "/" or ".." in parts or pattern.startswith("~") \
                or Path(pattern).is_absolute() or re.match(r"^[A-Za-z]:", pattern):
            raise SettingsError(f"{path}: [tool.poollint] `env-files` has `{pattern}`, which is not a glob "
                                "relative to the project root (such as `.env.production` or `config/*.env`)")
    if "per-file-ignores" in table:
        raw = table["per-file-ignores"]
        if not isinstance(raw, Mapping):
            raise SettingsError(f"{path}: [tool.poollint] `per-file-ignores` must be {_KEYS['per-file-ignores']}")
        kwargs["per_file_ignores"] = tuple(
            (str(glob), _codes(path, "per-file-ignores", codes)) for glob, codes in raw.items()
        )
    if "serverless" in table:
        value = table["serverless"]
        if value not in ("auto", True, False):
            raise SettingsError(f"{path}: [tool.poollint] `serverless` must be {_KEYS['serverless']}")
        kwargs["serverless"] = None if value == "auto" else value
    for key, minimum in (("max-connections", 1), ("reserved-connections", 0), ("replicas", 1),
                         ("workers", 1), ("duplicate-client-threshold", 2)):
        if key in table:
            kwargs[key.replace("-", "_")] = _int(path, key, table[key], minimum)
    for key in ("session-helpers", "pool-holds"):
        if key in table:
            if not isinstance(table[key], bool):
                raise SettingsError(f"{path}: [tool.poollint] `{key}` must be {_KEYS[key]}")
            kwargs[key.replace("-", "_")] = table[key]
    if "pgbouncer-version" in table:
        value = table["pgbouncer-version"]
        if not isinstance(value, str) or not re.match(r"^\d+(\.\d+){0,2}$", value):
            raise SettingsError(f"{path}: [tool.poollint] `pgbouncer-version` must be {_KEYS['pgbouncer-version']}")
        kwargs["pgbouncer_version"] = value
    extensions = {key: table[key] for key in EXTENSION_KEYS if key in table}
    if extensions or kwargs.get("pool_holds"):
        where = f"{path} [tool.poollint]"
        try:
            kwargs["catalog"] = load_catalog([(where, extensions)] if extensions else [],
                                             pool_holds=kwargs.get("pool_holds", False))
        except CatalogError as error:
            raise SettingsError(str(error)) from None
        kwargs["extensions"] = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in extensions.items()))
    return Settings(**kwargs)


def _describe_toml_error(path: Path, text: str, error: Exception) -> str:
    """`path:line:column: invalid TOML: reason`; an error at the end of the document points at its last line."""
    message = str(error)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        return f"{path}:{match.group(1)}:{match.group(2)}: invalid TOML: {message[: match.start()]}"
    reason = re.sub(r"\s*\(at end of document\)$", "", message)
    last_line = text.rstrip("\n").count("\n") + 1
    return f"{path}:{last_line}: invalid TOML: {reason} (at end of file)"


def load_settings(start: Path, config: Optional[Path] = None) -> Settings:
    """Settings from `config`, or from the nearest configuration file above `start`, or defaults."""
    path = config if config is not None else find_pyproject(start)
    if path is None:
        return Settings()
    return read_settings_file(path)


def read_settings_file(path: Path) -> Settings:
    """Settings of one configuration file: `[tool.poollint]` of a pyproject.toml, or the top level
    of a `poollint.toml`/`.poollint.toml` (where a `[tool.poollint]` table is read too)."""
    try:
        text = read_bytes(path, "settings").decode("utf-8")
    except UnreadableFile as error:
        raise SettingsError(f"{path}: {error.reason}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text") from None
    try:
        document = _toml.loads(text)
    except _toml.TOMLDecodeError as error:
        raise SettingsError(_describe_toml_error(path, text, error)) from None
    except RecursionError:
        raise SettingsError(f"{path}: invalid TOML: nested too deeply to read") from None
    tool = document.get("tool", {})
    if not isinstance(tool, Mapping):
        raise SettingsError(f"{path}: `tool` must be a table")
    if path.name != "pyproject.toml" and "poollint" not in tool:
        table: Any = document
    else:
        table = tool.get("poollint", {})
    if not isinstance(table, Mapping):
        raise SettingsError(f"{path}: [tool.poollint] must be a table")
    return parse_settings(table, path)
