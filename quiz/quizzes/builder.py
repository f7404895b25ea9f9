"""The quiz builder's form, read back into a definition: one definition, two views (forms and YAML).

Long because it is the one place that knows how the builder's fields (``s0.q1.o2.label.es``) map
onto the definition, both ways, and the edits its buttons make (add, duplicate, move, delete,
accept a suggested signal). Every item carries its definition as hidden JSON (``...raw``), and the
fields a merchant edits are laid over it, so whatever the builder has no field for (``show_if``
with several rules, ``filters``, a third language) survives a trip through it unchanged: a quiz
opened in the builder and saved without edits is the same definition, key for key.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

LANGUAGES = ("en", "es")
KEEP_RULE = "__keep__"
# Private keys of a draft item: stripped before the definition is checked or exported.
DISMISSED = "_dismissed"
NEW_QUESTION_TYPE = "single"
PRICE_FIELDS = ("price_min", "price_max")


class BuilderError(ValueError):
    """A builder form that cannot be read back (tampered hidden fields): one readable line."""


@dataclass(frozen=True)
class Action:
    """A button of the builder: what it does, to which item (indexes: section, question, option)."""

    verb: str
    path: tuple[int, ...] = ()
    token: str = ""


def parse_action(value: str) -> Action:
    """Read a button's value, "up:0:1" or "accept:0:1:2:category=Outerwear"."""
    verb, _, rest = value.partition(":")
    parts = rest.split(":", 3) if rest else []
    path: list[int] = []
    token = ""
    for i, part in enumerate(parts):
        if part.isdigit() and i < 3 and not token:
            path.append(int(part))
        else:
            token = ":".join(parts[i:])
            break
    return Action(verb, tuple(path), token)


# ---- reading the form ----------------------------------------------------------------------


def read_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """Return the draft definition the builder's fields describe (private keys included).

    Raises:
        BuilderError: a hidden ``raw`` field is not a JSON object.
    """
    quiz = _raw(form, "quiz")
    own = quiz.get("locale") or "en"  # plain texts are in the language the quiz had
    chosen = form.get("locale", "").strip()
    if chosen and (chosen != own or "locale" in quiz):
        quiz["locale"] = chosen
    _set_text(quiz, "title", form, "title", own)
    sections = []
    for si in _indexes(form, "s{}"):
        prefix = f"s{si}"
        section = _raw(form, prefix)
        _set_field(section, "id", form, f"{prefix}.id")
        _set_text(section, "title", form, f"{prefix}.title", own)
        _set_text(section, "intro", form, f"{prefix}.intro", own)
        section["questions"] = [_read_question(form, f"{prefix}.q{qi}", own) for qi in _indexes(form, prefix + ".q{}")]
        sections.append(section)
    quiz["sections"] = sections
    if chosen and chosen != own:
        _per_language(quiz, own)
    return quiz


TEXT_KEYS = ("title", "intro", "label", "help", "reason")


def _per_language(value: Any, own: str) -> None:
    """Turn plain texts (written in the quiz's former language ``own``) into ``{own: text}``."""
    if isinstance(value, dict):
        for key, child in value.items():
            if key in TEXT_KEYS and isinstance(child, str) and child:
                value[key] = {own: child}
            else:
                _per_language(child, own)
    elif isinstance(value, list):
        for child in value:
            _per_language(child, own)


def _indexes(form: MultiDict[str, str], pattern: str) -> list[int]:
    found = []
    i = 0
    while pattern.format(i) + ".raw" in form:
        found.append(i)
        i += 1
    return found


def _raw(form: MultiDict[str, str], prefix: str) -> dict[str, Any]:
    text = form.get(prefix + ".raw", "{}")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BuilderError("The builder form was damaged; reload the builder and try again.") from exc
    if not isinstance(data, dict):
        raise BuilderError("The builder form was damaged; reload the builder and try again.")
    return data


