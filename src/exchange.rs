//! The page's personalization in three steps, so that the engine can run on another thread
//! than the page (the loader's worker) while the DOM work stays here, in the wasm on the page:
//!
//! ```js
//! const read = readPage({ root: document });      // { page, request, reading }
//! const decisions = engine.decide(read.request);  // wherever the engine runs (text both ways)
//! const done = applyPage(read.reading, decisions); // { moved, slots, banners, arms }
//! ```
//!
//! The request and the decisions travel as compact text: records split by U+001E, fields by
//! U+001F (free text has both replaced by a space). Posting a string between threads is cheap,
//! and the wasm carries no JSON machinery. Each record starts with its kind:
//!
//! | record | in | fields |
//! |---|---|---|
//! | `p` | request | page type, product id (or empty) |
//! | `g` | request | the grid's product ids, in page order |
//! | `s` | request | one search result list: `#<id>` or `/<handle>` per product |
//! | `b` | request | a slot: its name, `data-tailor-n`, `data-tailor-title` (each may be empty) |
//! | `n` | request | a banner: its name, then a segment and a category per variant |
//! | `g` | decisions | the grid's new order (indices), when it is personalized |
//! | `s` | decisions | one search list's new order (empty: unchanged) |
//! | `b` | decisions | a block: placement, title, request id, then 7 fields per item (id, position, title, link, image, price in cents, why) |
//! | `x` | decisions | no block for a slot (not ours to fill) |
//! | `n` | decisions | a banner: the chosen variant's index and why |
//! | `y` | decisions | no variant for a banner (the theme's default stays) |
//! | `a` | decisions | an arm: placement, arm, experiment |
//!
//! Applying checks that what was read is still on the page: a grid or a result list the theme
//! replaced meanwhile is left alone (its observer reads it again).

use crate::error::TailorError;
use crate::{banners, blocks, dom, grid, js, page, search};
use tailor_core::display::Shown;
use tailor_core::rank::{BannerVariant, Reason};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

const RS: char = '\u{1e}';
const US: char = '\u{1f}';

/// A product in a search list: its id, or (predictive search) its handle, which only the
/// snapshot can turn into an id.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    /// A product id.
    Id(u64),
    /// A `/products/<handle>` handle.
    Handle(String),
}

/// A slot as read: name, `data-tailor-n`, `data-tailor-title`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotAsk {
    /// `data-tailor-slot`.
    pub name: String,
    /// `data-tailor-n`, as written.
    pub n: String,
    /// `data-tailor-title`, when the slot has one (an empty one: no heading).
    pub title: Option<String>,
}

/// What the engine needs to decide for one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// The page's type.
    pub kind: String,
    /// The product a product page shows.
    pub item: Option<u64>,
    /// The grid's product ids, when it is to be ranked.
    pub grid: Option<Vec<u64>>,
    /// Search result lists to rerank.
    pub search: Vec<Vec<Key>>,
    /// Slots to fill.
    pub slots: Vec<SlotAsk>,
    /// Banners: name and variants.
    pub banners: Vec<(String, Vec<BannerVariant>)>,
}

/// A block to render into a slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The placement the slot resolved to.
    pub placement: String,
    /// The block's heading (empty: none).
    pub title: String,
    /// The id tying impressions and clicks to this rendering.
    pub request: String,
    /// The items, in order.
    pub items: Vec<Shown>,
}

/// The engine's decisions for a [`Request`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decisions {
    /// The grid's new order.
    pub order: Option<Vec<usize>>,
    /// Each search list's new order (None: unchanged).
    pub search: Vec<Option<Vec<usize>>>,
    /// Each slot's block (None: not ours to fill).
    pub blocks: Vec<Option<Block>>,
    /// Each banner's chosen variant and why (None: the theme's default stays).
    pub banners: Vec<Option<(usize, String)>>,
    /// The shopper's arm on each placement decided: placement, arm, experiment.
    pub arms: Vec<(String, String, String)>,
}

