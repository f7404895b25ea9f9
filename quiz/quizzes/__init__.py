"""The quizzes merchants publish: the definition schema, localised texts, countries, the stored
versions (``store``) and answer validation (``answers``).

Callers use the store through the package: ``from quiz import quizzes; quizzes.live_quiz(merchant)``.
"""

from .store import (
    NoQuiz,
    NoSuchVersion,
    catalog_categories,
    default_definition,
    follow_catalog,
    get_version,
    live_definition,
    live_quiz,
    publish,
    quiz_version,
    rollback,
    versions,
)

__all__ = [
    "NoQuiz",
    "NoSuchVersion",
    "catalog_categories",
    "default_definition",
    "follow_catalog",
    "get_version",
    "live_definition",
    "live_quiz",
    "publish",
    "quiz_version",
    "rollback",
    "versions",
]
