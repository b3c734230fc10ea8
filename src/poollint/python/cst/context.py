"""One pass over a libcst module that tracks imports, bindings and enclosing scopes.

Rules ask this context for qualified names instead of running libcst's
ScopeProvider/QualifiedNameProvider, which cost several times the parse itself.
A name's qualified name is where its value came from: an import
(`sa.create_engine` -> `sqlalchemy.create_engine`) or, for a local variable,
the call that built it followed by `()` (`engine.connect` ->
`sqlalchemy.create_engine().connect`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Sequence, Union

import libcst as cst

from poollint.catalog.model import Catalog, ClientSpec
from poollint.pyast import ANNOTATED_TYPES, GENERATOR_TYPES, NEXT_NAMES, called_for
from poollint.python.cst.positions import ModulePositions, module_positions
from poollint.python.cst.walk import visit as cst_visit
from poollint.paths import is_test_path
from poollint.python.names import Importer, ImportStatement, resolve_import
from poollint.settings import Settings

if TYPE_CHECKING:
    from poollint.python.project import ProjectIndex

FunctionNode = Union[cst.FunctionDef, cst.Lambda]
LOOP_TYPES = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def expression_root(node: cst.BaseExpression) -> cst.BaseExpression:
    """What an attribute, subscript or call chain starts from: `db` in `db.session.query(...)[0]`."""
    while isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node


def built_value(node: cst.BaseExpression) -> cst.BaseExpression:
    """What an assigned value is built by: the call branch of a conditional whose other branch is None
    (`OpenAI(api_key=key) if key else None`: where the name is used, it is that client or nothing);
    else the value itself. The `ast` readers' counterpart is pyast.built_by."""
    if isinstance(node, cst.IfExp):
        for built, other in ((node.body, node.orelse), (node.orelse, node.body)):
            if isinstance(built, (cst.Call, cst.Await)) and isinstance(other, cst.Name) and other.value == "None":
                return built
    return node