/// The text being written: records of fields.
#[derive(Default)]
struct Text(String);

impl Text {
    fn record(&mut self, kind: char) {
        if !self.0.is_empty() {
            self.0.push(RS);
        }
        self.0.push(kind);
    }
    fn field(&mut self, f: &str) {
        self.0.push(US);
        for c in f.chars() {
            self.0.push(if c == RS || c == US { ' ' } else { c });
        }
    }
    fn number(&mut self, n: u64) {
        self.field(&n.to_string());
    }
    fn numbers(&mut self, kind: char, ns: &[u64]) {
        self.record(kind);
        for &n in ns {
            self.number(n);
        }
    }
    fn maybe(&mut self, f: &Option<String>) {
        self.field(f.as_deref().unwrap_or(""));
    }
}

fn records(text: &str) -> impl Iterator<Item = (char, Vec<&str>)> {
    text.split(RS).filter(|r| !r.is_empty()).map(|r| {
        let mut parts = r.split(US);
        let kind = parts.next().and_then(|k| k.chars().next()).unwrap_or(' ');
        (kind, parts.collect())
    })
}

/// Every field as a number, or None when one is not.
fn numbers(fields: &[&str]) -> Option<Vec<u64>> {
    fields.iter().map(|f| f.parse().ok()).collect()
}

fn indices(fields: &[&str]) -> Option<Vec<usize>> {
    Some(numbers(fields)?.into_iter().map(|n| n as usize).collect())
}

