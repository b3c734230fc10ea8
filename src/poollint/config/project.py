"""The project's deployment model: every database URL with where it is set and who reads it.

Built once per run from the configuration files (and a cheap `ast` scan of Python
files for which library reads which variable); the DBP4xx rules only read it.

Which library consumes a variable is decided, in this order of evidence:
1. `schema.prisma` names it in a datasource: `url = env("DATABASE_URL")` -> Prisma;
2. Python passes it to a catalog constructor: `create_engine(os.environ["X"])`,
   `create_engine(settings.database_url)` (a settings field named like the variable),
   or through a module-level name (`URL = os.getenv("X")`; `asyncpg.create_pool(URL)`),
   also one another module imports (`from app.config import URL`); alembic's
   `config.set_main_option("sqlalchemy.url", URL)` hands it to SQLAlchemy;
3. the variable's name: `SQLALCHEMY_DATABASE_URI` / `SQLALCHEMY_*` -> SQLAlchemy;
4. the URL itself: `postgresql+asyncpg://` -> SQLAlchemy; `prisma://` and Prisma-only
   parameters (`connection_limit`, `pgbouncer`, `pool_timeout`) -> Prisma.
With no evidence the consumer is unknown, and library-specific advice is not given.
"""
from __future__ import annotations

import json
import logging
import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Optional

from poollint import _toml
from poollint.catalog.model import Catalog
from poollint.config import compose as compose_parser
from poollint.config.compose import DeploymentFile, EnvVar, Service
from poollint.config.lines import split_lines
from poollint.config.dotenv import _interpolate, is_template, parse_dotenv
from poollint.config.pgbouncer import PgBouncerConfig, parse_pgbouncer
from poollint.config.prisma import PrismaSchema, parse_prisma
from poollint.config.prisma_config import PRISMA_CONFIG, PrismaConfig, parse_prisma_config
from poollint.config.serverless import (
    NEXT_CONFIG, ServerlessFile, parse_netlify_toml, parse_next_config, parse_sam_template, parse_serverless_yml,
    parse_vercel_json,
    parse_zappa_settings,
)
from poollint.config.urls import ParsedUrl, is_placeholder, looks_like_url, parse_url
from poollint.config.pyscan import PythonFacts, is_module_imported_as, python_facts
from poollint.config.helm import helm_variables, is_helm_template, is_helm_values
from poollint.config.yamlfile import YamlError, load_documents
from poollint import limits
from poollint.limits import OverBudget, UnreadableFile, read_bytes, time_budget

logger = logging.getLogger(__name__)

URL_VARIABLE = re.compile(
    r"^(DATABASE_URL|DIRECT_URL|DIRECT_DATABASE_URL|SHADOW_DATABASE_URL|.*_DATABASE_URL|.*_DB_URL|DB_URL"
    r"|POSTGRES_URL.*|POSTGRES_PRISMA_URL|SQLALCHEMY_DATABASE_URI|.*_DATABASE_URI|REDIS_URL|.*_REDIS_URL"
    r"|MONGO.*_URI|MONGO.*_URL|MONGODB_URI|ACCELERATE_URL)$"
)
DIRECT_VARIABLE = re.compile(
    r"^(DIRECT_URL|DIRECT_DATABASE_URL|.*_DIRECT_URL|.*_URL_NON_POOLING|.*_URL_UNPOOLED|MIGRATION_DATABASE_URL)$"
)
PRISMA_ONLY_PARAMS = frozenset({"connection_limit", "pgbouncer", "pool_timeout", "socket_timeout"})