def positional_arguments(call: cst.Call) -> list[cst.Arg]:
    """The call's arguments given by position, without `*args` and `**kwargs`."""
    return [arg for arg in call.args if arg.keyword is None and not arg.star]


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` for a chain of names and attributes, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def module_name_of(node: Union[cst.Attribute, cst.Name, None]) -> str:
    return dotted_name(node) or "" if node is not None else ""


def cst_import(node: Union[cst.Import, cst.ImportFrom]) -> ImportStatement:
    """The statement as python/names.py reads it (ast_import's twin for libcst's tree)."""
    if isinstance(node.names, cst.ImportStar):
        names: tuple[tuple[str, Optional[str]], ...] = (("*", None),)
    else:
        names = tuple((module_name_of(alias.name),
                       alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                       else None) for alias in node.names)
    if isinstance(node, cst.Import):
        return ImportStatement(names)
    return ImportStatement(names, module_name_of(node.module), len(node.relative))


@dataclass
class Frame:
    """An enclosing construct the traversal is inside."""

    node: cst.CSTNode
    bindings: dict[str, str] = field(default_factory=dict)  # only on function and module frames

    @property
    def is_function(self) -> bool:
        return isinstance(self.node, (cst.FunctionDef, cst.Lambda))

    @property
    def is_loop(self) -> bool:
        return isinstance(self.node, LOOP_TYPES)


def _concrete_subclasses(base: type) -> frozenset[type]:
    found: set[type] = set()
    stack = [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            found.add(sub)
    return frozenset(c for c in found | {base} if not getattr(c, "__abstractmethods__", None))


_SMALL_STATEMENTS = _concrete_subclasses(cst.BaseSmallStatement)
_FUNCTION_TYPES = frozenset({cst.FunctionDef, cst.Lambda})
_FRAME_TYPES = frozenset({cst.ClassDef, *LOOP_TYPES, cst.With, cst.Try, cst.If})
_INTERESTING = _SMALL_STATEMENTS | _FUNCTION_TYPES | _FRAME_TYPES


class FileContext:
    """What every rule of one file shares: source, catalog, settings and the scope stack."""

    def __init__(self, path: Path, display_path: str, source: str, module: cst.Module,
                 settings: Settings, module_name: str = "", index: Optional["ProjectIndex"] = None) -> None:
        self.path = path
        self.display_path = display_path
        self.source = source
        self.module = module
        self.settings = settings
        self.catalog: Catalog = settings.catalog
        self.module_name = module_name
        self.index = index  # pass one's facts about the other modules of the project, when known
        self.imports: dict[str, str] = {}
        self.star_imports: list[str] = []  # modules whose names `from x import *` brings in
        self.frames: list[Frame] = [Frame(module)]
        self.module_functions: dict[str, cst.FunctionDef] = {}
        self.module_classes: dict[str, cst.ClassDef] = {}
        self.main_guard_calls: set[str] = set()
        self.module_strings: dict[str, str] = {}  # `DATABASE_URL = "sqlite:///app.db"`: module constants
        self.module_calls: dict[str, cst.Call] = {}  # `router = APIRouter(prefix="/health")`: what built a module name
        # `SessionDep = Annotated[Session, Depends(get_db)]`: module-level aliases of an annotated type
        self.annotated_aliases: dict[str, cst.Subscript] = {}
        self.current_statement: Optional[cst.CSTNode] = None
        self.is_test_file = is_test_path(path)
        self._instance_origins: dict[int, dict[str, str]] = {}
        self._scan_module_level()

    # -- module-level facts known before the traversal --------------------------------------
    def _scan_module_level(self) -> None:
        for statement in _flatten(self.module.body):
            if isinstance(statement, cst.FunctionDef):
                self.module_functions[statement.name.value] = statement
            elif isinstance(statement, cst.ClassDef):
                self.module_classes[statement.name.value] = statement
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self.record_import(small)
                    elif isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                        prefix = literal_prefix(small.value)
                        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                        for target in targets:
                            if isinstance(target, cst.Name) and prefix is not None:
                                self.module_strings[target.value] = prefix
                            if isinstance(target, cst.Name) and isinstance(small.value, cst.Call):
                                self.module_calls[target.value] = small.value
                            if isinstance(target, cst.Name) and isinstance(small.value, cst.Subscript) \
                                    and dotted_name(small.value.value) in ANNOTATED_TYPES | {"Annotated"}:
                                self.annotated_aliases[target.value] = small.value
                    elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                        # asyncio.run(main()) at module level marks main() as the script's entry point,
                        # also under a module-level `if`/`else` (alembic's env.py: `if
                        # context.is_offline_mode(): ... else: run_migrations_online()`)
                        self.main_guard_calls.update(_called_names(small))
            elif isinstance(statement, cst.If) and is_main_guard(statement.test):
                self.main_guard_calls.update(_called_names(statement))

    def _importer(self) -> Importer:
        """Who this module's imports are resolved for: its name, whether it is a package, the source roots."""
        return Importer(self.module_name, self.path.name == "__init__.py",
                        self.index.source_roots if self.index is not None else ())

    def record_import(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        imported = resolve_import(cst_import(node), self._importer())
        self.imports.update(imported.bindings)
        if imported.star_from is not None:
            self.star_imports.append(imported.star_from)

    # -- traversal hooks --------------------------------------------------------------------
    def enter(self, node: cst.CSTNode) -> None:
        # Called for every node: exact-type set lookups, because isinstance() against
        # libcst's abstract base classes goes through ABC machinery and dominated profiles.
        kind = type(node)
        if kind not in _INTERESTING:
            return
        if kind in _SMALL_STATEMENTS:
            self.current_statement = node
        if kind in _FUNCTION_TYPES:
            frame = Frame(node)
            self.frames.append(frame)
            self._bind_parameters(node, frame)  # type: ignore[arg-type]
            return
        if kind in _FRAME_TYPES:
            self.frames.append(Frame(node))
        if kind is cst.Import or kind is cst.ImportFrom:
            if len(self.frames) > 1:
                self.record_import(node)  # type: ignore[arg-type]
        elif kind is cst.Assign:
            origin = self.origin(node.value)  # type: ignore[attr-defined]
            if origin:
                for target in node.targets:  # type: ignore[attr-defined]
                    self._bind(target.target, origin)
        elif kind is cst.AnnAssign:
            if node.value is not None:  # type: ignore[attr-defined]
                # what the value was built by; else, for a value that could be anything (a call, a name),
                # what the annotation says, as for a parameter
                origin = self.origin(node.value) or (  # type: ignore[attr-defined]
                    self._annotated(node.annotation) if isinstance(node.value, _OPAQUE_VALUES) else None)  # type: ignore[attr-defined]
                if origin:
                    self._bind(node.target, origin)  # type: ignore[attr-defined]
        elif kind is cst.With:
            for item in node.items:  # type: ignore[attr-defined]
                if item.asname is not None:
                    origin = self.entered_origin(item.item)
                    if origin:
                        self._bind(item.asname.name, origin)

    def leave(self, node: cst.CSTNode) -> None:
        if len(self.frames) > 1 and self.frames[-1].node is node:
            self.frames.pop()

    def _bind(self, target: cst.BaseExpression, origin: str) -> None:
        if isinstance(target, cst.Name):
            self.binding_frame().bindings[target.value] = origin

    def _bind_parameters(self, node: FunctionNode, frame: Frame) -> None:
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            annotation = self._annotated(param.annotation)
            if annotation:
                frame.bindings[param.name.value] = annotation

    def _annotated(self, annotation: Optional[cst.Annotation]) -> Optional[str]:
        """An object of the annotation's type (`session: Session` -> `sqlalchemy.orm.Session()`)."""
        if not isinstance(annotation, cst.Annotation):
            return None
        hint = annotation.annotation
        if isinstance(hint, cst.Subscript) and self.qualified_name(hint.value) in _CALLABLE_TYPES:
            # `make_session: Callable[[], Generator[Session, None, None]]`: calling it gives an object of that type
            elements = _subscript_elements(hint)
            return self._type_of(elements[1]) if len(elements) == 2 else None
        qualified = self._type_of(hint)
        return qualified + "()" if qualified else None

    def annotation_type(self, annotation: cst.BaseExpression) -> Optional[str]:
        """The type an annotation names, qualified (`sqlalchemy.orm.Session` of `Session`,
        `Optional[Session]`, `Annotated[Session, Depends(get_db)]`, or an alias of the last)."""
        return self._type_of(annotation)

    def _type_of(self, annotation: cst.BaseExpression) -> Optional[str]:
        """The type an annotation names; a generator of a type the rules follow is `typing.Generator[<type>]`
        (what `next()` of it gives: `_yielded_by`). `Annotated[T, ...]` is `T`, also through a module-level
        alias of one (`SessionDep = Annotated[Session, Depends(get_db)]`, this module's, or another's that
        gives a parameter a dependency: ProjectIndex.dependency_aliases)."""
        annotation = _without_none(_unquoted(annotation))
        if not isinstance(annotation, cst.Subscript):
            alias = self.annotated_alias_of(annotation)
            if alias is not None:
                return self._type_of(alias)
            qualified = self.qualified_name(annotation)
            aliased = self.index.dependency_aliases.get(qualified or "") if self.index is not None else None
            if aliased is not None:  # another module's (ProjectIndex.dependency_aliases)
                return self._implementation(aliased[1]) if aliased[1] else None
            return self._implementation(qualified)
        elements = _subscript_elements(annotation)
        if self.qualified_name(annotation.value) in ANNOTATED_TYPES and elements:
            return self._type_of(elements[0])
        if self.qualified_name(annotation.value) in _OPTIONAL_TYPES and elements:
            # `Optional[Archiver]`, `Union[Archiver, None]`: an object of that type when there is one
            rest = [e for e in elements if not (isinstance(e, cst.Name) and e.value == "None")]
            return self._type_of(rest[0]) if len(rest) == 1 else None
        if self.qualified_name(annotation.value) in GENERATOR_TYPES and elements:
            yielded = self.qualified_name(elements[0])
            return f"{_GENERATOR_OF}[{yielded}]" if yielded and self.catalog.follows_objects_of(yielded) else None
        return None

    def annotated_alias_of(self, annotation: cst.BaseExpression) -> Optional[cst.Subscript]:
        """The `Annotated[...]` an annotation names by an alias this module defines (`SessionDep`)."""
        if isinstance(annotation, cst.Name) and annotation.value in self.annotated_aliases \
                and self.frame_binding(annotation.value) is None and annotation.value not in self.imports:
            return self.annotated_aliases[annotation.value]
        return None

    def _implementation(self, qualified: Optional[str]) -> Optional[str]:
        """The project class an object of type `qualified` is: the sole implementation of an interface
        (ProjectIndex.sole_implementation), or the type itself."""
        if self.index is None or not qualified:
            return qualified
        return self.index.sole_implementation(qualified) or qualified

    # -- questions --------------------------------------------------------------------------
    def binding_frame(self) -> Frame:
        for frame in reversed(self.frames):
            if frame.is_function or frame.node is self.module:
                return frame
        return self.frames[0]

    def frame_binding(self, name: str) -> Optional[Frame]:
        """The innermost frame where `name` is bound here: what rules key their memory of a binding by."""
        return next((f for f in reversed(self.frames) if name in f.bindings), None)

    def lookup(self, name: str) -> Optional[str]:
        for frame in reversed(self.frames):
            if name in frame.bindings:
                return frame.bindings[name]
        if name in self.imports:
            imported = self.imports[name]
            return self._object_origin(imported) or self._instance_of(imported) or imported
        if name in self.module_functions or name in self.module_classes:
            return self.module_qualified(name)
        # a module-scope object the walk has not bound (yet): a function of another module the rules follow
        # into, or one defined above `client = OpenAI()`, uses it when called, after the module has run
        origin = self._object_origin(self.module_qualified(name)) if name not in _BUILTINS else None
        return origin or _BUILTINS.get(name)

    def _object_origin(self, qualified_name: str) -> Optional[str]:
        """What another module's module-scope object was built by (`app.db.engine` -> `sqlalchemy.create_engine()`):
        an imported client is the client its module built, for every rule."""
        return self.index.object_origin(qualified_name) if self.index is not None else None

    def _instance_of(self, qualified_name: str) -> Optional[str]:
        """The project class call another module's module-scope object was built by (`app.services.llm` ->
        `app.services.LLMService()`), as this module's own `llm = LLMService()` is bound."""
        return self.index.instance_of(qualified_name) if self.index is not None else None

    def module_qualified(self, name: str) -> str:
        return f"{self.module_name}.{name}" if self.module_name else name

    def pool_built_by(self, node: cst.Call) -> Optional[ClientSpec]:
        """The pool-owning client `node` builds, or None: not a catalog constructor, or one that owns no
        server connections here (`poolclass=NullPool`; an SQLite URL as a literal, an f-string, a
        `.format()`/`+`/`%` template or a module constant)."""
        constructor = self.qualified_name(node.func)
        spec = self.catalog.client_for(constructor)
        if spec is None or not spec.owns_pool:
            return None  # most calls: their arguments need not be resolved (the URL's walks a whole function)
        keywords = [(arg.keyword.value, self.qualified_name(arg.value)) for arg in node.args if arg.keyword is not None]
        # the keys of a dict literal passed by keyword, as `connect_args.check_same_thread`
        keywords += [(f"{arg.keyword.value}.{element.key.evaluated_value}", None)
                     for arg in node.args if arg.keyword is not None and isinstance(arg.value, cst.Dict)
                     for element in arg.value.elements
                     if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString)]
        # `create_engine(url, **engine_kwargs)`: the keys the module ever sets on that mapping may be passed
        keywords += [(key, self.qualified_name(value)) for arg in node.args
                     if arg.star == "**" and isinstance(arg.value, cst.Name)
                     for key, value in self.mapping_keys().get(arg.value.value, ())]
        return self.catalog.pool_client(constructor, keywords, self.url_prefix(node))

    def mapping_keys(self) -> dict[str, list[tuple[str, cst.BaseExpression]]]:
        """For each name, the string keys the module sets on the mapping it names, with their values
        (`kwargs["poolclass"] = NullPool`, a dict literal or `dict(...)` assigned to it, `.update(...)`,
        `.setdefault(...)`). The `ast` twin is python/facts.py's `_ModuleReader._mapping_keys`."""
        if "_mapping_keys" not in self.__dict__:
            collector = _MappingKeys()
            cst_visit(self.module, collector)
            self.__dict__["_mapping_keys"] = collector.found
        return self.__dict__["_mapping_keys"]

    def url_prefix(self, node: cst.Call) -> Optional[str]:
        """The known start of a constructor's first positional argument, a URL: a literal, the literal
        part of an f-string or template, or a module constant's value."""
        if not node.args or node.args[0].keyword is not None:
            return None
        first = node.args[0].value
        prefix = literal_prefix(first)
        if prefix is None and isinstance(first, cst.Name) and self.lookup(first.value) is None:
            # `url = f"sqlite:///{path}"; create_engine(url)`, or a module constant `create_engine(DATABASE_URL)`
            prefix = self._local_string(first.value)
            if prefix is None:
                prefix = self.module_strings.get(first.value)
        return prefix

    def _local_string(self, name: str) -> Optional[str]:
        """The known start of the one string the innermost function binds to `name` in its own statements,
        when it binds nothing else to it and takes no parameter of that name; None otherwise."""
        frame = self.enclosing_function()
        if frame is None or not isinstance(frame.node, cst.FunctionDef):
            return None
        function = frame.node
        parameters = function.params
        if any(param.name.value == name for param in (*parameters.posonly_params, *parameters.params,
                                                      *parameters.kwonly_params)) \
                or any(isinstance(star, cst.Param) and star.name.value == name
                       for star in (parameters.star_arg, parameters.star_kwarg)):
            return None
        if assigned_names(function.body).count(name) != 1:  # a loop, a `with ... as`, a second assignment
            return None
        value = next((small.value for small in _own_small_statements(function)
                      if isinstance(small, (cst.Assign, cst.AnnAssign)) and name in assigned_names(small)), None)
        return literal_prefix(value) if value is not None else None

    def qualified_name(self, node: cst.BaseExpression) -> Optional[str]:
        """Where an expression's value comes from, as a dotted path; None if unknown."""
        if isinstance(node, cst.Name):
            return self.lookup(node.value)
        if isinstance(node, cst.Attribute):
            if isinstance(node.value, cst.Name) and node.value.value == "self":
                kept = self.instance_origin(node.attr.value)
                if kept is not None:
                    return kept  # `self.Session` bound in `__init__` to `sessionmaker(...)`
            base = self.qualified_name(node.value)
            if not base:
                return None
            dotted = f"{base}.{node.attr.value}"
            if "(" in base:
                return dotted
            # `db.engine` of `from app import db`; `services.llm` of `from app import services`
            return self._object_origin(dotted) or self._instance_of(dotted) or dotted
        if isinstance(node, cst.Call):
            base = self.qualified_name(node.func)
            if base in NEXT_BUILTINS:
                return self._yielded_by(node)
            if base is None or base == self.module_qualified(dotted_name(node.func) or ""):
                returned = self._returned_client(node.func)
                if returned is not None:
                    return returned  # `s3 = self._get_s3_client()` of a lazy getter: `boto3.client()`
            if base and base.endswith("()") and self.index is not None:
                called = self.index.call_result(base[:-2])
                if called is not None:  # `self._uow()` of a factory object whose `__call__` builds a unit of work
                    return f"{self._implementation(called)}()"
            return f"{base}()" if base else None
        if isinstance(node, cst.Await):
            return self.qualified_name(node.expression)
        return None

    def _returned_client(self, func: cst.BaseExpression) -> Optional[str]:
        """What a call of this module's function or of the enclosing class's own method gives, when it is
        an external client (catalog `external-calls` clients): a lazy getter of a collaborator."""
        owner: Optional[cst.ClassDef] = None
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            owner = self.enclosing_class()
            function = next((s for s in owner.body.body if isinstance(s, cst.FunctionDef)
                             and s.name.value == func.attr.value), None) if owner is not None else None
        elif isinstance(func, cst.Name) and self.frame_binding(func.value) is None:
            function = self.module_functions.get(func.value)
        else:
            return None
        return self.returned_external_client(function, owner) if function is not None else None

    def is_external_client(self, origin: Optional[str]) -> bool:
        """Whether `origin` is an object an external client of the catalog builds (`openai.OpenAI()`)."""
        return origin is not None and origin.endswith("()") and self.catalog.external_client(origin[:-2]) is not None

    def returned_external_client(self, function: cst.FunctionDef, owner: Optional[cst.ClassDef]) -> Optional[str]:
        """`boto3.client()` when what `function` returns is an object of an external client (`return
        boto3.client("s3")`, `client = OpenAI(); return client`, `return self._s3` where the class only
        ever keeps `boto3.client(...)` there, lazily or in `__init__`): the same one for every return
        that says, imports inside the function included. None otherwise."""
        memo = self.__dict__.setdefault("_returned_clients", {})
        if function in memo:
            return memo[function]
        memo[function] = None  # a cycle decides nothing
        returned = [small.value for small in _own_small_statements(function)
                    if isinstance(small, cst.Return) and small.value is not None]
        on_self = [value for value in returned if owner is not None and isinstance(value, cst.Attribute)
                   and isinstance(value.value, cst.Name) and value.value.value == "self"]
        kept = [value.attr.value for value in on_self if isinstance(value, cst.Attribute)]
        others = [value for value in returned if not any(value is kept_value for kept_value in on_self)]
        origins: set[str] = {origin for attribute in kept for origin in self._kept_on_self(owner, attribute)}
        if others:
            origins.update(self._in_scope_of(function, lambda: {self.qualified_name(value) or "" for value in others}))
        origins.discard("")
        clients = {o for o in origins if self.is_external_client(o)}
        # one client, or one of several of the same kind by branch (`Ollama(...)` or `OpenAILike(...)`)
        kinds = {id(self.catalog.external_client(o[:-2])) for o in clients}
        answer = min(clients) if clients and clients == origins and len(kinds) == 1 else None
        memo[function] = answer
        return answer

    def returned_instance(self, function: cst.FunctionDef) -> Optional[str]:
        """The class (qualified as this module names it) every `return` of a module function gives an
        object of, when the function has no return annotation to say so: `return LLMService()`,
        `service = LLMService(); return service`, or `return _service` of a module name that is only ever
        `None` or `LLMService(...)` (a lazy singleton: `global _service; if _service is None: _service =
        LLMService()`). `return` and `return None` say nothing. None when the returns disagree or one is
        anything else; whether the class is the project's is the caller's to ask."""
        memo = self.__dict__.setdefault("_returned_instances", {})
        if function in memo:
            return memo[function]
        memo[function] = None  # a cycle decides nothing
        smalls = list(_own_small_statements(function))
        returned = [small.value for small in smalls if isinstance(small, cst.Return) and small.value is not None
                    and not (isinstance(small.value, cst.Name) and small.value.value == "None")]
        declared = {n.name.value for small in smalls if isinstance(small, cst.Global) for n in small.names}
        assigned_here = {t.target.value for small in smalls if isinstance(small, cst.Assign)
                         for t in small.targets if isinstance(t.target, cst.Name)}
        parameters = {param.name.value for param in (*function.params.params, *function.params.kwonly_params,
                                                     *function.params.posonly_params)}
        classes: set[Optional[str]] = set()
        for value in returned:
            if isinstance(value, cst.Name) and (value.value in declared or (
                    value.value not in assigned_here | parameters and value.value not in self.module_functions)):
                classes.add(self._module_global_builds().get(value.value))  # the module's name
                continue
            classes.add(called_for(self._in_scope_of(function, lambda: self.qualified_name(built_value(value)))))
        answer = classes.pop() if len(classes) == 1 else None
        memo[function] = answer
        return answer

    def _module_global_builds(self) -> dict[str, str]:
        """Module names assigned nothing but `None` and calls of one callable, at module level or in module
        functions that declare them `global`: name -> what the calls build (`app.llm.LLMService`)."""
        if "_global_builds" in self.__dict__:
            return self.__dict__["_global_builds"]
        builds: dict[str, set[str]] = {}
        spoiled: set[str] = set()

        def assigned(name: str, value: cst.BaseExpression) -> None:
            if isinstance(value, cst.Name) and value.value == "None":
                return
            built = called_for(self.qualified_name(value)) if isinstance(value, (cst.Call, cst.Await)) else None
            if built is not None:
                builds.setdefault(name, set()).add(built)
            else:
                spoiled.add(name)

        def assignments(smalls: Sequence[cst.BaseSmallStatement], names: Optional[set[str]]):
            for small in smalls:
                if isinstance(small, cst.Assign):
                    targets, value = [t.target for t in small.targets], small.value
                elif isinstance(small, (cst.AnnAssign, cst.AugAssign)) and small.value is not None:
                    targets, value = [small.target], small.value
                else:
                    continue
                for target in targets:
                    if isinstance(target, cst.Name) and (names is None or target.value in names):
                        yield target.value, value
                    elif isinstance(target, (cst.Tuple, cst.List)):
                        spoiled.update(e.value.value for e in target.elements if isinstance(e.value, cst.Name))

        saved = self.frames
        self.frames = [saved[0]]  # the module's names only
        try:
            module_level = [small for statement in _flatten(self.module.body)
                            if isinstance(statement, cst.SimpleStatementLine) for small in statement.body]
            for name, value in assignments(module_level, None):
                assigned(name, value)
        finally:
            self.frames = saved
        for function in self.module_functions.values():
            smalls = list(_own_small_statements(function))
            declared = {n.name.value for small in smalls if isinstance(small, cst.Global) for n in small.names}
            if declared:
                self._in_scope_of(function, lambda: [assigned(name, value)
                                                     for name, value in assignments(smalls, declared)])
        answer = {name: next(iter(built)) for name, built in builds.items() if len(built) == 1 and name not in spoiled}
        self.__dict__["_global_builds"] = answer
        return answer

    def _kept_on_self(self, owner: cst.ClassDef, attribute: str) -> set[str]:
        """What the class's methods assign to `self.<attribute>` by a call, each in its method's scope."""
        found: set[str] = set()
        for method in owner.body.body:
            if not isinstance(method, cst.FunctionDef):
                continue
            for small in _own_small_statements(method):
                if isinstance(small, cst.Assign) and isinstance(small.value, (cst.Call, cst.Await)) and any(
                        isinstance(t.target, cst.Attribute) and isinstance(t.target.value, cst.Name)
                        and t.target.value.value == "self" and t.target.attr.value == attribute for t in small.targets):
                    value = small.value
                    origin = self._in_scope_of(method, lambda: self.qualified_name(value))
                    if origin:
                        found.add(origin)
        return found

    def imports_inside(self, function: cst.FunctionDef) -> dict[str, str]:
        """The names a function's own import statements bind (`from app.db import init_db` inside a
        lifespan hook, to dodge an import cycle), resolved as the module's are; not its nested functions'."""
        memo = self.__dict__.setdefault("_imports_inside", {})
        if id(function) not in memo:
            importer = self._importer()
            bindings: dict[str, str] = {}
            for small in _own_small_statements(function):
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    bindings.update(resolve_import(cst_import(small), importer).bindings)
            memo[id(function)] = (function, bindings)  # the node kept alive, so its id is not reused
        return memo[id(function)][1]

    def _in_scope_of(self, function: cst.FunctionDef, work):
        """`work()` with the names `function` binds to imports and calls (`import boto3` inside it,
        `client = OpenAI()`) bound, and the module's names, nothing else of the current scope."""
        frame = Frame(function, dict(self.imports_inside(function)))
        saved = self.frames
        self.frames = [saved[0], frame]
        try:
            for small in _own_small_statements(function):
                if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                        and isinstance(small.targets[0].target, cst.Name) \
                        and isinstance(small.value, (cst.Call, cst.Await)):
                    origin = self.qualified_name(small.value)
                    if origin:
                        frame.bindings[small.targets[0].target.value] = origin
            return work()
        finally:
            self.frames = saved

    def _yielded_by(self, node: cst.Call) -> Optional[str]:
        """`next(get_db())`, `await anext(provide_session())`, `next(session_gen)` of `session_gen =
        get_db()` or of a parameter annotated as such a generator (or as a callable returning one): an
        object of the type the generator yields (ProjectIndex.yielded_type, `_type_of`), or None."""
        if not node.args:
            return None
        generator = self.qualified_name(node.args[0].value)
        if not generator or not generator.endswith("()"):
            return None
        made_by = generator[:-2]
        if made_by.startswith(f"{_GENERATOR_OF}[") and made_by.endswith("]"):
            return made_by[len(_GENERATOR_OF) + 1:-1] + "()"
        yielded = self.index.yielded_type(made_by) if self.index is not None else None
        return f"{yielded}()" if yielded else None

    def instance_origin(self, attribute: str) -> Optional[str]:
        """What `self.<attribute>` holds in a method: the value the class's `__init__` keeps there, when
        it is one call or an annotated parameter (`self.Session = sessionmaker(bind=engine)`); None when
        it is kept from several values, or from a local name `__init__` computed."""
        owner = self.enclosing_class()
        return self.kept_on(owner, attribute) if owner is not None else None

    def kept_on(self, owner: cst.ClassDef, attribute: str) -> Optional[str]:
        """What `self.<attribute>` of an `owner` object holds: what its `__init__` keeps there; else, for an
        attribute that `__init__` leaves unset or `None` and another method sets on first use, the external
        client of the catalog that every such assignment builds (`self._client = AsyncGroq(...)` in a lazy
        getter): the methods that call it run after it was set."""
        kept = self.kept_by_init(owner).get(attribute)
        if kept is not None:
            return kept
        memo = self.__dict__.setdefault("_lazily_kept", {})
        key = (id(owner), attribute)
        if key not in memo:
            memo[key] = None  # a getter that reads the attribute decides nothing
            built = self._kept_on_self(owner, attribute)
            origin = next(iter(built)) if len(built) == 1 else None
            if self.is_external_client(origin):
                memo[key] = origin
        return memo[key]

    def kept_by_init(self, owner: cst.ClassDef) -> dict[str, str]:
        """What `owner`'s `__init__` keeps on each attribute of `self`, when one call or an annotated
        parameter (instance_origin, for any class of this module)."""
        known = self._instance_origins.get(id(owner))
        if known is None:
            known = self._instance_origins[id(owner)] = {}  # set first: origins below may ask again
            known.update(self._kept_by_init(owner))
        return known

    def _kept_by_init(self, owner: cst.ClassDef) -> dict[str, str]:
        init = next((s for s in owner.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)
        if init is None:
            return {}
        frame = Frame(init)
        self._bind_parameters(init, frame)
        saved = self.frames
        # `__init__`'s parameters and the module's names, nothing else; its class, for `self.get_llm()`
        self.frames = [saved[0], Frame(owner), frame]
        found: dict[str, Optional[str]] = {}
        try:
            for small in _own_small_statements(init):
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    targets = [small.target]
                else:
                    continue
                for target in targets:
                    if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
                            and target.value.value == "self":
                        value = built_value(small.value)
                        origin = self.qualified_name(value) if isinstance(value, (cst.Call, cst.Await)) else (
                            frame.bindings.get(value.value) if isinstance(value, cst.Name) else None)
                        name = target.attr.value
                        found[name] = origin if name not in found or found[name] == origin else None
        finally:
            self.frames = saved
        return {name: origin for name, origin in found.items() if origin}

    def entered_origin(self, node: cst.BaseExpression) -> Optional[str]:
        """What `with <node> as x` binds `x` to: for a project generator made a context manager (`with
        session_scope() as db`, `async with tenant_session(t) as db`), what it yields
        (ProjectIndex.yielded_type); else the origin of the value itself."""
        origin = self.origin(node)
        if origin is not None and origin.endswith("()") and self.index is not None:
            yielded = self.index.yielded_type(origin[:-2])
            if yielded is not None:
                return f"{yielded}()"
        return origin

    def origin(self, node: cst.BaseExpression) -> Optional[str]:
        """The qualified name of a value worth remembering in a binding."""
        node = built_value(node)
        if isinstance(node, (cst.Call, cst.Await)):
            return self.qualified_name(node)
        if isinstance(node, (cst.Name, cst.Attribute)):
            return self.qualified_name(node)
        return None

    def enclosing_function(self) -> Optional[Frame]:
        for frame in reversed(self.frames):
            if frame.is_function:
                return frame
        return None

    def enclosing(self, *types: type) -> Iterator[Frame]:
        """Enclosing frames of the given node types, innermost first."""
        for frame in reversed(self.frames):
            if isinstance(frame.node, types):
                yield frame

    def lifespan_names(self) -> frozenset[str]:
        """Functions passed as `lifespan=` to an application: they run once at start-up."""
        if not hasattr(self, "_lifespan_names"):
            self._lifespan_names = frozenset(re.findall(r"lifespan\s*=\s*([A-Za-z_]\w*)", self.source))
        return self._lifespan_names

    def process_targets(self) -> frozenset[str]:
        """Module functions passed as `target=` to a process constructor: each runs once per new process."""
        if not hasattr(self, "_process_targets"):
            guards = self.catalog.guards
            found: set[str] = set()
            # a whole-module libcst walk is costly: only when some name is passed as `target=`
            if re.search(r"\btarget\s*=\s*[A-Za-z_]", self.source):
                for call in _calls_with_keyword(self.module, "target"):
                    func = call.func
                    if not (self.qualified_name(func) in guards.process_constructors or (
                            isinstance(func, cst.Attribute) and func.attr.value in guards.process_constructor_attributes)):
                        continue
                    for arg in call.args:
                        if arg.keyword is not None and arg.keyword.value == "target" and isinstance(arg.value, cst.Name):
                            found.add(arg.value.value)
            self._process_targets = frozenset(found)
        return self._process_targets

    def enclosing_class(self) -> Optional[cst.ClassDef]:
        """The class whose body directly holds the innermost function, if any."""
        seen_function = False
        for frame in reversed(self.frames):
            if frame.is_function:
                if seen_function:
                    return None
                seen_function = True
            elif isinstance(frame.node, cst.ClassDef):
                return frame.node if seen_function else None
        return None

    def own_imported_packages(self) -> frozenset[str]:
        """Top-level packages this module itself imports."""
        own = self.__dict__.get("_imported_packages")
        if own is None:
            own = self.__dict__["_imported_packages"] = frozenset(value.split(".")[0] for value in self.imports.values())
        return own

    def imported_packages(self, receiver: Optional[cst.BaseExpression] = None) -> frozenset[str]:
        """Top-level packages this module imports and, for a receiver of unknown origin that is not an
        imported name (a parameter, a local, an attribute), those any module of the project imports:
        a `session` handed to a service in a project that uses SQLAlchemy is judged as one of its
        sessions. An imported name is the other module's object, whatever this one imports."""
        own = self.own_imported_packages()
        root = expression_root(receiver) if receiver is not None else None
        if self.index is None or (isinstance(root, cst.Name) and root.value in self.imports):
            return own
        from poollint.python.reads import record_index_answer

        record_index_answer("packages", self.index.answer("packages"))
        return own | self.index.imported_packages()

    def line_of(self, node: cst.CSTNode) -> int:
        return self._positions()[node].start.line

    def line_span(self, node: cst.CSTNode) -> tuple[int, int]:
        """The first and last line of a node (a definition's from its `def`, without its decorators)."""
        position = self._positions()[node]
        return position.start.line, position.end.line

    def _positions(self) -> ModulePositions:  # computed once per file, only when something asks
        if not hasattr(self, "_position_map"):
            self._position_map = module_positions(self.module)
        return self._position_map


NEXT_BUILTINS = frozenset(f"builtins.{name}" for name in NEXT_NAMES)
_BUILTINS = {"input": "builtins.input", "open": "builtins.open", "print": "builtins.print",
             **{name: f"builtins.{name}" for name in NEXT_NAMES}}
# how `_type_of` names a generator of a followed type: `typing.Generator[sqlmodel.Session]`
_GENERATOR_OF = "typing.Generator"
_CALLABLE_TYPES = frozenset({"typing.Callable", "collections.abc.Callable"})
# values whose type only an annotation can tell (a literal says what it is)
_OPAQUE_VALUES = (cst.Call, cst.Await, cst.Name, cst.Attribute, cst.Subscript)


_OPTIONAL_TYPES = frozenset({"typing.Optional", "typing.Union", "typing_extensions.Optional"})


def _unquoted(annotation: cst.BaseExpression) -> cst.BaseExpression:
    """The expression a string annotation holds (`"Archiver | None"`, a forward reference)."""
    if isinstance(annotation, cst.SimpleString):
        value = annotation.evaluated_value
        if isinstance(value, str) and len(value) < 200:
            try:
                return cst.parse_expression(value)
            except (cst.ParserSyntaxError, ValueError):
                return annotation
    return annotation


def _without_none(annotation: cst.BaseExpression) -> cst.BaseExpression:
    """`Archiver | None` -> `Archiver`."""
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        left, right = annotation.left, annotation.right
        if isinstance(right, cst.Name) and right.value == "None":
            return _without_none(left)
        if isinstance(left, cst.Name) and left.value == "None":
            return _without_none(right)
    return annotation


def _subscript_elements(subscript: cst.Subscript) -> list[cst.BaseExpression]:
    return [element.slice.value for element in subscript.slice if isinstance(element.slice, cst.Index)]


class _KeywordCalls(cst.CSTVisitor):
    def __init__(self, keyword: str) -> None:
        self.keyword = keyword
        self.found: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        if any(arg.keyword is not None and arg.keyword.value == self.keyword for arg in node.args):
            self.found.append(node)


def _calls_with_keyword(module: cst.Module, keyword: str) -> list[cst.Call]:
    visitor = _KeywordCalls(keyword)
    cst_visit(module, visitor)
    return visitor.found


def _flatten(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Module statements, looking into `if`/`try` blocks (TYPE_CHECKING, optional imports)."""
    for statement in body:
        if isinstance(statement, cst.If):
            yield statement
            yield from _flatten(statement.body.body)
            orelse = statement.orelse
            while orelse is not None:
                yield from _flatten(orelse.body.body)
                orelse = orelse.orelse if isinstance(orelse, cst.If) else None
        elif isinstance(statement, cst.Try):
            yield from _flatten(statement.body.body)
            for handler in statement.handlers:
                yield from _flatten(handler.body.body)
        else:
            yield statement


def literal_prefix(node: cst.BaseExpression) -> Optional[str]:
    """The known start of a string value: a literal, the text before the first `{}` of an f-string or of
    a literal's `.format()`, the left side of `+` or `%` on a literal."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.FormattedString) and node.parts and isinstance(node.parts[0], cst.FormattedStringText):
        return node.parts[0].value
    if isinstance(node, cst.ConcatenatedString):
        return literal_prefix(node.left)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
        template = literal_prefix(node.func.value)  # 'sqlite:///{0}'.format(path)
        return template.split("{", 1)[0] if template is not None else None
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Modulo)):
        template = literal_prefix(node.left)  # "sqlite:///" + path, "sqlite:///%s" % path
        return template.split("%", 1)[0] if template is not None and isinstance(node.operator, cst.Modulo) else template
    return None


