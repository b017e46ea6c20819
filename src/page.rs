//! What kind of page this is and which product it shows, read from theme markup.
//!
//! - The page type: `data-tailor-page` on `<html>` or `<body>` when the theme sets it; else the
//!   product markup; else the URL path (`/products/…`, `/collections/…`, `/search`, `/cart`,
//!   `/`); else `other`.
//! - The product: Dawn's `product-info[data-product-id]`, the generic
//!   `[data-tailor-current-product]`, or WooCommerce's single product form
//!   (`form.cart [name=add-to-cart]`).

use crate::dom::query;
use crate::error::TailorError;
use web_sys::{Element, Node};

/// The page as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// `home`, `collection`, `search`, `product`, `cart` or `other`.
    pub kind: &'static str,
    /// The product on a product page.
    pub item: Option<u64>,
    /// Which markup told us: `generic`, `dawn`, `woocommerce` or `url`.
    pub adapter: &'static str,
}

const KINDS: [&str; 6] = ["home", "collection", "search", "product", "cart", "other"];

fn id_attr(el: &Element, name: &str) -> Option<u64> {
    el.get_attribute(name).and_then(|v| v.trim().parse().ok())
}

/// The page type for a URL path.
pub fn kind_of_path(path: &str) -> &'static str {
    let path = path.strip_suffix(".html").unwrap_or(path);
    if path.is_empty() || path == "/" || path == "/index" {
        "home"
    } else if path.starts_with("/products/") || path == "/product" {
        "product"
    } else if path.starts_with("/collections") || path == "/collection" {
        "collection"
    } else if path == "/search" {
        "search"
    } else if path == "/cart" {
        "cart"
    } else {
        "other"
    }
}

/// Whether the class list `classes` (an element's `className`) holds `name`.
fn has(classes: &str, name: &str) -> bool {
    classes.split_ascii_whitespace().any(|c| c == name)
}

/// WooCommerce marks its templates with body classes.
fn woocommerce_kind(root: &Node) -> Result<Option<&'static str>, TailorError> {
    let Some(body) = query(root, "body.woocommerce, body.woocommerce-page")? else {
        return Ok(None);
    };
    // (Read as a string, not through `classList`: no `DOMTokenList` is made for it.)
    let classes = body.class_name();
    Ok(if has(&classes, "single-product") {
        Some("product")
    } else if has(&classes, "woocommerce-cart") {
        Some("cart")
    } else if has(&classes, "search-results") {
        Some("search")
    } else if has(&classes, "post-type-archive-product")
        || has(&classes, "tax-product_cat")
        || has(&classes, "tax-product_tag")
    {
        Some("collection")
    } else {
        None
    })
}

/// Read the page under `root`; `path` is `location.pathname`.
pub fn detect(root: &Node, path: &str) -> Result<Page, TailorError> {
    let mut item = None;
    let mut adapter = "url";
    if let Some(el) = query(root, "[data-tailor-current-product]")? {
        item = id_attr(&el, "data-tailor-current-product");
        adapter = "generic";
    } else if let Some(el) = query(root, "product-info[data-product-id]")? {
        item = id_attr(&el, "data-product-id");
        adapter = "dawn";
    } else if let Some(el) = query(root, "form.cart [name=\"add-to-cart\"]")? {
        item = el
            .get_attribute("value")
            .and_then(|v| v.trim().parse().ok());
        adapter = "woocommerce";
    }
    let declared = query(root, "[data-tailor-page]")?
        .and_then(|el| el.get_attribute("data-tailor-page"))
        .and_then(|v| KINDS.iter().copied().find(|k| *k == v.trim()));
    let kind = match declared {
        Some(k) => k,
        None if item.is_some() => "product",
        None => match woocommerce_kind(root)? {
            Some(k) => {
                adapter = "woocommerce";
                k
            }
            None => kind_of_path(path),
        },
    };
    Ok(Page {
        kind,
        item: if kind == "product" { item } else { None },
        adapter,
    })
}

impl Page {
    /// As `{ type, item, adapter }`.
    pub fn to_js(&self) -> wasm_bindgen::JsValue {
        let o = crate::js::obj();
        crate::js::set(&o, "type", self.kind);
        crate::js::set(
            &o,
            "item",
            self.item.map_or(wasm_bindgen::JsValue::NULL, crate::js::id),
        );
        crate::js::set(&o, "adapter", self.adapter);
        o.into()
    }
}

#[cfg(test)]
mod tests {
    use super::kind_of_path;

    #[test]
    fn page_types_from_paths() {
        assert_eq!(kind_of_path("/"), "home");
        assert_eq!(kind_of_path("/index.html"), "home");
        assert_eq!(kind_of_path("/products/red-mug"), "product");
        assert_eq!(kind_of_path("/product.html"), "product");
        assert_eq!(kind_of_path("/collections/all"), "collection");
        assert_eq!(kind_of_path("/collection.html"), "collection");
        assert_eq!(kind_of_path("/search"), "search");
        assert_eq!(kind_of_path("/cart"), "cart");
        assert_eq!(kind_of_path("/pages/about"), "other");
    }
}
