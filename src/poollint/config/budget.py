"""The connection budget: replicas × workers × per-instance pool (+ overflow) against max_connections.

`poollint budget` prints it; DBP407 reports a budget whose peak exceeds what the server allows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from poollint.catalog import load_catalog
from poollint.config.compose import CELERY_BEAT_ONLY, CELERY_WORKER, DeploymentFile, Service, count
from poollint.config.project import DeploymentModel, related, service_env
from poollint.config.urls import find_pooler

POSTGRES_DEFAULT_MAX_CONNECTIONS = 100  # https://www.postgresql.org/docs/current/runtime-config-connection.html
POSTGRES_DEFAULT_RESERVED = 3  # superuser_reserved_connections

# The libraries whose per-process connections a service's URL may feed, in the order they are tried. The
# catalog holds the default size of the Python pools (`default-pool-size`, `default-overflow`); Django keeps
# one connection per worker process (it has no pool), and node-postgres, the pool of Prisma's PrismaPg
# adapter, is not in the Python catalog: (pool, overflow, where it comes from)
POOL_LIBRARIES = ("sqlalchemy", "asyncpg", "psycopg_pool", "django", "pg")
_DEFAULTS_OUTSIDE_THE_CATALOG: dict[str, tuple[int, int, str]] = {
    "django": (1, 0, "Django: one connection per worker"),
    "pg": (10, 0, "node-postgres (Prisma's PrismaPg adapter) default max 10"),
}


def default_pool(model: DeploymentModel, library: str) -> Optional[tuple[int, int, str]]:
    """(pool, overflow, where it comes from) of a pool of `library` the code does not size."""
    if library in _DEFAULTS_OUTSIDE_THE_CATALOG:
        return _DEFAULTS_OUTSIDE_THE_CATALOG[library]
    found = (model.catalog or load_catalog()).default_pool(library)
    if found is None:
        return None
    pool, overflow = found
    return pool, overflow, f"{library} default pool {pool}" + (f" + overflow {overflow}" if overflow else "")


# A service that runs only Celery's beat (`celery -A app beat`, not a worker's `-B`) sends tasks to the
# broker on a timer and opens none of the application's database pools, unless its command names a
# scheduler that keeps the schedule in the database (django-celery-beat, sqlalchemy-celery-beat); one
# configured in code instead (`beat_scheduler = ...`) is not seen here.
_DATABASE_SCHEDULERS = re.compile(r"django_celery_beat|sqlalchemy_celery_beat|celery_sqlalchemy_scheduler|"
                                  r"DatabaseScheduler|(?:-S|--scheduler)[ =]+django\b")


# A Celery worker's process runs one task at a time with the default prefork pool (and `-P solo`): at
# its peak it holds the connection its task uses, not its pool's maximum, like a Django worker process;
# a threads, gevent or eventlet pool runs its `--concurrency` tasks in one process, which is counted at
# its pool.
_CONCURRENT_TASK_POOLS = re.compile(r"(?:-P|--pool)[ =]+['\"]?(?:threads|gevent|eventlet)\b")


def runs_one_task_per_process(command: str) -> bool:
    """Whether a service's command runs a Celery worker whose processes each run one task at a time."""
    return bool(CELERY_WORKER.search(command)) and not _CONCURRENT_TASK_POOLS.search(command)


def runs_tasks_in_one_process(command: str) -> bool:
    """Whether a service's command runs a Celery worker whose concurrency is threads or green threads."""
    return bool(CELERY_WORKER.search(command) and _CONCURRENT_TASK_POOLS.search(command))


def runs_only_a_task_scheduler(command: str) -> bool:
    """Whether a service's command runs Celery beat alone, with a schedule kept outside the database."""
    return bool(CELERY_BEAT_ONLY.search(command)) and not _DATABASE_SCHEDULERS.search(command)


@dataclass(frozen=True)
class BudgetRow:
    service: str
    path: str
    line: int
    replicas: int
    workers: int
    pool: Optional[int]  # None: unknown (Prisma's default depends on the CPUs)
    overflow: int
    pool_source: str

    @property
    def total(self) -> Optional[int]:
        return None if self.pool is None else self.replicas * self.workers * (self.pool + self.overflow)


@dataclass(frozen=True)
class Budget:
    database: str
    path: str
    line: int  # where max_connections is set, or the database service
    max_connections: int
    max_source: str
    reserved: int
    rows: tuple[BudgetRow, ...]

    @property
    def available(self) -> int:
        return self.max_connections - self.reserved

    @property
    def total(self) -> int:
        return sum(row.total or 0 for row in self.rows)

    @property
    def verdict(self) -> str:
        if self.total > self.available:
            return "exceeded"
        if any(row.total is None for row in self.rows):
            return "unknown"
        return "ok"

    def breakdown(self) -> str:
        return " + ".join(
            f"{r.service} {r.replicas}×{r.workers}×{r.pool + r.overflow}" for r in self.rows if r.pool is not None
        )


def _sized_in_code(model: DeploymentModel, variable: str, library: str,
                   path: str) -> Optional[tuple[Optional[int], int, str]]:
    """The pool the code builds for `variable` with literal sizes; the largest when several places do."""
    default = default_pool(model, library)
    sized = [(pool, (default[1] if default is not None else 0) if overflow < 0 else overflow, where)
             for name, lib, pool, overflow, where in model.pool_sizes
             if name == variable and lib == library and related(where, path)]
    if not sized:
        return None
    pool, overflow, where = max(sized, key=lambda item: item[0] + item[1])
    extra = f" + max_overflow {overflow}" if library == "sqlalchemy" else ""
    keyword = {'sqlalchemy': 'pool_size', 'pg': 'max'}.get(library, 'max_size')
    return pool, overflow, f"{keyword} {pool}{extra} in {where}"


