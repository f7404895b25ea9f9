"""Admin logins end on the server: a cookie copied before logout, a password change or "log out
everywhere" opens nothing afterwards (issue 14, docs/security.md "Sessions that survive logout")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import AdminLogin, AdminUser
from quiz.platform.db import get_session

from .conftest import csrf_token
from .helpers import make_merchant
from .test_admin import PASSWORD, log_in

NEW_PASSWORD = "a brand new passphrase"


def copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Return a second client holding a copy of ``client``'s session cookie (what a thief would keep)."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "logged in clients carry a session cookie"
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def opens_admin(client: FlaskClient) -> bool:
    """True if the client gets the products page, False if it is sent to the login page."""
    response = client.get("/admin/products")
    if response.status_code == 302:
        assert "/admin/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def logged_in(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, email, password).status_code == 302
    return client


def test_a_cookie_copied_before_logout_opens_nothing_afterwards(app: Flask) -> None:
    shop = make_merchant(app, "sesslogout")
    client = logged_in(app, shop.admin_email)
    thief = copy_of(client, app)
    assert opens_admin(thief), "the copy works while the login lasts: the replay below can fail"
    page = client.get("/admin/").get_data(as_text=True)
    assert client.post("/admin/logout", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert not opens_admin(thief)
    assert not opens_admin(client)
    with app.app_context():
        [login] = get_session().scalars(sa.select(AdminLogin)).all()
        assert login.ended_at is not None


def test_the_cookie_holds_a_login_id_stored_only_as_a_digest(app: Flask) -> None:
    shop = make_merchant(app, "sessdigest")
    client = logged_in(app, shop.admin_email)
    from flask.sessions import SecureCookieSessionInterface

    with app.app_context():
        serializer = SecureCookieSessionInterface().get_signing_serializer(app)
        login_id = serializer.loads(client.get_cookie("session").value)["attune.admin"]
        stored = get_session().scalars(sa.select(AdminLogin.token_hash)).all()
    assert isinstance(login_id, str) and len(login_id) >= 40
    assert stored and login_id not in stored[0] and len(stored[0]) == 64


def test_a_password_change_ends_every_other_login(app: Flask) -> None:
    shop = make_merchant(app, "sesspassword")
    other = make_merchant(app, "sessbystander")
    laptop, phone = logged_in(app, shop.admin_email), logged_in(app, shop.admin_email)
    phone_copy, laptop_copy, bystander = copy_of(phone, app), copy_of(laptop, app), logged_in(app, other.admin_email)
    page = laptop.get("/admin/account").get_data(as_text=True)
    assert page.count("<tr>") == 3, "two sessions listed (plus the header row)"
    changed = laptop.post(
        "/admin/account/password",
        data={
            "csrf_token": csrf_token(page),
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert "1 other session ended" in laptop.get("/admin/account").get_data(as_text=True)
    assert not opens_admin(phone) and not opens_admin(phone_copy)
    assert opens_admin(laptop), "the session that changed the password keeps working"
    assert not opens_admin(laptop_copy), "under a new id: a copy of its cookie taken before ends too"
    assert opens_admin(bystander), "another admin's login is untouched"
    assert log_in(app.test_client(), shop.admin_email, PASSWORD).status_code == 401
    assert log_in(app.test_client(), shop.admin_email, NEW_PASSWORD).status_code == 302


def test_the_password_form_explains_each_mistake_inline(app: Flask) -> None:
    shop = make_merchant(app, "sessmistakes")
    client = logged_in(app, shop.admin_email)
    token = csrf_token(client.get("/admin/account").get_data(as_text=True))
    cases = [
        ({"current_password": "not it at all", "new_password": NEW_PASSWORD}, "current_password", "not your current"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password", "at least 12"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password", "must differ"),
        ({"current_password": "", "new_password": NEW_PASSWORD}, "current_password", "Enter your current password"),
    ]
    for fields, field, message in cases:
        data = {"csrf_token": token, "new_password_again": fields["new_password"], **fields}
        response = client.post("/admin/account/password", data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, (fields, response.status_code)
        error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
        assert error and message in error.group(1), (fields, html[-1500:])
    mismatch = client.post(
        "/admin/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD + "x",
        },
    )
    assert mismatch.status_code == 422 and "The two new passwords differ." in mismatch.get_data(as_text=True)
    no_token = client.post(
        "/admin/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert no_token.status_code == 400
    assert log_in(app.test_client(), shop.admin_email, PASSWORD).status_code == 302, "the password is unchanged"


def test_log_out_everywhere_ends_every_login_of_that_admin(app: Flask) -> None:
    shop = make_merchant(app, "sesseverywhere")
    other = make_merchant(app, "sessother")
    laptop, phone = logged_in(app, shop.admin_email), logged_in(app, shop.admin_email)
    copies = [copy_of(laptop, app), copy_of(phone, app)]
    bystander = logged_in(app, other.admin_email)
    page = phone.get("/admin/account").get_data(as_text=True)
    assert "Log out everywhere" in page and "this session" in page
    done = phone.post("/admin/account/logout-everywhere", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/login")
    assert not any(opens_admin(c) for c in (laptop, phone, *copies))
    assert opens_admin(bystander)
    token = csrf_token(phone.get("/admin/login").get_data(as_text=True))
    again = phone.post("/admin/account/logout-everywhere", data={"csrf_token": token})
    assert again.status_code == 302 and "/admin/login" in again.headers["Location"], "logged out: to the login"


def test_logins_past_the_session_lifetime_are_refused_by_the_server(app: Flask) -> None:
    shop = make_merchant(app, "sesslifetime")
    client = logged_in(app, shop.admin_email)
    assert opens_admin(client)
    with app.app_context():
        login = get_session().scalars(sa.select(AdminLogin)).one()
        login.created_at = login.created_at - dt.timedelta(hours=8, minutes=1)
        get_session().commit()
    # The cookie itself is fresh (Flask re-signs it on every response): only the server can say no.
    assert not opens_admin(client)


def test_a_new_secret_key_ends_every_session(app: Flask, new_app: Callable[..., Flask]) -> None:
    shop = make_merchant(app, "sesssecret")
    client = logged_in(app, shop.admin_email)
    cookie = client.get_cookie("session").value
    same_key, new_key = new_app().test_client(), new_app(SECRET_KEY="another-secret-key-rotated-today").test_client()
    same_key.set_cookie("session", cookie)
    new_key.set_cookie("session", cookie)
    assert opens_admin(same_key), "the control: another worker with the same key accepts the cookie"
    assert not opens_admin(new_key)


def test_the_account_page_lists_sessions_without_addresses(app: Flask) -> None:
    shop = make_merchant(app, "sesslist")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    assert log_in(client, shop.admin_email).status_code == 302
    page = client.get("/admin/account").get_data(as_text=True)
    assert "Started (UTC)" in page and "Last seen (UTC)" in page and "this session" in page
    assert "203.0.113.77" not in page
    with app.app_context():
        columns = {c.name for c in AdminLogin.__table__.columns}
    assert columns == {"id", "admin_user_id", "token_hash", "created_at", "last_seen_at", "ended_at"}


def test_the_daily_purge_deletes_ended_and_expired_logins(app: Flask) -> None:
    shop = make_merchant(app, "sesspurge")
    ended, expired, live = (logged_in(app, shop.admin_email) for _ in range(3))
    page = ended.get("/admin/").get_data(as_text=True)
    ended.post("/admin/logout", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        user_id = get_session().scalar(sa.select(AdminUser.id).where(AdminUser.email == shop.admin_email))
        rows = get_session().scalars(sa.select(AdminLogin).order_by(AdminLogin.id)).all()
        assert len(rows) == 3 and all(r.admin_user_id == user_id for r in rows)
        rows[1].created_at = rows[1].created_at - dt.timedelta(hours=9)
        get_session().commit()
    result = app.test_cli_runner().invoke(args=["profiles", "purge-expired"])
    assert result.exit_code == 0 and "2 ended admin logins deleted" in result.stdout
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(AdminLogin)) == 1
    assert opens_admin(live) and not opens_admin(expired)


def test_guessing_the_current_password_through_a_session_is_limited(app: Flask) -> None:
    shop = make_merchant(app, "sessguess")
    client = logged_in(app, shop.admin_email)
    token = csrf_token(client.get("/admin/account").get_data(as_text=True))

    def change(current: str):  # type: ignore[no-untyped-def]
        data = {"csrf_token": token, "new_password_again": NEW_PASSWORD, "new_password": NEW_PASSWORD}
        return client.post("/admin/account/password", data={**data, "current_password": current})

    for n in range(10):  # RATELIMIT_LOGIN: 10 per minute per address
        assert change(f"guess number {n}").status_code == 422
    refused = change(PASSWORD)
    assert refused.status_code == 429 and "Too many failed attempts" in refused.get_data(as_text=True)
    assert log_in(app.test_client(), shop.admin_email, PASSWORD).status_code == 302, "unchanged"
