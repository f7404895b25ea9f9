"""Bombs and floods: zip and XML bombs and 200 MB bodies are refused fast, in bounded memory, storing nothing.

Each refusal is measured in-process: wall time of the request (or parse) without tracing, then
the Python heap peak of a second, traced run (tracemalloc). Bounds are generous (1 s, 100 MB)
because the CI machine is shared; the figures measured are in docs/reliability.md.
"""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from recommender.importers import CatalogFormatError, parse_catalog

from .helpers import bearer, make_merchant
from .test_admin import log_in

MAX_SECONDS = 1.0
MAX_PEAK_BYTES = 100 * 1024 * 1024
GIB = 1 << 30
BOUNDARY = "hostile-boundary"


def measured(action: Callable[[], Any]) -> tuple[Any, float, int]:
    """Run ``action`` twice: return its result, the untraced wall time and the traced heap peak."""
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, seconds, peak


def assert_cheap(what: str, seconds: float, peak: int) -> None:
    """Assert a refusal took under MAX_SECONDS and MAX_PEAK_BYTES; print the figures for the docs."""
    print(f"{what}: {seconds * 1000:.1f} ms, heap peak {peak / 2**20:.2f} MB")
    assert seconds < MAX_SECONDS, f"{what} took {seconds:.2f} s"
    assert peak < MAX_PEAK_BYTES, f"{what} peaked at {peak / 2**20:.1f} MB"


def stored(app: Flask, merchant_id: int) -> tuple[int, int, int]:
    """Return (imports, upload files, products) of a merchant."""
    from quiz.catalog.imports import upload_folder
    from quiz.models import CatalogImport, Product
    from quiz.platform.db import get_session

    with app.app_context():
        session = get_session()
        imports = session.scalar(sa.select(sa.func.count()).where(CatalogImport.merchant_id == merchant_id))
        products = session.scalar(sa.select(sa.func.count()).where(Product.merchant_id == merchant_id))
        return imports or 0, sum(1 for _ in upload_folder().iterdir()), products or 0


@pytest.fixture
def shop(app: Flask) -> tuple[int, str, str]:
    """A fresh merchant: (id, API key, admin email)."""
    from quiz import merchants

    made = make_merchant(app, "hostile")
    with app.app_context():
        return merchants.get_by_slug("hostile").id, made.api_key, made.admin_email


def post_file(client: FlaskClient, key: str, name: str, data: bytes) -> Any:
    """Upload ``data`` as the multipart field "file", encoded here in memory.

    (The test client would spool a body over 500 kB to a temporary file it never closes.)
    """
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()
    body = head + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    return client.post(
        "/api/v1/catalog/imports",
        input_stream=io.BytesIO(body),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=bearer(key),
    )


# --- zip and gzip bombs -------------------------------------------------------------------------


def deflated_zeros(size: int) -> tuple[bytes, int]:
    """Return a raw deflate stream of ``size`` zero bytes and its CRC-32, without ever holding them.

    After a full flush the compressor forgets its history, so the stream of one 16 MiB block of
    zeros can be repeated: 64 copies are a valid stream of 1 GiB.
    """
    block = 16 << 20
    assert size % block == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc, zeros = 0, bytes(block)
    for _ in range(size // block):
        crc = zlib.crc32(zeros, crc)
    return piece * (size // block) + compressor.flush(zlib.Z_FINISH), crc


def zip_of(name: str, stream: bytes, crc: int, size: int) -> bytes:
    """Return a one-file ZIP archive holding an already deflated ``stream``."""
    encoded = name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(stream), size, len(encoded), 0)
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(stream), size, len(encoded), 0, 0, 0, 0,
        0, 0,
    )  # fmt: skip
    offset = len(local) + len(encoded) + len(stream)
    directory = central + encoded
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), offset, 0)
    return local + encoded + stream + directory + end


@pytest.fixture(scope="module")
def zip_bombs() -> dict[str, bytes]:
    """A 1 MB zip expanding to 1 GiB, and a ~10 KB zip holding that zip."""
    stream, crc = deflated_zeros(GIB)
    flat = zip_of("catalog.csv", stream, crc, GIB)
    [info] = zipfile.ZipFile(io.BytesIO(flat)).infolist()
    assert info.file_size == GIB and info.compress_size < 1_100_000, "a real bomb: 1 GiB declared"
    start = zlib.decompressobj(-15).decompress(stream[:65536], 1 << 20)
    assert start == bytes(len(start)) and len(start) > 60_000, "and a real stream of zeros"
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("catalog.zip", flat)
    return {"flat": flat, "nested": nested.getvalue()}


