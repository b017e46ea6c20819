//! Selector queries under a root that may be the document or an element, shared by the
//! adapters and surfaces.

use crate::error::{dom, TailorError};
use wasm_bindgen::prelude::*;
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

/// Elements in page order (cards, search results), kept as one JavaScript array, so that reading
/// and moving them are one call each (`src/batch.js`) rather than several per element.
pub struct Nodes {
    list: js_sys::Array,
    len: usize,
}

#[wasm_bindgen(module = "/src/batch.js")]
extern "C" {
    // (Neither throws: the first reads a constant selector's match, an attribute, an id; the
    // second catches what the page's DOM throws.)
    // (Their strings cross as JavaScript strings: the glue then needs no wrapper for either.)
    fn texts(list: &js_sys::Array, selector: &JsValue, attr: &JsValue) -> JsValue;
    fn place(parent: &Element, list: &js_sys::Array, plan: &JsValue) -> u32;
}

impl Nodes {
    /// A copy of `list` (a `NodeList`, an `HTMLCollection` or an array of elements) that the
    /// page's later changes leave alone.
    pub fn from_list(list: &JsValue) -> Nodes {
        let list = js_sys::Array::from(list);
        let len = list.length() as usize;
        Nodes { list, len }
    }

    /// Every element under `root` matching `selector`, in document order.
    pub fn query(root: &Node, selector: &str) -> Result<Nodes, TailorError> {
        let list: JsValue = if let Some(doc) = root.dyn_ref::<Document>() {
            doc.query_selector_all(selector)
        } else if let Some(el) = root.dyn_ref::<Element>() {
            el.query_selector_all(selector)
        } else {
            return Ok(Nodes::from_list(&js_sys::Array::new()));
        }
        .map_err(|e| dom("querySelectorAll", e))?
        .into();
        Ok(Nodes::from_list(&list))
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`th element.
    pub fn get(&self, i: usize) -> Element {
        self.list.get(i as u32).unchecked_into()
    }

    /// A text of each element, in one call: its `attr` attribute (its id when `attr` is empty),
    /// or that of its first descendant matching `selector` when `selector` is not empty; an
    /// empty text where there is none. `None` when the texts cannot be told apart (one of them
    /// holds the separator, U+0001).
    pub fn texts(&self, selector: &str, attr: &str) -> Result<Option<Vec<String>>, TailorError> {
        if self.len == 0 {
            return Ok(Some(Vec::new()));
        }
        let all = texts(
            &self.list,
            &JsValue::from_str(selector),
            &JsValue::from_str(attr),
        )
        .as_string()
        .unwrap_or_default();
        // (Room for all of them at once: the worker's warm-up reads two, the page many, and both
        // take the same path.)
        let mut out = Vec::with_capacity(self.len);
        for text in all.split('\u{1}') {
            if out.len() == self.len {
                return Ok(None);
            }
            out.push(text.to_owned());
        }
        Ok((out.len() == self.len).then_some(out))
    }

    /// Make `moves` (as [`crate::grid::moves`] gives them: an element, and the element to put
    /// it before, or `None` for after the last one) in one call, if `parent` is still in its
    /// document and every element still its child (the theme may have replaced the cards, the
    /// grid, or a section around it): returns whether it was. With `moveBefore` a node never
    /// leaves the document, so it keeps its state (focus, a playing video, a loaded iframe). It
    /// is not cheaper in total: the move is, but the layout after it costs as much more
    /// (BENCHMARKS.md). A browser without it, or a move it refuses, gets `insertBefore`.
    pub fn place(
        &self,
        parent: &Element,
        moves: &[(usize, Option<usize>)],
    ) -> Result<bool, TailorError> {
        if moves.is_empty() {
            return Ok(true);
        }
        let mut plan = String::with_capacity(moves.len() * 12);
        for &(k, before) in moves {
            if !plan.is_empty() {
                plan.push(' ');
            }
            digits(&mut plan, k);
            plan.push(' ');
            match before {
                Some(b) => digits(&mut plan, b),
                None => plan.push('-'),
            }
        }
        match place(parent, &self.list, &JsValue::from_str(&plan)) {
            0 => Ok(true),
            1 => Ok(false),
            _ => Err(TailorError::new(
                "DOM",
                "insertBefore: the page refused to move an element".to_owned(),
            )),
        }
    }
}

/// Write `n` in decimal (without the formatting machinery: this runs on the page, and the
/// worker's warm-up takes the same path whatever the number, BENCHMARKS.md "a ninth round").
fn digits(out: &mut String, n: usize) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut n = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[at..] {
        out.push(b as char);
    }
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
    // (A selector only ever matches elements: no `instanceof` check per node.)
    Ok((0..list.length())
        .filter_map(|i| list.item(i))
        .map(|n| n.unchecked_into::<Element>())
        .collect())
}

#[wasm_bindgen]
extern "C" {
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
