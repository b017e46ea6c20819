//! The other adapters and surfaces in a real headless Chromium (wasm-bindgen-test): WooCommerce
//! and generic grids, page detection, recommendation slots, banners and tracking.
#![cfg(target_arch = "wasm32")]

use tailor::Engine;
use tailor_core::model::Model;
use tailor_core::snapshot::{ModelKind, Snapshot};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Document, Element};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

fn set(o: &js_sys::Object, k: &str, v: impl Into<JsValue>) {
    js_sys::Reflect::set(o, &k.into(), &v.into()).unwrap();
}

fn get(o: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(o, &k.into()).unwrap()
}

/// Items 1..=6: 1–3 in "Mugs", 4–6 in "Bags"; popularity falls with the id. Item 2's title is
/// markup and its image a `javascript:` URL; item 3's image is on a foreign host.
fn engine() -> Engine {
    engine_with(|_| {})
}

fn engine_with(change: impl FnOnce(&mut Model)) -> Engine {
    let mut model = Model::from_popularity(&[
        (1, 60.0),
        (2, 50.0),
        (3, 40.0),
        (4, 30.0),
        (5, 20.0),
        (6, 10.0),
    ]);
    model.strings = vec!["Mugs".into(), "Bags".into()];
    for (k, item) in model.items.iter_mut().enumerate() {
        item.category = Some(if k < 3 { 0 } else { 1 });
        item.price_cents = Some(500 + k as u32);
    }
    model.titles = vec![
        "Red mug".into(),
        "<img src=x onerror=alert(1)>Mug".into(),
        "Blue mug".into(),
        "Tote".into(),
        "Satchel".into(),
        "Pouch".into(),
    ];
    model.handles = (1..=6).map(|i| format!("p{i}")).collect();
    model.images = vec![
        "/img/1.png".into(),
        "javascript:alert(2)".into(),
        "https://evil.example/3.png".into(),
        "".into(),
        "//cdn.shopify.com/5.png".into(),
        "".into(),
    ];
    change(&mut model);
    model.index();
    let bytes = Snapshot::new(ModelKind::Hybrid, 1, model).encode();
    let opts = js_sys::Object::new();
    set(
        &opts,
        "snapshot",
        js_sys::Uint8Array::from(bytes.as_slice()),
    );
    set(&opts, "origin", "https://shop.example");
    // Outside the 5% holdout.
    set(&opts, "shopper", "e2e-shopper-2");
    Engine::init(&opts).unwrap()
}

fn container(html_builder: impl FnOnce(&Document, &Element)) -> Element {
    let doc = document();
    let c = doc.create_element("div").unwrap();
    html_builder(&doc, &c);
    doc.body().unwrap().append_child(&c).unwrap();
    c
}

/// A `tag` element with `attrs`, appended to `parent` (a slot, a product's markup).
fn child(doc: &Document, parent: &Element, tag: &str, attrs: &[(&str, &str)]) -> Element {
    let el = doc.create_element(tag).unwrap();
    for (k, v) in attrs {
        el.set_attribute(k, v).unwrap();
    }
    parent.append_child(&el).unwrap();
    el
}

/// A container on the page holding one slot with `attrs`.
fn with_slot(attrs: &[(&str, &str)]) -> Element {
    container(|doc, c| {
        child(doc, c, "div", attrs);
    })
}

fn root_opts(root: &Element) -> js_sys::Object {
    let o = js_sys::Object::new();
    set(&o, "root", root.clone());
    o
}

fn event(kind: &str, n: u32) -> js_sys::Object {
    let o = js_sys::Object::new();
    set(&o, "id", format!("00000000-0000-4000-8000-{n:012x}"));
    set(&o, "type", kind);
    set(&o, "ts", 1_764_000_000_000.0 + n as f64);
    set(&o, "shopper", "e2e-shopper-2");
    set(&o, "session", "s1");
    o
}

fn code(err: &JsValue) -> String {
    get(err, "code").as_string().unwrap()
}

#[wasm_bindgen_test]
fn woocommerce_grids_are_reordered_and_their_row_classes_follow() {
    let c = container(|doc, c| {
        let ul = doc.create_element("ul").unwrap();
        ul.set_class_name("products columns-2");
        for id in [6, 5, 1, 2] {
            let li = doc.create_element("li").unwrap();
            li.set_class_name(&format!("product type-product post-{id}"));
            ul.append_child(&li).unwrap();
        }
        c.append_child(&ul).unwrap();
    });
    let moved = engine().rank_grid(&root_opts(&c)).unwrap();
    assert_eq!(moved, 4);
    let cards = c.query_selector_all("ul.products > li").unwrap();
    let rows: Vec<(String, bool, bool)> = (0..cards.length())
        .map(|i| {
            let li: Element = cards.item(i).unwrap().dyn_into().unwrap();
            let cl = li.class_list();
            let id = li
                .class_name()
                .split_whitespace()
                .find(|x| x.starts_with("post-"))
                .unwrap()
                .to_owned();
            (id, cl.contains("first"), cl.contains("last"))
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("post-1".into(), true, false),
            ("post-2".into(), false, true),
            ("post-5".into(), true, false),
            ("post-6".into(), false, true),
        ]
    );
    c.remove();
}