@pytest.mark.parametrize("kind", ["flat", "nested"])
def test_zip_bomb_is_refused_unopened(
    app: Flask, client: FlaskClient, shop: tuple[int, str, str], zip_bombs: dict[str, bytes], kind: str
) -> None:
    """Importers take no archives: a zip is named as one at once, whatever it would expand to."""
    bomb = zip_bombs[kind]
    assert len(bomb) < (64_000 if kind == "nested" else 1_100_000)
    merchant_id, key, _ = shop
    before = stored(app, merchant_id)
    response, seconds, peak = measured(lambda: post_file(client, key, "catalog.csv", bomb))
    assert_cheap(f"zip bomb ({kind}, {len(bomb):,} bytes -> 1 GiB) via the API", seconds, peak)
    assert response.status_code == 422
    assert "ZIP archive" in response.json["fields"]["file"][0]
    assert stored(app, merchant_id) == before


def test_gzip_bomb_is_refused_unopened(app: Flask, client: FlaskClient, shop: tuple[int, str, str]) -> None:
    stream, crc = deflated_zeros(GIB)
    bomb = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + stream + struct.pack("<II", crc, GIB & 0xFFFFFFFF)
    assert zlib.decompressobj(31).decompress(bomb[:4096], 1 << 16) == bytes(1 << 16), "a real gzip of zeros"
    merchant_id, key, _ = shop
    before = stored(app, merchant_id)
    response, seconds, peak = measured(lambda: post_file(client, key, "catalog.csv.gz", bomb))
    assert_cheap(f"gzip bomb ({len(bomb):,} bytes -> 1 GiB) via the API", seconds, peak)
    assert response.status_code == 422 and "gzip archive" in response.json["error"]
    assert stored(app, merchant_id) == before


# --- XML bombs ----------------------------------------------------------------------------------

ITEM = "<item><g:id>X1</g:id><title>&{entity};</title><g:price>1 USD</g:price></item>"
RSS = '<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>{items}</channel></rss>'


def billion_laughs() -> bytes:
    """Ten levels of ten references: 10^9 "lol"s, 3 GB once expanded."""
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    items = ITEM.format(entity="lol9")
    return f'<?xml version="1.0"?><!DOCTYPE rss [{"".join(levels)}]>{RSS.format(items=items)}'.encode()


def quadratic_blowup() -> bytes:
    """One 100 kB entity referenced 20,000 times: 2 GB once expanded, no nesting for a limit to catch."""
    items = ITEM.replace("&{entity};", "&a;" * 20_000)
    return f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"a" * 100_000}">]>{RSS.format(items=items)}'.encode()


def external_entity() -> bytes:
    """An entity that would read /etc/passwd into a product title."""
    doctype = '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return f'<?xml version="1.0"?>{doctype}{RSS.format(items=ITEM.format(entity="xxe"))}'.encode()


def external_parameter_entity() -> bytes:
    """A parameter entity pulling in a local file while the DTD is read."""
    doctype = '<!DOCTYPE rss [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
    return f'<?xml version="1.0"?>{doctype}{RSS.format(items=ITEM.replace("&{entity};", "Tea"))}'.encode()


def external_dtd() -> bytes:
    """A document type fetched from a local file."""
    doctype = '<!DOCTYPE rss SYSTEM "file:///etc/passwd">'
    return f'<?xml version="1.0"?>{doctype}{RSS.format(items=ITEM.replace("&{entity};", "Tea"))}'.encode()


XML_BOMBS = {
    "billion laughs": billion_laughs,
    "quadratic blowup": quadratic_blowup,
    "external entity (file://)": external_entity,
    "external parameter entity": external_parameter_entity,
    "external DTD": external_dtd,
}


@pytest.mark.parametrize("name", XML_BOMBS)
def test_xml_bomb_is_refused_by_the_parser(name: str) -> None:
    data = XML_BOMBS[name]()

    def parse() -> str:
        with pytest.raises(CatalogFormatError) as caught:
            parse_catalog(data, filename="feed.xml")
        return str(caught.value)

    message, seconds, peak = measured(parse)
    assert_cheap(f"XML {name} ({len(data):,} bytes) in parse_catalog", seconds, peak)
    assert "refused for safety" in message and "root:" not in message


@pytest.mark.parametrize("name", XML_BOMBS)
def test_xml_bomb_upload_is_422_and_stores_nothing(
    app: Flask, client: FlaskClient, shop: tuple[int, str, str], name: str
) -> None:
    data = XML_BOMBS[name]()
    merchant_id, key, _ = shop
    before = stored(app, merchant_id)
    response, seconds, peak = measured(lambda: post_file(client, key, "feed.xml", data))
    assert_cheap(f"XML {name} via the API", seconds, peak)
    assert response.status_code == 422, response.json
    body = response.get_data(as_text=True)
    assert "DTD" in response.json["fields"]["file"][0] and "root:" not in body
    assert stored(app, merchant_id) == before


