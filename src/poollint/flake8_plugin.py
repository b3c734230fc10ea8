"""The flake8 door: `flake8 --select DBP` reports poollint's per-file findings."""
from __future__ import annotations

import ast
import logging
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

from poollint import __version__

if TYPE_CHECKING:
    from poollint.engine.index import ProjectIndex
    from poollint.settings import Settings

logger = logging.getLogger(__name__)


class PoollintChecker:
    name = "poollint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from poollint.engine.runner import analyze_python, module_name_for
        from poollint.settings import SettingsError

        path = Path(self.filename)
        try:
            settings = _settings_for(path.parent if path.parent.exists() else Path.cwd())
        except SettingsError as error:
            yield 1, 0, f"DBP000 poollint configuration error: {error}", type(self)
            return
        data = "".join(self.lines).encode("utf-8")
        root: Optional[Path] = settings.root
        index = _project_index(path, data, settings)
        module_name = (index.module_name(path) if index is not None else None) or module_name_for(path, root)
        findings, _ = analyze_python(path, self.filename, data, settings, module_name=module_name, index=index)
        for finding in findings:
            if settings.is_enabled(finding.code):
                yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)


@lru_cache(maxsize=64)
def _settings_for(directory: Path) -> "Settings":
    """One flake8 process checks many files of one project: read its configuration once per directory."""
    from poollint.settings import load_settings

    return load_settings(directory)


def _project_index(path: Path, data: bytes, settings: "Settings") -> Optional["ProjectIndex"]:
    """The project's index from its on-disk cache (built once, shared by flake8's workers), with this
    file's facts taken from the text flake8 checks, which may be an editor's unsaved buffer."""
    from poollint.engine.index import index_for_file

    try:
        return index_for_file(path, settings).with_source(path, data, settings)
    except (OSError, ValueError, RecursionError) as error:  # the per-file rules still run without it
        logger.debug("poollint: no project index for %s: %s", path, error)
        return None

