"""The flake8 door: `flake8 --select DBP` reports poollint's per-file findings."""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from poollint import __version__

if TYPE_CHECKING:
    from poollint.settings import Settings


class PoollintChecker:
    name = "poollint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from poollint.engine.files import discover
        from poollint.engine.runner import RunOptions, check_buffer
        from poollint.settings import SettingsError

        path = Path(self.filename)
        # `flake8 -` without `--stdin-display-name` (older pylsp): the buffer has no place in the project,
        # and taking the project's index for it would make it a duplicate of the file it was read from
        named = self.filename not in ("stdin", "-") or path.is_file()
        try:
            # absolute: flake8 names files relative to its working directory, which a process that runs it
            # more than once (an editor's, a test's) may change between runs
            settings = _settings_for((path.parent if named and path.parent.exists() else Path.cwd()).resolve())
        except SettingsError as error:
            yield 1, 0, f"DBP000 poollint configuration error: {error}", type(self)
            return
        if named and path.exists() and not list(discover([path], settings.is_excluded)):
            return  # `exclude` of [tool.poollint] (and the built-in excludes), as `poollint check` skips it
        data = "".join(self.lines).encode("utf-8")
        # the CLI's own door for one buffer: file rules, the project's cross-file facts, the URL rules on
        # the file's literals (DBP402, DBP408...), select/ignore, per-file-ignores and file-level noqa
        result = check_buffer(path if named else Path("stdin.py"), data, settings, RunOptions(jobs=1), named=named)
        for finding in result.findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)


@lru_cache(maxsize=64)
def _settings_for(directory: Path) -> "Settings":
    """One flake8 process checks many files of one project: read its configuration once per directory."""
    from poollint.settings import load_settings

    return load_settings(directory)
