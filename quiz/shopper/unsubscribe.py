"""Unsubscribe from a journey email: a page with one button, and the one-click POST of RFC 8058.

Mail clients POST ``List-Unsubscribe=One-Click`` to the link in the ``List-Unsubscribe`` header
without a page, a cookie or a CSRF token: the signed token in the address is the proof. Either
way one request withdraws `email` consent, recorded in the consent ledger.
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from ..lifecycle import unsubscribe as links
from ..platform.db import transaction
from ..platform.extensions import csrf
from . import page


@page("/unsubscribe/<token>", methods=["GET", "POST"], framed=False)
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    """GET: ask; POST (the page's button or a mail client's one-click): withdraw `email` consent."""
    found = links.read(token)
    if found is None:
        abort(404, description=gettext("This unsubscribe link is not valid."))
    merchant, subject_id = found
    if request.method == "POST":
        with transaction():
            links.withdraw_email(merchant, subject_id)
        return render_template("shopper/unsubscribe.html", merchant=merchant, done=True, token=token)
    return render_template("shopper/unsubscribe.html", merchant=merchant, done=False, token=token)
