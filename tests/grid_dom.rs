//! The Dawn grid adapter in a real headless Chromium (wasm-bindgen-test).
//!
//! Each test appends its own fixture into a fresh container (never replacing `document.body`,
//! which the test runner uses to report results) and removes it afterwards.
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

/// A Dawn-shaped grid with one card per id, in the given order, inside a new container.
fn dawn_fixture(ids: &[u64]) -> Element {
    let doc = document();
    let container = doc.create_element("div").unwrap();
    let ul = doc.create_element("ul").unwrap();
    ul.set_id("product-grid");
    ul.set_class_name("grid product-grid");
    for id in ids {
        let li = doc.create_element("li").unwrap();
        li.set_class_name("grid__item");
        let a = doc.create_element("a").unwrap();
        a.set_id(&format!("CardLink-template--1__product-grid-{id}"));
        a.set_attribute("href", &format!("/products/p{id}"))
            .unwrap();
        a.set_text_content(Some(&format!("Product {id}")));
        li.append_child(&a).unwrap();
        ul.append_child(&li).unwrap();
    }
    container.append_child(&ul).unwrap();
    doc.body().unwrap().append_child(&container).unwrap();
    container
}

fn card_ids(container: &Element) -> Vec<u64> {
    let cards = container.query_selector_all("#product-grid > li").unwrap();
    (0..cards.length())
        .map(|i| {
            let li: Element = cards.item(i).unwrap().dyn_into().unwrap();
            let a = li.query_selector("a").unwrap().unwrap();
            a.id().rsplit('-').next().unwrap().parse().unwrap()
        })
        .collect()
}

fn cards(container: &Element) -> Vec<Element> {
    let list = container.query_selector_all("#product-grid > li").unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().dyn_into().unwrap())
        .collect()
}

fn engine(scores: &[(u64, u8)]) -> Engine {
    // Popularity quantization is monotonic, so these weights keep their order and ties.
    let weights: Vec<(u64, f64)> = scores.iter().map(|&(id, s)| (id, s as f64)).collect();
    let model = Model::from_popularity(&weights);
    let snap = Snapshot::new(ModelKind::Hybrid, 1, model);
    let opts = js_sys::Object::new();
    let bytes = js_sys::Uint8Array::from(snap.encode().as_slice());
    js_sys::Reflect::set(&opts, &"snapshot".into(), &bytes).unwrap();
    Engine::init(&opts).unwrap()
}

fn root_opts(root: &Element) -> JsValue {
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &"root".into(), root).unwrap();
    opts.into()
}

#[wasm_bindgen_test]
fn reorders_by_score_moving_the_same_nodes() {
    let container = dawn_fixture(&[11, 22, 33, 44]);
    let before = cards(&container);
    // A listener attached by "the theme" must survive the reorder.
    let clicks = std::rc::Rc::new(std::cell::Cell::new(0));
    let c = clicks.clone();
    let handler = Closure::<dyn FnMut()>::new(move || c.set(c.get() + 1));
    before[2]
        .add_event_listener_with_callback("click", handler.as_ref().unchecked_ref())
        .unwrap();

    let moved = engine(&[(11, 10), (22, 50), (33, 200), (44, 50)])
        .rank_grid(&root_opts(&container))
        .unwrap();

    assert_eq!(card_ids(&container), vec![33, 22, 44, 11]);
    // 22 keeps index 1; the other three change place.
    assert_eq!(moved, 3);
    let after = cards(&container);
    assert!(after[0].is_same_node(Some(&before[2])));
    assert!(after[1].is_same_node(Some(&before[1])));
    assert!(after[2].is_same_node(Some(&before[3])));
    assert!(after[3].is_same_node(Some(&before[0])));
    after[0].dyn_ref::<web_sys::HtmlElement>().unwrap().click();
    assert_eq!(clicks.get(), 1);
    container.remove();
}