/// Whether `order` puts `n` things in an order: each index once.
pub fn is_permutation(order: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    order.len() == n
        && order
            .iter()
            .all(|&k| k < n && !std::mem::replace(&mut seen[k], true))
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn as_u64(v: &[usize]) -> Vec<u64> {
    v.iter().map(|&k| k as u64).collect()
}

impl Request {
    /// As text (module docs).
    pub fn encode(&self) -> String {
        let mut t = Text::default();
        t.record('p');
        t.field(&self.kind);
        t.maybe(&self.item.map(|i| i.to_string()));
        if let Some(ids) = &self.grid {
            t.numbers('g', ids);
        }
        for list in &self.search {
            t.record('s');
            for k in list {
                match k {
                    Key::Id(id) => t.field(&format!("#{id}")),
                    Key::Handle(h) => t.field(&format!("/{h}")),
                }
            }
        }
        for s in &self.slots {
            t.record('b');
            t.field(&s.name);
            t.field(&s.n);
            // ("+" and the title when the slot has one, which may be empty.)
            t.field(
                &s.title
                    .as_ref()
                    .map(|x| format!("+{x}"))
                    .unwrap_or_default(),
            );
        }
        for (name, variants) in &self.banners {
            t.record('n');
            t.field(name);
            for v in variants {
                t.maybe(&v.segment);
                t.maybe(&v.category);
            }
        }
        t.0
    }

    /// From text; unknown records are skipped.
    pub fn decode(text: &str) -> Request {
        let mut r = Request::default();
        for (kind, f) in records(text) {
            let at = |k: usize| f.get(k).copied().unwrap_or("");
            match kind {
                'p' => {
                    r.kind = at(0).to_owned();
                    r.item = at(1).parse().ok();
                }
                'g' => r.grid = numbers(&f),
                's' => r.search.push(
                    f.iter()
                        .filter_map(|k| match k.strip_prefix('#') {
                            Some(id) => id.parse().ok().map(Key::Id),
                            None => k.strip_prefix('/').map(|h| Key::Handle(h.to_owned())),
                        })
                        .collect(),
                ),
                'b' => r.slots.push(SlotAsk {
                    name: at(0).to_owned(),
                    n: at(1).to_owned(),
                    title: at(2).strip_prefix('+').map(str::to_owned),
                }),
                'n' => r.banners.push((
                    at(0).to_owned(),
                    f.get(1..)
                        .unwrap_or_default()
                        .chunks_exact(2)
                        .map(|v| BannerVariant {
                            segment: opt(v[0]),
                            category: opt(v[1]),
                        })
                        .collect(),
                )),
                _ => {}
            }
        }
        r
    }
}

impl Decisions {
    /// As text (module docs).
    pub fn encode(&self) -> String {
        let mut t = Text::default();
        if let Some(order) = &self.order {
            t.numbers('g', &as_u64(order));
        }
        for list in &self.search {
            t.numbers('s', &as_u64(list.as_deref().unwrap_or_default()));
        }
        for b in &self.blocks {
            let Some(b) = b else {
                t.record('x');
                continue;
            };
            t.record('b');
            t.field(&b.placement);
            t.field(&b.title);
            t.field(&b.request);
            for s in &b.items {
                t.number(s.id);
                t.number(s.position as u64);
                t.field(&s.title);
                t.maybe(&s.url);
                t.maybe(&s.image);
                t.maybe(&s.price_cents.map(|c| c.to_string()));
                t.field(&s.explanation);
            }
        }
        for b in &self.banners {
            match b {
                None => t.record('y'),
                Some((chosen, why)) => {
                    t.record('n');
                    t.number(*chosen as u64);
                    t.field(why);
                }
            }
        }
        for (placement, arm, experiment) in &self.arms {
            t.record('a');
            t.field(placement);
            t.field(arm);
            t.field(experiment);
        }
        t.0
    }

    /// From text; unknown records are skipped.
    pub fn decode(text: &str) -> Decisions {
        let mut d = Decisions::default();
        for (kind, f) in records(text) {
            let at = |k: usize| f.get(k).copied().unwrap_or("");
            match kind {
                'g' => d.order = indices(&f),
                's' => d.search.push(indices(&f).filter(|o| !o.is_empty())),
                'x' => d.blocks.push(None),
                'b' => d.blocks.push(Some(Block {
                    placement: at(0).to_owned(),
                    title: at(1).to_owned(),
                    request: at(2).to_owned(),
                    items: f
                        .get(3..)
                        .unwrap_or_default()
                        .chunks_exact(7)
                        .filter_map(|s| {
                            Some(Shown {
                                id: s[0].parse().ok()?,
                                position: s[1].parse().ok()?,
                                title: s[2].to_owned(),
                                url: opt(s[3]),
                                image: opt(s[4]),
                                price_cents: s[5].parse().ok(),
                                reason: Reason::Popular,
                                explanation: s[6].to_owned(),
                            })
                        })
                        .collect(),
                })),
                'y' => d.banners.push(None),
                'n' => d
                    .banners
                    .push(at(0).parse().ok().map(|k| (k, at(1).to_owned()))),
                'a' => d
                    .arms
                    .push((at(0).to_owned(), at(1).to_owned(), at(2).to_owned())),
                _ => {}
            }
        }
        d
    }
}

/// What `readPage` read: the elements to change later, and the request for the engine.
pub struct Reading {
    page: page::Page,
    grid: Option<grid::FoundGrid>,
    search: Vec<search::Found>,
    slots: Vec<Element>,
    banners: Vec<(Element, Vec<Element>)>,
    ask: Request,
}

/// Which parts of the page a [`Reading`] reads.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    /// The product grid.
    pub grid: bool,
    /// Search results.
    pub results: bool,
    /// Recommendation slots.
    pub slots: bool,
    /// Banners.
    pub banners: bool,
    /// The loader's rule: the grid only on a page that is not a search page, and the search
    /// page's results only on one (the predictive results on any page).
    pub by_kind: bool,
    /// `readPage`'s rule: the cards, results and banners an earlier pass placed stay as they
    /// are (`grid::PLACED`), and only the others are read.
    pub keep: bool,
    /// `k`: leave the grid, the results and the banners read as they are, marked as placed
    /// (the page is past its anti-flicker deadline: the shopper may have seen them).
    pub hold: bool,
}

