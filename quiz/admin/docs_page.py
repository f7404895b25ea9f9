"""The docs, readable in the admin: /admin/docs/NAME shows docs/NAME.md."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from ..platform import docs_pages
from . import bp
from .auth import admin_required, current_merchant


@bp.get("/docs/<name>")
@admin_required
def doc(name: str) -> ResponseReturnValue:
    """Show one of the project's docs."""
    prefix = url_for("admin.doc", name="x")[:-1]
    rendered = docs_pages.render(name, prefix)
    if rendered is None:
        abort(404, description="No such document.")
    title, html = rendered
    # The Markdown renderer escapes any HTML the file holds, so its output is safe to insert.
    return render_template("admin/doc.html", merchant=current_merchant(), title=title, body=Markup(html))  # noqa: S704
