"""The questions the TypeScript/JavaScript rules ask of the catalog's `language = "javascript"` entries.

Names are `<module specifier>.<export>[.<member>...]` and the catalog's names are shell-style
patterns over them (data/javascript.toml says how names are formed).
"""
from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass
from typing import Optional

from poollint.catalog.load import load_catalog, load_javascript_catalog
from poollint.catalog.model import ClientSpec, ExternalCallSpec, Guards, TransactionSpec


def _compiled(patterns: tuple[str, ...]) -> "re.Pattern[str]":
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or r"(?!)")


@dataclass(frozen=True)
class ExternalClient:
    kind: str
    local_methods: frozenset[str]


class JavascriptCatalog:
    def __init__(self, clients: tuple[ClientSpec, ...], transactions: tuple[TransactionSpec, ...],
                 external_calls: tuple[ExternalCallSpec, ...], guards: Guards = Guards()) -> None:
        self.clients = clients
        # the naming conventions both languages share (frameworks.toml: who may call a handler)
        self.guards = guards
        self.transactions = transactions
        self.external_calls = external_calls
        self._clients = [(spec, _compiled(spec.constructors)) for spec in clients]
        self._functions = [(spec.kind, _compiled(spec.functions)) for spec in external_calls]
        self._external_clients = [(ExternalClient(spec.kind, frozenset(spec.local_methods)), _compiled(spec.clients))
                                  for spec in external_calls]
        self.transaction_methods = {m: spec for spec in transactions for m in spec.methods}
        self.release_methods = frozenset(m for spec in clients for m in spec.release)
        self.model_operations = frozenset(m for spec in clients for m in spec.model_operations)
        self.client_queries = frozenset(m for spec in clients for m in spec.client_queries)

    def client_for(self, name: Optional[str]) -> Optional[ClientSpec]:
        """The pool-owning client `new <name>()` builds."""
        if name is None:
            return None
        return next((spec for spec, pattern in self._clients if pattern.match(name)), None)

    def builds_adapter_pool(self, spec: ClientSpec, name: Optional[str]) -> bool:
        """Whether a call of `name` builds a pool a driver adapter may run `spec`'s client on (`pg.Pool`)."""
        return name is not None and any(fnmatch.fnmatchcase(name, pattern) for pattern in spec.adapter_pools)

    def external_client(self, name: Optional[str]) -> Optional[ExternalClient]:
        """What the object built by `name` (`new Stripe()`, `nodemailer.createTransport()`) calls out to."""
        if name is None:
            return None
        return next((client for client, pattern in self._external_clients if pattern.match(name)), None)

    def external_function(self, name: Optional[str]) -> Optional[str]:
        """The kind of external call a call of `name` is; a client's constructor is none."""
        if name is None or self.external_client(name) is not None:
            return None
        return next((kind for kind, pattern in self._functions if pattern.match(name)), None)

    def query_depth(self, method: str, model: Optional[str]) -> Optional[int]:
        """How far before `method` a call names the client it queries: 1 for the client's own query
        (`prisma.$queryRaw`), 2 for an operation of one of its models (`prisma.user.findMany`, `model`
        being `user`); None for a call that runs no query."""
        if method in self.client_queries:
            return 1
        if method in self.model_operations and model and not model.startswith("$"):
            return 2
        return None

    def words(self) -> tuple[bytes, ...]:
        """What a file must contain for a rule to report in it (the bytes screen)."""
        names = {c.rsplit(".", 1)[-1] for spec in self.clients for c in spec.constructors}
        return tuple(sorted({n.encode() for n in names if "*" not in n} | {m.encode() for m in self.transaction_methods}
                            | {m.encode() for m in self.release_methods}))


@functools.lru_cache(maxsize=1)
def javascript_catalog() -> JavascriptCatalog:
    sections = load_javascript_catalog()
    return JavascriptCatalog(sections["clients"], sections["transactions"], sections["external-calls"],
                             load_catalog().guards)