def _read_question(form: MultiDict[str, str], prefix: str, own: str) -> dict[str, Any]:
    question = _raw(form, prefix)
    _set_field(question, "id", form, prefix + ".id")
    _set_field(question, "type", form, prefix + ".type")
    _set_text(question, "label", form, prefix + ".label", own)
    _set_text(question, "help", form, prefix + ".help", own)
    _set_flag(question, "required", prefix + ".required" in form)
    for key in ("min", "max", "max_length"):
        if f"{prefix}.{key}" in form:
            _set_number(question, key, form[f"{prefix}.{key}"])
    _set_field(question, "role", form, prefix + ".role", drop_empty=True)
    rule = form.get(prefix + ".show_if", KEEP_RULE)
    if rule != KEEP_RULE:
        wanted = _rule(rule)
        if wanted != _rule_of(question.get("show_if")):
            if wanted:
                question["show_if"] = {wanted[0]: wanted[1]}
            else:
                question.pop("show_if", None)
    options = [_read_option(form, f"{prefix}.o{oi}", own) for oi in _indexes(form, prefix + ".o{}")]
    if options or "options" in question:
        question["options"] = options
    return question


def _read_option(form: MultiDict[str, str], prefix: str, own: str) -> dict[str, Any]:
    option = _raw(form, prefix)
    _set_field(option, "value", form, prefix + ".value")
    _set_text(option, "label", form, prefix + ".label", own)
    _set_field(option, "image", form, prefix + ".image", drop_empty=True)
    signals: dict[str, Any] = dict(option.get("signals") or {})
    _set_list(signals, "categories", form.getlist(prefix + ".categories"))
    _set_list(signals, "exclude_categories", form.getlist(prefix + ".exclude_categories"))
    for key in ("pin", "exclude"):
        if f"{prefix}.{key}" in form:
            _set_list(signals, key, _split(form[f"{prefix}.{key}"]))
    if prefix + ".price_min" in form:
        _set_price(signals, form.get(prefix + ".price_min", ""), form.get(prefix + ".price_max", ""))
    for key, name in (("boost", "favour"), ("avoid", "avoid")):
        if f"{prefix}.{name}" in form:
            _set_pairs(signals, key, form[f"{prefix}.{name}"])
    _set_text(signals, "reason", form, prefix + ".reason", own)
    if signals or "signals" in option:
        option["signals"] = signals
    dismissed = form.getlist(prefix + ".dismissed")
    if dismissed:
        option[DISMISSED] = sorted(set(dismissed))
    return option


def _set_field(item: dict[str, Any], key: str, form: MultiDict[str, str], name: str, drop_empty: bool = False) -> None:
    """Lay one text field over ``item[key]`` (a field the page did not show leaves the key as it is)."""
    if name not in form:
        return
    value = form[name].strip()
    if value:
        item[key] = value
    elif drop_empty or key not in item:
        item.pop(key, None)
    else:
        item[key] = value


def _set_flag(item: dict[str, Any], key: str, on: bool) -> None:
    if on:
        item[key] = True
    elif key in item:
        item[key] = False


def _set_number(item: dict[str, Any], key: str, text: str) -> None:
    text = text.strip()
    if not text:
        if item.get(key) is not None:
            item.pop(key, None)
        return
    number = _number(text)
    if number is None:
        item[key] = text  # the schema names the field: "Not a valid number."
    elif item.get(key) != number:
        item[key] = number


def _number(text: str) -> int | float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if value.is_integer() and "." not in text and "," not in text else value


def _set_list(item: dict[str, Any], key: str, values: list[str]) -> None:
    values = [v for v in (v.strip() for v in values) if v]
    current = item.get(key)
    if not values:
        item.pop(key, None)
    elif not (isinstance(current, list) and sorted(current) == sorted(values)):
        item[key] = list(dict.fromkeys(values))


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


def _set_price(signals: dict[str, Any], low: str, high: str) -> None:
    band = [_number(low.strip()) if low.strip() else None, _number(high.strip()) if high.strip() else None]
    if band == [None, None]:
        signals.pop("price", None)
    elif signals.get("price") != band:
        signals["price"] = band


def _set_pairs(signals: dict[str, Any], key: str, text: str) -> None:
    """Read "gender: women" lines into ``{"gender": "women"}`` (a repeated name gives a list)."""
    pairs: dict[str, Any] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            continue
        for one in (v.strip() for v in value.split(",")):
            if not one:
                continue
            if name not in pairs:
                pairs[name] = one
            elif isinstance(pairs[name], list):
                pairs[name].append(one)
            else:
                pairs[name] = [pairs[name], one]
    if not pairs:
        signals.pop(key, None)
    elif _pairs_text(signals.get(key)) != _pairs_text(pairs):
        signals[key] = pairs


