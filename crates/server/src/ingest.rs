//! Parsing and validating an event batch (`POST /v1/events`).
//!
//! The batch is `{"site": "demo", "events": [ {...}, ... ]}`. Each event is checked on its own:
//! a bad event is rejected with its reason while the good ones are stored. A body that is not
//! JSON of that shape is rejected whole, and nothing is written.

use crate::store::StoredEvent;
use serde::Deserialize;
use serde_json::Value;

/// Event types the server accepts.
pub const EVENT_TYPES: &[&str] = &[
    "page_view",
    "product_view",
    "add_to_cart",
    "remove_from_cart",
    "purchase",
    "search",
    "rec_impression",
    "rec_click",
    "banner_impression",
    "banner_click",
];

const MAX_ID_LEN: usize = 64;

/// The envelope of a batch. Events stay raw JSON so each can fail on its own.
#[derive(Debug, Deserialize)]
pub struct Batch {
    /// Site key.
    pub site: String,
    /// The events, validated one by one.
    pub events: Vec<Value>,
}

/// Parse the batch envelope.
pub fn parse_batch(body: &[u8]) -> Result<Batch, String> {
    serde_json::from_slice::<Batch>(body).map_err(|e| format!("malformed event batch: {e}"))
}

fn str_field<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID_LEN => Ok(s),
        Some(Value::String(s)) if s.is_empty() => Err(format!("`{key}` is empty")),
        Some(Value::String(_)) => Err(format!("`{key}` is longer than {MAX_ID_LEN} characters")),
        Some(_) => Err(format!("`{key}` must be a string")),
        None => Err(format!("`{key}` is missing")),
    }
}

/// Validate one event.
pub fn validate_event(v: &Value) -> Result<StoredEvent, String> {
    let obj = v.as_object().ok_or("event must be an object")?;
    let id = str_field(obj, "id")?;
    let kind = match obj.get("type") {
        Some(Value::String(t)) if EVENT_TYPES.contains(&t.as_str()) => t.clone(),
        Some(Value::String(t)) => return Err(format!("unknown event type `{t}`")),
        Some(_) => return Err("`type` must be a string".to_owned()),
        None => return Err("`type` is missing".to_owned()),
    };
    let shopper = str_field(obj, "shopper")?;
    let session = str_field(obj, "session")?;
    let ts = match obj.get("ts") {
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|t| *t >= 0)
            .ok_or("`ts` must be a non-negative integer (ms since epoch)")?,
        Some(_) => return Err("`ts` must be a number".to_owned()),
        None => return Err("`ts` is missing".to_owned()),
    };
    let item = match obj.get("item") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_u64().ok_or("`item` must be a non-negative integer")?),
        Some(_) => return Err("`item` must be a number".to_owned()),
    };
    if kind == "product_view" && item.is_none() {
        return Err("`product_view` needs an `item`".to_owned());
    }
    Ok(StoredEvent {
        id: id.to_owned(),
        kind,
        item,
        shopper: shopper.to_owned(),
        session: session.to_owned(),
        ts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_a_product_view() {
        let e = validate_event(
            &json!({"id":"e1","type":"product_view","item":5,"shopper":"s","session":"x","ts":10}),
        )
        .unwrap();
        assert_eq!(e.item, Some(5));
        assert_eq!(e.kind, "product_view");
    }

    #[test]
    fn gives_precise_reasons() {
        let cases = [
            (json!(3), "event must be an object"),
            (json!({"type":"page_view"}), "`id` is missing"),
            (json!({"id":"","type":"page_view"}), "`id` is empty"),
            (json!({"id":"a","type":"nope"}), "unknown event type `nope`"),
            (
                json!({"id":"a","type":"page_view","shopper":"s","session":"x","ts":-1}),
                "`ts` must be a non-negative integer (ms since epoch)",
            ),
            (
                json!({"id":"a","type":"product_view","shopper":"s","session":"x","ts":1}),
                "`product_view` needs an `item`",
            ),
            (
                json!({"id":"a","type":"page_view","shopper":"s","session":"x","ts":1,"item":"7"}),
                "`item` must be a number",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(validate_event(&v).unwrap_err(), want, "for {v}");
        }
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
