"""Reads the built-in catalog files and the user's extensions with one validator."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Mapping, Sequence

from poollint import _toml
from poollint.catalog.model import (
    BackgroundSpec,
    Catalog,
    CheckoutSpec,
    ClientSpec,
    ExemptWhen,
    ExternalCallSpec,
    Guards,
    ImplicitTransactionSpec,
    RequestTransactionSpec,
    TransactionSpec,
)


class CatalogError(ValueError):
    """A catalog entry with an unknown key or a value of the wrong type."""


_STRING_LISTS = {
    "constructors", "connect", "exempt-url-schemes", "release", "methods", "functions", "after-commit", "clients",
    "receivers", "receiver-names", "with-objects", "local-methods", "task-methods", "client-methods",
    "receiver-methods", "imported", "begin-methods", "end-methods", "dedicated-methods", "routes", "in-memory-urls",
    "class-view-methods", "subscription-streams", "inspection-attributes", "liveness-queries", "liveness-methods", "routers", "router-methods", "sqlite-markers",
    "server-drivers", "server-extras", "engine-builders", "handler-methods", "handler-decorators", "opt-out-decorators",
    "owners", "awaited-uses", "adapter-pools", "adapter-pool-release", "model-operations", "client-queries",
    "async-receivers", "async-engines",
}
_SECTIONS: dict[str, dict[str, type]] = {
    "clients": {
        "library": str, "constructors": list, "kind": str, "connect": list, "release": list,
        "context-manager-releases": bool, "not-a-pool-if": list,
        "exempt-url-schemes": list, "language": str, "pool-argument": str, "dedicated-methods": list,
        "outlives-process": bool, "closed-when-dropped": bool, "in-memory-urls": list, "subscription-streams": list,
        "inspection-attributes": list, "liveness-queries": list, "liveness-methods": list,
        "size-arguments": list, "registry": bool, "sqlite-markers": list,
        "sqlite-file-pooled-from": list, "server-drivers": list,
        "server-extras": list, "default-pool-size": int, "default-overflow": int, "engine-builders": list,
        "adapter-pools": list, "adapter-pool-release": list, "model-operations": list, "client-queries": list,
    },
    "transactions": {
        "library": str, "methods": list, "functions": list, "after-commit": list, "timeout": str,
        "receivers": list, "receiver-names": list, "with-objects": list, "language": str, "end-methods": list,
    },
    "checkouts": {
        "library": str, "methods": list, "release": list, "context-manager-releases": bool,
        "receivers": list, "receiver-names": list, "owners": list, "awaited-uses": list,
    },
    "external-calls": {
        "kind": str, "functions": list, "clients": list, "methods": list, "local-methods": list, "task-methods": list,
        "client-methods": list, "timeout-keyword": str, "default-timeout": str, "receiver-names": list,
        "receiver-methods": list, "imported": list, "publishes-task": bool, "duration-argument": int,
        "shortest-wait": (int, float), "language": str,
    },
    "implicit-transactions": {"library": str, "receivers": list, "begin-methods": list, "end-methods": list,
                              "query-methods": list, "lazy-query-methods": list, "model-queries": list,
                              "model-session": str, "begin-functions": list, "end-functions": list,
                              "setting": str, "setting-words": list, "held-until": str,
                              "async-receivers": list, "async-engines": list},
    "background": {"functions": list, "methods": list},
    "offload": {"functions": list, "methods": list},
    "request-transactions": {
        "library": str, "setting": str, "routes": list, "class-view-methods": list, "routers": list,
        "router-methods": list, "handler-methods": list, "handler-decorators": list, "opt-out-decorators": list,
    },
}
_REQUIRED = {"clients": ("library", "constructors"), "transactions": ("library",),
             "checkouts": ("library", "methods"), "external-calls": ("kind",), "background": (),
             "implicit-transactions": ("library", "receivers", "begin-methods", "end-methods"),
             "offload": (), "request-transactions": ("library", "setting")}
EXTENSION_KEYS = frozenset(_SECTIONS)
# Entries for another language (`language = "javascript"`) are read by that language's front end only.
LANGUAGES = ("python", "javascript")


def _check_entry(section: str, entry: Any, where: str) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise CatalogError(f"{where}: each entry of `{section}` must be a table")
    allowed = _SECTIONS[section]
    for key, value in entry.items():
        if key not in allowed:
            raise CatalogError(f"{where}: unknown key `{key}` in `{section}` (expected one of {', '.join(sorted(allowed))})")
        if not isinstance(value, allowed[key]):
            raise CatalogError(f"{where}: `{section}.{key}` must be a {allowed[key].__name__}")
        if key in _STRING_LISTS and not all(isinstance(v, str) for v in value):
            raise CatalogError(f"{where}: `{section}.{key}` must be a list of strings")
    for key in _REQUIRED[section]:
        if key not in entry:
            raise CatalogError(f"{where}: an entry of `{section}` needs `{key}`")
    if entry.get("language", "python") not in LANGUAGES:
        raise CatalogError(f"{where}: `{section}.language` must be one of {', '.join(LANGUAGES)}")
    if section == "clients" and entry.get("kind", "pool") not in ("pool", "connection", "session"):
        raise CatalogError(f"{where}: `clients.kind` must be \"pool\", \"connection\" or \"session\"")
    return dict(entry)


def _exemptions(raw: Sequence[Any], where: str) -> tuple[ExemptWhen, ...]:
    out = []
    for item in raw:
        if not isinstance(item, Mapping) or set(item) != {"keyword", "is"}:
            raise CatalogError(f"{where}: `not-a-pool-if` entries are {{ keyword = \"...\", is = [...] }}")
        values = item["is"] if isinstance(item["is"], list) else [item["is"]]
        out.append(ExemptWhen(str(item["keyword"]), tuple(str(v) for v in values)))
    return tuple(out)


def _client(e: Mapping[str, Any], where: str) -> ClientSpec:
    return ClientSpec(
        library=e["library"], constructors=tuple(e["constructors"]), kind=e.get("kind", "pool"),
        connect=tuple(e.get("connect", ())), release=tuple(e.get("release", ())),
        context_manager_releases=e.get("context-manager-releases", False),
        not_a_pool_if=_exemptions(e.get("not-a-pool-if", ()), where),
        exempt_url_schemes=tuple(e.get("exempt-url-schemes", ())),
        pool_argument=e.get("pool-argument", ""), dedicated_methods=tuple(e.get("dedicated-methods", ())),
        outlives_process=e.get("outlives-process", False),
        closed_when_dropped=e.get("closed-when-dropped", False),
        adapter_pools=tuple(e.get("adapter-pools", ())), adapter_pool_release=tuple(e.get("adapter-pool-release", ())),
        model_operations=tuple(e.get("model-operations", ())), client_queries=tuple(e.get("client-queries", ())),
        in_memory_urls=tuple(e.get("in-memory-urls", ())),
        subscription_streams=tuple(e.get("subscription-streams", ())),
        inspection_attributes=tuple(e.get("inspection-attributes", ())),
        liveness_queries=tuple(e.get("liveness-queries", ())), liveness_methods=tuple(e.get("liveness-methods", ())),
        size_arguments=tuple(e.get("size-arguments", ())), registry=e.get("registry", False),
        sqlite_markers=tuple(e.get("sqlite-markers", ())),
        sqlite_file_pooled_from=_pooled_from(e.get("sqlite-file-pooled-from", ()), where),
        server_drivers=tuple(e.get("server-drivers", ())), server_extras=tuple(e.get("server-extras", ())),
        engine_builders=tuple(e.get("engine-builders", ())),
        default_pool_size=e.get("default-pool-size"), default_overflow=e.get("default-overflow", 0),
    )


def _pooled_from(raw: Sequence[Any], where: str) -> tuple[tuple[tuple[str, ...], str], ...]:
    out = []
    for item in raw:
        if not isinstance(item, Mapping) or set(item) != {"constructors", "release"} \
                or not isinstance(item["constructors"], list) or not isinstance(item["release"], str) \
                or not re.fullmatch(r"[\w.-]+>=[\d.]+", item["release"].replace(" ", "")):
            raise CatalogError(f"{where}: `sqlite-file-pooled-from` entries are "
                               "{ constructors = [\"...\"], release = \"package>=version\" }")
        out.append((tuple(str(c) for c in item["constructors"]), item["release"].replace(" ", "")))
    return tuple(out)


def _transaction(e: Mapping[str, Any], where: str) -> TransactionSpec:
    return TransactionSpec(
        library=e["library"], methods=tuple(e.get("methods", ())), functions=tuple(e.get("functions", ())),
        after_commit=tuple(e.get("after-commit", ())), timeout=e.get("timeout", ""),
        receivers=tuple(e.get("receivers", ())), receiver_names=tuple(e.get("receiver-names", ())),
        with_objects=tuple(e.get("with-objects", ())), end_methods=tuple(e.get("end-methods", ())),
    )


def _checkout(e: Mapping[str, Any], where: str) -> CheckoutSpec:
    return CheckoutSpec(
        library=e["library"], methods=tuple(e["methods"]), release=tuple(e.get("release", ())),
        context_manager_releases=e.get("context-manager-releases", False),
        receivers=tuple(e.get("receivers", ())), receiver_names=tuple(e.get("receiver-names", ())),
        owners=tuple(e.get("owners", ())), awaited_uses=tuple(e.get("awaited-uses", ())),
    )


def _external(e: Mapping[str, Any], where: str) -> ExternalCallSpec:
    return ExternalCallSpec(
        kind=e["kind"], functions=tuple(e.get("functions", ())), clients=tuple(e.get("clients", ())),
        methods=tuple(e.get("methods", ())), local_methods=tuple(e.get("local-methods", ())),
        task_methods=tuple(e.get("task-methods", ())), client_methods=tuple(e.get("client-methods", ())),
        timeout_keyword=e.get("timeout-keyword", ""), default_timeout=e.get("default-timeout", ""),
        receiver_names=tuple(n.lower() for n in e.get("receiver-names", ())),
        receiver_methods=tuple(e.get("receiver-methods", ())), imported=tuple(e.get("imported", ())),
        publishes_task=e.get("publishes-task", False), duration_argument=e.get("duration-argument", -1),
        shortest_wait=float(e.get("shortest-wait", 0.0)),
    )


def _implicit(e: Mapping[str, Any], where: str) -> ImplicitTransactionSpec:
    if e.get("model-queries") and e.get("model-session") not in e["receivers"]:
        raise CatalogError(f"{where}: `implicit-transactions.model-session` must name one of its `receivers`, "
                           "the session the `model-queries` run on")
    if (e.get("begin-functions") or e.get("end-functions")) and not e.get("model-session"):
        raise CatalogError(f"{where}: `implicit-transactions.begin-functions` and `end-functions` act on its "
                           "`model-session`, which it must name")
    if any("." not in query for query in e.get("model-queries", ())):
        raise CatalogError(f"{where}: `implicit-transactions.model-queries` are `<model base>.<attribute>`")
    return ImplicitTransactionSpec(
        library=e["library"], receivers=tuple(e["receivers"]), begin_methods=tuple(e["begin-methods"]),
        end_methods=tuple(e["end-methods"]), query_methods=tuple(e.get("query-methods", ())),
        lazy_query_methods=tuple(e.get("lazy-query-methods", ())),
        model_queries=tuple(e.get("model-queries", ())), model_session=e.get("model-session", ""),
        begin_functions=tuple(e.get("begin-functions", ())), end_functions=tuple(e.get("end-functions", ())),
        setting=e.get("setting", ""), setting_words=tuple(e.get("setting-words", ())),
        held_until=e.get("held-until", ""),
        async_receivers=tuple(e.get("async-receivers", ())), async_engines=tuple(e.get("async-engines", ())),
    )


def _request_transaction(e: Mapping[str, Any], where: str) -> RequestTransactionSpec:
    return RequestTransactionSpec(
        library=e["library"], setting=e["setting"], routes=tuple(e.get("routes", ())),
        class_view_methods=tuple(e.get("class-view-methods", ())), routers=tuple(e.get("routers", ())),
        router_methods=tuple(e.get("router-methods", ())), handler_methods=tuple(e.get("handler-methods", ())),
        handler_decorators=tuple(e.get("handler-decorators", ())),
        opt_out_decorators=tuple(e.get("opt-out-decorators", ())),
    )


def _background(e: Mapping[str, Any], where: str) -> BackgroundSpec:
    return BackgroundSpec(functions=tuple(e.get("functions", ())), methods=tuple(e.get("methods", ())))


_BUILDERS = {
    "clients": _client, "transactions": _transaction, "checkouts": _checkout, "external-calls": _external,
    "background": _background, "offload": _background, "implicit-transactions": _implicit,
    "request-transactions": _request_transaction,
}


def parse_sections(document: Mapping[str, Any], where: str, language: str = "python") -> dict[str, list[Any]]:
    """Validates every entry of one TOML document; builds the sections of one language's entries."""
    out: dict[str, list[Any]] = {name: [] for name in _SECTIONS}
    for section in _SECTIONS:
        entries = document.get(section, [])
        if not isinstance(entries, list):
            raise CatalogError(f"{where}: `{section}` must be an array of tables")
        for entry in entries:
            checked = _check_entry(section, entry, where)
            if checked.get("language", "python") == language:
                out[section].append(_BUILDERS[section](checked, where))
    return out