def _pool_for(model: DeploymentModel, path: str, service: Service,
              deployment: Optional[DeploymentFile] = None) -> Optional[tuple[Optional[int], int, str]]:
    """The per-process pool of a service that talks to PostgreSQL directly, or None if it does not."""
    for site in service_env(model, path, service, deployment):
        url = site.url
        if url is None or url.family != "postgres" or site.placeholder:
            continue
        if find_pooler(url, model.pgbouncer_hosts(path)) is not None:
            return None  # the pooler, not the app, holds the server connections
        consumers = model.consumers_of(site)
        if "prisma" in consumers:
            limit = url.param("connection_limit")
            if limit and count(limit) is not None:
                return count(limit), 0, f"connection_limit={limit} in {site.variable}"
            return None, 0, "Prisma default: physical CPUs × 2 + 1"
        for library in POOL_LIBRARIES:
            default = default_pool(model, library) if library in consumers else None
            if default is not None:
                sized = _sized_in_code(model, site.variable, library, path)
                return sized if sized is not None else default
        return None, 0, f"unknown: no library found reading {site.variable}"
    return None


def compute_budgets(model: DeploymentModel, max_connections: Optional[int] = None, reserved: Optional[int] = None,
                    replicas: Optional[int] = None, workers: Optional[int] = None) -> list[Budget]:
    """One budget per compose file with a PostgreSQL service, and one for Kubernetes when max-connections is set."""
    budgets: list[Budget] = []
    kubernetes_rows: list[BudgetRow] = []
    # Kubernetes HPA by target name: (maxReplicas, line, file)
    autoscaling = {name: (maximum, line, path) for path, d in model.deployments for name, maximum, line in d.autoscaling}
    for path, deployment in model.deployments:
        databases = [s for s in deployment.services if s.is_postgres]
        rows = []
        for service in deployment.services:
            if service.is_postgres or service.is_pgbouncer or runs_only_a_task_scheduler(service.command):
                continue
            pool = _pool_for(model, path, service, deployment)
            if pool is None:
                continue
            if pool[0] is not None and runs_one_task_per_process(service.command):
                pool = (1, 0, "a Celery worker process runs one task at a time")
            count = service.replicas or replicas or 1
            line = service.replicas_line or service.line
            scaler = autoscaling.get(service.name)
            if deployment.kind == "kubernetes" and scaler and related(scaler[2], path):
                count, line = scaler[0], service.line
            uses_gunicorn = "gunicorn" in service.command
            conf = next((n for conf_path, n in model.gunicorn_workers if related(conf_path, path)), None)
            process_count = service.workers or (conf if uses_gunicorn else None) or workers or 1
            if runs_tasks_in_one_process(service.command):
                process_count = 1  # `--concurrency` counts its threads or greenlets, which share the pool
            rows.append(BudgetRow(service.name, path, line, count, process_count, pool[0], pool[1], pool[2]))
        if deployment.kind == "kubernetes":
            kubernetes_rows += rows
            continue
        if not rows or (not databases and max_connections is None):
            continue
        database = databases[0] if databases else None
        if database is not None and database.max_connections is not None:
            limit, source, line = database.max_connections, "-c max_connections in the command", database.max_connections_line
        elif max_connections is not None:
            limit, source, line = max_connections, "[tool.poollint] max-connections", database.line if database else rows[0].line
        else:
            assert database is not None
            limit, source, line = POSTGRES_DEFAULT_MAX_CONNECTIONS, "PostgreSQL default", database.line
        where = database.path if database is not None and database.path else path  # merged compose files
        budgets.append(Budget(database.name if database else "database", where, line, limit, source,
                              reserved if reserved is not None else POSTGRES_DEFAULT_RESERVED, tuple(rows)))
    if kubernetes_rows and max_connections is not None:
        budgets.append(Budget("database", kubernetes_rows[0].path, kubernetes_rows[0].line, max_connections,
                              "[tool.poollint] max-connections",
                              reserved if reserved is not None else POSTGRES_DEFAULT_RESERVED, tuple(kubernetes_rows)))
    return budgets


def render_table(budgets: list[Budget]) -> str:
    if not budgets:
        return "poollint: no deployment with a PostgreSQL server and app services found\n"
    out: list[str] = []
    for budget in budgets:
        out.append(f"{budget.path}: database `{budget.database}`")
        header = ("service", "replicas", "workers", "pool", "overflow", "connections", "pool from")
        rows = [
            (r.service, str(r.replicas), str(r.workers), "?" if r.pool is None else str(r.pool), str(r.overflow),
             "?" if r.total is None else str(r.total), r.pool_source)
            for r in budget.rows
        ]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
        out.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
        for row in rows:
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        out.append(f"  total at peak: {budget.total}")
        out.append(f"  max_connections {budget.max_connections} ({budget.max_source}) - reserved {budget.reserved}"
                   f" = {budget.available} available")
        verdict = {"exceeded": f"EXCEEDED by {budget.total - budget.available}",
                   "unknown": "unknown: some pools depend on the machine (marked ?)",
                   "ok": f"ok ({budget.available - budget.total} to spare)"}[budget.verdict]
        out.append(f"  verdict: {verdict}")
        out.append("")
    return "\n".join(out)
