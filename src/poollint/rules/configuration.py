"""DBP4xx: configuration that exhausts pools — database URLs, poolers, serverless and the connection budget.

Rules read the project's deployment model (config/project.py); none opens a file.
Every URL in a message goes through `mask()`.
"""
from __future__ import annotations

import difflib
import re
from typing import Any, Iterator, Optional, Sequence

from poollint.config.budget import compute_budgets
from poollint.config.compose import Service, count
from poollint.config.project import DIRECT_VARIABLE, DeploymentModel, UrlSite, related
from poollint.config.urls import (
    ParsedUrl, Pooler, find_pooler, is_local, mask, password_problems, prepared_statement_tracking,
)
from poollint.findings import Finding
from poollint.rules.base import Rule
from poollint.settings import Settings


class ConfigRule(Rule):
    """Reads the parsed deployment model; `check()` yields findings."""

    example_language = "ini"

    def __init__(self, model: DeploymentModel, settings: Settings) -> None:
        self.model = model
        self.settings = settings

    def check(self) -> Iterator[Finding]:
        raise NotImplementedError

    def finding(self, path: str, line: int, value: str = "", **fields: Any) -> Finding:
        """A finding at the column where `value` (the URL, or the text at fault) starts on `line`."""
        column = value_column(self.model.files.get(path, ()), line, value)
        return Finding(code=self.code, name=self.name, message=self.render(**fields), path=path, line=line,
                       column=column, fix_hint=self.fix_hint, fields=fields)

    # -- shared questions ---------------------------------------------------------------------
    # whether the rule judges URLs of which only the scheme is known (an f-string in code)
    judges_schemes = False

    def sites(self) -> Iterator[tuple[UrlSite, ParsedUrl]]:
        """Every URL that is not a template placeholder, parsed."""
        self.model.join_handed_urls()
        for site in self.model.url_sites:
            if site.placeholder or (site.scheme_only and not self.judges_schemes):
                continue
            url = site.url
            if url is not None:
                yield site, url

    def pooler(self, url: ParsedUrl, near: str) -> Optional[Pooler]:
        """The pooler `url` goes through, judged with the PgBouncer services and pgbouncer.ini around `near`."""
        return find_pooler(url, self.model.pgbouncer_hosts(near), self.model.pgbouncer_session_mode(near))

    def direct_variables(self) -> set[str]:
        names = {s.variable for s in self.model.url_sites if DIRECT_VARIABLE.match(s.variable)}
        for _, schema in self.model.schemas:
            for datasource in schema.datasources:
                names |= {u.env for u in datasource.urls if u.env and u.field != "url"}
        return names

    def is_direct(self, site: UrlSite) -> bool:
        if site.field_name in ("directUrl", "shadowDatabaseUrl"):
            return True
        return bool(site.variable) and (site.variable in self.direct_variables()
                                        or site.variable in self.model.migration_variables(site.path))


_ASSIGNED = re.compile(r"""^\s*(?:export\s+|-\s+)?[\w.\-"']+["']?\s*[=:]\s*["']?""")


def value_column(lines: Sequence[str], line: int, value: str) -> int:
    """1-based column of `value` on the line; else where the assigned value starts; else the first character."""
    if not 1 <= line <= len(lines):
        return 1
    text = lines[line - 1]
    for needle in (value, value.split("$", 1)[0], value[:12]):
        if len(needle) >= 3 and needle in text:
            return text.index(needle) + 1
    assigned = _ASSIGNED.match(text)
    if assigned and assigned.end() < len(text.rstrip()):
        return assigned.end() + 1
    return len(text) - len(text.lstrip()) + 1


def _version_at_least(version: Optional[str], minimum: tuple[int, ...]) -> bool:
    if not version:
        return False
    parts = tuple(int(p) for p in version.split("."))
    return parts + (0,) * (3 - len(parts)) >= minimum


