#!/usr/bin/env python3
"""Derive the demo store's catalog and collection page from the UCI Online Retail data.

Source: UCI Online Retail (Chen, Sain, Guo 2012), CC BY 4.0, French customers' invoice lines
(../shared/data/uci-online-retail/france.csv). This script is run by hand when the demo catalog
should change; its outputs (www/catalog.json, www/collection.html) are committed, the source
data is not. Deterministic: the same input always gives byte-identical output.

    python3 scripts/make_demo_catalog.py [path/to/france.csv] [--products N --out DIR]

`--products N --out DIR` writes a catalog of the N most ordered products (and its collection
page) into DIR instead of www/: scripts/bench-page.mjs measures a 500-product store that way.
"""
import csv
import html
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "uci-online-retail" / "france.csv"
N_PRODUCTS = 300
GRID_SIZE = 48
ID_BASE = 7_400_000_000_000  # Shopify-sized numeric product ids
NON_PRODUCTS = {"AMAZONFEE", "B", "BANK CHARGES", "C2", "CRUK", "D", "DOT", "M", "PADS", "POST", "S"}

# First matching keyword decides the category; the order matters ("CHRISTMAS" before "CANDLE").
CATEGORIES = [
    ("Christmas", ["CHRISTMAS", "XMAS", "ADVENT", "SANTA", "REINDEER", "SNOWFLAKE"]),
    ("Lunch & picnic", ["LUNCH", "PICNIC", "BOTTLE", "FLASK"]),
    ("Kitchen & baking", ["CAKE", "BAKING", "MUG", "CUP", "PLATE", "BOWL", "TEA", "SPOON", "JAM",
                          "NAPKIN", "KITCHEN", "TRAY", "TIN", "APRON", "CUTLERY", "GLASS", "STRAW"]),
    ("Bags", ["BAG", "SHOPPER", "TOTE"]),
    ("Candles & lights", ["CANDLE", "T-LIGHT", "TLIGHT", "LANTERN", "LIGHT", "LAMP"]),
    ("Stationery & party", ["CARD", "PAPER", "NOTEBOOK", "PENCIL", "PEN ", "STICKER", "WRAP",
                            "BUNTING", "PARTY", "BALLOON", "CHALK", "ERASER", "RIBBON", "GIFT TAG"]),
    ("Toys & games", ["TOY", "GAME", "DOLL", "PUZZLE", "SKITTLES", "DOMINO", "SPACEBOY", "CIRCUS",
                      "PLAYHOUSE", "RETROSPOT CHILDRENS", "CHILDRENS", "BLOCK"]),
    ("Garden", ["GARDEN", "PLANT", "FLOWER POT", "WATERING", "BIRD", "SEED"]),
    ("Clocks & decor", ["CLOCK", "SIGN", "FRAME", "HEART", "DECORATION", "HANGING", "ORNAMENT",
                        "WREATH", "CUSHION", "DOORMAT", "HOOK", "BOX", "STORAGE", "JAR"]),
]


def category_of(desc: str) -> str:
    for name, words in CATEGORIES:
        if any(w in desc for w in words):
            return name
    return "Gifts & home"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def title(text: str) -> str:
    small = {"and", "of", "the", "with", "in", "a"}
    words = text.strip().lower().split()
    return " ".join(w if (i and w in small) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def main() -> None:
    args = sys.argv[1:]
    n_products, out = N_PRODUCTS, ROOT / "www"
    if "--products" in args:
        i = args.index("--products")
        n_products = int(args[i + 1])
        del args[i:i + 2]
    if "--out" in args:
        i = args.index("--out")
        out = Path(args[i + 1])
        del args[i:i + 2]
    src = Path(args[0]) if args else SOURCE
    invoices = defaultdict(set)
    prices = defaultdict(list)
    names = {}
    with src.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["StockCode"].strip().upper()
            if row["InvoiceNo"].startswith("C") or code in NON_PRODUCTS:
                continue
            desc = " ".join(row["Description"].split())
            if not desc:
                continue
            invoices[code].add(row["InvoiceNo"])
            prices[code].append(float(row["UnitPrice"]))
            names.setdefault(code, desc)
    ranked = sorted(invoices, key=lambda c: (-len(invoices[c]), c))[:n_products]
    if len(ranked) < n_products:
        sys.exit(f"{src} has only {len(ranked)} products, not {n_products}")
    products = []
    seen_handles = set()
    for code in sorted(ranked):
        desc = names[code]
        handle = slug(desc)
        if handle in seen_handles:
            handle = f"{handle}-{slug(code)}"
        seen_handles.add(handle)
        products.append({
            "id": ID_BASE + len(products) + 1,
            "handle": handle,
            "title": title(desc),
            "category": category_of(desc),
            "price": round(statistics.median(prices[code]), 2),
            "popularity": len(invoices[code]),
            "sku": code,
        })
    catalog = {
        "version": 1,
        "source": "UCI Online Retail (Chen, Sain, Guo 2012), CC BY 4.0; French customers' orders",
        "products": products,
    }
    (out / "catalog.json").write_text(json.dumps(catalog, indent=1) + "\n", encoding="utf-8")

    # The collection page shows the grid the way the theme sorts it: alphabetically, A-Z.
    grid = sorted(products, key=lambda p: (p["title"], p["id"]))[:GRID_SIZE]
    cards = "\n".join(card(p) for p in grid)
    page = (ROOT / "scripts" / "collection.template.html").read_text(encoding="utf-8")
    (out / "collection.html").write_text(page.replace("{{CARDS}}", cards), encoding="utf-8")
    print(f"wrote {len(products)} products and a {len(grid)}-card collection page")


def card(p: dict) -> str:
    section = "template--demo__product-grid"
    t = html.escape(p["title"])
    return f"""        <li class="grid__item">
          <div class="card-wrapper product-card-wrapper underline-links-hover">
            <div class="card card--standard card--text" style="--ratio-percent: 100%;">
              <div class="card__content">
                <div class="card__information">
                  <h3 class="card__heading h5" id="title-{section}-{p['id']}">
                    <a href="/products/{p['handle']}" id="CardLink-{section}-{p['id']}" class="full-unstyled-link"
                       aria-labelledby="CardLink-{section}-{p['id']} Badge-{section}-{p['id']}">{t}</a>
                  </h3>
                  <div class="card-information">
                    <span class="caption-large light">{html.escape(p['category'])}</span>
                    <div class="price"><span class="price-item price-item--regular">&pound;{p['price']:.2f}</span></div>
                  </div>
                </div>
              </div>
            </div>
          </div>
        </li>"""


if __name__ == "__main__":
    main()
