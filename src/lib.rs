//! # tailor (wasm)
//!
//! The thin browser layer over [`tailor_core`]: the `#[wasm_bindgen]` API the loader calls, and
//! the DOM adapters that find products on the page and move them. It decides nothing itself:
//! every ordering, recommendation and banner choice comes from `tailor-core`.
//!
//! The JS surface is coarse, one options object per call (types: `js/tailor.d.ts`):
//!
//! ```js
//! const engine = Engine.init({ snapshot: new Uint8Array(bytes), shopper: 'a1b2', origin: location.origin });
//! engine.track({ id, type: 'product_view', item: 7400000000012, shopper, session, ts: Date.now() });
//! const read = readPage({ root: document });     // { page, request, reading }
//! const decisions = engine.decide(read.request);  // text in, text out (the engine may be elsewhere)
//! applyPage(read.reading, decisions);             // { moved, slots, banners, arms }
//! engine.recommend({ placement: 'similar', item: 7400000000012, n: 4 });
//! engine.rerankSearch({ items: [{ id, relevance }] });
//! engine.profile();                               // the on-device profile, with its stage
//! engine.explain({ item });                       // why an item ranks where it does
//! ```
//!
//! Failures reach JS as real `Error`s with a machine-readable `code` (see [`error`]).
#![warn(missing_docs)]

pub mod banners;
pub mod blocks;
pub mod dom;
pub mod error;
pub mod exchange;
pub mod grid;
pub mod js;
pub mod page;
pub mod search;

use error::{get_option, TailorError};
use tailor_core::display::{placement_by_name, shown};
use tailor_core::experiments::assign;
use tailor_core::outbox::Outbox;
use tailor_core::profile::Profile;
use tailor_core::rank::{
    pick_banner, rank_grid, recommend, rerank_search, Context, Placement, Reason, Rules,
};
use tailor_core::segments::stage;
use tailor_core::snapshot::Snapshot;
use wasm_bindgen::prelude::*;

/// A running engine: a decoded snapshot, the shopper's profile, and the calls that personalize
/// the page.
#[wasm_bindgen]
pub struct Engine {
    snapshot: Snapshot,
    profile: Profile,
    shopper: String,
    origin: String,
    hosts: Vec<String>,
    renders: std::cell::Cell<u32>,
}

/// `opts[key]` as a string, if present.
fn opt_string(opts: &JsValue, key: &str) -> Result<Option<String>, TailorError> {
    if !opts.is_object() {
        return Ok(None);
    }
    let v = get_option(opts, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| TailorError::new("INVALID_OPTIONS", format!("`{key}` must be a string")))
}

/// Whether the listing under `root` keeps its order: `opts.search` (default: `location.search`)
/// and the page's sort control, as `tailor_core::rank::sorted_listing` reads them.
#[inline(never)]
fn sorted_listing(opts: &JsValue, root: &web_sys::Node) -> Result<bool, TailorError> {
    let search = match opt_string(opts, "search")? {
        Some(s) => s,
        None => dom::location("search"),
    };
    let control = match dom::query(root, "select[name=sort_by],select[name=orderby]")? {
        Some(select) => opt_string(&select.into(), "value")?,
        None => None,
    };
    Ok(tailor_core::rank::sorted_listing(
        &search,
        control.as_deref(),
    ))
}