def _tracks_prepared_statements(service: Service) -> bool:
    """Whether a PgBouncer service's image and environment make it track prepared statements
    (config/data/poolers.toml): a tag of the by-default version or later, `latest` or none (the newest
    release), or of the opt-in version or later with `MAX_PREPARED_STATEMENTS` above 0; never with
    `MAX_PREPARED_STATEMENTS=0`."""
    tracking = prepared_statement_tracking()
    environment = {variable.key: variable.value.strip() for variable in service.environment}
    configured = next((environment[key] for key in tracking.variables if key in environment), None)
    if configured is not None and not configured.isdigit():
        return False  # `${MAX_PREPARED:-0}`: cannot tell
    tag = service.image_tag
    version = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?![\d.])", tag)
    if configured == "0" or (tag not in ("", "latest") and version is None):
        return False
    if version is None:
        return True
    found = tuple(int(part or 0) for part in version.groups())
    if found >= tracking.by_default:
        return True
    return found >= tracking.opt_in and configured is not None and int(configured) > 0


class UnparsableUrl(ConfigRule):
    """Flags a database URL the driver cannot parse: unencoded characters in the password, a bad port."""

    code = "DBP401"
    name = "unparsable-url"
    message = "{what} cannot be parsed as its reader will: {problem}: {url}"
    fix_hint = "Percent-encode reserved characters in the password (`@` is `%40`, `#` is `%23`, `/` is `%2F`) and check the port"
    rationale = """
        Drivers split a URL at the first reserved character. A password holding `@`, `:`,
        `/`, `#` or `?` moves the host, port or database to the wrong place: the app then
        retries a connection that can never succeed, each attempt holding a slot of the
        pool until it times out, and the error (`P1013`, `invalid port`, `could not translate
        host name`) hides the real cause. A non-numeric port or one outside 1-65535 fails
        the same way; Prisma also rejects a URL with no host.
    """
    example = """
        DATABASE_URL="postgresql://app:p@ss#word@db.example.com:5432/app"
    """
    use_instead = """
        DATABASE_URL="postgresql://app:p%40ss%23word@db.example.com:5432/app"
    """
    references = (
        "https://www.prisma.io/docs/orm/reference/connection-urls#special-characters",
        "https://docs.sqlalchemy.org/en/20/core/engines.html#escaping-special-characters-such-as-signs-in-passwords",
    )

    def check(self) -> Iterator[Finding]:
        for site, url in self.sites():
            consumers = self.model.consumers_of(site)
            problems = list(url.problems) + password_problems(url, consumers)
            if not problems and url.family == "postgres" and not url.host and not url.has_param("host") \
                    and "prisma" in consumers:
                problems.append("no host (Prisma requires one)")
            if problems:
                yield self.finding(site.path, site.line, site.value, what=site.label, problem="; ".join(problems),
                                   url=mask(site.value))


