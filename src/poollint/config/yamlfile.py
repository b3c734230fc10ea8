"""YAML through pyyaml's safe loader only, remembering the line of every mapping key and list item.

Unknown tags (`!Ref`, `!GetAtt`, compose's `!reset`) load as plain values instead of failing.
"""
from __future__ import annotations

from typing import Any, Union

import yaml

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


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_multi_constructor("", _unknown)


class YamlError(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def load_documents(text: str) -> list[Any]:
    """Every document of a YAML stream; raises YamlError with a line and reason."""
    try:
        return list(yaml.load_all(text, Loader=_Loader))  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        return _raise(line, f"invalid YAML: {error.problem or error.context or 'cannot parse'}")
    except yaml.YAMLError as error:
        return _raise(1, f"invalid YAML: {str(error).splitlines()[0] if str(error) else 'cannot parse'}")
    except RecursionError:
        return _raise(1, "invalid YAML: nested too deeply to read")


def _raise(line: int, reason: str) -> Union[list, Any]:
    raise YamlError(line, reason)
