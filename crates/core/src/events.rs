//! Events: what a shopper's browser records and the sync server stores (`docs/events.md`).
//!
//! Every event carries a client-made UUID, a timestamp, a random shopper id and a session id.
//! [`Event::from_json`] parses and validates one event and says precisely what is wrong.

use crate::experiments::Arm;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest search query kept, in characters. Longer queries are cut, never rejected.
pub const MAX_QUERY_CHARS: usize = 100;
/// Longest id (event, shopper, session, request, slot, banner, variant) in bytes.
pub const MAX_ID_BYTES: usize = 64;
/// The first `n` characters of `s`. (Taken with `get`, not `String::truncate`: its check of
/// the character boundary would bring a panic message into the browser build.)
fn first_chars(s: &str, n: usize) -> &str {
    let cut = s.char_indices().nth(n).map_or(s.len(), |(c, _)| c);
    s.get(..cut).unwrap_or(s)
}

/// The latest `ts` an event may have: the last millisecond of the year 9999. A clock cannot be
/// that far off; a number beyond it is not a time, and date arithmetic on it (a report's days
/// from the first event to the last) would overflow.
pub const MAX_TS: i64 = 253_402_300_799_999;
/// Most line items in one purchase, or result ids in one search.
pub const MAX_LIST: usize = 200;
/// The page types a `page_view` may name.
pub const PAGE_TYPES: &[&str] = &["home", "collection", "search", "product", "cart", "other"];

/// One line of a purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Product id.
    pub item: u64,
    /// Quantity, at least 1.
    #[serde(default = "one")]
    pub qty: u32,
    /// Unit price in the store's currency.
    #[serde(default)]
    pub price: f64,
}

