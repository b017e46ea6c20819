use super::*;
use crate::events::{Event, EventKind, Line};
use crate::model::{ItemAttrs, Lists, Neighbor};
use crate::profile::Purchase;

const T0: i64 = 1_700_000_000_000;

/// Items 1..=12: 1-4 "Kitchen", 5-8 "Bags", 9-12 "Candles". Popularity rises with the id
/// within each category, Kitchen most popular. Sessions: shoppers who view 5 go on to 6 and 7.
fn model() -> Model {
    let items: Vec<ItemAttrs> = (1..=12u64)
        .map(|id| ItemAttrs {
            id,
            category: Some(((id - 1) / 4) as u32),
            vendor: None,
            price_cents: Some(if id <= 4 { 300 } else { 2500 }),
            available: id != 8,
        })
        .collect();
    let popularity = (1..=12u64)
        .map(|id| match (id - 1) / 4 {
            0 => 200 + id as u8,
            1 => 100 + id as u8,
            _ => 50 + id as u8,
        })
        .collect();
    let mut next = vec![Vec::new(); 12];
    next[4] = vec![
        Neighbor {
            item: 5,
            score: 255,
        },
        Neighbor {
            item: 6,
            score: 200,
        },
    ];
    Model::from_parts(
        items,
        vec!["Kitchen".into(), "Bags".into(), "Candles".into()],
        popularity,
        next,
        vec![vec![4, 5, 6], vec![4, 5], vec![0, 1], vec![8, 9]],
        crate::model::ScoreParams::default(),
    )
}

fn view(p: &mut Profile, m: &Model, ts: i64, session: &str, item: u64) {
    p.apply(
        &Event {
            id: "0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c".into(),
            ts,
            shopper: "s".into(),
            session: session.into(),
            kind: EventKind::ProductView { item },
        },
        Some(m),
    );
}

fn ctx() -> Context {
    Context {
        now: T0 + 1000,
        ..Default::default()
    }
}

fn ids(v: &[(usize, Reason)], grid: &[u64]) -> Vec<u64> {
    v.iter().map(|(k, _)| grid[*k]).collect()
}

#[test]
fn cold_start_grid_is_popularity_with_unknowns_last() {
    let m = model();
    let grid = [9, 99, 5, 1, 2];
    let order = rank_grid(&grid, &Profile::default(), &ctx(), &m);
    assert_eq!(ids(&order, &grid), vec![2, 1, 5, 9, 99]);
    assert!(order.iter().all(|(_, r)| *r == Reason::Popular));
}

#[test]
fn viewing_a_category_lifts_it_in_the_grid() {
    let m = model();
    let grid = [1, 2, 3, 4, 5, 6, 7, 9];
    let before = ids(&rank_grid(&grid, &Profile::default(), &ctx(), &m), &grid);
    assert_eq!(before[0], 4);
    let mut p = Profile::default();
    for (i, item) in [5u64, 6, 7].iter().enumerate() {
        view(&mut p, &m, T0 + i as i64, "a", *item);
    }
    let after = rank_grid(&grid, &p, &ctx(), &m);
    let order = ids(&after, &grid);
    assert_ne!(order, before);
    // All three bags now lead the grid.
    let mut head = order[..3].to_vec();
    head.sort();
    assert_eq!(head, vec![5, 6, 7]);
    // And it can say why.
    assert!(matches!(
        after[0].1,
        Reason::BecauseYouViewed { .. } | Reason::FavoriteCategory { .. }
    ));
    // Deterministic.
    assert_eq!(rank_grid(&grid, &p, &ctx(), &m), after);
}

#[test]
fn search_keeps_text_relevance_dominant() {
    let m = model();
    let mut p = Profile::default();
    for i in 0..5 {
        view(&mut p, &m, T0 + i, "a", 6);
    }
    // Candle 9 is far more relevant than bag 6: it stays first.
    let results = [(9, 10.0), (6, 5.0)];
    let order = rerank_search(&results, &p, &ctx(), &m);
    assert_eq!(order[0].0, 0);
    // Nearly tied: personalization decides.
    let results = [(9, 1.0), (6, 0.97)];
    let order = rerank_search(&results, &p, &ctx(), &m);
    assert_eq!(order[0].0, 1);
}

