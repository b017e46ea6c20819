//! `tailor import-catalog` and `tailor import-events`: bring a store's existing catalog and
//! history in. Input is checked completely before anything is written; errors name the line or
//! item and the field; a catalog is replaced atomically (write a temporary file, then rename),
//! so a failed import never leaves a half-updated catalog.

use crate::catalog::{Catalog, Product};
use crate::ingest::stored;
use crate::store::{InsertOutcome, Store};
use serde_json::Value;
use std::path::Path;
use tailor_core::events::{parse_json_lines, Event, EventKind};

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn price_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.split_whitespace().next()?.parse().ok(),
        _ => None,
    }
}

/// Products from Shopify's `products.json` (`{"products": [...]}`).
pub fn parse_shopify(text: &str) -> Result<Vec<Product>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let list = v["products"]
        .as_array()
        .ok_or("expected an object with a `products` array")?;
    let mut out = Vec::with_capacity(list.len());
    for (i, p) in list.iter().enumerate() {
        let field = |name: &str| format!("product #{i}: `{name}`");
        let id = p["id"]
            .as_u64()
            .ok_or_else(|| format!("{} must be a positive integer", field("id")))?;
        let title = p["title"]
            .as_str()
            .ok_or_else(|| format!("{} is missing", field("title")))?;
        let handle = match p["handle"].as_str() {
            Some(h) if !h.is_empty() => h.to_owned(),
            _ => slug(title),
        };
        let variants = p["variants"].as_array().cloned().unwrap_or_default();
        let mut price: Option<f64> = None;
        for (k, v) in variants.iter().enumerate() {
            let vp = price_of(&v["price"]).ok_or_else(|| {
                format!("product #{i} (id {id}): `variants[{k}].price` is not a price")
            })?;
            price = Some(price.map_or(vp, |p: f64| p.min(vp)));
        }
        let available = variants.is_empty()
            || variants
                .iter()
                .any(|v| v["available"].as_bool().unwrap_or(true));
        let tags = match &p["tags"] {
            Value::String(s) => s
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            Value::Array(a) => a
                .iter()
                .filter_map(|t| t.as_str())
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        };
        out.push(Product {
            id,
            handle,
            title: title.to_owned(),
            category: p["product_type"].as_str().unwrap_or("").to_owned(),
            price: price.unwrap_or(0.0),
            popularity: 0.0,
            sku: None,
            vendor: p["vendor"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(String::from),
            tags,
            image: p["images"][0]["src"].as_str().map(String::from),
            available,
        });
    }
    Ok(out)
}

/// Split one CSV/TSV line into fields (double quotes may wrap a field and `""` is a quote).
fn split_line(line: &str, sep: char) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if cur.is_empty() => quoted = true,
            c if c == sep && !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    fields.push(cur);
    Ok(fields)
}

/// Products from a Google Merchant Center style feed (CSV or TSV with a header naming at least
/// `id` and `title`; also read: `link`, `image_link`, `price`, `availability`, `brand`,
/// `product_type`). Non-numeric ids get a stable numeric id; the original becomes the SKU.
pub fn parse_feed(text: &str) -> Result<Vec<Product>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("empty feed")?;
    let sep = if header.contains('\t') { '\t' } else { ',' };
    let cols: Vec<String> = split_line(header, sep)
        .map_err(|e| format!("line 1: {e}"))?
        .into_iter()
        .map(|c| c.trim().to_lowercase())
        .collect();
    let col = |name: &str| cols.iter().position(|c| c == name);
    let id_col = col("id").ok_or("line 1: the header has no `id` column")?;
    let title_col = col("title").ok_or("line 1: the header has no `title` column")?;
    let mut out = Vec::new();
    // Each product id, with the line and the text it came from.
    let mut seen: std::collections::HashMap<u64, (usize, String)> = Default::default();
    for (n, line) in lines {
        let line_no = n + 1;
        let f = split_line(line, sep).map_err(|e| format!("line {line_no}: {e}"))?;
        let get = |c: Option<usize>| c.and_then(|i| f.get(i)).map(|s| s.trim()).unwrap_or("");
        let raw_id = get(Some(id_col));
        if raw_id.is_empty() {
            return Err(format!("line {line_no}: `id` is empty"));
        }
        let title = get(Some(title_col));
        if title.is_empty() {
            return Err(format!("line {line_no}: `title` is empty"));
        }
        let (id, sku) = match raw_id.parse::<u64>() {
            Ok(id) => (id, None),
            Err(_) => (fnv(raw_id) >> 11, Some(raw_id.to_owned())),
        };
        if let Some((first, first_raw)) = seen.insert(id, (line_no, raw_id.to_owned())) {
            return Err(if first_raw == raw_id {
                format!("line {line_no}: id `{raw_id}` repeats line {first}'s")
            } else {
                format!(
                    "line {line_no}: id `{raw_id}` becomes the same product id ({id}) as line {first}'s `{first_raw}`; give one of them another id"
                )
            });
        }
        let price_text = get(col("price"));
        let price = if price_text.is_empty() {
            0.0
        } else {
            price_text
                .split_whitespace()
                .next()
                .and_then(|p| p.parse::<f64>().ok())
                .filter(|p| p.is_finite() && *p >= 0.0)
                .ok_or_else(|| format!("line {line_no}: `price` `{price_text}` is not a price"))?
        };
        let link = get(col("link"));
        let handle = link
            .split("/products/")
            .nth(1)
            .map(|h| h.split(['?', '#', '/']).next().unwrap_or("").to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| slug(title));
        let availability = get(col("availability")).to_lowercase().replace('_', " ");
        let available = !matches!(availability.as_str(), "out of stock" | "discontinued");
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        out.push(Product {
            id,
            handle,
            title: title.to_owned(),
            category: get(col("product_type")).replace(" > ", "/"),
            price,
            popularity: 0.0,
            sku,
            vendor: opt(get(col("brand"))),
            tags: Vec::new(),
            image: opt(get(col("image_link"))),
            available,
        });
    }
    Ok(out)
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogImport {
    /// Products written.
    pub products: usize,
    /// The new catalog version.
    pub version: u64,
}

