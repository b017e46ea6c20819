//! Ranking: one hybrid scorer behind every surface (grid, search, recommendation blocks,
//! banners).
//!
//! The score of an item for a shopper combines session-kNN and the sequential lists (seeded by
//! the items the shopper is looking at), the profile's category, vendor and price affinities,
//! the page's context, and popularity. Every result is deterministic for the same inputs and
//! carries a [`Reason`] that can explain it.

use crate::model::{ItemIx, Lists, Model, Neighbor};
use crate::profile::{cut_key, decayed, price_band, Profile};
use crate::segments::{stage, SegmentConfig};
use serde::{Deserialize, Serialize};

/// Weights of the hybrid's parts. Session signals dominate; affinities break the long tail.
const W_SESSION: f32 = 1.0;
const W_CATEGORY: f32 = 0.5;
const W_VENDOR: f32 = 0.25;
const W_PRICE: f32 = 0.15;
const W_CONTEXT: f32 = 0.3;
const W_POPULAR: f32 = 0.1;
/// Search: how far personalization may move a result, in units of normalized text relevance.
pub const SEARCH_PERSONAL_WEIGHT: f32 = 0.15;

/// The text relevance of the result at position `k` of a search engine's list when only the
/// order is known (a theme's search page): 1, 0.95, 0.91, ... (`1 / (1 + k/20)`). With
/// [`SEARCH_PERSONAL_WEIGHT`] a result can move up a few places, never from the bottom of the
/// page to the top.
pub fn positional_relevance(k: usize) -> f32 {
    1.0 / (1.0 + k as f32 / 20.0)
}

/// Whether a listing page keeps its own order: the order it is sorted by is one the shopper
/// chose, or the store's sort by price, name, date or rating. `query` is the page's query string
/// (`location.search`): its last Shopify `sort_by` or WooCommerce `orderby` names the order.
/// When it names none, `control` does: the value of the page's sort control (Dawn's
/// `select[name=sort_by]`, WooCommerce's `select[name=orderby]`), which shows the store's default
/// sort. Any order but these is kept: `manual` and `menu_order` (the merchant's own
/// arrangement), `relevance` (a search), and `best-selling` and `popularity`, which the
/// personalized ranking already builds on. A grid sorted by price that we reordered would no
/// longer be sorted by price.
pub fn sorted_listing(query: &str, control: Option<&str>) -> bool {
    // On bytes: the browser build stays small.
    const OURS: [&[u8]; 6] = [
        b"",
        b"manual",
        b"best-selling",
        b"relevance",
        b"menu_order",
        b"popularity",
    ];
    let query = query.as_bytes();
    let end = query.iter().position(|&b| b == b'#').unwrap_or(query.len());
    let mut order = control.map(str::as_bytes);
    for pair in query[..end].split(|&b| b == b'?' || b == b'&') {
        let eq = pair.iter().position(|&b| b == b'=').unwrap_or(pair.len());
        if matches!(&pair[..eq], b"sort_by" | b"orderby") {
            order = Some(pair.get(eq + 1..).unwrap_or_default());
        }
    }
    order.is_some_and(|o| !OURS.contains(&o))
}

/// Session-kNN candidates considered per ranking.
const SESSION_CANDIDATES: usize = 200;
/// The longest recommendation list.
pub const MAX_LIST: usize = 200;
/// Catalogs up to this size are scored in full for recommendations; larger ones go through
/// candidate generation ([`Scorer::candidates`]).
const EXACT_LIMIT: usize = 2_000;
/// Candidates taken from each source (a category, a vendor, popularity).
const PER_SOURCE: usize = 300;

/// Where the shopper is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Now, ms since the epoch.
    pub now: i64,
    /// The product on the page, if any.
    pub item: Option<u64>,
    /// The category (collection) on the page, if any.
    pub category: Option<String>,
}

