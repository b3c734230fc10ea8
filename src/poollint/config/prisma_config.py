"""Prisma 7's `prisma.config.ts` (`.js`, `.mjs`): the datasource URLs the CLI uses, and literal adapter pool sizes.

Read as text with a small scanner (comments and strings skipped, braces matched): the
file is never executed, and no TypeScript parser is needed for the few shapes Prisma
documents: `url: env('DATABASE_URL')`, `url: process.env.DATABASE_URL`, a constant
holding such reads (`const url = process.env.A || process.env.B`), and
`new PrismaPg({ connectionString: process.env.X, max: 5 })`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

PRISMA_CONFIG = re.compile(r"prisma\.config\.(?:ts|mts|cts|js|mjs|cjs)")
_ENV_READ = re.compile(
    r"""\benv\s*(?:<[^>()]*>)?\(\s*['"`](?P<env>\w+)['"`]\s*\)"""
    r"""|\bprocess\.env\.(?P<dot>\w+)|\bprocess\.env\[\s*['"`](?P<index>\w+)['"`]\s*\]"""
)
_URL_FIELD = re.compile(r"\b(?P<field>url|directUrl|shadowDatabaseUrl)\s*:\s*")
_DATASOURCE = re.compile(r"\bdatasource\s*:\s*\{")
_ADAPTER = re.compile(r"\bnew\s+(?:Prisma\w+|Pool)\s*\(\s*\{")
_MAX = re.compile(r"\b(?:max|connectionLimit|connection_limit)\s*:\s*(?P<n>\d+)\b")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class ConfigUrl:
    field: str  # "url", "directUrl", "shadowDatabaseUrl"
    line: int
    variables: tuple[str, ...]  # the environment variables it reads, in order of preference


@dataclass(frozen=True)
class AdapterPool:
    variables: tuple[str, ...]
    size: int
    line: int


@dataclass(frozen=True)
class PrismaConfig:
    urls: tuple[ConfigUrl, ...] = ()
    adapter_pools: tuple[AdapterPool, ...] = ()

    def variables(self, field: str = "url") -> tuple[str, ...]:
        return tuple(v for u in self.urls if u.field == field for v in u.variables)


def _blank_comments(text: str) -> str:
    """The text with comments replaced by spaces (newlines kept), so offsets and lines stay true."""
    out = list(text)
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char in "'\"`":
            end = index + 1
            while end < length and text[end] != char:
                end += 2 if text[end] == "\\" else 1
            index = end + 1
        elif text.startswith("//", index):
            end = text.find("\n", index)
            end = length if end < 0 else end
            out[index:end] = " " * (end - index)
            index = end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = length if end < 0 else end + 2
            out[index:end] = [c if c == "\n" else " " for c in text[index:end]]
            index = end
        else:
            index += 1
    return "".join(out)


def _block_end(text: str, start: int) -> int:
    """The offset after the `}` matching the `{` just before `start`."""
    depth = 1
    index = start
    while index < len(text) and depth:
        char = text[index]
        if char in "'\"`":
            end = index + 1
            while end < len(text) and text[end] != char:
                end += 2 if text[end] == "\\" else 1
            index = end
        elif char in "{([":
            depth += 1
        elif char in "})]":
            depth -= 1
        index += 1
    return index


def _expression(text: str, start: int, end: int) -> str:
    """The value from `start` up to the `,` or `}` that ends it at the same nesting depth."""
    depth = 0
    index = start
    while index < end:
        char = text[index]
        if char in "'\"`":
            close = index + 1
            while close < end and text[close] != char:
                close += 2 if text[close] == "\\" else 1
            index = close
        elif char in "{([":
            depth += 1
        elif char in "})]":
            if depth == 0:
                break
            depth -= 1
        elif char in ",;" and depth == 0:
            break
        index += 1
    return text[start:index]


def _reads(text: str, expression: str, depth: int = 0) -> tuple[str, ...]:
    """Environment variables an expression reads, following a constant defined in the file."""
    found = [m.group("env") or m.group("dot") or m.group("index") for m in _ENV_READ.finditer(expression)]
    bare = expression.strip()
    if not found and depth < 3 and _IDENTIFIER.fullmatch(bare):
        definition = re.search(r"\b(?:const|let|var)\s+" + re.escape(bare) + r"\s*(?::[^=]+)?=\s*", text)
        if definition:
            return _reads(text, _expression(text, definition.end(), len(text)), depth + 1)
    return tuple(dict.fromkeys(found))


def parse_prisma_config(text: str) -> Optional[PrismaConfig]:
    """The datasource URLs and adapter pools of a Prisma config file; None when it has neither."""
    if len(text) > _MAX_BYTES:
        return None
    code = _blank_comments(text)
    urls: list[ConfigUrl] = []
    for block in _DATASOURCE.finditer(code):
        end = _block_end(code, block.end())
        for field in _URL_FIELD.finditer(code, block.end(), end):
            variables = _reads(code, _expression(code, field.end(), end))
            if variables:
                urls.append(ConfigUrl(field.group("field"), code.count("\n", 0, field.start()) + 1, variables))
    pools: list[AdapterPool] = []
    for adapter in _ADAPTER.finditer(code):
        body = code[adapter.end():_block_end(code, adapter.end())]
        size = _MAX.search(body)
        variables = _reads(code, body)
        if size and variables:
            pools.append(AdapterPool(variables, int(size.group("n")),
                                     code.count("\n", 0, adapter.end() + size.start()) + 1))
    if not urls and not pools:
        return None
    return PrismaConfig(tuple(urls), tuple(pools))
