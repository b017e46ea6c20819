//! Search results in theme markup, reranked by `tailor_core::rank::rerank_search` with the
//! theme's order as the text relevance (so it stays dominant):
//!
//! - **The search page (Dawn)**: the product cards of `#product-grid` (a `ul`, or the
//!   `ul.product-grid` inside it), mixed with article and page cards. Only product cards move,
//!   among the positions product cards had; the others stay where they are.
//! - **Predictive search (Dawn)**: the items of `#predictive-search-results-products-list`,
//!   whose product is found from its `/products/<handle>` link.

use crate::dom::query;
use crate::error::{dom, TailorError};
use crate::grid::{dawn_card_id, reorder};
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
}

/// The product handle of a predictive-search item: its `/products/<handle>` link's. Only the
/// snapshot can turn it into a product id (the engine does, wherever it runs).
fn handle_of(item: &Element) -> Result<Option<String>, TailorError> {
    let Some(link) = item
        .query_selector("a[href*=\"/products/\"]")
        .map_err(|e| dom("querySelector", e))?
    else {
        return Ok(None);
    };
    let href = link.get_attribute("href").unwrap_or_default();
    const MARK: &[u8] = b"/products/";
    let Some(at) = href.as_bytes().windows(MARK.len()).position(|w| w == MARK) else {
        return Ok(None);
    };
    let rest = href.get(at + MARK.len()..).unwrap_or_default();
    let handle = rest.split(['?', '#', '/']).next().unwrap_or("");
    Ok((!handle.is_empty()).then(|| handle.to_owned()))
}

fn collect(
    container: Element,
    id_of: &dyn Fn(&Element) -> Result<Option<u64>, TailorError>,
) -> Result<Option<Found>, TailorError> {
    let list = container.children();
    let children: Vec<Element> = (0..list.length()).filter_map(|i| list.item(i)).collect();
    let mut products = Vec::new();
    for (k, child) in children.iter().enumerate() {
        if let Some(id) = id_of(child)? {
            products.push((k, id));
        }
    }
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
    collect(container, &|c| dawn_card_id(c))
}

/// The predictive-search product list under `root`, if any, with each product's handle (its
/// product ids are left 0: only the snapshot can turn a handle into an id).
pub fn find_predictive(root: &Node) -> Result<Option<(Found, Vec<String>)>, TailorError> {
    let Some(c) = query(root, "#predictive-search-results-products-list")? else {
        return Ok(None);
    };
    let handles = std::cell::RefCell::new(Vec::new());
    let found = collect(c, &|item| {
        Ok(handle_of(item)?.map(|h| {
            handles.borrow_mut().push(h);
            0
        }))
    })?;
    Ok(found.map(|f| (f, handles.into_inner())))
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