/// Why an item is where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Shoppers who viewed this item went on to the recommended one.
    BecauseYouViewed {
        /// The item the shopper viewed.
        item: u64,
    },
    /// It is in a category the shopper likes.
    FavoriteCategory {
        /// The category.
        category: String,
    },
    /// It is from a vendor the shopper likes.
    FavoriteVendor {
        /// The vendor.
        vendor: String,
    },
    /// It is in the shopper's usual price range.
    PriceRange,
    /// It matches the page (same category as the collection or product shown).
    Context,
    /// It is popular in the store.
    Popular,
    /// Its popularity is rising now.
    Trending,
    /// The shopper viewed it recently.
    RecentlyViewed,
    /// It goes with what is in the cart.
    GoesWithCart {
        /// The cart item.
        item: u64,
    },
    /// The merchant pinned it here.
    Pinned,
    /// An exploration pick, to learn about items the model knows little about.
    Exploration,
    /// The search engine's own relevance decided.
    TextRelevance,
}

impl Reason {
    /// A short explanation for shoppers; `title` names an item.
    pub fn explain(&self, title: &dyn Fn(u64) -> String) -> String {
        match self {
            Reason::BecauseYouViewed { item } => format!("Because you viewed {}", title(*item)),
            Reason::FavoriteCategory { category } => format!("More from {category}"),
            Reason::FavoriteVendor { vendor } => format!("More from {vendor}"),
            Reason::PriceRange => "In your usual price range".into(),
            Reason::Context => "Goes with this page".into(),
            Reason::Popular => "Popular right now".into(),
            Reason::Trending => "Trending now".into(),
            Reason::RecentlyViewed => "You viewed this recently".into(),
            Reason::GoesWithCart { item } => format!("Goes with {} in your cart", title(*item)),
            Reason::Pinned => "Featured".into(),
            Reason::Exploration => "Something new".into(),
            Reason::TextRelevance => "Best match".into(),
        }
    }
}

/// A ranked entry: an index into the caller's list (grid, search) or an item (blocks).
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The item.
    pub item: u64,
    /// Its score (only comparable within one call).
    pub score: f32,
    /// Why.
    pub reason: Reason,
}

/// Per-item hybrid scores for one shopper and page, with the strongest part as the reason.
struct Scorer<'a> {
    model: &'a Model,
    session: Vec<f32>,
    /// Items with a session score (in no particular order: every one is a candidate).
    session_top: Vec<ItemIx>,
    session_seed: Option<u64>,
    category: Vec<f32>,
    vendor: Vec<f32>,
    price: [f32; 5],
    context_category: Option<u32>,
}

impl<'a> Scorer<'a> {
    /// `lists`: item-to-item lists (co-view, co-purchase) whose entries for the seeds join the
    /// session part.
    fn new(
        model: &'a Model,
        profile: &Profile,
        ctx: &Context,
        seeds: &[u64],
        lists: &[&Lists<Neighbor>],
    ) -> Scorer<'a> {
        let now = ctx.now;
        let seed_ix: Vec<ItemIx> = seeds.iter().filter_map(|&id| model.ix_of(id)).collect();
        let mut session = vec![0f32; model.items.len()];
        let mut session_top = Vec::new();
        if !seed_ix.is_empty() {
            let mut p = model.params;
            p.popularity = 0.0;
            let top = model.next_candidates(&seed_ix, SESSION_CANDIDATES, &p);
            let max = top.iter().map(|s| s.score).fold(0f32, f32::max);
            if max > 0.0 {
                for s in top.into_iter().filter(|s| s.score > 0.0) {
                    session[s.item as usize] = s.score / max;
                    session_top.push(s.item);
                }
            }
            // Item-to-item lists of the seeds, normalized to the same 0..=1 scale, then the
            // sum renormalized so the best item scores 1.
            let mut from_lists: Vec<(ItemIx, f32)> = Vec::new();
            for list in lists {
                for &seed in &seed_ix {
                    for nb in list.get(seed as usize) {
                        from_lists.push((nb.item, nb.score as f32 / 255.0));
                    }
                }
            }
            if !from_lists.is_empty() {
                let mut max = 0f32;
                for &(item, w) in &from_lists {
                    let v = &mut session[item as usize];
                    if *v == 0.0 {
                        session_top.push(item);
                    }
                    *v += w;
                    max = max.max(*v);
                }
                if max > 0.0 {
                    for &item in &session_top {
                        session[item as usize] /= max;
                    }
                }
            }
        }
        let normalized = |list: &[crate::profile::Affinity]| -> Vec<f32> {
            let mut by_string = vec![0f32; model.strings.len()];
            let max = list
                .iter()
                .map(|a| decayed(a.score, a.at, now))
                .fold(0f32, f32::max);
            if max > 0.0 {
                for a in list {
                    if let Some(ix) = model.strings.iter().position(|s| cut_key(s) == a.key) {
                        by_string[ix] = decayed(a.score, a.at, now) / max;
                    }
                }
            }
            by_string
        };
        let mut price = [0f32; 5];
        let total: f32 = profile
            .price_bands
            .iter()
            .map(|a| decayed(a.score, a.at, now))
            .sum();
        if total > 0.0 {
            for a in &profile.price_bands {
                if let Ok(b) = a.key.parse::<usize>() {
                    if b < 5 {
                        price[b] = decayed(a.score, a.at, now) / total;
                    }
                }
            }
        }
        let context_category = ctx
            .category
            .as_ref()
            .and_then(|c| model.strings.iter().position(|s| s == c))
            .or_else(|| {
                let ix = model.ix_of(ctx.item?)?;
                model.items[ix as usize].category.map(|c| c as usize)
            })
            .map(|c| c as u32);
        Scorer {
            model,
            session,
            session_top,
            session_seed: seeds
                .iter()
                .rev()
                .find(|&&id| model.ix_of(id).is_some())
                .copied(),
            category: normalized(&profile.categories),
            vendor: normalized(&profile.vendors),
            price,
            context_category,
        }
    }

    /// The six parts of item `ix`'s score: session, category, vendor, price, context,
    /// popularity.
    fn parts(&self, ix: ItemIx) -> [f32; 6] {
        let m = self.model;
        let attrs = &m.items[ix as usize];
        let mut parts = [0f32; 6];
        parts[0] = W_SESSION * self.session[ix as usize];
        if let Some(c) = attrs.category {
            parts[1] = W_CATEGORY * self.category.get(c as usize).copied().unwrap_or(0.0);
            if Some(c) == self.context_category {
                parts[4] = W_CONTEXT;
            }
        }
        if let Some(v) = attrs.vendor {
            parts[2] = W_VENDOR * self.vendor.get(v as usize).copied().unwrap_or(0.0);
        }
        if let Some(cents) = attrs.price_cents {
            parts[3] = W_PRICE * self.price[price_band(cents as f64 / 100.0)];
        }
        parts[5] = W_POPULAR * m.popularity[ix as usize] as f32 / 255.0;
        parts
    }

    /// The hybrid score of item `ix`.
    fn total(&self, ix: ItemIx) -> f32 {
        self.parts(ix).iter().sum()
    }

    /// Why item `ix` scores as it does: its largest part (ties go to the more personal part).
    fn reason(&self, ix: ItemIx) -> Reason {
        let m = self.model;
        let attrs = &m.items[ix as usize];
        let parts = self.parts(ix);
        let mut which = 5;
        let mut best = 0.0f32;
        for (k, &v) in parts.iter().enumerate() {
            if v > best {
                best = v;
                which = k;
            }
        }
        match which {
            0 => match self.session_seed {
                Some(item) => Reason::BecauseYouViewed { item },
                None => Reason::Popular,
            },
            1 => Reason::FavoriteCategory {
                category: m.strings[attrs.category.unwrap_or(0) as usize].clone(),
            },
            2 => Reason::FavoriteVendor {
                vendor: m.strings[attrs.vendor.unwrap_or(0) as usize].clone(),
            },
            3 => Reason::PriceRange,
            4 => Reason::Context,
            _ => Reason::Popular,
        }
    }

    /// Score and reason of item `ix`.
    fn score(&self, ix: ItemIx) -> (f32, Reason) {
        (self.total(ix), self.reason(ix))
    }

    /// The items worth scoring for a list of `want`. Small catalogs: every item (exact).
    /// Large ones: the session's candidates, the most popular items of every category and
    /// vendor the shopper has an affinity for (at most 16 each) and of the page's category, and
    /// the store's most popular items. This is an approximation: an item outside all of these
    /// (deep in a category's long tail) is not considered.
    fn candidates(&self, want: usize) -> Vec<ItemIx> {
        let m = self.model;
        let n = m.items.len();
        if n <= EXACT_LIMIT {
            return (0..n as ItemIx).collect();
        }
        let mut seen = vec![false; n];
        let mut out = Vec::with_capacity(4 * PER_SOURCE);
        let mut add = |ix: ItemIx, out: &mut Vec<ItemIx>| {
            if !seen[ix as usize] {
                seen[ix as usize] = true;
                out.push(ix);
            }
        };
        for &ix in &self.session_top {
            add(ix, &mut out);
        }
        let strongest = |scores: &[f32]| -> Vec<u32> {
            let mut v: Vec<(u32, f32)> = scores
                .iter()
                .enumerate()
                .filter(|(_, &x)| x > 0.0)
                .map(|(i, &x)| (i as u32, x))
                .collect();
            crate::sort::sort_by(&mut v, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            v.into_iter().map(|(i, _)| i).collect()
        };
        let mut strings = strongest(&self.category);
        strings.extend(strongest(&self.vendor));
        strings.extend(self.context_category);
        for s in strings {
            for &ix in m.items_with_string(s).iter().take(PER_SOURCE) {
                add(ix, &mut out);
            }
        }
        for &ix in m.by_popularity().iter().take(want * 4 + PER_SOURCE) {
            add(ix, &mut out);
        }
        out
    }
}