#[test]
fn similar_items_follow_co_viewing_and_explain_themselves() {
    let m = model();
    let c = Context {
        item: Some(5),
        ..ctx()
    };
    let recs = recommend(
        Placement::Similar,
        &Profile::default(),
        &c,
        3,
        &Rules::default(),
        &m,
    );
    let items: Vec<u64> = recs.iter().map(|r| r.item).collect();
    assert!(
        !items.contains(&5),
        "the product on the page is never recommended to itself"
    );
    assert_eq!(items[..2], [6, 7]);
    assert_eq!(recs[0].reason, Reason::BecauseYouViewed { item: 5 });
    let text = recs[0].reason.explain(&|id| format!("item {id}"));
    assert_eq!(text, "Because you viewed item 5");
}

#[test]
fn cold_start_for_you_uses_context_then_popularity() {
    let m = model();
    let recs = recommend(
        Placement::ForYou,
        &Profile::default(),
        &ctx(),
        4,
        &Rules::default(),
        &m,
    );
    assert_eq!(
        recs.iter().map(|r| r.item).collect::<Vec<_>>(),
        vec![4, 3, 2, 1]
    );
    let c = Context {
        category: Some("Candles".into()),
        ..ctx()
    };
    let recs = recommend(
        Placement::ForYou,
        &Profile::default(),
        &c,
        2,
        &Rules::default(),
        &m,
    );
    assert_eq!(
        recs.iter().map(|r| r.item).collect::<Vec<_>>(),
        vec![12, 11]
    );
    assert_eq!(recs[0].reason, Reason::Context);
}

#[test]
fn recently_viewed_and_pick_up_where_you_left_off() {
    let m = model();
    let mut p = Profile::default();
    view(&mut p, &m, T0, "old", 1);
    view(&mut p, &m, T0 + 1, "old", 2);
    view(&mut p, &m, T0 + 2, "old", 3);
    p.purchases.push(Purchase {
        ts: T0 + 3,
        value: 1.0,
        items: vec![2],
        order: None,
    });
    view(&mut p, &m, T0 + 10, "new", 9);
    let c = Context {
        item: Some(9),
        ..ctx()
    };
    let recent = recommend(Placement::RecentlyViewed, &p, &c, 5, &Rules::default(), &m);
    assert_eq!(
        recent.iter().map(|r| r.item).collect::<Vec<_>>(),
        vec![3, 2, 1]
    );
    let pick_up = recommend(
        Placement::PickUpWhereYouLeftOff,
        &p,
        &ctx(),
        5,
        &Rules::default(),
        &m,
    );
    assert_eq!(
        pick_up.iter().map(|r| r.item).collect::<Vec<_>>(),
        vec![3, 1]
    );
}

#[test]
fn cart_upsell_leaves_out_the_cart() {
    let m = model();
    let mut p = Profile::default();
    p.apply(
        &Event {
            id: "0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c".into(),
            ts: T0,
            shopper: "s".into(),
            session: "a".into(),
            kind: EventKind::AddToCart { item: 5, qty: 1 },
        },
        Some(&m),
    );
    let recs = recommend(Placement::CartUpsell, &p, &ctx(), 3, &Rules::default(), &m);
    assert!(recs.iter().all(|r| r.item != 5));
    assert_eq!(recs[0].item, 6);
    assert_eq!(recs[0].reason, Reason::GoesWithCart { item: 5 });
    // A purchase empties the cart of what was bought.
    p.apply(
        &Event {
            id: "1b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c".into(),
            ts: T0 + 1,
            shopper: "s".into(),
            session: "a".into(),
            kind: EventKind::Purchase {
                order: None,
                lines: vec![Line {
                    item: 5,
                    qty: 1,
                    price: 25.0,
                }],
                value: 25.0,
                currency: None,
            },
        },
        Some(&m),
    );
    assert!(p.cart.is_empty());
}

