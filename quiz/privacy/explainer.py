"""The consent explainer: its versioned text and the hash of exactly what was shown."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import yaml
from marshmallow import ValidationError

from ..models import ExplainerVersion
from ..platform.db import get_session
from ..platform.i18n import DEFAULT_LOCALE, LOCALES, current_locale
from ..quizzes.schema import flatten_errors
from .explainer_schema import LanguageSchema

if TYPE_CHECKING:
    from ..models import Merchant

CONTENT = Path(__file__).parents[1] / "content" / "explainer"
PURPOSES = ("recommendations", "profile", "email", "sms")
# The revision of the default purposes' wording that every purpose starts from.
DEFAULT_PURPOSES_REVISION = "default-1"
# Default explainer versions that changed a purpose's wording: a shopper who allowed that purpose
# under an older version is asked again (the re-consent flow). Add a version here when a purpose's
# text changes in content/explainer/*.yaml; a version that only changes other text asks nobody.
DEFAULT_PURPOSE_CHANGES: dict[str, tuple[str, ...]] = {
    "2026-12.1": ("profile",),  # the profile now also keeps shop events and orders (issue 18)
}
_DEFAULT_VERSION = re.compile(r"(\d{4})-(\d{2})\.(\d+)")


@dataclass(frozen=True)
class Purpose:
    """One thing a shopper may allow."""

    key: str
    title: str
    why: str
    required: bool = False


@dataclass(frozen=True)
class Explainer:
    """The explainer as shown to a shopper of one merchant."""

    version: str
    locale: str
    title: str
    intro: str
    sections: tuple[tuple[str, str], ...]
    purposes: tuple[Purpose, ...]

    def purpose(self, key: str) -> Purpose:
        """Return the purpose named ``key``."""
        return next(p for p in self.purposes if p.key == key)

    @property
    def text(self) -> str:
        """Return the canonical text the page renders, block by block."""
        blocks = [self.title, self.intro]
        for heading, body in self.sections:
            blocks.extend([heading, body])
        blocks.extend(f"{p.title}: {p.why}" for p in self.purposes)
        return "\n\n".join(blocks)

    @property
    def sha256(self) -> str:
        """Return the SHA-256 hex digest of :attr:`text`."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=len(LOCALES))
def _content(locale: str) -> dict[str, Any]:
    """Return one language's explainer, checked against the English one it translates."""
    path = CONTENT / f"{locale}.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    keys = tuple(p["key"] for p in data["purposes"])
    if keys != PURPOSES:
        raise RuntimeError(f"{path} must list the purposes {PURPOSES}, found {keys}")
    if locale != DEFAULT_LOCALE:
        english = _content(DEFAULT_LOCALE)
        if data["version"] != english["version"] or len(data["sections"]) != len(english["sections"]):
            raise RuntimeError(f"{path} must translate version {english['version']} section by section")
    return data


def default_content() -> dict[str, dict[str, Any]]:
    """Return Attune's explainer in every language, as merchants start editing it."""
    return {code: {k: v for k, v in _content(code).items() if k != "version"} for code in LOCALES}


def explainer_for(
    merchant_name: str,
    retention_months: int,
    locale: str = DEFAULT_LOCALE,
    partner: str | None = None,
    custom: ExplainerVersion | None = None,
) -> Explainer:
    """Return the explainer filled in for a merchant, in ``locale`` (English if unknown).

    ``partner`` names the site showing the quiz in the widget; it gets a section of its own.
    ``custom`` is the merchant's own text, if they wrote one; a language it lacks is shown in English.
    """
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    if custom is not None:
        locale = locale if locale in custom.content else DEFAULT_LOCALE
        data = {**custom.content[locale], "version": custom.version}
    else:
        data = _content(locale)

    def fill(text: str) -> str:
        return text.format(merchant=merchant_name, retention_months=retention_months, partner=partner).strip()

    sections = [data["partner_section"]] if partner else []
    sections += data["sections"]

    return Explainer(
        version=str(data["version"]),
        locale=locale,
        title=fill(data["title"]),
        intro=fill(data["intro"]),
        sections=tuple((fill(s["heading"]), fill(s["body"])) for s in sections),
        purposes=tuple(Purpose(**p) for p in data["purposes"]),
    )