/// `document.activeElement` is the link of the card with index `k` of the `before` order.
fn focused(before: &[Element], k: usize) -> bool {
    let link = before[k].query_selector("a").unwrap().unwrap();
    document()
        .active_element()
        .is_some_and(|a| a.is_same_node(Some(&link)))
}

#[wasm_bindgen_test]
fn a_moved_card_keeps_its_state_such_as_focus() {
    let container = dawn_fixture(&[11, 22, 33, 44]);
    let before = cards(&container);
    // The shopper tabbed to the third card, which the ranking puts first.
    let link = before[2].query_selector("a").unwrap().unwrap();
    link.dyn_ref::<web_sys::HtmlElement>()
        .unwrap()
        .focus()
        .unwrap();
    assert!(focused(&before, 2));
    engine(&[(11, 10), (22, 50), (33, 200), (44, 50)])
        .rank_grid(&root_opts(&container))
        .unwrap();
    assert_eq!(card_ids(&container), vec![33, 22, 44, 11]);
    // moveBefore: the card never left the document, so it kept the focus.
    assert!(focused(&before, 2));
    container.remove();
}

#[wasm_bindgen_test]
fn without_move_before_the_cards_are_moved_by_insert_before() {
    let proto = js_sys::Reflect::get(&js_sys::global(), &"Element".into()).unwrap();
    let proto = js_sys::Reflect::get(&proto, &"prototype".into()).unwrap();
    let native = js_sys::Reflect::get(&proto, &"moveBefore".into()).unwrap();
    assert!(native.is_function(), "this Chromium has moveBefore");
    // A browser from before moveBefore.
    js_sys::Reflect::delete_property(
        proto.unchecked_ref::<js_sys::Object>(),
        &"moveBefore".into(),
    )
    .unwrap();
    let container = dawn_fixture(&[11, 22, 33, 44]);
    let before = cards(&container);
    before[2]
        .query_selector("a")
        .unwrap()
        .unwrap()
        .dyn_ref::<web_sys::HtmlElement>()
        .unwrap()
        .focus()
        .unwrap();
    let moved =
        engine(&[(11, 10), (22, 50), (33, 200), (44, 50)]).rank_grid(&root_opts(&container));
    js_sys::Reflect::set(&proto, &"moveBefore".into(), &native).unwrap();
    assert_eq!(moved.unwrap(), 3);
    assert_eq!(card_ids(&container), vec![33, 22, 44, 11]);
    let after = cards(&container);
    assert!(after[0].is_same_node(Some(&before[2])));
    // insertBefore took the card out of the document and back: the focus did not survive.
    assert!(!focused(&before, 2));
    container.remove();
}

