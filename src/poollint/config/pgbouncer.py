"""`pgbouncer.ini`: sections and settings with lines, and the pool modes they declare."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from poollint.config.lines import split_lines

_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s*$")
_POOL_MODE_IN_DB = re.compile(r"\bpool_mode\s*=\s*(?P<mode>\w+)")


@dataclass(frozen=True)
class IniSetting:
    section: str
    key: str
    value: str
    line: int


@dataclass(frozen=True)
class PgBouncerConfig:
    settings: tuple[IniSetting, ...]
    error: Optional[tuple[int, str]] = None

    def get(self, section: str, key: str) -> Optional[IniSetting]:
        found = None
        for setting in self.settings:
            if setting.section == section and setting.key == key:
                found = setting
        return found

    def pool_modes(self) -> tuple[tuple[str, int, str], ...]:
        """(mode, line, where) for the global pool_mode and every per-database `pool_mode=`."""
        modes = []
        for setting in self.settings:
            if setting.section == "pgbouncer" and setting.key == "pool_mode":
                modes.append((setting.value.lower(), setting.line, "[pgbouncer]"))
            elif setting.section == "databases":
                match = _POOL_MODE_IN_DB.search(setting.value)
                if match:
                    modes.append((match.group("mode").lower(), setting.line, f"database `{setting.key}`"))
            elif setting.section == "users" and setting.key and "pool_mode" in setting.value:
                match = _POOL_MODE_IN_DB.search(setting.value)
                if match:
                    modes.append((match.group("mode").lower(), setting.line, f"user `{setting.key}`"))
        return tuple(modes)

    @property
    def session_mode(self) -> bool:
        """PgBouncer defaults to session mode when `pool_mode` is not set."""
        setting = self.get("pgbouncer", "pool_mode")
        return setting is None or setting.value.lower() == "session"


def parse_pgbouncer(text: str) -> PgBouncerConfig:
    settings: list[IniSetting] = []
    section = ""
    for number, raw in enumerate(split_lines(text), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith((";", "#")):
            continue
        match = _SECTION.match(raw)
        if match:
            section = match.group("name").strip().lower()
            continue
        # str.partition, not a regular expression: a lazy `.*?\s*$` took seconds on one 100 KB line
        key, equals, value = stripped.partition("=")
        if not equals or not key.strip():
            if stripped.startswith("%include"):
                continue
            return PgBouncerConfig(tuple(settings), (number, f"line {number} is not `key = value` or `[section]`"))
        settings.append(IniSetting(section, key.strip(), value.strip(), number))
    return PgBouncerConfig(tuple(settings))
