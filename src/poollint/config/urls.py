"""Database URLs as the drivers read them: parts, parameters, poolers, placeholders, and `mask()`.

Every URL that reaches a message goes through `mask()`: passwords and secret-like
parameters become `****`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable, Optional
from urllib.parse import unquote

from poollint import _toml

SECRET = "****"

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
_PERCENT_OK = re.compile(r"%[0-9A-Fa-f]{2}")

# How each family names itself in a scheme.
POSTGRES_SCHEMES = ("postgres", "postgresql")
MYSQL_SCHEMES = ("mysql", "mariadb")
ACCELERATE_SCHEMES = ("prisma", "prisma+postgres")

# A value substituted at deploy time: `${VAR}` (dotenv, compose), `${ssm:/db/pw}` / `${env:X}`
# (serverless.yml), `$(VAR)` (Kubernetes). The URL is judged on the parts around it.
INTERPOLATION = re.compile(r"\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}|\$\([A-Za-z_][A-Za-z0-9_]*\)")
# What an interpolation stands for while the URL is split: no character any driver treats specially.
_STAND_IN = "INTERPOLATED0VALUE"


@dataclass(frozen=True)
class Pooler:
    """A connection pooler recognised from a URL's host and port."""

    kind: str  # "pgbouncer", "supabase", "neon", "accelerate", "compose-pgbouncer"
    transaction_mode: bool
    display: str  # "Supabase's transaction pooler (port 6543)"


@dataclass(frozen=True)
class ParsedUrl:
    """A URL split as the drivers split it; `problems` are what a driver would reject."""

    raw: str
    scheme: str  # "postgresql+asyncpg"
    dialect: str  # "postgresql", "postgres", "mysql", "redis", "mongodb", "prisma", ...
    driver: str  # "asyncpg", "psycopg", "" when absent
    username: str
    has_password: bool
    host: str
    port: Optional[int]
    database: str
    params: tuple[tuple[str, str], ...]
    problems: tuple[str, ...] = ()  # what every driver rejects (bad port, `@` in the user name)
    password_marks: str = ""  # the characters of PASSWORD_MARKS in the password; "%" for a stray `%`
    interpolated: frozenset[str] = frozenset()  # parts written as `${...}`: "password", "host", "port", ...

    @property
    def family(self) -> str:
        """"postgres", "mysql", "redis", "mongodb", "accelerate", "sqlite" or "other"."""
        if self.scheme in ACCELERATE_SCHEMES:
            return "accelerate"
        if self.dialect in POSTGRES_SCHEMES:
            return "postgres"
        if self.dialect in MYSQL_SCHEMES:
            return "mysql"
        if self.dialect in ("redis", "rediss", "unix"):
            return "redis"
        if self.dialect in ("mongodb", "mongodb+srv"):
            return "mongodb"
        if self.dialect == "sqlite":
            return "sqlite"
        return "other"

    def param(self, name: str) -> Optional[str]:
        """The last value of a query parameter (drivers keep the last), or None; "${...}" when interpolated."""
        value = None
        for key, found in self.params:
            if key == name:
                value = found
        return value

    @property
    def concrete(self) -> bool:
        """Host and port are written out: the URL can be judged though its password is interpolated."""
        return not self.interpolated & {"host", "port", "scheme"}

    def has_param(self, name: str) -> bool:
        return any(key == name for key, _ in self.params)


def looks_like_url(value: str) -> bool:
    return _SCHEME.match(value.strip()) is not None


def _split_authority(rest: str) -> tuple[str, str, str]:
    """(userinfo, hostport, tail) of what follows `scheme://`; userinfo ends at the *last* `@`.

    The last `@` is where a human meant the password to end (even when the password holds
    `/`, `?` or `#`); drivers split at the first reserved character instead, which is the
    bug DBP401 reports. Splitting late also keeps every fragment of such a password masked.
    """
    at = rest.rfind("@")
    if at >= 0 and ":" not in rest[:at] and any(c in rest[:at] for c in "/?#"):
        # no password, and the last `@` lies in the path or query: the authority ends earlier
        end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        at = rest.rfind("@", 0, end)
    if at < 0:
        userinfo, after = "", rest
    else:
        userinfo, after = rest[:at], rest[at + 1:]
    cut = len(after)
    for mark in "/?#":
        index = after.find(mark)
        if 0 <= index < cut:
            cut = index
    return userinfo, after[:cut], after[cut:]


def _is_port_number(text: str) -> bool:
    # ASCII digits only: str.isdigit() accepts `²`, which int() refuses; and a 5,000-digit port must not reach int()
    return 0 < len(text) <= 5 and all("0" <= c <= "9" for c in text) and 0 < int(text) < 65536


