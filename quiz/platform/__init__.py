"""What every part of Attune stands on: settings, database sessions, the error format, rate limits,
logs, metrics, security headers, languages, mail and the background tasks of an app (``scheduling``).

Import the module you need (``from quiz.platform import db``); this file re-exports nothing, so
that a module loads only what it imports itself.
"""
