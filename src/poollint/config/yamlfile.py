"""YAML through pyyaml's safe loader only, remembering the line of every mapping key and list item.

Unknown tags (`!Ref`, `!GetAtt`, compose's `!reset`) load as plain values instead of failing, and so
do malformed standard ones (`!!int abc`, a date `2024-13-45`, a 5,000-digit number). A document whose
aliases expand far beyond its own size (billion laughs) is refused before it is built.
"""
from __future__ import annotations

from typing import Any, Union

import yaml

from poollint.limits import MAX_YAML_EXPANSION

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A mapping whose `lines[key]` is the 1-based line of the key."""

    lines: dict

    def line(self, key: Any, default: int = 1) -> int:
        return getattr(self, "lines", {}).get(key, default)


class LineList(list):
    lines: list

    def line(self, index: int, default: int = 1) -> int:
        lines = getattr(self, "lines", [])
        return lines[index] if 0 <= index < len(lines) else default


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


def _construct_map(loader: Any, node: yaml.MappingNode) -> Any:
    data = LineDict()
    data.lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            key = str(key)
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader: Any, node: yaml.SequenceNode) -> Any:
    data = LineList()
    data.lines = []
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.lines.append(child.start_mark.line + 1)


def _unknown(loader: Any, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        generator = _construct_map(loader, node)
        data = next(generator)
        for _ in generator:
            pass
        return data
    if isinstance(node, yaml.SequenceNode):
        generator = _construct_seq(loader, node)
        data = next(generator)
        for _ in generator:
            pass
        return data
    return loader.construct_scalar(node)


def _lenient(construct: Any) -> Any:
    """The standard constructor, or the scalar's text when the value is malformed or too large for it."""
    def construct_or_text(loader: Any, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, TypeError, OverflowError, yaml.constructor.ConstructorError):
            return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None

    return construct_or_text


for _tag, _constructor in (("int", _Base.construct_yaml_int), ("float", _Base.construct_yaml_float),
                           ("bool", _Base.construct_yaml_bool), ("timestamp", _Base.construct_yaml_timestamp),
                           ("binary", _Base.construct_yaml_binary)):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _lenient(_constructor))
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_multi_constructor("", _unknown)


class YamlError(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


# YAML also ends lines at NEL, U+2028 and U+2029, and refuses control characters (a form feed between
# sections); users and the other readers count lines at \n only. Each becomes a space, one character
# for one, so positions stay put and the rest of the file is still read.
_NOT_A_YAML_LINE_BREAK = str.maketrans({
    **{chr(code): " " for code in range(0x20) if chr(code) not in "\t\n\r"},
    **{chr(code): " " for code in range(0x7F, 0xA0)},
    "\u2028": " ", "\u2029": " ", "\ufffe": " ", "\uffff": " ",
})


def load_documents(text: str) -> list[Any]:
    """Every document of a YAML stream; raises YamlError with a line and reason."""
    loader = _Loader(text.translate(_NOT_A_YAML_LINE_BREAK))
    budget = MAX_YAML_EXPANSION + 10 * len(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                _check_expansion(node, budget)
            documents.append(loader.construct_document(node) if node is not None else None)
        return documents
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        return _raise(line, f"invalid YAML: {error.problem or error.context or 'cannot parse'}")
    except yaml.YAMLError as error:
        return _raise(1, f"invalid YAML: {str(error).splitlines()[0] if str(error) else 'cannot parse'}")
    except RecursionError:
        return _raise(1, "invalid YAML: nested too deeply to read")
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, budget: int) -> None:
    """Raises YamlError when the document, with every alias expanded, holds more than `budget` characters
    and nodes: what the readers would walk and join. Shared nodes are sized once (memoized)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in open_nodes:
            raise YamlError(node.start_mark.line + 1, "invalid YAML: an alias refers to a node that contains it")
        open_nodes.add(key)
        if isinstance(node, yaml.ScalarNode):
            total = 1 + len(node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        else:
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        if total > budget:
            raise YamlError(node.start_mark.line + 1,
                            "invalid YAML: its aliases expand far beyond the file's size (an alias bomb), not read")
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)


def _raise(line: int, reason: str) -> Union[list, Any]:
    raise YamlError(line, reason)
