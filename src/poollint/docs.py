"""Renders docs/rules.md from the rule classes (`python -m poollint.docs > docs/rules.md`) and
docs/settings.md from the settings table (`python -m poollint.docs settings > docs/settings.md`)."""
from __future__ import annotations

import sys

from poollint.rules import ALL_RULES
from poollint.settings import _KEYS, SETTING_DOCS


def render_rules_markdown() -> str:
    lines = [
        "# poollint rules",
        "",
        "Generated from the rule classes by `python -m poollint.docs`; `poollint explain CODE` prints one.",
        "",
        "**Code no process loads is not reported** (DBP1xx-DBP3xx): a module that nothing of the project",
        "imports, in a package the project shows running (a folder with `__init__.py`, or one the project",
        "imports through, like `app/` of `from app.core.config import settings`; some module of it is loaded by one with a main",
        "guard, a top-level call, an application or worker object, a serverless handler, or one outside any",
        "package, like `main.py`), when nothing says that something outside loads it: no main guard or other",
        "sign of its own, no framework convention (`tasks.py`, `models.py`, `admin.py`, `urls.py`,",
        "`conftest.py`, tests, `management/commands/`, `migrations/`, `dags/`...), and no file of the project",
        "that spells its name with its folder (a Procfile's `celery -A app.jobs`, a setting's",
        "`\"app.workers.sync\"`, a README's `python -m app.tools.backfill` or `python app/tools/backfill.py`;",
        "another module's `app.core.rate_limit` is no mention of `app/middleware/rate_limit.py`), or that",
        "names its package whole in quotes (werkzeug's `find_modules(\"app.web.blueprints\")`). A project whose code (not its tests) loads modules by",
        "computed names (`importlib.import_module(name)`, `pkgutil.iter_modules`) and a library whose start the",
        "project does not show get every module judged. DBP103 does not count such a module's pool either.",
        "",
        "**Nor is code that nothing calls** (Python findings): a module-level function, or a class with no",
        "bases and no decorators, in a package with `__init__.py` that the project shows running, that no",
        "file of the project names outside its own definition (a call, an import, a string, a setting; a",
        "commented-out line of Python is no call) but inside other such definitions that nothing names either",
        "(a service class built only by a getter nobody calls), nor computes a name from a part of it cut at an",
        "underscore (`f\"handle_{kind}\"`, `\"handle_\" + kind`: a name for `getattr`). A decorator or a base may register what it",
        "decorates, and a platform calls some functions by their name alone (the catalog's `called-by-name`",
        "and `handler-names`: `main`, `create_app`, `upgrade`, gunicorn's hooks, `handler`...; and `test*`,",
        "`pytest_*`): those are judged, as is the code of tests and of modules a framework loads by convention.",
        "",
        "| code | name | what it flags |",
        "| --- | --- | --- |",
    ]
    lines += [f"| [{r.code}](#{r.code.lower()}-{r.name}) | `{r.name}` | {r.summary()} |" for r in ALL_RULES]
    body = "\n".join(lines) + "\n"
    return body + "".join("\n" + rule.documentation() for rule in ALL_RULES)


def render_settings_markdown() -> str:
    lines = [
        "# poollint settings",
        "",
        "Generated from `poollint.settings.SETTING_DOCS` by `python -m poollint.docs settings`.",
        "",
        "The keys go under `[tool.poollint]` in `pyproject.toml`, or at the top level of `poollint.toml` /",
        "`.poollint.toml`. Each file follows the nearest configuration file above it; paths in `exclude`,",
        "`per-file-ignores` and `env-files` are relative to that configuration file's folder. An unknown key",
        "is an error naming it, with the closest known key (exit status 2).",
        "",
        "| key | type | default |",
        "| --- | --- | --- |",
    ]
    lines += [f"| [`{d.key}`](#{d.key}) | {_KEYS[d.key]} | {d.default} |" for d in SETTING_DOCS]
    for d in SETTING_DOCS:
        example = d.example if d.example.startswith("[[") else f"[tool.poollint]\n{d.example}"
        lines += ["", f"## {d.key}", "", d.description, "", f"- type: {_KEYS[d.key]}", f"- default: {d.default}",
                  "", "```toml", example, "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["settings"]:
        print(render_settings_markdown(), end="")
    else:
        print(render_rules_markdown(), end="")
