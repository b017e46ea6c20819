//! The grid adapter: finds a product grid in theme markup and applies a new order by moving
//! the existing nodes.
//!
//! Recognised markup (more adapters follow):
//! - **Shopify Dawn and relatives**: `ul#product-grid > li.grid__item`, with the product id in
//!   the id of the card link, `CardLink-<section>-<product id>`.

use crate::error::{dom, get_option, TailorError};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Node};

/// A grid found on the page: the container, its product cards and their ids, in page order.
pub struct FoundGrid {
    /// The element whose children are the cards.
    pub container: Element,
    /// The cards, in their current order.
    pub cards: Vec<Element>,
    /// The product id of each card, parallel to `cards`.
    pub ids: Vec<u64>,
}

/// The element or document to search under: `opts.root`, or `document` when absent.
pub fn root_from_options(opts: &JsValue) -> Result<Node, TailorError> {
    let root = if opts.is_undefined() || opts.is_null() {
        JsValue::UNDEFINED
    } else {
        get_option(opts, "root")?
    };
    if root.is_undefined() || root.is_null() {
        let doc = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| TailorError::new("NO_DOCUMENT", "no document to work on".to_owned()))?;
        return Ok(doc.into());
    }
    root.dyn_into::<Node>().map_err(|_| {
        TailorError::new(
            "INVALID_OPTIONS",
            "`root` must be an Element or a Document".to_owned(),
        )
    })
}

fn query(root: &Node, selector: &str) -> Result<Option<Element>, TailorError> {
    if let Some(doc) = root.dyn_ref::<Document>() {
        doc.query_selector(selector)
    } else if let Some(el) = root.dyn_ref::<Element>() {
        el.query_selector(selector)
    } else {
        return Ok(None);
    }
    .map_err(|e| dom("querySelector", e))
}

/// Product id of a Dawn card: the trailing number of a `CardLink-<section>-<id>` element id.
pub fn dawn_card_id(card: &Element) -> Result<Option<u64>, TailorError> {
    let link = card
        .query_selector("[id^=\"CardLink-\"]")
        .map_err(|e| dom("querySelector", e))?;
    Ok(link.and_then(|l| parse_card_link_id(&l.id())))
}

/// Parse the product id out of a `CardLink-<section>-<id>` element id.
pub fn parse_card_link_id(id: &str) -> Option<u64> {
    let rest = id.strip_prefix("CardLink-")?;
    let (_, num) = rest.rsplit_once('-')?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse().ok()
}

/// Find a Dawn-style grid under `root`. Returns `None` when there is no grid, or when any card
/// lacks a product id (a grid we do not fully understand is left alone).
pub fn find_grid(root: &Node) -> Result<Option<FoundGrid>, TailorError> {
    let Some(container) = query(root, "ul#product-grid")? else {
        return Ok(None);
    };
    let children = container.children();
    let mut cards = Vec::with_capacity(children.length() as usize);
    let mut ids = Vec::with_capacity(cards.capacity());
    for i in 0..children.length() {
        let Some(card) = children.item(i) else {
            continue;
        };
        if !card.class_list().contains("grid__item") {
            continue;
        }
        match dawn_card_id(&card)? {
            Some(id) => {
                cards.push(card);
                ids.push(id);
            }
            None => return Ok(None),
        }
    }
    if cards.is_empty() {
        return Ok(None);
    }
    Ok(Some(FoundGrid {
        container,
        cards,
        ids,
    }))
}

/// Put the cards in `order` (a permutation from `tailor_core::rank`) by moving the existing
/// nodes. Cards keep their place relative to any non-card children before the first card.
/// Returns how many cards changed position.
pub fn apply_order(grid: &FoundGrid, order: &[usize]) -> Result<u32, TailorError> {
    if order.len() != grid.cards.len() {
        return Err(TailorError::new(
            "INTERNAL",
            "ranking returned the wrong number of items".to_owned(),
        ));
    }
    let moved = order.iter().enumerate().filter(|(k, &ix)| *k != ix).count() as u32;
    if moved == 0 {
        return Ok(0);
    }
    // Insert every card, in the new order, before whatever followed the last card. Moving a
    // node keeps its identity and its event listeners.
    let anchor = grid.cards.last().and_then(|c| c.next_sibling());
    for &ix in order {
        grid.container
            .insert_before(&grid.cards[ix], anchor.as_ref())
            .map_err(|e| dom("insertBefore", e))?;
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::parse_card_link_id;

    #[test]
    fn parses_dawn_card_link_ids() {
        assert_eq!(
            parse_card_link_id("CardLink-template--123__product-grid-8012345"),
            Some(8012345)
        );
        assert_eq!(parse_card_link_id("CardLink-x-1"), Some(1));
        assert_eq!(parse_card_link_id("CardLink-x-"), None);
        assert_eq!(parse_card_link_id("CardLink-x-12a"), None);
        assert_eq!(parse_card_link_id("Card-x-12"), None);
        assert_eq!(parse_card_link_id("CardLink-12"), None);
    }
}