def test_yaml_alias_bomb_in_the_quiz_editor_is_refused() -> None:
    """The quiz editor's YAML: a billion-laughs document of aliases is refused before it expands."""
    from quiz.quizzes.text import parse_definition_text

    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]

    def parse() -> str:
        with pytest.raises(ValueError) as caught:
            parse_definition_text("\n".join(lines))
        return str(caught.value)

    message, seconds, peak = measured(parse)
    assert_cheap("YAML alias bomb in the quiz editor", seconds, peak)
    assert "aliases" in message


# --- 200 MB bodies ------------------------------------------------------------------------------


class VirtualBody(io.RawIOBase):
    """A seekable request body of ``size`` bytes made up as it is read: head, filler, tail.

    ``furthest`` records how far the app read, so a test can tell a refusal from a full read.
    """

    def __init__(self, head: bytes, size: int, tail: bytes = b"") -> None:
        self.head, self.tail, self.size = head, tail, size
        self.position = self.furthest = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, min(self.size, base + offset))
        return self.position

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.position)
        if count <= 0:
            return 0
        chunk = bytearray(b"x" * count)
        for start, piece in ((0, self.head), (self.size - len(self.tail), self.tail)):
            low, high = max(start, self.position), min(start + len(piece), self.position + count)
            if low < high:
                chunk[low - self.position : high - self.position] = piece[low - start : high - start]
        buffer[:count] = chunk
        self.position += count
        self.furthest = max(self.furthest, self.position)
        return count


def multipart_body(size: int, filename: str = "huge.csv") -> VirtualBody:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\nid,title,price\n"
    ).encode()
    return VirtualBody(head, size, f"\r\n--{BOUNDARY}--\r\n".encode())


SIZE = 200 * 1024 * 1024


def test_200_mb_upload_with_content_length_is_413_before_reading(
    app: Flask, client: FlaskClient, shop: tuple[int, str, str]
) -> None:
    merchant_id, key, _ = shop
    before = stored(app, merchant_id)
    bodies: list[VirtualBody] = []

    def send() -> Any:
        bodies.append(multipart_body(SIZE))
        return client.post(
            "/api/v1/catalog/imports",
            input_stream=bodies[-1],
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            headers=bearer(key),
        )

    response, seconds, peak = measured(send)
    assert_cheap("200 MB upload with Content-Length via the API", seconds, peak)
    assert response.status_code == 413
    assert "50 MB limit" in response.json["error"] and response.json["fields"]["file"]
    assert bodies[0].furthest == 0, "refused on the header alone: not a byte of the body read"
    assert stored(app, merchant_id) == before


def test_200_mb_chunked_upload_is_cut_off_at_the_limit(
    app: Flask, client: FlaskClient, shop: tuple[int, str, str]
) -> None:
    """Without Content-Length (chunked), reading stops at MAX_CONTENT_LENGTH, as gunicorn terminates input."""
    merchant_id, key, _ = shop
    limit = app.config["MAX_CONTENT_LENGTH"]
    before = stored(app, merchant_id)
    bodies: list[VirtualBody] = []

    def send() -> Any:
        bodies.append(multipart_body(SIZE))
        return client.post(
            "/api/v1/catalog/imports",
            input_stream=bodies[-1],
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            headers={**bearer(key), "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )

    response, seconds, peak = measured(send)
    assert_cheap(f"200 MB chunked upload via the API (read {bodies[0].furthest / 2**20:.0f} MB)", seconds, peak)
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    assert "50 MB limit" in response.json["error"]
    assert limit <= bodies[0].furthest <= limit + 1024 * 1024, "read up to the limit, then stopped"
    assert stored(app, merchant_id) == before


def test_200_mb_upload_in_the_admin_is_a_413_page(app: Flask, client: FlaskClient, shop: tuple[int, str, str]) -> None:
    merchant_id, _, email = shop
    log_in(client, email, password="correct horse battery")
    before = stored(app, merchant_id)

    def send() -> Any:
        return client.post(
            "/admin/imports",
            input_stream=multipart_body(SIZE),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )

    response, seconds, peak = measured(send)
    assert_cheap("200 MB upload with Content-Length in the admin", seconds, peak)
    assert response.status_code == 413
    assert "50 MB limit" in response.get_data(as_text=True)
    assert stored(app, merchant_id) == before


def test_200_mb_json_body_is_413(app: Flask, client: FlaskClient, shop: tuple[int, str, str]) -> None:
    """Any body, not only uploads: a 200 MB quiz definition is refused before it is read."""
    from quiz import quizzes
    from quiz.models import Merchant
    from quiz.platform.db import get_session

    merchant_id, key, _ = shop
    body = VirtualBody(b'{"definition": {"title": "', SIZE, b'"}}')
    response, seconds, peak = measured(
        lambda: client.put("/api/v1/quiz", input_stream=body, content_type="application/json", headers=bearer(key))
    )
    assert_cheap("200 MB JSON body to PUT /api/v1/quiz", seconds, peak)
    assert response.status_code == 413 and response.json["error"]
    with app.app_context():
        assert quizzes.live_definition(get_session().get(Merchant, merchant_id)).version == 1
