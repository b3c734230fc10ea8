"""DBP2xx: a request's session that the handler's dependencies leave in a transaction.

FastAPI runs a handler's dependencies before its body, once each per request, and hands the same
session to all of them (`db: Session = Depends(get_db)` in the handler and in `get_current_user`
is one object). A dependency that queries the session and neither commits nor closes it
(`get_current_user` loading the user) leaves its transaction open: the handler starts with a
pooled connection checked out, and keeps it until it commits the session itself or the response
is sent and `get_db` closes it. The holding rules (rules/holding.py) judge the handler's calls
against that transaction like one the handler began.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from poollint.catalog.model import ImplicitTransactionSpec
from poollint.python.cst.depends import Dependency, dependency_parameters, route_dependencies
from poollint.python.cst.modules import project_class, project_function
from poollint.python.cst.walk import walk as cst_walk

if TYPE_CHECKING:
    from poollint.python.cst.context import FileContext

# How many dependencies of dependencies are read (`handler` -> `authorize` -> `get_current_user`).
MAX_DEPENDENCY_DEPTH = 3


@dataclass(frozen=True)
class OpenedByDependency:
    """A request's session whose transaction a dependency leaves open when the handler starts."""

    provider: str  # what gives the session, qualified: `app.db.get_db`
    spec: ImplicitTransactionSpec
    # the handler's parameter that brings it (`user = Depends(get_current_user)`), or its route's decorator
    parameter: cst.CSTNode
    display: str  # that dependency as written: `get_current_user`
    begun_in: tuple[str, cst.CSTNode, "FileContext"]  # the function that queries it, its name node, its module


class RequestSessions:
    """Mixed into the holding rules (rules/holding.py), whose `_in_context`, `_parameter_effect` and
    `_implicit_end_methods` it uses: what a function's dependencies leave open (see the module)."""

    def opened_by_dependencies(self, function: cst.FunctionDef) -> list[OpenedByDependency]:
        """The request's sessions that `function`'s dependencies leave in a transaction when its body
        starts: one a dependency (or a dependency of it, three deep) queries and neither commits, rolls
        back nor closes. None when a dependency of the handler that takes the same session is an object
        that may end it (a service built on the session whose class commits somewhere): which comes
        first is not known."""
        index = self.context.index
        if index is None or self.context.is_test_file or not index.request_session_dependencies(self.catalog):
            return []
        found: list[OpenedByDependency] = []
        for dependency in (*dependency_parameters(self.context, function), *route_dependencies(self.context, function)):
            if self.catalog.implicit_transaction(dependency.type) is not None:
                continue  # the handler's own session: its body is walked by the rule
            for provider, (spec, begun_in) in self._left_open_by(dependency, 1).items():
                found.append(OpenedByDependency(provider, spec, dependency.parameter, dependency.provider_display,
                                                begun_in))
        shared = self._shared_by_objects(function, self.context, 1)
        return [opened for opened in found if opened.provider not in shared]

    def _left_open_by(self, dependency: Dependency, depth: int) -> dict[str, tuple[ImplicitTransactionSpec, tuple]]:
        """What the project function a dependency calls leaves open: provider -> (spec, where it queries)."""
        if depth > MAX_DEPENDENCY_DEPTH or not dependency.cached:
            return {}
        found = project_function(dependency.context, dependency.provider, self.settings)
        if found is None:
            return {}
        function, context = found
        # Keyed by depth too: an answer computed near the depth bound stops following sub-dependencies
        # sooner, so it is not the answer for the same function reached from the handler.
        memo = context.__dict__.setdefault("_dependency_sessions", {})
        key = (id(function), depth)
        if key not in memo:
            memo[key] = {}  # a cycle ends here
            memo[key] = self._in_context(context, lambda: self._judge_dependency(function, context, depth))
        return memo[key]

    def _judge_dependency(self, function: cst.FunctionDef, context: "FileContext",
                          depth: int) -> dict[str, tuple[ImplicitTransactionSpec, tuple]]:
        if any(isinstance(node, (cst.Yield,)) for node in cst_walk(function.body)):
            return {}  # a dependency that yields runs its end after the response: not judged
        opened: dict[str, tuple[ImplicitTransactionSpec, tuple]] = {}
        dependencies = list(dependency_parameters(context, function))
        for dependency in dependencies:  # its own dependencies run first
            if self.catalog.implicit_transaction(dependency.type) is None:
                opened.update(self._left_open_by(dependency, depth + 1))
        for dependency in dependencies:
            spec = self.catalog.implicit_transaction(dependency.type)
            if spec is None or not dependency.cached:
                continue
            # a call chain of its own: the dependency depth does not shorten how far its hand-offs are followed
            effect = self._parameter_effect(function, context, dependency.parameter.name.value, spec, 0)
            if effect in ("begin", "restart"):  # left in a transaction (a commit, then a `refresh()`)
                opened.setdefault(dependency.provider, (spec, (function.name.value, function.name, context)))
            elif effect is not None:  # ends it, or hands it where it cannot be followed
                opened.pop(dependency.provider, None)
        for provider in self._shared_by_objects(function, context, depth + 1):
            opened.pop(provider, None)
        return opened

    def _shared_by_objects(self, function: cst.FunctionDef, context: "FileContext", depth: int) -> frozenset[str]:
        """The request's sessions that another of `function`'s dependencies builds an object on (`service =
        Depends(get_item_service)` of `get_item_service(db: Session = Depends(get_db))`), where that
        object may end them: its parameter is not annotated with a project class, or the class calls a
        session's end method (`commit`, `rollback`, `close`) anywhere. `depth` is that of `function`'s own
        dependencies, so a dependency is judged here as it is where its sessions are collected."""
        index = self.context.index
        taking = index.request_session_dependencies(self.catalog) if index is not None else frozenset()
        shared: set[str] = set()
        for dependency in dependency_parameters(context, function):
            if self.catalog.implicit_transaction(dependency.type) is not None or dependency.provider not in taking:
                continue
            if self._left_open_by(dependency, depth):
                continue  # one that leaves it open is judged as such
            annotation = dependency.parameter.annotation
            klass = project_class(context, context.annotation_type(annotation.annotation) or "", self.settings) \
                if annotation is not None else None
            if klass is None or self._may_end_sessions(klass[0]):
                shared |= self._providers_taken_by(dependency, 1)
        return frozenset(shared)

    def _providers_taken_by(self, dependency: Dependency, depth: int) -> set[str]:
        """The sessions a dependency's function takes, through its own dependencies too."""
        if depth > MAX_DEPENDENCY_DEPTH:
            return set()
        found = project_function(dependency.context, dependency.provider, self.settings)
        if found is None:
            return set()
        function, context = found
        taken: set[str] = set()
        for inner in dependency_parameters(context, function):
            if self.catalog.implicit_transaction(inner.type) is not None:
                taken.add(inner.provider)
            else:
                taken |= self._providers_taken_by(inner, depth + 1)
        return taken

    def _may_end_sessions(self, klass: cst.ClassDef) -> bool:
        ends = self._implicit_end_methods()
        return any(isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ends
                   for node in cst_walk(klass))
