"""Every rule, in code order."""
from __future__ import annotations

from poollint.rules.base import FileRule, Rule
from poollint.rules.configuration import (
    ConfigRule,
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
from poollint.rules.holding import ExternalCallInTransaction, ExternalCallWhileHoldingConnection
from poollint.rules.meta import NotAnalyzable
from poollint.rules.release import (
    CheckoutNotReleased,
    DisconnectNotExceptionSafe,
    FixtureWithoutTeardown,
    ScriptNeverDisconnects,
)

ALL_RULES: tuple[type[Rule], ...] = (
    NotAnalyzable,
    ClientPerCall,
    ClientInLoop,
    DuplicateModuleClients,
    RerunScopeClient,
    ExternalCallInTransaction,
    ExternalCallWhileHoldingConnection,
    ScriptNeverDisconnects,
    DisconnectNotExceptionSafe,
    FixtureWithoutTeardown,
    CheckoutNotReleased,
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

RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}


def file_rules() -> tuple[type[FileRule], ...]:
    return tuple(rule for rule in ALL_RULES if issubclass(rule, FileRule))


def config_rules() -> tuple[type[ConfigRule], ...]:
    return tuple(rule for rule in ALL_RULES if issubclass(rule, ConfigRule))
