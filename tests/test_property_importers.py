"""Every catalog importer under hostile input: records and row errors, or one readable refusal.

Properties, for random bytes, truncated and mangled real exports, wrong encodings, huge fields,
odd delimiters, duplicate ids, non-finite or absurd prices and feeds in the wrong namespaces:

- ``parse_catalog`` returns a ParsedCatalog whose records a database can store, or raises
  CatalogFormatError with a readable message; never any other exception;
- through the app (``create_import`` and ``POST /api/v1/catalog/imports``) a refused file leaves
  nothing behind (no CatalogImport row, no upload file, the same products) and never a 500.
"""

from __future__ import annotations

import codecs
import io
import json
import math
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import example, given, settings
from hypothesis import strategies as st

from recommender.importers import FORMATS, CatalogFormatError, ParsedCatalog, parse_catalog
from recommender.importers.validation import FIELD_LIMITS, MAX_PRICE

from .conftest import SHARED_DATA
from .helpers import bearer, make_merchant, upload, wait_for_import

CATALOGS = SHARED_DATA / "catalogs"
BOUNDARY = "property-boundary"
REAL_FILES = (
    "shopify/apparel.csv",
    "shopify/home-and-garden.csv",
    "google_merchant/newluckypharma_google-merchant-feed.xml",
    "woocommerce/classic-commerce_sample_products.csv",
)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# What a one-line message shown to a merchant must not hold: control characters and line breaks.
UNREADABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def real_bytes(name: str) -> bytes:
    """Return one shared merchant export, skipping when the shared folder is absent."""
    if not CATALOGS.is_dir():
        pytest.skip(f"shared merchant exports not found at {CATALOGS} (they exist only inside the workplace)")
    return (CATALOGS / name).read_bytes()


# --- strategies ---------------------------------------------------------------------------------

# Columns every format's reader looks for, so structured rows reach the row checks.
COLUMNS = (
    "id", "sku", "handle", "title", "name", "body (html)", "description", "price", "variant price",
    "regular price", "sale price", "type", "parent", "g:id", "g:price", "image_link", "link", "availability",
    "brand", "vendor", "categories", "tags", "currency", "url", "image", "attribute 1 name",
    "attribute 1 value(s)", "option1 name", "option1 value", "published", "status", "in stock?",
)  # fmt: skip
HOSTILE_VALUES = (
    "", " ", "NaN", "nan", "inf", "-inf", "Infinity", "-1", "-0", "1e309", "1" * 400, "9" * 5000,
    "12,99", "1.299,00", "4.86 -- 6.22", "$", "€12", "12 XYZ", "0x1F", "\x00", "\x1b[31m", "\ufeff",
    '"', '""', "'", "<script>alert(1)</script>", "<p>x</p>" * 50, "&amp;" * 100, "a > b > c",
    "https://shop.example/p", "javascript:alert(1)", "/img.png", "variation", "simple, variable",
    "id:1", "true", "draft", "é" * 300, "\U0001f600" * 10, "x" * 600, "\r\n", "\n\n",
)  # fmt: skip
DELIMITERS = (",", ";", "\t", "|", ":", " ", ",;")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1", "utf-32")

values = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.text(max_size=40),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=0, max_value=200_000).map(lambda n: "y" * n),  # huge fields, cheaply
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A header of known columns, rows of hostile values, an odd delimiter and an odd encoding."""
    columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=10))
    delimiter = draw(st.sampled_from(DELIMITERS))
    ids = draw(st.lists(st.sampled_from(["A1", "A1", "B2", "", "A1 "]), max_size=6))
    lines = [delimiter.join(columns)]
    for i in range(draw(st.integers(0, 8))):
        cells = [draw(values) for _ in columns]
        if ids and i < len(ids):
            cells[0] = ids[i]  # duplicate and blank ids in the first column
        if draw(st.booleans()):
            cells = [f'"{c}"' for c in cells]
        lines.append(delimiter.join(cells[: draw(st.integers(0, len(cells)))] if draw(st.booleans()) else cells))
    text = draw(st.sampled_from(("\n", "\r\n", "\r"))).join(lines)
    encoding = draw(st.sampled_from(ENCODINGS))
    return text.encode(encoding, errors="replace")


@st.composite
def feeds(draw: st.DrawFn) -> bytes:
    """RSS or Atom feeds with items in right, wrong or missing namespaces, odd nesting and values."""
    namespace = draw(
        st.sampled_from(
            (
                "http://base.google.com/ns/1.0",
                "http://base.google.com/cns/1.0",
                "http://example.com/not-google",
                "",
                "urn:x",
            )
        )
    )
    prefix = draw(st.sampled_from(("g", "x", "")))
    declare = f' xmlns:{prefix}="{namespace}"' if prefix and namespace else ""
    tag = (lambda name: f"{prefix}:{name}") if prefix and declare else (lambda name: name)
    root, item = draw(st.sampled_from((("rss", "item"), ("feed", "entry"), ("rdf", "item"), ("channel", "item"))))
    body = []
    for _ in range(draw(st.integers(0, 5))):
        fields = []
        for name in draw(st.lists(st.sampled_from(("id", "title", "price", "sale_price", "link", "image_link")))):
            value = draw(values).replace("&", "&amp;").replace("<", "&lt;")
            value = "".join(c for c in value if c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd")
            fields.append(f"<{tag(name)}>{value}</{tag(name)}>")
        if draw(st.booleans()):
            fields.append(f"<{tag('shipping')}><{tag('price')}>1</{tag('price')}></{tag('shipping')}>")
        body.append(f"<{item}>{''.join(fields)}</{item}>")
    inner = "".join(body)
    if root == "rss":
        inner = f"<channel>{inner}</channel>"
    document = f'<?xml version="1.0" encoding="UTF-8"?><{root}{declare}>{inner}</{root}>'
    if draw(st.booleans()):
        document = document[: draw(st.integers(0, len(document)))]  # truncated mid-tag
    return document.encode(draw(st.sampled_from(("utf-8", "utf-16", "cp1252"))), errors="replace")


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_VALUES),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
product_keys = st.sampled_from(("id", "sku", "title", "name", "price", "currency", "url", "images", "tags", "size"))


@st.composite
def json_files(draw: st.DrawFn) -> bytes:
    """JSON product lists with hostile values (NaN and Infinity literals included), or any JSON at all."""
    products = draw(st.lists(st.dictionaries(product_keys, json_values, max_size=8), max_size=6))
    document = draw(st.sampled_from(("list", "products", "items", "other")))
    wrapped: object = products if document == "list" else {document: products}
    text = json.dumps(draw(st.one_of(st.just(wrapped), json_values)))  # allow_nan: NaN, Infinity literals
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode()


@st.composite
def mangled_real(draw: st.DrawFn) -> bytes:
    """A real export, truncated, with a few bytes overwritten, or re-encoded."""
    data = real_bytes(draw(st.sampled_from(REAL_FILES)))
    data = data[: draw(st.integers(0, len(data)))]
    for _ in range(draw(st.integers(0, 4))):
        if data:
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at + 1 :]
    if draw(st.booleans()):
        data = data.decode("utf-8", errors="replace").encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    return data


hostile_files = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=500).map(str.encode),
    csv_files(),
    feeds(),
    json_files(),
)

FORMAT_CHOICES = st.sampled_from((None, *FORMATS))


# --- the parser ---------------------------------------------------------------------------------


def check_parse(data: bytes, format: str | None = None, filename: str = "upload.csv") -> ParsedCatalog | None:
    """Parse ``data``; assert the outcome is a storable catalog or one readable CatalogFormatError."""
    try:
        parsed = parse_catalog(data, format=format, filename=filename)
    except CatalogFormatError as exc:
        message = str(exc)
        assert 10 <= len(message) <= 2000, message
        assert not UNREADABLE.search(message), repr(message)
        assert "Traceback" not in message
        return None
    assert parsed.records, "a parsed catalog holds at least one product"
    assert parsed.total >= len(parsed.records)
    ids = [r.external_id for r in parsed.records]
    assert len(ids) == len(set(ids)), "duplicate ids never both become products"
    for record in parsed.records:
        assert record.external_id and record.title
        for name, limit in FIELD_LIMITS.items():
            assert len(getattr(record, name)) <= limit, name
        for name in ("external_id", "title", "brand", "category", "url", "image_url"):
            assert not CONTROL.search(getattr(record, name)), (name, getattr(record, name))
        assert record.price is None or (math.isfinite(record.price) and 0 <= record.price <= MAX_PRICE)
        assert len(record.currency) == 3
        json.dumps(record.attributes, allow_nan=False)  # the JSON column must hold it on any database
        json.dumps(list(record.tags), allow_nan=False)
    for error in parsed.errors:
        assert error.row >= 1 and error.message and not UNREADABLE.search(error.message), error
    return parsed


@settings(max_examples=250)
@given(data=hostile_files, format=FORMAT_CHOICES, filename=st.one_of(st.just("upload.csv"), st.text(max_size=300)))
@example(data=b"[" * 100_000, format=None, filename="upload.csv")  # nesting deeper than Python's recursion limit
@example(data=b'[{"id": 1, "title": "t", "price": ' + b"9" * 5000 + b"}]", format=None, filename="upload.csv")
@example(data=b"id,title,price\nA1,Mug," + b"9" * 400 + b"\n", format=None, filename="upload.csv")
@example(
    data=b"id,title,price\nA1,Mug,1e400\nA2,Cup,-3\nA1,Mug again,2\nA3,Jar,NaN\nA4,Pot,4\n",
    format=None,
    filename="upload.csv",
)
@example(
    data=b"Type,SKU,Name,Attribute " + b"9" * 5000 + b" name\nsimple,S1,Shirt,x\n", format=None, filename="upload.csv"
)
@example(
    data=b"id;title;price\r\nA1;" + b"T" * 200_000 + b";3\r\n", format=None, filename="upload.csv"
)  # longer than csv's field limit
@example(data=b'<?xml version="1.0"?>' + b"<a>" * 50_000 + b"</a>" * 50_000, format=None, filename="upload.csv")
@example(
    data=b'<rss xmlns:g="http://example.com/wrong"><channel><item><g:id>1</g:id></item></channel></rss>',
    format=None,
    filename="feed.xml",
)
@example(data=codecs.BOM_UTF16_LE + b"i\x00d\x00,", format=None, filename="upload.csv")  # odd length after a UTF-16 BOM
def test_parse_catalog_returns_records_or_a_readable_refusal(data: bytes, format: str | None, filename: str) -> None:
    check_parse(data, format, filename)


@settings(max_examples=60)
@given(data=mangled_real(), format=FORMAT_CHOICES)
def test_mangled_real_exports_are_read_or_refused(data: bytes, format: str | None) -> None:
    check_parse(data, format)


@pytest.mark.parametrize("name", REAL_FILES)
def test_every_real_export_still_parses(name: str) -> None:
    """The robustness rules refuse nothing a real merchant export holds."""
    parsed = check_parse(real_bytes(name))
    assert parsed is not None and len(parsed.records) >= 10


# --- through the app ----------------------------------------------------------------------------


def shop(app: Flask, slug: str) -> tuple[int, str]:
    """Return the id and API key of a merchant made for this test (once per app, examples share it)."""
    from quiz import merchants

    made: dict[str, tuple[int, str]] = app.extensions.setdefault("tests.property_shops", {})
    if slug not in made:
        key = make_merchant(app, slug).api_key
        with app.app_context():
            made[slug] = (merchants.get_by_slug(slug).id, key)
    return made[slug]


def stored(app: Flask, merchant_id: int) -> tuple[int, int, int]:
    """Return (imports, upload files, products) the merchant has."""
    from quiz.catalog.imports import upload_folder
    from quiz.models import CatalogImport, Product
    from quiz.platform.db import get_session

    with app.app_context():
        session = get_session()
        imports = session.scalar(sa.select(sa.func.count()).where(CatalogImport.merchant_id == merchant_id))
        products = session.scalar(sa.select(sa.func.count()).where(Product.merchant_id == merchant_id))
        files = sum(1 for _ in upload_folder().iterdir())
    return imports or 0, files, products or 0


def forget_import(app: Flask, import_id: str) -> None:
    """Delete an accepted (never run) import and its upload, so the next example starts level."""
    from quiz.catalog.imports import upload_folder
    from quiz.models import CatalogImport
    from quiz.platform.db import get_session, transaction

    with app.app_context(), transaction():
        get_session().execute(sa.delete(CatalogImport).where(CatalogImport.id == import_id))
        (upload_folder() / import_id).unlink(missing_ok=True)


@settings(max_examples=80)
@given(data=st.one_of(hostile_files, mangled_real()), format=FORMAT_CHOICES)
def test_create_import_stores_nothing_for_a_refused_file(app: Flask, data: bytes, format: str | None) -> None:
    from quiz.catalog import imports
    from quiz.models import Merchant
    from quiz.platform.db import get_session

    merchant_id, _ = shop(app, "propimp")
    before = stored(app, merchant_id)
    job_id = None
    with app.app_context():
        merchant = get_session().get(Merchant, merchant_id)
        try:
            job = imports.create_import(merchant, data, "upload.csv", format=format)
        except imports.ImportRejected as exc:
            assert str(exc) and exc.field in ("file", "format", "mode")
        else:
            job_id = job.id
            assert job.status == "queued" and job.total >= 1
    after = stored(app, merchant_id)
    if job_id is None:
        assert after == before, "a refused file leaves no import row, no upload and the same products"
    else:
        assert after == (before[0] + 1, before[1] + 1, before[2]), "an accepted file queues one import only"
        forget_import(app, job_id)


def post_file(client: FlaskClient, key: str, data: bytes) -> Any:
    """Upload ``data`` as the multipart field "file", encoded here in memory.

    (The test client would spool a body over 500 kB to a temporary file it never closes.)
    """
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="upload.csv"\r\n\r\n'.encode()
    return client.post(
        "/api/v1/catalog/imports",
        input_stream=io.BytesIO(head + data + f"\r\n--{BOUNDARY}--\r\n".encode()),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=bearer(key),
    )


@settings(max_examples=20)
@given(data=st.one_of(hostile_files, mangled_real()))
@example(data=b"id,title,price\nE1,Enamel mug,9\nE2,,3\nE1,Enamel mug again,4\n")  # accepted, with row errors
def test_import_endpoint_never_answers_500_and_keeps_refusals_out(app: Flask, client: FlaskClient, data: bytes) -> None:
    merchant_id, key = shop(app, "propapi")
    before = stored(app, merchant_id)
    response = post_file(client, key, data)
    assert response.status_code in (202, 422), response.get_data(as_text=True)[:500]
    body = response.get_json()
    if response.status_code == 422:
        assert body["error"] and body["fields"]["file"], body
        assert stored(app, merchant_id) == before, "a refused upload stores nothing"
        return
    # Accepted: the import runs to the end (the parser said yes, so the database must too).
    status = wait_for_import(client, key, body["id"])
    assert status["status"] == "done", status
    imports_now, files_now, _ = stored(app, merchant_id)
    assert (imports_now, files_now) == (before[0] + 1, before[1]), "the upload file goes once the import ran"


def test_a_refused_upload_changes_no_product_of_a_live_catalog(app: Flask, client: FlaskClient) -> None:
    """A merchant with products uploads garbage: 422 each time, and the catalog is exactly as it was."""
    merchant_id, key = shop(app, "propkeep")
    good = upload(client, key, "ok.csv", b"id,title,price\nK1,Kettle,30\nK2,Kite,12\n")
    assert wait_for_import(client, key, good.json["id"])["status"] == "done"
    products = client.get("/api/v1/products", headers=bearer(key)).json
    before = stored(app, merchant_id)
    for data in (b"id,title,price\nK1,,30\n", b"\x89PNG....", b"[" * 50_000, b"<rss><channel></channel></rss>"):
        response = post_file(client, key, data)
        assert response.status_code == 422, response.json
        assert stored(app, merchant_id) == before
    assert client.get("/api/v1/products", headers=bearer(key)).json == products


def test_real_files_in_the_wrong_format_are_refused_clearly() -> None:
    """A feed announced as Shopify, a Shopify CSV announced as JSON: one sentence saying what is wrong."""
    with pytest.raises(CatalogFormatError, match="XML feed"):
        parse_catalog(real_bytes(REAL_FILES[2]), format="shopify")
    with pytest.raises(CatalogFormatError, match="not valid JSON"):
        parse_catalog(real_bytes(REAL_FILES[0]), format="generic_json")
