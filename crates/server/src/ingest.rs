//! Parsing and validating an event batch (`POST /v1/events`).
//!
//! The batch is `{"site": "demo", "events": [ {...}, ... ]}`. Each event is checked on its own
//! by `tailor_core::events`: a bad event is rejected with its reason while the good ones are
//! stored. A body that is not JSON of that shape is rejected whole, and nothing is written.

use crate::store::StoredEvent;
use serde::Deserialize;
use serde_json::Value;
use tailor_core::events::Event;

/// The envelope of a batch. Events stay raw JSON so each can fail on its own.
#[derive(Debug, Deserialize)]
pub struct Batch {
    /// Site key.
    pub site: String,
    /// The site's public write key, when the site requires one.
    #[serde(default)]
    pub key: Option<String>,
    /// The events, validated one by one.
    pub events: Vec<Value>,
    /// Events the device had to drop since its last acknowledged report, by reason
    /// (`overflow`, `rateLimited`, `oversized`, `rejected`, `expired`); added to
    /// `tailor_device_events_dropped_total`.
    #[serde(default)]
    pub dropped: std::collections::BTreeMap<String, u64>,
}

/// Parse the batch envelope.
pub fn parse_batch(body: &[u8]) -> Result<Batch, String> {
    serde_json::from_slice::<Batch>(body).map_err(|e| format!("malformed event batch: {e}"))
}

/// Validate one event and turn it into a storage row.
pub fn validate_event(v: &Value) -> Result<StoredEvent, String> {
    let e = Event::from_json(v).map_err(|e| e.0)?;
    Ok(stored(&e))
}

/// Whether a `User-Agent` is a crawler, a monitor or a headless browser: its events are stored
/// but flagged, and never train the model.
pub fn is_bot(user_agent: &str) -> bool {
    const MARKERS: &[&str] = &[
        "bot",
        "crawl",
        "spider",
        "slurp",
        "headless",
        "lighthouse",
        "pingdom",
        "phantomjs",
        "puppeteer",
        "selenium",
    ];
    let ua = user_agent.to_ascii_lowercase();
    MARKERS.iter().any(|m| ua.contains(m))
}

/// The storage row of a valid event; the full event is kept as JSON.
pub fn stored(e: &Event) -> StoredEvent {
    StoredEvent {
        id: e.id.clone(),
        kind: e.type_name().to_owned(),
        item: e.item(),
        shopper: e.shopper.clone(),
        session: e.session.clone(),
        ts: e.ts,
        payload: serde_json::to_string(e).unwrap_or_default(),
        bot: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_a_product_view_and_keeps_the_payload() {
        let e = validate_event(
            &json!({"id":"0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c","type":"product_view",
            "item":5,"shopper":"s","session":"x","ts":10}),
        )
        .unwrap();
        assert_eq!(e.item, Some(5));
        assert_eq!(e.kind, "product_view");
        let back: Value = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(back["item"], 5);
    }

    #[test]
    fn recognises_bots_and_headless_browsers() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
        ] {
            assert!(is_bot(ua), "{ua}");
        }
        assert!(!is_bot(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
        ));
    }

    #[test]
    fn gives_the_core_reason() {
        assert_eq!(
            validate_event(&json!({"type": "page_view"})).unwrap_err(),
            "`id` is missing"
        );
    }

    #[test]
    fn rejects_malformed_batches() {
        assert!(parse_batch(b"{")
            .unwrap_err()
            .starts_with("malformed event batch"));
        assert!(parse_batch(br#"{"site":"demo"}"#).is_err());
        assert_eq!(
            parse_batch(br#"{"site":"demo","events":[1]}"#)
                .unwrap()
                .events
                .len(),
            1
        );
    }
}
