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

/// How far past its arrival an event's `ts` may be before it counts as a device clock that
/// runs ahead: a day (time zones are no excuse: `ts` is UTC milliseconds).
pub const FUTURE_SLACK_MS: i64 = 24 * 60 * 60 * 1000;

/// Validate one event, received at `now` (ms), and turn it into a storage row. An event stamped
/// more than [`FUTURE_SLACK_MS`] after `now` is stored at `now`: its device's clock runs ahead,
/// and a time in the future would make every item look stale to the trending score and stretch
/// the reports' charts to that date.
pub fn validate_event(v: &Value, now: i64) -> Result<StoredEvent, String> {
    let mut e = Event::from_json(v).map_err(|e| e.0)?;
    if e.ts > now.saturating_add(FUTURE_SLACK_MS) {
        e.ts = now;
    }
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
    // (Cubot is a maker of Android phones, whose model names carry its name.)
    let ua = user_agent.to_ascii_lowercase().replace("cubot", "");
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
            1_000,
        )
        .unwrap();
        assert_eq!(e.item, Some(5));
        assert_eq!(e.kind, "product_view");
        assert_eq!(e.ts, 10);
        let back: Value = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(back["item"], 5);
    }

    #[test]
    fn an_event_from_a_clock_that_runs_ahead_is_stored_at_its_arrival() {
        let now = 1_764_028_800_000;
        let at = |ts: i64| {
            let e = validate_event(
                &json!({"id":"0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c","type":"page_view",
                "shopper":"s","session":"x","ts":ts}),
                now,
            )
            .unwrap();
            let back: Value = serde_json::from_str(&e.payload).unwrap();
            assert_eq!(back["ts"], e.ts, "the payload says the same");
            e.ts
        };
        // Within a day ahead: kept (a clock a little fast, or one that was set by hand).
        assert_eq!(at(now + FUTURE_SLACK_MS), now + FUTURE_SLACK_MS);
        // Further: the time it arrived.
        assert_eq!(at(now + FUTURE_SLACK_MS + 1), now);
        assert_eq!(at(now + 365 * FUTURE_SLACK_MS), now);
        // The past is the device's own business (a queue that waited offline).
        assert_eq!(at(now - 30 * FUTURE_SLACK_MS), now - 30 * FUTURE_SLACK_MS);
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
        for ua in [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
            "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
        ] {
            assert!(!is_bot(ua), "{ua}");
        }
    }

    #[test]
    fn gives_the_core_reason() {
        assert_eq!(
            validate_event(&json!({"type": "page_view"}), 0).unwrap_err(),
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
