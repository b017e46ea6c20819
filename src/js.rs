//! Plain JS values in and out, without serde: the wasm build stays small when it carries no
//! JSON machinery. Objects are read and written with `Reflect`.

use crate::error::TailorError;
use tailor_core::display::Shown;
use tailor_core::events::{Event, EventKind, Line};
use tailor_core::rank::Reason;
use wasm_bindgen::prelude::*;

/// A new empty object.
pub fn obj() -> js_sys::Object {
    js_sys::Object::new()
}

/// `o[key] = value` (cannot fail on a plain object).
pub fn set(o: &js_sys::Object, key: &str, value: impl Into<JsValue>) {
    let _ = js_sys::Reflect::set(o, &key.into(), &value.into());
}

/// An id as a JS value: a number when it is exact in a double, else a string.
pub fn id(v: u64) -> JsValue {
    if v <= 9_007_199_254_740_991 {
        JsValue::from_f64(v as f64)
    } else {
        JsValue::from_str(&v.to_string())
    }
}

/// A list of ids.
pub fn ids(v: &[u64]) -> js_sys::Array {
    v.iter().map(|&x| id(x)).collect()
}

fn get(o: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(o, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn bad(msg: String) -> TailorError {
    TailorError::new("INVALID_EVENT", format!("track: {msg}"))
}

fn string(o: &JsValue, key: &str) -> Result<Option<String>, TailorError> {
    let v = get(o, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| bad(format!("`{key}` must be a string")))
}

fn need_string(o: &JsValue, key: &str) -> Result<String, TailorError> {
    string(o, key)?.ok_or_else(|| bad(format!("`{key}` is missing")))
}

fn number(o: &JsValue, key: &str) -> Result<Option<f64>, TailorError> {
    let v = get(o, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_f64()
        .filter(|x| x.is_finite())
        .map(Some)
        .ok_or_else(|| bad(format!("`{key}` must be a number")))
}

fn as_id(v: &JsValue, what: &str) -> Result<u64, TailorError> {
    if let Some(s) = v.as_string() {
        return s
            .trim()
            .parse()
            .map_err(|_| bad(format!("{what} must be a product id")));
    }
    match v.as_f64() {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_991.0 => Ok(x as u64),
        _ => Err(bad(format!("{what} must be a product id"))),
    }
}

fn need_id(o: &JsValue, key: &str) -> Result<u64, TailorError> {
    let v = get(o, key);
    if v.is_undefined() || v.is_null() {
        return Err(bad(format!("`{key}` is missing")));
    }
    as_id(&v, &format!("`{key}`"))
}

fn id_list(o: &JsValue, key: &str) -> Result<Option<Vec<u64>>, TailorError> {
    let v = get(o, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if !js_sys::Array::is_array(&v) {
        return Err(bad(format!("`{key}` must be an array of product ids")));
    }
    js_sys::Array::from(&v)
        .iter()
        .enumerate()
        .map(|(i, x)| as_id(&x, &format!("`{key}[{i}]`")))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn count(o: &JsValue, key: &str) -> Result<u32, TailorError> {
    match number(o, key)? {
        None => Ok(1),
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64 => Ok(x as u32),
        Some(_) => Err(bad(format!("`{key}` must be a whole number"))),
    }
}

/// Read an event object (docs/events.md) and validate it with `tailor-core`.
pub fn event(o: &JsValue) -> Result<Event, TailorError> {
    if !o.is_object() {
        return Err(bad("an event must be an object".to_owned()));
    }
    let kind = match need_string(o, "type")?.as_str() {
        "page_view" => EventKind::PageView {
            page: string(o, "page")?,
        },
        "product_view" => EventKind::ProductView {
            item: need_id(o, "item")?,
        },
        "add_to_cart" => EventKind::AddToCart {
            item: need_id(o, "item")?,
            qty: count(o, "qty")?,
        },
        "remove_from_cart" => EventKind::RemoveFromCart {
            item: need_id(o, "item")?,
            qty: count(o, "qty")?,
        },
        "purchase" => {
            let lines = get(o, "lines");
            if !js_sys::Array::is_array(&lines) {
                return Err(bad("`lines` must be an array".to_owned()));
            }
            let lines = js_sys::Array::from(&lines)
                .iter()
                .map(|l| {
                    Ok(Line {
                        item: need_id(&l, "item")?,
                        qty: count(&l, "qty")?,
                        price: number(&l, "price")?.unwrap_or(0.0),
                    })
                })
                .collect::<Result<Vec<_>, TailorError>>()?;
            EventKind::Purchase {
                order: string(o, "order")?,
                lines,
                value: number(o, "value")?.ok_or_else(|| bad("`value` is missing".to_owned()))?,
                currency: string(o, "currency")?,
            }
        }
        "search" => EventKind::Search {
            query: need_string(o, "query")?,
            results: id_list(o, "results")?.unwrap_or_default(),
        },
        "rec_impression" => EventKind::RecImpression {
            request: need_string(o, "request")?,
            slot: need_string(o, "slot")?,
            items: id_list(o, "items")?.unwrap_or_default(),
            model_version: need_string(o, "model_version")?,
        },
        "rec_click" => EventKind::RecClick {
            request: need_string(o, "request")?,
            slot: need_string(o, "slot")?,
            position: count(o, "position")?,
            item: need_id(o, "item")?,
            model_version: need_string(o, "model_version")?,
        },
        "banner_impression" => EventKind::BannerImpression {
            banner: need_string(o, "banner")?,
            variant: need_string(o, "variant")?,
        },
        "banner_click" => EventKind::BannerClick {
            banner: need_string(o, "banner")?,
            variant: need_string(o, "variant")?,
        },
        "exposure" => EventKind::Exposure {
            placement: need_string(o, "placement")?,
            arm: {
                let name = need_string(o, "arm")?;
                tailor_core::experiments::Arm::from_name(&name)
                    .ok_or_else(|| bad(format!("`arm` `{name}` is not an arm")))?
            },
            experiment: string(o, "experiment")?,
        },
        "diagnostic" => EventKind::Diagnostic {
            code: need_string(o, "code")?,
            detail: string(o, "detail")?,
        },
        other => return Err(bad(format!("unknown event type `{other}`"))),
    };
    let ts = number(o, "ts")?.ok_or_else(|| bad("`ts` is missing".to_owned()))?;
    let mut e = Event {
        id: need_string(o, "id")?,
        ts: ts as i64,
        shopper: need_string(o, "shopper")?,
        session: need_string(o, "session")?,
        kind,
    };
    e.validate().map_err(|err| bad(err.0))?;
    Ok(e)
}

/// A reason as `{ kind, item?, category?, vendor? }`.
pub fn reason(r: &Reason) -> JsValue {
    let o = obj();
    let kind = match r {
        Reason::BecauseYouViewed { item } => {
            set(&o, "item", id(*item));
            "because_you_viewed"
        }
        Reason::FavoriteCategory { category } => {
            set(&o, "category", category.as_str());
            "favorite_category"
        }
        Reason::FavoriteVendor { vendor } => {
            set(&o, "vendor", vendor.as_str());
            "favorite_vendor"
        }
        Reason::PriceRange => "price_range",
        Reason::Context => "context",
        Reason::Popular => "popular",
        Reason::Trending => "trending",
        Reason::RecentlyViewed => "recently_viewed",
        Reason::GoesWithCart { item } => {
            set(&o, "item", id(*item));
            "goes_with_cart"
        }
        Reason::Pinned => "pinned",
        Reason::Exploration => "exploration",
        Reason::TextRelevance => "text_relevance",
    };
    set(&o, "kind", kind);
    o.into()
}

/// A recommended item for callers that render it themselves.
pub fn shown(s: &Shown) -> JsValue {
    let o = obj();
    set(&o, "id", id(s.id));
    set(&o, "position", s.position as u32);
    set(&o, "title", s.title.as_str());
    set(
        &o,
        "url",
        s.url.as_deref().map_or(JsValue::NULL, JsValue::from_str),
    );
    set(
        &o,
        "image",
        s.image.as_deref().map_or(JsValue::NULL, JsValue::from_str),
    );
    set(
        &o,
        "price_cents",
        s.price_cents
            .map_or(JsValue::NULL, |c| JsValue::from_f64(c as f64)),
    );
    set(&o, "reason", reason(&s.reason));
    set(&o, "explanation", s.explanation.as_str());
    o.into()
}
