//! Recommendation blocks rendered into declared slots:
//!
//! ```html
//! <div data-tailor-slot="similar" data-tailor-n="4" data-tailor-title="You may also like"></div>
//! ```
//!
//! A slot may hold a `<template>`; each item is then a clone of it, with the values put into its
//! `[data-tailor-field=title|link|image|price|reason]` elements. Without one, the block is a
//! plain list with `tailor-block__*` classes. Either way the DOM is built with
//! `createElement`, `textContent` and `setAttribute`, never from HTML strings, and only URLs that
//! `tailor_core::urls` allows become links or images. Rendering again replaces the previous
//! block, so a slot never shows two.

use crate::error::{dom, TailorError};
use tailor_core::display::Shown;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlTemplateElement, Node};

/// What was rendered into one slot (for impression and click tracking).
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The slot's name (its `data-tailor-slot`).
    pub slot: String,
    /// The placement it resolved to.
    pub placement: String,
    /// The id tying impressions and clicks to this rendering.
    pub request: String,
    /// The items shown, in order.
    pub items: Vec<u64>,
}

/// The slots under `root`.
pub fn slots(root: &Node) -> Result<Vec<Element>, TailorError> {
    crate::dom::query_all(root, "[data-tailor-slot]")
}

/// The adapters' default positions, used only when the page declares no slot at all: Dawn's
/// `<product-recommendations>` (a `similar` slot goes just before it) and Dawn's `<cart-items>`
/// (a `cart_upsell` slot goes just after it). The slot is marked `data-tailor-default` with the
/// element it stands beside. Calling this again finds the slot and adds nothing.
pub fn add_default_slots(root: &Node) -> Result<(), TailorError> {
    if crate::dom::query(root, "[data-tailor-slot]")?.is_some() {
        return Ok(());
    }
    for (anchor, name, before) in [
        ("product-recommendations", "similar", true),
        ("cart-items", "cart_upsell", false),
    ] {
        let Some(at) = crate::dom::query(root, anchor)? else {
            continue;
        };
        let Some(doc) = at.owner_document() else {
            continue;
        };
        let slot = el(&doc, "div", "")?;
        set(&slot, "data-tailor-slot", name)?;
        set(&slot, "data-tailor-default", anchor)?;
        if before {
            at.before_with_node_1(&slot)
        } else {
            at.after_with_node_1(&slot)
        }
        .map_err(|e| dom("insert", e))?;
    }
    Ok(())
}

fn el(doc: &Document, tag: &str, class: &str) -> Result<Element, TailorError> {
    let e = doc
        .create_element(tag)
        .map_err(|e| dom("createElement", e))?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    Ok(e)
}

fn set(e: &Element, name: &str, value: &str) -> Result<(), TailorError> {
    e.set_attribute(name, value)
        .map_err(|err| dom("setAttribute", err))
}

/// `1234` as `12.34`, `105` as `1.05`. The two decimals are written digit by digit: padding
/// (`{:02}`) would take a formatting path only some prices reach, which the worker's warm-up
/// (js/worker.js) could then miss, leaving the page to compile it.
fn price_text(cents: Option<u32>) -> String {
    cents.map_or(String::new(), |c| {
        let rest = c % 100;
        format!("{}.{}{}", c / 100, rest / 10, rest % 10)
    })
}

/// Fill one clone of the merchant's template.
fn fill_template(item: &Element, s: &Shown) -> Result<(), TailorError> {
    for f in crate::dom::query_all(item, "[data-tailor-field]")? {
        match f.get_attribute("data-tailor-field").as_deref() {
            Some("title") => f.set_text_content(Some(&s.title)),
            Some("price") => f.set_text_content(Some(&price_text(s.price_cents))),
            Some("reason") => f.set_text_content(Some(&s.explanation)),
            Some("link") => match &s.url {
                Some(u) => set(&f, "href", u)?,
                None => {
                    let _ = f.remove_attribute("href");
                }
            },
            Some("image") => match &s.image {
                Some(u) => {
                    set(&f, "src", u)?;
                    set(&f, "loading", "lazy")?;
                    set(&f, "alt", &s.title)?;
                }
                None => f.remove(),
            },
            _ => {}
        }
    }
    Ok(())
}

