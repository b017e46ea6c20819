//! Search results in theme markup, reranked by `tailor_core::rank::rerank_search` with the
//! theme's order as the text relevance (so it stays dominant):
//!
//! - **The search page (Dawn)**: the product cards of `#product-grid` (a `ul`, or the
//!   `ul.product-grid` inside it), mixed with article and page cards. Only product cards move,
//!   among the positions product cards had; the others stay where they are.
//! - **Predictive search (Dawn)**: the items of `#predictive-search-results-products-list`,
//!   whose product is found from its `/products/<handle>` link.

use crate::dom::{attrs, elements, query, query_list};
use crate::error::{dom, TailorError};
use crate::grid::{parse_card_link_id, reorder, CARD_LINK};
use wasm_bindgen::JsValue;
use web_sys::{Element, Node};

/// Search results found on the page: the list, every child in order, and which children are
/// products (with their ids).
pub struct Found {
    /// The list element.
    pub container: Element,
    /// All its children, in order.
    pub children: Vec<Element>,
    /// `(position among children, product id)` of each product card, in order.
    pub products: Vec<(usize, u64)>,
    /// The children as the browser listed them (to mark them once placed, `grid::mark`).
    pub list: JsValue,
}

/// The product handle in a predictive-search item's `/products/<handle>` link. Only the
/// snapshot can turn it into a product id (the engine does, wherever it runs).
fn handle_of(href: &str) -> Option<String> {
    const MARK: &[u8] = b"/products/";
    let at = href
        .as_bytes()
        .windows(MARK.len())
        .position(|w| w == MARK)?;
    let rest = href.get(at + MARK.len()..).unwrap_or_default();
    let handle = rest.split(['?', '#', '/']).next().unwrap_or("");
    (!handle.is_empty()).then(|| handle.to_owned())
}

/// The children of `container`, and what `parse` makes of `attr` of each child's first `inner`
/// (read for all of them at once, src/bulk.js): `None` with fewer than two products. With
/// `keep`, only the children no earlier pass placed (`grid::PLACED`).
fn collect<T>(
    container: Element,
    inner: &str,
    attr: &str,
    parse: fn(&str) -> Option<T>,
    keep: bool,
) -> Result<Option<(Found, Vec<T>)>, TailorError> {
    let Some(list) = query_list(
        &container,
        [":scope > *", ":scope > :not([data-tailor-placed])"][keep as usize],
    )?
    else {
        return Ok(None);
    };
    let all = attrs(&list, inner, attr, None).map_err(|e| dom("querySelector", e))?;
    // (A value holding the separator itself: results we do not understand.)
    if all.matches('\u{1f}').count() != list.length() as usize {
        return Ok(None);
    }
    let mut products = Vec::new();
    let mut values = Vec::new();
    for (k, v) in all.split('\u{1f}').enumerate() {
        if let Some(value) = parse(v) {
            products.push((k, 0));
            values.push(value);
        }
    }
    if products.len() < 2 {
        return Ok(None);
    }
    let children = elements(&list);
    Ok(Some((
        Found {
            container,
            children,
            products,
            list: list.into(),
        },
        values,
    )))
}

/// The search-page results under `root`, if any (`keep`: as `collect`).
pub fn find_page(root: &Node, keep: bool) -> Result<Option<Found>, TailorError> {
    let container = match query(root, "#product-grid ul.product-grid")? {
        Some(c) => c,
        None => match query(root, "ul#product-grid")? {
            Some(c) => c,
            None => return Ok(None),
        },
    };
    Ok(
        collect(container, CARD_LINK, "id", parse_card_link_id, keep)?.map(|(mut found, ids)| {
            for (p, id) in found.products.iter_mut().zip(ids) {
                p.1 = id;
            }
            found
        }),
    )
}

/// The predictive-search product list under `root`, if any, with each product's handle (its
/// product ids are left 0: only the snapshot can turn a handle into an id; `keep`: as
/// `collect`).
pub fn find_predictive(
    root: &Node,
    keep: bool,
) -> Result<Option<(Found, Vec<String>)>, TailorError> {
    let Some(c) = query(root, "#predictive-search-results-products-list")? else {
        return Ok(None);
    };
    collect(c, "a[href*=\"/products/\"]", "href", handle_of, keep)
}

/// Put the product cards in `order` (indices into `found.products`) into the product
/// positions, leaving every other child where it was. Returns how many cards moved.
pub fn apply(found: &Found, order: &[usize]) -> Result<u32, TailorError> {
    let moved = order.iter().enumerate().filter(|(k, &ix)| *k != ix).count() as u32;
    if moved == 0 {
        return Ok(0);
    }
    // The new order of all the children: product positions take the ranked products, every
    // other child keeps its own position. Only the children that must move are moved.
    let mut sequence: Vec<usize> = (0..found.children.len()).collect();
    for (slot, &ix) in order.iter().enumerate() {
        sequence[found.products[slot].0] = found.products[ix].0;
    }
    reorder(&found.container, &found.children, &sequence)?;
    Ok(moved)
}
