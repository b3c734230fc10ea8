"""The parameters a web framework fills from a dependency: FastAPI's `Depends()` and `Security()`.

A request's dependencies run before its handler, each once per request (their values are cached
for the request unless `use_cache=False`), and a dependency that yields is closed after the response.
So `db: Session = Depends(get_db)` in a handler and in `get_current_user` is one session, opened
before the handler runs and given back after the response is sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

import libcst as cst

from poollint.pyast import ANNOTATED_TYPES

if TYPE_CHECKING:
    from poollint.python.cst.context import FileContext


@dataclass(frozen=True)
class Dependency:
    """A parameter filled from a dependency."""

    parameter: cst.CSTNode  # the parameter, or the decorator of a route that declares it (route_dependencies)
    provider: str  # what is called for it, qualified in the module that names it: `app.db.get_db`
    provider_display: str  # as written: `get_current_user`
    type: Optional[str]  # the parameter's type, qualified (`sqlalchemy.orm.Session`), when annotated
    context: "FileContext"  # the module that names the provider
    cached: bool  # one value per request (`use_cache=False` makes a new one)


def dependency_parameters(context: "FileContext", function: cst.FunctionDef) -> tuple[Dependency, ...]:
    """The parameters of `function` filled from a dependency: `user = Depends(get_current_user)`,
    `db: Session = Depends(get_db)`, `db: Annotated[Session, Depends(get_db)]`, or `db: SessionDep` of
    a module-level `SessionDep = Annotated[Session, Depends(get_db)]` here or in another project module
    (ProjectIndex.dependency_aliases). Read once per function: every holding rule asks, several times."""
    memo = context.__dict__.setdefault("_dependency_parameters", {})
    if id(function) not in memo:
        memo[id(function)] = tuple(_dependency_parameters(context, function))
    return memo[id(function)]


def _dependency_parameters(context: "FileContext", function: cst.FunctionDef) -> Iterator[Dependency]:
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        annotation = param.annotation.annotation if param.annotation is not None else None
        marker = _marker_call(context, param.default) if param.default is not None else None
        if marker is not None:
            found = _from_marker(context, param, marker, context.annotation_type(annotation) if annotation else None)
            if found is not None:
                yield found
            continue
        if annotation is None:
            continue
        found = _from_annotated(context, param, annotation)
        if found is None and isinstance(annotation, (cst.Name, cst.Attribute)):
            own = context.annotated_alias_of(annotation)
            if own is not None:
                found = _from_annotated(context, param, own)
            elif context.index is not None:  # another module's alias, as the index read it
                qualified = context.qualified_name(annotation)
                aliased = context.index.dependency_aliases.get(qualified or "")
                if aliased is not None:
                    provider, type_ = aliased
                    found = Dependency(param, provider, provider.rsplit(".", 1)[-1], type_ or None, context, True)
        if found is not None:
            yield found


def _marker_call(context: "FileContext", node: cst.BaseExpression) -> Optional[cst.Call]:
    markers = context.catalog.guards.dependency_markers
    if isinstance(node, cst.Call) and (context.qualified_name(node.func) or "") in markers:
        return node
    return None


def _from_marker(context: "FileContext", param: cst.CSTNode, marker: cst.Call,
                 type_: Optional[str]) -> Optional[Dependency]:
    provider = next((arg.value for arg in marker.args if arg.keyword is None and not arg.star), None)
    provider = provider or next((arg.value for arg in marker.args
                                 if arg.keyword is not None and arg.keyword.value == "dependency"), None)
    if provider is None:  # `Depends()`: the annotated class itself is called
        return None
    qualified = context.qualified_name(provider)
    if not qualified or "(" in qualified:
        return None
    cached = not any(arg.keyword is not None and arg.keyword.value == "use_cache"
                     and isinstance(arg.value, cst.Name) and arg.value.value == "False" for arg in marker.args)
    written = context.module.code_for_node(provider)
    return Dependency(param, qualified, written, type_, context, cached)


def _from_annotated(context: "FileContext", param: cst.Param, annotation: cst.BaseExpression) -> Optional[Dependency]:
    """`Annotated[Session, Depends(get_db)]`, read in `context`, the module that writes it."""
    if not isinstance(annotation, cst.Subscript) \
            or (context.qualified_name(annotation.value) or "") not in ANNOTATED_TYPES:
        return None
    elements = [element.slice.value for element in annotation.slice if isinstance(element.slice, cst.Index)]
    if len(elements) < 2:
        return None
    for extra in elements[1:]:
        marker = _marker_call(context, extra)
        if marker is not None:
            return _from_marker(context, param, marker, context.annotation_type(elements[0]))
    return None


def route_dependencies(context: "FileContext", function: cst.FunctionDef) -> Iterator[Dependency]:
    """The dependencies a route declares without a parameter, which run before its handler all the same:
    the decorator's `dependencies=[Depends(get_current_user)]`, and those of the router it is declared on
    when this module builds it (`router = APIRouter(dependencies=[Depends(require_user)])`, `@router.get(...)`).
    Each is given as a Dependency whose `parameter` is the decorator."""
    for decorator in function.decorators:
        call = decorator.decorator
        if not isinstance(call, cst.Call):
            continue
        yield from _listed_dependencies(context, decorator, call)
        router = call.func.value if isinstance(call.func, cst.Attribute) else None
        if isinstance(router, cst.Name):
            built = module_routers(context).get(router.value)
            if built is not None:
                yield from _listed_dependencies(context, decorator, built)


def _listed_dependencies(context: "FileContext", where: cst.CSTNode, call: cst.Call) -> Iterator[Dependency]:
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value != "dependencies" \
                or not isinstance(arg.value, (cst.List, cst.Tuple)):
            continue
        for element in arg.value.elements:
            marker = _marker_call(context, element.value)
            found = _from_marker(context, where, marker, None) if marker is not None else None  # type: ignore[arg-type]
            if found is not None:
                yield found


def module_routers(context: "FileContext") -> dict[str, cst.Call]:
    """Module-level `name = SomeRouter(..., dependencies=[...])` of this module, by name."""
    found = context.__dict__.get("_routers_with_dependencies")
    if found is None:
        found = {}
        for statement in context.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                target = small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 else None
                if isinstance(target, cst.Name) and isinstance(small.value, cst.Call) and any(
                        arg.keyword is not None and arg.keyword.value == "dependencies" for arg in small.value.args):
                    found[target.value] = small.value
        context.__dict__["_routers_with_dependencies"] = found
    return found