/// `opts[key]` as a number, if present.
fn opt_number(opts: &JsValue, key: &str) -> Result<Option<f64>, TailorError> {
    if !opts.is_object() {
        return Ok(None);
    }
    let v = get_option(opts, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_f64()
        .filter(|x| x.is_finite())
        .map(Some)
        .ok_or_else(|| TailorError::new("INVALID_OPTIONS", format!("`{key}` must be a number")))
}

/// An item id option: a number or a digit string (ids beyond 2^53 arrive as strings).
fn opt_item(opts: &JsValue, key: &str) -> Result<Option<u64>, TailorError> {
    if !opts.is_object() {
        return Ok(None);
    }
    let v = get_option(opts, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    item_id(&v)
        .map(Some)
        .ok_or_else(|| TailorError::new("INVALID_OPTIONS", format!("`{key}` must be a product id")))
}

/// A product id given as a number or a digit string.
fn item_id(v: &JsValue) -> Option<u64> {
    if let Some(s) = v.as_string() {
        return s.trim().parse().ok();
    }
    match v.as_f64() {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_991.0 => Some(x as u64),
        _ => None,
    }
}

/// `opts.items`: product ids, or `{ id, relevance? }` objects. A missing relevance is the
/// position's (the first is the most relevant).
fn items_option(opts: &JsValue) -> Result<Vec<(u64, f32)>, TailorError> {
    let items = get_option(opts, "items")?;
    if !js_sys::Array::is_array(&items) {
        return Err(TailorError::new(
            "INVALID_OPTIONS",
            "`items` must be an array".to_owned(),
        ));
    }
    let list = js_sys::Array::from(&items);
    let mut out = Vec::with_capacity(list.length() as usize);
    for (k, it) in list.iter().enumerate() {
        let (id, rel) = if it.is_object() {
            (
                opt_item(&it, "id").ok().flatten(),
                opt_number(&it, "relevance")?,
            )
        } else {
            (item_id(&it), None)
        };
        let id = id.ok_or_else(|| {
            TailorError::new("INVALID_OPTIONS", format!("items[{k}] is not a product id"))
        })?;
        let rel = rel.map_or_else(|| tailor_core::rank::positional_relevance(k), |r| r as f32);
        out.push((id, rel));
    }
    Ok(out)
}

fn now_ms(opts: &JsValue) -> Result<i64, TailorError> {
    Ok(opt_number(opts, "now")?.unwrap_or_else(js_sys::Date::now) as i64)
}

/// `{ item, reason, text }`.
fn explained(item: u64, reason: &Reason, model: &tailor_core::model::Model) -> JsValue {
    let o = js::obj();
    js::set(&o, "item", js::id(item));
    js::set(&o, "reason", js::reason(reason));
    js::set(
        &o,
        "text",
        reason.explain(&|id| tailor_core::display::title_of(model, id)),
    );
    o.into()
}

fn array(items: impl IntoIterator<Item = JsValue>) -> JsValue {
    items.into_iter().collect::<js_sys::Array>().into()
}

impl Engine {
    // The page's calls in one go, on the page: read, decide and apply (src/exchange.rs). They
    // are not in the wasm's JavaScript API (the loader reads, decides and applies in steps, so
    // that the engine can run in its worker); they stay for Rust callers and the browser tests,
    // and their docs below name them as they once were in JavaScript.

    /// `engine.page({ root?, path? })`: the page type (`home`, `collection`, `search`,
    /// `product`, `cart`, `other`), the product shown, and the adapter that recognised it.
    pub fn page(&self, opts: &JsValue) -> Result<JsValue, JsValue> {
        let root = grid::root_from_options(opts)?;
        let path = match opt_string(opts, "path")? {
            Some(p) => p,
            None => dom::location("pathname"),
        };
        Ok(page::detect(&root, &path)?.to_js())
    }

    /// `engine.rankGrid({ root?, search?, now? })`: reorder the product grid found under `root`
    /// (default: `document`) for this shopper. Existing nodes are moved, never rebuilt, so the
    /// theme's listeners survive. Returns how many items changed position (0 when the page has
    /// no recognised grid, it is already in order, it is sorted by price, name, date or rating
    /// (`search`, default `location.search`, or the page's sort control: see
    /// `tailor_core::rank::sorted_listing`), or the shopper is in the holdout or the control
    /// arm of a grid experiment).
    pub fn rank_grid(&self, opts: &JsValue) -> Result<u32, JsValue> {
        Ok(self.personalize(opts, "g", None)?.moved)
    }

    /// `engine.rerankSearchResults({ root?, search?, now? })`: rerank the search page's product
    /// cards (unless they are sorted, as in `rankGrid`) and the predictive-search
    /// product list found under `root` (see [`search`]), keeping the theme's order as the text
    /// relevance. Returns how many results moved.
    pub fn rerank_search_results(&self, opts: &JsValue) -> Result<u32, JsValue> {
        Ok(self.personalize(opts, "r", None)?.moved)
    }

    /// `engine.renderSlots({ root?, item?, now? })`: fill every `[data-tailor-slot]` under
    /// `root` (see [`blocks`]). A slot named in the store's placements uses its settings;
    /// otherwise the slot's name is the placement and `data-tailor-n` the count (default 4).
    /// Returns what was rendered, for impression and click tracking.
    pub fn render_slots(&self, opts: &JsValue) -> Result<JsValue, JsValue> {
        let item = opt_item(opts, "item")?;
        Ok(self.personalize(opts, "s", Some(item))?.slots.into())
    }

    /// `engine.pickBanners({ root?, now? })`: show one variant of every `[data-tailor-banner]`
    /// under `root` (see [`banners`]). Returns the decisions, for exposure events.
    pub fn pick_banners(&self, opts: &JsValue) -> Result<JsValue, JsValue> {
        Ok(self.personalize(opts, "b", None)?.banners.into())
    }

    /// Read, decide and apply in one go, on the page (the `rankGrid` family), the parts
    /// `letters` names (as `readPage` takes them), whatever the page's type. `item`, when
    /// given, is the product the slots are for (else the page's own).
    fn personalize(
        &self,
        opts: &JsValue,
        letters: &str,
        item: Option<Option<u64>>,
    ) -> Result<exchange::Applied, TailorError> {
        let parts = exchange::Parts {
            by_kind: false,
            keep: false,
            ..exchange::Parts::from_letters(Some(letters.to_owned()))
        };
        let now = now_ms(opts)?;
        let reading = exchange::Reading::read(opts, parts)?;
        let mut ask = reading.ask().clone();
        if let Some(item) = item {
            ask.item = item;
        }
        reading.apply_decisions(&self.decide_request(&ask, now), parts)
    }

    /// The shopper's arm on `placement`, noted in `d`; whether it is personalized.
    fn armed(&self, d: &mut exchange::Decisions, placement: &str, now: i64) -> bool {
        let a = self.arm(placement, now);
        let personalized = a.arm.personalized();
        if !d.arms.iter().any(|(p, _, _)| p == placement) {
            d.arms.push((
                placement.to_owned(),
                a.arm.name().to_owned(),
                a.experiment.unwrap_or_default(),
            ));
        }
        personalized
    }

    fn decide_request(&self, ask: &exchange::Request, now: i64) -> exchange::Decisions {
        let mut d = exchange::Decisions::default();
        let ctx = Context {
            now,
            ..Context::default()
        };
        let model = &self.snapshot.model;
        let grid_on = self.armed(&mut d, "grid", now);
        if let (Some(ids), true) = (&ask.grid, grid_on) {
            d.order = Some(
                rank_grid(ids, &self.profile, &ctx, &self.snapshot.model)
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect(),
            );
        }
        let search_on = self.armed(&mut d, "search", now);
        for list in &ask.search {
            if !search_on {
                d.search.push(None);
                continue;
            }
            // Predictive results name handles: those the snapshot does not know keep their
            // place, and the known ones are reranked among their own positions.
            let known: Vec<(usize, u64)> = list
                .iter()
                .enumerate()
                .filter_map(|(k, key)| match key {
                    exchange::Key::Id(id) => Some((k, *id)),
                    exchange::Key::Handle(h) => model
                        .handles
                        .iter()
                        .position(|x| !x.is_empty() && x == h)
                        .map(|ix| (k, model.items[ix].id)),
                })
                .collect();
            if known.len() < 2 {
                d.search.push(None);
                continue;
            }
            let results: Vec<(u64, f32)> = known
                .iter()
                .enumerate()
                .map(|(k, &(_, id))| (id, tailor_core::rank::positional_relevance(k)))
                .collect();
            let mut order: Vec<usize> = (0..list.len()).collect();
            for (slot, (ix, _)) in rerank_search(&results, &self.profile, &ctx, model)
                .into_iter()
                .enumerate()
            {
                order[known[slot].0] = known[ix].0;
            }
            d.search.push(Some(order));
        }
        // An item shown by one block is not repeated by the next on the same page.
        let mut seen: Vec<u64> = Vec::new();
        for slot in &ask.slots {
            let configured = self
                .snapshot
                .model
                .config
                .placements
                .iter()
                .find(|p| p.name == slot.name)
                .cloned();
            let (placement, n, rules, title) = match configured {
                Some(p) => (p.placement, p.n, p.rules, p.title.unwrap_or_default()),
                None => {
                    let Some(placement) = placement_by_name(&slot.name) else {
                        d.blocks.push(None); // not ours to fill
                        continue;
                    };
                    let n = slot.n.trim().parse().unwrap_or(4usize).clamp(1, 48);
                    (placement, n, Rules::default(), String::new())
                }
            };
            self.armed(&mut d, placement.name(), now);
            let items = self.recommend_for(placement, ask.item, n, &rules, now, &seen);
            seen.extend(items.iter().map(|s| s.id));
            self.renders.set(self.renders.get() + 1);
            d.blocks.push(Some(exchange::Block {
                placement: placement.name().to_owned(),
                title: slot.title.clone().unwrap_or(title),
                // Eight hex digits, the first never 0: padding (`{:08x}`) would take a
                // formatting path only some numbers reach, which the worker's warm-up could miss.
                request: format!(
                    "{:x}-{}",
                    (js_sys::Math::random() * 4_294_967_295.0) as u32 | 0x1000_0000,
                    self.renders.get()
                ),
                items,
            }));
        }
        for (name, described) in &ask.banners {
            let personalized = self.armed(&mut d, &format!("banner:{name}"), now);
            let default = Profile::default();
            let profile = if personalized {
                &self.profile
            } else {
                &default
            };
            let model = &self.snapshot.model;
            d.banners.push(
                pick_banner(described, profile, now, &model.config.segments).map(
                    |(chosen, reason)| {
                        (
                            chosen,
                            reason.explain(&|id| tailor_core::display::title_of(model, id)),
                        )
                    },
                ),
            );
        }
        d
    }
}

#[wasm_bindgen]
impl Engine {
    /// `Engine.init({ snapshot, profile?, shopper?, origin?, hosts? })`: decode and validate the
    /// snapshot. `profile` is what `exportProfile()` returned earlier (an unreadable one starts
    /// a fresh profile); `shopper` is the device's random id (experiment assignment); `origin`
    /// is the shop's origin and `hosts` extra image/link hosts, for the URL allow-list.
    ///
    /// Throws an `Error` with `code` `INVALID_OPTIONS` when `snapshot` is missing or not a
    /// `Uint8Array`, or one of the `SNAPSHOT_*` codes when the bytes are not a valid snapshot.
    pub fn init(opts: &JsValue) -> Result<Engine, JsValue> {
        let bytes = get_option(opts, "snapshot")?;
        let bytes = bytes.dyn_into::<js_sys::Uint8Array>().map_err(|_| {
            TailorError::new(
                "INVALID_OPTIONS",
                "Engine.init: `snapshot` must be a Uint8Array".to_owned(),
            )
        })?;
        let snapshot = Snapshot::decode(&bytes.to_vec())
            .map_err(|e| TailorError::new(e.code(), format!("Engine.init: {e}")))?;
        let profile = opt_string(opts, "profile")?
            .and_then(|text| Profile::decode_compact(&text).ok())
            .unwrap_or_default();
        let hosts = if opts.is_object() {
            let v = get_option(opts, "hosts")?;
            if v.is_undefined() || v.is_null() {
                Vec::new()
            } else {
                js_sys::Array::from(&v)
                    .iter()
                    .filter_map(|h| h.as_string())
                    .collect()
            }
        } else {
            Vec::new()
        };
        Ok(Engine {
            snapshot,
            profile,
            shopper: opt_string(opts, "shopper")?.unwrap_or_default(),
            origin: opt_string(opts, "origin")?.unwrap_or_default(),
            hosts,
            renders: Default::default(),
        })
    }

    /// `engine.track(event)`: validate one event (docs/events.md; `id`, `type`, `ts`, `shopper`
    /// and `session` included) and update the on-device profile with it at once. Returns the
    /// event as it should be sent (a long search query cut to 100 characters; card numbers,
    /// emails and SSN-like strings in free text redacted). Throws
    /// `INVALID_EVENT` with the reason when the event is not valid.
    pub fn track(&mut self, event: &JsValue) -> Result<JsValue, JsValue> {
        let e = checked(event)?;
        self.profile.apply(&e, Some(&self.snapshot.model));
        Ok(event.clone())
    }

    /// `engine.forget(shopper?)`: drop the on-device profile (consent revoked, or the shopper
    /// asked to be forgotten; the event queue is a [`Queue`] of its own). `shopper` is the
    /// device's new random id, when it has one: experiments assign by it from now on, as the
    /// events it tracks carry it (a report leaves out a shopper whose logged arm is not theirs).
    pub fn forget(&mut self, shopper: Option<String>) {
        self.profile = Profile::default();
        if let Some(s) = shopper {
            self.shopper = s;
        }
    }

    /// `engine.exportProfile()`: the profile as a string to keep on the device and pass back to
    /// `init`.
    #[wasm_bindgen(js_name = exportProfile)]
    pub fn export_profile(&self) -> String {
        self.profile.encode_compact()
    }

    /// `engine.profile({ now? })`: the profile, plus its lifecycle `stage` and `topCategories`.
    pub fn profile(&self, opts: &JsValue) -> Result<JsValue, JsValue> {
        let now = now_ms(opts)?;
        let p = &self.profile;
        let v = js::obj();
        js::set(
            &v,
            "stage",
            stage(p, now, &self.snapshot.model.config.segments).name(),
        );
        let top: js_sys::Array = p
            .top_categories(3, now)
            .into_iter()
            .map(|(c, _)| JsValue::from_str(&c))
            .collect();
        js::set(&v, "topCategories", top);
        js::set(&v, "sessions", p.sessions);
        js::set(&v, "pageViews", p.page_views);
        js::set(&v, "productViews", p.product_views);
        js::set(&v, "orders", p.orders);
        js::set(&v, "spend", p.spend);
        let recent: Vec<u64> = p.recent.iter().map(|r| r.0).collect();
        js::set(&v, "recent", js::ids(&recent));
        let cart: js_sys::Array = p
            .cart
            .iter()
            .map(|(item, qty)| {
                let o = js::obj();
                js::set(&o, "item", js::id(*item));
                js::set(&o, "qty", *qty);
                JsValue::from(o)
            })
            .collect();
        js::set(&v, "cart", cart);
        let v: JsValue = v.into();
        Ok(v)
    }

    /// `engine.assignment({ placement, now? })`: the shopper's arm on a placement (`grid`,
    /// `search`, a block's placement such as `similar`, or `banner:<name>`), as
    /// `{ arm, experiment? }`; what an `exposure` event reports. A block's placement is read as
    /// `recommend` reads it (`for-you` is `for_you`, `fbt` is `frequently_bought_together`),
    /// so both name the same arm.
    pub fn assignment(&self, opts: &JsValue) -> Result<JsValue, JsValue> {
        let placement = opt_string(opts, "placement")?.unwrap_or_default();
        let name = placement_by_name(&placement).map_or(placement.as_str(), |p| p.name());
        let a = self.arm(name, now_ms(opts)?);
        let o = js::obj();
        js::set(&o, "arm", a.arm.name());
        if let Some(e) = &a.experiment {
            js::set(&o, "experiment", e.as_str());
        }
        Ok(o.into())
    }

    fn arm(&self, placement: &str, now: i64) -> tailor_core::experiments::Assignment {
        assign(
            &self.snapshot.model.config.experiments,
            &self.shopper,
            placement,
            now,
        )
    }

    /// `engine.rank({ items, now? })`: a product list the caller already has (ids, or
    /// `{ id }` objects), in this shopper's order, as `[{ item, reason, text }]`. The same
    /// ranking as the product grid, for front ends that render lists themselves.
    pub fn rank(&self, opts: &JsValue) -> Result<JsValue, JsValue> {
        self.order_items(opts, "grid", Reason::Popular, |items, ctx| {
            let ids: Vec<u64> = items.iter().map(|&(id, _)| id).collect();
            rank_grid(&ids, &self.profile, ctx, &self.snapshot.model)
        })
    }

    /// `engine.rerankSearch({ items: [{ id, relevance }], now? })`: the results in their new
    /// order, `[{ id, reason, text }]`. Text relevance stays dominant.
    #[wasm_bindgen(js_name = rerankSearch)]
    pub fn rerank_search(&self, opts: &JsValue) -> Result<JsValue, JsValue> {
        self.order_items(opts, "search", Reason::TextRelevance, |items, ctx| {
            rerank_search(items, &self.profile, ctx, &self.snapshot.model)
        })
    }

    /// `opts.items` ordered by `order` when the shopper's arm on `placement` is personalized;
    /// else in the caller's order, each with the reason `kept`. As `[{ item, reason, text }]`.
    fn order_items(
        &self,
        opts: &JsValue,
        placement: &str,
        kept: Reason,
        order: impl FnOnce(&[(u64, f32)], &Context) -> Vec<(usize, Reason)>,
    ) -> Result<JsValue, JsValue> {
        let now = now_ms(opts)?;
        let items = items_option(opts)?;
        let ranked = if self.arm(placement, now).arm.personalized() {
            let ctx = Context {
                now,
                ..Context::default()
            };
            order(&items, &ctx)
        } else {
            (0..items.len()).map(|k| (k, kept.clone())).collect()
        };
        Ok(array(ranked.iter().map(|(k, reason)| {
            explained(items[*k].0, reason, &self.snapshot.model)
        })))
    }

    fn recommend_for(
        &self,
        placement: Placement,
        item: Option<u64>,
        n: usize,
        rules: &Rules,
        now: i64,
        seen: &[u64],
    ) -> Vec<tailor_core::display::Shown> {
        // Ask for enough to still have `n` after leaving out what other blocks show.
        let want = n + seen.len();
        let ctx = Context {
            now,
            item,
            category: None,
        };
        let ranked = if self.arm(placement.name(), now).arm.personalized() {
            recommend(
                placement,
                &self.profile,
                &ctx,
                want,
                rules,
                &self.snapshot.model,
            )
        } else {
            // Control and holdout: the store's bestsellers, the same for everyone.
            recommend(
                Placement::Trending,
                &Profile::default(),
                &ctx,
                want,
                rules,
                &self.snapshot.model,
            )
        };
        let ranked = tailor_core::display::without_repeats(placement, ranked, seen, n);
        shown(&ranked, &self.snapshot.model, &self.origin, &self.hosts)
    }

    /// `engine.recommend({ placement, item?, n?, now? })`: recommendations to render yourself,
    /// `[{ id, position, title, url, image, price_cents, reason, explanation }]`.
    pub fn recommend(&self, opts: &JsValue) -> Result<JsValue, JsValue> {
        let now = now_ms(opts)?;
        let name = opt_string(opts, "placement")?.unwrap_or_default();
        let placement = placement_by_name(&name).ok_or_else(|| {
            TailorError::new(
                "INVALID_OPTIONS",
                format!("unknown placement `{name}` (similar, frequently-bought-together, recently-viewed, for-you, cart-upsell, trending, pick-up-where-you-left-off)"),
            )
        })?;
        let n = opt_number(opts, "n")?.unwrap_or(12.0).clamp(1.0, 200.0) as usize;
        let item = opt_item(opts, "item")?;
        Ok(array(
            self.recommend_for(placement, item, n, &Rules::default(), now, &[])
                .iter()
                .map(js::shown),
        ))
    }

    /// `engine.decide(request, now?)`: the decisions for what `readPage` read (`request` is its
    /// `request`), as text for `applyPage` (see [`exchange`]). The grid, the search results,
    /// the slots and the banners are decided as `rank_grid`, `rerank_search_results`,
    /// `render_slots` and `pick_banners` decide them, and the shopper's arm on each placement
    /// comes with them (for exposure events).
    pub fn decide(&self, request: &str, now: Option<f64>) -> String {
        let now = now.unwrap_or_else(js_sys::Date::now) as i64;
        self.decide_request(&exchange::Request::decode(request), now)
            .encode()
    }

    /// `engine.explain({ item, now? })`: why `item` ranks where it does for this shopper,
    /// `{ item, reason, text }`.
    pub fn explain(&self, opts: &JsValue) -> Result<JsValue, JsValue> {
        let now = now_ms(opts)?;
        let item = opt_item(opts, "item")?.ok_or_else(|| {
            TailorError::new("INVALID_OPTIONS", "explain: `item` is required".to_owned())
        })?;
        let ctx = Context {
            now,
            ..Context::default()
        };
        let ranked = rank_grid(&[item], &self.profile, &ctx, &self.snapshot.model);
        let reason = ranked
            .first()
            .map(|(_, r)| r.clone())
            .unwrap_or(Reason::Popular);
        Ok(explained(item, &reason, &self.snapshot.model))
    }

    /// Number of items in the loaded snapshot.
    #[wasm_bindgen(getter, js_name = itemCount)]
    pub fn item_count(&self) -> u32 {
        self.snapshot.model.items.len() as u32
    }
}

/// `event` validated (docs/events.md), with its free text as it should be sent written back into
/// it: a long search query cut to 100 characters; card numbers, emails and SSN-like strings
/// redacted.
fn checked(event: &JsValue) -> Result<tailor_core::events::Event, JsValue> {
    let e = js::event(event)?;
    use tailor_core::events::EventKind::{Diagnostic, Purchase, Search};
    let (key, text) = match &e.kind {
        Search { query, .. } => ("query", Some(query)),
        Diagnostic { detail, .. } => ("detail", detail.as_ref()),
        Purchase { order, .. } => ("order", order.as_ref()),
        _ => ("", None),
    };
    if let Some(text) = text {
        let _ = js_sys::Reflect::set(event, &key.into(), &text.as_str().into());
    }
    Ok(e)
}

/// `checkEvent(event)`: what `engine.track` does to an event before it reaches the profile,
/// without an engine: validate it and return it as it should be sent. A page whose engine runs
/// in another thread checks its events with it, so that a bad one still throws where it is
/// tracked. Throws `INVALID_EVENT` with the reason when the event is not valid.
#[wasm_bindgen(js_name = checkEvent)]
pub fn check_event(event: &JsValue) -> Result<JsValue, JsValue> {
    checked(event)?;
    Ok(event.clone())
}

/// The event queue: what to send, when to retry and what to drop (`tailor_core::outbox`); the
/// page does the I/O. Apart from the [`Engine`], so that a page can queue and send its events
/// while the engine runs in another thread.
#[wasm_bindgen]
pub struct Queue(Outbox);

impl Default for Queue {
    fn default() -> Self {
        Queue::new()
    }
}

#[wasm_bindgen]
impl Queue {
    /// `new Queue()`: an empty queue.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Queue {
        Queue(Outbox::new(Default::default()))
    }

    /// `queue.enqueue(json, now)`: queue one event's JSON for sending (the policy is
    /// `tailor_core::outbox`); false when the page's rate limit dropped it.
    pub fn enqueue(&mut self, json: String, now: f64) -> bool {
        self.0.push(json, now as i64)
    }

    /// `queue.reject()`: count an event that is not valid, and so never queued, as `rejected`.
    pub fn reject(&mut self) {
        self.0.reject();
    }

    /// `queue.restoreQueue(lines)`: put back what `storedQueue()` saved on an earlier page.
    #[wasm_bindgen(js_name = restoreQueue)]
    pub fn restore_queue(&mut self, lines: &str) {
        self.0.restore(lines);
    }

    /// `queue.queued`: how many events wait in the queue (unsent, or sent and not yet answered).
    #[wasm_bindgen(getter)]
    pub fn queued(&self) -> u32 {
        self.0.len() as u32
    }

    /// `queue.storedQueue()`: the queue to keep on the device, one event's JSON per line.
    #[wasm_bindgen(js_name = storedQueue)]
    pub fn stored_queue(&self) -> String {
        self.0.to_lines()
    }

    /// `queue.nextBatch(now, online)`: the JSON array of the next batch to send, or
    /// undefined when nothing may go now (offline, a batch in flight, or waiting to retry).
    #[wasm_bindgen(js_name = nextBatch)]
    pub fn next_batch(&mut self, now: f64, online: bool) -> Option<String> {
        self.0.next_batch(now as i64, online).map(|b| b.events_json)
    }

    /// `queue.answered(status, retryAfterMs, now, jitter)`: the answer to the batch in flight;
    /// status 0 is a network error. `jitter` is a random number in 0..1.
    pub fn answered(&mut self, status: u16, retry_after_ms: Option<f64>, now: f64, jitter: f64) {
        let outcome = if status == 0 {
            tailor_core::outbox::Outcome::NetworkError
        } else {
            tailor_core::outbox::Outcome::Status {
                code: status,
                retry_after_ms: retry_after_ms.map(|x| x as i64),
            }
        };
        self.0.answered(outcome, now as i64, jitter);
    }

    /// `queue.online()`: the device came back online; the next send may go at once.
    pub fn online(&mut self) {
        self.0.online();
    }

    /// `queue.abandoned()`: the batch in flight will get no answer (the page is going away);
    /// its events stay queued and are sent again, with the same ids, from the next page.
    pub fn abandoned(&mut self) {
        self.0.abandoned();
    }

    /// `queue.retryAt()`: when the next send may start (ms since the epoch; 0 = now).
    #[wasm_bindgen(js_name = retryAt)]
    pub fn retry_at(&self) -> f64 {
        self.0.next_try_at() as f64
    }

    /// `queue.dropped()`: events dropped so far, by reason: `{ overflow, rateLimited,
    /// oversized, rejected, expired }`.
    pub fn dropped(&self) -> JsValue {
        let d = self.0.dropped;
        let o = js::obj();
        js::set(&o, "overflow", d.overflow as f64);
        js::set(&o, "rateLimited", d.rate_limited as f64);
        js::set(&o, "oversized", d.oversized as f64);
        js::set(&o, "rejected", d.rejected as f64);
        js::set(&o, "expired", d.expired as f64);
        o.into()
    }

    /// `queue.forget()`: drop every queued event, unsent (consent revoked, or the shopper asked
    /// to be forgotten).
    pub fn forget(&mut self) {
        self.0 = Outbox::new(Default::default());
    }
}
