"""Database URLs as the drivers read them: parts, parameters, poolers, placeholders, and `mask()`.

Every URL that reaches a message goes through `mask()`: passwords and secret-like
parameters become `****`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import unquote

SECRET = "****"

# Query/keyword parameters whose value is a credential.
_SECRET_KEY = re.compile(r"(api[_-]?key|apikey|password|passwd|pwd|token|secret|access[_-]?key)", re.IGNORECASE)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
_PERCENT_OK = re.compile(r"%[0-9A-Fa-f]{2}")

# How each family names itself in a scheme.
POSTGRES_SCHEMES = ("postgres", "postgresql")
MYSQL_SCHEMES = ("mysql", "mariadb")
ACCELERATE_SCHEMES = ("prisma", "prisma+postgres")


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
    problems: tuple[str, ...] = ()

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
        """The last value of a query parameter (drivers keep the last), or None."""
        value = None
        for key, found in self.params:
            if key == name:
                value = found
        return value

    def has_param(self, name: str) -> bool:
        return any(key == name for key, _ in self.params)

    @property
    def masked(self) -> str:
        return mask(self.raw)


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


def parse_url(text: str) -> Optional[ParsedUrl]:
    """A URL with a `scheme://`, or None when `text` is not one."""
    raw = text.strip()
    match = _SCHEME.match(raw)
    if match is None:
        return None
    scheme = match.group("scheme").lower()
    dialect, _, driver = scheme.partition("+")
    if scheme == "mongodb+srv":
        dialect, driver = "mongodb+srv", ""
    if scheme in ACCELERATE_SCHEMES:
        dialect, driver = "prisma", ""
    userinfo, hostport, tail = _split_authority(raw[match.end():])
    problems: list[str] = []
    username, _, password = userinfo.partition(":")
    has_password = ":" in userinfo
    if userinfo and ":" not in userinfo and "@" in username:
        problems.append("unencoded `@` in the user name")
    for char in "@:/#?[] ":
        if char in password:
            shown = "space" if char == " " else f"`{char}`"
            problems.append(f"unencoded {shown} in the password (percent-encode it)")
            break
    if "%" in password and len(_PERCENT_OK.findall(password)) != password.count("%"):
        problems.append("a `%` in the password that is not a percent-escape (write `%25`)")
    host, port_text = hostport, ""
    if hostport.startswith("["):
        close = hostport.find("]")
        host, port_text = hostport[: close + 1], hostport[close + 2:] if close >= 0 else ""
    elif dialect == "mongodb" and "," in hostport:
        host = hostport  # a replica-set seed list: several host:port pairs
    elif ":" in hostport:
        host, _, port_text = hostport.rpartition(":")
    port: Optional[int] = None
    if port_text:
        if port_text.isdigit() and 0 < int(port_text) < 65536:
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
        params.append((unquote(key), unquote(value)))
    database = unquote(path.lstrip("/").split("#", 1)[0])
    return ParsedUrl(
        raw=raw, scheme=scheme, dialect=dialect, driver=driver, username=unquote(username),
        has_password=has_password and bool(password), host=host.lower(), port=port, database=database,
        params=tuple(params), problems=tuple(problems),
    )


def _mask_params(query: str) -> str:
    parts = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        parts.append(f"{key}={SECRET}" if sep and value and _SECRET_KEY.search(key) else pair)
    return "&".join(parts)


_DSN_SECRET = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|api[_-]?key|apikey|token|secret)\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|\S+)",
    re.IGNORECASE,
)


def mask(url: str) -> str:
    """The URL with its password and secret parameters shown as `****`; never fails."""
    text = url.strip()
    match = _SCHEME.match(text)
    if match is None:
        # a libpq keyword DSN (`host=db password=...`) or something else: hide every secret-looking value
        return _DSN_SECRET.sub(lambda m: m.group("key") + SECRET, text)
    prefix, rest = text[: match.end()], text[match.end():]
    userinfo, hostport, tail = _split_authority(rest)
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if colon and password:
            userinfo = f"{user}:{SECRET}"
        elif not colon and user and match.group("scheme").lower().startswith("redis"):
            userinfo = SECRET  # `redis://secret@host`: a bare userinfo is the password
        authority = f"{userinfo}@{hostport}"
    else:
        host, colon, port = hostport.rpartition(":")
        # `scheme://user:password/db` (the `@host` forgotten): what looks like a port may be the password
        authority = f"{host}:{SECRET}" if colon and port and not port.isdigit() and "]" not in port else hostport
    path, question, query = tail.partition("?")
    if question:
        query, hash_sign, fragment = query.partition("#")
        tail = f"{path}?{_mask_params(query)}{hash_sign}{fragment}"
    return prefix + authority + tail


# -- poolers ----------------------------------------------------------------------------------
# Supabase: https://supabase.com/docs/guides/database/connecting-to-postgres#connection-pooler
# Neon: https://neon.tech/docs/connect/connection-pooling (pooled hosts carry `-pooler`)
# Prisma Accelerate: https://www.prisma.io/docs/accelerate/getting-started
def find_pooler(url: ParsedUrl, pgbouncer_hosts: frozenset[str] = frozenset(),
                session_mode_pgbouncer: bool = False) -> Optional[Pooler]:
    """The pooler a URL goes through, if its host/port say so."""
    if url.family == "accelerate":
        return Pooler("accelerate", False, "Prisma Accelerate")
    if url.family != "postgres":
        return None
    host = url.host
    if host.endswith("pooler.supabase.com"):
        if url.port == 5432:
            return Pooler("supabase", False, "Supabase's session pooler (port 5432)")
        return Pooler("supabase", True, f"Supabase's transaction pooler (port {url.port or 6543})")
    first_label = host.split(".", 1)[0]
    if first_label.endswith("-pooler") and (host.endswith(".neon.tech") or ".neon." in host):
        return Pooler("neon", True, "Neon's pooled endpoint (`-pooler` host)")
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
    """A template value (`.env.example`: `USER:PASSWORD@HOST:PORT`, `<password>`, `changeme`, `${X}`)."""
    if _PLACEHOLDER.search(value):
        return True
    match = _SCHEME.match(value.strip())
    rest = value.strip()[match.end():] if match else value
    words = re.split(r"[:@/?&=.]", rest.split("?", 1)[0])
    return any(word in _PLACEHOLDER_WORDS for word in words)