fn one() -> u32 {
    1
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventKind {
    /// A page was shown.
    PageView {
        /// Page type as the theme adapter saw it (`home`, `collection`, `search`, `product`,
        /// `cart`, `other`).
        #[serde(default)]
        page: Option<String>,
    },
    /// A product page was shown.
    ProductView {
        /// Product id.
        item: u64,
    },
    /// Items went into the cart.
    AddToCart {
        /// Product id.
        item: u64,
        /// Quantity, at least 1.
        #[serde(default = "one")]
        qty: u32,
    },
    /// Items left the cart.
    RemoveFromCart {
        /// Product id.
        item: u64,
        /// Quantity, at least 1.
        #[serde(default = "one")]
        qty: u32,
    },
    /// An order was placed.
    Purchase {
        /// The store's order id, if known (deduplicates a thank-you page and a checkout pixel).
        #[serde(default)]
        order: Option<String>,
        /// The line items.
        lines: Vec<Line>,
        /// Order value in the store's currency.
        value: f64,
        /// ISO 4217 currency code.
        #[serde(default)]
        currency: Option<String>,
    },
    /// A search was made.
    Search {
        /// The query, cut to [`MAX_QUERY_CHARS`] characters.
        query: String,
        /// Result product ids, in the order shown.
        #[serde(default)]
        results: Vec<u64>,
    },
    /// A recommendation block was seen.
    RecImpression {
        /// Id of the recommendation request that filled the block.
        request: String,
        /// The slot (placement) name.
        slot: String,
        /// The items shown, in order.
        items: Vec<u64>,
        /// The snapshot version that ranked them.
        model_version: String,
    },
    /// A recommended item was clicked.
    RecClick {
        /// Id of the recommendation request.
        request: String,
        /// The slot name.
        slot: String,
        /// 0-based position of the clicked item.
        position: u32,
        /// The clicked item.
        item: u64,
        /// The snapshot version that ranked it.
        model_version: String,
    },
    /// A banner variant was shown.
    BannerImpression {
        /// Banner (container) name.
        banner: String,
        /// The chosen variant.
        variant: String,
    },
    /// A banner variant was clicked.
    BannerClick {
        /// Banner name.
        banner: String,
        /// The clicked variant.
        variant: String,
    },
    /// The browser engine reports something about the page to the merchant, e.g.
    /// `NOTHING_RECOGNISED` when no adapter understood the theme's markup.
    Diagnostic {
        /// What happened, upper-case words joined by `_`.
        code: String,
        /// A human-readable detail, cut to [`MAX_DETAIL_CHARS`] characters.
        #[serde(default)]
        detail: Option<String>,
    },
    /// The shopper reached a placement, and this is the experience they were assigned there
    /// (`experiments::assign`). Sent once per placement and page, only when the placement was
    /// actually on the page, so reports compare shoppers who could have seen a difference.
    Exposure {
        /// The placement (`grid`, `search`, a slot or banner name).
        placement: String,
        /// The assigned arm.
        arm: Arm,
        /// The experiment, for the `control` and `treatment` arms.
        #[serde(default)]
        experiment: Option<String>,
    },
}

/// Longest diagnostic detail kept, in characters.
pub const MAX_DETAIL_CHARS: usize = 200;

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Client-made UUID.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub ts: i64,
    /// Random shopper id made on the device.
    pub shopper: String,
    /// Session id.
    pub session: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Why an event is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError(pub String);

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EventError {}

/// Whether `s` is a UUID in its canonical textual form (8-4-4-4-12 hex digits).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `text` with personal data replaced by `[redacted]`: payment card numbers
/// ([`redact_card_numbers`]), email addresses (`local@domain.tld`) and US social security
/// numbers written with separators (`123-45-6789`, `123 45 6789`). Applied to every free-text
/// field of an event (a search query, a diagnostic's detail, an order id), in the browser and
/// again on the server.
pub fn redact(text: &str) -> String {
    let mut out = if text.bytes().filter(u8::is_ascii_digit).count() >= 9 {
        redact_card_numbers(text)
    } else {
        text.to_owned()
    };
    if out.contains('@') {
        out = redact_emails(&out);
    }
    if out.bytes().filter(u8::is_ascii_digit).count() >= 9 {
        out = redact_ssns(&out);
    }
    out
}

/// Email addresses: a run of `[A-Za-z0-9._%+-]` (the local part), `@`, and a run of
/// `[A-Za-z0-9.-]` holding a dot (the domain).
fn redact_emails(text: &str) -> String {
    let b = text.as_bytes();
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let domain = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for at in 0..b.len() {
        if b[at] != b'@' || at < copied {
            continue;
        }
        let mut start = at;
        while start > copied && local(b[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < b.len() && domain(b[end]) {
            end += 1;
        }
        let host = text
            .get(at + 1..end)
            .unwrap_or_default()
            .trim_end_matches('.');
        if start < at && host.contains('.') && !host.starts_with('.') {
            out.push_str(text.get(copied..start).unwrap_or_default());
            out.push_str("[redacted]");
            copied = at + 1 + host.len();
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

// (Substrings here are taken with `get`, never by indexing: the browser build then carries no
// panic message for a slice off a character boundary, which cost it 3 KB of brotli.)

/// `ddd-dd-dddd` or `ddd dd dddd`, not inside a longer run of digits.
fn redact_ssns(text: &str) -> String {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i + 11 <= b.len() {
        let sep = b[i + 3];
        let shaped = (sep == b'-' || sep == b' ')
            && b[i + 6] == sep
            && [0, 1, 2, 4, 5, 7, 8, 9, 10].iter().all(|&k| digit(i + k));
        if shaped && !(i > 0 && digit(i - 1)) && !digit(i + 11) {
            out.push_str(text.get(copied..i).unwrap_or_default());
            out.push_str("[redacted]");
            i += 11;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// `text` with anything that looks like a payment card number replaced by `[redacted]`: a run
/// of 13 to 19 digits (spaces and dashes between them allowed) that passes the Luhn check.
/// Shoppers paste odd things into search boxes; a card number must never reach the server.
pub fn redact_card_numbers(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        // Up to 19 digits from i, allowing single spaces or dashes between them; `ends[k]` is
        // where the (k+1)-th digit ends.
        let (mut j, mut digits, mut ends) = (i, Vec::new(), Vec::new());
        while j < b.len() && digits.len() < 19 {
            if b[j].is_ascii_digit() {
                digits.push(b[j] - b'0');
                j += 1;
                ends.push(j);
            } else if (b[j] == b' ' || b[j] == b'-') && j + 1 < b.len() && b[j + 1].is_ascii_digit()
            {
                j += 1;
            } else {
                break;
            }
        }
        // The longest prefix of 13 to 19 digits that passes the Luhn check (erring on the side
        // of redacting).
        let card = (13..=digits.len()).rev().find(|&n| luhn(&digits[..n]));
        match card {
            Some(n) => {
                out.push_str(text.get(copied..i).unwrap_or_default());
                out.push_str("[redacted]");
                copied = ends[n - 1];
                i = copied;
            }
            None => i = ends.last().copied().unwrap_or(i + 1).max(i + 1),
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &d)| {
            let d = d as u32;
            if k % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

fn check_id(name: &str, v: &str) -> Result<(), EventError> {
    if v.is_empty() {
        return Err(EventError(format!("`{name}` is empty")));
    }
    if v.len() > MAX_ID_BYTES {
        return Err(EventError(format!(
            "`{name}` is longer than {MAX_ID_BYTES} bytes"
        )));
    }
    if v.contains('@') {
        return Err(EventError(format!(
            "`{name}` looks like an email address; use a random id"
        )));
    }
    Ok(())
}

impl Event {
    /// Parse and validate one event from JSON.
    pub fn from_json(v: &serde_json::Value) -> Result<Event, EventError> {
        if !v.is_object() {
            return Err(EventError("event must be a JSON object".into()));
        }
        for key in ["id", "type", "ts", "shopper", "session"] {
            if v.get(key).is_none() {
                return Err(EventError(format!("`{key}` is missing")));
            }
        }
        let mut e: Event = serde_json::from_value(v.clone()).map_err(|e| {
            let msg = e.to_string();
            // An unknown `type` is the tag's unknown variant (the list of types follows);
            // other unknown variants (an `arm`) keep serde's message.
            let tag = msg.contains("`page_view`");
            EventError(match msg.strip_prefix("unknown variant ").filter(|_| tag) {
                Some(rest) => format!(
                    "unknown event type {}",
                    rest.split(',').next().unwrap_or(rest)
                ),
                None => msg,
            })
        })?;
        e.validate()?;
        Ok(e)
    }

    /// Check the rules serde cannot express; cut an over-long query.
    pub fn validate(&mut self) -> Result<(), EventError> {
        if !is_uuid(&self.id) {
            return Err(EventError(format!("`id` `{}` is not a UUID", self.id)));
        }
        if self.ts < 0 {
            return Err(EventError(
                "`ts` must be milliseconds since the epoch, not negative".into(),
            ));
        }
        // (Checked where events are stored and reported on, not in the browser build: a device's
        // own clock harms only its own profile there, and the bytes count.)
        #[cfg(not(target_arch = "wasm32"))]
        if self.ts > MAX_TS {
            return Err(EventError(
                "`ts` is past the year 9999: it must be milliseconds since the epoch".into(),
            ));
        }
        check_id("shopper", &self.shopper)?;
        check_id("session", &self.session)?;
        match &mut self.kind {
            EventKind::PageView { page: Some(page) } if !PAGE_TYPES.contains(&page.as_str()) => {
                return Err(EventError(format!(
                    "`page` `{page}` is not one of home, collection, search, product, cart, other"
                )))
            }
            EventKind::AddToCart { qty, .. } | EventKind::RemoveFromCart { qty, .. }
                if *qty == 0 =>
            {
                return Err(EventError("`qty` must be at least 1".into()))
            }
            EventKind::Purchase {
                lines,
                value,
                order,
                ..
            } => {
                if let Some(o) = order {
                    // An order id is the store's, not typed by a shopper: one that is all
                    // digits is kept as it is (Shopify's have 13, and one in ten of those
                    // passes the Luhn check).
                    if !o.bytes().all(|b| b.is_ascii_digit()) {
                        *o = redact(o);
                    }
                }
                if lines.is_empty() {
                    return Err(EventError("`purchase` needs at least one line".into()));
                }
                if lines.len() > MAX_LIST {
                    return Err(EventError(format!(
                        "`lines` has more than {MAX_LIST} entries"
                    )));
                }
                if let Some(i) = lines.iter().position(|l| l.qty == 0) {
                    return Err(EventError(format!("`lines[{i}].qty` must be at least 1")));
                }
                if let Some(i) = lines
                    .iter()
                    .position(|l| !l.price.is_finite() || l.price < 0.0)
                {
                    return Err(EventError(format!(
                        "`lines[{i}].price` must be a number >= 0"
                    )));
                }
                if !value.is_finite() || *value < 0.0 {
                    return Err(EventError("`value` must be a number >= 0".into()));
                }
            }
            EventKind::Search { query, results } => {
                if results.len() > MAX_LIST {
                    return Err(EventError(format!(
                        "`results` has more than {MAX_LIST} entries"
                    )));
                }
                *query = redact(first_chars(query, MAX_QUERY_CHARS));
            }
            EventKind::RecImpression {
                request,
                slot,
                items,
                ..
            } => {
                check_id("request", request)?;
                check_id("slot", slot)?;
                if items.len() > MAX_LIST {
                    return Err(EventError(format!(
                        "`items` has more than {MAX_LIST} entries"
                    )));
                }
            }
            EventKind::RecClick { request, slot, .. } => {
                check_id("request", request)?;
                check_id("slot", slot)?;
            }
            EventKind::BannerImpression { banner, variant }
            | EventKind::BannerClick { banner, variant } => {
                check_id("banner", banner)?;
                check_id("variant", variant)?;
            }
            EventKind::Diagnostic { code, detail } => {
                check_id("code", code)?;
                if let Some(d) = detail {
                    *d = redact(first_chars(d, MAX_DETAIL_CHARS));
                }
            }
            EventKind::Exposure {
                placement,
                arm,
                experiment,
            } => {
                check_id("placement", placement)?;
                match (arm, experiment) {
                    (Arm::Control | Arm::Treatment, None) => {
                        return Err(EventError(
                            "`experiment` is required for the control and treatment arms".into(),
                        ))
                    }
                    (Arm::Holdout | Arm::Default, Some(_)) => {
                        return Err(EventError(
                            "`experiment` must be absent for the holdout and default arms".into(),
                        ))
                    }
                    (_, Some(id)) => check_id("experiment", id)?,
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The product this event is about, when it is about one product.
    pub fn item(&self) -> Option<u64> {
        match &self.kind {
            EventKind::ProductView { item }
            | EventKind::AddToCart { item, .. }
            | EventKind::RemoveFromCart { item, .. }
            | EventKind::RecClick { item, .. } => Some(*item),
            _ => None,
        }
    }

    /// The `type` string of this event.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            EventKind::PageView { .. } => "page_view",
            EventKind::ProductView { .. } => "product_view",
            EventKind::AddToCart { .. } => "add_to_cart",
            EventKind::RemoveFromCart { .. } => "remove_from_cart",
            EventKind::Purchase { .. } => "purchase",
            EventKind::Search { .. } => "search",
            EventKind::RecImpression { .. } => "rec_impression",
            EventKind::RecClick { .. } => "rec_click",
            EventKind::BannerImpression { .. } => "banner_impression",
            EventKind::BannerClick { .. } => "banner_click",
            EventKind::Diagnostic { .. } => "diagnostic",
            EventKind::Exposure { .. } => "exposure",
        }
    }
}

/// Parse a JSON-lines event log. Blank lines are skipped; the first bad line stops parsing with
/// its 1-based line number.
pub fn parse_json_lines(text: &str) -> Result<Vec<Event>, (usize, EventError)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| (n + 1, EventError(format!("not JSON: {e}"))))?;
        out.push(Event::from_json(&v).map_err(|e| (n + 1, e))?);
    }
    Ok(out)
}

#[cfg(test)]
mod redaction_tests {
    use super::redact_card_numbers as r;

    #[test]
    fn card_numbers_are_redacted_and_other_numbers_kept() {
        // Test card numbers that pass the Luhn check.
        assert_eq!(r("4111111111111111"), "[redacted]");
        assert_eq!(r("pay 4111 1111 1111 1111 now"), "pay [redacted] now");
        assert_eq!(r("5500-0000-0000-0004"), "[redacted]");
        assert_eq!(
            r("378282246310005 and 6011111111111117"),
            "[redacted] and [redacted]"
        );
        // Not cards: too short, failing Luhn, or part of a longer number.
        assert_eq!(r("order 1234567890"), "order 1234567890");
        assert_eq!(r("4111111111111112"), "4111111111111112");
        // A card number followed by more digits is still caught.
        assert_eq!(
            r("pay 4111 1111 1111 1111 2 items"),
            "pay [redacted] 2 items"
        );
        assert_eq!(r("mug 12 pack"), "mug 12 pack");
        assert_eq!(r("café 4111111111111111 ✓"), "café [redacted] ✓");
    }

    #[test]
    fn emails_and_ssns_are_redacted_and_look_alikes_kept() {
        use super::redact;
        assert_eq!(redact("jane.doe+shop@example.co.uk"), "[redacted]");
        assert_eq!(
            redact("gift for a.b@mail.example, and c@d.io."),
            "gift for [redacted], and [redacted]."
        );
        assert_eq!(redact("ssn 123-45-6789 here"), "ssn [redacted] here");
        assert_eq!(redact("123 45 6789"), "[redacted]");
        // Not an email: no dot in the domain, or nothing before the @.
        assert_eq!(redact("mug @ home"), "mug @ home");
        assert_eq!(redact("me@localhost"), "me@localhost");
        assert_eq!(redact("@shop.com"), "@shop.com");
        // Not SSNs: mixed separators, no separators, part of a longer number.
        assert_eq!(redact("123-45 6789"), "123-45 6789");
        assert_eq!(redact("123456789"), "123456789");
        assert_eq!(redact("9123-45-6789"), "9123-45-6789");
        // All three at once.
        assert_eq!(
            redact("x@y.com, 4111111111111111; 078-05-1120"),
            "[redacted], [redacted]; [redacted]"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c";

    fn base(extra: serde_json::Value) -> serde_json::Value {
        let mut v =
            json!({"id": ID, "ts": 1_764_000_000_000i64, "shopper": "s-1", "session": "x-1"});
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    }

    #[test]
    fn parses_every_type() {
        let cases = [
            json!({"type": "page_view", "page": "home"}),
            json!({"type": "product_view", "item": 5}),
            json!({"type": "add_to_cart", "item": 5, "qty": 2}),
            json!({"type": "remove_from_cart", "item": 5}),
            json!({"type": "purchase", "order": "1001", "lines": [{"item": 5, "qty": 1, "price": 2.5}], "value": 2.5, "currency": "EUR"}),
            json!({"type": "search", "query": "mug", "results": [5, 6]}),
            json!({"type": "rec_impression", "request": "r1", "slot": "similar", "items": [5, 6], "model_version": "v3"}),
            json!({"type": "rec_click", "request": "r1", "slot": "similar", "position": 1, "item": 6, "model_version": "v3"}),
            json!({"type": "banner_impression", "banner": "hero", "variant": "vip"}),
            json!({"type": "banner_click", "banner": "hero", "variant": "vip"}),
            json!({"type": "diagnostic", "code": "NOTHING_RECOGNISED", "detail": "/pages/about"}),
            json!({"type": "exposure", "placement": "grid", "arm": "treatment", "experiment": "grid-1"}),
            json!({"type": "exposure", "placement": "similar", "arm": "holdout"}),
        ];
        for c in cases {
            let t = c["type"].as_str().unwrap().to_owned();
            let e = Event::from_json(&base(c)).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(e.type_name(), t);
            // Round trip through JSON.
            let back = Event::from_json(&serde_json::to_value(&e).unwrap()).unwrap();
            assert_eq!(back, e);
        }
    }

    #[test]
    fn an_order_id_of_digits_is_kept_and_card_numbers_around_it_are_not() {
        let order = |o: &str| {
            let e = Event::from_json(&base(json!({"type": "purchase", "order": o,
                "lines": [{"item": 5, "qty": 1, "price": 2.5}], "value": 2.5})))
            .unwrap();
            match e.kind {
                EventKind::Purchase { order, .. } => order.unwrap(),
                other => panic!("{other:?}"),
            }
        };
        // A 13-digit id that passes the Luhn check, as one in ten of Shopify's do.
        assert_eq!(redact_card_numbers("4222222222222"), "[redacted]");
        assert_eq!(order("4222222222222"), "4222222222222");
        assert_eq!(order("#4222222222222"), "#[redacted]");
        assert_eq!(order("card 4111 1111 1111 1111"), "card [redacted]");
        assert_eq!(order("jane@example.com"), "[redacted]");
    }

    #[test]
    fn a_bad_page_type_names_every_allowed_one() {
        let e = Event::from_json(&base(json!({"type": "page_view", "page": "blog"}))).unwrap_err();
        for t in PAGE_TYPES {
            assert!(e.0.contains(t), "{e}");
        }
    }

    #[test]
    fn precise_errors() {
        let cases = [
            (json!(7), "event must be a JSON object"),
            (json!({"type": "page_view"}), "`id` is missing"),
            (
                base(json!({"type": "teleport"})),
                "unknown event type `teleport`",
            ),
            (
                base(json!({"type": "product_view"})),
                "missing field `item`",
            ),
            (
                base(json!({"type": "product_view", "item": "5"})),
                "invalid type: string \"5\", expected u64",
            ),
            (
                base(json!({"type": "product_view", "item": 5, "id": "abc"})),
                "`id` `abc` is not a UUID",
            ),
            (
                base(json!({"type": "page_view", "shopper": "a@b.com"})),
                "`shopper` looks like an email address; use a random id",
            ),
            (
                base(json!({"type": "add_to_cart", "item": 5, "qty": 0})),
                "`qty` must be at least 1",
            ),
            (
                base(json!({"type": "purchase", "lines": [], "value": 1})),
                "`purchase` needs at least one line",
            ),
            (
                base(json!({"type": "purchase", "lines": [{"item": 1, "price": -1}], "value": 1})),
                "`lines[0].price` must be a number >= 0",
            ),
            (
                base(json!({"type": "page_view", "ts": -5})),
                "`ts` must be milliseconds since the epoch, not negative",
            ),
            (
                base(json!({"type": "page_view", "ts": i64::MAX})),
                "`ts` is past the year 9999: it must be milliseconds since the epoch",
            ),
            (
                base(json!({"type": "page_view", "color": "red"})),
                "unknown field `color`",
            ),
            (
                base(json!({"type": "exposure", "placement": "grid", "arm": "control"})),
                "`experiment` is required for the control and treatment arms",
            ),
            (
                base(
                    json!({"type": "exposure", "placement": "grid", "arm": "holdout", "experiment": "x"}),
                ),
                "`experiment` must be absent for the holdout and default arms",
            ),
            (
                base(json!({"type": "exposure", "placement": "grid", "arm": "sometimes"})),
                "unknown variant `sometimes`",
            ),
        ];
        for (v, want) in cases {
            let got = Event::from_json(&v).unwrap_err().0;
            assert!(got.starts_with(want), "for {v}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn long_queries_are_cut_not_rejected() {
        let q = "é".repeat(150);
        let e = Event::from_json(&base(json!({"type": "search", "query": q}))).unwrap();
        let EventKind::Search { query, .. } = e.kind else {
            unreachable!()
        };
        assert_eq!(query.chars().count(), MAX_QUERY_CHARS);
        // A diagnostic's detail too, and a short one stays whole.
        for (n, want) in [(300, MAX_DETAIL_CHARS), (7, 7)] {
            let detail = "ü".repeat(n);
            let e = Event::from_json(&base(
                json!({"type": "diagnostic", "code": "X", "detail": detail}),
            ))
            .unwrap();
            let EventKind::Diagnostic { detail, .. } = e.kind else {
                unreachable!()
            };
            assert_eq!(detail.unwrap(), "ü".repeat(want));
        }
    }

    #[test]
    fn json_lines_report_the_line() {
        let good =
            serde_json::to_string(&base(json!({"type": "product_view", "item": 1}))).unwrap();
        let text = format!("{good}\n\n{good}\n{{oops\n");
        let (line, err) = parse_json_lines(&text).unwrap_err();
        assert_eq!(line, 4);
        assert!(err.0.starts_with("not JSON"), "{err}");
        assert_eq!(
            parse_json_lines(&format!("{good}\n{good}")).unwrap().len(),
            2
        );
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid(ID));
        assert!(!is_uuid("0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6"));
        assert!(!is_uuid("0b7e4c1a+9f2d-4e5b-8c3a-1d2e3f4a5b6c"));
    }
}
