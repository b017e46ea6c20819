//! Selector queries under a root that may be the document or an element, shared by the
//! adapters and surfaces.

use crate::error::{dom, TailorError};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Node, NodeList};

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

/// Every element under `root` matching `selector`, as the browser's `NodeList` (`None` when
/// `root` is neither a document nor an element).
pub fn query_list(root: &Node, selector: &str) -> Result<Option<NodeList>, TailorError> {
    if let Some(doc) = root.dyn_ref::<Document>() {
        doc.query_selector_all(selector)
    } else if let Some(el) = root.dyn_ref::<Element>() {
        el.query_selector_all(selector)
    } else {
        return Ok(None);
    }
    .map(Some)
    .map_err(|e| dom("querySelectorAll", e))
}

/// The elements of a `NodeList` a selector matched.
pub fn elements(list: &NodeList) -> Vec<Element> {
    // (A selector only ever matches elements: no `instanceof` check per node.)
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|n| n.unchecked_into::<Element>())
        .collect()
}

/// Every element under `root` matching `selector`, in document order.
pub fn query_all(root: &Node, selector: &str) -> Result<Vec<Element>, TailorError> {
    Ok(query_list(root, selector)?
        .map(|l| elements(&l))
        .unwrap_or_default())
}

#[wasm_bindgen(module = "/src/bulk.js")]
extern "C" {
    /// For each element of `list` (a `NodeList` or an `HTMLCollection`), `attr` of its first
    /// descendant matching `inner` (of itself when `inner` is empty), each followed by U+001F,
    /// U+001E for none: one call for a whole grid (src/bulk.js). With `mark`, each element
    /// found then gets `attr` set to it.
    #[wasm_bindgen(catch)]
    pub fn attrs(
        list: &JsValue,
        inner: &str,
        attr: &str,
        mark: Option<&str>,
    ) -> Result<String, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// An element, seen as the parent of a move (web-sys has no `moveBefore` yet).
    type Parent;
    /// `parent.moveBefore(node, child)` (DOM, Chromium 133+); an error where it is missing.
    #[wasm_bindgen(method, catch, js_name = moveBefore)]
    fn move_before(this: &Parent, node: &Node, child: Option<&Node>) -> Result<(), JsValue>;
    /// The global `document`, where there is one. (Read directly rather than as
    /// `window.document`: `web_sys::window()` costs four global lookups and an `instanceof
    /// Window` in the loader's glue.)
    #[wasm_bindgen(thread_local_v2, js_name = document)]
    static DOCUMENT: Option<Document>;
    /// The global `location`: the page's, or a worker's (the warm-up takes the page's paths).
    #[wasm_bindgen(thread_local_v2, js_name = location)]
    static LOCATION: Option<js_sys::Object>;
}

/// The global `document`, if any.
pub fn document() -> Option<Document> {
    DOCUMENT.with(Clone::clone)
}

/// A part of the global `location` (`pathname`, `search`), empty when there is none.
pub fn location(part: &str) -> String {
    LOCATION
        .with(Clone::clone)
        .and_then(|l| js_sys::Reflect::get(&l, &JsValue::from_str(part)).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Put `node`, already in the document, before `before` in `parent` (last when `None`). With
/// `moveBefore` the node never leaves the document, so it keeps its state (focus, a playing
/// video, a loaded iframe). It is not cheaper in total: the move is, but the layout after it
/// costs as much more (BENCHMARKS.md). A browser without it, or a move it refuses, gets `insertBefore`, and
/// `atomic` turns false, so the rest of a reorder does not try again (one exception, not one
/// per card, where the browser lacks it).
pub fn move_node(
    parent: &Element,
    node: &Node,
    before: Option<&Node>,
    atomic: &mut bool,
) -> Result<(), TailorError> {
    *atomic = *atomic
        && parent
            .unchecked_ref::<Parent>()
            .move_before(node, before)
            .is_ok();
    if *atomic {
        return Ok(());
    }
    parent
        .insert_before(node, before)
        .map(drop)
        .map_err(|e| dom("insertBefore", e))
}
