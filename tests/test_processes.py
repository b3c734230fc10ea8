"""How many requests or tasks one of an application's processes serves at once, by what its deployment
files run (python/processes.py): DBP202 does not judge a session's hold where that is no more than the
pool's default size."""
from __future__ import annotations

from pathlib import Path

import pytest

from poollint.python.processes import process_concurrency


@pytest.mark.parametrize("files, served", [
    ({"Procfile": "web: gunicorn app:app\nrelease: python manage.py migrate\n"}, 1),  # sync worker
    ({"Procfile": "web: gunicorn app:app --threads 8\nworker: celery -A app worker -c 4\n"}, 8),
    ({"Procfile": "web: gunicorn -k uvicorn.workers.UvicornWorker app:app\n"}, None),  # asyncio: no bound
    ({"Procfile": "web: uvicorn app.main:app --workers 4\n"}, None),
    ({"Procfile": "web: flask run --host 0.0.0.0\n"}, None),  # threaded development server
    ({"Procfile": "web: python app.py\n"}, None),  # may run anything
    ({"Procfile": "worker: celery -A app worker -P gevent --concurrency 50\n"}, 50),
    ({"Procfile": "worker: celery -A app worker --pool=threads\n"}, None),  # as many threads as CPUs
    ({"Procfile": "worker: rq worker high default\nbeat: celery -A app beat\n"}, 1),
    ({"Dockerfile": 'FROM python\nCMD ["gunicorn", "-w", "4", \\\n     "--threads", "3", "app:app"]\n'}, 3),
    ({"Dockerfile": "FROM python\nCMD gunicorn -c gunicorn.conf.py app:app\n",
      "gunicorn.conf.py": 'workers = 4\nworker_class = "gthread"\nthreads = 12\n'}, 12),
    ({"Dockerfile": "FROM python\nCMD gunicorn app:app\n",
      "gunicorn.conf.py": 'threads = int(os.environ.get("THREADS", "4"))\n'}, None),  # not known
    ({"Dockerfile": "FROM python\nCMD gunicorn app:app\n", "gunicorn.conf.py": 'worker_class = "gevent"\n'}, None),
    ({"Dockerfile": 'FROM python\nENTRYPOINT ["./start.sh"]\n',
      "start.sh": "#!/bin/sh\nalembic upgrade head\nexec gunicorn --threads 2 app:app\n"}, 2),
    ({"Dockerfile": 'FROM python\nENTRYPOINT ["./start.sh"]\n'}, None),  # a script not in the project
    ({"docker-compose.yml": "services:\n  web:\n    command: sh -c 'alembic upgrade head && gunicorn app:app'\n"
                            "  db:\n    image: postgres:16\n"}, 1),
    ({"docker-compose.yml": "services:\n  web:\n    command: gunicorn app:app\n"
                            "    environment:\n      GUNICORN_CMD_ARGS: --threads 6\n"}, 6),
    ({"docker-compose.yml": "services:\n  db:\n    image: postgres:16\n"}, None),  # nothing of the application's
    ({"requirements.txt": "gunicorn\n"}, None),  # no deployment file
])
def test_requests_one_process_serves_at_once(tmp_path: Path, files: dict[str, str], served) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert process_concurrency(tmp_path) == served


@pytest.mark.parametrize("files, served", [
    # an exec form or a compose list that runs a shell: the shell's command line is one word of it
    ({"Dockerfile": 'FROM python\nCMD ["sh", "-c", "flask db upgrade && gunicorn --threads 2 app:app"]\n'}, 2),
    ({"docker-compose.yml": "services:\n  web:\n    command: [\"sh\", \"-c\", \"alembic upgrade head && gunicorn app:app\"]\n"}, 1),
    ({"docker-compose.yml": "services:\n  web:\n    entrypoint: [\"sh\", \"-c\"]\n    command: [\"uvicorn app:app\"]\n"}, None),
])
def test_a_shell_started_by_a_list_of_words_runs_its_whole_command_line(tmp_path: Path, files: dict[str, str],
                                                                       served) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert process_concurrency(tmp_path) == served
