//! Building a site's snapshot from its catalog and stored events.

use crate::catalog::Catalog;
use std::collections::HashMap;
use tailor_core::snapshot::{ModelKind, Snapshot};

/// How much one stored product view adds to a product's popularity weight.
pub const VIEW_WEIGHT: f64 = 1.0;

/// The popularity snapshot: each catalog product's weight is its catalog popularity plus
/// [`VIEW_WEIGHT`] per stored `product_view`. Views of products not in the catalog are ignored.
pub fn build(catalog: &Catalog, view_counts: &[(u64, u64)]) -> Snapshot {
    let views: HashMap<u64, u64> = view_counts.iter().copied().collect();
    let weights: Vec<(u64, f64)> = catalog
        .products
        .iter()
        .map(|p| {
            let v = views.get(&p.id).copied().unwrap_or(0) as f64;
            (p.id, p.popularity + VIEW_WEIGHT * v)
        })
        .collect();
    Snapshot::from_weights(ModelKind::Popularity, catalog.version, &weights)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Product;

    fn product(id: u64, popularity: f64) -> Product {
        Product {
            id,
            handle: format!("p{id}"),
            title: format!("P{id}"),
            category: String::new(),
            price: 1.0,
            popularity,
            sku: None,
        }
    }

    #[test]
    fn views_raise_scores_and_unknown_items_are_ignored() {
        let catalog = Catalog {
            version: 9,
            source: None,
            products: vec![product(1, 10.0), product(2, 1.0)],
        };
        let before = build(&catalog, &[]);
        assert!(before.score_of(1) > before.score_of(2));
        let after = build(&catalog, &[(2, 50), (77, 1000)]);
        assert!(after.score_of(2) > after.score_of(1));
        assert_eq!(after.score_of(77), None);
        assert_eq!(after.catalog_version, 9);
    }
}
