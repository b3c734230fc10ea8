"""Which modules of a project one process may load together, from the project's import statements.

DBP103 counts a pool built at import time in several modules as duplicates only when one process
loads those modules. Imports say so: a module loads what it imports, at any depth, and loading a
module runs its packages' `__init__` too. Where the chains start, with a module nothing of the
project imports, something outside loads it by name (a server's command line, a framework's
conventions); such modules are taken to run beside those of their own folder.
"""
from __future__ import annotations

from typing import Mapping, Optional


class LoadGraph:
    """The project's modules (`paths`: root-relative path -> module name) and, for every name imported
    at any level, the modules importing it (`importers`: `app.db` or `app.db.engine` -> importers)."""

    def __init__(self, paths: Mapping[str, str], importers: Mapping[str, tuple[str, ...]]) -> None:
        modules = set(paths.values())
        # `from models.models import x` in backend/main.py, run from backend/ where no source root was
        # inferred: the one module whose name ends so
        by_suffix: dict[str, Optional[str]] = {}
        for name in modules:
            parts = name.split(".")
            for start in range(1, len(parts)):
                suffix = ".".join(parts[start:])
                by_suffix[suffix] = None if suffix in by_suffix and by_suffix[suffix] != name else name
        by_module: dict[str, set[str]] = {}
        for target, names in importers.items():
            # `from app.db import engine` loads app.db; `import app.db` names it whole
            for candidate in (target, target.rsplit(".", 1)[0]):
                loaded = candidate if candidate in modules else by_suffix.get(candidate)
                if loaded is not None:
                    by_module.setdefault(loaded, set()).update(names)
                    break
        self._importers = {name: frozenset(found) for name, found in by_module.items()}
        submodules: dict[str, list[str]] = {}
        for name in modules:
            if "." in name:
                submodules.setdefault(name.rsplit(".", 1)[0], []).append(name)
        self._submodules = {package: tuple(sorted(names)) for package, names in submodules.items()}
        self._folders = {module: relative.rsplit("/", 1)[0] if "/" in relative else ""
                         for relative, module in paths.items()}
        self._loaders: dict[str, frozenset[str]] = {}
        self._start_folders: dict[str, frozenset[str]] = {}

    def loaded_together(self, first: str, second: str) -> bool:
        """Whether one process may load both modules: some module's import loads both (one of them, or a
        module importing both at any depth), or the chains that load them start in one folder. Two
        modules whose chains start in different folders and meet nowhere are not known to share a
        process: an old copy of `db.py` that only an unused `api/deps.py` imports, beside the
        `main.py` that builds the application."""
        if first == second:
            return True
        loaders = self.loaders(first), self.loaders(second)
        return not loaders[0].isdisjoint(loaders[1]) or not self.start_folders(first).isdisjoint(
            self.start_folders(second))

    def loaders(self, module: str) -> frozenset[str]:
        """The modules whose import loads `module`: itself, its submodules (loading `app.db.base` runs
        `app/db/__init__.py`), the modules importing any of them, and so on."""
        if module not in self._loaders:
            found = {module}
            frontier = [module]
            while frontier:
                loaded = frontier.pop()
                for loader in (*self._importers.get(loaded, ()), *self._submodules.get(loaded, ())):
                    if loader not in found:
                        found.add(loader)
                        frontier.append(loader)
            self._loaders[module] = frozenset(found)
        return self._loaders[module]

    def start_folders(self, module: str) -> frozenset[str]:
        """The folders of the modules, among those whose import loads `module`, that nothing in the
        project loads: where its import chains start."""
        if module not in self._start_folders:
            self._start_folders[module] = frozenset(
                self._folders[loader] for loader in self.loaders(module)
                if loader in self._folders and not self._importers.get(loader) and not self._submodules.get(loader))
        return self._start_folders[module]