/// The items the shopper is looking at now: this session's views, else recent ones.
fn session_seeds(profile: &Profile) -> Vec<u64> {
    if !profile.session.items.is_empty() {
        profile.session.items.clone()
    } else {
        profile.recent.iter().rev().map(|r| r.0).collect()
    }
}

fn sort_ranked(v: &mut [(usize, f32, Reason)]) {
    // Stable: equal scores keep the caller's order (the position breaks ties).
    let mut keys: Vec<u64> = v
        .iter()
        .enumerate()
        .map(|(k, x)| crate::sort::desc_key(x.1, k as u32))
        .collect();
    crate::sort::top_keys(&mut keys, usize::MAX);
    let order: Vec<u32> = keys.into_iter().map(crate::sort::key_low).collect();
    crate::sort::permute(v, &order);
}

/// The new order of a product grid, as a permutation of `0..ids.len()` with reasons:
/// `result[k].0` is the index in `ids` of the item to show at position `k`. Items the model
/// does not know rank below every known item; ties keep the theme's order. With no history
/// the order is the store's popularity.
pub fn rank_grid(
    ids: &[u64],
    profile: &Profile,
    ctx: &Context,
    model: &Model,
) -> Vec<(usize, Reason)> {
    let scorer = Scorer::new(model, profile, ctx, &session_seeds(profile), &[]);
    let mut v: Vec<(usize, f32, Reason)> = ids
        .iter()
        .enumerate()
        .map(|(k, &id)| match model.ix_of(id) {
            Some(ix) => {
                let (s, r) = scorer.score(ix);
                (k, s, r)
            }
            None => (k, -1.0, Reason::Popular),
        })
        .collect();
    sort_ranked(&mut v);
    v.into_iter().map(|(k, _, r)| (k, r)).collect()
}

/// Rerank search results given as `(id, text relevance)`. Relevance is normalized to 0..=1 by
/// the best result; personalization adds at most [`SEARCH_PERSONAL_WEIGHT`], so a result
/// whose normalized relevance leads another's by more than that stays ahead: text relevance
/// stays dominant. Returns a permutation of the input indices.
pub fn rerank_search(
    results: &[(u64, f32)],
    profile: &Profile,
    ctx: &Context,
    model: &Model,
) -> Vec<(usize, Reason)> {
    let max_base = results.iter().map(|r| r.1).fold(0f32, f32::max);
    let scorer = Scorer::new(model, profile, ctx, &session_seeds(profile), &[]);
    let personal: Vec<(f32, Reason)> = results
        .iter()
        .map(|&(id, _)| {
            model
                .ix_of(id)
                .map_or((0.0, Reason::TextRelevance), |ix| scorer.score(ix))
        })
        .collect();
    let max_personal = personal.iter().map(|p| p.0).fold(0f32, f32::max);
    let mut v: Vec<(usize, f32, Reason)> = results
        .iter()
        .enumerate()
        .map(|(k, &(_, base))| {
            let base = if max_base > 0.0 && base.is_finite() {
                (base / max_base).max(0.0)
            } else {
                0.0
            };
            let p = if max_personal > 0.0 {
                personal[k].0 / max_personal
            } else {
                0.0
            };
            let reason = if p > 0.0 {
                personal[k].1.clone()
            } else {
                Reason::TextRelevance
            };
            (k, base + SEARCH_PERSONAL_WEIGHT * p, reason)
        })
        .collect();
    sort_ranked(&mut v);
    v.into_iter().map(|(k, _, r)| (k, r)).collect()
}

