//! What a recommendation block shows for each recommended item: its title (as text), a safe
//! link and image (see [`crate::urls`]), its price and the reason in words. The browser only
//! puts these values into elements; every decision is here.

use crate::model::Model;
use crate::rank::{Placement, Ranked};
use crate::urls::safe_url;
use serde::Serialize;

/// One item of a block, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    /// Product id.
    pub id: u64,
    /// Position in the block, from 0.
    pub position: usize,
    /// Title, plain text (never markup).
    pub title: String,
    /// Product page link, when allowed.
    pub url: Option<String>,
    /// Image, when the item has one and it is allowed.
    pub image: Option<String>,
    /// Price in cents of the store's currency, when known.
    pub price_cents: Option<u32>,
    /// The reason, as data.
    pub reason: crate::rank::Reason,
    /// The reason, in words for shoppers.
    pub explanation: String,
}

/// A placement by its name in markup: `similar`, `frequently-bought-together` (or `fbt`),
/// `recently-viewed`, `for-you`, `cart-upsell`, `trending`, `pick-up-where-you-left-off`
/// (hyphens or underscores).
pub fn placement_by_name(name: &str) -> Option<Placement> {
    let key = name.trim().to_ascii_lowercase().replace('-', "_");
    let key = match key.as_str() {
        "fbt" | "bought_together" => "frequently_bought_together",
        "upsell" => "cart_upsell",
        k => k,
    };
    Placement::ALL.iter().copied().find(|p| p.name() == key)
}

/// The first `n` of `ranked` that another block on the page has not shown yet (`seen`). History
/// placements (recently viewed, pick up where you left off) show the shopper's own history and
/// are never filtered.
pub fn without_repeats(
    placement: Placement,
    ranked: Vec<Ranked>,
    seen: &[u64],
    n: usize,
) -> Vec<Ranked> {
    let history = matches!(
        placement,
        Placement::RecentlyViewed | Placement::PickUpWhereYouLeftOff
    );
    let mut out: Vec<Ranked> = ranked
        .into_iter()
        .filter(|r| history || !seen.contains(&r.item))
        .collect();
    out.truncate(n);
    out
}

/// The title of item `id` in the snapshot, or empty.
pub fn title_of(model: &Model, id: u64) -> String {
    model
        .ix_of(id)
        .and_then(|ix| model.titles.get(ix as usize))
        .cloned()
        .unwrap_or_default()
}

/// The renderable items of `ranked`: items without a title are left out (the snapshot has no
/// way to show them), links and images go through [`safe_url`] against `shop_origin` and the
/// allowed `hosts`.
pub fn shown(ranked: &[Ranked], model: &Model, shop_origin: &str, hosts: &[String]) -> Vec<Shown> {
    let mut out = Vec::with_capacity(ranked.len());
    for r in ranked {
        let Some(ix) = model.ix_of(r.item) else {
            continue;
        };
        let ix = ix as usize;
        let title = model.titles.get(ix).cloned().unwrap_or_default();
        if title.trim().is_empty() {
            continue;
        }
        let url = model
            .handles
            .get(ix)
            .filter(|h| !h.is_empty())
            .and_then(|h| safe_url(&format!("/products/{h}"), shop_origin, hosts));
        let image = model
            .images
            .get(ix)
            .filter(|u| !u.is_empty())
            .and_then(|u| safe_url(u, shop_origin, hosts));
        out.push(Shown {
            id: r.item,
            position: out.len(),
            title,
            url,
            image,
            price_cents: model.items[ix].price_cents,
            explanation: r.reason.explain(&|id| title_of(model, id)),
            reason: r.reason.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::Reason;

    fn model() -> Model {
        let mut m = Model::from_popularity(&[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)]);
        m.items[0].price_cents = Some(450);
        m.titles = vec![
            "Red <b>mug</b>".into(),
            "".into(),
            "Tote".into(),
            "Odd".into(),
        ];
        m.handles = vec!["red-mug".into(), "x".into(), "tote".into(), "".into()];
        m.images = vec![
            "//cdn.shopify.com/red.jpg".into(),
            "".into(),
            "javascript:alert(1)".into(),
            "https://evil.example/x.png".into(),
        ];
        m
    }

    fn ranked(ids: &[u64]) -> Vec<Ranked> {
        ids.iter()
            .map(|&item| Ranked {
                item,
                score: 1.0,
                reason: Reason::BecauseYouViewed { item: 1 },
            })
            .collect()
    }

    #[test]
    fn blocks_show_text_titles_and_only_safe_urls() {
        let m = model();
        let s = shown(&ranked(&[1, 2, 3, 4, 99]), &m, "https://shop.example", &[]);
        // 2 has no title and 99 is unknown: left out; positions close the gaps.
        let ids: Vec<(u64, usize)> = s.iter().map(|x| (x.id, x.position)).collect();
        assert_eq!(ids, vec![(1, 0), (3, 1), (4, 2)]);
        assert_eq!(
            s[0].title, "Red <b>mug</b>",
            "kept as text; the DOM layer sets textContent"
        );
        assert_eq!(
            s[0].url.as_deref(),
            Some("https://shop.example/products/red-mug")
        );
        assert_eq!(
            s[0].image.as_deref(),
            Some("https://cdn.shopify.com/red.jpg")
        );
        assert_eq!(s[0].price_cents, Some(450));
        assert_eq!(s[1].image, None, "javascript: image refused");
        assert_eq!(s[2].url, None, "no handle, no link");
        assert_eq!(s[2].image, None, "foreign host refused");
        assert_eq!(s[0].explanation, "Because you viewed Red <b>mug</b>");
    }

    #[test]
    fn blocks_do_not_repeat_what_the_page_shows_except_history() {
        let r = ranked(&[1, 2, 3, 4]);
        let ids = |v: Vec<Ranked>| v.into_iter().map(|x| x.item).collect::<Vec<_>>();
        assert_eq!(
            ids(without_repeats(Placement::Similar, r.clone(), &[2, 3], 2)),
            vec![1, 4]
        );
        assert_eq!(
            ids(without_repeats(Placement::RecentlyViewed, r, &[2, 3], 3)),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn placements_by_markup_name() {
        assert_eq!(placement_by_name("similar"), Some(Placement::Similar));
        assert_eq!(
            placement_by_name("frequently-bought-together"),
            Some(Placement::FrequentlyBoughtTogether)
        );
        assert_eq!(
            placement_by_name("FBT"),
            Some(Placement::FrequentlyBoughtTogether)
        );
        assert_eq!(placement_by_name("for_you"), Some(Placement::ForYou));
        assert_eq!(
            placement_by_name("pick-up-where-you-left-off"),
            Some(Placement::PickUpWhereYouLeftOff)
        );
        assert_eq!(placement_by_name("nonsense"), None);
    }
}
