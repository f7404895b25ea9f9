"""``flask --app app ...`` commands: each group lives with the part of Attune it drives."""

from __future__ import annotations

from flask import Flask

from .catalog.commands import catalog_cli, index_cli, jobs_cli
from .demo.commands import demo_cli
from .evaluation.commands import eval_command
from .lifecycle.commands import scores_cli
from .lifecycle.journey_commands import journeys_cli
from .merchants.commands import merchant_cli
from .outcomes.commands import orders_cli
from .platform.commands import db_cli
from .privacy.commands import profiles_cli


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for group in (db_cli, demo_cli, merchant_cli, index_cli, catalog_cli, profiles_cli, jobs_cli):
        app.cli.add_command(group)
    app.cli.add_command(eval_command)
    app.cli.add_command(orders_cli)
    app.cli.add_command(scores_cli)
    app.cli.add_command(journeys_cli)