/// What is not placed stays to be placed: a reading applied without its grid, or whose grid the
/// theme changed before the decisions came, leaves the cards unmarked; one held (`k`: past the
/// deadline) marks them where they are.
#[wasm_bindgen_test]
fn only_what_a_pass_placed_or_held_is_left_out_of_the_next() {
    let c = container(|doc, c| {
        let ul = child(doc, c, "ul", &[("class", "products columns-2")]);
        for id in [6, 5, 1, 2] {
            child(doc, &ul, "li", &[("class", &format!("product post-{id}"))]);
        }
    });
    let e = engine();
    // The engine's own one-go calls mark nothing: a later pass still places the grid.
    assert!(e.rank_grid(&root_opts(&c)).unwrap() > 0);
    assert!(attrs(&c, "li[data-tailor-placed]", "class").is_empty());
    let ul = c.query_selector("ul").unwrap().unwrap();
    for id in [6, 5, 1, 2] {
        let li = c.query_selector(&format!("li.post-{id}")).unwrap().unwrap();
        ul.append_child(&li).unwrap();
    }
    let read = || {
        let read = tailor::exchange::read_page(&root_opts(&c)).unwrap();
        let request = get(&read, "request").as_string().unwrap();
        let reading = get(&read, "reading").as_f64().unwrap() as u32;
        (
            reading,
            e.decide(&request, None),
            request.contains("\u{1e}g"),
        )
    };
    let ids = || woo_rows(&c).iter().map(|r| r.0).collect::<Vec<_>>();
    // Applied without its grid: the cards are read again by the next reading.
    let (reading, decisions, asked) = read();
    assert!(asked);
    tailor::exchange::apply_page(reading, &decisions, Some("s".into())).unwrap();
    // The theme replaces a card before the decisions come: nothing moves, nothing is marked.
    let (reading, decisions, asked) = read();
    assert!(asked, "read again");
    let ul = c.query_selector("ul").unwrap().unwrap();
    let first = ul.first_element_child().unwrap();
    ul.replace_child(&first.clone_node_with_deep(true).unwrap(), &first)
        .unwrap();
    let done = tailor::exchange::apply_page(reading, &decisions, None).unwrap();
    assert_eq!(get(&done, "moved").as_f64(), Some(0.0));
    assert_eq!(ids(), [6, 5, 1, 2]);
    assert!(attrs(&c, "li[data-tailor-placed]", "class").is_empty());
    // Held: nothing moves, and the next reading leaves the cards out.
    let (reading, decisions, asked) = read();
    assert!(asked, "read again");
    let done = tailor::exchange::apply_page(reading, &decisions, Some("k".into())).unwrap();
    assert_eq!(get(&done, "moved").as_f64(), Some(0.0));
    let (reading, decisions, asked) = read();
    assert!(!asked, "held cards are left out");
    tailor::exchange::apply_page(reading, &decisions, None).unwrap();
    assert_eq!(ids(), [6, 5, 1, 2]);
    assert_eq!(
        attrs(&c, "ul.products > li[data-tailor-placed]", "class").len(),
        4
    );
    c.remove();
}

/// Cards appended after the placed ones, or prepended before them, are placed alone; a new card
/// between placed ones means the theme rendered the grid again in place (a morph keeps the nodes of the products that stay),
/// and the whole grid is placed again. (A promo tile among the cards, which is no card, never
/// counts as new.)
#[wasm_bindgen_test]
fn a_grid_rendered_again_in_place_is_placed_again_whole() {
    let c = container(|doc, c| {
        let ul = child(doc, c, "ul", &[("class", "products columns-2")]);
        child(doc, &ul, "li", &[("class", "promo-tile")]);
        for id in [6, 5, 1, 2] {
            child(doc, &ul, "li", &[("class", &format!("product post-{id}"))]);
        }
    });
    let e = engine();
    // The grid ids each reading asks about, after applying the one before.
    let pass = || {
        let read = tailor::exchange::read_page(&root_opts(&c)).unwrap();
        let request = get(&read, "request").as_string().unwrap();
        let reading = get(&read, "reading").as_f64().unwrap() as u32;
        tailor::exchange::apply_page(reading, &e.decide(&request, None), None).unwrap();
        let grid = request
            .split('\u{1e}')
            .find_map(|r| r.strip_prefix("g\u{1f}"));
        grid.map(|g| {
            g.split('\u{1f}')
                .map(|n| n.parse().unwrap())
                .collect::<Vec<u64>>()
        })
    };
    let mut asked = pass().unwrap();
    asked.sort();
    assert_eq!(asked, [1, 2, 5, 6]);
    assert_eq!(pass(), None, "all placed");
    let ul = c.query_selector("ul.products").unwrap().unwrap();
    let card = |id: u64| {
        let li = document().create_element("li").unwrap();
        li.set_class_name(&format!("product post-{id}"));
        li
    };
    ul.append_child(&card(3)).unwrap();
    assert_eq!(pass(), Some(vec![3]), "only the appended card");
    // Prepended ("load previous"), before all of them: only the new card.
    let first = ul.first_element_child().unwrap();
    ul.insert_before(&card(7), Some(&first)).unwrap();
    assert_eq!(pass(), Some(vec![7]), "only the prepended card");
    // A new card between placed ones: the grid was rendered again; all of it is asked about.
    let last = ul.last_element_child().unwrap();
    ul.insert_before(&card(4), Some(&last)).unwrap();
    let mut asked = pass().unwrap();
    asked.sort();
    assert_eq!(asked, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(pass(), None, "all placed again");
    c.remove();
}

/// The product ids of the WooCommerce cards under `c`, in page order, each with whether it
/// carries the `first` and `last` row classes.
fn woo_rows(c: &Element) -> Vec<(u64, bool, bool)> {
    let cards = c.query_selector_all("ul.products > li").unwrap();
    (0..cards.length())
        .map(|i| {
            let li: Element = cards.item(i).unwrap().dyn_into().unwrap();
            let id = li
                .class_name()
                .split_whitespace()
                .find_map(|x| x.strip_prefix("post-").map(|n| n.parse().unwrap()))
                .unwrap();
            let cl = li.class_list();
            (id, cl.contains("first"), cl.contains("last"))
        })
        .collect()
}

/// The loader's passes (`readPage`, `decide`, `applyPage`) over a WooCommerce grid and a banner.
#[wasm_bindgen_test]
fn a_later_reading_leaves_what_an_earlier_one_placed_and_places_only_what_is_new() {
    let c = container(|doc, c| {
        let banner = child(doc, c, "div", &[("data-tailor-banner", "hero")]);
        child(
            doc,
            &banner,
            "section",
            &[("data-tailor-variant", "default")],
        );
        child(
            doc,
            &banner,
            "section",
            &[
                ("data-tailor-variant", "bags"),
                ("data-category", "Bags"),
                ("hidden", ""),
            ],
        );
        let ul = child(doc, c, "ul", &[("class", "products columns-2")]);
        for id in [6, 5, 1, 2] {
            child(doc, &ul, "li", &[("class", &format!("product post-{id}"))]);
        }
    });
    let mut e = engine();
    let pass = |e: &Engine| {
        let read = tailor::exchange::read_page(&root_opts(&c)).unwrap();
        let request = get(&read, "request").as_string().unwrap();
        let reading = get(&read, "reading").as_f64().unwrap() as u32;
        let done = tailor::exchange::apply_page(reading, &e.decide(&request, None), None).unwrap();
        (request, get(&done, "moved").as_f64().unwrap())
    };
    let shown = || {
        attrs(
            &c,
            "[data-tailor-variant]:not([hidden])",
            "data-tailor-variant",
        )
    };
    // The first pass orders the grid by popularity; the banner keeps its default.
    let (_, moved) = pass(&e);
    assert_eq!(moved, 4.0);
    let placed: Vec<Element> = {
        let l = c.query_selector_all("ul.products > li").unwrap();
        (0..l.length())
            .map(|i| l.item(i).unwrap().dyn_into().unwrap())
            .collect()
    };
    assert_eq!(
        woo_rows(&c),
        [
            (1, true, false),
            (2, false, true),
            (5, true, false),
            (6, false, true)
        ]
    );
    assert_eq!(shown(), ["default"]);
    // The shopper looks at bags: the engine would now put bags first and show the bags banner.
    for (n, item) in [(1, 5.0), (2, 6.0), (3, 4.0)] {
        let ev = event("product_view", n);
        set(&ev, "item", item);
        e.track(&ev).unwrap();
    }
    // A second pass (a cart change, a section reload) asks about neither, and moves nothing.
    let (request, moved) = pass(&e);
    assert_eq!(moved, 0.0);
    assert!(
        !request.contains("\u{1e}g") && !request.contains("\u{1e}n"),
        "{request:?}"
    );
    assert_eq!(
        woo_rows(&c).iter().map(|r| r.0).collect::<Vec<_>>(),
        [1, 2, 5, 6]
    );
    assert_eq!(shown(), ["default"]);
    // "Load more" appends two cards: only they are ordered, after the others, which stay.
    let ul = c.query_selector("ul.products").unwrap().unwrap();
    for id in [3, 4] {
        child(
            &document(),
            &ul,
            "li",
            &[("class", &format!("product post-{id}"))],
        );
    }
    let want: Vec<u64> = {
        let items = js_sys::Array::of2(&3.into(), &4.into());
        let opts = js_sys::Object::new();
        set(&opts, "items", items);
        js_sys::Array::from(&e.rank(&opts).unwrap())
            .iter()
            .map(|r| get(&r, "item").as_f64().unwrap() as u64)
            .collect()
    };
    assert_eq!(want, [4, 3], "a bag first: the pass has something to move");
    let (_, moved) = pass(&e);
    assert_eq!(moved, 2.0);
    assert_eq!(
        woo_rows(&c),
        [
            (1, true, false),
            (2, false, true),
            (5, true, false),
            (6, false, true),
            (4, true, false),
            (3, false, true)
        ]
    );
    let now = c.query_selector_all("ul.products > li").unwrap();
    for (k, card) in placed.iter().enumerate() {
        assert!(
            card.is_same_node(now.item(k as u32).as_ref()),
            "card {k} stayed"
        );
    }
    // The engine's own calls are not passes: `rankGrid` orders the whole grid again, and
    // `pickBanners` picks again.
    assert!(e.rank_grid(&root_opts(&c)).unwrap() > 0);
    assert!(matches!(woo_rows(&c)[0].0, 4..=6), "{:?}", woo_rows(&c));
    e.pick_banners(&root_opts(&c)).unwrap();
    assert_eq!(shown(), ["bags"]);
    c.remove();
}

#[wasm_bindgen_test]
fn woocommerce_cards_without_a_post_class_are_read_from_their_button() {
    // (Cards with the id only on the add-to-cart button, beside one with a `post-` class: the
    // grid is read in two bulk passes, the second for the cards the first left without an id.)
    let c = container(|doc, c| {
        let ul = doc.create_element("ul").unwrap();
        ul.set_class_name("products columns-4");
        for id in [6, 5, 1, 2] {
            let li = doc.create_element("li").unwrap();
            if id == 5 {
                li.set_class_name("product post-5");
            } else {
                li.set_class_name("product");
                let a = doc.create_element("a").unwrap();
                a.set_attribute("data-product_id", &format!(" {id} "))
                    .unwrap();
                li.append_child(&a).unwrap();
            }
            ul.append_child(&li).unwrap();
        }
        c.append_child(&ul).unwrap();
    });
    let moved = engine().rank_grid(&root_opts(&c)).unwrap();
    assert_eq!(moved, 4);
    let order: Vec<String> = (0..4)
        .map(|i| {
            let li: Element = c
                .query_selector_all("ul.products > li")
                .unwrap()
                .item(i)
                .unwrap()
                .dyn_into()
                .unwrap();
            match li.query_selector("[data-product_id]").unwrap() {
                Some(a) => a
                    .get_attribute("data-product_id")
                    .unwrap()
                    .trim()
                    .to_owned(),
                None => li.class_name(),
            }
        })
        .collect();
    assert_eq!(order[0], "1");
    assert_eq!(order[1], "2");
    assert!(order[2].contains("post-5"), "{order:?}");
    assert_eq!(order[3], "6");
    c.remove();
}

#[wasm_bindgen_test]
fn a_grid_whose_ids_hold_the_bulk_separator_is_left_alone() {
    let c = container(|doc, c| {
        let grid = child(doc, c, "div", &[("data-tailor-grid", "")]);
        for id in ["3", "1\u{1f}9", "2"] {
            child(doc, &grid, "article", &[("data-tailor-product", id)]);
        }
    });
    assert_eq!(engine().rank_grid(&root_opts(&c)).unwrap(), 0);
    let ids = attrs(&c, "[data-tailor-product]", "data-tailor-product");
    assert_eq!(ids, ["3", "1\u{1f}9", "2"]);
    c.remove();
}

#[wasm_bindgen_test]
fn generic_grids_use_data_attributes() {
    let c = container(|doc, c| {
        let grid = child(doc, c, "div", &[("data-tailor-grid", "")]);
        for id in ["3", "1", "2"] {
            child(doc, &grid, "article", &[("data-tailor-product", id)]);
        }
    });
    engine().rank_grid(&root_opts(&c)).unwrap();
    let ids = attrs(&c, "[data-tailor-product]", "data-tailor-product");
    assert_eq!(ids, ["1", "2", "3"]);
    c.remove();
}

/// A reorder moves only the cards that must move (one here), and a child that is not a card
/// (a promo tile) keeps its place among the cards that stay.
#[wasm_bindgen_test]
fn a_reorder_moves_as_few_cards_as_it_can() {
    let c = container(|doc, c| {
        let grid = child(doc, c, "div", &[("data-tailor-grid", "")]);
        for id in ["1", "2", "promo", "6", "3", "4", "5"] {
            let attr = if id == "promo" {
                "class"
            } else {
                "data-tailor-product"
            };
            child(doc, &grid, "article", &[(attr, id)]);
        }
    });
    let grid = c.query_selector("[data-tailor-grid]").unwrap().unwrap();
    let noop = Closure::<dyn FnMut()>::new(|| {});
    let observer = web_sys::MutationObserver::new(noop.as_ref().unchecked_ref()).unwrap();
    let init = web_sys::MutationObserverInit::new();
    init.set_child_list(true);
    observer.observe_with_options(&grid, &init).unwrap();
    // Popularity falls with the id, so the shopper's order is 1 2 3 4 5 6: only 6 moves.
    assert_eq!(engine().rank_grid(&root_opts(&c)).unwrap(), 4);
    // One move is two records: out of the grid and back in.
    assert_eq!(observer.take_records().length(), 2);
    observer.disconnect();
    let children: Vec<String> = {
        let kids = grid.children();
        (0..kids.length())
            .map(|i| {
                let e = kids.item(i).unwrap();
                e.get_attribute("data-tailor-product")
                    .unwrap_or_else(|| e.class_name())
            })
            .collect()
    };
    assert_eq!(children, ["1", "2", "promo", "3", "4", "5", "6"]);
    c.remove();
}

#[wasm_bindgen_test]
fn search_results_move_only_the_results_that_must_move() {
    let c = container(|doc, c| {
        let ul = doc.create_element("ul").unwrap();
        for name in ["p1", "article", "p2", "p3", "p4"] {
            let li = doc.create_element("li").unwrap();
            li.set_id(name);
            ul.append_child(&li).unwrap();
        }
        c.append_child(&ul).unwrap();
    });
    let ul = c.query_selector("ul").unwrap().unwrap();
    let children: Vec<Element> = {
        let kids = ul.children();
        (0..kids.length()).map(|i| kids.item(i).unwrap()).collect()
    };
    let found = tailor::search::Found {
        container: ul.clone(),
        children: children.clone(),
        products: vec![(0, 1), (2, 2), (3, 3), (4, 4)],
        list: ul.children().into(),
    };
    let noop = Closure::<dyn FnMut()>::new(|| {});
    let observer = web_sys::MutationObserver::new(noop.as_ref().unchecked_ref()).unwrap();
    let init = web_sys::MutationObserverInit::new();
    init.set_child_list(true);
    observer.observe_with_options(&ul, &init).unwrap();
    // The last two products swap places: one move (two records: out and back in), not five.
    assert_eq!(tailor::search::apply(&found, &[0, 1, 3, 2]).unwrap(), 2);
    assert_eq!(observer.take_records().length(), 2);
    observer.disconnect();
    let ids: Vec<String> = {
        let kids = ul.children();
        (0..kids.length())
            .map(|i| kids.item(i).unwrap().id())
            .collect()
    };
    assert_eq!(ids, ["p1", "article", "p2", "p4", "p3"]);
    // The same nodes.
    let kids = ul.children();
    assert!(kids.item(3).unwrap().is_same_node(Some(&children[4])));
    c.remove();
}

#[wasm_bindgen_test]
fn the_product_page_is_recognised() {
    let c = container(|doc, c| {
        child(doc, c, "product-info", &[("data-product-id", "4")]);
    });
    let opts = root_opts(&c);
    set(&opts, "path", "/products/p4");
    let page = engine().page(&opts).unwrap();
    assert_eq!(get(&page, "type").as_string().unwrap(), "product");
    assert_eq!(get(&page, "item").as_f64().unwrap(), 4.0);
    assert_eq!(get(&page, "adapter").as_string().unwrap(), "dawn");
    c.remove();
}

#[wasm_bindgen_test]
fn slots_render_text_and_safe_urls_and_never_twice() {
    let c = container(|doc, c| {
        child(
            doc,
            c,
            "div",
            &[
                ("data-tailor-slot", "similar"),
                ("data-tailor-n", "3"),
                ("data-tailor-title", "<b>More</b>"),
            ],
        );
        child(doc, c, "div", &[("data-tailor-slot", "not-a-placement")]);
    });
    let e = engine();
    let opts = root_opts(&c);
    set(&opts, "item", 1.0);
    let rendered = e.render_slots(&opts).unwrap();
    let rendered = js_sys::Array::from(&rendered);
    assert_eq!(rendered.length(), 1, "an unknown placement is left alone");
    let info = rendered.get(0);
    let items: Vec<f64> = js_sys::Array::from(&get(&info, "items"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    // Same category as item 1 first, never item 1 itself.
    assert_eq!(items, vec![2.0, 3.0, 4.0]);
    let slot = c
        .query_selector("[data-tailor-slot=similar]")
        .unwrap()
        .unwrap();
    // The result names the very element it filled.
    assert!(
        js_sys::Object::is(&get(&info, "element"), &slot),
        "renderSlots returns the slot element"
    );
    let title = slot
        .query_selector(".tailor-block__title")
        .unwrap()
        .unwrap();
    assert_eq!(title.text_content().unwrap(), "<b>More</b>");
    assert!(slot.query_selector("b").unwrap().is_none());
    let names = slot.query_selector_all(".tailor-block__name").unwrap();
    assert_eq!(
        names.item(0).unwrap().text_content().unwrap(),
        "<img src=x onerror=alert(1)>Mug"
    );
    assert!(slot.query_selector("[onerror]").unwrap().is_none());
    // Item 2's javascript: image and item 3's foreign image are left out.
    assert_eq!(slot.query_selector_all("img").unwrap().length(), 0);
    let link = slot.query_selector("a").unwrap().unwrap();
    assert_eq!(
        link.get_attribute("href").unwrap(),
        "https://shop.example/products/p2"
    );
    // Again: replaced, not added.
    e.render_slots(&opts).unwrap();
    assert_eq!(
        slot.query_selector_all(".tailor-block").unwrap().length(),
        1
    );
    c.remove();
}

#[wasm_bindgen_test]
fn every_item_of_a_block_has_its_own_values_whatever_its_shape() {
    // Items 1 and 5 have an allowed image, the others none: a block of two shapes of markup,
    // where no item may take another's values or parts.
    let c = with_slot(&[("data-tailor-slot", "trending"), ("data-tailor-n", "6")]);
    let e = engine();
    e.render_slots(&root_opts(&c)).unwrap();
    let items = c.query_selector_all(".tailor-block__item").unwrap();
    assert_eq!(items.length(), 6);
    let titles = [
        "Red mug",
        "<img src=x onerror=alert(1)>Mug",
        "Blue mug",
        "Tote",
        "Satchel",
        "Pouch",
    ];
    let mut ids = Vec::new();
    for k in 0..items.length() {
        let li: Element = items.item(k).unwrap().dyn_into().unwrap();
        let id: usize = li
            .get_attribute("data-tailor-item")
            .unwrap()
            .parse()
            .unwrap();
        ids.push(id);
        assert_eq!(
            li.get_attribute("data-tailor-position").unwrap(),
            k.to_string()
        );
        let part = |sel: &str| li.query_selector(sel).unwrap();
        let text = |sel: &str| part(sel).unwrap().text_content().unwrap();
        assert_eq!(text(".tailor-block__name"), titles[id - 1]);
        assert_eq!(text(".tailor-block__price"), format!("5.0{}", id - 1));
        assert!(!text(".tailor-block__reason").is_empty());
        let link = part("a.tailor-block__link").unwrap();
        assert_eq!(
            link.get_attribute("href").unwrap(),
            format!("https://shop.example/products/p{id}")
        );
        // The link holds the image (when there is one), the name and the price; the item the
        // link and the reason.
        let img = part("img");
        assert_eq!(img.is_some(), id == 1 || id == 5, "item {id}");
        if let Some(img) = img {
            assert!(img
                .get_attribute("src")
                .unwrap()
                .ends_with(&format!("/{id}.png")));
            assert_eq!(img.get_attribute("alt").unwrap(), titles[id - 1]);
            assert_eq!(img.get_attribute("loading").unwrap(), "lazy");
        }
        assert_eq!(
            link.child_element_count(),
            if id == 1 || id == 5 { 3 } else { 2 }
        );
        assert_eq!(li.child_element_count(), 2);
    }
    ids.sort_unstable();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6]);
    c.remove();
}

#[wasm_bindgen_test]
fn a_merchant_template_is_cloned_and_filled() {
    let c = container(|doc, c| {
        let slot = doc.create_element("div").unwrap();
        slot.set_attribute("data-tailor-slot", "trending").unwrap();
        slot.set_attribute("data-tailor-n", "2").unwrap();
        let t = doc.create_element("template").unwrap();
        t.set_inner_html(
            r#"<a data-tailor-field="link" class="mine"><img data-tailor-field="image"><span data-tailor-field="title"></span><em data-tailor-field="price"></em></a>"#,
        );
        slot.append_child(&t).unwrap();
        c.append_child(&slot).unwrap();
    });
    let e = engine();
    e.render_slots(&root_opts(&c)).unwrap();
    let items = c.query_selector_all("a.mine").unwrap();
    assert_eq!(items.length(), 2);
    let first: Element = items.item(0).unwrap().dyn_into().unwrap();
    assert_eq!(
        first.get_attribute("href").unwrap(),
        "https://shop.example/products/p1"
    );
    assert_eq!(
        first
            .query_selector("img")
            .unwrap()
            .unwrap()
            .get_attribute("src")
            .unwrap(),
        "https://shop.example/img/1.png"
    );
    assert_eq!(
        first
            .query_selector("[data-tailor-field=price]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "5.00"
    );
    c.remove();
}

#[wasm_bindgen_test]
fn banners_follow_the_profile_and_tracking_validates_events() {
    let c = container(|doc, c| {
        let banner = doc.create_element("div").unwrap();
        banner.set_attribute("data-tailor-banner", "hero").unwrap();
        for (name, category, hidden) in [("default", "", false), ("bags", "Bags", true)] {
            let v = doc.create_element("section").unwrap();
            v.set_attribute("data-tailor-variant", name).unwrap();
            if !category.is_empty() {
                v.set_attribute("data-category", category).unwrap();
            }
            if hidden {
                v.set_attribute("hidden", "").unwrap();
            }
            banner.append_child(&v).unwrap();
        }
        c.append_child(&banner).unwrap();
    });
    let mut e = engine();
    // A bad event is refused with its reason and changes nothing.
    let bad = event("product_view", 1);
    let err = e.track(&bad).err().unwrap();
    assert_eq!(code(&err), "INVALID_EVENT");
    for n in 2..5 {
        let view = event("product_view", n);
        set(&view, "item", 5.0);
        e.track(&view).unwrap();
    }
    let profile = e.profile(&JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&profile, "productViews").as_f64().unwrap(), 3.0);
    let picked = js_sys::Array::from(&e.pick_banners(&root_opts(&c)).unwrap());
    assert_eq!(get(&picked.get(0), "variant").as_string().unwrap(), "bags");
    let shown: Vec<bool> = {
        let l = c.query_selector_all("[data-tailor-variant]").unwrap();
        (0..l.length())
            .map(|i| {
                !l.item(i)
                    .unwrap()
                    .dyn_into::<Element>()
                    .unwrap()
                    .has_attribute("hidden")
            })
            .collect()
    };
    assert_eq!(shown, vec![false, true]);
    // The profile survives a round trip through storage.
    let stored = e.export_profile();
    let bytes = Snapshot::new(ModelKind::Hybrid, 1, Model::from_popularity(&[(5, 1.0)])).encode();
    let opts = js_sys::Object::new();
    set(
        &opts,
        "snapshot",
        js_sys::Uint8Array::from(bytes.as_slice()),
    );
    set(&opts, "profile", stored);
    let again = Engine::init(&opts).unwrap();
    let p = again.profile(&JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&p, "productViews").as_f64().unwrap(), 3.0);
    // A garbled stored profile starts fresh instead of failing.
    set(&opts, "profile", "garbage");
    let fresh = Engine::init(&opts).unwrap();
    let p = fresh.profile(&JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&p, "productViews").as_f64().unwrap(), 0.0);
    c.remove();
}

/// A Dawn search results page: product cards 6, 5, an article, 4 and 1 (theme order), and the
/// predictive-search list p6, p2, p1.
fn search_fixture() -> Element {
    container(|doc, c| {
        let ul = doc.create_element("ul").unwrap();
        ul.set_id("product-grid");
        // Theme (text relevance) order: 6, 5, an article, 4, 1. The catalog's popularity is
        // 1 > 4 > 5 > 6, and relevance still dominates: the gaps are small here, so the top
        // results may swap but the article keeps its place.
        for (k, id) in [Some(6), Some(5), None, Some(4), Some(1)]
            .iter()
            .enumerate()
        {
            let li = doc.create_element("li").unwrap();
            li.set_class_name("grid__item");
            let a = doc.create_element("a").unwrap();
            match id {
                Some(id) => a.set_id(&format!("CardLink-template--s__main-{id}")),
                None => a.set_id(&format!("article-{k}")),
            }
            li.append_child(&a).unwrap();
            ul.append_child(&li).unwrap();
        }
        c.append_child(&ul).unwrap();
        let ps = doc.create_element("ul").unwrap();
        ps.set_id("predictive-search-results-products-list");
        for h in ["p6", "p2", "p1"] {
            let li = doc.create_element("li").unwrap();
            let a = doc.create_element("a").unwrap();
            a.set_attribute("href", &format!("/products/{h}?_pos=1"))
                .unwrap();
            li.append_child(&a).unwrap();
            ps.append_child(&li).unwrap();
        }
        c.append_child(&ps).unwrap();
    })
}