/// Recommendation placements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Items like the one on the page.
    Similar,
    /// Items bought or viewed together with the one on the page (or the cart).
    FrequentlyBoughtTogether,
    /// The shopper's recently viewed items.
    RecentlyViewed,
    /// Personal picks.
    ForYou,
    /// Add-ons for the cart.
    CartUpsell,
    /// What is popular in the store.
    Trending,
    /// Items the shopper looked at in earlier sessions and did not buy (browse abandonment).
    PickUpWhereYouLeftOff,
}

impl Placement {
    /// Every placement, in code order.
    pub const ALL: [Placement; 7] = [
        Placement::Similar,
        Placement::FrequentlyBoughtTogether,
        Placement::RecentlyViewed,
        Placement::ForYou,
        Placement::CartUpsell,
        Placement::Trending,
        Placement::PickUpWhereYouLeftOff,
    ];

    /// The placement's name, as in configuration and events (`similar`, `for_you`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Placement::Similar => "similar",
            Placement::FrequentlyBoughtTogether => "frequently_bought_together",
            Placement::RecentlyViewed => "recently_viewed",
            Placement::ForYou => "for_you",
            Placement::CartUpsell => "cart_upsell",
            Placement::Trending => "trending",
            Placement::PickUpWhereYouLeftOff => "pick_up_where_you_left_off",
        }
    }

    /// The placement's byte in the snapshot.
    pub fn code(self) -> u8 {
        Placement::ALL.iter().position(|&p| p == self).unwrap_or(0) as u8
    }

    /// The placement for `code`.
    pub fn from_code(code: u8) -> Option<Placement> {
        Placement::ALL.get(code as usize).copied()
    }
}

/// Business rules applied to every recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Leave out items that cannot be bought.
    pub exclude_unavailable: bool,
    /// Leave out items the shopper already bought.
    pub exclude_purchased: bool,
    /// `(position, item)`: the merchant's items at fixed positions.
    pub pinned: Vec<(usize, u64)>,
    /// Most share of the list one category may take, 0..=1 (1 = no cap).
    pub category_cap: f32,
    /// A position that shows an exploration pick instead of the model's choice.
    pub exploration_slot: Option<usize>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            exclude_unavailable: true,
            exclude_purchased: false,
            pinned: Vec::new(),
            category_cap: 1.0,
            exploration_slot: None,
        }
    }
}

