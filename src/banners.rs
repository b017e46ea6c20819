//! Personalized banners:
//!
//! ```html
//! <div data-tailor-banner="hero">
//!   <section data-tailor-variant="default">…</section>
//!   <section data-tailor-variant="vip" data-segment="vip" hidden>…</section>
//!   <section data-tailor-variant="bags" data-category="Bags" hidden>…</section>
//! </div>
//! ```
//!
//! The theme shows its default variant; the engine (`tailor_core::rank::pick_banner`) picks one,
//! which is shown while the others get `hidden`. When nothing fits, the markup stays as it is.

use crate::dom::{elements, query_list};
use crate::error::{dom, TailorError};
use tailor_core::rank::BannerVariant;
use web_sys::{Element, Node};

/// A decided banner (for the exposure event).
#[derive(Debug, Clone)]
pub struct Picked {
    /// The banner's name (`data-tailor-banner`).
    pub banner: String,
    /// The chosen variant's name (`data-tailor-variant`, or its position).
    pub variant: String,
    /// Why, in words.
    pub explanation: String,
}

/// Banners under `root` with their variants (the container's direct children that carry
/// `data-tailor-variant`). With `keep`, only those no earlier pass has decided (marked
/// `crate::grid::PLACED`): a banner keeps the variant it shows.
pub fn find(root: &Node, keep: bool) -> Result<Vec<(Element, Vec<Element>)>, TailorError> {
    let mut out = Vec::new();
    let banners = [
        "[data-tailor-banner]",
        "[data-tailor-banner]:not([data-tailor-placed])",
    ];
    let Some(list) = query_list(root, banners[keep as usize])? else {
        return Ok(out);
    };
    for banner in elements(&list) {
        let children = banner.children();
        let variants: Vec<Element> = (0..children.length())
            .filter_map(|i| children.item(i))
            .filter(|c| c.has_attribute("data-tailor-variant"))
            .collect();
        if !variants.is_empty() {
            out.push((banner, variants));
        }
    }
    Ok(out)
}

/// What the engine needs to know about each variant.
pub fn describe(variants: &[Element]) -> Vec<BannerVariant> {
    variants
        .iter()
        .map(|v| BannerVariant {
            segment: v.get_attribute("data-segment").filter(|s| !s.is_empty()),
            category: v.get_attribute("data-category").filter(|s| !s.is_empty()),
        })
        .collect()
}

/// Show variant `chosen`, hide the others.
pub fn show(variants: &[Element], chosen: usize) -> Result<(), TailorError> {
    for (k, v) in variants.iter().enumerate() {
        if k == chosen {
            v.remove_attribute("hidden")
                .map_err(|e| dom("removeAttribute", e))?;
        } else {
            v.set_attribute("hidden", "")
                .map_err(|e| dom("setAttribute", e))?;
        }
    }
    Ok(())
}

impl Picked {
    /// As `{ banner, variant, explanation }`.
    pub fn to_js(&self) -> wasm_bindgen::JsValue {
        let o = crate::js::obj();
        crate::js::set(&o, "banner", self.banner.as_str());
        crate::js::set(&o, "variant", self.variant.as_str());
        crate::js::set(&o, "explanation", self.explanation.as_str());
        o.into()
    }
}