#[wasm_bindgen_test]
fn a_grid_sorted_by_price_name_date_or_rating_keeps_its_order() {
    let container = dawn_fixture(&[11, 22, 33, 44]);
    let before = cards(&container);
    let e = engine(&[(11, 10), (22, 50), (33, 200), (44, 50)]);
    let with_search = |search: &str| {
        let opts = root_opts(&container);
        js_sys::Reflect::set(&opts, &"search".into(), &search.into()).unwrap();
        opts
    };
    // Sorted by price (Shopify) or by rating (WooCommerce): nothing moves.
    for search in ["?sort_by=price-ascending", "?orderby=rating"] {
        assert_eq!(e.rank_grid(&with_search(search)).unwrap(), 0, "{search}");
        assert_eq!(card_ids(&container), vec![11, 22, 33, 44]);
    }
    // The same from the page's own URL, the default.
    let window = web_sys::window().unwrap();
    let url = window.location().href().unwrap();
    let history = js_sys::Reflect::get(&window, &"history".into()).unwrap();
    let replace: js_sys::Function = js_sys::Reflect::get(&history, &"replaceState".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let go = |to: &str| {
        replace
            .call3(&history, &JsValue::NULL, &"".into(), &to.into())
            .unwrap();
    };
    go("?sort_by=title-descending");
    let moved = e.rank_grid(&root_opts(&container));
    go(&url);
    assert_eq!(moved.unwrap(), 0);
    assert_eq!(card_ids(&container), vec![11, 22, 33, 44]);
    // The store's own order (a filter keeps `sort_by=manual` in the URL) is personalized.
    assert_eq!(e.rank_grid(&with_search("?sort_by=manual")).unwrap(), 3);
    assert_eq!(card_ids(&container), vec![33, 22, 44, 11]);
    assert!(cards(&container)[0].is_same_node(Some(&before[2])));
    container.remove();
}

#[wasm_bindgen_test]
fn a_grid_whose_sort_control_shows_a_sort_by_date_keeps_its_order() {
    // No order in the URL: Dawn's sort control shows the store's default sort.
    let container = dawn_fixture(&[11, 22, 33, 44]);
    let doc = document();
    let select = doc.create_element("select").unwrap();
    select.set_attribute("name", "sort_by").unwrap();
    for v in ["manual", "created-descending"] {
        let option = doc.create_element("option").unwrap();
        option.set_attribute("value", v).unwrap();
        select.append_child(&option).unwrap();
    }
    container.append_child(&select).unwrap();
    let show = |v: &str| js_sys::Reflect::set(&select, &"value".into(), &v.into()).unwrap();
    let opts = root_opts(&container);
    js_sys::Reflect::set(&opts, &"search".into(), &"?page=2".into()).unwrap();
    let e = engine(&[(11, 10), (22, 50), (33, 200), (44, 50)]);
    show("created-descending");
    assert_eq!(e.rank_grid(&opts).unwrap(), 0);
    assert_eq!(card_ids(&container), vec![11, 22, 33, 44]);
    show("manual");
    assert_eq!(e.rank_grid(&opts).unwrap(), 3);
    assert_eq!(card_ids(&container), vec![33, 22, 44, 11]);
    container.remove();
}

#[wasm_bindgen_test]
fn leaves_an_ordered_grid_untouched() {
    let container = dawn_fixture(&[1, 2, 3]);
    let moved = engine(&[(1, 9), (2, 5), (3, 1)])
        .rank_grid(&root_opts(&container))
        .unwrap();
    assert_eq!(moved, 0);
    assert_eq!(card_ids(&container), vec![1, 2, 3]);
    container.remove();
}

#[wasm_bindgen_test]
fn unrecognised_markup_is_left_alone() {
    let doc = document();
    let container = doc.create_element("div").unwrap();
    let ul = doc.create_element("ul").unwrap();
    ul.set_class_name("products");
    for _ in 0..3 {
        let li = doc.create_element("li").unwrap();
        li.set_text_content(Some("x"));
        ul.append_child(&li).unwrap();
    }
    container.append_child(&ul).unwrap();
    doc.body().unwrap().append_child(&container).unwrap();
    let moved = engine(&[(1, 9)]).rank_grid(&root_opts(&container)).unwrap();
    assert_eq!(moved, 0);
    container.remove();
}

#[wasm_bindgen_test]
fn a_card_without_an_id_leaves_the_grid_alone() {
    let container = dawn_fixture(&[5, 6]);
    let stray = cards(&container)[0].query_selector("a").unwrap().unwrap();
    stray.set_id("something-else");
    let moved = engine(&[(5, 1), (6, 200)])
        .rank_grid(&root_opts(&container))
        .unwrap();
    assert_eq!(moved, 0);
    container.remove();
}

fn error_code(err: &JsValue) -> String {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "not an Error: {err:?}"
    );
    js_sys::Reflect::get(err, &"code".into())
        .unwrap()
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
fn corrupt_snapshots_throw_typed_errors() {
    let good = Snapshot::new(ModelKind::Hybrid, 1, Model::from_popularity(&[(1, 2.0)])).encode();
    let mut corrupt = good.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xFF;
    for (bytes, code) in [
        (corrupt, "SNAPSHOT_CHECKSUM"),
        (good[..10].to_vec(), "SNAPSHOT_TRUNCATED"),
        (
            b"GIF89a-not-a-snapshot-at-all".to_vec(),
            "SNAPSHOT_BAD_MAGIC",
        ),
    ] {
        let opts = js_sys::Object::new();
        js_sys::Reflect::set(
            &opts,
            &"snapshot".into(),
            &js_sys::Uint8Array::from(bytes.as_slice()),
        )
        .unwrap();
        let err = Engine::init(&opts).err().expect("init must fail");
        assert_eq!(error_code(&err), code);
    }
}

#[wasm_bindgen_test]
fn bad_options_throw_typed_errors() {
    let err = Engine::init(&JsValue::from_str("nope")).err().unwrap();
    assert_eq!(error_code(&err), "INVALID_OPTIONS");
    let err = Engine::init(&js_sys::Object::new()).err().unwrap();
    assert_eq!(error_code(&err), "INVALID_OPTIONS");
    let e = engine(&[]);
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &"root".into(), &JsValue::from_f64(3.0)).unwrap();
    assert_eq!(
        error_code(&e.rank_grid(&opts).err().unwrap()),
        "INVALID_OPTIONS"
    );
    // A query string that is not a string.
    let container = dawn_fixture(&[1, 2]);
    let opts = root_opts(&container);
    js_sys::Reflect::set(&opts, &"search".into(), &JsValue::from_f64(1.0)).unwrap();
    for err in [e.rank_grid(&opts), e.rerank_search_results(&opts)] {
        assert_eq!(error_code(&err.err().unwrap()), "INVALID_OPTIONS");
    }
    container.remove();
}