class PoolerWithoutPgbouncerMode(ConfigRule):
    """Flags a URL through a transaction-mode pooler that leaves prepared statements on."""

    code = "DBP402"
    name = "pooler-without-pgbouncer-mode"
    message = ("{what} goes through {pooler} without `{setting}`; prepared statements fail in transaction mode "
               "unless the pooler is PgBouncer 1.21.0 or later")
    fix_hint = (
        "Prisma: add `pgbouncer=true`; SQLAlchemy+asyncpg: `prepared_statement_cache_size=0`; asyncpg: "
        "`statement_cache_size=0`. If your PgBouncer is 1.21.0 or later, set `pgbouncer-version` in [tool.poollint]"
    )
    rationale = """
        A transaction-mode pooler (PgBouncer on 6432, Supabase's pooler on 6543, Neon's
        `-pooler` hosts) gives each transaction whichever server connection is free. A
        prepared statement created on one connection is missing on the next: Prisma fails
        with `prepared statement "s0" already exists` / `does not exist`, asyncpg with
        `InvalidSQLStatementNameError`. Failed queries are retried, connections churn and the
        pool runs dry. Prisma's `pgbouncer=true` and asyncpg's `statement_cache_size=0` turn
        prepared statements off.

        Prisma documents that PgBouncer 1.21.0 and later track protocol-level prepared
        statements, so `pgbouncer=true` is no longer needed there; Supabase's pooler
        documentation still asks for it. Set `pgbouncer-version = "1.21.0"` (or later) in
        `[tool.poollint]` when your pooler supports it, and this rule stays silent. A PgBouncer
        service of the project's compose or Kubernetes files says it itself: its image tag is
        1.24.0 or later (prepared statements tracked by default), `latest` or absent (the newest
        release), or 1.21.0 or later with `MAX_PREPARED_STATEMENTS` above 0 in its environment
        (`PGBOUNCER_MAX_PREPARED_STATEMENTS` for Bitnami's image); `MAX_PREPARED_STATEMENTS=0`
        turns tracking off whatever the version.

        Which library reads a variable is decided from the project: `env("...")` in
        `schema.prisma` means Prisma; `os.environ`/`os.getenv` passed to a catalog
        constructor (`create_engine`, `asyncpg.create_pool`, ...) means that library; a
        `postgresql+asyncpg://` URL means SQLAlchemy with asyncpg. A variable no library is
        known to read is not reported.
    """
    example = """
        # schema.prisma reads env("DATABASE_URL")
        DATABASE_URL="postgresql://app:secret@aws-0-eu.pooler.supabase.com:6543/postgres"
    """
    use_instead = """
        DATABASE_URL="postgresql://app:secret@aws-0-eu.pooler.supabase.com:6543/postgres?pgbouncer=true"
    """
    options = ("pgbouncer-version",)
    references = (
        "https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/databases-connections/pgbouncer",
        "https://supabase.com/docs/guides/database/prisma",
        "https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#prepared-statement-cache",
        "https://www.pgbouncer.org/changelog.html#pgbouncer-121x",
    )

    def check(self) -> Iterator[Finding]:
        if _version_at_least(self.settings.pgbouncer_version, prepared_statement_tracking().opt_in):
            return
        for site, url in self.sites():
            if url.family != "postgres" or self.is_direct(site):
                continue
            pooler = self.pooler(url, site.path)
            if pooler is None or not pooler.transaction_mode:
                continue
            service = self.model.pgbouncer_service(url.host.split(":")[0], site.path)
            if service is not None and _tracks_prepared_statements(service):
                continue
            consumers = self.model.consumers_of(site)
            setting = None
            if "prisma" in consumers and url.param("pgbouncer") not in ("true", "${...}"):
                setting = "pgbouncer=true"
            elif url.driver == "asyncpg" and url.param("prepared_statement_cache_size") != "0" \
                    and not self.model.statement_cache_configured:
                setting = "prepared_statement_cache_size=0"
            elif "asyncpg" in consumers and not url.driver and not self.model.statement_cache_configured:
                setting = "statement_cache_size=0"
            if setting:
                yield self.finding(site.path, site.line, site.value, what=site.label, pooler=pooler.display,
                                   setting=setting)


