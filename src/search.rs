//! Search results in theme markup, reranked by `tailor_core::rank::rerank_search` with the
//! theme's order as the text relevance (so it stays dominant):
//!
//! - **The search page (Dawn)**: the product cards of `#product-grid` (a `ul`, or the
//!   `ul.product-grid` inside it), mixed with article and page cards. Only product cards move,
//!   among the positions product cards had; the others stay where they are.
//! - **Predictive search (Dawn)**: the items of `#predictive-search-results-products-list`,
//!   whose product is found from its `/products/<handle>` link.

use crate::dom::{query, Nodes};
use crate::error::TailorError;
use crate::grid::{parse_card_link_id, reorder};
use web_sys::{Element, Node};

/// Search results found on the page: the list, every child in order, and which children are
/// products (with their ids).
pub struct Found {
    /// The list element.
    pub container: Element,
    /// All its children, in order.
    pub children: Nodes,
    /// `(position among children, product id)` of each product card, in order.
    pub products: Vec<(usize, u64)>,
}

/// The product handle in a `/products/<handle>` link.
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

/// The children of `container`, and a text of each read in one call (see [`Nodes::texts`]):
/// `None` when fewer than two are products by `id_of`.
fn collect(
    container: Element,
    selector: &str,
    attr: &str,
    mut id_of: impl FnMut(&str) -> Option<u64>,
) -> Result<Option<Found>, TailorError> {
    let children = Nodes::from_list(&container.children());
    let Some(texts) = children.texts(selector, attr)? else {
        return Ok(None);
    };
    let products: Vec<(usize, u64)> = texts
        .iter()
        .enumerate()
        .filter_map(|(k, text)| id_of(text).map(|id| (k, id)))
        .collect();
    if products.len() < 2 {
        return Ok(None);
    }
    Ok(Some(Found {
        container,
        children,
        products,
    }))
}

/// The search-page results under `root`, if any.
pub fn find_page(root: &Node) -> Result<Option<Found>, TailorError> {
    let container = match query(root, "#product-grid ul.product-grid")? {
        Some(c) => c,
        None => match query(root, "ul#product-grid")? {
            Some(c) => c,
            None => return Ok(None),
        },
    };
    collect(container, "[id^=\"CardLink-\"]", "", parse_card_link_id)
}

/// The predictive-search product list under `root`, if any, with each product's handle (its
/// product ids are left 0: only the snapshot can turn a handle into an id).
pub fn find_predictive(root: &Node) -> Result<Option<(Found, Vec<String>)>, TailorError> {
    let Some(c) = query(root, "#predictive-search-results-products-list")? else {
        return Ok(None);
    };
    let mut handles = Vec::new();
    let found = collect(c, "a[href*=\"/products/\"]", "href", |href| {
        handle_of(href).map(|h| {
            handles.push(h);
            0
        })
    })?;
    Ok(found.map(|f| (f, handles)))
}

/// Put the product cards in `order` (indices into `found.products`) into the product
/// positions, leaving every other child where it was. Returns how many cards moved: none when
/// the theme has replaced the results since they were read.
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
    Ok(
        match reorder(&found.container, &found.children, &sequence)? {
            true => moved,
            false => 0,
        },
    )
}
