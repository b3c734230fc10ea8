"""Which modules one process may load together (python/loading.py), as DBP103 asks it."""
from __future__ import annotations

from pathlib import Path

from poollint.python.loading import LoadGraph

PATHS = {
    "app/__init__.py": "app",
    "app/main.py": "app.main",
    "app/jobs.py": "app.jobs",
    "app/db/__init__.py": "app.db",
    "app/db/base.py": "app.db.base",
    "app/db/old.py": "app.db.old",
    "app/api/__init__.py": "app.api",
    "app/api/routes.py": "app.api.routes",
    "app/api/deps.py": "app.api.deps",
    "worker/__init__.py": "worker",
    "worker/tasks.py": "worker.tasks",
    "backend/main.py": "backend.main",
    "backend/models/models.py": "backend.models.models",
    "backend/db.py": "backend.db",
}


def _graph(**extra: tuple[str, ...]) -> LoadGraph:
    importers = {
        "app.api.routes": ("app.main",),
        "app.db.base.engine": ("app.api.routes",),  # `from app.db.base import engine`
        "app.db.old": ("app.api.deps",),  # only a module nothing imports loads the old copy
        "models.models.User": ("backend.main",),  # run from backend/: no source root says so
        **extra,
    }
    return LoadGraph(PATHS, importers)


def test_a_module_that_imports_both_loads_them_together() -> None:
    graph = _graph(**{"app.db.old.engine": ("app.api.routes",)})
    assert graph.loaded_together("app.db.base", "app.db.old")


def test_chains_that_start_in_different_folders_and_meet_nowhere_are_apart() -> None:
    graph = _graph()
    assert not graph.loaded_together("app.db.base", "app.db.old")  # app/main.py vs app/api/deps.py
    assert not graph.loaded_together("app.main", "worker.tasks")


def test_modules_nothing_imports_run_beside_those_of_their_folder() -> None:
    graph = _graph()
    assert graph.loaded_together("app.main", "app.jobs")
    assert graph.loaded_together("app.db.base", "app.jobs")  # app/main.py, which loads base, is app/jobs.py's neighbour


def test_loading_a_module_runs_its_packages() -> None:
    graph = _graph()
    assert "app.db.base" in graph.loaders("app.db")
    assert "app.main" in graph.loaders("app.db")  # main -> routes -> app.db.base -> app/db/__init__.py


def test_an_import_no_source_root_explains_is_the_one_module_whose_name_ends_so() -> None:
    graph = _graph()
    assert "backend.main" in graph.loaders("backend.models.models")
    assert graph.loaded_together("backend.models.models", "backend.db")  # both chains start in backend/


def test_a_function_is_spelled_by_calls_strings_and_settings_but_not_by_its_definition(tmp_path: Path) -> None:
    from poollint.python.loading import read_texts, spelling_files

    files = {
        "app/jobs.py": "def send_reminders():\n    pass\n\n\nclass send_reminders_job:\n    pass\n",
        "app/main.py": "from fastapi import FastAPI\n\n# jobs.send_reminders()\n    #   send_reminders()\n",
        "app/settings.py": "SCHEDULE = {'app.jobs.send_reminders': 60}\n",
        "Procfile": "worker: python -c 'from app.jobs import send_reminders'\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    listed = list(read_texts([(relative, tmp_path / relative) for relative in files]))
    # a definition's own name and a commented-out call name nothing; a string and a command line do
    assert spelling_files(listed, "send_reminders") == {"app/settings.py", "Procfile"}
    assert spelling_files(listed[:2], "send_reminders") == frozenset()
    assert spelling_files([("app/main.py", b"jobs.send_reminders()\n")], "send_reminders") == {"app/main.py"}
    # a name computed from a quoted part of it may be looked up: `getattr(jobs, f"send_{kind}")`
    assert spelling_files([("app/cli.py", b"getattr(jobs, f'send_{kind}')()\n")], "send_reminders") == {"app/cli.py"}
    assert spelling_files([("app/cli.py", b"globals()[kind + '_reminders']()\n")], "send_reminders") == {"app/cli.py"}
    assert spelling_files([("app/cli.py", b"send_mail('reminders')\n")], "send_reminders") == frozenset()
    assert spelling_files([("app/cli.py", b"getattr(jobs, 'send_' + kind)()\n")], "send_reminders") == {"app/cli.py"}
    # a string that only starts or ends like it names another function
    assert spelling_files([("app/cli.py", b"task = 'send_mail'\nname = 'daily_reminders'\n")],
                          "send_reminders") == frozenset()


def test_the_lines_that_spell_a_function_are_those_spelling_files_counts() -> None:
    from poollint.python.loading import spelling_lines

    source = (b"def send_reminders():\n"            # 1: its definition names nothing
              b"    return send_reminders\n"        # 2
              b"# send_reminders()\n"               # 3: a commented-out call
              b"class Job:\n"
              b"    run = send_reminders\n")        # 5
    assert spelling_lines(source, "send_reminders") == [2, 5]
    assert spelling_lines(b"async def send_reminders():\n    pass\n", "send_reminders") == []
    # a quoted part of the name: a name computed from it may be looked up anywhere
    assert spelling_lines(b"getattr(jobs, f'send_{kind}')()\n", "send_reminders") is None