class MissingDirectUrl(ConfigRule):
    """Flags a Prisma datasource on a pooled or Accelerate URL with no direct URL for migrations."""

    code = "DBP403"
    name = "missing-direct-url"
    message = "{what} goes through {pooler} and there is no direct URL for migrations (`directUrl` / `DIRECT_URL`)"
    fix_hint = 'Add `directUrl = env("DIRECT_URL")` to the datasource and set DIRECT_URL to the database itself'
    example_language = "prisma"
    rationale = """
        `prisma migrate` takes advisory locks, runs DDL in long transactions and needs a
        session; through a transaction-mode pooler or Prisma Accelerate it hangs or fails,
        and retried deploys hold pooler slots that the application needs. Prisma's answer is
        `directUrl`: migrations use it, the app keeps the pooled `url`.
    """
    example = """
        datasource db {
          provider = "postgresql"
          url      = env("DATABASE_URL") // DATABASE_URL is on the pooler, port 6543
        }
    """
    use_instead = """
        datasource db {
          provider  = "postgresql"
          url       = env("DATABASE_URL")
          directUrl = env("DIRECT_URL")
        }
    """
    references = (
        "https://www.prisma.io/docs/orm/reference/prisma-schema-reference#fields",
        "https://supabase.com/docs/guides/database/prisma",
        "https://neon.tech/docs/guides/prisma#use-connection-pooling-with-prisma",
    )

    def _pooled(self, variable: str, near: str) -> Optional[tuple[UrlSite, Pooler]]:
        for site in self.model.values_of(variable, near):
            url = site.url
            if url is None:
                continue
            pooler = self.pooler(url, site.path)
            if pooler and (pooler.transaction_mode or (pooler.kind == "accelerate" and not is_local(url))):
                return site, pooler
        return None

    def check(self) -> Iterator[Finding]:
        for path, schema in self.model.schemas:
            for datasource in schema.datasources:
                main, direct = datasource.url("url"), datasource.url("directUrl")
                if main is None or direct is not None or not main.env:
                    continue
                pooled = self._pooled(main.env, path)
                if pooled:
                    yield self.finding(path, main.line, "env(", what=f'`url = env("{main.env}")`',
                                       pooler=pooled[1].display)
        for site, url in self.sites():
            # with a schema nearby, the schema decides (above); else look for a DIRECT_URL nearby
            if any(related(path, site.path) for path, _ in self.model.schemas) or self.is_direct(site) \
                    or "prisma" not in self.model.consumers_of(site):
                continue
            if any(DIRECT_VARIABLE.match(s.variable) and related(s.path, site.path) for s in self.model.url_sites):
                continue
            pooler = self.pooler(url, site.path)
            if pooler and (pooler.transaction_mode or (pooler.kind == "accelerate" and not is_local(url))):
                yield self.finding(site.path, site.line, site.value, what=site.label, pooler=pooler.display)


class DirectUrlThroughPooler(ConfigRule):
    """Flags a direct (migration) URL that points at a transaction-mode pooler."""

    code = "DBP404"
    name = "direct-url-through-pooler"
    message = "{what} is the direct URL for migrations but goes through {pooler}: {url}"
    fix_hint = "Point the direct URL at the database itself (Supabase: port 5432; Neon: the host without `-pooler`)"
    rationale = """
        The direct URL exists so that migrations and introspection bypass the pooler. Pointing
        it at the transaction pooler (a copy-paste of DATABASE_URL) brings back every problem
        it was meant to avoid: migrations hang on advisory locks and hold pooler connections
        the application is waiting for.
    """
    example = """
        DIRECT_URL="postgresql://app:secret@ep-cool-dawn-123-pooler.eu-central-1.aws.neon.tech/app"
    """
    use_instead = """
        DIRECT_URL="postgresql://app:secret@ep-cool-dawn-123.eu-central-1.aws.neon.tech/app"
    """
    references = (
        "https://www.prisma.io/docs/orm/reference/prisma-schema-reference#fields",
        "https://neon.tech/docs/guides/prisma#use-connection-pooling-with-prisma",
    )

    def check(self) -> Iterator[Finding]:
        for site, url in self.sites():
            if not self.is_direct(site):
                continue
            pooler = self.pooler(url, site.path)
            if pooler and (pooler.transaction_mode or pooler.kind == "accelerate"):
                yield self.finding(site.path, site.line, site.value, what=site.label, pooler=pooler.display,
                                   url=mask(site.value))


