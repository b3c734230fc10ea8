"""How many requests or tasks one process of an application serves at once, read from what its
deployment files run: a Dockerfile's `CMD` or `ENTRYPOINT`, a compose file's `command:`, a Procfile's
processes, the shell scripts those start, and gunicorn's configuration file.

A session that keeps its connection while a request waits on another service (DBP202) runs its pool dry
only when one process serves more requests at once than the pool has connections: a gunicorn `sync`
worker serves one, a `gthread` worker its `--threads`, a prefork Celery worker one task; an asyncio
server (uvicorn, gunicorn with an async worker class) and Flask's development server as many as arrive.
The answer is the largest of the application's processes (which code runs in which process is not
known), or None when a command that may run the application is none of these, or no command is seen.
Every file read is recorded, so that a cached result is dropped when one changes, appears or goes.
"""
from __future__ import annotations

import json
import re
import shlex
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Optional

from poollint.config.compose import CELERY_BEAT_ONLY, CELERY_WORKER, command_text, parse_compose
from poollint.python.reads import DEPLOYMENT_FILES_READ, file_digest, files_near, read_recorded, record_file_read

_DEPLOYMENT_FILES = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "docker-compose*.yml", "docker-compose*.yaml",
                     "compose*.yml", "compose*.yaml", "Procfile", "gunicorn*.py")

# gunicorn's worker classes that serve one request per thread; any other (gevent, eventlet, tornado,
# uvicorn's and aiohttp's workers) serves as many at once as arrive
_THREADED_WORKERS = frozenset({"sync", "gthread", "gunicorn.workers.sync.SyncWorker",
                               "gunicorn.workers.gthread.ThreadWorker"})
# servers that run every request on one event loop, or a thread each (Flask's and Django's development
# servers), with no bound of their own
_UNBOUNDED_SERVERS = re.compile(r"^(?:uvicorn|hypercorn|daphne|granian|fastapi|flask|uwsgi)$")
# commands that run none of the application's request or task code: migrations, a scheduler that only
# sends tasks, other services' daemons, shell plumbing
_NOT_SERVING = re.compile(r"^(?:alembic|aerich|yoyo|pip|pip3|uv|poetry|npm|npx|yarn|node|nginx|caddy|redis-server|"
                          r"postgres|mysqld|mongod|echo|printf|sleep|wait-for-it|wait-for-it\.sh|dockerize|sh|bash|"
                          r"cd|cp|mv|mkdir|chmod|chown|rm|ls|cat|touch|export|set|true|false|test|\[|curl|wget|"
                          r"tail|crond|cron|supervisord|tini|dumb-init|gosu|su-exec|exec|env|source|\.)$")
_MANAGE_ONE_SHOT = re.compile(r"\bmanage\.py\s+(?:migrate|collectstatic|makemigrations|createsuperuser|compilemessages|"
                              r"check|shell|loaddata|wait_for_db)\b")
_FLASK_ONE_SHOT = re.compile(r"\bflask\s+(?:db|translate|shell|routes|init-db|init_db|create-db|seed)\b")
_CELERY_POOL = re.compile(r"(?:-P|--pool)[ =]+['\"]?(\w+)")
_CONCURRENCY = re.compile(r"(?:^|\s)(?:--concurrency[ =]+|-c\s*)(\d+)\b")


def deployment_files(root: Path) -> list[Path]:
    """The files read for the answer: at the root, one folder down, and in the folder above it (a
    monorepo's compose file beside the service's folder)."""
    return files_near(root, _DEPLOYMENT_FILES, parent=True)


def deployment_files_digest(root: Path) -> str:
    return file_digest("\n".join(str(path) for path in deployment_files(root)).encode())


def process_concurrency(root: Path) -> Optional[int]:
    """The most requests or tasks one of the application's processes serves at once; None: not known,
    or without bound."""
    found, reads = _process_concurrency(root.resolve())
    for path, digest in reads:
        record_file_read(path, digest)
    return found


@lru_cache(maxsize=64)
def _process_concurrency(root: Path) -> tuple[Optional[int], tuple[tuple[str, str], ...]]:
    reads: list[tuple[str, str]] = [(DEPLOYMENT_FILES_READ + str(root), deployment_files_digest(root))]
    texts: dict[Path, str] = {}
    for path in deployment_files(root):
        text = read_recorded(path, "config", reads)
        if text is not None:
            texts[path] = text
    gunicorn_settings = [text for path, text in texts.items() if path.suffix == ".py"]
    commands = [(path, command) for path, text in texts.items() for command in _commands_of(path, text)]
    environment = " ".join(re.findall(r"GUNICORN_CMD_ARGS[\"']?\s*[:=]\s*[\"']?([^\"'\n]*)",
                                      "\n".join(text for path, text in texts.items() if path.suffix != ".py")))
    scripts: list[str] = []
    read_scripts: set[str] = set()  # the names they are started by
    for named_by, command in commands:
        for word in _words(command):  # a script a command starts (`./entrypoint.sh`): its own lines, one level
            if word.endswith(".sh") and word not in read_scripts:
                script = named_by.parent / word.lstrip("./").lstrip("/")
                text = read_recorded(script, "config", reads) if script.is_file() else None
                if text is not None:
                    scripts += text.splitlines()
                    read_scripts.add(word)
    largest = 0
    serving = False
    for command in [*(command for _, command in commands), *scripts]:
        for step in _steps(command):
            served = _served_at_once(step, gunicorn_settings, environment, read_scripts)
            if served == 0:
                continue
            serving = True
            if served is None:
                return None, tuple(reads)
            largest = max(largest, served)
    return (largest if serving else None), tuple(reads)


