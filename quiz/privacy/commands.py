"""``flask profiles ...``: stored shopper profiles."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from .retention import purge

profiles_cli = AppGroup("profiles", help="Stored shopper profiles.")


@profiles_cli.command("purge-expired")
@with_appcontext
def profiles_purge_expired() -> None:
    """Delete profiles past their retention period, saved quizzes left for a week and ended admin logins."""
    done = purge()
    click.echo(
        f"{done.profiles} expired profiles deleted, {done.saved_quizzes} stale saved quizzes deleted, "
        f"{done.admin_logins} ended admin logins deleted"
    )