#[test]
fn trending_is_popularity() {
    let m = model();
    let recs = recommend(
        Placement::Trending,
        &Profile::default(),
        &ctx(),
        3,
        &Rules::default(),
        &m,
    );
    assert_eq!(
        recs.iter().map(|r| r.item).collect::<Vec<_>>(),
        vec![4, 3, 2]
    );
}

#[test]
fn business_rules() {
    let m = model();
    let c = Context {
        item: Some(5),
        ..ctx()
    };
    // Item 8 is unavailable: never shown, even where it would rank.
    let all = recommend(
        Placement::Similar,
        &Profile::default(),
        &c,
        11,
        &Rules::default(),
        &m,
    );
    assert!(all.iter().all(|r| r.item != 8));
    assert_eq!(all.len(), 10);

    let mut p = Profile::default();
    p.purchases.push(Purchase {
        ts: T0,
        value: 1.0,
        items: vec![6],
        order: None,
    });
    let rules = Rules {
        exclude_purchased: true,
        ..Default::default()
    };
    let recs = recommend(Placement::Similar, &p, &c, 3, &rules, &m);
    assert!(recs.iter().all(|r| r.item != 6));

    let rules = Rules {
        pinned: vec![(1, 12)],
        ..Default::default()
    };
    let recs = recommend(Placement::Similar, &Profile::default(), &c, 4, &rules, &m);
    assert_eq!(recs.len(), 4);
    assert_eq!((recs[1].item, recs[1].reason.clone()), (12, Reason::Pinned));
    assert_eq!(recs.iter().filter(|r| r.item == 12).count(), 1);

    // At most half the list from one category.
    let rules = Rules {
        category_cap: 0.5,
        ..Default::default()
    };
    let recs = recommend(
        Placement::Trending,
        &Profile::default(),
        &ctx(),
        4,
        &rules,
        &m,
    );
    let kitchen = recs.iter().filter(|r| r.item <= 4).count();
    assert_eq!(kitchen, 2, "{recs:?}");

    let rules = Rules {
        exploration_slot: Some(2),
        ..Default::default()
    };
    let a = recommend(
        Placement::Trending,
        &Profile::default(),
        &ctx(),
        4,
        &rules,
        &m,
    );
    assert_eq!(a[2].reason, Reason::Exploration);
    assert!(a[2].item != 4 && a[2].item != 3 && a[2].item != 1);
    assert_eq!(
        a,
        recommend(
            Placement::Trending,
            &Profile::default(),
            &ctx(),
            4,
            &rules,
            &m
        )
    );
}

#[test]
fn banners_follow_segment_then_category_then_default() {
    let m = model();
    let variants = vec![
        BannerVariant {
            segment: None,
            category: Some("Bags".into()),
        },
        BannerVariant {
            segment: Some("vip".into()),
            category: None,
        },
        BannerVariant::default(),
    ];
    let cfg = SegmentConfig::default();
    let p = Profile::default();
    assert_eq!(
        pick_banner(&variants, &p, T0, &cfg),
        Some((2, Reason::Popular))
    );
    let mut p = Profile::default();
    view(&mut p, &m, T0, "a", 6);
    assert_eq!(
        pick_banner(&variants, &p, T0, &cfg),
        Some((
            0,
            Reason::FavoriteCategory {
                category: "Bags".into()
            }
        ))
    );
    p.purchases.push(Purchase {
        ts: T0,
        value: 900.0,
        items: vec![],
        order: None,
    });
    p.orders = 1;
    p.spend = 900.0;
    assert_eq!(pick_banner(&variants, &p, T0, &cfg).map(|x| x.0), Some(1));
    assert_eq!(
        pick_banner(&variants[..1], &Profile::default(), T0, &cfg),
        None
    );
}