def is_main_guard(test: cst.BaseExpression) -> bool:
    """`__name__ == "__main__"` in either order."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    names = {n.value for n in (left, right) if isinstance(n, cst.Name)}
    strings = {s.evaluated_value for s in (left, right) if isinstance(s, cst.SimpleString)}
    return names == {"__name__"} and strings == {"__main__"}


class _CallCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name):
            self.names.add(node.func.value)


def _called_names(node: cst.CSTNode) -> set[str]:
    collector = _CallCollector()
    cst_visit(node, collector)
    return collector.names


def _own_small_statements(function: cst.FunctionDef) -> Iterator[cst.BaseSmallStatement]:
    """The simple statements of a function, inside its blocks but not inside nested functions or classes."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleStatementLine):
            yield from node.body
        elif isinstance(node, (cst.SimpleStatementSuite,)):
            yield from node.body
        elif not isinstance(node, (cst.FunctionDef, cst.ClassDef)) or node is function:
            stack.extend(reversed([c for c in node.children if isinstance(c, (cst.BaseSuite, cst.BaseStatement,
                                                                             cst.ExceptHandler, cst.Else, cst.Finally,
                                                                             cst.MatchCase))]))


class _Targets(cst.CSTVisitor):
    """Names a statement or block binds (its assignments, branches, loops, handlers, imports, definitions)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def _add(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.names.append(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._add(element.value)
        elif isinstance(target, cst.StarredElement):
            self._add(target.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._add(node.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._add(node.name.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._add(node.target)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        self.names.append(node.evaluated_alias or node.evaluated_name.split(".")[0])

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.append(node.name.value)
        # `nonlocal x` in a nested function exists to rebind this scope's `x`
        nonlocals = _Nonlocals()
        cst_visit(node.body, nonlocals)
        self.names.extend(nonlocals.names)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.names.append(node.name.value)
        return False


class _Nonlocals(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.names.extend(item.name.value for item in node.names)


def assigned_names(statement: cst.CSTNode) -> list[str]:
    """The names `statement` (a statement, a block, a function's body) binds: nested definitions' own
    names, and the names they declare `nonlocal`, but not what they bind for themselves."""
    collector = _Targets()
    cst_visit(statement, collector)
    return collector.names


class _MappingKeys(cst.CSTVisitor):
    """See FileContext.mapping_keys."""

    def __init__(self) -> None:
        self.found: dict[str, list[tuple[str, cst.BaseExpression]]] = {}

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            subject = target.target
            if isinstance(subject, cst.Subscript) and isinstance(subject.value, cst.Name) \
                    and len(subject.slice) == 1 and isinstance(subject.slice[0].slice, cst.Index) \
                    and isinstance(subject.slice[0].slice.value, cst.SimpleString):
                key = subject.slice[0].slice.value.evaluated_value
                if isinstance(key, str):
                    self.found.setdefault(subject.value.value, []).append((key, node.value))
            elif isinstance(subject, cst.Name):
                self.found.setdefault(subject.value, []).extend(_literal_mapping(node.value))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                and func.attr.value in ("update", "setdefault")):
            return
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        pairs = [(arg.keyword.value, arg.value) for arg in node.args if arg.keyword is not None]
        pairs += [pair for value in positional[:1] for pair in _literal_mapping(value)]
        if func.attr.value == "setdefault" and len(positional) == 2 and isinstance(positional[0], cst.SimpleString):
            key = positional[0].evaluated_value
            pairs = [(key, positional[1])] if isinstance(key, str) else []
        self.found.setdefault(func.value.value, []).extend(pairs)


def _literal_mapping(value: cst.BaseExpression) -> list[tuple[str, cst.BaseExpression]]:
    """The string keys and values of `{"k": v}` or `dict(k=v)`."""
    if isinstance(value, cst.Dict):
        return [(element.key.evaluated_value, element.value) for element in value.elements
                if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString)
                and isinstance(element.key.evaluated_value, str)]
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict":
        return [(arg.keyword.value, arg.value) for arg in value.args if arg.keyword is not None]
    return []
