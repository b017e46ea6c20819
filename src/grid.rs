//! The grid adapter: finds a product grid in theme markup and applies a new order by moving
//! the existing nodes.
//!
//! Recognised markup, tried in this order:
//! - **Generic**: `[data-tailor-grid] > [data-tailor-product="<id>"]`, for any theme.
//! - **Shopify Dawn and relatives**: `ul#product-grid > li.grid__item`, with the product id in
//!   the id of the card link, `CardLink-<section>-<product id>`.
//! - **WooCommerce**: `ul.products > li.product`, with the id in a `post-<id>` class or the
//!   `data-product_id` of the add-to-cart button; after a reorder the `first`/`last` row classes
//!   are fixed for the grid's `columns-N`.

use crate::dom::query;
use crate::error::{dom, get_option, TailorError};
use wasm_bindgen::prelude::*;
use web_sys::{Element, Node};

/// A grid found on the page: the container, its product cards and their ids, in page order.
pub struct FoundGrid {
    /// The element whose children are the cards.
    pub container: Element,
    /// The cards, in their current order.
    pub cards: Vec<Element>,
    /// The product id of each card, parallel to `cards`.
    pub ids: Vec<u64>,
    /// Which adapter recognised it: `generic`, `dawn` or `woocommerce`.
    pub adapter: &'static str,
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

/// A WooCommerce card's product id: a `post-<id>` class, else the add-to-cart button's
/// `data-product_id`.
fn woo_card_id(card: &Element) -> Result<Option<u64>, TailorError> {
    let class = card.class_name();
    if let Some(id) = class
        .split_whitespace()
        .find_map(|c| c.strip_prefix("post-").and_then(|n| n.parse().ok()))
    {
        return Ok(Some(id));
    }
    let button = card
        .query_selector("[data-product_id]")
        .map_err(|e| dom("querySelector", e))?;
    Ok(button
        .and_then(|b| b.get_attribute("data-product_id"))
        .and_then(|v| v.trim().parse().ok()))
}

fn generic_card_id(card: &Element) -> Result<Option<u64>, TailorError> {
    Ok(card
        .get_attribute("data-tailor-product")
        .and_then(|v| v.trim().parse().ok()))
}

type CardId = fn(&Element) -> Result<Option<u64>, TailorError>;

/// The adapters: name, container selector, the class a card must have (empty: any child with
/// an id), and how to read a card's product id.
const ADAPTERS: &[(&str, &str, &str, CardId)] = &[
    ("generic", "[data-tailor-grid]", "", generic_card_id),
    ("dawn", "ul#product-grid", "grid__item", dawn_card_id),
    ("woocommerce", "ul.products", "product", woo_card_id),
];

/// Find a product grid under `root` with the first adapter that recognises one. Returns `None`
/// when there is no grid, or when any card lacks a product id (a grid we do not fully
/// understand is left alone).
pub fn find_grid(root: &Node) -> Result<Option<FoundGrid>, TailorError> {
    for &(adapter, selector, card_class, card_id) in ADAPTERS {
        let Some(container) = query(root, selector)? else {
            continue;
        };
        let children = container.children();
        let mut cards = Vec::with_capacity(children.length() as usize);
        let mut ids = Vec::with_capacity(cards.capacity());
        let mut understood = true;
        for i in 0..children.length() {
            let Some(card) = children.item(i) else {
                continue;
            };
            if !card_class.is_empty() && !card.class_list().contains(card_class) {
                continue;
            }
            if card_class.is_empty() && !card.has_attribute("data-tailor-product") {
                continue;
            }
            match card_id(&card)? {
                Some(id) => {
                    cards.push(card);
                    ids.push(id);
                }
                None => {
                    understood = false;
                    break;
                }
            }
        }
        if understood && !cards.is_empty() {
            return Ok(Some(FoundGrid {
                container,
                cards,
                ids,
                adapter,
            }));
        }
        // Markup we do not fully understand: leave it alone.
        return Ok(None);
    }
    Ok(None)
}

/// WooCommerce marks the first and last card of each row; after a reorder the classes must
/// follow the new positions (`columns-N` on the list, 4 by default).
fn fix_woo_rows(grid: &FoundGrid, order: &[usize]) {
    let columns = grid
        .container
        .class_name()
        .split_whitespace()
        .find_map(|c| {
            c.strip_prefix("columns-")
                .and_then(|n| n.parse::<usize>().ok())
        })
        .filter(|&n| n > 0)
        .unwrap_or(4);
    for (pos, &ix) in order.iter().enumerate() {
        let classes = grid.cards[ix].class_list();
        let _ = classes.remove_2("first", "last");
        if pos % columns == 0 {
            let _ = classes.add_1("first");
        }
        if pos % columns == columns - 1 {
            let _ = classes.add_1("last");
        }
    }
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
    if grid.adapter == "woocommerce" {
        fix_woo_rows(grid, order);
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