def parse_url(text: str) -> Optional[ParsedUrl]:
    """A URL with a `scheme://`, or None when `text` is not one."""
    raw = text.strip()
    work = INTERPOLATION.sub(_STAND_IN, raw)
    match = _SCHEME.match(work)
    if match is None:
        return None
    scheme = match.group("scheme").lower()
    dialect, _, driver = scheme.partition("+")
    if scheme == "mongodb+srv":
        dialect, driver = "mongodb+srv", ""
    if scheme in ACCELERATE_SCHEMES:
        dialect, driver = "prisma", ""
    userinfo, hostport, tail = _split_authority(work[match.end():])
    problems: list[str] = []
    username, _, password = userinfo.partition(":")
    has_password = ":" in userinfo
    if userinfo and ":" not in userinfo and "@" in username:
        problems.append("unencoded `@` in the user name")
    marks = "".join(char for char in PASSWORD_MARKS if char != "%" and char in password)
    if "%" in password and len(_PERCENT_OK.findall(password)) != password.count("%"):
        marks += "%"
    host, port_text = hostport, ""
    if hostport.startswith("["):
        close = hostport.find("]")
        host, port_text = hostport[: close + 1], hostport[close + 2:] if close >= 0 else ""
    elif dialect == "mongodb" and "," in hostport:
        host = hostport  # a replica-set seed list: several host:port pairs
    elif ":" in hostport:
        host, _, port_text = hostport.rpartition(":")
    interpolated = {part for part, value in (("scheme", scheme), ("user", username), ("password", password),
                                             ("host", host), ("port", port_text), ("path", tail))
                    if _STAND_IN.lower() in value.lower()}
    port: Optional[int] = None
    if port_text and "port" not in interpolated:
        if _is_port_number(port_text):
            port = int(port_text)
        else:
            # never echo a non-numeric port: with the `@` missing it may be the password
            shown_port = f" `{port_text}`" if port_text.isdigit() else ""
            problems.append(f"the port{shown_port} is not a number from 1 to 65535")
    path, _, query = tail.partition("?")
    query = query.split("#", 1)[0]
    params: list[tuple[str, str]] = []
    for pair in query.split("&") if query else ():
        if not pair:
            continue
        key, _, value = pair.partition("=")
        params.append((unquote(key), "${...}" if _STAND_IN in value else unquote(value)))
    database = unquote(path.lstrip("/").split("#", 1)[0])
    return ParsedUrl(
        raw=raw, scheme=scheme, dialect=dialect, driver=driver, username=unquote(username),
        has_password=has_password and bool(password), host=host.lower(), port=port, database=database,
        params=tuple(params), problems=tuple(problems), password_marks=marks, interpolated=frozenset(interpolated),
    )


# -- how each reader splits a password (DBP401) -----------------------------------------------
PASSWORD_MARKS = "@/#?[] %"
# The characters that, unencoded in a password, make each reader split a PostgreSQL URL wrongly
# or reject it. Measured by calling each parser on `postgresql://app:ab<c>cd@db.example.com:5432/app`
# (tests/test_config_rules.py keeps one case per reader and character):
#   SQLAlchemy `make_url` (also for `+asyncpg`/`+psycopg` URLs): only `@`;
#   libpq (`psycopg.conninfo`, psycopg2): `@`, `/`, a space, a `%` that is not an escape;
#   asyncpg's own parser: `@`, `/`, `#`, `?`, `[`, `]`;
#   Prisma (WHATWG URL, the last `@` ends the user info) and dj-database-url/redis-py
#   (`urllib.parse.urlsplit`): `/`, `#`, `?` (urlsplit also `[`, `]`).
PASSWORD_READERS: dict[str, tuple[str, str]] = {
    "sqlalchemy": ("SQLAlchemy", "@"),
    "libpq": ("libpq (psycopg)", "@/ %"),
    "asyncpg": ("asyncpg", "@/#?[]"),
    "prisma": ("Prisma", "/#?"),
    "urlsplit": ("Python's urlsplit (dj-database-url, redis-py)", "/#?[]"),
}
# Which parser each catalog library's URL goes through
LIBRARY_READER = {
    "sqlalchemy": "sqlalchemy", "prisma": "prisma", "asyncpg": "asyncpg", "psycopg": "libpq",
    "psycopg2": "libpq", "psycopg_pool": "libpq", "aiopg": "libpq", "django": "urlsplit", "redis": "urlsplit",
}
# With no known reader, the characters that break three of the four PostgreSQL readers above.
UNKNOWN_READER_MARKS = "@/"


