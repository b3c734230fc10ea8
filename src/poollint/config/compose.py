"""Compose files and Kubernetes manifests: services, their environment, replicas, workers, max_connections."""
from __future__ import annotations

import dataclasses
import re
import shlex
from dataclasses import dataclass
from typing import Any, Optional

from poollint.config.yamlfile import LineDict, LineList

_MAX_CONNECTIONS = re.compile(r"max_connections\s*=\s*(?P<n>[0-9]+)")
_WORKERS = re.compile(r"(?:^|\s)(?:--workers[=\s]+|-w\s*|--concurrency[=\s]+|-c\s+)(?P<n>[0-9]+)\b")
_GUNICORN_CONF_WORKERS = re.compile(r"^workers\s*=\s*(?P<n>[0-9]+)\s*(?:#.*)?$", re.MULTILINE)
# A count of processes or connections; longer digit strings are not one (and Python refuses to
# convert numbers of more than 4,300 digits).
_MAX_COUNT_DIGITS = 9


def count(text: str) -> Optional[int]:
    """`text` as a count when it is ASCII digits of a sane length, else None."""
    text = text.strip()
    if not text or len(text) > _MAX_COUNT_DIGITS or not all("0" <= c <= "9" for c in text):
        return None
    return int(text)


@dataclass(frozen=True)
class EnvVar:
    key: str
    value: str
    line: int


@dataclass(frozen=True)
class Service:
    """A compose service or a Kubernetes workload."""

    name: str
    line: int
    image: str = ""
    environment: tuple[EnvVar, ...] = ()
    env_files: tuple[str, ...] = ()
    replicas: Optional[int] = None
    replicas_line: int = 0
    command: str = ""
    command_line: int = 0
    entrypoint: str = ""  # a compose service's own `entrypoint:`, run with its command as arguments
    workers: Optional[int] = None
    max_connections: Optional[int] = None
    max_connections_line: int = 0
    path: str = ""  # the file that defines it, when merged from several compose files

    @property
    def is_postgres(self) -> bool:
        return "postgres" in self.image.lower() and "pgbouncer" not in self.image.lower() \
            and "exporter" not in self.image.lower()

    @property
    def is_pgbouncer(self) -> bool:
        return "pgbouncer" in self.image.lower() or "pgbouncer" in self.name.lower()

    @property
    def image_tag(self) -> str:
        """`1.23.1-debian-12` of `bitnami/pgbouncer:1.23.1-debian-12`; "" when the image names none."""
        last = self.image.rsplit("/", 1)[-1].split("@")[0]
        return last.split(":", 1)[1] if ":" in last else ""


@dataclass(frozen=True)
class DeploymentFile:
    """A compose file or a set of Kubernetes documents."""

    kind: str  # "compose" or "kubernetes"
    services: tuple[Service, ...]
    # Kubernetes HorizontalPodAutoscaler: target workload name -> (maxReplicas, line)
    autoscaling: tuple[tuple[str, int, int], ...] = ()
    merged_from: tuple[str, ...] = ()  # compose files merged into this one, in the order compose applies them


_BASE_COMPOSE = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
_OVERRIDE_COMPOSE = ("compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
                     "docker-compose.override.yml")


def compose_role(name: str) -> str:
    """"base", "override" (merged by `docker compose up`), "overlay" (`-f base -f overlay`) or ""."""
    lowered = name.lower()
    if lowered in _BASE_COMPOSE:
        return "base"
    if lowered in _OVERRIDE_COMPOSE:
        return "override"
    if lowered.startswith(("compose.", "docker-compose.", "docker-compose-", "compose-")) \
            and lowered.endswith((".yml", ".yaml")):
        return "overlay"
    return ""