/// The golden fixture shared by every test layer (`tests/fixtures/snapshot-v4-small.json`
/// documents its content and the grid order below).
#[wasm_bindgen_test]
fn golden_snapshot_ranks_the_documented_grid() {
    let bytes = include_bytes!("fixtures/snapshot-v4-small.bin");
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(
        &opts,
        &"snapshot".into(),
        &js_sys::Uint8Array::from(&bytes[..]),
    )
    .unwrap();
    let engine = Engine::init(&opts).unwrap();
    assert_eq!(engine.item_count(), 5);
    let container = dawn_fixture(&[101, 102, 103, 200, 7_400_000_000_001, 999]);
    engine.rank_grid(&root_opts(&container)).unwrap();
    assert_eq!(
        card_ids(&container),
        vec![102, 7_400_000_000_001, 103, 101, 200, 999]
    );
    container.remove();
}

fn get(o: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(o, &key.into()).unwrap()
}

/// The loader's steps, as JavaScript makes them: `readPage`, `engine.decide`, `applyPage`.
#[wasm_bindgen_test]
fn read_decide_apply_reorders_the_grid_in_steps() {
    let container = dawn_fixture(&[11, 22, 33]);
    let before = cards(&container);
    let e = engine(&[(11, 10), (22, 50), (33, 200)]);
    let read = tailor::exchange::read_page(&root_opts(&container)).unwrap();
    assert_eq!(
        get(&get(&read, "page"), "adapter").as_string().unwrap(),
        "url"
    );
    let decisions = e.decide(&get(&read, "request").as_string().unwrap(), None);
    let reading = get(&read, "reading").as_f64().unwrap() as u32;
    // Applying only the slots and banners leaves the grid as it was.
    tailor::exchange::apply_page(reading, &decisions, Some("sb".to_owned())).unwrap();
    assert_eq!(card_ids(&container), vec![11, 22, 33]);
    let done = tailor::exchange::apply_page(reading, &decisions, Some("g".to_owned())).unwrap();
    assert_eq!(get(&done, "moved").as_f64(), Some(2.0));
    assert_eq!(card_ids(&container), vec![33, 22, 11]);
    // The same nodes, moved.
    let after = cards(&container);
    assert!(after[0] == before[2] && after[2] == before[0]);
    // The arms come with the decisions, for exposure events.
    let arm = get(&get(&done, "arms"), "grid");
    assert!(get(&arm, "arm").as_string().is_some());
    container.remove();
}

