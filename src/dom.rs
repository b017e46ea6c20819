//! Selector queries under a root that may be the document or an element, shared by the
//! adapters and surfaces.

use crate::error::{dom, TailorError};
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Node};

/// The first element under `root` matching `selector`.
pub fn query(root: &Node, selector: &str) -> Result<Option<Element>, TailorError> {
    if let Some(doc) = root.dyn_ref::<Document>() {
        doc.query_selector(selector)
    } else if let Some(el) = root.dyn_ref::<Element>() {
        el.query_selector(selector)
    } else {
        return Ok(None);
    }
    .map_err(|e| dom("querySelector", e))
}

/// Every element under `root` matching `selector`, in document order.
pub fn query_all(root: &Node, selector: &str) -> Result<Vec<Element>, TailorError> {
    let list = if let Some(doc) = root.dyn_ref::<Document>() {
        doc.query_selector_all(selector)
    } else if let Some(el) = root.dyn_ref::<Element>() {
        el.query_selector_all(selector)
    } else {
        return Ok(Vec::new());
    }
    .map_err(|e| dom("querySelectorAll", e))?;
    Ok((0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .collect())
}