/// A store large enough for candidate generation (above `EXACT_LIMIT`).
fn big_store(n: u64) -> Model {
    let items: Vec<ItemAttrs> = (0..n)
        .map(|i| ItemAttrs {
            id: 1000 + i,
            category: Some((i % 40) as u32),
            vendor: Some(40 + (i % 7) as u32),
            price_cents: Some(100 + (i * 7919 % 30_000) as u32),
            available: i % 13 != 0,
        })
        .collect();
    let strings: Vec<String> = (0..40)
        .map(|c| format!("C{c}"))
        .chain((0..7).map(|v| format!("V{v}")))
        .collect();
    let popularity: Vec<u8> = (0..n).map(|i| (i * 2654435761 % 256) as u8).collect();
    let sessions: Vec<Vec<ItemIx>> = (0..3000u64)
        .map(|s| (0..5).map(|k| ((s * 31 + k * 40) % n) as ItemIx).collect())
        .collect();
    Model::from_parts(
        items,
        strings,
        popularity,
        vec![],
        sessions,
        crate::model::ScoreParams::default(),
    )
}

#[test]
fn candidate_generation_matches_exact_scoring_on_a_large_store() {
    let m = big_store(5000);
    assert!(m.items.len() > EXACT_LIMIT);
    let mut p = Profile::default();
    for (k, ix) in [31u64, 71, 111, 151].iter().enumerate() {
        view(&mut p, &m, T0 + k as i64, "a", m.id_of(*ix as u32));
    }
    let c = ctx();
    let got: Vec<u64> = recommend(Placement::ForYou, &p, &c, 12, &Rules::default(), &m)
        .iter()
        .map(|r| r.item)
        .collect();
    // Brute force: score every available item.
    let scorer = Scorer::new(&m, &p, &c, &session_seeds(&p), &[]);
    let mut all: Vec<(u64, f32)> = (0..m.items.len() as ItemIx)
        .filter(|&ix| m.items[ix as usize].available)
        .map(|ix| (m.id_of(ix), scorer.total(ix)))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let exact: Vec<u64> = all.iter().take(12).map(|x| x.0).collect();
    assert_eq!(got, exact);
}

#[test]
fn pins_are_filtered_deduplicated_and_exploration_comes_after_them() {
    let m = model();
    let c = Context {
        item: Some(5),
        ..ctx()
    };
    // Pinning the page's own product, a sold-out item and a duplicate.
    let rules = Rules {
        pinned: vec![(0, 5), (1, 8), (2, 12), (3, 12)],
        ..Default::default()
    };
    let recs = recommend(Placement::Similar, &Profile::default(), &c, 4, &rules, &m);
    let items: Vec<u64> = recs.iter().map(|r| r.item).collect();
    assert!(!items.contains(&5) && !items.contains(&8), "{items:?}");
    assert_eq!(items.iter().filter(|&&i| i == 12).count(), 1);
    assert_eq!((recs[2].item, recs[2].reason.clone()), (12, Reason::Pinned));
    assert_eq!(recs.len(), 4);

    // Exploration at the last slot with a pin in front still explores.
    let rules = Rules {
        pinned: vec![(0, 12)],
        exploration_slot: Some(3),
        ..Default::default()
    };
    let recs = recommend(
        Placement::Trending,
        &Profile::default(),
        &ctx(),
        4,
        &rules,
        &m,
    );
    assert_eq!(recs[0].reason, Reason::Pinned);
    assert_eq!(recs[3].reason, Reason::Exploration);
    let mut ids: Vec<u64> = recs.iter().map(|r| r.item).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "no duplicates: {recs:?}");
}

#[test]
fn zero_scores_are_explained_as_popular_and_huge_n_is_clamped() {
    let m = model();
    let mut p = Profile::default();
    view(&mut p, &m, T0, "a", 999); // an item the model does not know
    let recs = recommend(
        Placement::ForYou,
        &p,
        &ctx(),
        usize::MAX,
        &Rules::default(),
        &m,
    );
    assert_eq!(recs.len(), 11); // every available item, once
    assert!(recs
        .iter()
        .all(|r| !matches!(r.reason, Reason::BecauseYouViewed { item: 999 })));
}