@dataclass(frozen=True)
class UrlSite:
    """A database URL written somewhere: a variable in a file, or a literal."""

    path: str  # display path
    line: int
    variable: str  # "" for a literal
    value: str
    source: str  # "dotenv", "compose", "kubernetes", "serverless", "prisma", "python"
    template: bool = False  # in an .env.example-like file
    service: str = ""  # compose service / Kubernetes workload
    literal_consumer: str = ""  # for literals: the library whose constructor receives it
    field_name: str = ""  # for schema.prisma literals: "url", "directUrl", "shadowDatabaseUrl"
    scheme_only: bool = False  # an f-string in code: its scheme is written out, its host and parameters are not

    # computed once per site: the rules ask for every pair of sites and files (a 2,000-file run asked 500,000 times)
    @cached_property
    def url(self) -> Optional[ParsedUrl]:
        return parse_url(self.value)

    @property
    def label(self) -> str:
        """How a message names it: the variable, or the literal's place."""
        if self.variable:
            return f"`{self.variable}`"
        if self.field_name:
            return f"the datasource `{self.field_name}`"
        return "the URL f-string" if self.scheme_only else "the URL literal"

    @cached_property
    def placeholder(self) -> bool:
        return self.template or is_placeholder(self.value)


@dataclass
class DeploymentModel:
    catalog: Optional[Catalog] = None
    url_sites: list[UrlSite] = field(default_factory=list)
    schemas: list[tuple[str, PrismaSchema]] = field(default_factory=list)
    prisma_configs: list[tuple[str, PrismaConfig]] = field(default_factory=list)  # Prisma 7 prisma.config.ts
    deployments: list[tuple[str, DeploymentFile]] = field(default_factory=list)
    pgbouncers: list[tuple[str, PgBouncerConfig]] = field(default_factory=list)
    serverless: list[tuple[str, ServerlessFile]] = field(default_factory=list)
    gunicorn_workers: list[tuple[str, int]] = field(default_factory=list)  # (gunicorn.conf.py, workers)
    # variable -> {(library, file that says so)}; evidence counts only for related directories
    evidence: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    python_serverless: list[str] = field(default_factory=list)  # files with Lambda handlers / Mangum
    statement_cache_configured: bool = False  # Python code sets statement_cache_size somewhere
    # Python files that rewrite a `postgres://` scheme to `postgresql` before SQLAlchemy reads the URL
    postgres_scheme_rewriters: list[str] = field(default_factory=list)
    errors: list[tuple[str, int, str]] = field(default_factory=list)
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # path -> lines, for noqa
    # pools sized in code: (variable, library, pool, overflow or -1, file)
    pool_sizes: list[tuple[str, str, int, int, str]] = field(default_factory=list)
    # files read because a compose service names them (`env_file:`) -> the compose files naming them
    env_files: dict[str, set[str]] = field(default_factory=dict)
    # texts that stand in for files on disk (resolved path ->): a codemod's edit being verified
    overrides: dict[Path, str] = field(default_factory=dict)
    # Python module-level names bound to a variable: file -> {name: variable}
    exports: dict[str, dict[str, str]] = field(default_factory=dict)
    # names imported from another module and handed to a library: (qualified name, library, file)
    imported_consumers: list[tuple[str, str, str]] = field(default_factory=list)
    # URLs Python code hands to a function of the project: (callee as imported, position, line, URL,
    # only its scheme is written, file); a function that hands that parameter to a library makes it a site
    handed_urls: list[tuple[str, int, int, str, bool, str]] = field(default_factory=list)
    # file -> {(module-level function, parameter position): library it hands that parameter to}
    forwarders: dict[str, dict[tuple[str, int], str]] = field(default_factory=dict)
    _joined: tuple[int, int] = (0, 0)
    _handed_joined: tuple[int, int] = (0, 0)

    # -- questions rules ask ----------------------------------------------------------------
    @property
    def consumers(self) -> dict[str, set[str]]:
        """Variable to the libraries read it anywhere in the run."""
        self._join_imports()
        return {variable: {library for library, _ in found} for variable, found in self.evidence.items()}

    def _join_imports(self) -> None:
        """`create_engine(DATABASE_URL)` with `from app.config import DATABASE_URL`, where app/config.py
        has `DATABASE_URL = os.getenv("DB_URL")`: SQLAlchemy reads `DB_URL` (evidence of the importing file)."""
        if self._joined == (len(self.exports), len(self.imported_consumers)):
            return
        self._joined = (len(self.exports), len(self.imported_consumers))
        modules = {_dotted_module(path): exports for path, exports in self.exports.items()}
        for qualified, library, path in self.imported_consumers:
            module, _, name = qualified.rpartition(".")
            for dotted, exports in modules.items():
                if name in exports and is_module_imported_as(dotted, module):
                    self.add_consumer(exports[name], library, path)

    def join_handed_urls(self) -> None:
        """`create_db_engine(f"postgres://...")` with `def create_db_engine(url): return create_engine(url)` in
        this file or an imported module: the URL is SQLAlchemy's, a site of the calling file."""
        if self._handed_joined == (len(self.handed_urls), len(self.forwarders)):
            return
        self._handed_joined = (len(self.handed_urls), len(self.forwarders))
        modules = {_dotted_module(path): path for path in self.forwarders}
        known = {(s.path, s.line, s.value) for s in self.url_sites}
        for callee, position, line, value, scheme_only, path in self.handed_urls:
            module, _, name = callee.rpartition(".")
            if module:
                owners = [owner for dotted, owner in modules.items() if is_module_imported_as(dotted, module)]
            else:
                owners = [path] if path in self.forwarders else []
            library = next((self.forwarders[owner][(name, position)] for owner in owners
                            if (name, position) in self.forwarders[owner]), None)
            if library is not None and (path, line, value) not in known:
                known.add((path, line, value))
                self.url_sites.append(UrlSite(path, line, "", value, "python", literal_consumer=library,
                                              scheme_only=scheme_only))

    def add_consumer(self, variable: str, library: str, path: str) -> None:
        self.evidence.setdefault(variable, set()).add((library, path))

    def consumers_of(self, site: UrlSite) -> set[str]:
        self._join_imports()
        found: set[str] = set()
        if site.literal_consumer:
            found.add(site.literal_consumer)
        if site.variable:
            found |= {lib for lib, path in self.evidence.get(site.variable, ()) if related(path, site.path)}
            if site.variable.startswith("SQLALCHEMY_"):
                found.add("sqlalchemy")
            if "_PRISMA_" in site.variable:
                found.add("prisma")  # Vercel Postgres's POSTGRES_PRISMA_URL is Prisma's by name
        url = site.url
        if url is not None:
            if url.family == "accelerate":
                found.add("prisma")
            if url.driver and url.family in ("postgres", "mysql"):
                found.add("sqlalchemy")
            if any(key in PRISMA_ONLY_PARAMS for key, _ in url.params):
                found.add("prisma")
            if url.has_param("prepared_statement_cache_size"):
                found.add("sqlalchemy")
            if "prisma" in found and url.family != "accelerate" and self.is_prisma7(site.path):
                found.discard("prisma")  # Prisma 7's client connects through a driver adapter, with its own pool
        return found

    def is_prisma7(self, near: str) -> bool:
        """A prisma.config file gives the URLs and no schema around `near` has a datasource `url` (Prisma 7)."""
        if not any(config.urls and related(path, near) for path, config in self.prisma_configs):
            return False
        return not any(datasource.url("url") for path, schema in self.schemas if related(path, near)
                       for datasource in schema.datasources)

    def migration_variables(self, near: str) -> set[str]:
        """Variables a prisma.config file around `near` gives the CLI: the first of each `A || B` chain
        that has a value near it, unless a schema beside it reads the same variable as its runtime `url`."""
        found: set[str] = set()
        for path, config in self.prisma_configs:
            if not related(path, near):
                continue
            runtime = {u.env for schema_path, schema in self.schemas if related(schema_path, path)
                       for datasource in schema.datasources for u in datasource.urls if u.field == "url" and u.env}
            for url in config.urls:
                chosen = next((v for v in url.variables if self.values_of(v, path)), None)
                if chosen and chosen not in runtime:
                    found.add(chosen)
        return found

    def pgbouncer_hosts(self, near: Optional[str] = None) -> frozenset[str]:
        return frozenset(s.name for path, d in self.deployments for s in d.services
                         if s.is_pgbouncer and (near is None or related(path, near)))

    def pgbouncer_service(self, name: str, near: Optional[str] = None) -> Optional[Service]:
        """The PgBouncer service called `name` in the deployment files around `near`, if there is one."""
        return next((s for path, d in self.deployments for s in d.services
                     if s.is_pgbouncer and s.name == name and (near is None or related(path, near))), None)

    def service_names(self) -> frozenset[str]:
        return frozenset(s.name for _, d in self.deployments if d.kind == "compose" for s in d.services)

    def pgbouncer_session_mode(self, near: Optional[str] = None) -> bool:
        """Every pgbouncer.ini of the project around `near` runs in session mode."""
        configs = [config for path, config in self.pgbouncers if near is None or related(path, near)]
        return bool(configs) and all(config.session_mode for config in configs)

    def values_of(self, variable: str, near: Optional[str] = None) -> list[UrlSite]:
        return [s for s in self.url_sites if s.variable == variable and not s.placeholder
                and (near is None or related(s.path, near))]

    def is_serverless(self, setting: Optional[bool], near: Optional[str] = None) -> bool:
        if setting is not None:
            return setting
        return bool(self.serverless_source(near))

    def serverless_source(self, near: Optional[str] = None) -> str:
        """The file that makes the deployment around `near` serverless, or ""."""
        # a deployment file (vercel.json) names the platform better than the Next.js config that implies it
        for path, found in sorted(self.serverless, key=lambda item: bool(NEXT_CONFIG.fullmatch(
                PurePosixPath(item[0]).name))):
            if found.platform and (near is None or related(path, near)):
                return path
        return next((p for p in self.python_serverless if near is None or related(p, near)), "")


