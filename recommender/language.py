"""Words per language for lexical matching: accent folding, stop words, Snowball stemming.

English and Spanish are the languages the quiz speaks. Matching folds accents away
("cómodas" meets "comodas"), drops the stop words of the text's language and stems with the
Snowball stemmer of the language the catalog is written in, so that a query's terms meet the
index's terms ("chaquetas impermeables" meets "Chaqueta impermeable").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

DEFAULT_LANGUAGE = "en"
SNOWBALL_NAMES = {"en": "english", "es": "spanish"}
LANGUAGES = tuple(SNOWBALL_NAMES)

_TOKEN = re.compile(r"[a-z0-9]+")
_SPANISH_MARKS = re.compile(r"[ñáéíóúü¿¡]")

# Words that carry no preference on their own ("for", "something", "need").
ENGLISH_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been being below
    between both but by can could did do does doing down during each few for from further get
    got had has have having he her here hers him his how i if in into is it its just like looking
    me more most my myself need needs no nor not now of off on once only or other our out over own
    really same she should so some something somewhat such than that the their them then there
    these they thing things this those through to too under until up very want wants was we were
    what when where which while who whom why will with would you your yours""".split()
)
# Snowball's Spanish stop list (common forms, accents folded) plus the words of a need
# ("busco", "necesito", "algo") that the English list also drops.
SPANISH_STOPWORDS = frozenset(
    """a al algo algun alguna algunas alguno algunos ante antes asi aun bien busco buscando cada
    casi como con contra cosa cosas cual cuales cuando de del desde donde dos durante e el ella
    ellas ello ellos en entre era eran eres es esa esas ese eso esos esta estaba estan estar estas
    este esto estos estoy fue fueron gusta gustan gustaria ha han hasta hay he hemos la las le les
    lo los mas me mi mia mias mio mios mis mucho muchos muy nada necesita necesito ni no nos
    nosotras nosotros nuestra nuestras nuestro nuestros o os otra otras otro otros para pero poco
    por porque puede que quiero quien quienes se sea ser si sin sobre solo son soy su sus tambien
    tan tanto te tener tengo tiene tienen ti toda todas todo todos tu tus un una unas uno unos
    usted ustedes vosotras vosotros y ya yo""".split()
)
STOPWORDS = {"en": ENGLISH_STOPWORDS, "es": SPANISH_STOPWORDS}
# Function words that mark a text as written in one language: frequent, and rare as content
# words of the other ("sea", "van", "son" and "no" are left out on purpose).
_MARKERS = {
    "en": frozenset("the and for with of my to in is are that this which your from".split()),
    "es": frozenset(
        "de del el la los las una unos unas para con que por mi mis y en al es muy sin su sus como pero "
        "este esta algo quiero busco necesito le les lo".split()
    ),
}

_STEMMERS = threading.local()  # Snowball stemmer objects keep state while stemming: one per thread


def fold(text: str) -> str:
    """Return ``text`` lower-cased with accents removed ("Cómodas Ñandú" -> "comodas nandu")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def detect(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """Return the language ``text`` is most likely written in, ``default`` when it does not say.

    Counts marker function words of each language (and Spanish letters such as "ñ" or "á");
    a bare list of nouns ("chaquetas impermeables") says nothing, so it gets ``default``.
    """
    words = _TOKEN.findall(fold(text))
    scores = {lang: sum(w in markers for w in words) for lang, markers in _MARKERS.items()}
    scores["es"] += len(_SPANISH_MARKS.findall(text.lower()))
    best = max(LANGUAGES, key=lambda lang: scores[lang])
    if scores[best] == 0 or list(scores.values()).count(scores[best]) > 1:
        return default
    return best


def detect_many(texts: Iterable[str], default: str = DEFAULT_LANGUAGE) -> str:
    """Return the language most of ``texts`` are written in (a catalog's language)."""
    counts = dict.fromkeys(LANGUAGES, 0)
    for text in texts:
        language = detect(text, default="")
        if language:
            counts[language] += 1
    best = max(LANGUAGES, key=lambda lang: counts[lang])
    return best if counts[best] > 0 and list(counts.values()).count(counts[best]) == 1 else default


@lru_cache(maxsize=65_536)  # about 10 MiB at most; most of a catalog's vocabulary fits
def stem(word: str, language: str = DEFAULT_LANGUAGE) -> str:
    """Return the Snowball stem of a folded word in ``language`` (remembered: catalogs repeat words)."""
    stemmers = getattr(_STEMMERS, "by_language", None)
    if stemmers is None:
        stemmers = _STEMMERS.by_language = {}
    stemmer = stemmers.get(language)
    if stemmer is None:
        stemmer = stemmers[language] = snowballstemmer.stemmer(SNOWBALL_NAMES[language])
    result: str = stemmer.stemWord(word)
    return result


def words(text: str) -> list[str]:
    """Return the folded words of ``text`` in order (letters and digits)."""
    return _TOKEN.findall(fold(text))


def content_words(text: str, language: str | None = None) -> list[str]:
    """Return the folded words of ``text`` that are not stop words of its language, in order.

    ``language`` is the text's language when known; otherwise it is detected from the text.
    Lone letters go ("s" of "dog's"); lone digits stay ("1 1/2 in").
    """
    found = words(text)
    stop = STOPWORDS[language or detect(text)]
    return [w for w in found if w not in stop and (len(w) > 1 or w.isdigit())]