impl Parts {
    /// From letters (`g` the grid, `r` search results, `s` slots, `b` banners; `k` to hold
    /// them); none: all but `k`.
    pub fn from_letters(letters: Option<String>) -> Parts {
        let has = |c| letters.as_ref().is_none_or(|l| l.contains(c));
        Parts {
            grid: has('g'),
            results: has('r'),
            slots: has('s'),
            banners: has('b'),
            by_kind: true,
            keep: true,
            hold: letters.is_some() && has('k'),
        }
    }
}

/// What [`Reading::apply_decisions`] did.
pub struct Applied {
    /// Grid cards and search results moved.
    pub moved: u32,
    /// `[{ slot, placement, request, items, element }]`.
    pub slots: js_sys::Array,
    /// `[{ banner, variant, explanation }]`.
    pub banners: js_sys::Array,
    /// `{ [placement]: { arm, experiment? } }`.
    pub arms: js_sys::Object,
}

/// The last readings, by number, until their decisions come back (a few may be in flight at
/// once: the page's first pass, a re-rendered grid, predictive search).
const KEPT: usize = 8;
thread_local! {
    static READINGS: std::cell::RefCell<(u32, Vec<(u32, Reading)>)> = const { std::cell::RefCell::new((0, Vec::new())) };
}

/// `readPage({ root?, path?, search?, item?, parts? })`: read the page under `root` (default:
/// `document`): its type and product (`path`: default `location.pathname`; `item`: the product
/// when the markup names none and the page is not a listing, from Shopify's metadata or
/// JSON-LD), and the parts `parts` names (letters: `g` its product
/// grid (not on a search page, nor when the listing is sorted: `search`, default
/// `location.search`, and the page's sort control), its search results (a search page's, unless
/// sorted, and the predictive ones on any page) for `r`, its slots (the adapters' default slots
/// added when it declares none) for `s` and its banners for `b`; when `parts` is not a string,
/// all of them). Returns `{ page, request, reading }`: the page as
/// `{ type, item, adapter }`, the request for `engine.decide` (text), and the reading's number
/// for `applyPage` (the last 8 are kept).
#[wasm_bindgen(js_name = readPage)]
pub fn read_page(opts: &JsValue) -> Result<JsValue, JsValue> {
    // (No options at all: the defaults, as `readPage()` is typed.)
    let parts = if opts.is_undefined() || opts.is_null() {
        None
    } else {
        crate::error::get_option(opts, "parts")?.as_string()
    };
    let parts = Parts::from_letters(parts);
    let r = Reading::read(opts, parts)?;
    let out = js::obj();
    js::set(&out, "page", r.page.to_js());
    js::set(&out, "request", r.ask.encode());
    let n = READINGS.with(|k| {
        let (next, kept) = &mut *k.borrow_mut();
        *next += 1;
        if kept.len() == KEPT {
            kept.remove(0);
        }
        kept.push((*next, r));
        *next
    });
    js::set(&out, "reading", n);
    Ok(out.into())
}

