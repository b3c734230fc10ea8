"""The flake8 door: `flake8 --select DBP` reports poollint's per-file findings."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional, Sequence

from poollint import __version__


class PoollintChecker:
    name = "poollint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from poollint.engine.runner import analyze_python, module_name_for
        from poollint.settings import SettingsError, load_settings

        path = Path(self.filename)
        try:
            settings = load_settings(path.parent if path.parent.exists() else Path.cwd())
        except SettingsError as error:
            yield 1, 0, f"DBP000 poollint configuration error: {error}", type(self)
            return
        data = "".join(self.lines).encode("utf-8")
        root: Optional[Path] = settings.root
        findings, _ = analyze_python(path, self.filename, data, settings, module_name=module_name_for(path, root))
        for finding in findings:
            if settings.is_enabled(finding.code):
                yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