/// The default markup of one item.
fn default_item(doc: &Document, s: &Shown) -> Result<Element, TailorError> {
    let li = el(doc, "li", "tailor-block__item")?;
    let link = el(
        doc,
        if s.url.is_some() { "a" } else { "span" },
        "tailor-block__link",
    )?;
    if let Some(u) = &s.url {
        set(&link, "href", u)?;
    }
    if let Some(u) = &s.image {
        let img = el(doc, "img", "tailor-block__image")?;
        set(&img, "src", u)?;
        set(&img, "loading", "lazy")?;
        set(&img, "alt", &s.title)?;
        link.append_child(&img).map_err(|e| dom("appendChild", e))?;
    }
    let title = el(doc, "span", "tailor-block__name")?;
    title.set_text_content(Some(&s.title));
    link.append_child(&title)
        .map_err(|e| dom("appendChild", e))?;
    if s.price_cents.is_some() {
        let price = el(doc, "span", "tailor-block__price")?;
        price.set_text_content(Some(&price_text(s.price_cents)));
        link.append_child(&price)
            .map_err(|e| dom("appendChild", e))?;
    }
    li.append_child(&link).map_err(|e| dom("appendChild", e))?;
    let why = el(doc, "span", "tailor-block__reason")?;
    why.set_text_content(Some(&s.explanation));
    li.append_child(&why).map_err(|e| dom("appendChild", e))?;
    Ok(li)
}

/// Render `items` into `slot`, replacing an earlier block. An empty list hides the slot.
pub fn render(
    slot: &Element,
    title: &str,
    items: &[Shown],
    info: &Rendered,
) -> Result<(), TailorError> {
    let doc = slot
        .owner_document()
        .ok_or_else(|| TailorError::new("NO_DOCUMENT", "the slot has no document".to_owned()))?;
    // Drop what an earlier rendering left (idempotent re-application).
    for old in crate::dom::query_all(slot, ":scope > [data-tailor-rendered]")? {
        old.remove();
    }
    set(slot, "data-tailor-request", &info.request)?;
    set(slot, "data-tailor-placement", &info.placement)?;
    if items.is_empty() {
        set(slot, "data-tailor-state", "empty")?;
        return Ok(());
    }
    let block = el(&doc, "div", "tailor-block")?;
    set(&block, "data-tailor-rendered", "")?;
    if !title.is_empty() {
        let h = el(&doc, "h2", "tailor-block__title")?;
        h.set_text_content(Some(title));
        block.append_child(&h).map_err(|e| dom("appendChild", e))?;
    }
    let list = el(&doc, "ul", "tailor-block__list")?;
    let template = slot
        .query_selector(":scope > template")
        .map_err(|e| dom("querySelector", e))?
        .and_then(|t| t.dyn_into::<HtmlTemplateElement>().ok());
    for s in items {
        let item: Element = match &template {
            Some(t) => {
                let frag = t
                    .content()
                    .clone_node_with_deep(true)
                    .map_err(|e| dom("cloneNode", e))?;
                let wrapper = el(&doc, "li", "tailor-block__item")?;
                wrapper
                    .append_child(&frag)
                    .map_err(|e| dom("appendChild", e))?;
                fill_template(&wrapper, s)?;
                wrapper
            }
            None => default_item(&doc, s)?,
        };
        set(&item, "data-tailor-item", &s.id.to_string())?;
        set(&item, "data-tailor-position", &s.position.to_string())?;
        list.append_child(&item)
            .map_err(|e| dom("appendChild", e))?;
    }
    block
        .append_child(&list)
        .map_err(|e| dom("appendChild", e))?;
    slot.append_child(&block)
        .map_err(|e| dom("appendChild", e))?;
    set(slot, "data-tailor-state", "rendered")?;
    // Our block stands in for the theme's own recommendations beside a default slot, which
    // stay (and show) whenever we have nothing to render.
    if slot.has_attribute("data-tailor-default") {
        if let Some(theirs) = slot.next_element_sibling() {
            if theirs.local_name() == "product-recommendations" {
                set(&theirs, "hidden", "")?;
            }
        }
    }
    Ok(())
}

impl Rendered {
    /// As `{ slot, placement, request, items, element }`, `element` being the slot it filled.
    pub fn to_js(&self, element: &Element) -> wasm_bindgen::JsValue {
        let o = crate::js::obj();
        crate::js::set(&o, "element", element);
        crate::js::set(&o, "slot", self.slot.as_str());
        crate::js::set(&o, "placement", self.placement.as_str());
        crate::js::set(&o, "request", self.request.as_str());
        crate::js::set(&o, "items", crate::js::ids(&self.items));
        o.into()
    }
}

#[cfg(test)]
mod tests {
    use super::price_text;

    #[test]
    fn prices_have_two_decimals() {
        assert_eq!(price_text(Some(1234)), "12.34");
        assert_eq!(price_text(Some(105)), "1.05");
        assert_eq!(price_text(Some(7)), "0.07");
        assert_eq!(price_text(Some(100)), "1.00");
        assert_eq!(price_text(Some(0)), "0.00");
        assert_eq!(price_text(None), "");
    }
}