def _set_text(item: dict[str, Any], key: str, form: MultiDict[str, str], prefix: str, own: str) -> None:
    """Lay the English and Spanish fields over a text that is a string (the quiz's language) or per language."""
    if not any(f"{prefix}.{code}" in form for code in LANGUAGES):
        return
    current = item.get(key)
    given = {code: form.get(f"{prefix}.{code}", "").strip() for code in LANGUAGES}
    value: Any
    if isinstance(current, dict):
        value = {}
        for code, text in current.items():
            new = given[code] if code in LANGUAGES else text
            if new:
                value[code] = new
        value.update({code: given[code] for code in LANGUAGES if given[code] and code not in value})
    elif [code for code in LANGUAGES if code != own and given[code]]:
        value = {code: given[code] for code in LANGUAGES if given[code]}
    else:
        value = given.get(own, "")
    if value:
        item[key] = value
    else:
        item.pop(key, None)


# ---- the fields the builder shows ----------------------------------------------------------


def text_of(value: Any, own: str) -> dict[str, str]:
    """Return a definition text per builder language ({"en": ..., "es": ...})."""
    if isinstance(value, dict):
        return {code: str(value.get(code, "")) for code in LANGUAGES}
    return {code: (str(value) if value and code == own else "") for code in LANGUAGES}


def raw_json(item: Mapping[str, Any], *children: str) -> str:
    """Return an item's definition as the hidden JSON its fields are laid over (children left out)."""
    return json.dumps({k: v for k, v in item.items() if k not in children and not k.startswith("_")})


def pairs_text(value: Any) -> str:
    """Return ``{"gender": "women"}`` as the lines the builder shows ("gender: women")."""
    return _pairs_text(value)