class ServerlessUnboundedPool(ConfigRule):
    """Flags a serverless deployment whose database URL has no pooler or no small per-instance limit."""

    code = "DBP405"
    name = "serverless-unbounded-pool"
    message = "{what} {problem} in a serverless deployment ({source})"
    fix_hint = (
        "Route serverless functions through a pooler (PgBouncer, Supabase port 6543, Neon `-pooler`, Accelerate) "
        "and, for Prisma, set `connection_limit=1`"
    )
    rationale = """
        Every serverless instance is a separate process with its own pool, and a traffic spike
        starts hundreds of instances. Each one opening Prisma's default pool (physical CPUs ×
        2 + 1) or SQLAlchemy's 5 + 10 straight to PostgreSQL exhausts `max_connections` in
        seconds (`too many clients already`). Serverless functions need a pooler in front of
        the database and a pool of 1-2 connections per instance.

        The project is serverless when it has `vercel.json`, `serverless.yml`, a SAM
        `template.yaml`, `zappa_settings.json`, a `netlify.toml` with functions, a Lambda
        handler or `Mangum` in Python, or `serverless = true` in `[tool.poollint]`.
        Databases on localhost or in the same compose project are not reported.
    """
    example = """
        # vercel.json deploys this project
        DATABASE_URL="postgresql://app:secret@db.abcdefgh.supabase.co:5432/postgres"
    """
    use_instead = """
        DATABASE_URL="postgresql://app:secret@aws-0-eu.pooler.supabase.com:6543/postgres?pgbouncer=true&connection_limit=1"
    """
    options = ("serverless",)
    references = (
        "https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/databases-connections#serverless-environments-faas",
        "https://vercel.com/guides/connection-pooling-with-serverless-functions",
    )

    def check(self) -> Iterator[Finding]:
        services = self.model.service_names()
        for site, url in self.sites():
            if not self.model.is_serverless(self.settings.serverless, site.path):
                continue
            source = self.model.serverless_source(site.path) or "[tool.poollint] serverless = true"
            if any(path == site.path and found.platform for path, found in self.model.serverless):
                source = site.path  # the URL is set in the deployment file itself
            if url.family not in ("postgres", "mysql") or self.is_direct(site) or is_local(url, services):
                continue
            if site.source in ("compose", "kubernetes", "helm", "python"):
                continue  # long-running services, not functions; code literals are judged by DBP1xx
            pooler = self.pooler(url, site.path)
            consumers = self.model.consumers_of(site)
            problem = None
            if pooler is None:
                problem = f"goes straight to `{url.host}` with no pooler"
            elif pooler.kind not in ("accelerate", "planetscale") and "prisma" in consumers:
                limit = url.param("connection_limit")
                if limit is None:
                    problem = "sets no `connection_limit` (Prisma's default is physical CPUs × 2 + 1 per instance)"
                elif (count(limit) or 0) > 2:
                    problem = f"sets `connection_limit={limit}` per instance"
            if problem:
                yield self.finding(site.path, site.line, site.value, what=site.label, problem=problem, source=source)


# Parameters each driver understands; a name close to one of POOL_PARAMETERS but in none is a typo.
POOL_PARAMETERS = (
    "connection_limit", "pool_timeout", "connect_timeout", "socket_timeout", "pgbouncer", "statement_cache_size",
    "prepared_statement_cache_size", "maxPoolSize", "minPoolSize", "maxIdleTimeMS", "waitQueueTimeoutMS",
    "max_connections", "max_connection_lifetime", "max_idle_connection_lifetime",
)
KNOWN_PARAMETERS = frozenset(POOL_PARAMETERS) | frozenset({
    # libpq
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "channel_binding", "client_encoding",
    "options", "application_name", "fallback_application_name", "keepalives", "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode",
    "requiressl", "sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode", "sslrootcert", "sslcrl",
    "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname",
    "gsslib", "gssdelegation", "service", "target_session_attrs", "load_balance_hosts", "sslnegotiation",
    # Prisma
    "schema", "sslidentity", "sslaccept", "api_key", "single_use_connections", "socket_timeout",
    # SQLAlchemy / asyncpg / psycopg / MySQL
    "ssl", "charset", "async_fallback", "prepared_statement_name_func", "server_settings", "unix_socket",
    "connection_timeout", "command_timeout", "timeout", "autocommit", "local_infile", "read_timeout",
    "write_timeout", "sslca", "ssl_ca", "ssl_cert", "ssl_key", "ssl_mode",
    # MongoDB, Redis
    "retryWrites", "w", "authSource", "replicaSet", "tls", "appName", "readPreference", "serverSelectionTimeoutMS",
    "connectTimeoutMS", "socketTimeoutMS", "health_check_interval", "decode_responses", "db",
    "socket_connect_timeout", "retry_on_timeout", "client_name", "protocol",
})
# Parameters a library reads more than once, each value counting: SQLAlchemy's engine plugins
# (https://docs.sqlalchemy.org/en/20/core/engines.html#plugin-architecture), the fallback hosts of its
# psycopg and asyncpg dialects (.../dialects/postgresql.html#specifying-multiple-fallback-hosts), and
# MongoDB's read preference tag sets (https://www.mongodb.com/docs/manual/reference/connection-string-options/)
REPEATABLE_PARAMETERS = frozenset({"plugin", "host", "readPreferenceTags"})
_TIMEOUTS = ("pool_timeout", "connect_timeout", "socket_timeout")


class InvalidPoolParameter(ConfigRule):
    """Flags a misspelled, duplicated or invalid pool parameter in a database URL."""

    code = "DBP406"
    name = "invalid-pool-parameter"
    message = "{what}: {problem}"
    fix_hint = "Spell the parameter as the driver documents it, give it once, and use a positive integer"
    rationale = """
        Drivers ignore parameters they do not know, so `connection_limits=5` or `pool-timeout=20`
        silently leaves the default pool in place, the exact thing the line was meant to change.
        `connection_limit=0` or a non-integer is rejected or ignored; Prisma's `pool_timeout=0`
        disables the timeout, so requests queue forever instead of failing fast when the pool
        is exhausted. A parameter given twice keeps only one of its values (but those a library
        reads as a list: SQLAlchemy's `plugin`, the fallback `host`s of its psycopg and asyncpg
        dialects, MongoDB's `readPreferenceTags`).
    """
    example = """
        DATABASE_URL="postgresql://app:secret@db.example.com:5432/app?connection_limits=5"
    """
    use_instead = """
        DATABASE_URL="postgresql://app:secret@db.example.com:5432/app?connection_limit=5"
    """
    references = (
        "https://www.prisma.io/docs/orm/overview/databases/postgresql#arguments",
        "https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS",
    )

    def _problems(self, url: ParsedUrl) -> list[str]:
        """Every problem of the URL's parameters, so that one fix does not reveal the next."""
        problems: list[str] = []
        seen: set[str] = set()
        for key, value in url.params:
            if key in seen and key not in problems and key not in REPEATABLE_PARAMETERS:
                problems.append(key)
            seen.add(key)
        problems = [f"`{key}` is given twice; the driver keeps only one value" for key in problems]
        database = url.family in ("postgres", "mysql")
        for key, value in url.params:
            if value == "${...}":
                continue  # set at deploy time
            if key == "connection_limit" and not (count(value) or 0) > 0:
                problems.append(f"`connection_limit={value}` must be a positive integer")
            elif key == "maxPoolSize" and value == "0":
                problems.append("`maxPoolSize=0` removes the limit on the pool")
            elif key in _TIMEOUTS and database and not value.isdigit():
                problems.append(f"`{key}={value}` must be a whole number of seconds")
            elif key == "pool_timeout" and value == "0" and database:
                problems.append("`pool_timeout=0` waits forever for a free connection")
            elif key not in KNOWN_PARAMETERS and url.family in ("postgres", "mysql", "mongodb", "redis"):
                normalized = key.replace("-", "_")
                candidates = {p.lower(): p for p in POOL_PARAMETERS}
                match = candidates.get(normalized.lower()) or next(
                    iter(difflib.get_close_matches(normalized.lower(), list(candidates), n=1, cutoff=0.85)), None)
                if match:
                    problems.append(f"unknown parameter `{key}` (did you mean `{candidates.get(match, match)}`?)")
        return list(dict.fromkeys(problems))

    def check(self) -> Iterator[Finding]:
        for site, url in self.sites():
            problems = self._problems(url)
            if problems:
                yield self.finding(site.path, site.line, site.value, what=site.label, problem="; ".join(problems))