def related(one: str, other: str) -> bool:
    """Files of one project: one's directory contains the other's (a monorepo's siblings are not related)."""
    first, second = _directory_parts(one), _directory_parts(other)
    shorter = min(len(first), len(second))
    return first[:shorter] == second[:shorter]


@lru_cache(maxsize=1 << 16)
def _directory_parts(path: str) -> tuple[str, ...]:
    # asked for every pair of sites and files: building a PurePosixPath each time was most of a large run
    return PurePosixPath(path).parent.parts


# -- building ---------------------------------------------------------------------------------
def _is_url_variable(key: str, extra: Iterable[str]) -> bool:
    return bool(URL_VARIABLE.match(key)) or key in extra


_JSON_OR_TOML_KEY = re.compile(r"""(?:^|[\s"'{,])([^\s"'{,:=]+)["']?\s*[:=]""")


def _key_lines(lines: tuple[str, ...]) -> dict[str, int]:
    """The first line of every `"KEY":` (JSON) or `KEY =` (TOML): their parsers keep no positions. One pass
    over the file; looking each key up in every line took half a minute for 5,000 variables."""
    found: dict[str, int] = {}
    for number, text in enumerate(lines, start=1):
        for match in _JSON_OR_TOML_KEY.finditer(text):
            found.setdefault(match.group(1), number)
    return found


