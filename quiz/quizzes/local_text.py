"""Texts given per language in quiz definitions: ``{en: Age, es: Edad}``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import fields

LOCALE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class LocalText(str):
    """A quiz text written in several languages; as a ``str`` it is the quiz's own language.

    Matching always uses the quiz's own language (the embedding model reads English best);
    shoppers see :meth:`get` for their locale.
    """

    translations: Mapping[str, str]
    locale: str

    def __new__(cls, translations: Mapping[str, str], locale: str) -> LocalText:
        """Return the text whose plain value is ``translations[locale]``."""
        text = super().__new__(cls, translations[locale])
        text.translations = dict(translations)
        text.locale = locale
        return text

    def __getnewargs__(self) -> tuple[Mapping[str, str], str]:  # type: ignore[override]
        """Let copies and pickles rebuild the text with its translations."""
        return (self.translations, self.locale)

    def get(self, locale: str) -> str:
        """Return the text in ``locale`` ("es-MX" falls back to "es"), else in the quiz's language."""
        found = self.translations.get(locale) or self.translations.get(locale.split("-")[0])
        return found if found is not None else str(self)


def localize(text: str, locale: str) -> str:
    """Return ``text`` in ``locale`` when it has translations, else as it is."""
    return text.get(locale) if isinstance(text, LocalText) else text


class LocalizedString(fields.Field):
    """A text, or the same text per language: ``{en: Age, es: Edad}``.

    A per-language text loads as a :class:`LocalText` in its first language; the quiz then
    re-bases it on the quiz's ``locale``, which every per-language text must include.
    """

    default_error_messages = {
        "invalid": "Give a text, or a text per language such as {{en: ..., es: ...}}.",
        "locale": "{code!r} is not a language code such as en, es or pt-BR.",
        "length": "Keep each text under {max} characters.",
    }

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str):
            return self._checked(value)
        if not isinstance(value, Mapping) or not value or not all(isinstance(v, str) for v in value.values()):
            raise self.make_error("invalid")
        for code in value:
            if not isinstance(code, str) or not LOCALE_CODE.match(code):
                raise self.make_error("locale", code=code)
        texts = {code: self._checked(text) for code, text in value.items()}
        return LocalText(texts, next(iter(texts)))

    def _checked(self, text: str) -> str:
        if len(text) > self.max_length:
            raise self.make_error("length", max=self.max_length)
        return text
