"""YAML with positions: parse a document and find the line of any value by its path.

PyYAML's composed node tree keeps a start mark for every node. We build the Python data from that
same tree, so a pydantic error location such as ``("sections", 1, "prompts", 0, "text")`` can be
walked back to the node and reported as ``file:line:col``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml

Loc = Sequence[int | str]


@dataclass(frozen=True)
class Position:
    """1-based line and column."""

    line: int
    col: int


def _pos(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class LineLoader(yaml.SafeLoader):
    """SafeLoader that hands back the node tree alongside the data."""


@dataclass(frozen=True)
class YamlDocument:
    data: object
    root: yaml.Node

    def position(self, loc: Loc, *, at_key: bool = False) -> Position:
        """Where the value at ``loc`` is; the nearest existing parent if it is missing.

        With ``at_key`` the last step points at the mapping key itself (for unknown keys).
        """
        node = self.root
        for depth, step in enumerate(loc):
            last = depth == len(loc) - 1
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                match = next(
                    (
                        (k, v)
                        for k, v in node.value
                        if isinstance(k, yaml.ScalarNode) and k.value == step
                    ),
                    None,
                )
                if match is None:
                    break
                collection = isinstance(match[1], yaml.CollectionNode)
                if last and (at_key or collection):
                    # Point at "key:" for lists and mappings: their first item may be lines below.
                    return _pos(match[0].start_mark)
                node = match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                if not 0 <= step < len(node.value):
                    break
                node = node.value[step]
            else:
                break
        return _pos(node.start_mark)


def parse_yaml(text: str) -> YamlDocument | None:
    """Parse one YAML document; ``None`` for an empty one. Raises ``yaml.YAMLError``."""
    loader = LineLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        data = loader.construct_document(root)
    finally:
        loader.dispose()
    return YamlDocument(data=data, root=root)


def duplicate_keys(root: yaml.Node) -> list[tuple[Position, str]]:
    """Keys repeated within one mapping (PyYAML would silently keep the last)."""
    found: list[tuple[Position, str]] = []
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        found.append((_pos(key.start_mark), str(key.value)))
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(found, key=lambda item: (item[0].line, item[0].col))


def loc_to_str(loc: Loc) -> str:
    """``("sections", 0, "prompts", 2, "text")`` → ``sections[0].prompts[2].text``."""
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out