def password_problems(url: ParsedUrl, libraries: Iterable[str]) -> list[str]:
    """What the readers of `url` (by library) get wrong about its password, one entry per character."""
    if not url.password_marks:
        return []
    readers = sorted({LIBRARY_READER[lib] for lib in libraries if lib in LIBRARY_READER})
    if url.driver and url.family in ("postgres", "mysql"):
        readers = ["sqlalchemy"]  # SQLAlchemy splits the URL and hands the parts to the DBAPI
    if url.family != "postgres":
        # other families: every character but `:`, as before readers were told apart
        breaking = {char: "" for char in url.password_marks}
    elif readers:
        breaking = {}
        for char in url.password_marks:
            names = [PASSWORD_READERS[r][0] for r in readers if char in PASSWORD_READERS[r][1]]
            if names:
                breaking[char] = " and ".join(names)
    else:
        breaking = {char: "" for char in url.password_marks if char in UNKNOWN_READER_MARKS}
    problems = []
    for char, names in breaking.items():
        if char == "%":
            text = "a `%` in the password that is not a percent-escape (write `%25`)"
        else:
            text = f"unencoded {'space' if char == ' ' else f'`{char}`'} in the password (percent-encode it)"
        problems.append(f"{text}{f' breaks {names}' if names else ''}")
    return problems


# Parameter names whose value is a credential, after percent-decoding (`pass%77ord`): passwords
# (libpq `sslpassword`, `db_password`), tokens, keys, signatures (AWS `X-Amz-Signature`, Azure `sig`).
_SECRET_NAME = re.compile(
    r"pass|pwd|secret|token|credential|signature|auth|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|^key$|[_.\-]key$|^sig$|[_.\-]sig$",
    re.IGNORECASE,
)
# `name=value` anywhere: in a query (`?`, `&`, `;`, `#`), a libpq keyword DSN, an .env line, a diff line.
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.%\-])(?P<name>[A-Za-z0-9_.%\-]+)(?P<equals>\s*=\s*)"
    r"(?P<value>'(?:[^'\\\n]|\\.)*'?|\"(?:[^\"\\\n]|\\.)*\"?|[^\s&;#'\"`]*)"
)
_ANY_SCHEME = re.compile(r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
_PORT_BEFORE_PATH = re.compile(r":\d{1,5}(?=[/?#\s\"'`]|$)")


def _is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(unquote(name)) is not None


def _mask_assignment(match: re.Match) -> str:
    name, equals, value = match.group("name", "equals", "value")
    quote = value[:1] if value[:1] in ("'", '"') else ""
    if not _is_secret_name(name):
        if not quote:
            return match.group(0)
        # `DATABASE_URL="...?password=x"`: a quoted value holds assignments of its own
        return name + equals + quote + _ASSIGNMENT.sub(_mask_assignment, value[1:])
    if not value or value == SECRET:
        return match.group(0)
    closing = quote if quote and len(value) > 1 and value.endswith(quote) else ""
    return f"{name}{equals}{quote}{SECRET}{closing}"


def _mask_userinfo(scheme: str, rest: str) -> str:
    """`rest` is what follows `scheme://` up to the line's end (or the next URL); its password becomes ****.

    The password runs from the user's `:` to the *last* `@`: a human meant it to end there even when it
    holds `@`, `/`, `?`, `#`, spaces or quotes (which drivers then misread: DBP401). Without any `@`,
    `user:password:5432/db` or `user:password/db` (the host forgotten) still hides what may be the password.
    """
    if rest.startswith("["):
        return rest  # an IPv6 host, no userinfo
    colon, at = rest.find(":"), rest.find("@")
    if at >= 0 and (colon < 0 or at < colon):
        if scheme.startswith("redis") and at > 0 and not any(c in rest[:at] for c in "/?#"):
            return SECRET + rest[at:]  # `redis://secret@host`: a bare userinfo is the password
        return rest
    if colon < 0:
        return rest
    if at >= 0:
        last_at = rest.rfind("@")
        return rest[: colon + 1] + SECRET + rest[last_at:]
    port = None
    for port in _PORT_BEFORE_PATH.finditer(rest):
        pass
    if port is not None and port.start() > colon:
        return rest[: colon + 1] + SECRET + rest[port.start():]
    end = min((i for i in (rest.find(c, colon) for c in "/?#\n\"'` ") if i >= 0), default=len(rest))
    shown = rest[colon + 1:end]
    if shown and not shown.isdigit():
        return rest[: colon + 1] + SECRET + rest[end:]
    return rest


def mask_text(text: str) -> str:
    """Any text with every password and secret parameter shown as `****`; never fails.

    The one masking function: messages, every output format, `--diff`, the cache and the
    baseline all go through it, so a secret hidden in one place is hidden in all of them.
    """
    text = _ASSIGNMENT.sub(_mask_assignment, text)
    if "://" not in text:
        return text
    out: list[str] = []
    position = 0
    matches = list(_ANY_SCHEME.finditer(text))
    for index, match in enumerate(matches):
        start = match.end()
        line_end = text.find("\n", start)
        end = min(line_end if line_end >= 0 else len(text),
                  matches[index + 1].start() if index + 1 < len(matches) else len(text))
        out.append(text[position:start])
        out.append(_mask_userinfo(match.group("scheme").lower(), text[start:end]))
        position = end
    out.append(text[position:])
    return "".join(out)


def holds_secret(text: str) -> bool:
    return mask_text(text) != text


def mask(url: str) -> str:
    """The URL with its password and secret parameters shown as `****`; never fails."""
    return mask_text(url.strip())


# -- poolers ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolerHost:
    """One entry of config/data/poolers.toml."""

    kind: str
    host: "re.Pattern[str]"
    port: Optional[int]
    transaction_mode: bool
    default_port: Optional[int]
    display: str


@lru_cache(maxsize=1)
def _poolers_document() -> dict:
    """config/data/poolers.toml, read once for the pooler hosts and PgBouncer's prepared-statement tracking."""
    return _toml.loads((resources.files("poollint.config") / "data" / "poolers.toml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def pooler_hosts() -> tuple[PoolerHost, ...]:
    document = _poolers_document()
    return tuple(
        PoolerHost(entry["kind"], re.compile(entry["host"]), entry.get("port"), bool(entry["transaction-mode"]),
                   entry.get("default-port"), entry["display"])
        for entry in document["poolers"]
    )


@dataclass(frozen=True)
class PreparedStatementTracking:
    """When PgBouncer tracks prepared statements (config/data/poolers.toml)."""

    opt_in: tuple[int, ...]  # the first version that can, with `max_prepared_statements` above 0
    by_default: tuple[int, ...]  # the first version that does unless told not to
    variables: tuple[str, ...]  # the images' environment variables for `max_prepared_statements`


@lru_cache(maxsize=1)
def prepared_statement_tracking() -> PreparedStatementTracking:
    table = _poolers_document()["pgbouncer-prepared-statements"]

    def version(text: str) -> tuple[int, ...]:
        return tuple(int(part) for part in text.split("."))
    return PreparedStatementTracking(version(table["opt-in"]), version(table["by-default"]), tuple(table["variables"]))


def find_pooler(url: ParsedUrl, pgbouncer_hosts: frozenset[str] = frozenset(),
                session_mode_pgbouncer: bool = False) -> Optional[Pooler]:
    """The pooler a URL goes through, if its host/port say so."""
    if url.family == "accelerate":
        return Pooler("accelerate", False, "Prisma Accelerate")
    if url.family not in ("postgres", "mysql"):
        return None
    host = url.host
    for known in pooler_hosts():
        if known.host.fullmatch(host) and (known.port is None or known.port == url.port):
            port = url.port or known.default_port
            return Pooler(known.kind, known.transaction_mode, known.display.format(port=port))
    if url.family != "postgres":
        return None
    if host.split(":")[0] in pgbouncer_hosts:
        return Pooler("pgbouncer", not session_mode_pgbouncer, f"the PgBouncer service `{host}`")
    if url.port == 6432:
        return Pooler("pgbouncer", not session_mode_pgbouncer, "PgBouncer (port 6432)")
    return None


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "host.docker.internal", ""})


def is_local(url: ParsedUrl, service_names: frozenset[str] = frozenset()) -> bool:
    """A database on this machine or in the same compose project: not a deployment target."""
    return url.host in LOCAL_HOSTS or url.host in service_names


# -- placeholders -----------------------------------------------------------------------------
_PLACEHOLDER = re.compile(
    r"<[^>]*>|\$\{|\{\{|\[[A-Za-z0-9_ -]+\]|change[-_]?me|your[-_ ]|xxx|\*\*\*|\.\.\.",
    re.IGNORECASE,
)
_PLACEHOLDER_WORDS = frozenset({
    "USER", "USERNAME", "PASSWORD", "PASS", "PWD", "HOST", "HOSTNAME", "PORT", "DATABASE", "DB", "DBNAME",
    "DB_NAME", "DATABASE_NAME", "NAME", "REGION", "PROJECT", "PROJECT_REF", "SECRET", "API_KEY",
})


def is_placeholder(value: str) -> bool:
    """A template value (`.env.example`: `USER:PASSWORD@HOST:PORT`, `<password>`, `changeme`).

    An interpolated part (`${POSTGRES_PASSWORD}`) is not a placeholder by itself: the URL is judged
    on its concrete parts, unless the host or port is interpolated.
    """
    url = parse_url(value)
    if (url is None and INTERPOLATION.search(value)) or (url is not None and not url.concrete):
        return True
    concrete = INTERPOLATION.sub("interpolated", value)
    if _PLACEHOLDER.search(concrete):
        return True
    match = _SCHEME.match(concrete.strip())
    rest = concrete.strip()[match.end():] if match else concrete
    words = re.split(r"[:@/?&=.]", rest.split("?", 1)[0])
    return any(word in _PLACEHOLDER_WORDS for word in words)