def merge_services(base: Service, overlay: Service) -> Service:
    """Compose's merge of one service: the overlay's scalars win, environments are merged by key."""
    environment = {var.key: var for var in base.environment}
    environment.update({var.key: var for var in overlay.environment})
    return Service(
        name=base.name, line=base.line, image=overlay.image or base.image,
        environment=tuple(environment.values()), env_files=overlay.env_files or base.env_files,
        replicas=overlay.replicas if overlay.replicas is not None else base.replicas,
        replicas_line=overlay.replicas_line if overlay.replicas is not None else base.replicas_line,
        command=overlay.command or base.command, command_line=overlay.command_line or base.command_line,
        entrypoint=overlay.entrypoint or base.entrypoint,
        workers=overlay.workers if overlay.workers is not None else base.workers,
        max_connections=overlay.max_connections if overlay.max_connections is not None else base.max_connections,
        max_connections_line=overlay.max_connections_line if overlay.max_connections is not None
        else base.max_connections_line,
        path=overlay.path if (overlay.replicas is not None or overlay.max_connections is not None) else base.path,
    )


def merge_compose(files: list[tuple[str, DeploymentFile]]) -> DeploymentFile:
    """The project `docker compose -f a -f b` runs: services merged by name, later files winning."""
    services: dict[str, Service] = {}
    for path, deployment in files:
        for service in deployment.services:
            service = replace_path(service, path)
            services[service.name] = merge_services(services[service.name], service) \
                if service.name in services else service
    return DeploymentFile("compose", tuple(services.values()), merged_from=tuple(path for path, _ in files))


def replace_path(service: Service, path: str) -> Service:
    return service if service.path else dataclasses.replace(service, path=path)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return " ".join(_as_text(v) for v in value)
    return str(value)


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return count(value)
    return None


# a command that runs a Celery worker, and one that runs Celery's beat alone (no worker's `-B`)
CELERY_WORKER = re.compile(r"\bcelery\b.*\sworker\b")
CELERY_BEAT_ONLY = re.compile(r"\bcelery\b(?!.*\bworker\b).*\sbeat\b")


def workers_in_command(command: str) -> Optional[int]:
    """`gunicorn -w 4`, `--workers=4`, `uvicorn --workers 4`, `celery --concurrency 8`."""
    if not re.search(r"\b(gunicorn|uvicorn|hypercorn|celery|granian|daphne)\b", command):
        return None
    match = _WORKERS.search(command)
    return count(match.group("n")) if match else None


def workers_in_gunicorn_conf(text: str) -> Optional[int]:
    """`workers = 4` in gunicorn.conf.py; a computed value (cpu_count() * 2 + 1) is unknown."""
    match = _GUNICORN_CONF_WORKERS.search(text)
    return count(match.group("n")) if match else None


def _environment(raw: Any, default_line: int) -> tuple[EnvVar, ...]:
    out: list[EnvVar] = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            line = raw.line(key, default_line) if isinstance(raw, LineDict) else default_line
            out.append(EnvVar(str(key), _as_text(value), line))
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            if isinstance(item, str) and "=" in item:
                key, _, value = item.partition("=")
                line = raw.line(index, default_line) if isinstance(raw, LineList) else default_line
                out.append(EnvVar(key.strip(), value, line))
    return tuple(out)


def command_text(raw: Any) -> str:
    """A command as one line: a list's words (an exec form's, `["sh", "-c", "a && b"]`) quoted where a
    shell would need it."""
    if isinstance(raw, list):
        return " ".join(shlex.quote(_as_text(part)) if " " in _as_text(part) else _as_text(part) for part in raw)
    return _as_text(raw)


def _max_connections(command: str) -> Optional[int]:
    match = _MAX_CONNECTIONS.search(command)
    return count(match.group("n")) if match else None