/// `applyPage(reading, decisions, parts?)`: change the page as the engine decided (`decisions`:
/// text from `engine.decide`) for what `readPage` read, in the parts `parts` names (letters, as
/// `readPage` takes them; default: all; `k`: the grid, the search results and the banners are
/// left as they are). What it places, or leaves as it is, is marked `data-tailor-placed`, and a
/// later `readPage` leaves it out. Returns `{ moved, slots, banners, arms }`: how many grid
/// cards and search results moved, what was rendered into each slot (`{ slot, placement,
/// request, items, element }`), the banners shown (`{ banner, variant, explanation }`) and the
/// shopper's arm on each placement, `{ [placement]: { arm, experiment? } }`. A reading no longer
/// kept changes nothing.
#[wasm_bindgen(js_name = applyPage)]
pub fn apply_page(
    reading: u32,
    decisions: &str,
    parts: Option<String>,
) -> Result<JsValue, JsValue> {
    let only = Parts::from_letters(parts);
    let d = Decisions::decode(decisions);
    let done = READINGS.with(|k| -> Result<Option<Applied>, TailorError> {
        let kept = &k.borrow().1;
        match kept.iter().find(|(n, _)| *n == reading) {
            Some((_, r)) => Ok(Some(r.apply_decisions(&d, only)?)),
            None => Ok(None),
        }
    })?;
    let out = js::obj();
    let done = done.unwrap_or_else(|| Applied {
        moved: 0,
        slots: js_sys::Array::new(),
        banners: js_sys::Array::new(),
        arms: js::obj(),
    });
    js::set(&out, "moved", done.moved);
    js::set(&out, "slots", done.slots);
    js::set(&out, "banners", done.banners);
    js::set(&out, "arms", done.arms);
    Ok(out.into())
}

impl Reading {
    /// See [`read_page`].
    pub fn read(opts: &JsValue, parts: Parts) -> Result<Reading, TailorError> {
        let root = grid::root_from_options(opts)?;
        let path = match crate::opt_string(opts, "path")? {
            Some(p) => p,
            None => dom::location("pathname"),
        };
        let mut page = page::detect(&root, &path)?;
        // Listing pages show many products, none of them the page's own.
        if !["collection", "search", "home", "cart"].contains(&page.kind) {
            // (Metadata that names no usable product is no product: never the page's failure.)
            page.item = page
                .item
                .or_else(|| crate::opt_item(opts, "item").ok().flatten());
        }
        let sorted = || crate::sorted_listing(opts, &root);
        let mut ask = Request {
            kind: page.kind.to_owned(),
            item: page.item,
            ..Request::default()
        };
        let searching = page.kind == "search";
        let grid = match parts.grid && !(parts.by_kind && searching) && !sorted()? {
            true => grid::find_grid(&root, parts.keep)?,
            false => None,
        };
        ask.grid = grid.as_ref().map(|g| g.ids.clone());
        let mut results = Vec::new();
        if parts.results {
            let listed = match (parts.by_kind && !searching) || sorted()? {
                true => None,
                false => search::find_page(&root, parts.keep)?,
            };
            if let Some(found) = listed {
                ask.search
                    .push(found.products.iter().map(|&(_, id)| Key::Id(id)).collect());
                results.push(found);
            }
            if let Some((found, handles)) = search::find_predictive(&root, parts.keep)? {
                ask.search
                    .push(handles.into_iter().map(Key::Handle).collect());
                results.push(found);
            }
        }
        let mut slots = Vec::new();
        if parts.slots {
            blocks::add_default_slots(&root)?;
            slots = blocks::slots(&root)?;
            for s in &slots {
                let attr = |name| s.get_attribute(name).unwrap_or_default();
                ask.slots.push(SlotAsk {
                    name: attr("data-tailor-slot"),
                    n: attr("data-tailor-n"),
                    title: s.get_attribute("data-tailor-title"),
                });
            }
        }
        let mut found = Vec::new();
        if parts.banners {
            found = banners::find(&root, parts.keep)?;
            for (banner, variants) in &found {
                ask.banners.push((
                    banner
                        .get_attribute("data-tailor-banner")
                        .unwrap_or_default(),
                    banners::describe(variants),
                ));
            }
        }
        Ok(Reading {
            page,
            grid,
            search: results,
            slots,
            banners: found,
            ask,
        })
    }

    /// The request for the engine.
    pub fn ask(&self) -> &Request {
        &self.ask
    }