def _guards(document: Mapping[str, Any]) -> Guards:
    merged: dict[str, frozenset[str]] = {}
    for table in ("guards", "per-call"):
        for key, values in document.get(table, {}).items():
            merged[key.replace("-", "_")] = frozenset(values)
    return Guards(**merged)


@lru_cache(maxsize=1)
def _builtin_documents() -> tuple[tuple[str, Mapping[str, Any]], ...]:
    data = resources.files("poollint.catalog") / "data"
    docs = []
    for entry in sorted(data.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            docs.append((entry.name, _toml.loads(entry.read_text(encoding="utf-8"))))
    return tuple(docs)


def load_catalog(extensions: Iterable[tuple[str, Mapping[str, Any]]] = (), pool_holds: bool = False) -> Catalog:
    """The built-in catalog plus `(where, document)` extensions in the same format. `pool_holds`: whether
    the holds a framework keeps where its settings enable a pool (`implicit-transactions` entries with a
    `setting`: Django's pool) are in it, the `pool-holds` setting."""
    extensions = tuple(extensions)
    return _build_catalog(extensions, pool_holds) if extensions else _builtin_catalog(pool_holds)


@lru_cache(maxsize=2)
def _builtin_catalog(pool_holds: bool = False) -> Catalog:
    # every Settings without extensions holds one of these (immutable) catalogs: an editor's flake8 and the
    # tests build many settings, and validating the built-in entries each time cost more than a check
    return _build_catalog((), pool_holds)


def _build_catalog(extensions: tuple[tuple[str, Mapping[str, Any]], ...], pool_holds: bool = False) -> Catalog:
    sections: dict[str, list[Any]] = {name: [] for name in _SECTIONS}
    guards = Guards()
    for name, document in _builtin_documents():
        for section, items in parse_sections(document, f"catalog/{name}").items():
            sections[section].extend(items)
        if "guards" in document:
            guards = _guards(document)
    for where, document in extensions:
        for section, items in parse_sections(document, where).items():
            sections[section].extend(items)
    return Catalog.build(
        sections["clients"], sections["transactions"], sections["checkouts"], sections["external-calls"], guards,
        background=sections["background"], offload=sections["offload"],
        # a hold only a setting of the project enables is judged with `pool-holds` only (settings.py)
        implicit_transactions=[spec for spec in sections["implicit-transactions"] if pool_holds or not spec.setting],
        request_transactions=sections["request-transactions"],
    )


@lru_cache(maxsize=1)
def load_javascript_catalog() -> dict[str, tuple[Any, ...]]:
    """The built-in entries marked `language = "javascript"`, by section (javascript/catalog.py asks them)."""
    sections: dict[str, list[Any]] = {name: [] for name in _SECTIONS}
    for name, document in _builtin_documents():
        for section, items in parse_sections(document, f"catalog/{name}", language="javascript").items():
            sections[section].extend(items)
    return {section: tuple(items) for section, items in sections.items()}