def parse_compose(document: Any) -> DeploymentFile:
    services: list[Service] = []
    raw_services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(raw_services, dict):
        return DeploymentFile("compose", ())
    for name, body in raw_services.items():
        line = raw_services.line(name) if isinstance(raw_services, LineDict) else 1
        if not isinstance(body, dict):
            continue
        env = _environment(body.get("environment"), line)
        env_files = body.get("env_file")
        if isinstance(env_files, str):
            env_files = [env_files]
        files = tuple(
            f if isinstance(f, str) else str(f.get("path", "")) for f in env_files or () if isinstance(f, (str, dict))
        )
        deploy = body.get("deploy")
        replicas = _int(deploy.get("replicas")) if isinstance(deploy, dict) else None
        replicas_line = deploy.line("replicas", line) if isinstance(deploy, LineDict) and replicas is not None else 0
        if replicas is None and _int(body.get("scale")) is not None:
            replicas = _int(body.get("scale"))
            replicas_line = body.line("scale", line) if isinstance(body, LineDict) else line
        command = command_text(body.get("command"))
        command_line = body.line("command", line) if isinstance(body, LineDict) and "command" in body else 0
        workers = workers_in_command(command)
        if workers is None:
            concurrency = next((v for v in env if v.key == "WEB_CONCURRENCY"), None)
            workers = _int(concurrency.value) if concurrency else None
        services.append(Service(
            name=str(name), line=line, image=_as_text(body.get("image")), environment=env, env_files=files,
            replicas=replicas, replicas_line=replicas_line, command=command, command_line=command_line,
            entrypoint=command_text(body.get("entrypoint")),
            workers=workers, max_connections=_max_connections(command), max_connections_line=command_line,
        ))
    return DeploymentFile("compose", tuple(services))


_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


def is_kubernetes(documents: list[Any]) -> bool:
    return any(isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in documents)


def _pod_spec(document: dict) -> Any:
    spec = document.get("spec")
    if document.get("kind") == "Pod":
        return spec
    if document.get("kind") == "CronJob" and isinstance(spec, dict):
        spec = (spec.get("jobTemplate") or {}).get("spec") if isinstance(spec.get("jobTemplate"), dict) else None
    template = spec.get("template") if isinstance(spec, dict) else None
    return template.get("spec") if isinstance(template, dict) else None


def parse_kubernetes(documents: list[Any]) -> DeploymentFile:
    services: list[Service] = []
    autoscaling: list[tuple[str, int, int]] = []
    for document in documents:
        if not isinstance(document, dict):
            continue
        kind = document.get("kind")
        metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
        name = _as_text(metadata.get("name")) or str(kind)
        line = document.line("kind") if isinstance(document, LineDict) else 1
        spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
        if kind == "HorizontalPodAutoscaler":
            target = spec.get("scaleTargetRef") if isinstance(spec.get("scaleTargetRef"), dict) else {}
            maximum = _int(spec.get("maxReplicas"))
            if maximum is not None:
                at = spec.line("maxReplicas", line) if isinstance(spec, LineDict) else line
                autoscaling.append((_as_text(target.get("name")), maximum, at))
            continue
        if kind not in _WORKLOADS:
            continue
        pod = _pod_spec(document)
        containers = pod.get("containers") if isinstance(pod, dict) else None
        replicas = _int(spec.get("replicas"))
        replicas_line = spec.line("replicas", line) if isinstance(spec, LineDict) and replicas is not None else 0
        if replicas is None and kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            replicas = 1  # the Kubernetes default
        for container in containers if isinstance(containers, list) else ():
            if not isinstance(container, dict):
                continue
            env: list[EnvVar] = []
            raw_env = container.get("env")
            for index, item in enumerate(raw_env if isinstance(raw_env, list) else ()):
                if isinstance(item, dict) and "name" in item and "value" in item:
                    at = raw_env.line(index, line) if isinstance(raw_env, LineList) else line
                    if isinstance(item, LineDict):
                        at = item.line("value", at)
                    env.append(EnvVar(_as_text(item.get("name")), _as_text(item.get("value")), at))
            command = " ".join(command_text(container.get(key)) for key in ("command", "args") if container.get(key))
            command_line = container.line("command", container.line("args", 0)) if isinstance(container, LineDict) else 0
            services.append(Service(
                name=name, line=line, image=_as_text(container.get("image")), environment=tuple(env),
                replicas=replicas, replicas_line=replicas_line, command=command, command_line=command_line,
                workers=workers_in_command(command), max_connections=_max_connections(command),
                max_connections_line=command_line,
            ))
    return DeploymentFile("kubernetes", tuple(services), tuple(autoscaling))
