"""Quiz definitions as text: the YAML the editor shows, and a strict YAML/JSON reader."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from .yaml_hints import syntax_hint

# Far above any real quiz (the default one is 6 kB), far below what would strain a request.
MAX_DEFINITION_CHARS = 200_000
NESTED_TOO_DEEPLY = "The definition is nested too deeply (thousands of brackets or indents); no quiz needs that."


def definition_text(definition: Mapping[str, Any]) -> str:
    """Return a definition as the YAML the quiz editor shows, keys in their written order."""
    return yaml.safe_dump(dict(definition), sort_keys=False, allow_unicode=True)


def parse_definition_text(text: str) -> dict[str, Any]:
    """Parse a quiz definition written as YAML or JSON into plain JSON data (not yet validated).

    Raises:
        ValueError: one message saying what to fix: a syntax error with its line and column,
            a document that is not a mapping, or values JSON cannot store.
    """
    if len(text) > MAX_DEFINITION_CHARS:
        raise ValueError(f"The definition has {len(text):,} characters; shorten it to {MAX_DEFINITION_CHARS:,}.")
    data = _parse_json(text) if text.lstrip().startswith("{") else None
    if data is None:
        try:
            data = yaml.load(text, Loader=_DefinitionLoader)  # a SafeLoader: plain data only
        except yaml.YAMLError as exc:
            raise ValueError(f"The definition is not valid YAML or JSON: {_yaml_problem(exc)}.") from exc
        except RecursionError as exc:  # thousands of nested brackets: no quiz is written like that
            raise ValueError(NESTED_TOO_DEEPLY) from exc
    if not isinstance(data, dict):
        raise ValueError("The definition must be a mapping with id, title and sections at the top level.")
    try:
        # Round-trip through JSON: what is stored is exactly what was checked.
        plain: dict[str, Any] = json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "The definition holds values JSON cannot store (dates, binary data, sets, .nan or .inf): "
            "put them in quotes."
        ) from exc
    return plain


def _parse_json(text: str) -> Any:
    """Return JSON data, or None to let the YAML parser (which also reads flow mappings) try."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError:
        return None
    except RecursionError as exc:
        raise ValueError(NESTED_TOO_DEEPLY) from exc


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"The key {repeated[0]!r} appears twice in one mapping; keep one.")
    return dict(pairs)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        hint = syntax_hint(f"{exc.context or ''} {exc.problem or ''}")
        return f"{exc.problem} (line {mark.line + 1}, column {mark.column + 1})" + (f": {hint}" if hint else "")
    return str(exc)


class _DefinitionLoader(yaml.SafeLoader):
    """Safe YAML without aliases (no exponential "billion laughs" documents) or silently repeated keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed; write the text out again", self.peek_event().start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key.value!r} appears twice in one mapping; keep one", key.start_mark
                    )
                seen.add(key.value)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping
