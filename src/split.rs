//! The page's work split in two, for a measurement only (cargo feature `split`, never in the
//! shipped build): the page's wasm reads the page and applies decisions, and an engine in a
//! worker makes them. This is the "middle way" of ARCHITECTURE.md ("Open question: the page's
//! main-thread budget"): the DOM adapters stay in the wasm on the page, the engine leaves it.
//! `scripts/build-middle.sh` builds it and `FLOOR=middle node scripts/bench-page.mjs` measures
//! it beside the shipped loader.
//!
//! ```js
//! // the page
//! const reading = readPage({ root: document });     // the page's type, its grid's ids, its slots
//! worker.postMessage(reading.request);
//! // the worker: engine.decide(request) -> { order, blocks }
//! reading.applyGrid(order);                         // items moved
//! reading.fillSlots(blocks);                        // [{ slot, placement, request, items, element }]
//! ```
//!
//! Grid and recommendation slots only (what the benchmark's pages have); banners and search stay
//! with the engine's own calls.

use crate::error::get_option;
use crate::{blocks, dom, grid, js, page, Engine};
use tailor_core::display::{placement_by_name, Shown};
use tailor_core::rank::{rank_grid, Context, Reason, Rules};
use wasm_bindgen::prelude::*;
use web_sys::Element;

/// What the page's wasm read from the page, kept until the worker's decisions come back.
#[wasm_bindgen]
pub struct Reading {
    grid: Option<grid::FoundGrid>,
    slots: Vec<Element>,
    request: JsValue,
}

/// `readPage({ root? })`: read the page under `root` (default: `document`): its type and
/// product, its grid's product ids, and its slots (adding the adapters' default ones).
#[wasm_bindgen(js_name = readPage)]
pub fn read_page(opts: &JsValue) -> Result<Reading, JsValue> {
    let root = grid::root_from_options(opts)?;
    let page = page::detect(&root, &dom::location("pathname"))?;
    let found = grid::find_grid(&root)?;
    blocks::add_default_slots(&root)?;
    let slots = blocks::slots(&root)?;
    let request = js::obj();
    js::set(&request, "page", page.to_js());
    if let Some(g) = &found {
        js::set(&request, "grid", js::ids(&g.ids));
    }
    let described: js_sys::Array = slots
        .iter()
        .map(|s| {
            let o = js::obj();
            let attr = |name: &str| {
                s.get_attribute(name)
                    .map_or(JsValue::UNDEFINED, |v| JsValue::from_str(&v))
            };
            js::set(&o, "name", attr("data-tailor-slot"));
            js::set(&o, "n", attr("data-tailor-n"));
            js::set(&o, "title", attr("data-tailor-title"));
            JsValue::from(o)
        })
        .collect();
    js::set(&request, "slots", described);
    Ok(Reading {
        grid: found,
        slots,
        request: request.into(),
    })
}

fn text(o: &JsValue, key: &str) -> Option<String> {
    get_option(o, key).ok().and_then(|v| v.as_string())
}

fn number(o: &JsValue, key: &str) -> Option<f64> {
    get_option(o, key).ok().and_then(|v| v.as_f64())
}

/// A shown item back from JS (what `js::shown` wrote; the reason is only its words).
fn shown_from(o: &JsValue) -> Option<Shown> {
    Some(Shown {
        id: number(o, "id")? as u64,
        position: number(o, "position")? as usize,
        title: text(o, "title")?,
        url: text(o, "url"),
        image: text(o, "image"),
        price_cents: number(o, "price_cents").map(|c| c as u32),
        reason: Reason::Popular,
        explanation: text(o, "explanation").unwrap_or_default(),
    })
}

#[wasm_bindgen]
impl Reading {
    /// What the worker's engine needs: `{ page, grid?, slots: [{ name, n?, title? }] }`.
    #[wasm_bindgen(getter)]
    pub fn request(&self) -> JsValue {
        self.request.clone()
    }

    /// `reading.applyGrid(order)`: put the grid read earlier into `order` (a permutation of its
    /// cards). Returns how many cards moved.
    #[wasm_bindgen(js_name = applyGrid)]
    pub fn apply_grid(&self, order: Vec<u32>) -> Result<u32, JsValue> {
        let Some(g) = &self.grid else {
            return Ok(0);
        };
        let order: Vec<usize> = order.into_iter().map(|k| k as usize).collect();
        Ok(grid::apply_order(g, &order)?)
    }

    /// `reading.fillSlots(blocks)`: render each slot's block, `blocks[k]` being
    /// `{ placement, title, request, items }` for the k-th slot read (null: not ours to fill).
    /// Returns what was rendered, as `engine.renderSlots` does.
    #[wasm_bindgen(js_name = fillSlots)]
    pub fn fill_slots(&self, blocks: &JsValue) -> Result<JsValue, JsValue> {
        let list = js_sys::Array::from(blocks);
        let mut out = Vec::new();
        for (k, slot) in self.slots.iter().enumerate() {
            let b = list.get(k as u32);
            if !b.is_object() {
                continue;
            }
            let items: Vec<Shown> = js_sys::Array::from(&get_option(&b, "items")?)
                .iter()
                .filter_map(|o| shown_from(&o))
                .collect();
            let info = blocks::Rendered {
                slot: slot.get_attribute("data-tailor-slot").unwrap_or_default(),
                placement: text(&b, "placement").unwrap_or_default(),
                request: text(&b, "request").unwrap_or_default(),
                items: items.iter().map(|s| s.id).collect(),
            };
            blocks::render(slot, &text(&b, "title").unwrap_or_default(), &items, &info)?;
            out.push(info.to_js(slot));
        }
        Ok(out.into_iter().collect::<js_sys::Array>().into())
    }
}

#[wasm_bindgen]
impl Engine {
    /// `engine.decide(request)`: the decisions for what `readPage` read, `{ order?, blocks }`
    /// (the grid's new order, and one block or null per slot), made as `rankGrid` and
    /// `renderSlots` make them.
    pub fn decide(&mut self, request: &JsValue) -> Result<JsValue, JsValue> {
        let now = js_sys::Date::now() as i64;
        let out = js::obj();
        let grid = get_option(request, "grid")?;
        if js_sys::Array::is_array(&grid) && self.arm("grid", now).arm.personalized() {
            let ids: Vec<u64> = js_sys::Array::from(&grid)
                .iter()
                .filter_map(|v| v.as_f64().map(|x| x as u64))
                .collect();
            let ctx = Context {
                now,
                ..Context::default()
            };
            let order: js_sys::Array = rank_grid(&ids, &self.profile, &ctx, &self.snapshot.model)
                .into_iter()
                .map(|(k, _)| JsValue::from(k as u32))
                .collect();
            js::set(&out, "order", order);
        }
        let item = get_option(&get_option(request, "page")?, "item")?
            .as_f64()
            .map(|x| x as u64);
        let mut seen: Vec<u64> = Vec::new();
        let blocks = js_sys::Array::new();
        for slot in js_sys::Array::from(&get_option(request, "slots")?).iter() {
            let name = text(&slot, "name").unwrap_or_default();
            let configured = self
                .snapshot
                .model
                .config
                .placements
                .iter()
                .find(|p| p.name == name)
                .cloned();
            let (placement, n, rules, title) = match configured {
                Some(p) => (p.placement, p.n, p.rules, p.title.unwrap_or_default()),
                None => {
                    let Some(placement) = placement_by_name(&name) else {
                        blocks.push(&JsValue::NULL);
                        continue;
                    };
                    let n = text(&slot, "n")
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(4usize)
                        .clamp(1, 48);
                    (placement, n, Rules::default(), String::new())
                }
            };
            let items = self.recommend_for(placement, item, n, &rules, now, &seen);
            seen.extend(items.iter().map(|s| s.id));
            self.renders += 1;
            let b = js::obj();
            js::set(&b, "placement", placement.name());
            js::set(&b, "title", text(&slot, "title").unwrap_or(title));
            js::set(
                &b,
                "request",
                format!(
                    "{:x}-{}",
                    (js_sys::Math::random() * 4_294_967_295.0) as u32 | 0x1000_0000,
                    self.renders
                ),
            );
            js::set(
                &b,
                "items",
                items.iter().map(js::shown).collect::<js_sys::Array>(),
            );
            blocks.push(&b);
        }
        js::set(&out, "blocks", blocks);
        Ok(out.into())
    }
}