#[wasm_bindgen_test]
fn search_results_rerank_products_around_articles_and_in_predictive_search() {
    let c = search_fixture();
    let e = engine();
    // The shopper arrowed down to the first predictive result, which gives way below.
    let first = c
        .query_selector("#predictive-search-results-products-list a")
        .unwrap()
        .unwrap();
    first
        .dyn_ref::<web_sys::HtmlElement>()
        .unwrap()
        .focus()
        .unwrap();
    let before: Vec<Element> = {
        let l = c.query_selector_all("#product-grid > li").unwrap();
        (0..l.length())
            .map(|i| l.item(i).unwrap().dyn_into().unwrap())
            .collect()
    };
    let moved = e.rerank_search_results(&root_opts(&c)).unwrap();
    assert!(moved > 0);
    let after: Vec<String> = {
        let l = c.query_selector_all("#product-grid > li > a").unwrap();
        (0..l.length())
            .map(|i| l.item(i).unwrap().dyn_into::<Element>().unwrap().id())
            .collect()
    };
    assert_eq!(
        after[2], "article-2",
        "the article stays in place: {after:?}"
    );
    let mut products: Vec<String> = after
        .iter()
        .filter(|x| x.starts_with("CardLink"))
        .cloned()
        .collect();
    assert_eq!(products.len(), 4);
    products.sort();
    assert_eq!(
        products,
        [
            "CardLink-template--s__main-1",
            "CardLink-template--s__main-4",
            "CardLink-template--s__main-5",
            "CardLink-template--s__main-6"
        ]
    );
    // The same nodes.
    let now: Vec<Element> = {
        let l = c.query_selector_all("#product-grid > li").unwrap();
        (0..l.length())
            .map(|i| l.item(i).unwrap().dyn_into().unwrap())
            .collect()
    };
    assert!(now
        .iter()
        .all(|n| before.iter().any(|b| b.is_same_node(Some(n)))));
    let predictive: Vec<String> = attrs(&c, "#predictive-search-results-products-list a", "href");
    assert_eq!(predictive.len(), 3);
    assert_ne!(
        predictive[0], "/products/p6?_pos=1",
        "the least popular first result gives way: {predictive:?}"
    );
    // It moved without leaving the document (moveBefore), so it kept the focus.
    let active = document().active_element().unwrap();
    assert!(active.is_same_node(Some(&first)));
    c.remove();
}