class ConnectionBudgetExceeded(ConfigRule):
    """Flags a deployment whose replicas × workers × pool exceed the server's max_connections."""

    code = "DBP407"
    name = "connection-budget-exceeded"
    message = ("{total} connections at peak ({breakdown}) exceed max_connections {maximum} minus {reserved} reserved "
               "on `{database}`")
    fix_hint = "Lower replicas, workers or the pool size, put PgBouncer in front, or raise max_connections; run `poollint budget`"
    example_language = "yaml"
    rationale = """
        Every process opens its own pool. Four replicas running four gunicorn workers with
        SQLAlchemy's default pool (5 + 10 overflow) may open 240 connections; PostgreSQL
        allows 100 by default, three of them reserved for superusers. Under load the last
        processes to connect get `FATAL: sorry, too many clients already`.

        The budget counts, for each service talking to PostgreSQL directly, replicas
        (`deploy.replicas`, Kubernetes `replicas` or HPA `maxReplicas`) × workers
        (`--workers N` / `-w N`, `WEB_CONCURRENCY`, `gunicorn.conf.py`) × the per-process pool
        (Prisma `connection_limit`; SQLAlchemy 5 + 10; asyncpg 10), against
        `max_connections` from the compose command (`-c max_connections=N`), the
        `max-connections` setting, or PostgreSQL's default 100. `poollint budget` prints the
        table. A Celery worker's process runs one task at a time with the default prefork pool
        (and `-P solo`), so each of its `--concurrency` processes counts one connection, as a
        Django worker does; a `-P threads|gevent|eventlet` worker runs its tasks in one process,
        counted at its pool. A service that runs only Celery beat (`celery -A app beat`) sends tasks on a
        timer and counts no pool, unless its command names a scheduler that keeps the schedule
        in the database (`-S django`, django-celery-beat's or sqlalchemy-celery-beat's
        `DatabaseScheduler`); one configured in code instead is not seen.
    """
    example = """
        services:
          api:
            command: gunicorn -w 4 app:app
            environment:
              SQLALCHEMY_DATABASE_URI: postgresql+psycopg://app:secret@db/app
            deploy:
              replicas: 4
          db:
            image: postgres:16
    """
    use_instead = """
        services:
          api:
            command: gunicorn -w 2 app:app
            environment:
              SQLALCHEMY_DATABASE_URI: postgresql+psycopg://app:secret@db/app
            deploy:
              replicas: 2
          db:
            image: postgres:16
            command: postgres -c max_connections=200
    """
    options = ("max-connections", "reserved-connections", "replicas", "workers")
    references = (
        "https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-MAX-CONNECTIONS",
        "https://docs.sqlalchemy.org/en/20/core/pooling.html",
        "https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/databases-connections/connection-pool",
    )

    def check(self) -> Iterator[Finding]:
        settings = self.settings
        for budget in compute_budgets(self.model, settings.max_connections, settings.reserved_connections,
                                      settings.replicas, settings.workers):
            if budget.verdict == "exceeded":
                yield self.finding(budget.path, budget.line, "max_connections", total=budget.total, breakdown=budget.breakdown(),
                                   maximum=budget.max_connections, reserved=budget.reserved, database=budget.database)


