//! Building a site's snapshot from its catalog and stored events.

use crate::catalog::Catalog;
use std::collections::HashMap;
use tailor_core::model::Model;
use tailor_core::snapshot::{ModelKind, Snapshot};

/// How much one stored product view adds to a product's popularity weight.
pub const VIEW_WEIGHT: f64 = 1.0;

/// The snapshot for `catalog`: each product's popularity weight is its catalog popularity plus
/// [`VIEW_WEIGHT`] per stored `product_view`; categories and prices come from the catalog.
/// Views of products not in the catalog are ignored.
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
    let mut model = Model::from_popularity(&weights);
    let mut strings: Vec<String> = Vec::new();
    let mut string_ix: HashMap<String, u32> = HashMap::new();
    let by_id: HashMap<u64, &crate::catalog::Product> =
        catalog.products.iter().map(|p| (p.id, p)).collect();
    for item in &mut model.items {
        let Some(p) = by_id.get(&item.id) else {
            continue;
        };
        if !p.category.is_empty() {
            let next = strings.len() as u32;
            let ix = *string_ix.entry(p.category.clone()).or_insert_with(|| {
                strings.push(p.category.clone());
                next
            });
            item.category = Some(ix);
        }
        item.price_cents = Some((p.price * 100.0).round().clamp(0.0, u32::MAX as f64) as u32);
    }
    model.strings = strings;
    model.handles = model
        .items
        .iter()
        .map(|item| {
            by_id
                .get(&item.id)
                .map_or(String::new(), |p| p.handle.clone())
        })
        .collect();
    Snapshot::new(ModelKind::Hybrid, catalog.version, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Product;

    fn product(id: u64, popularity: f64, category: &str) -> Product {
        Product {
            id,
            handle: format!("p{id}"),
            title: format!("P{id}"),
            category: category.into(),
            price: 1.25,
            popularity,
            sku: None,
        }
    }

    fn score(s: &Snapshot, id: u64) -> Option<u8> {
        s.model.ix_of(id).map(|i| s.model.popularity[i as usize])
    }

    #[test]
    fn views_raise_scores_and_unknown_items_are_ignored() {
        let catalog = Catalog {
            version: 9,
            source: None,
            products: vec![product(1, 10.0, "Bags"), product(2, 1.0, "")],
        };
        let before = build(&catalog, &[]);
        assert!(score(&before, 1) > score(&before, 2));
        let after = build(&catalog, &[(2, 50), (77, 1000)]);
        assert!(score(&after, 2) > score(&after, 1));
        assert_eq!(score(&after, 77), None);
        assert_eq!(after.catalog_version, 9);
        assert_eq!(after.model.strings, vec!["Bags".to_string()]);
        assert_eq!(after.model.items[0].category, Some(0));
        assert_eq!(after.model.items[1].category, None);
        assert_eq!(after.model.items[0].price_cents, Some(125));
        assert_eq!(
            after.model.handles,
            vec!["p1".to_string(), "p2".to_string()]
        );
    }
}