#[wasm_bindgen_test]
fn a_page_that_refuses_the_moves_gets_a_dom_error_and_keeps_its_order() {
    let global = js_sys::global();
    let proto_of = |class: &str| {
        let c = js_sys::Reflect::get(&global, &class.into()).unwrap();
        js_sys::Reflect::get(&c, &"prototype".into()).unwrap()
    };
    let (element, node) = (proto_of("Element"), proto_of("Node"));
    let move_before = js_sys::Reflect::get(&element, &"moveBefore".into()).unwrap();
    let insert_before = js_sys::Reflect::get(&node, &"insertBefore".into()).unwrap();
    // Both ways of moving a card throw (as a page whose script patched them might).
    let refuse = Closure::<dyn Fn() -> Result<(), JsValue>>::new(|| {
        Err(js_sys::Error::new("refused").into())
    });
    for (proto, name) in [(&element, "moveBefore"), (&node, "insertBefore")] {
        js_sys::Reflect::set(proto, &name.into(), refuse.as_ref()).unwrap();
    }
    let container = dawn_fixture(&[11, 22, 33, 44]);
    let e = engine(&[(11, 10), (22, 50), (33, 200), (44, 50)]);
    let refused = e.rank_grid(&root_opts(&container));
    js_sys::Reflect::set(&element, &"moveBefore".into(), &move_before).unwrap();
    js_sys::Reflect::set(&node, &"insertBefore".into(), &insert_before).unwrap();
    let err = refused.expect_err("a refused move is an error");
    assert_eq!(get(&err, "code").as_string().as_deref(), Some("DOM"));
    assert_eq!(
        get(&err, "message").as_string().as_deref(),
        Some("insertBefore: refused")
    );
    assert_eq!(card_ids(&container), vec![11, 22, 33, 44]);
    // The engine and the page are fine afterwards.
    assert_eq!(e.rank_grid(&root_opts(&container)).unwrap(), 3);
    assert_eq!(card_ids(&container), vec![33, 22, 44, 11]);
    container.remove();
}

#[wasm_bindgen_test]
fn a_grid_the_theme_replaced_before_the_decisions_came_is_left_alone() {
    let e = engine(&[(11, 10), (22, 50), (33, 200)]);
    // Three re-renders while the engine decides: the cards replaced in the same list, the list
    // replaced, and the section around the list replaced.
    for how in ["cards", "list", "section"] {
        let outer = document().create_element("section").unwrap();
        let container = dawn_fixture(&[11, 22, 33]);
        outer.append_child(&container).unwrap();
        document().body().unwrap().append_child(&outer).unwrap();
        let read = tailor::exchange::read_page(&root_opts(&container)).unwrap();
        let decisions = e.decide(&get(&read, "request").as_string().unwrap(), None);
        let ul = container.query_selector("ul").unwrap().unwrap();
        let old_cards = cards(&container);
        match how {
            "cards" => {
                for card in &old_cards {
                    let fresh = card.clone_node_with_deep(true).unwrap();
                    ul.replace_child(&fresh, card).unwrap();
                }
            }
            "list" => ul.remove(),
            _ => outer.remove(),
        }
        let reading = get(&read, "reading").as_f64().unwrap() as u32;
        let done = tailor::exchange::apply_page(reading, &decisions, None).unwrap();
        assert_eq!(get(&done, "moved").as_f64(), Some(0.0), "{how}");
        if how == "cards" {
            assert_eq!(
                card_ids(&container),
                vec![11, 22, 33],
                "the new cards wait for their own reading"
            );
        }
        outer.remove();
    }
    // A reading that is no longer kept changes nothing either.
    let container = dawn_fixture(&[11, 22, 33]);
    let read = tailor::exchange::read_page(&root_opts(&container)).unwrap();
    let decisions = e.decide(&get(&read, "request").as_string().unwrap(), None);
    let done = tailor::exchange::apply_page(u32::MAX, &decisions, None).unwrap();
    assert_eq!(get(&done, "moved").as_f64(), Some(0.0));
    assert_eq!(card_ids(&container), vec![11, 22, 33]);
    container.remove();
}
