//! Typed errors for JS: every failure becomes a real `Error` whose `code` property is a
//! stable, machine-readable string (`INVALID_OPTIONS`, `SNAPSHOT_CHECKSUM`, `DOM`, ...).

use wasm_bindgen::prelude::*;

/// An error on its way to JS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailorError {
    /// Machine-readable code, set as `error.code`.
    pub code: &'static str,
    /// Human-readable message, set as `error.message`.
    pub message: String,
}

impl TailorError {
    /// An error with `code` and `message`.
    pub fn new(code: &'static str, message: String) -> Self {
        TailorError { code, message }
    }
}

impl From<TailorError> for JsValue {
    fn from(e: TailorError) -> JsValue {
        let err = js_sys::Error::new(&e.message);
        err.set_name("TailorError");
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code.into());
        err.into()
    }
}

/// Read `opts[key]`; `opts` must be an object.
pub fn get_option(opts: &JsValue, key: &str) -> Result<JsValue, TailorError> {
    if !opts.is_object() {
        return Err(TailorError::new(
            "INVALID_OPTIONS",
            "expected an options object".to_owned(),
        ));
    }
    js_sys::Reflect::get(opts, &key.into())
        .map_err(|_| TailorError::new("INVALID_OPTIONS", format!("could not read option `{key}`")))
}

/// Wrap a DOM exception as a `DOM` error.
pub fn dom(context: &str, err: JsValue) -> TailorError {
    let detail = err
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| "unknown DOM error".to_owned());
    TailorError::new("DOM", format!("{context}: {detail}"))
}
