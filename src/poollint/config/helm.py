"""Helm charts: `values.yaml` is read for database URLs; the Go templates under `templates/` are not YAML."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from poollint.config.compose import EnvVar
from poollint.config.yamlfile import LineDict, LineList

_VALUES = re.compile(r"values(?:[-.][\w.-]+)?\.ya?ml")
_MAX_DEPTH = 40


def is_helm_values(path: Path) -> bool:
    """`values.yaml` (or `values-production.yaml`) of a chart: a `Chart.yaml` beside it."""
    return _VALUES.fullmatch(path.name.lower()) is not None and (path.parent / "Chart.yaml").is_file()


def is_helm_template(path: Path) -> bool:
    """A file under a chart's `templates/`: templates that render YAML, not YAML themselves."""
    parts = path.parts
    return any(part == "templates" and (Path(*parts[:index]) / "Chart.yaml").is_file()
               for index, part in enumerate(parts) if index > 0)


def helm_variables(node: Any, line: int, depth: int = 0) -> Iterator[EnvVar]:
    """Settings anywhere in a values tree: `DATABASE_URL: ...` keys and `- name: X` / `value: Y` items."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, dict):
        if isinstance(node.get("name"), str) and isinstance(node.get("value"), str):
            at = node.line("value", line) if isinstance(node, LineDict) else line
            yield EnvVar(node["name"], node["value"], at)
        for key, value in node.items():
            at = node.line(key, line) if isinstance(node, LineDict) else line
            if isinstance(value, str) and isinstance(key, str):
                yield EnvVar(key, value, at)
            elif isinstance(value, (dict, list)):
                yield from helm_variables(value, at, depth + 1)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            at = node.line(index, line) if isinstance(node, LineList) else line
            yield from helm_variables(item, at, depth + 1)