#[wasm_bindgen_test]
fn sorted_search_results_keep_their_order_but_predictive_results_do_not() {
    let c = search_fixture();
    let ids = |sel: &str, attr: &str| -> Vec<String> {
        let l = c.query_selector_all(sel).unwrap();
        (0..l.length())
            .map(|i| {
                let el = l.item(i).unwrap().dyn_into::<Element>().unwrap();
                el.get_attribute(attr).unwrap_or_default()
            })
            .collect()
    };
    let grid_before = ids("#product-grid > li > a", "id");
    let predictive_before = ids("#predictive-search-results-products-list a", "href");
    let opts = root_opts(&c);
    set(&opts, "search", "?q=mug&sort_by=price-ascending");
    let moved = engine().rerank_search_results(&opts).unwrap();
    assert_eq!(ids("#product-grid > li > a", "id"), grid_before);
    let predictive = ids("#predictive-search-results-products-list a", "href");
    assert_ne!(
        predictive, predictive_before,
        "predictive results are reranked"
    );
    assert!(moved > 0);
    c.remove();
}

#[wasm_bindgen_test]
fn card_numbers_in_search_queries_never_leave_the_page() {
    let mut e = engine();
    let ev = event("search", 77);
    set(&ev, "query", "gift 4111 1111 1111 1111 mug");
    let sent = e.track(&ev).unwrap();
    assert_eq!(
        get(&sent, "query").as_string().unwrap(),
        "gift [redacted] mug"
    );
}