def merchant_explainer(merchant: Merchant, locale: str | None = None, partner: str | None = None) -> Explainer:
    """Return the current explainer of ``merchant`` in ``locale`` (default: the request's), on ``partner``'s site."""
    custom = latest_version(merchant)
    return explainer_for(merchant.name, merchant.retention_months, locale or current_locale(), partner, custom)


def latest_version(merchant: Merchant) -> ExplainerVersion | None:
    """Return the merchant's newest own explainer, if they wrote one."""
    return get_session().scalar(
        sa.select(ExplainerVersion)
        .where(ExplainerVersion.merchant_id == merchant.id)
        .order_by(ExplainerVersion.number.desc())
        .limit(1)
    )


def editable_content(merchant: Merchant) -> dict[str, dict[str, Any]]:
    """Return the text the merchant's explainer editor starts from: theirs, else Attune's."""
    custom = latest_version(merchant)
    return dict(custom.content) if custom is not None else default_content()


def purpose_revisions(merchant: Merchant, version: str | None = None) -> dict[str, str]:
    """Return, per purpose, the version its text dates from, in the explainer ``version`` (default: current)."""
    query = sa.select(ExplainerVersion).where(ExplainerVersion.merchant_id == merchant.id)
    if version is None:
        row = get_session().scalar(query.order_by(ExplainerVersion.number.desc()).limit(1))
    else:
        row = get_session().scalar(query.where(ExplainerVersion.version == version))
    if row is not None:
        return dict(row.purpose_revisions)
    return default_revisions(str(_content(DEFAULT_LOCALE)["version"]) if version is None else version)


def default_revisions(version: str) -> dict[str, str]:
    """Return, per purpose, the default explainer version its text dates from, as of default ``version``.

    A version that is not a default one ("2026-11.2" is) dates from before every change.
    """
    revisions = dict.fromkeys(PURPOSES, DEFAULT_PURPOSES_REVISION)
    seen = _version_key(version)
    for changed_in, purposes in sorted(DEFAULT_PURPOSE_CHANGES.items(), key=lambda item: _version_key(item[0])):
        if seen >= _version_key(changed_in):
            revisions.update(dict.fromkeys(purposes, changed_in))
    return revisions


def _version_key(version: str) -> tuple[int, int, int]:
    match = _DEFAULT_VERSION.fullmatch(version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else (0, 0, 0)


def save_version(merchant: Merchant, raw: Any) -> ExplainerVersion:
    """Check and store a merchant's explainer as their next version (call inside a transaction).

    Each purpose keeps the version its text dates from, so that only shoppers who agreed to a
    purpose whose text changed are asked again.

    Raises:
        ValidationError: messages by path ("es.purposes: ..."); nothing is stored.
    """
    content = check_content(raw)
    previous = latest_version(merchant)
    before = editable_content(merchant)
    revisions = purpose_revisions(merchant)
    number = (previous.number if previous else 0) + 1
    version = f"m{number}"
    for key in PURPOSES:
        if _purpose_texts(content, key) != _purpose_texts(before, key):
            revisions[key] = version
    row = ExplainerVersion(
        merchant_id=merchant.id, number=number, version=version, content=content, purpose_revisions=revisions
    )
    get_session().add(row)
    get_session().flush()
    return row


def check_content(raw: Any) -> dict[str, dict[str, Any]]:
    """Return the explainer languages ``raw`` holds, checked; English is required."""
    if not isinstance(raw, dict) or DEFAULT_LOCALE not in raw:
        raise ValidationError(
            {"_schema": [f"Give the explainer per language, {DEFAULT_LOCALE} first: {{en: ..., es: ...}}."]}
        )
    errors: dict[str, list[str]] = {}
    content: dict[str, dict[str, Any]] = {}
    for code, data in raw.items():
        if code not in LOCALES:
            errors[str(code)] = [f"Languages are {', '.join(LOCALES)}."]
            continue
        try:
            content[code] = LanguageSchema().load(data)
        except ValidationError as exc:
            errors.update(flatten_errors(exc.messages, str(code)))
    if errors:
        raise ValidationError(errors)
    return content


def _purpose_texts(content: dict[str, dict[str, Any]], key: str) -> list[tuple[str, str, str]]:
    return sorted(
        (code, p["title"], p["why"]) for code, data in content.items() for p in data["purposes"] if p["key"] == key
    )
