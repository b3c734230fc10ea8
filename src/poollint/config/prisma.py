"""`schema.prisma` datasource blocks: provider, url, directUrl, shadowDatabaseUrl, with lines."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from poollint.config.lines import split_lines

_BLOCK = re.compile(r"^\s*(?P<kind>datasource|generator|model|enum|type|view)\s+(?P<name>\w+)\s*\{")
_FIELD = re.compile(r"^\s*(?P<key>\w+)\s*=\s*(?P<value>.+?)\s*$")
_ENV = re.compile(r'^env\(\s*"(?P<name>[^"]+)"\s*\)$')
_STRING = re.compile(r'^"(?P<text>(?:[^"\\]|\\.)*)"$')

URL_FIELDS = ("url", "directUrl", "shadowDatabaseUrl")


@dataclass(frozen=True)
class SchemaUrl:
    """One URL field: either `env("NAME")` or a string literal."""

    field: str  # "url", "directUrl", "shadowDatabaseUrl"
    line: int
    env: Optional[str] = None
    literal: Optional[str] = None


@dataclass(frozen=True)
class Datasource:
    name: str
    line: int
    provider: str
    urls: tuple[SchemaUrl, ...]

    def url(self, field: str) -> Optional[SchemaUrl]:
        return next((u for u in self.urls if u.field == field), None)


@dataclass(frozen=True)
class PrismaSchema:
    datasources: tuple[Datasource, ...]
    generators: tuple[str, ...]  # generator providers, e.g. "prisma-client-py"
    error: Optional[tuple[int, str]] = None


def _strip_comment(line: str) -> str:
    in_string = False
    for index, char in enumerate(line):
        if char == '"' and (index == 0 or line[index - 1] != "\\"):
            in_string = not in_string
        elif not in_string and line.startswith("//", index):
            return line[:index]
    return line


def parse_prisma(text: str) -> PrismaSchema:
    datasources: list[Datasource] = []
    generators: list[str] = []
    block: Optional[tuple[str, str, int]] = None
    fields: dict[str, tuple[str, int]] = {}
    depth = 0
    for number, raw in enumerate(split_lines(text), start=1):
        line = _strip_comment(raw)
        if block is None:
            match = _BLOCK.match(line)
            if match:
                block, fields, depth = (match.group("kind"), match.group("name"), number), {}, 1
                if line.count("}") >= line.count("{"):  # a one-line block: `enum Role { A B }`
                    block = None
            continue
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            kind, name, start = block
            if kind == "datasource":
                urls = []
                for key in URL_FIELDS:
                    if key in fields:
                        value, at = fields[key]
                        env = _ENV.match(value)
                        literal = _STRING.match(value)
                        urls.append(SchemaUrl(key, at, env.group("name") if env else None,
                                              literal.group("text") if literal and not env else None))
                provider = _STRING.match(fields.get("provider", ('""', 0))[0])
                datasources.append(Datasource(name, start, provider.group("text") if provider else "", tuple(urls)))
            elif kind == "generator":
                provider = _STRING.match(fields.get("provider", ('""', 0))[0])
                if provider:
                    generators.append(provider.group("text"))
            block = None
            continue
        if depth == 1 and block[0] in ("datasource", "generator"):
            match = _FIELD.match(line)
            if match:
                fields[match.group("key")] = (match.group("value"), number)
    if block is not None:
        return PrismaSchema(tuple(datasources), tuple(generators),
                            (block[2], f"the {block[0]} block `{block[1]}` opened on line {block[2]} is never closed"))
    return PrismaSchema(tuple(datasources), tuple(generators))