/// Import the catalog in `input` (Shopify `products.json`, or a CSV/TSV feed) into the catalog
/// file `out`, replacing it atomically and increasing its version.
pub fn import_catalog(input: &Path, out: &Path) -> Result<CatalogImport, String> {
    let text = std::fs::read_to_string(input)
        .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let products = if text.trim_start().starts_with('{') {
        parse_shopify(&text)
    } else {
        parse_feed(&text)
    }
    .map_err(|e| format!("{}: {e}", input.display()))?;
    let previous = if out.exists() {
        Some(Catalog::load(out).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let catalog = Catalog {
        version: previous.as_ref().map_or(1, |c| c.version + 1),
        source: previous.and_then(|c| c.source),
        products,
    };
    // The same rules the server applies when it loads a catalog.
    let json = serde_json::to_string_pretty(&catalog).map_err(|e| e.to_string())?;
    Catalog::parse(&json).map_err(|e| match e {
        crate::catalog::ParseError::Json(e) => format!("{}: {e}", input.display()),
        crate::catalog::ParseError::Invalid(why) => format!("{}: {why}", input.display()),
    })?;
    let tmp = out.with_extension("json.importing");
    std::fs::write(&tmp, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, out).map_err(|e| format!("cannot replace {}: {e}", out.display()))?;
    Ok(CatalogImport {
        products: catalog.products.len(),
        version: catalog.version,
    })
}

/// Events from session-rec TSV (`SessionId ItemId Time`, seconds): one product view per row,
/// with ids derived from the row's content so that importing the same file twice stores
/// nothing new.
pub fn events_from_session_rec(text: &str) -> Result<Vec<Event>, String> {
    let sessions = tailor_core::eval::read_session_rec_tsv(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for s in sessions {
        for (k, &(item, t)) in s.events.iter().enumerate() {
            let h = fnv(&format!("{}\u{1f}{k}\u{1f}{item}\u{1f}{t}", s.key));
            let h2 = fnv(&format!("{h}{}", s.key));
            out.push(Event {
                id: format!(
                    "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    h >> 32,
                    (h >> 16) & 0xffff,
                    h & 0xfff,
                    h2 & 0xfff,
                    (h2 >> 16) & 0xffff_ffff_ffff
                ),
                ts: (t * 1000.0).round().max(0.0) as i64,
                shopper: format!("import-{}", s.key),
                session: format!("import-{}", s.key),
                kind: EventKind::ProductView { item },
            });
        }
    }
    Ok(out)
}

/// Import events (our JSON lines, or session-rec TSV) for `site`: all are validated first,
/// then stored in one transaction; ids already stored are skipped.
pub fn import_events(
    store: &Store,
    site: &str,
    input: &Path,
    session_rec: bool,
) -> Result<InsertOutcome, String> {
    let text = std::fs::read_to_string(input)
        .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let events = if session_rec {
        events_from_session_rec(&text)
    } else {
        parse_json_lines(&text).map_err(|(line, e)| format!("line {line}: {e}"))
    }
    .map_err(|e| format!("{}: {e}", input.display()))?;
    let rows: Vec<_> = events.iter().map(stored).collect();
    store
        .insert_events(site, &rows, 0)
        .map_err(|e| format!("storing the events failed (nothing was stored): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_shopify_products_json() {
        let text = r#"{"products":[{"id":7001,"title":"Red Mug","handle":"red-mug","vendor":"Acme",
            "product_type":"Kitchen","tags":"gift, sale","variants":[{"price":"12.50","available":false},
            {"price":"9.99","available":true}],"images":[{"src":"https://cdn.example/red.jpg"}]},
            {"id":7002,"title":"Tote Bag","variants":[]}]}"#;
        let p = parse_shopify(text).unwrap();
        assert_eq!(p[0].price, 9.99);
        assert!(p[0].available);
        assert_eq!(p[0].tags, vec!["gift", "sale"]);
        assert_eq!(p[0].vendor.as_deref(), Some("Acme"));
        assert_eq!(p[0].image.as_deref(), Some("https://cdn.example/red.jpg"));
        assert_eq!(p[1].handle, "tote-bag");
        let e =
            parse_shopify(r#"{"products":[{"id":1,"title":"x","variants":[{"price":"abc"}]}]}"#)
                .unwrap_err();
        assert_eq!(e, "product #0 (id 1): `variants[0].price` is not a price");
        assert_eq!(
            parse_shopify(r#"{"products":[{"title":"x"}]}"#).unwrap_err(),
            "product #0: `id` must be a positive integer"
        );
    }

    #[test]
    fn reads_merchant_center_feeds() {
        let csv = "id,title,link,image_link,price,availability,brand,product_type\n\
                   SKU-1,\"Mug, red\",https://shop.example/products/red-mug?v=1,https://cdn/x.jpg,12.00 USD,in stock,Acme,Home > Kitchen\n\
                   42,Bag,,,3,out of stock,,\n";
        let p = parse_feed(csv).unwrap();
        assert_eq!(p[0].title, "Mug, red");
        assert_eq!(p[0].handle, "red-mug");
        assert_eq!(p[0].sku.as_deref(), Some("SKU-1"));
        assert_eq!(p[0].category, "Home/Kitchen");
        assert_eq!(p[0].price, 12.0);
        assert_eq!(p[1].id, 42);
        assert!(!p[1].available);
        let tsv = "id\ttitle\tprice\n1\tA\t2.5\n";
        assert_eq!(parse_feed(tsv).unwrap()[0].price, 2.5);
        assert_eq!(
            parse_feed("id,title,price\n1,A,cheap\n").unwrap_err(),
            "line 2: `price` `cheap` is not a price"
        );
        assert_eq!(
            parse_feed("title\nA\n").unwrap_err(),
            "line 1: the header has no `id` column"
        );
        assert_eq!(
            parse_feed("id,title\n1,\"open\n").unwrap_err(),
            "line 2: a quoted field is not closed"
        );
        // Repeated ids name both lines: the same text, or two texts that become one id.
        assert_eq!(
            parse_feed("id,title\nSKU-1,A\n\nSKU-1,B\n").unwrap_err(),
            "line 4: id `SKU-1` repeats line 2's"
        );
        assert_eq!(
            parse_feed("id,title\n01,A\n1,B\n").unwrap_err(),
            "line 3: id `1` becomes the same product id (1) as line 2's `01`; give one of them another id"
        );
    }

    #[test]
    fn a_failed_import_leaves_the_catalog_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("catalog.json");
        let good = dir.path().join("feed.csv");
        std::fs::write(&good, "id,title,price\n1,A,2\n2,B,3\n").unwrap();
        assert_eq!(
            import_catalog(&good, &out).unwrap(),
            CatalogImport {
                products: 2,
                version: 1
            }
        );
        let before = std::fs::read(&out).unwrap();
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "id,title,price\n1,A,2\n1,B,3\n").unwrap();
        let e = import_catalog(&bad, &out).unwrap_err();
        assert!(e.ends_with("line 3: id `1` repeats line 2's"), "{e}");
        assert_eq!(std::fs::read(&out).unwrap(), before);
        assert_eq!(import_catalog(&good, &out).unwrap().version, 2);
        assert_eq!(Catalog::load(&out).unwrap().products.len(), 2);
    }

    #[test]
    fn importing_the_same_history_twice_stores_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let tsv = dir.path().join("h.tsv");
        std::fs::write(
            &tsv,
            "SessionId\tItemId\tTime\n1\t10\t100.5\n1\t11\t101\n2\t10\t200\n",
        )
        .unwrap();
        let first = import_events(&store, "demo", &tsv, true).unwrap();
        assert_eq!(first.inserted, 3);
        let again = import_events(&store, "demo", &tsv, true).unwrap();
        assert_eq!((again.inserted, again.duplicates), (0, 3));
        let views = store.training_events("demo").unwrap().views;
        assert_eq!(views[0], ("import-1".to_string(), 10, 100_500));
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, "{\"id\": 1}\n").unwrap();
        let e = import_events(&store, "demo", &bad, false).unwrap_err();
        assert!(e.ends_with("line 1: `type` is missing"), "{e}");
        assert_eq!(store.event_count("demo").unwrap(), 3);
    }
}
