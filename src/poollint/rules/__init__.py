"""Every rule, in code order.

The rule modules are imported on first use of ALL_RULES (PEP 562): the Python
rules need libcst, and a run over files that mention no database library (or over
configuration files only) should not pay for importing it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poollint.rules.base import FileRule, Rule
    from poollint.rules.configuration import ConfigRule


def _all_rules() -> tuple[type["Rule"], ...]:
    from poollint.rules.configuration import (
        ConnectionBudgetExceeded,
        DeprecatedScheme,
        DirectUrlThroughPooler,
        HardcodedUrlInSchema,
        InvalidPoolParameter,
        MissingDirectUrl,
        PgbouncerStatementMode,
        PoolerWithoutPgbouncerMode,
        ServerlessUnboundedPool,
        UnparsableUrl,
    )
    from poollint.rules.creation import ClientInLoop, ClientPerCall, DuplicateModuleClients, RerunScopeClient
    from poollint.rules.holding import (
        ExternalCallInTransaction,
        ExternalCallWhileHoldingConnection,
        OuterClientInTransaction,
        TaskPublishedInTransaction,
    )
    from poollint.rules.meta import NotAnalyzable
    from poollint.rules.release import (
        CheckoutNotReleased,
        ConnectionLeftToDeallocation,
        DisconnectNotExceptionSafe,
        FixtureWithoutTeardown,
        ScriptNeverDisconnects,
    )

    return (
        NotAnalyzable,
        ClientPerCall,
        ClientInLoop,
        DuplicateModuleClients,
        RerunScopeClient,
        ExternalCallInTransaction,
        ExternalCallWhileHoldingConnection,
        TaskPublishedInTransaction,
        OuterClientInTransaction,
        ScriptNeverDisconnects,
        DisconnectNotExceptionSafe,
        FixtureWithoutTeardown,
        CheckoutNotReleased,
        ConnectionLeftToDeallocation,
        UnparsableUrl,
        PoolerWithoutPgbouncerMode,
        MissingDirectUrl,
        DirectUrlThroughPooler,
        ServerlessUnboundedPool,
        InvalidPoolParameter,
        ConnectionBudgetExceeded,
        DeprecatedScheme,
        PgbouncerStatementMode,
        HardcodedUrlInSchema,
    )


_CACHE: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name == "ALL_RULES":
        if name not in _CACHE:
            _CACHE[name] = _all_rules()
        return _CACHE[name]
    if name == "RULES_BY_CODE":
        return {rule.code: rule for rule in __getattr__("ALL_RULES")}
    raise AttributeError(name)


def file_rules() -> tuple[type["FileRule"], ...]:
    from poollint.rules.base import FileRule

    return tuple(rule for rule in __getattr__("ALL_RULES") if issubclass(rule, FileRule))


def config_rules() -> tuple[type["ConfigRule"], ...]:
    """The configuration rules alone, without importing the libcst-based ones."""
    from poollint.rules import configuration

    rules = [
        value for value in vars(configuration).values()
        if isinstance(value, type) and issubclass(value, configuration.ConfigRule)
        and value is not configuration.ConfigRule and hasattr(value, "code")
    ]
    return tuple(sorted(rules, key=lambda rule: rule.code))