    /// Change the page as `d` says, in the parts `only` names. With `only.keep` (`applyPage`),
    /// the grid, the results and the banners it places (or leaves as they are: an order that
    /// keeps the theme's, no variant that fits, `only.hold`) are marked `grid::PLACED`, if they
    /// are still on the page. (Two passes in flight over the same new cards, a "load more" and a
    /// cart change, say, both place them: the later one moves them again.)
    pub fn apply_decisions(&self, d: &Decisions, only: Parts) -> Result<Applied, TailorError> {
        let mut moved = 0;
        if let Some(g) = &self.grid {
            if (only.grid || only.hold) && still_there(&g.container, &g.cards) {
                if let (Some(order), true) = (&d.order, only.grid) {
                    if is_permutation(order, g.cards.len()) {
                        moved += grid::apply_order(g, order)?;
                    }
                }
                if only.keep {
                    grid::mark(&g.list);
                }
            }
        }
        for (k, found) in self.search.iter().enumerate() {
            if (only.results || only.hold) && still_there(&found.container, &found.children) {
                if let (Some(Some(order)), true) = (d.search.get(k), only.results) {
                    if is_permutation(order, found.products.len()) {
                        moved += search::apply(found, order)?;
                    }
                }
                if only.keep {
                    grid::mark(&found.list);
                }
            }
        }
        let slots = js_sys::Array::new();
        for (slot, block) in self.slots.iter().zip(&d.blocks).filter(|_| only.slots) {
            let Some(b) = block else { continue };
            let info = blocks::Rendered {
                slot: slot.get_attribute("data-tailor-slot").unwrap_or_default(),
                placement: b.placement.clone(),
                request: b.request.clone(),
                items: b.items.iter().map(|s| s.id).collect(),
            };
            blocks::render(slot, &b.title, &b.items, &info)?;
            slots.push(&info.to_js(slot));
        }
        let shown = js_sys::Array::new();
        for (k, (banner, variants)) in self.banners.iter().enumerate() {
            if !only.banners && !only.hold {
                break;
            }
            if only.keep {
                // (Refused by the page: decided again by the next pass.)
                let _ = banner.set_attribute(grid::PLACED, "");
            }
            let (Some(Some((chosen, why))), true) = (d.banners.get(k), only.banners) else {
                continue;
            };
            let Some(variant) = variants.get(*chosen) else {
                continue;
            };
            banners::show(variants, *chosen)?;
            shown.push(
                &banners::Picked {
                    banner: banner
                        .get_attribute("data-tailor-banner")
                        .unwrap_or_default(),
                    variant: variant
                        .get_attribute("data-tailor-variant")
                        .filter(|v| !v.is_empty())
                        .unwrap_or_else(|| chosen.to_string()),
                    explanation: why.clone(),
                }
                .to_js(),
            );
        }
        let arms = js::obj();
        for (placement, arm, experiment) in &d.arms {
            let a = js::obj();
            js::set(&a, "arm", arm.as_str());
            if !experiment.is_empty() {
                js::set(&a, "experiment", experiment.as_str());
            }
            js::set(&arms, placement, a);
        }
        Ok(Applied {
            moved,
            slots,
            banners: shown,
            arms,
        })
    }
}