/// Recommend `n` items for `placement`. Cold start (no history) falls back to the page's
/// context and then to popular items, so a list is filled whenever the catalog allows.
pub fn recommend(
    placement: Placement,
    profile: &Profile,
    ctx: &Context,
    n: usize,
    rules: &Rules,
    model: &Model,
) -> Vec<Ranked> {
    // No list is longer than the catalog (and `n` may come from markup).
    let n = n
        .min(model.items.len().max(profile.recent.len()))
        .min(MAX_LIST);
    let mut exclude: Vec<u64> = ctx.item.into_iter().collect();
    if placement == Placement::CartUpsell {
        exclude.extend(profile.cart.iter().map(|c| c.0));
    }
    if rules.exclude_purchased {
        exclude.extend(
            profile
                .purchases
                .iter()
                .flat_map(|p| p.items.iter().copied()),
        );
    }
    // What may be shown, by item index (the scored placements test hundreds of candidates, with
    // no id lookup), and by id for the rest; an id the model does not know is only checked
    // against the exclusions.
    let excluded: Vec<ItemIx> = exclude.iter().filter_map(|&id| model.ix_of(id)).collect();
    let keep_ix = |ix: ItemIx| {
        !excluded.contains(&ix)
            && (!rules.exclude_unavailable || model.items[ix as usize].available)
    };
    let keep = |id: u64| match model.ix_of(id) {
        Some(ix) => keep_ix(ix),
        None => !exclude.contains(&id),
    };
    // Enough ranked candidates for the list, the category cap, pins and exploration.
    let depth = n * 4 + rules.pinned.len() + 20;
    let scored = |seeds: &[u64],
                  lists: &[&Lists<Neighbor>],
                  custom: Option<Reason>|
     -> Vec<(u64, f32, Reason)> {
        let scorer = Scorer::new(model, profile, ctx, seeds, lists);
        let mut keys: Vec<u64> = scorer
            .candidates(n)
            .into_iter()
            .filter(|&ix| keep_ix(ix))
            .map(|ix| crate::sort::desc_key(scorer.total(ix), ix))
            .collect();
        crate::sort::top_keys(&mut keys, depth);
        keys.into_iter()
            .map(|key| {
                let (ix, score) = (crate::sort::key_low(key), crate::sort::key_score(key));
                let reason = match (scorer.reason(ix), &custom) {
                    (Reason::BecauseYouViewed { .. }, Some(c)) => c.clone(),
                    (r, _) => r,
                };
                (model.id_of(ix), score, reason)
            })
            .collect()
    };
    let mut candidates: Vec<(u64, f32, Reason)> = match placement {
        Placement::Similar | Placement::FrequentlyBoughtTogether => {
            let seeds: Vec<u64> = match (ctx.item, placement) {
                (Some(i), _) => vec![i],
                (None, Placement::FrequentlyBoughtTogether) => {
                    profile.cart.iter().map(|c| c.0).collect()
                }
                (None, _) => session_seeds(profile),
            };
            let lists: &[&Lists<Neighbor>] = if placement == Placement::Similar {
                &[&model.coview]
            } else {
                &[&model.copurchase, &model.coview]
            };
            scored(&seeds, lists, None)
        }
        Placement::ForYou => scored(&session_seeds(profile), &[], None),
        Placement::CartUpsell => {
            let seeds: Vec<u64> = profile.cart.iter().map(|c| c.0).collect();
            let custom = seeds.last().map(|&item| Reason::GoesWithCart { item });
            scored(&seeds, &[&model.copurchase], custom)
        }
        Placement::Trending if !model.trending.is_empty() => {
            // Trending prior first, popularity to break ties.
            let mut v: Vec<(u64, f32, Reason)> = (0..model.items.len())
                .filter(|&ix| keep(model.id_of(ix as ItemIx)))
                .map(|ix| {
                    let t = model.trending[ix] as f32;
                    let reason = if t > 0.0 {
                        Reason::Trending
                    } else {
                        Reason::Popular
                    };
                    (
                        model.id_of(ix as ItemIx),
                        t * 256.0 + model.popularity[ix] as f32,
                        reason,
                    )
                })
                .collect();
            crate::sort::sort_by(&mut v, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(depth);
            v
        }
        Placement::Trending => model
            .by_popularity()
            .iter()
            .map(|&ix| {
                (
                    model.id_of(ix),
                    model.popularity[ix as usize] as f32,
                    Reason::Popular,
                )
            })
            .filter(|c| keep(c.0))
            .take(depth)
            .collect(),
        Placement::RecentlyViewed => {
            let k = profile.recent.len() as f32;
            profile
                .recent
                .iter()
                .enumerate()
                .map(|(i, r)| (r.0, k - i as f32, Reason::RecentlyViewed))
                .collect()
        }
        Placement::PickUpWhereYouLeftOff => {
            let bought: Vec<u64> = profile
                .purchases
                .iter()
                .flat_map(|p| p.items.iter().copied())
                .collect();
            let k = profile.recent.len() as f32;
            profile
                .recent
                .iter()
                .enumerate()
                .filter(|(_, r)| r.1 < profile.session.started && !bought.contains(&r.0))
                .filter(|(_, r)| !profile.cart.iter().any(|c| c.0 == r.0))
                .map(|(i, r)| (r.0, k - i as f32, Reason::RecentlyViewed))
                .collect()
        }
    };
    candidates.retain(|c| keep(c.0));
    // Best first; ties by id, so the result does not depend on the candidates' order.
    crate::sort::sort_by(&mut candidates, |a, b| {
        b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
    });
    apply_rules(candidates, n, rules, model, profile, &keep)
}

fn apply_rules(
    candidates: Vec<(u64, f32, Reason)>,
    n: usize,
    rules: &Rules,
    model: &Model,
    profile: &Profile,
    keep: &dyn Fn(u64) -> bool,
) -> Vec<Ranked> {
    // Pins: each item once (its first position), only where the list reaches, and only items
    // the other rules allow (never the page's own product, never sold out when excluded).
    let mut pins: Vec<(usize, u64)> = Vec::new();
    let mut by_pos = rules.pinned.clone();
    crate::sort::sort_by_key(&mut by_pos, |p| p.0);
    for (pos, item) in by_pos {
        if pos < n && keep(item) && !pins.iter().any(|p| p.1 == item || p.0 == pos) {
            pins.push((pos, item));
        }
    }
    let pinned_ids: Vec<u64> = pins.iter().map(|p| p.1).collect();
    let category_of = |id: u64| {
        model
            .ix_of(id)
            .and_then(|ix| model.items[ix as usize].category)
    };
    let cap = if rules.category_cap >= 1.0 {
        usize::MAX
    } else {
        ((rules.category_cap.max(0.0) * n as f32).ceil() as usize).max(1)
    };
    let free = n - pins.len();
    let mut chosen: Vec<Ranked> = Vec::with_capacity(n);
    let mut skipped: Vec<Ranked> = Vec::new();
    let mut per_category: Vec<(u32, usize)> = Vec::new();
    for (item, score, reason) in candidates.iter().cloned() {
        if chosen.len() >= free {
            break;
        }
        if pinned_ids.contains(&item) {
            continue;
        }
        let r = Ranked {
            item,
            score,
            reason,
        };
        if let Some(c) = category_of(item) {
            let slot = match per_category.iter().position(|x| x.0 == c) {
                Some(p) => p,
                None => {
                    per_category.push((c, 0));
                    per_category.len() - 1
                }
            };
            if per_category[slot].1 >= cap {
                skipped.push(r);
                continue;
            }
            per_category[slot].1 += 1;
        }
        chosen.push(r);
    }
    // The cap never leaves a list short when only capped items remain.
    for r in skipped {
        if chosen.len() >= free {
            break;
        }
        chosen.push(r);
    }
    for (pos, item) in pins {
        let at = pos.min(chosen.len());
        chosen.insert(
            at,
            Ranked {
                item,
                score: f32::INFINITY,
                reason: Reason::Pinned,
            },
        );
    }
    // Exploration replaces the model's pick at its slot (never a pin), with a deterministic
    // pick from just below the list, varied per shopper session.
    if let Some(slot) = rules
        .exploration_slot
        .filter(|&s| s < chosen.len() && chosen[s].reason != Reason::Pinned)
    {
        let pool: Vec<&(u64, f32, Reason)> = candidates
            .iter()
            .filter(|c| !chosen.iter().any(|r| r.item == c.0))
            .take(20)
            .collect();
        if !pool.is_empty() {
            let h = crate::experiments::unit_hash(&["explore", &profile.session.id]);
            let pick = pool[(h * pool.len() as f64) as usize % pool.len()];
            chosen[slot] = Ranked {
                item: pick.0,
                score: pick.1,
                reason: Reason::Exploration,
            };
        }
    }
    chosen.truncate(n);
    chosen
}

/// A banner variant as found in the markup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BannerVariant {
    /// `data-segment`: the lifecycle stage it targets.
    pub segment: Option<String>,
    /// `data-category`: the category it targets.
    pub category: Option<String>,
}

/// Pick a banner variant: one targeting the shopper's lifecycle stage first, then one
/// targeting their favourite category (strongest first), then the first untargeted variant.
/// `None` when nothing fits (the theme's default stays).
pub fn pick_banner(
    variants: &[BannerVariant],
    profile: &Profile,
    now: i64,
    cfg: &SegmentConfig,
) -> Option<(usize, Reason)> {
    let st = stage(profile, now, cfg).name();
    if let Some(i) = variants
        .iter()
        .position(|v| v.segment.as_deref() == Some(st))
    {
        return Some((i, Reason::Context));
    }
    for (cat, score) in profile.top_categories(3, now) {
        if score <= 0.0 {
            continue;
        }
        if let Some(i) = variants
            .iter()
            .position(|v| v.segment.is_none() && v.category.as_deref().map(cut_key) == Some(&cat))
        {
            return Some((i, Reason::FavoriteCategory { category: cat }));
        }
    }
    variants
        .iter()
        .position(|v| v.segment.is_none() && v.category.is_none())
        .map(|i| (i, Reason::Popular))
}

#[cfg(test)]
mod tests;
