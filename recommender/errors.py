"""The one exception hierarchy of the recommender library."""

from __future__ import annotations


class RecommenderError(Exception):
    """Base class for every error raised by :mod:`recommender`."""


class ModelLoadError(RecommenderError):
    """The sentence-transformers model could not be loaded from disk."""


class IndexLoadError(RecommenderError):
    """An index folder is missing, corrupted or does not match its manifest."""