class DeprecatedScheme(ConfigRule):
    """Flags a `postgres://` URL that SQLAlchemy 1.4 or later will read."""

    code = "DBP408"
    name = "deprecated-scheme"
    message = "{what} uses `postgres://`, which SQLAlchemy 1.4+ rejects (`Can't load plugin: sqlalchemy.dialects:postgres`)"
    fix_hint = "Write `postgresql://` (or `postgresql+psycopg://`); on Heroku, rewrite the scheme when reading DATABASE_URL"
    rationale = """
        SQLAlchemy 1.4 removed the `postgres` dialect alias. An engine built from a
        `postgres://` URL fails at start-up; services that retry start-up in a loop (or
        platforms that restart them) keep half-open connections and crash-loop. Prisma and
        asyncpg accept `postgres://`, so this is reported only where SQLAlchemy reads the
        variable: a `create_engine` call receives it (directly, or through a module-level
        name such as `DATABASE_URL = config("DB_CONNECTION")` that another module imports),
        alembic's `config.set_main_option("sqlalchemy.url", ...)` is handed it, its name is
        `SQLALCHEMY_*`, or the URL is written in code and passed to SQLAlchemy: a literal, an
        f-string whose scheme is written out (`f"postgres://{user}:{password}@{host}/db"`: only the
        scheme is judged, by this rule alone), either of them bound to a name first, or handed to a
        project function (of any module) that passes that parameter to `create_engine`
        (`create_db_engine(url)` with `def create_db_engine(url): return create_engine(url, ...)`). A variable the code
        hands to a database library is a URL whatever its name (`DB_CONNECTION`). The environment
        of a PgBouncer service (`image: edoburu/pgbouncer`) is the pooler's own upstream, which its
        image reads: no rule judges it as a client's URL. A variable is not reported where the
        project's code already rewrites the scheme before SQLAlchemy reads it
        (`url.replace("postgres://", "postgresql://", 1)`, `re.sub("^postgres:", "postgresql:", url)`,
        in a file of the same directory or one above it); a literal handed to SQLAlchemy still is.
    """
    example = """
        SQLALCHEMY_DATABASE_URI="postgres://app:secret@db.example.com:5432/app"
    """
    use_instead = """
        SQLALCHEMY_DATABASE_URI="postgresql://app:secret@db.example.com:5432/app"
    """
    references = ("https://docs.sqlalchemy.org/en/20/changelog/changelog_14.html#change-3687655465c25a39b968b4f5f6e9170b",)
    judges_schemes = True

    def check(self) -> Iterator[Finding]:
        for site, url in self.sites():
            if url.dialect == "postgres" and "sqlalchemy" in self.model.consumers_of(site) \
                    and not self._rewritten_by_the_code(site):
                yield self.finding(site.path, site.line, site.value, what=site.label)

    def _rewritten_by_the_code(self, site: UrlSite) -> bool:
        """A variable whose scheme the project's code rewrites before SQLAlchemy reads it (the fix hint's
        "rewrite the scheme when reading DATABASE_URL", already done)."""
        return bool(site.variable) and any(related(rewriter, site.path) for rewriter in self.model.postgres_scheme_rewriters)


class PgbouncerStatementMode(ConfigRule):
    """Flags `pool_mode = statement` in pgbouncer.ini."""

    code = "DBP409"
    name = "pgbouncer-statement-mode"
    message = "PgBouncer {where} uses `pool_mode = statement`, which forbids multi-statement transactions"
    fix_hint = "Use `pool_mode = transaction` (or `session` for clients that need session state)"
    rationale = """
        In statement mode PgBouncer returns the server connection after every statement, so
        `BEGIN ... COMMIT` is refused. ORMs open transactions all the time; failed
        transactions are retried and connections churn until the pool is exhausted.
    """
    example = """
        [pgbouncer]
        pool_mode = statement
    """
    use_instead = """
        [pgbouncer]
        pool_mode = transaction
    """
    references = ("https://www.pgbouncer.org/config.html#pool_mode",)

    def check(self) -> Iterator[Finding]:
        for path, config in self.model.pgbouncers:
            for mode, line, where in config.pool_modes():
                if mode == "statement":
                    yield self.finding(path, line, "statement", where=where)


class HardcodedUrlInSchema(ConfigRule):
    """Flags a schema.prisma datasource URL written as a literal with credentials."""

    code = "DBP410"
    name = "hardcoded-url-in-schema"
    message = "{what} is a literal URL with a password ({url}) instead of `env(\"...\")`"
    fix_hint = 'Write `url = env("DATABASE_URL")` and set the URL per environment'
    example_language = "prisma"
    rationale = """
        A URL fixed in `schema.prisma` is the same in every environment: preview deploys,
        tests and serverless functions all hit one database with one pool setting, and the
        pooled/direct split (`pgbouncer=true`, `connection_limit`) cannot be tuned per
        environment. It also commits a password to the repository.
    """
    example = """
        datasource db {
          provider = "postgresql"
          url      = "postgresql://app:secret@db.example.com:5432/app"
        }
    """
    use_instead = """
        datasource db {
          provider = "postgresql"
          url      = env("DATABASE_URL")
        }
    """
    references = ("https://www.prisma.io/docs/orm/reference/prisma-schema-reference#datasource",)

    def check(self) -> Iterator[Finding]:
        for site in self.model.url_sites:
            if site.source != "prisma" or site.placeholder:
                continue
            url = site.url
            if url is not None and url.has_password:
                yield self.finding(site.path, site.line, site.value, what=site.label, url=mask(site.value))