#[wasm_bindgen_test]
fn rank_orders_a_list_the_caller_has_and_rejects_what_is_not_an_id() {
    let mut e = engine();
    // The shopper looks at bags: they lead, the list keeps its members.
    for (n, item) in [(1, 5.0), (2, 6.0), (3, 4.0)] {
        let ev = event("product_view", n);
        set(&ev, "item", item);
        e.track(&ev).unwrap();
    }
    let items = js_sys::Array::new();
    for id in [1.0, 2.0, 3.0] {
        items.push(&JsValue::from(id));
    }
    // `{ id }` objects and digit strings are ids too.
    let obj = js_sys::Object::new();
    set(&obj, "id", "4");
    items.push(&obj);
    items.push(&JsValue::from("5"));
    let opts = js_sys::Object::new();
    set(&opts, "items", items);
    let ranked = js_sys::Array::from(&e.rank(&opts).unwrap());
    let ids: Vec<f64> = ranked
        .iter()
        .map(|r| get(&r, "item").as_f64().unwrap())
        .collect();
    assert_eq!(ids.len(), 5);
    let mut sorted = ids.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(sorted, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
    assert!(
        ids[0] == 4.0 || ids[0] == 5.0,
        "a bag leads after viewing bags: {ids:?}"
    );
    assert!(get(&ranked.get(0), "text").as_string().is_some());

    let bad = js_sys::Array::new();
    bad.push(&JsValue::from("not-an-id"));
    let opts = js_sys::Object::new();
    set(&opts, "items", bad);
    assert_eq!(code(&e.rank(&opts).unwrap_err()), "INVALID_OPTIONS");
    let opts = js_sys::Object::new();
    set(&opts, "items", "1,2");
    assert_eq!(code(&e.rank(&opts).unwrap_err()), "INVALID_OPTIONS");
}

/// Attribute `name` of every element under `c` that matches `selector`, in page order.
fn attrs(c: &Element, selector: &str, name: &str) -> Vec<String> {
    let l = c.query_selector_all(selector).unwrap();
    (0..l.length())
        .map(|i| {
            l.item(i)
                .unwrap()
                .dyn_into::<Element>()
                .unwrap()
                .get_attribute(name)
                .unwrap()
        })
        .collect()
}

/// A predictive-search list of these product handles.
fn predictive(handles: &[&str]) -> Element {
    container(|doc, c| {
        let ps = doc.create_element("ul").unwrap();
        ps.set_id("predictive-search-results-products-list");
        for h in handles {
            let li = doc.create_element("li").unwrap();
            let a = doc.create_element("a").unwrap();
            a.set_attribute("href", &format!("/products/{h}")).unwrap();
            li.append_child(&a).unwrap();
            ps.append_child(&li).unwrap();
        }
        c.append_child(&ps).unwrap();
    })
}

#[wasm_bindgen_test]
fn predictive_results_the_snapshot_does_not_know_keep_their_place() {
    // p6 (the least popular), a product the store added after the snapshot, p1.
    let c = predictive(&["p6", "brand-new", "p1"]);
    let e = engine();
    e.rerank_search_results(&root_opts(&c)).unwrap();
    let after = attrs(&c, "#predictive-search-results-products-list a", "href");
    assert_eq!(after[1], "/products/brand-new", "{after:?}");
    assert_eq!(
        after,
        ["/products/p1", "/products/brand-new", "/products/p6"]
    );
    // With one known product there is nothing to rerank.
    let lone = predictive(&["new-a", "p6", "new-b"]);
    assert_eq!(e.rerank_search_results(&root_opts(&lone)).unwrap(), 0);
    c.remove();
    lone.remove();
}

#[wasm_bindgen_test]
fn an_empty_slot_title_means_no_heading_over_the_store_s_title() {
    let c = with_slot(&[("data-tailor-slot", "pdp"), ("data-tailor-title", "")]);
    // The store names a heading for the slot; the slot's empty title says: none.
    let e = engine_with(|model| {
        model
            .config
            .placements
            .push(tailor_core::config::PlacementConfig {
                name: "pdp".into(),
                placement: tailor_core::rank::Placement::Similar,
                n: 3,
                rules: Default::default(),
                title: Some("You may also like".into()),
            })
    });
    let opts = root_opts(&c);
    set(&opts, "item", 1.0);
    let read = tailor::exchange::read_page(&opts).unwrap();
    let decisions = e.decide(&get(&read, "request").as_string().unwrap(), None);
    let reading = get(&read, "reading").as_f64().unwrap() as u32;
    tailor::exchange::apply_page(reading, &decisions, None).unwrap();
    assert!(c.query_selector("[data-tailor-item]").unwrap().is_some());
    assert!(c.query_selector("h2").unwrap().is_none(), "no heading");
    c.remove();
}

#[wasm_bindgen_test]
fn product_metadata_that_names_no_usable_product_is_ignored() {
    let c = container(|doc, c| {
        child(doc, c, "product-info", &[("data-product-id", "3")]);
    });
    for bad in [JsValue::from(12.5), JsValue::from(-1.0), JsValue::from("x")] {
        let opts = root_opts(&c);
        set(&opts, "item", bad);
        let read = tailor::exchange::read_page(&opts).unwrap();
        assert_eq!(get(&get(&read, "page"), "item").as_f64(), Some(3.0));
    }
    c.remove();
}

#[wasm_bindgen_test]
fn read_page_without_options_reads_the_whole_document() {
    let c = container(|doc, c| {
        child(doc, c, "product-info", &[("data-product-id", "7")]);
    });
    // `readPage()` is typed with its options optional: none reads `document` with the defaults.
    for none in [JsValue::UNDEFINED, JsValue::NULL] {
        let read = tailor::exchange::read_page(&none).unwrap();
        assert_eq!(get(&get(&read, "page"), "item").as_f64(), Some(7.0));
        assert!(get(&read, "request").as_string().is_some());
    }
    // Options that are not an object are still refused.
    let err = tailor::exchange::read_page(&JsValue::from(5.0)).unwrap_err();
    assert_eq!(code(&err), "INVALID_OPTIONS");
    c.remove();
}

#[wasm_bindgen_test]
fn decisions_that_are_not_a_permutation_change_nothing_and_break_nothing() {
    let c = search_fixture();
    let e = engine();
    let read = tailor::exchange::read_page(&root_opts(&c)).unwrap();
    let reading = get(&read, "reading").as_f64().unwrap() as u32;
    let before = attrs(&c, "#predictive-search-results-products-list a", "href");
    // An index out of range, and an index twice, for the predictive list (the only list read:
    // the test page is not a search page).
    for text in ["s\u{1f}0\u{1f}1\u{1f}7", "s\u{1f}0\u{1f}0\u{1f}1"] {
        let done = tailor::exchange::apply_page(reading, text, None).unwrap();
        assert_eq!(get(&done, "moved").as_f64(), Some(0.0));
        assert_eq!(
            attrs(&c, "#predictive-search-results-products-list a", "href"),
            before
        );
    }
    // The reading still takes the engine's own decisions afterwards. (Read again, the page
    // would offer nothing: what a reading read stays where it is.)
    let decisions = e.decide(&get(&read, "request").as_string().unwrap(), None);
    let done = tailor::exchange::apply_page(reading, &decisions, None).unwrap();
    assert!(get(&done, "moved").as_f64().unwrap() > 0.0);
    let again = tailor::exchange::read_page(&root_opts(&c)).unwrap();
    let request = get(&again, "request").as_string().unwrap();
    assert!(!request.contains("\u{1e}s"), "{request:?}");
    c.remove();
}

#[wasm_bindgen_test]
fn check_event_validates_and_redacts_without_an_engine() {
    // What a page whose engine runs in its worker does to each event it tracks.
    let bad = event("product_view", 1);
    assert_eq!(
        code(&tailor::check_event(&bad).err().unwrap()),
        "INVALID_EVENT"
    );
    let search = event("search", 2);
    set(&search, "query", "mugs for 4111 1111 1111 1111");
    let sent = tailor::check_event(&search).unwrap();
    let query = get(&sent, "query").as_string().unwrap();
    assert!(query.starts_with("mugs for "), "{query}");
    assert!(
        !query.contains("4111"),
        "the card number is redacted: {query}"
    );
    // A valid event comes back as it was.
    let view = event("product_view", 3);
    set(&view, "item", 5.0);
    assert_eq!(
        get(&tailor::check_event(&view).unwrap(), "item").as_f64(),
        Some(5.0)
    );
}

#[wasm_bindgen_test]
fn the_queue_sends_in_batches_and_keeps_what_is_not_answered() {
    let mut q = tailor::Queue::new();
    let now = 1_764_000_000_000.0;
    for n in 1..=3 {
        let view = event("page_view", n);
        set(&view, "page", "home");
        let json = js_sys::JSON::stringify(&view).unwrap().as_string().unwrap();
        assert!(q.enqueue(json, now));
    }
    assert_eq!(q.queued(), 3);
    let batch = q.next_batch(now, true).unwrap();
    let sent = js_sys::Array::from(&js_sys::JSON::parse(&batch).unwrap());
    assert_eq!(sent.length(), 3);
    // A batch in flight: nothing more goes until it is answered.
    assert!(q.next_batch(now, true).is_none());
    // A server error keeps the events, and the queue backs off.
    q.answered(503, None, now, 0.5);
    assert_eq!(q.queued(), 3);
    assert!(q.retry_at() > now);
    // What it stores comes back whole on the next page.
    let mut next = tailor::Queue::new();
    next.restore_queue(&q.stored_queue());
    assert_eq!(next.queued(), 3);
    let batch = next.next_batch(now, true).unwrap();
    next.answered(200, None, now, 0.5);
    assert_eq!(next.queued(), 0);
    assert!(batch.contains("00000000-0000-4000-8000-000000000003"));
    q.forget();
    assert_eq!(q.queued(), 0);
}

/// After a forget the device has a new random id, and the engine's experiments follow it: the
/// events tracked from then on carry it, and a report leaves out a shopper whose logged arm is
/// not the one their id assigns.
#[wasm_bindgen_test]
fn after_a_forget_the_experiments_assign_by_the_new_shopper_id() {
    use tailor_core::experiments::{assign, Experiment, ExperimentConfig};
    let cfg = ExperimentConfig {
        holdout_share: 0.0,
        experiments: vec![Experiment {
            id: "grid-1".into(),
            placement: "grid".into(),
            treatment_share: 0.5,
            start: None,
            end: None,
        }],
    };
    let mut e = engine_with(|m| m.config.experiments = cfg.clone());
    let arm = |e: &Engine| {
        let opts = js_sys::Object::new();
        set(&opts, "placement", "grid");
        get(&e.assignment(&opts).unwrap(), "arm")
            .as_string()
            .unwrap()
    };
    let old = assign(&cfg, "e2e-shopper-2", "grid", 0).arm;
    assert_eq!(arm(&e), old.name());
    // A new id that the experiment puts in the other arm.
    let new = (0..100)
        .map(|i| format!("new-shopper-{i}"))
        .find(|s| assign(&cfg, s, "grid", 0).arm != old)
        .unwrap();
    e.forget(Some(new.clone()));
    assert_eq!(arm(&e), assign(&cfg, &new, "grid", 0).arm.name());
    // Without one, the id stays.
    e.forget(None);
    assert_eq!(arm(&e), assign(&cfg, &new, "grid", 0).arm.name());
}

/// `assignment` names a block's placement as `recommend` does (`for-you`, `fbt`), so an
/// exposure built from it reports the arm the shopper's block was given, and not `default`.
#[wasm_bindgen_test]
fn assignment_reads_a_block_placement_as_recommend_does() {
    use tailor_core::experiments::{assign, Experiment, ExperimentConfig};
    let cfg = ExperimentConfig {
        holdout_share: 0.0,
        experiments: ["for_you", "frequently_bought_together"]
            .iter()
            .map(|p| Experiment {
                id: format!("{p}-1"),
                placement: (*p).into(),
                treatment_share: 0.5,
                start: None,
                end: None,
            })
            .collect(),
    };
    let e = engine_with(|m| m.config.experiments = cfg.clone());
    let of = |placement: &str| {
        let opts = js_sys::Object::new();
        set(&opts, "placement", placement);
        let a = e.assignment(&opts).unwrap();
        (
            get(&a, "arm").as_string().unwrap(),
            get(&a, "experiment").as_string(),
        )
    };
    for (asked, configured) in [
        ("for-you", "for_you"),
        ("for_you", "for_you"),
        ("FOR-YOU", "for_you"),
        ("fbt", "frequently_bought_together"),
        ("frequently-bought-together", "frequently_bought_together"),
    ] {
        let want = assign(&cfg, "e2e-shopper-2", configured, 0);
        assert_ne!(want.arm.name(), "default");
        assert_eq!(
            of(asked),
            (want.arm.name().to_owned(), Some(format!("{configured}-1"))),
            "{asked}"
        );
    }
    // A name that is no block's stays as it is: the grid, a banner, one we do not know.
    assert_eq!(of("grid").0, "default");
    assert_eq!(of("banner:for-you").0, "default");
}