#[test]
fn similar_uses_co_view_and_bought_together_uses_co_purchase() {
    let mut m = model();
    // 1 is co-viewed with 10 and bought with 11 (both otherwise unrelated to 1).
    let mut coview = vec![Vec::new(); 12];
    coview[0] = vec![Neighbor {
        item: 9,
        score: 255,
    }];
    let mut copurchase = vec![Vec::new(); 12];
    copurchase[0] = vec![Neighbor {
        item: 10,
        score: 255,
    }];
    m.coview = Lists::from_vecs(coview);
    m.copurchase = Lists::from_vecs(copurchase);
    let c = Context {
        item: Some(1),
        ..ctx()
    };
    let similar = recommend(
        Placement::Similar,
        &Profile::default(),
        &c,
        1,
        &Rules::default(),
        &m,
    );
    assert_eq!(similar[0].item, 10);
    assert_eq!(similar[0].reason, Reason::BecauseYouViewed { item: 1 });
    let fbt = recommend(
        Placement::FrequentlyBoughtTogether,
        &Profile::default(),
        &c,
        1,
        &Rules::default(),
        &m,
    );
    assert_eq!(fbt[0].item, 11);
}

#[test]
fn trending_prefers_the_trending_prior() {
    let mut m = model();
    let mut t = vec![0u8; 12];
    t[11] = 200; // item 12
    t[5] = 90; // item 6
    m.trending = t;
    let recs = recommend(
        Placement::Trending,
        &Profile::default(),
        &ctx(),
        3,
        &Rules::default(),
        &m,
    );
    assert_eq!(
        recs.iter().map(|r| r.item).collect::<Vec<_>>(),
        vec![12, 6, 4]
    );
    assert_eq!(recs[0].reason, Reason::Trending);
    assert_eq!(recs[2].reason, Reason::Popular);
}

#[test]
fn positional_relevance_keeps_text_order_dominant() {
    use crate::rank::{positional_relevance, SEARCH_PERSONAL_WEIGHT};
    // Falling, and the full personal weight cannot lift the 20th result above the 10th.
    for k in 0..50 {
        assert!(positional_relevance(k + 1) < positional_relevance(k));
    }
    assert!(positional_relevance(19) + SEARCH_PERSONAL_WEIGHT < positional_relevance(9));
    // But it can move a result up a place or two.
    assert!(positional_relevance(2) + SEARCH_PERSONAL_WEIGHT > positional_relevance(0));
}

#[test]
fn a_listing_sorted_by_price_name_date_or_rating_keeps_its_order() {
    for q in [
        "?sort_by=price-ascending",
        "?filter.v.availability=1&sort_by=title-descending",
        "sort_by=created-descending",
        "?orderby=price-desc",
        "?orderby=rating&paged=2",
        "?q=mug&sort_by=price-descending",
        "?sort_by=manual&sort_by=price-ascending",
        "?sort_by=price-ascending#top",
    ] {
        assert!(sorted_listing(q, None), "{q}");
        // The URL's order wins over the sort control's.
        assert!(sorted_listing(q, Some("manual")), "{q}");
    }
    for q in [
        "",
        "?",
        "?sort_by=manual",
        "?sort_by=best-selling&page=2",
        "?q=mug&sort_by=relevance",
        "?orderby=menu_order",
        "?orderby=popularity",
        "?sort_by=",
        "?sort_by",
        "?q=sort_by",
        "?my_sort_by=price-ascending",
        "?sort_by=price-ascending&sort_by=manual",
        "?sort_by=manual#sort_by=price-ascending",
    ] {
        assert!(!sorted_listing(q, None), "{q}");
    }
    // No order in the URL: the page's sort control shows the store's default.
    assert!(sorted_listing("?page=2", Some("created-descending")));
    assert!(sorted_listing("", Some("price")));
    assert!(!sorted_listing("", Some("best-selling")));
    assert!(!sorted_listing("?filter.p.vendor=Acme", Some("manual")));
}