def _pairs_text(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    lines = []
    for name, wanted in value.items():
        wanted = ", ".join(str(v) for v in wanted) if isinstance(wanted, list) else str(wanted)
        lines.append(f"{name}: {wanted}")
    return "\n".join(lines)


def _rule(value: str) -> tuple[str, str] | None:
    if not value or "=" not in value:
        return None
    qid, _, wanted = value.partition("=")
    return (qid, wanted)


def _rule_of(show_if: Any) -> tuple[str, str] | None:
    """Return a one-answer rule as (question id, value); None for none or for a rule the picker cannot show."""
    if not isinstance(show_if, Mapping) or len(show_if) != 1:
        return None
    ((qid, wanted),) = show_if.items()
    if isinstance(wanted, list) and len(wanted) == 1:
        wanted = wanted[0]
    return (qid, wanted) if isinstance(wanted, str) else None


def rule_choice(show_if: Any) -> str:
    """Return the picker's value for a ``show_if``: "", "intent=gift" or KEEP_RULE (a rule it cannot show)."""
    if not show_if:
        return ""
    rule = _rule_of(show_if)
    return f"{rule[0]}={rule[1]}" if rule else KEEP_RULE


def missing_translations(draft: Mapping[str, Any]) -> list[str]:
    """Return where a text has one builder language but not the other ("Section 2, question 1: label")."""
    missing: list[str] = []

    def check(value: Any, where: str) -> None:
        if isinstance(value, dict) and any(value.get(c) for c in LANGUAGES):
            lacking = [c for c in LANGUAGES if not value.get(c)]
            if lacking:
                missing.append(f"{where} ({', '.join(LANGUAGE_NAMES[c] for c in lacking)})")
        elif isinstance(value, str) and any(ch.isalpha() for ch in value):
            missing.append(f"{where} ({LANGUAGE_NAMES[_other(draft)]})")

    check(draft.get("title"), "Quiz title")
    for si, section in enumerate(draft.get("sections") or []):
        check(section.get("title"), f"Section {si + 1} title")
        check(section.get("intro"), f"Section {si + 1} introduction")
        for qi, question in enumerate(section.get("questions") or []):
            where = f"Section {si + 1}, question {qi + 1}"
            check(question.get("label"), f"{where}: question")
            check(question.get("help"), f"{where}: help")
            for oi, option in enumerate(question.get("options") or []):
                check(option.get("label"), f"{where}, answer {oi + 1}")
                check((option.get("signals") or {}).get("reason"), f"{where}, answer {oi + 1}: reason")
    return missing


LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def _other(draft: Mapping[str, Any]) -> str:
    own = draft.get("locale", "en")
    return next((c for c in LANGUAGES if c != own), "es")


# ---- edits ---------------------------------------------------------------------------------


def blank_question(draft: Mapping[str, Any]) -> dict[str, Any]:
    """Return a new single-choice question with one answer, its id unused in ``draft``."""
    taken = {q.get("id") for s in draft.get("sections") or [] for q in s.get("questions") or []}
    return {
        "id": _free("question", taken),
        "type": NEW_QUESTION_TYPE,
        "label": {"en": "", "es": ""},
        "options": [blank_option([])],
    }


def blank_option(options: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a new answer whose value is unused among ``options``."""
    return {"value": _free("answer", {o.get("value") for o in options}), "label": {"en": "", "es": ""}}


def _free(base: str, taken: set[Any]) -> str:
    n = 1
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def apply(draft: dict[str, Any], action: Action) -> str:
    """Apply a builder button to the draft in place; return what happened, for the page's status line.

    Raises:
        BuilderError: the button points at an item the draft does not have.
    """
    path = action.path
    sections: list[dict[str, Any]] = draft.setdefault("sections", [])
    try:
        if action.verb == "start_empty":
            kept = {k: draft[k] for k in ("id", "locale") if k in draft}
            draft.clear()
            draft.update({"id": kept.get("id", "quiz"), "title": {"en": "", "es": ""}, **kept})
            draft["sections"] = [{"id": "section_1", "title": {"en": "", "es": ""}, "questions": []}]
            draft["sections"][0]["questions"].append(blank_question(draft))
            return "An empty quiz: one section with one question. Your live quiz is unchanged until you publish."
        if action.verb == "add_section":
            ids = {s.get("id") for s in sections}
            sections.append({"id": _free("section", ids), "title": {"en": "", "es": ""}, "questions": []})
            sections[-1]["questions"].append(blank_question(draft))
            return f"Section {len(sections)} added, with one question."
        if action.verb == "add_question":
            questions = sections[path[0]]["questions"]
            questions.append(blank_question(draft))
            return f"Question {len(questions)} added to section {path[0] + 1}."
        if action.verb == "add_option":
            options = sections[path[0]]["questions"][path[1]].setdefault("options", [])
            options.append(blank_option(options))
            return f"Answer {len(options)} added."
        if action.verb in ("up", "down", "delete", "duplicate"):
            return _move(draft, sections, action.verb, path)
        if action.verb in ("accept", "dismiss"):
            option = sections[path[0]]["questions"][path[1]]["options"][path[2]]
            if action.verb == "accept":
                accept(option, action.token)
                return "Suggestion accepted."
            option[DISMISSED] = sorted({*option.get(DISMISSED, []), action.token})
            return "Suggestion dismissed."
    except (IndexError, KeyError, TypeError) as exc:
        raise BuilderError("That item is no longer in the quiz; nothing changed.") from exc
    raise BuilderError(f"Unknown builder button {action.verb!r}; nothing changed.")


def _move(draft: dict[str, Any], sections: list[dict[str, Any]], verb: str, path: tuple[int, ...]) -> str:
    names = ("Section", "Question", "Answer")
    if len(path) == 1:
        items = sections
    elif len(path) == 2:
        items = sections[path[0]]["questions"]
    else:
        items = sections[path[0]]["questions"][path[1]]["options"]
    i = path[-1]
    name = names[len(path) - 1]
    item = items[i]
    if verb == "delete":
        items.pop(i)
        return f"{name} {i + 1} deleted."
    if verb == "duplicate":
        twin = copy.deepcopy(item)
        _rename(draft, twin, len(path), items)
        items.insert(i + 1, twin)
        return f"{name} {i + 1} duplicated."
    j = i - 1 if verb == "up" else i + 1
    if not 0 <= j < len(items):
        return f"{name} {i + 1} is already {'first' if verb == 'up' else 'last'}."
    items[i], items[j] = items[j], items[i]
    return f"{name} moved {verb} to position {j + 1}."


def _rename(draft: dict[str, Any], twin: dict[str, Any], depth: int, siblings: list[dict[str, Any]]) -> None:
    """Give a duplicate fresh ids: a copy's section and question ids must not repeat."""
    if depth == 3:
        twin["value"] = _free(str(twin.get("value") or "answer") + "_copy", {o.get("value") for o in siblings})
        return
    taken = {q.get("id") for s in draft.get("sections") or [] for q in s.get("questions") or []}
    questions = twin.get("questions", []) if depth == 1 else [twin]
    if depth == 1:
        twin["id"] = _free(str(twin.get("id") or "section") + "_copy", {s.get("id") for s in siblings})
    for question in questions:
        question["id"] = _free(str(question.get("id") or "question") + "_copy", taken)
        taken.add(question["id"])


def accept(option: dict[str, Any], token: str) -> None:
    """Add a suggested signal ("category=Outerwear" shows only that category; "style=eco" favours it)."""
    key, _, value = token.partition("=")
    if not key or not value:
        raise BuilderError("That suggestion cannot be read; nothing changed.")
    signals = option.setdefault("signals", {})
    if key == "category":
        categories = signals.setdefault("categories", [])
        if value not in categories:
            categories.append(value)
        return
    boost = signals.setdefault("boost", {})
    current = boost.get(key)
    if current is None:
        boost[key] = value
    elif isinstance(current, list):
        if value not in current:
            current.append(value)
    elif current != value:
        boost[key] = [current, value]


def has_signal(option: Mapping[str, Any], token: str) -> bool:
    """Return whether an option already sends a suggested signal."""
    key, _, value = token.partition("=")
    signals = option.get("signals") or {}
    if key == "category":
        return value in (signals.get("categories") or [])
    wanted = (signals.get("boost") or {}).get(key)
    return value == wanted or (isinstance(wanted, list) and value in wanted)


def export(draft: Mapping[str, Any]) -> dict[str, Any]:
    """Return the definition without the builder's private keys."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("_"))}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    cleaned: dict[str, Any] = clean(draft)
    return cleaned


def describe(option: Mapping[str, Any], own: str) -> list[str]:
    """Return, in plain words, what choosing an answer does to the products shoppers see."""
    signals = option.get("signals") or {}
    said: list[str] = []
    if signals.get("any"):
        said.append("Matches every category.")
    if signals.get("categories"):
        said.append("Shows only " + _listed(signals["categories"]) + ".")
    if signals.get("exclude_categories"):
        said.append("Leaves out " + _listed(signals["exclude_categories"]) + ".")
    for key, verb in (
        ("boost", "Favours"),
        ("avoid", "Ranks lower"),
        ("filters", "Shows only"),
        ("allow", "Also allows"),
    ):
        if isinstance(signals.get(key), Mapping):
            for name, wanted in signals[key].items():
                said.append(
                    f"{verb} products whose {name} is {_listed(wanted if isinstance(wanted, list) else [wanted])}."
                )
    price = signals.get("price")
    if isinstance(price, list) and len(price) == 2:
        low, high = price
        if low is not None and high is not None:
            said.append(f"Shows only prices from {low:g} to {high:g}.")
        elif high is not None:
            said.append(f"Shows only prices up to {high:g}.")
        elif low is not None:
            said.append(f"Shows only prices from {low:g}.")
    if signals.get("pin"):
        said.append(f"Puts {len(signals['pin'])} chosen product(s) first.")
    if signals.get("exclude"):
        said.append(f"Never shows {len(signals['exclude'])} chosen product(s).")
    if signals.get("query"):
        said.append(f"Searches for “{signals['query']}”.")
    if "max_age" in signals:
        said.append(f"Hides products not meant for shoppers aged {signals['max_age']} or younger.")
    reason = text_of(signals.get("reason"), own)
    if reason.get(own):
        said.append(f"Shoppers read: “{reason[own]}”.")
    if not said:
        said.append("Adds the answer's words to the search (no other signal).")
    return said


def _listed(values: list[Any]) -> str:
    names = [str(v) for v in values]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