def _commands_of(path: Path, text: str) -> Iterator[str]:
    """The commands a deployment file runs."""
    name = path.name
    if name == "Procfile":
        for line in text.splitlines():
            if re.match(r"^[\w-]+\s*:", line) and not line.lstrip().startswith("#"):
                yield line.split(":", 1)[1]
    elif "ockerfile" in name:
        joined = re.sub(r"\\\r?\n", " ", text)
        for line in joined.splitlines():
            match = re.match(r"^\s*(?:CMD|ENTRYPOINT)\s+(.*)$", line, re.IGNORECASE)
            if match:
                yield _exec_form(match.group(1))
    elif path.suffix in (".yml", ".yaml"):
        yield from _compose_commands(text)


def _exec_form(text: str) -> str:
    """`["gunicorn", "-w", "4"]` as a command line; a shell form as it is."""
    text = text.strip()
    if text.startswith("["):
        try:
            words = json.loads(text)
        except ValueError:
            return text
        if isinstance(words, list):
            return command_text(words)
    return text


def _compose_commands(text: str) -> Iterator[str]:
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return
    for service in parse_compose(document).services:
        yield from (command for command in (service.entrypoint, service.command) if command)


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


def _steps(command: str) -> Iterator[str]:
    """The simple commands of a command line: `alembic upgrade head && gunicorn app:app` is two; a
    `sh -c "..."` is read inside."""
    words = _words(command)
    if len(words) >= 3 and Path(words[0]).name in ("sh", "bash") and words[1] == "-c":
        yield from _steps(words[2])
        return
    for step in re.split(r"&&|\|\||;|\n", command):
        words = _words(step)
        if words:
            yield " ".join(shlex.quote(word) for word in words)


def _served_at_once(step: str, gunicorn_settings: Iterable[str], environment: str,
                    read_scripts: Iterable[str] = ()) -> Optional[int]:
    """What one simple command serves at once: 0 when it runs none of the application's request or task
    code (or starts a script whose lines are read in its place), None when that is not known or has no
    bound."""
    words = [word for word in _words(step) if not re.match(r"^\w+=", word)]  # `PORT=8000 gunicorn ...`
    script = next((word for word in words[:2] if word.endswith(".sh")), None)
    if script is not None and (len(words) == 1 or Path(words[0]).name in ("sh", "bash")):
        return 0 if script in read_scripts else None
    while words and words[0] in ("exec", "env", "tini", "dumb-init", "--", "gosu", "su-exec"):
        words = words[1:]
    if not words or words[0].startswith("$"):
        return 0  # `exec "$@"` of an entrypoint script: the command read on its own
    program = Path(words[0]).name
    if program in ("python", "python3") and len(words) >= 3 and words[1] == "-m":
        program, words = words[2], words[2:]
    line = " ".join(words)
    if program == "gunicorn":
        return _gunicorn_threads(words[1:] + _words(environment), gunicorn_settings)
    if CELERY_WORKER.search(line):
        pool = _CELERY_POOL.search(line)
        if pool is None or pool.group(1) in ("prefork", "solo", "processes"):
            return 1
        concurrency = _CONCURRENCY.search(line)
        return int(concurrency.group(1)) if concurrency else None
    if CELERY_BEAT_ONLY.search(line) or _MANAGE_ONE_SHOT.search(line) or _FLASK_ONE_SHOT.search(line):
        return 0
    if re.match(r"^rq(?:\s|$)", line) or re.search(r"\bmanage\.py\s+rqworker\b", line):
        return 1  # an RQ worker forks a process per job
    if _UNBOUNDED_SERVERS.match(program):
        return None
    if _NOT_SERVING.match(program):
        return 0
    return None  # `python app.py`, a project script: may serve any number at once


def _gunicorn_threads(arguments: list[str], settings: Iterable[str]) -> Optional[int]:
    """Requests one gunicorn worker serves at once: its threads for a threaded worker class."""
    worker_class: Optional[str] = None
    threads: Optional[int] = None
    for text in settings:  # gunicorn.conf.py: `threads = 4`, `worker_class = "gthread"`
        for match in re.finditer(r"(?m)^worker_class\s*=\s*(.+?)\s*(?:#.*)?$", text):
            literal = re.fullmatch(r"[\"']([\w.:]+)[\"']", match.group(1))
            worker_class = literal.group(1) if literal else "(not known)"
        for match in re.finditer(r"(?m)^threads\s*=\s*(.+?)\s*(?:#.*)?$", text):
            threads = int(match.group(1)) if match.group(1).isdigit() else -1
    for position, word in enumerate(arguments):
        key, _, inline = word.partition("=")
        value = inline or (arguments[position + 1] if position + 1 < len(arguments) else "")
        if key in ("-k", "--worker-class"):
            worker_class = value
        elif key == "--threads":
            threads = int(value) if value.isdigit() else -1
        elif word.startswith("-k") and len(word) > 2:
            worker_class = word[2:]
    if threads == -1:
        return None
    if worker_class is not None and worker_class not in _THREADED_WORKERS:
        return None
    return threads or 1
