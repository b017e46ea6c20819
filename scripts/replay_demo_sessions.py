#!/usr/bin/env python3
"""Turn the real UCI Online Retail orders of French customers into Tailor events for the demo.

Each invoice becomes one shopping session of one customer: a product view of each line's product
(in the invoice's order, a second apart), then a purchase of those lines. Only products in the
demo catalog (matched by SKU) are kept. Event ids are derived from the invoice and line, so
importing twice stores everything once.

    python3 scripts/replay_demo_sessions.py [france.csv] > events.jsonl
    tailor import-events --site demo --db .tailor/demo.db events.jsonl

The data: UCI Online Retail (Chen, Sain, Guo 2012), CC BY 4.0. It is read from ../shared/data
and never committed.
"""
import csv
import datetime
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = os.path.join(ROOT, "..", "shared", "data", "uci-online-retail", "france.csv")


def uuid_for(*parts):
    h = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    if not os.path.exists(path):
        sys.exit(f"replay: {path} not found (the UCI Online Retail France file)")
    with open(os.path.join(ROOT, "www", "catalog.json"), encoding="utf-8") as f:
        catalog = json.load(f)
    by_sku = {p["sku"]: p for p in catalog["products"] if p.get("sku")}
    invoices = {}
    with open(path, newline="", encoding="utf-8") as f:
        for line_no, row in enumerate(csv.DictReader(f), start=2):
            invoice = row["InvoiceNo"].strip()
            if invoice.startswith("C"):
                continue  # a cancellation
            product = by_sku.get(row["StockCode"].strip().upper())
            if product is None:
                continue
            try:
                qty = int(row["Quantity"])
                when = datetime.datetime.strptime(row["InvoiceDate"].strip(), "%m/%d/%Y %H:%M")
            except ValueError as e:
                sys.exit(f"replay: {path}:{line_no}: {e}")
            if qty < 1:
                continue
            customer = (row["CustomerID"] or "guest").strip().split(".")[0]
            inv = invoices.setdefault(invoice, {"customer": customer, "ts": when, "lines": []})
            inv["lines"].append((product, qty))
    out = sys.stdout
    events = 0
    for invoice, inv in sorted(invoices.items(), key=lambda kv: (kv[1]["ts"], kv[0])):
        base = int(inv["ts"].replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
        shopper = "uci-" + inv["customer"]
        session = "inv-" + invoice
        for k, (product, _) in enumerate(inv["lines"]):
            out.write(json.dumps({
                "id": uuid_for(invoice, str(k), "view"), "type": "product_view", "item": product["id"],
                "shopper": shopper, "session": session, "ts": base + k * 1000,
            }) + "\n")
            events += 1
        lines = [{"item": p["id"], "qty": q, "price": p["price"]} for p, q in inv["lines"]][:200]
        out.write(json.dumps({
            "id": uuid_for(invoice, "purchase"), "type": "purchase", "order": invoice,
            "lines": lines, "value": round(sum(l["qty"] * l["price"] for l in lines), 2),
            "currency": "GBP", "shopper": shopper, "session": session,
            "ts": base + len(inv["lines"]) * 1000,
        }) + "\n")
        events += 1
    print(f"replay: {len(invoices)} invoices, {events} events", file=sys.stderr)


if __name__ == "__main__":
    main()