/// Whether `nodes` are all still children of `container`, and it still in its document (the
/// theme may have replaced the cards, the grid, or a section around it).
fn still_there(container: &Element, nodes: &[Element]) -> bool {
    let parent: &web_sys::Node = container;
    let mut top = parent.clone();
    while let Some(up) = top.parent_node() {
        top = up;
    }
    top.dyn_ref::<web_sys::Document>().is_some()
        && nodes
            .iter()
            .all(|n| n.parent_node().is_some_and(|p| &p == parent))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(id: u64, title: &str, url: Option<&str>) -> Shown {
        Shown {
            id,
            position: 0,
            title: title.to_owned(),
            url: url.map(str::to_owned),
            image: None,
            price_cents: Some(1995),
            reason: Reason::Popular,
            explanation: "Because you viewed a mug".to_owned(),
        }
    }

    #[test]
    fn a_request_survives_the_text() {
        let ask = Request {
            kind: "product".to_owned(),
            item: Some(9_007_199_254_740_993),
            grid: Some(vec![3, 1, 2]),
            search: vec![vec![Key::Id(7), Key::Handle("red-mug".to_owned())], vec![]],
            slots: vec![
                SlotAsk {
                    name: "similar".to_owned(),
                    n: "4".to_owned(),
                    title: None,
                },
                // An empty title is a slot without a heading, not one without a title.
                SlotAsk {
                    name: "for-you".to_owned(),
                    n: String::new(),
                    title: Some(String::new()),
                },
            ],
            banners: vec![(
                "hero".to_owned(),
                vec![
                    BannerVariant {
                        segment: None,
                        category: None,
                    },
                    BannerVariant {
                        segment: Some("vip".to_owned()),
                        category: Some("Bags".to_owned()),
                    },
                ],
            )],
        };
        assert_eq!(Request::decode(&ask.encode()), ask);
    }

    #[test]
    fn decisions_survive_the_text() {
        let d = Decisions {
            order: Some(vec![2, 0, 1]),
            search: vec![None, Some(vec![1, 0])],
            blocks: vec![
                None,
                Some(Block {
                    placement: "similar".to_owned(),
                    title: "You may also like".to_owned(),
                    request: "1a2b3c4d-1".to_owned(),
                    items: vec![shown(5, "Mug", Some("/products/mug")), shown(6, "", None)],
                }),
            ],
            banners: vec![Some((1, "For VIPs".to_owned())), None],
            arms: vec![("grid".to_owned(), "treatment".to_owned(), String::new())],
        };
        assert_eq!(Decisions::decode(&d.encode()), d);
    }

    #[test]
    fn the_separators_in_free_text_become_spaces() {
        let mut d = Decisions::default();
        let title = format!("a{RS}b{US}c");
        d.blocks.push(Some(Block {
            placement: "similar".to_owned(),
            title: title.clone(),
            request: "r".to_owned(),
            items: vec![shown(1, &title, None)],
        }));
        let back = Decisions::decode(&d.encode());
        let b = back.blocks[0].as_ref().unwrap();
        assert_eq!(b.title, "a b c");
        assert_eq!(b.items[0].title, "a b c");
        assert_eq!(b.items.len(), 1);
    }

    #[test]
    fn text_that_is_not_ours_decodes_to_nothing_and_never_panics() {
        for text in [
            "",
            "junk",
            "\u{1e}\u{1e}",
            "g\u{1f}x\u{1f}1",
            "b\u{1f}p",
            "n",
            "s\u{1f}#x\u{1f}/",
        ] {
            let _ = Request::decode(text);
            let _ = Decisions::decode(text);
        }
        assert_eq!(Decisions::decode("q\u{1f}1"), Decisions::default());
        // A block whose items are cut short keeps the whole ones.
        let d = Decisions::decode(
            "b\u{1f}similar\u{1f}\u{1f}r\u{1f}5\u{1f}0\u{1f}Mug\u{1f}\u{1f}\u{1f}\u{1f}why\u{1f}6",
        );
        assert_eq!(d.blocks[0].as_ref().unwrap().items.len(), 1);
        // An order with a field that is not a number is no order at all.
        assert_eq!(Decisions::decode("g\u{1f}2\u{1f}x\u{1f}0").order, None);
        assert_eq!(Decisions::decode("g\u{1f}2\u{1f}0").order, Some(vec![2, 0]));
    }

    #[test]
    fn only_a_permutation_is_applied() {
        assert!(is_permutation(&[2, 0, 1], 3));
        assert!(is_permutation(&[], 0));
        assert!(!is_permutation(&[0, 1], 3), "too short");
        assert!(!is_permutation(&[0, 0, 1], 3), "an index twice");
        assert!(!is_permutation(&[0, 1, 3], 3), "out of range");
    }
}
