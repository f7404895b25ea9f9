"""Catalog importers, on the real merchant exports and on small files built for one edge case each."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from recommender import ProductRecord
from recommender.importers import FORMATS, CatalogFormatError, ParsedCatalog, RowError, detect_format, parse_catalog
from recommender.importers.reading import parse_price, plain_text

from . import supplier_catalog

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "catalogs"
HERE = Path(__file__).resolve().parent / "data" / "catalogs"
APPAREL = "shopify/apparel.csv"
HOME = "shopify/home-and-garden.csv"
PHARMA = "google_merchant/newluckypharma_google-merchant-feed.xml"
WOO = "woocommerce/classic-commerce_sample_products.csv"


def real(name: str) -> ParsedCatalog:
    """Parse one of the shared merchant exports, skipping when the shared data folder is absent."""
    if not REAL.is_dir():
        pytest.skip(f"shared merchant exports not found at {REAL} (they exist only inside the workplace)")
    return parse_catalog((REAL / name).read_bytes(), filename=name)


def by_id(parsed: ParsedCatalog) -> dict[str, ProductRecord]:
    """Return the parsed records keyed by external id."""
    return {record.external_id: record for record in parsed.records}


# --- the real exports -------------------------------------------------------------------------


def test_shopify_apparel_groups_variant_rows_by_handle() -> None:
    parsed = real(APPAREL)
    assert (parsed.format, len(parsed.records), parsed.total, parsed.errors) == ("shopify", 20, 20, [])
    varsity = next(r for r in parsed.records if r.title == "Classic Varsity Top")
    assert varsity.external_id == "classic-varsity-top"
    assert varsity.attributes["sizes"] == ["Small", "Medium", "Large"]
    assert (varsity.price, varsity.currency, varsity.brand, varsity.tags) == (60.0, "USD", "partners-demo", ("women",))
    assert "price_max" not in varsity.attributes, "all three sizes cost the same"
    shirt = by_id(parsed)["ocean-blue-shirt"]
    assert shirt.attributes == {}, "the 'Default Title' option of single-variant products is not a size"
    assert all(r.url == "" and r.image_url.startswith("https://burst.shopifycdn.com/") for r in parsed.records)
    assert all(r.available for r in parsed.records)
    first_three = [r.external_id for r in parsed.records][:3]
    assert first_three == ["ocean-blue-shirt", "classic-varsity-top", "yellow-wool-jumper"], "file order"


def test_shopify_home_and_garden_descriptions_lose_their_html() -> None:
    parsed = real(HOME)
    assert (len(parsed.records), parsed.errors) == (20, [])
    assert not [r.external_id for r in parsed.records if "<" in r.description or ">" in r.description]
    products = by_id(parsed)
    pot = products["clay-plant-pot"]
    assert pot.description == "Classic blown clay pot for plants"
    assert (pot.price, pot.attributes["price_max"], pot.attributes["sizes"]) == (9.99, 15.99, ["Regular", "Large"])
    assert (pot.category, pot.tags, pot.brand) == ("Outdoor", ("Pot", "Plants"), "Company 123")
    assert pot.image_url.endswith("single-sprout-in-a-pot_925x.jpg"), "the first image, not the Large variant's"
    assert products["copper-light"].price == 59.99, "Variant Compare At Price (75) is not the price"


def test_google_merchant_pharma_feed_applies_sale_prices_in_inr() -> None:
    parsed = real(PHARMA)
    assert (parsed.format, len(parsed.records), parsed.total, parsed.errors) == ("google_merchant", 60, 60, [])
    assert {r.currency for r in parsed.records} == {"INR"}
    tablet = by_id(parsed)["1"]
    assert (tablet.title, tablet.price, tablet.attributes["regular_price"]) == ("CETIRIZ TABLET", 50.0, 58.0)
    assert tablet.url == "https://newluckypharma.vercel.app/?product_id=1"
    assert tablet.image_url == "https://i.imgur.com/ubkRAkQ.jpeg"
    assert tablet.brand == "New Lucky Pharma"
    assert all(0 < r.price < r.attributes["regular_price"] for r in parsed.records), "shipping's 0.00 is no price"
    categories = {r.category for r in parsed.records}
    assert "Health & Beauty > Health Care" in categories
    assert "Food, Beverages & Tobacco > Food Items > Baby & Toddler Food" in categories
    titles = {r.title for r in parsed.records}
    assert {"JOHNSON'S BABY CARE KIT", "INJECTION & SYRINGES"} <= titles


def test_woocommerce_folds_variations_into_their_parents() -> None:
    parsed = real(WOO)
    assert (parsed.format, len(parsed.records), parsed.total, parsed.errors) == ("woocommerce", 15, 15, [])
    products = by_id(parsed)
    assert not [sku for sku in products if sku.startswith(("cc-hoodie-red", "cc-hoodie-blue", "cc-t-shirt-"))]
    hoodie = products["cc-hoodie"]
    assert (hoodie.price, hoodie.attributes["price_max"]) == (42.0, 45.0), "a variation's sale price is the low end"
    assert hoodie.attributes["colours"] == ["Blue", "Green", "Red"]
    assert hoodie.attributes["logo"] == ["Yes", "No"]
    tee = products["cc-tee"]
    assert (tee.price, tee.category) == (25.0, "Clothing > Tshirts")
    assert tee.attributes["sizes"] == ["Large", "Medium", "Small"]
    collection = products["cc-logo-collection"]
    assert (collection.title, collection.price) == ("Logo Collection", None), "grouped products are kept"
    donation = products["cp-donation"]
    assert (donation.price, donation.url) == (30.0, "https://www.classicpress.net/donate/"), "external product"
    assert products["cc-album"].title == "Album", "type 'simple, downloadable, virtual' is a product"
    beanie = products["cc-beanie"]
    assert (beanie.price, beanie.attributes["regular_price"]) == (18.0, 20.0)
    assert beanie.image_url == "https://classiccommerce.cc/wp-content/downloads/sample-data-images/beanie.png"
    assert "," not in tee.image_url, "only the first of the comma-separated images"
    assert not products["cc-hoodie-with-pocket"].available, "hidden from the catalog, so not recommendable"
    assert products["cc-hoodie-with-logo"].title == "Hoodie with Pocket and Logo", "double space collapsed"


@pytest.mark.parametrize(
    ("name", "expected"),
    [(APPAREL, "shopify"), (HOME, "shopify"), (PHARMA, "google_merchant"), (WOO, "woocommerce")],
)
def test_detects_each_real_export(name: str, expected: str) -> None:
    if not REAL.is_dir():
        pytest.skip(f"shared merchant exports not found at {REAL} (they exist only inside the workplace)")
    data = (REAL / name).read_bytes()
    assert detect_format(data) == expected, "content alone is enough"
    assert detect_format(data, filename="upload.bin") == expected


# --- reading: encodings, delimiters, multi-line records ------------------------------------------


def test_utf8_bom_is_not_part_of_the_first_column() -> None:
    parsed = parse_catalog("\ufeffid,title,price\nM1,Café mug,3\n".encode())
    assert parsed.format == "generic_csv"
    assert (parsed.records[0].external_id, parsed.records[0].title) == ("M1", "Café mug")


def test_cp1252_file_with_semicolons_and_decimal_commas() -> None:
    data = "sku;name;price;brand\nB1;Crème brûlée set;12,50;Maison Müller\n".encode("cp1252")
    record = parse_catalog(data).records[0]
    assert (record.title, record.price, record.brand) == ("Crème brûlée set", 12.5, "Maison Müller")


def test_utf16_tab_separated_text_from_excel() -> None:
    data = "id\ttitle\tprice\nX1\tÉcharpe\t9.5\n".encode("utf-16")
    assert parse_catalog(data).records[0].title == "Écharpe"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter: str) -> None:
    rows = [["id", "title", "price"], ["A1", "Tea towel", "4.00"], ["A2", "Oven glove", "6.00"]]
    data = "\r\n".join(delimiter.join(row) for row in rows).encode()
    parsed = parse_catalog(data)
    assert [(r.external_id, r.title, r.price) for r in parsed.records] == [
        ("A1", "Tea towel", 4.0),
        ("A2", "Oven glove", 6.0),
    ]


def test_row_numbers_count_a_multiline_record_once() -> None:
    data = (
        b"id,title,description,price\n"
        b'L1,Lamp,"Warm light.\n\n   Dimmable,  too.",20\n'
        b",Rug,Soft,10\n"
        b"R2,Rug,Soft,abc\n"
        b"\n"
        b"R3,,Soft,5\n"
    )
    parsed = parse_catalog(data, filename="shop.csv")
    assert parsed.records[0].description == "Warm light.\nDimmable, too."
    assert parsed.errors == [
        RowError(3, "id", "Product id is missing."),
        RowError(4, "price", "Price 'abc' is not a number."),
        RowError(6, "title", "Title is missing."),
    ]
    assert parsed.total == 4, "the blank row is no product"


def test_html_becomes_safe_plain_text() -> None:
    html = (
        "<p>Hand-thrown <b>stoneware</b> &amp; glaze.</p><script>alert('x')</script>"
        "<ul><li>Oven safe</li><li>Dishwasher&nbsp;safe</li></ul>&lt;i&gt;escaped&lt;/i&gt; too"
    )
    assert plain_text(html, multiline=True) == "Hand-thrown stoneware & glaze.\nOven safe\nDishwasher safe\nescaped too"
    assert plain_text("<p>One</p><p>Two</p>") == "One Two"
    assert plain_text("Sizes 5 < 6 & AT&T") == "Sizes 5 < 6 & AT&T", "text that merely looks like markup is kept"


@pytest.mark.parametrize(
    ("text", "price", "price_max", "currency"),
    [
        ("1,299.00", 1299.0, None, "USD"),
        ("1.299,00", 1299.0, None, "USD"),
        ("$12.99", 12.99, None, "USD"),
        ("12.99 USD", 12.99, None, "USD"),
        ("EUR 12,99", 12.99, None, "EUR"),
        ("€1 299,50", 1299.5, None, "EUR"),
        ("4.86 -- 6.22", 4.86, 6.22, "USD"),
        ("4.86 - 6.22", 4.86, 6.22, "USD"),
        ("£9.99–£14.99", 9.99, 14.99, "GBP"),
        ("0", 0.0, None, "USD"),
    ],
)
def test_price_formats(text: str, price: float, price_max: float | None, currency: str) -> None:
    data = json.dumps([{"id": "P1", "title": "Thing", "price": text}]).encode()
    record = parse_catalog(data).records[0]
    assert (record.price, record.attributes.get("price_max"), record.currency) == (price, price_max, currency)


@pytest.mark.parametrize("text", ["abc", "12 apples", "12.99 15.99", "USD", "1e5"])
def test_unreadable_prices_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_price(text)


# --- per-row checks ------------------------------------------------------------------------------


def test_row_errors_skip_only_the_bad_rows() -> None:
    data = (
        b"id,title,price,url,image\n"
        b"K1,Kettle,35,https://shop.example/kettle,/media/kettle.jpg\n"
        b"K2,Teapot,,,\n"
        b"K1,Kettle again,36,,\n"
        b"K3,Cup,-2,,\n"
        b"K4,Saucer,3,shop.example/saucer,\n"
        b"K5,Spoon,1,,ftp://files.example/spoon.png\n"
        b"K6,Fork,1,javascript:alert(1),\n"
    )
    parsed = parse_catalog(data)
    assert [r.external_id for r in parsed.records] == ["K1", "K2"]
    assert parsed.records[1].price is None, "a missing price is allowed"
    assert parsed.records[0].image_url == "/media/kettle.jpg", "a site-relative image path is allowed"
    assert parsed.errors == [
        RowError(4, "id", "Duplicate id 'K1' (first seen on row 2)."),
        RowError(5, "price", "Price '-2' is negative."),
        RowError(6, "url", "URL 'shop.example/saucer' is not an absolute http(s) address."),
        RowError(
            7,
            "image_url",
            "Image URL 'ftp://files.example/spoon.png' is not an absolute http(s) address or a path starting with '/'.",
        ),
        RowError(8, "url", "URL 'javascript:alert(1)' is not an absolute http(s) address."),
    ]
    assert parsed.total == 7


def test_a_file_without_a_single_valid_row_is_refused() -> None:
    data = b"id,title,price\n1,,5\n2,Mug,abc\n"
    with pytest.raises(CatalogFormatError, match="mugs.csv has no valid product rows: first problems: row 2: "):
        parse_catalog(data, filename="uploads/mugs.csv")


# --- Shopify and WooCommerce edge cases ---------------------------------------------------------

SHOPIFY_HEADER = "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Status,Option1 Name,Option1 Value,"
SHOPIFY_HEADER += "Option2 Name,Option2 Value,Variant Price,Variant Compare At Price,Image Src,SEO Title\n"


def test_a_header_with_an_unclosed_quote_is_refused_readably() -> None:
    # Found by the property tests: a carriage return inside an unclosed quote broke detection.
    data = b'\x01"\r\x01'
    assert detect_format(data) == "generic_csv"
    with pytest.raises(CatalogFormatError, match="upload.csv"):
        parse_catalog(data, filename="upload.csv")


def test_shopify_options_status_and_bad_variants() -> None:
    rows = [
        'boot,Trail Boot,"<p>Grippy.</p>",Northwind,Footwear > Boots,"boots, Hiking, boots",TRUE,active,Colour,Brown,'
        "Size,42,120.00,150,https://cdn.example/boot.jpg,Boot SEO",
        "boot,,,,,,,,,Brown,,43,120.00,,,",
        "boot,,,,,,,,,Black,,42,135.00,,https://cdn.example/boot-black.jpg,",
        "draft-hat,Sun Hat,,Northwind,Hats,,TRUE,draft,Title,Default Title,,,20,,,",
        "hidden-cap,Cap,,Northwind,Hats,,FALSE,active,Material,Cotton,,,15,,,",
        "sock,Wool Sock,,Northwind,Socks,,TRUE,active,Size,M,,,9,,,",
        "sock,,,,,,,,,L,,,nine,,,",
        "boot,Trail Boot Copy,,Northwind,Footwear,,TRUE,active,Title,Default Title,,,99,,,",
    ]
    parsed = parse_catalog((SHOPIFY_HEADER + "\n".join(rows)).encode(), filename="products_export.csv")
    assert parsed.format == "shopify"
    products = by_id(parsed)
    boot = products["boot"]
    assert (boot.price, boot.attributes["price_max"]) == (120.0, 135.0)
    assert boot.attributes["colours"] == ["Brown", "Black"] and boot.attributes["sizes"] == ["42", "43"]
    assert (boot.description, boot.category, boot.tags) == ("Grippy.", "Footwear > Boots", ("boots", "Hiking"))
    assert boot.image_url == "https://cdn.example/boot.jpg"
    assert not products["draft-hat"].available and products["draft-hat"].attributes == {}
    assert not products["hidden-cap"].available and products["hidden-cap"].attributes == {"materials": ["Cotton"]}
    assert parsed.errors == [
        RowError(8, "price", "Variant price 'nine' is not a number."),
        RowError(9, "id", "Duplicate id 'boot' (first seen on row 2)."),
    ]
    assert parsed.total == 5, "boot, draft-hat, hidden-cap, sock and the second boot"


WOO_HEADER = "ID,Type,SKU,Name,Published,Visibility in catalog,Short description,Description,In stock?,"
WOO_HEADER += "Sale price,Regular price,Categories,Tags,Images,Parent,Attribute 1 name,Attribute 1 value(s)\n"


def test_woocommerce_parent_by_id_orphans_and_id_fallback() -> None:
    rows = [
        '10,variable,,Rain Jacket,1,visible,Short text,,1,,,"Outerwear > Jackets, Sale",rain,'
        '"https://shop.example/a.jpg, https://shop.example/b.jpg",,Size,"S, M"',
        "11,variation,,Rain Jacket - S,1,visible,,,1,,80,,,,id:10,Size,S",
        "12,variation,,Rain Jacket - M,1,visible,,,0,70,85,,,,id:10,Size,M",
        "13,variation,ZZ-1,Ghost - L,1,visible,,,1,,10,,,,missing-sku,Size,L",
        '14,simple,MUG,Mug,-1,visible,,<p>Big mug</p>,1,,12,"Kitchen\\, Dining > Mugs",,,,,',
    ]
    parsed = parse_catalog((WOO_HEADER + "\n".join(rows)).encode())
    assert parsed.format == "woocommerce"
    jacket, mug = parsed.records
    assert (jacket.external_id, jacket.price, jacket.attributes["price_max"]) == ("woo-10", 70.0, 80.0)
    assert (jacket.description, jacket.category, jacket.image_url) == (
        "Short text",
        "Outerwear > Jackets",
        "https://shop.example/a.jpg",
    )
    assert jacket.attributes["sizes"] == ["S", "M"]
    assert (mug.category, mug.description, mug.available) == ("Kitchen, Dining > Mugs", "Big mug", False)
    assert parsed.errors == [RowError(5, "parent", "Variation's parent 'missing-sku' is not in the file.")]


# --- Google Merchant flavours -------------------------------------------------------------------


def test_atom_feed() -> None:
    parsed = parse_catalog((HERE / "atom_feed.xml").read_bytes(), filename="feed.atom")
    assert parsed.format == "google_merchant"
    tent, stove = parsed.records
    assert (tent.external_id, tent.url) == ("TENT-2P", "https://trailhead.example/products/tent-2p")
    assert tent.description == "Freestanding tent for weekend trips.\nPacks small."
    assert (tent.price, tent.currency, tent.available) == (219.0, "EUR", True), "preorder counts as available"
    assert tent.category == "Camping > Tents", "product_type wins over google_product_category"
    assert tent.attributes == {"item_group_id": "TENT", "colours": ["Green", "Grey"]}
    assert (stove.price, stove.attributes["regular_price"], stove.available) == (999.0, 1299.0, False)
    assert (stove.category, stove.attributes["google_product_category"]) == ("", "632")
    assert stove.description == "Boils a litre in 3 minutes."


def test_feed_with_only_g_prefixed_fields() -> None:
    parsed = parse_catalog((HERE / "g_only_feed.xml").read_bytes())
    scarf = parsed.records[0]
    assert (scarf.title, scarf.url, scarf.brand) == ("Merino Scarf", "https://loom.example/scarf", "Loom & Thread")
    assert scarf.description == "Soft merino wool.\nHand wash only."
    assert (scarf.price, scarf.currency) == (35.0, "GBP"), "not the shipping price nested in <g:shipping>"
    assert scarf.category == "Apparel & Accessories > Clothing Accessories > Scarves & Shawls"
    assert scarf.attributes == {"gender": "unisex", "materials": ["Merino", "Silk"]}
    assert parsed.errors == [
        RowError(2, "url", "URL 'loom.example/linen-scarf' is not an absolute http(s) address."),
        RowError(3, "price", "Price 'twenty pounds' is not a number."),
    ]
    assert parsed.total == 3


def test_tab_separated_merchant_feed() -> None:
    data = (HERE / "merchant_feed.tsv").read_bytes()
    assert detect_format(data) == "google_merchant"
    parsed = parse_catalog(data, default_currency="CAD")
    tee, mug, lamp = parsed.records
    assert (tee.price, tee.attributes["regular_price"], tee.currency) == (19.99, 25.0, "USD")
    assert tee.category == "Apparel & Accessories > Clothing > Shirts & Tops"
    assert tee.attributes == {
        "regular_price": 25.0,
        "item_group_id": "TEE",
        "gender": "male",
        "sizes": ["S"],
        "colours": ["Red", "Blue"],
        "materials": ["Cotton"],
    }
    assert (mug.price, mug.attributes["price_max"], mug.currency, mug.available) == (4.86, 6.22, "CAD", False)
    assert (mug.category, mug.image_url, mug.brand) == ("Kitchen > Mugs & Cups", "/images/mug.jpg", "")
    assert (lamp.available, lamp.category) == (True, "Home & Garden > Lighting"), "backorder is available"


def test_feed_entities_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa">]><rss><channel><item>&a;</item></channel></rss>'
    with pytest.raises(CatalogFormatError, match="entities"):
        parse_catalog(bomb)


# --- generic formats and mappings ---------------------------------------------------------------


def test_generic_csv_with_a_mapping() -> None:
    data = (
        "Artikel;Bezeichnung;Preis;Farbe;Stoff;Seite;Lager\n"
        "A-1;Leinenhemd;49,90 EUR;Weiß, Blau;Leinen;https://laden.example/a-1;ja\n"
        "A-2;Wollmantel;1.299,00 EUR;Grau;Wolle;https://laden.example/a-2;0\n"
    ).encode()
    mapping = {"id": "Artikel", "title": "Bezeichnung", "price": "Preis", "colour": "Farbe", "fabric": "stoff"}
    mapping |= {"url": "Seite", "available": "Lager"}
    shirt, coat = parse_catalog(data, mapping=mapping).records
    assert (shirt.external_id, shirt.title, shirt.price, shirt.currency) == ("A-1", "Leinenhemd", 49.9, "EUR")
    assert shirt.attributes == {"colours": ["Weiß", "Blau"], "fabric": "Leinen"}
    assert (shirt.url, coat.price, coat.available) == ("https://laden.example/a-1", 1299.0, False)


def test_a_saved_mapping_applies_to_generic_files_only_and_must_name_real_columns() -> None:
    woo_like = b"Type,SKU,Name,Cost\nmug,M1,Mug,4\n"
    assert detect_format(woo_like) == "woocommerce"
    as_export = parse_catalog(woo_like, mapping={"price": "Cost"})
    assert as_export.format == "woocommerce", "a platform export ignores the generic mapping"
    parsed = parse_catalog(woo_like, format="generic_csv", mapping={"price": "Cost"})
    assert (parsed.format, parsed.records[0].price, parsed.records[0].category) == ("generic_csv", 4.0, "mug")
    with pytest.raises(CatalogFormatError, match="names column 'Colour' for 'colours'.*columns are: Type, SKU"):
        parse_catalog(woo_like, format="generic_csv", mapping={"colours": "Colour"})
    if (REAL / APPAREL).exists():
        apparel = parse_catalog((REAL / APPAREL).read_bytes(), mapping={"title": "Name"})
        assert apparel.format == "shopify" and len(apparel.records) == 20 and not apparel.errors


def test_generic_json_with_nested_keys() -> None:
    document = {
        "products": [
            {
                "sku": "J-1",
                "info": {"name": "Canvas Tote", "text": "<p>Roomy.</p>"},
                "pricing": {"amount": "12,50", "currency": "EUR"},
                "media": [{"src": "https://cdn.example/tote.jpg"}],
                "labels": ["bags", "Canvas", "bags"],
                "stock": {"available": False},
                "dims": {"width_cm": 40},
            },
            "not a product",
        ]
    }
    mapping = {"id": "sku", "title": "info.name", "description": "info.text", "price": "pricing.amount"}
    mapping |= {"currency": "pricing.currency", "image_url": "media.0.src", "tags": "labels"}
    mapping |= {"available": "stock.available", "width_cm": "dims.width_cm"}
    parsed = parse_catalog(json.dumps(document).encode(), mapping=mapping)
    tote = parsed.records[0]
    assert (tote.title, tote.description, tote.price, tote.currency) == ("Canvas Tote", "Roomy.", 12.5, "EUR")
    assert (tote.image_url, tote.tags, tote.available) == ("https://cdn.example/tote.jpg", ("bags", "Canvas"), False)
    assert tote.attributes == {"width_cm": 40}
    assert parsed.errors == [RowError(2, "", "Item 2 is not a product object.")]


def test_generic_json_auto_maps_common_keys() -> None:
    items = [
        {"product_id": 101, "product_name": "Desk", "price": 199, "link": "https://x.example/desk", "in_stock": True},
        {"product_id": 102, "product_name": "Chair", "price": {"amount": 89.5, "currency": "GBP"}, "color": "Oak"},
    ]
    desk, chair = parse_catalog(json.dumps(items).encode()).records
    assert (desk.external_id, desk.price, desk.url, desk.available) == ("101", 199.0, "https://x.example/desk", True)
    assert (chair.price, chair.currency, chair.attributes) == (89.5, "GBP", {"colours": ["Oak"]})


# --- detection and files that are not catalogs ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Handle,Title,Body (HTML),Variant Price\nh,T,,1\n", "shopify"),
        (b"ID,Type,SKU,Name,Regular price\n1,simple,S,N,2\n", "woocommerce"),
        (b"id\ttitle\tlink\tavailability\tprice\n1\tT\thttps://x.example\tin stock\t1 USD\n", "google_merchant"),
        (b"g:id,g:title,g:price\n1,T,1 USD\n", "google_merchant"),
        (b"sku,name,price\nS,N,1\n", "generic_csv"),
        (b'  [{"id": 1}]', "generic_json"),
        (b'\xef\xbb\xbf\n<?xml version="1.0"?><rss/>', "google_merchant"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "google_merchant"),
    ],
)
def test_detect_format(data: bytes, expected: str) -> None:
    assert detect_format(data) == expected
    assert expected in FORMATS


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b" \n\t", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks like a PNG image"),
        (b"PK\x03\x04\x14\x00", "Excel workbook"),
        (b"colour,size\nred,M\n", "has no title column: expected one of title, name"),
        (b"id,title\n", "has no product rows"),
        (b'{"shop": "Mugs", "count": 2}', "not a product list"),
        (b"[1, 2, 3]", "not a product list"),
        (b'[{"id": 1,}]', "is not valid JSON"),
        (b"<?xml version='1.0'?><catalog><product/></catalog>", "expected an RSS 2.0 <rss> or Atom <feed> root"),
        (b"<rss><channel><item></channel></rss>", "is not well-formed XML"),
        (b"<rss version='2.0'><channel><title>Empty</title></channel></rss>", "has no <item> or <entry>"),
        (b"<!DOCTYPE html><html><body>Shop</body></html>", "web page"),
    ],
)
def test_not_a_catalog(data: bytes, message: str) -> None:
    with pytest.raises(CatalogFormatError, match=message):
        parse_catalog(data, filename="upload.dat")


def test_unknown_format_and_bad_currency() -> None:
    with pytest.raises(CatalogFormatError, match="Unknown catalog format 'magento'"):
        parse_catalog(b"id,title\n1,T\n", format="magento")
    with pytest.raises(ValueError, match="ISO 4217"):
        parse_catalog(b"id,title\n1,T\n", default_currency="dollars")


def test_ten_thousand_shopify_rows_group_into_five_thousand_products() -> None:
    lines = [SHOPIFY_HEADER.rstrip("\n")]
    for n in range(5000):
        lines.append(
            f'p{n},Product {n},"<p>Soft <b>cotton</b> &amp; linen, n° {n}.</p>",Acme,Tops,"a, b",true,active,'
            f"Size,S,,,{n % 90 + 9}.99,,https://cdn.example/{n}.jpg,"
        )
        lines.append(f"p{n},,,,,,,,,M,,,{n % 90 + 11}.99,,,")
    parsed = parse_catalog("\n".join(lines).encode())
    assert (len(parsed.records), parsed.errors) == (5000, [])
    assert parsed.records[-1].attributes["price_max"] == 4999 % 90 + 11.99


def test_values_no_database_could_store_are_cleaned_or_refused() -> None:
    long_title = "T" * 501
    data = (
        f"id,title,price,description\nA1,Esc\x1b Mug,4,Line\x07one\nA2,{long_title},5,x\nA3,Fine Cup,3,ok\n"
    ).encode()
    parsed = parse_catalog(data)
    assert [r.title for r in parsed.records] == ["Esc  Mug", "Fine Cup"]
    assert parsed.records[0].description == "Line one"
    assert [(e.row, e.field) for e in parsed.errors] == [(3, "title")]
    assert parsed.skipped_ids == frozenset({"A2"})


def test_json_attributes_that_are_not_finite_numbers_are_dropped() -> None:
    document = '[{"id": "J1", "title": "Jar", "weight": NaN, "volume": 1.5}]'
    mapping = {"id": "id", "title": "title", "weight": "weight", "volume": "volume"}
    [record] = parse_catalog(document.encode(), mapping=mapping).records
    assert "weight" not in record.attributes and record.attributes.get("volume") in (1.5, "1.5", ["1.5"])


# --- files without an id column: ids derived in a stable order -------------------------------


@pytest.mark.skipif(not supplier_catalog.AVAILABLE, reason=supplier_catalog.SKIP_REASON)
def test_supplier_file_without_ids_imports_with_derived_ids_and_a_warning() -> None:
    data = supplier_catalog.supplier_csv()
    parsed = parse_catalog(data, filename="supplier.csv")
    assert parsed.format == "generic_csv"
    assert parsed.errors == []
    by_title = {r.title: r for r in parsed.records}
    assert len(by_title) == len(supplier_catalog.supplier_rows())
    # A SKU when the row has one, else the product link, else the title.
    assert by_title["Beanie"].external_id == "cc-beanie"
    linked = "https://supplier.example/p/ocean-blue-shirt"
    assert by_title["Ocean Blue Shirt"].external_id == "url-" + hashlib.sha256(linked.encode()).hexdigest()[:16]
    bare = by_title["Red Sports Tee"]
    assert bare.url == ""
    assert bare.external_id == "title-" + hashlib.sha256(b"Red Sports Tee\n").hexdigest()[:16]
    (warning,) = parsed.warnings
    assert "no id column" in warning
    assert "from the SKU" in warning and "10 from the product URL" in warning
    assert "from the hash of title and URL" in warning
    assert parsed.mapping_used["id_from_sku"] == "SKU"
    assert "id" not in parsed.mapping_used
    # The same file read again (even with its rows in another order) gives the same ids.
    shuffled = supplier_catalog.supplier_csv(list(reversed(supplier_catalog.supplier_rows())))
    again = {r.title: r.external_id for r in parse_catalog(shuffled).records}
    assert again == {title: r.external_id for title, r in by_title.items()}


def test_derived_ids_follow_sku_then_gtin_then_mpn_then_url() -> None:
    data = (
        b"name,sku,ean,mpn,url\n"
        b"A,S-1,4006381333931,M-1,https://shop.example/a\n"
        b"B,,4006381333932,M-2,https://shop.example/b\n"
        b"C,,,M-3,https://shop.example/c\n"
        b"D,,,,https://shop.example/d\n"
    )
    ids = [r.external_id for r in parse_catalog(data).records]
    assert ids[:3] == ["S-1", "4006381333932", "M-3"]
    assert ids[3].startswith("url-")
    assert "1 from the SKU, 1 from the GTIN, 1 from the MPN, 1 from the product URL" in parse_catalog(data).warnings[0]


def test_a_file_with_ids_has_no_warning_and_two_same_titles_without_links_are_reported() -> None:
    assert parse_catalog(b"id,title\n1,Mug\n").warnings == ()
    parsed = parse_catalog(b"title,price\nMug,3\nMug,4\nCup,2\n")
    assert [r.title for r in parsed.records] == ["Mug", "Cup"]
    (error,) = parsed.errors
    assert (error.row, error.field) == (3, "id")
    assert "Same derived id" in error.message and "as row 2" in error.message


def test_json_products_without_ids_get_derived_ids() -> None:
    data = b'[{"name": "Mug", "gtin": "4006381333931"}, {"name": "Cup", "link": "https://shop.example/cup"}]'
    parsed = parse_catalog(data)
    assert parsed.records[0].external_id == "4006381333931"
    assert parsed.records[1].external_id.startswith("url-")
    assert parsed.warnings
