"""Hints for quiz definitions written by hand: the line a problem is on, and what to do about it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
# YAML reads these unquoted words as true/false (YAML 1.1, which PyYAML follows).
BOOLEAN_WORDS = {"yes", "no", "on", "off", "true", "false", "y", "n"}
SYNTAX_HINTS = (
    ("mapping values are not allowed", "a text holding “: ” must be in quotes: put the whole text in quotes"),
    ("found character '\\t'", "indent with spaces, not tabs"),
    ("could not find expected ':'", "each line needs “name: value”; check this line and the indentation above it"),
    ("expected <block end>", "this line is indented differently from the lines around it; line it up"),
    ("found undefined alias", "“*” starts an alias in YAML: put the text in quotes"),
    ("did not find expected key", "this line is indented differently from the lines around it; line it up"),
)


def syntax_hint(problem: str) -> str:
    """Return what to do about a YAML syntax error, or "" when there is no better advice than the message."""
    return next((hint for fragment, hint in SYNTAX_HINTS if fragment in problem), "")


def explain(text: str, definition: Mapping[str, Any], path: str, message: str) -> str:
    """Return a schema message about ``path`` with the YAML line it is on and, where clear, the fix."""
    line = line_of(text, path)
    where = f"line {line}, " if line else ""
    value = value_at(definition, path)
    hint = ""
    if message == "Not a valid string." and isinstance(value, bool):
        hint = ' YAML reads yes, no, on, off, true and false as a yes/no value: put the word in quotes ("yes").'
    elif message == "Not a valid string." and isinstance(value, int | float):
        hint = f' YAML reads {value} as a number: put it in quotes ("{value}").'
    elif message == "Not a valid string." and value is None:
        hint = " The value is empty: write a text after the colon."
    return f"{where}{path}: {message}{hint}"


def value_at(definition: Any, path: str) -> Any:
    """Return the value at a dotted path ("sections[0].questions[1].label"), or None."""
    node = definition
    for name, index in PART.findall(path):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return node


def line_of(text: str, path: str) -> int | None:
    """Return the 1-based line of the value at ``path`` in a YAML text (None when it cannot be found)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    for name, index in PART.findall(path):
        if index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            node = node.value[int(index)]
        elif name and isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == name), None)
            if found is None:
                return node.start_mark.line + 1
            node = found
        else:
            break
    return node.start_mark.line + 1 if node is not None else None