def _read(path: Path, shown: str, model: DeploymentModel) -> Optional[str]:
    if model.overrides:
        override = model.overrides.get(path.resolve())
        if override is not None:
            model.files[shown] = tuple(split_lines(override))
            return override
    if path.is_symlink() and not path.exists():
        return None  # a committed `.env` link to a file each developer creates later
    try:
        data = read_bytes(path, "yaml" if path.suffix.lower() in (".yml", ".yaml") else "config")
    except UnreadableFile as error:
        model.errors.append((shown, 1, error.reason))
        return None
    if b"\x00" in data:
        model.errors.append((shown, data[: data.index(b"\x00")].count(b"\n") + 1, "file contains a null byte"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        model.errors.append((shown, line, "cannot decode as UTF-8"))
        return None
    model.files[shown] = tuple(split_lines(text))
    return text


def _env_sites(model: DeploymentModel, shown: str, variables: Iterable[EnvVar], source: str, extra: Iterable[str],
               service: str = "", environ: Optional[dict[str, str]] = None) -> None:
    extra = tuple(extra)
    for var in variables:
        if not _is_url_variable(var.key, extra):
            continue
        value = var.value
        if environ is not None and "${" in value:
            value, _ = _interpolate(value, environ)
        if looks_like_url(value) or source != "dotenv":
            model.url_sites.append(UrlSite(shown, var.line, var.key, value, source, service=service))


def _load_dotenv(model: DeploymentModel, path: Path, shown: str, text: str, extra: Iterable[str]) -> None:
    parsed = parse_dotenv(text)
    for error in parsed.errors:
        model.errors.append((shown, error.line, f"cannot parse .env: {error.reason}"))
    template = is_template(path.name)
    extra = tuple(extra)
    for entry in parsed.entries:
        if _is_url_variable(entry.key, extra) and (looks_like_url(entry.value) or entry.unresolved):
            value = entry.value  # an unresolved `${PW}` stays in place: the URL is judged around it
            model.url_sites.append(UrlSite(shown, entry.line, entry.key, value, "dotenv", template=template))


def _compose_environ(path: Path) -> dict[str, str]:
    """Compose interpolates `${VAR}` from the `.env` next to the compose file."""
    env_path = path.parent / ".env"
    try:
        text = read_bytes(env_path, "config").decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    return {k: e.value for k, e in parse_dotenv(text).values().items()}


def _load_yaml(model: DeploymentModel, path: Path, shown: str, text: str, extra: Iterable[str]) -> None:
    try:
        documents = load_documents(text)
    except YamlError as error:
        model.errors.append((shown, min(error.line, max(len(model.files.get(shown, ())), 1)), error.reason))
        return
    name = path.name.lower()
    if is_helm_values(path):
        _load_helm_values(model, shown, documents, extra)
        return
    if name.startswith(("serverless.",)):
        found = parse_serverless_yml(documents[0] if documents else None)
        model.serverless.append((shown, found))
        _env_sites(model, shown, found.environment, "serverless", extra)
        return
    if name.startswith("template."):
        found = parse_sam_template(documents[0] if documents else None)
        model.serverless.append((shown, found))
        _env_sites(model, shown, found.environment, "serverless", extra)
        return
    if compose_parser.is_kubernetes(documents):
        deployment = compose_parser.parse_kubernetes(documents)
        environ: Optional[dict[str, str]] = None
    else:
        deployment = compose_parser.parse_compose(documents[0] if documents else None)
        environ = _compose_environ(path)
    model.deployments.append((shown, deployment))
    for service in deployment.services:
        if service.is_pgbouncer:
            continue  # its `DATABASE_URL` is the pooler's own upstream, which the image reads, not a client
        _env_sites(model, shown, service.environment, deployment.kind, extra, service=service.name, environ=environ)
        for env_file in service.env_files if deployment.kind == "compose" else ():
            _load_env_file(model, path.parent / env_file, posixpath.normpath(posixpath.join(
                posixpath.dirname(shown), env_file)), service.name, extra, shown)


def _load_env_file(model: DeploymentModel, path: Path, shown: str, service: str, extra: Iterable[str],
                   compose_file: str) -> None:
    """A service's `env_file:`: its variables are that service's environment."""
    if not path.is_file() or is_template(path.name):
        return
    text = _read(path, shown, model)
    if text is None:
        return
    model.env_files.setdefault(shown, set()).add(compose_file)
    for entry in parse_dotenv(text).entries:
        if _is_url_variable(entry.key, tuple(extra)) and looks_like_url(entry.value):
            model.url_sites.append(UrlSite(shown, entry.line, entry.key, entry.value, "compose", service=service))


def merge_compose_files(model: DeploymentModel) -> None:
    """Compose files of one directory as compose runs them: the base with `docker-compose.override.yml`
    (what `docker compose up` reads), and each `-f` overlay (`compose.prod.yaml`) on top of the base."""
    by_directory: dict[str, dict[str, list[tuple[str, DeploymentFile]]]] = {}
    for path, deployment in model.deployments:
        role = compose_parser.compose_role(PurePosixPath(path).name) if deployment.kind == "compose" else ""
        if role:
            by_directory.setdefault(str(PurePosixPath(path).parent), {}).setdefault(role, []).append((path, deployment))
    replaced: dict[str, Optional[DeploymentFile]] = {}
    for roles in by_directory.values():
        bases = roles.get("base", [])
        if not bases:
            continue
        base = bases[0]
        overrides = roles.get("override", [])
        if overrides:
            replaced[base[0]] = compose_parser.merge_compose([base, *overrides])
            for path, _ in overrides:
                replaced[path] = None  # counted in the base's project
        for overlay in roles.get("overlay", []):
            replaced[overlay[0]] = compose_parser.merge_compose([base, overlay])
    model.deployments = [(path, replaced.get(path, deployment)) for path, deployment in model.deployments
                         if replaced.get(path, deployment) is not None]


def _load_helm_values(model: DeploymentModel, shown: str, documents: list[Any], extra: Iterable[str]) -> None:
    """A chart's values: the environment its templates render, for long-running pods (like Kubernetes)."""
    variables = [var for document in documents for var in helm_variables(document, 1)]
    _env_sites(model, shown, [v for v in variables if looks_like_url(v.value)], "helm", extra)


def _load_json_or_toml(model: DeploymentModel, path: Path, shown: str, text: str, extra: Iterable[str]) -> None:
    name = path.name.lower()
    try:
        document: Any = _toml.loads(text) if name.endswith(".toml") else json.loads(text)
    except json.JSONDecodeError as error:
        model.errors.append((shown, error.lineno, f"invalid JSON: {error.msg}"))
        return
    except _toml.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        model.errors.append((shown, int(match.group(1)) if match else 1, f"invalid TOML: {str(error).split(' (at')[0]}"))
        return
    except RecursionError:
        model.errors.append((shown, 1, "nested too deeply to read"))
        return
    parser = {"vercel.json": parse_vercel_json, "netlify.toml": parse_netlify_toml,
              "zappa_settings.json": parse_zappa_settings}[name]
    found = parser(document)
    key_lines = _key_lines(model.files.get(shown, ()))
    environment = tuple(EnvVar(v.key, v.value, key_lines.get(v.key, 1)) for v in found.environment)
    model.serverless.append((shown, found))
    _env_sites(model, shown, environment, "serverless", extra)


def load_config_file(model: DeploymentModel, path: Path, shown: str, extra_variables: Iterable[str] = (),
                     as_dotenv: bool = False) -> None:
    """Adds one configuration file to the model; a malformed file becomes an error, never an exception."""
    if is_helm_template(path):
        return  # rendered by Helm; `values.yaml` holds what they read
    text = _read(path, shown, model)
    if text is None:
        return
    try:
        with time_budget(limits.CONFIG_SECONDS):
            _parse_config_file(model, path, shown, text, extra_variables, as_dotenv)
    except RecursionError:
        model.errors.append((shown, 1, "nested too deeply to read"))
    except OverBudget:
        model.errors.append((shown, 1, f"took more than {limits.CONFIG_SECONDS:g} s to read "
                                       "(poollint's time budget per configuration file), skipped"))


def _parse_config_file(model: DeploymentModel, path: Path, shown: str, text: str, extra_variables: Iterable[str],
                       as_dotenv: bool) -> None:
    name = path.name.lower()
    if as_dotenv:
        _load_dotenv(model, path, shown, text, extra_variables)
    elif name == "gunicorn.conf.py":
        workers = compose_parser.workers_in_gunicorn_conf(text)
        if workers is not None:
            model.gunicorn_workers.append((shown, workers))
    elif name.endswith(".prisma"):
        schema = parse_prisma(text)
        if schema.error:
            model.errors.append((shown, schema.error[0], f"cannot parse schema: {schema.error[1]}"))
        model.schemas.append((shown, schema))
        for datasource in schema.datasources:
            for url in datasource.urls:
                if url.env:
                    model.add_consumer(url.env, "prisma", shown)
                elif url.literal is not None:
                    model.url_sites.append(UrlSite(shown, url.line, "", url.literal, "prisma",
                                                   literal_consumer="prisma", field_name=url.field))
    elif PRISMA_CONFIG.fullmatch(name):
        config = parse_prisma_config(text)
        if config is not None:
            model.prisma_configs.append((shown, config))
            for url in config.urls:
                for variable in url.variables:
                    # the CLI (migrate, introspect) reads it; the app's pool is the driver adapter's
                    model.add_consumer(variable, "prisma-cli", shown)
            for pool in config.adapter_pools:
                for variable in pool.variables:
                    model.add_consumer(variable, "pg", shown)
                    model.pool_sizes.append((variable, "pg", pool.size, 0, shown))
    elif NEXT_CONFIG.fullmatch(name):
        package = path.parent / "package.json"
        try:
            package_text = read_bytes(package, "config").decode("utf-8", "replace") if package.is_file() else ""
        except OSError:  # UnreadableFile included: no package.json, no Vercel evidence
            package_text = ""
        found = parse_next_config(text, package_text, (path.parent / ".vercelignore").is_file())
        if found.platform:
            model.serverless.append((shown, found))
    elif name == "pgbouncer.ini":
        config = parse_pgbouncer(text)
        if config.error:
            model.errors.append((shown, config.error[0], f"cannot parse pgbouncer.ini: {config.error[1]}"))
        model.pgbouncers.append((shown, config))
    elif name.endswith((".yml", ".yaml")):
        _load_yaml(model, path, shown, text, extra_variables)
    elif name in ("vercel.json", "netlify.toml", "zappa_settings.json"):
        _load_json_or_toml(model, path, shown, text, extra_variables)
    else:
        _load_dotenv(model, path, shown, text, extra_variables)


# -- Python: who reads which variable (computed in config/pyscan.py, where the file is parsed) ---
def add_python_facts(model: DeploymentModel, shown: str, facts: PythonFacts, attribution: bool,
                     read_text: Callable[[], str]) -> None:
    """Adds one file's facts; without `attribution` (no config file in the run) only URL literals count."""
    if facts.statement_cache:
        model.statement_cache_configured = True
    if facts.rewrites_postgres_scheme:
        model.postgres_scheme_rewriters.append(shown)
    if facts.forwarders:  # about the URLs other files write: kept without attribution too
        model.forwarders[shown] = {(function, position): library for function, position, library in facts.forwarders}
    if not attribution and not facts.mentions_url:
        return
    for variable, library in facts.consumers:
        model.add_consumer(variable, library, shown)
    if facts.exports:
        model.exports[shown] = dict(facts.exports)
    model.imported_consumers.extend((qualified, library, shown) for qualified, library in facts.imported_consumers)
    for variable, library, pool, overflow in facts.pool_sizes:
        model.pool_sizes.append((variable, library, pool, overflow, shown))
    if facts.serverless:
        model.python_serverless.append(shown)
    if facts.writes_urls:
        model.files.setdefault(shown, tuple(split_lines(read_text())))
        for line, value, library, scheme_only in facts.literals:
            model.url_sites.append(UrlSite(shown, line, "", value, "python", literal_consumer=library,
                                           scheme_only=scheme_only))
        model.handed_urls.extend((*handed, shown) for handed in facts.handed)


def _dotted_module(path: str) -> str:
    """`backend/app/core/config.py` -> `backend.app.core.config`; a package's `__init__.py` is the package."""
    stem = path[:-3] if path.endswith(".py") else path
    parts = [part for part in stem.replace("\\", "/").split("/") if part not in ("", ".")]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def scan_python(model: DeploymentModel, shown: str, data: bytes, catalog: Catalog,
                screen: Callable[[bytes], bool] = lambda data: True, attribution: bool = True) -> None:
    """Adds what one Python file says about variables, literals and serverless handlers.

    `screen` tells whether a catalog library's name appears; without `attribution` (no config
    file in the run) only URL literals are looked for.
    """
    facts = python_facts(data, catalog, screen(data))
    add_python_facts(model, shown, facts, attribution, lambda: data.decode("utf-8", "replace"))


def service_env(model: DeploymentModel, path: str, service: Service,
                deployment: Optional[DeploymentFile] = None) -> list[UrlSite]:
    """The service's URL settings; for merged compose files, the last file to set a variable wins."""
    paths = list(deployment.merged_from) if deployment is not None and deployment.merged_from else [path]
    def order(site: UrlSite) -> tuple[int, int]:
        # compose applies env_file first, then `environment:`, file by file
        if site.path in paths:
            return 1, paths.index(site.path)
        return 0, 0

    found: dict[str, UrlSite] = {}
    for site in sorted((s for s in model.url_sites if s.service == service.name
                        and s.source in ("compose", "kubernetes")
                        and (s.path in paths or model.env_files.get(s.path, set()) & set(paths))), key=order):
        found[site.variable] = site
    return list(found.values())
