//! The grid adapter: finds a product grid in theme markup and applies a new order by moving
//! the existing nodes.
//!
//! Recognised markup, tried in this order:
//! - **Generic**: `[data-tailor-grid] > [data-tailor-product="<id>"]`, for any theme.
//! - **Shopify Dawn and relatives**: `ul#product-grid > li.grid__item`, with the product id in
//!   the id of the card link, `CardLink-<section>-<product id>`.
//! - **WooCommerce**: `ul.products > li.product`, with the id in a `post-<id>` class or the
//!   `data-product_id` of the add-to-cart button; after a reorder the `first`/`last` row classes
//!   are fixed for the grid's `columns-N`.

use crate::dom::{attrs, elements, move_node, query, query_list};
use crate::error::{dom, get_option, TailorError};
use wasm_bindgen::prelude::*;
use web_sys::{Element, Node};

/// A grid found on the page: the container, its product cards and their ids, in page order.
pub struct FoundGrid {
    /// The element whose children are the cards.
    pub container: Element,
    /// The cards, in their current order.
    pub cards: Vec<Element>,
    /// The product id of each card, parallel to `cards`.
    pub ids: Vec<u64>,
    /// Which adapter recognised it: `generic`, `dawn` or `woocommerce`.
    pub adapter: &'static str,
    /// The cards as the browser listed them (to mark them once placed, [`mark`]).
    pub list: JsValue,
}

/// The attribute on a card, a search result or a banner that a pass over the page
/// (`applyPage`) has placed, or decided to leave as the shopper saw it. A later pass (after a
/// cart change, a section reloaded, a single-page navigation, cards appended by "load more")
/// leaves it where it is, since the shopper may have seen it, and places only what is new: a
/// grid never reshuffles under the shopper's eyes. Markup the theme renders afresh does not
/// carry it, and is placed again.
pub const PLACED: &str = "data-tailor-placed";

/// Mark every element of `list` (a `NodeList`) as placed: one call (src/bulk.js). (A page
/// that refuses it leaves them unmarked: they are placed again by the next pass.)
pub fn mark(list: &JsValue) {
    let _ = attrs(list, "", PLACED, Some(""));
}

/// The element or document to search under: `opts.root`, or `document` when absent.
pub fn root_from_options(opts: &JsValue) -> Result<Node, TailorError> {
    let root = if opts.is_undefined() || opts.is_null() {
        JsValue::UNDEFINED
    } else {
        get_option(opts, "root")?
    };
    if root.is_undefined() || root.is_null() {
        let doc = crate::dom::document()
            .ok_or_else(|| TailorError::new("NO_DOCUMENT", "no document to work on".to_owned()))?;
        return Ok(doc.into());
    }
    root.dyn_into::<Node>().map_err(|_| {
        TailorError::new(
            "INVALID_OPTIONS",
            "`root` must be an Element or a Document".to_owned(),
        )
    })
}

/// A Dawn card's link, whose element id ends in the product id.
pub const CARD_LINK: &str = "[id^=\"CardLink-\"]";

/// Parse the product id out of a `CardLink-<section>-<id>` element id.
pub fn parse_card_link_id(id: &str) -> Option<u64> {
    let rest = id.strip_prefix("CardLink-")?;
    let (_, num) = rest.rsplit_once('-')?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse().ok()
}

fn trimmed_id(v: &str) -> Option<u64> {
    v.trim().parse().ok()
}

/// A WooCommerce card's `post-<id>` class.
fn woo_class_id(class: &str) -> Option<u64> {
    class
        .split_whitespace()
        .find_map(|c| c.strip_prefix("post-").and_then(|n| n.parse().ok()))
}

/// Where a card's product id is: `attr` of the card's first `inner` (the card itself when
/// empty), parsed by the function; the next place is read for the cards the first left
/// without one.
type Places = &'static [(&'static str, &'static str, fn(&str) -> Option<u64>)];

/// The adapters: name, container selector, which of its children are cards (one query, so no
/// card's class list is read one by one; then those of them no earlier pass placed, without
/// [`PLACED`]; then such a card between placed ones), and where a card's product id is (read for the whole grid at once,
/// src/bulk.js: not two or three calls a card).
const ADAPTERS: &[(&str, &str, [&str; 3], Places)] = &[
    (
        "generic",
        "[data-tailor-grid]",
        [
            ":scope > [data-tailor-product]",
            ":scope > [data-tailor-product]:not([data-tailor-placed])",
            ":scope > [data-tailor-placed] ~ [data-tailor-product]:not([data-tailor-placed]) ~ [data-tailor-placed]",
        ],
        &[("", "data-tailor-product", trimmed_id)],
    ),
    (
        "dawn",
        "ul#product-grid",
        [
            ":scope > .grid__item",
            ":scope > .grid__item:not([data-tailor-placed])",
            ":scope > [data-tailor-placed] ~ .grid__item:not([data-tailor-placed]) ~ [data-tailor-placed]",
        ],
        &[(CARD_LINK, "id", parse_card_link_id)],
    ),
    (
        "woocommerce",
        "ul.products",
        [
            ":scope > .product",
            ":scope > .product:not([data-tailor-placed])",
            ":scope > [data-tailor-placed] ~ .product:not([data-tailor-placed]) ~ [data-tailor-placed]",
        ],
        &[
            ("", "class", woo_class_id),
            ("[data-product_id]", "data-product_id", trimmed_id),
        ],
    ),
];

/// Find a product grid under `root` with the first adapter that recognises one. Returns `None`
/// when there is no grid, or when any card lacks a product id (a grid we do not fully
/// understand is left alone). With `keep`, its cards are those no earlier pass placed
/// ([`PLACED`]), when none of them is between placed ones (cards appended, or prepended):
/// `None` when there is none.
pub fn find_grid(root: &Node, keep: bool) -> Result<Option<FoundGrid>, TailorError> {
    for &(adapter, selector, card_selector, places) in ADAPTERS {
        let Some(container) = query(root, selector)? else {
            continue;
        };
        // (A new card between placed ones: the theme rendered the grid again in place, keeping
        // some of its nodes, as a morph does, rather than appending or prepending to it. All
        // of it is placed again. Children that are not cards, a promo tile, do not count.)
        let keep = keep && query(&container, card_selector[2])?.is_none();
        let Some(list) = query_list(&container, card_selector[keep as usize])? else {
            return Ok(None);
        };
        let n = list.length() as usize;
        let mut ids = vec![None; n];
        for &(inner, attr, parse) in places {
            if ids.iter().all(Option::is_some) {
                break;
            }
            let all = attrs(&list, inner, attr, None).map_err(|e| dom("querySelector", e))?;
            // (A value holding the separator itself: markup we do not understand.)
            if all.matches('\u{1f}').count() != n {
                return Ok(None);
            }
            for (id, v) in ids.iter_mut().zip(all.split('\u{1f}')) {
                *id = id.or_else(|| parse(v));
            }
        }
        // Markup we do not fully understand (a card without an id, or no card): leave it alone.
        return Ok(match ids.into_iter().collect::<Option<Vec<u64>>>() {
            Some(ids) if !ids.is_empty() => Some(FoundGrid {
                adapter,
                container,
                cards: elements(&list),
                ids,
                list: list.into(),
            }),
            _ => None,
        });
    }
    Ok(None)
}

/// WooCommerce marks the first and last card of each row; after a reorder the classes must
/// follow the new positions (`columns-N` on the list, 4 by default), for every card (those an
/// earlier pass placed too).
fn fix_woo_rows(grid: &FoundGrid) -> Result<(), TailorError> {
    let columns = grid
        .container
        .class_name()
        .split_whitespace()
        .find_map(|c| {
            c.strip_prefix("columns-")
                .and_then(|n| n.parse::<usize>().ok())
        })
        .filter(|&n| n > 0)
        .unwrap_or(4);
    let Some(cards) = query_list(&grid.container, ":scope > .product")? else {
        return Ok(());
    };
    for (pos, card) in elements(&cards).iter().enumerate() {
        let was = card.class_name();
        let mut now: Vec<&str> = was
            .split_ascii_whitespace()
            .filter(|&c| c != "first" && c != "last")
            .collect();
        if pos % columns == 0 {
            now.push("first");
        }
        if pos % columns == columns - 1 {
            now.push("last");
        }
        let now = now.join(" ");
        if now != was {
            card.set_class_name(&now);
        }
    }
    Ok(())
}

/// Put the cards in `order` (a permutation from `tailor_core::rank`) by moving the existing
/// nodes, as few as [`moves`] allows (the grid's cards: not those an earlier pass placed,
/// which stay where they are). Children that are not cards (a promo tile) stay where
/// they are among the cards that do not move. Returns how many cards changed position.
pub fn apply_order(grid: &FoundGrid, order: &[usize]) -> Result<u32, TailorError> {
    if order.len() != grid.cards.len() {
        return Err(TailorError::new(
            "INTERNAL",
            "ranking returned the wrong number of items".to_owned(),
        ));
    }
    let moved = order.iter().enumerate().filter(|(k, &ix)| *k != ix).count() as u32;
    if moved == 0 {
        return Ok(0);
    }
    reorder(&grid.container, &grid.cards, order)?;
    if grid.adapter == "woocommerce" {
        fix_woo_rows(grid)?;
    }
    Ok(moved)
}

/// Put `nodes` (children of `container`, in page order) into `order` by moving only the nodes
/// that must move: the nodes of the longest run that `order` kept in page order stay, every
/// other one is put in front of its successor in the new order (the last one after the last
/// node). A ranking that pulls a few cards forward is a few moves, not one per card, and only
/// the moved cards are laid out again (BENCHMARKS.md). Moving keeps each node's identity, event
/// listeners and state. The grid and the search results both reorder this way.
pub fn reorder(container: &Element, nodes: &[Element], order: &[usize]) -> Result<(), TailorError> {
    // (The next element, not the next node: a theme's whitespace text node would get a wrapper
    // of its own, the page's first `Text`, for nothing. Moved cards then go after that text.)
    let end = nodes.last().and_then(|c| c.next_element_sibling());
    let mut atomic = true;
    for (k, before) in moves(order) {
        let before: Option<&Node> = match before {
            Some(b) => Some(&nodes[b]),
            None => end.as_ref().map(|e| e.as_ref()),
        };
        move_node(container, &nodes[k], before, &mut atomic)?;
    }
    Ok(())
}

/// The moves that put cards `0..n` (in that order on the page) into `order`, to be made in the
/// order given: `(card, Some(before))` inserts `card` just before card `before`, `(card, None)`
/// puts it after the last card. The cards of a longest increasing run of `order` (cards the
/// ranking left in page order) stay where they are; every other card moves once, so a
/// permutation of `n` cards with a longest run of `k` takes `n - k` moves.
pub fn moves(order: &[usize]) -> Vec<(usize, Option<usize>)> {
    // Longest increasing subsequence (patience sorting): `tails[l]` is the position in `order`
    // of the smallest card ending a run of length l + 1; `prev` links each position to the one
    // before it in its run.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev = vec![usize::MAX; order.len()];
    for (pos, &card) in order.iter().enumerate() {
        let l = tails.partition_point(|&t| order[t] < card);
        if l > 0 {
            prev[pos] = tails[l - 1];
        }
        if l == tails.len() {
            tails.push(pos);
        } else {
            tails[l] = pos;
        }
    }
    let mut keep = vec![false; order.len()];
    let mut at = tails.last().copied().unwrap_or(usize::MAX);
    while at != usize::MAX {
        keep[at] = true;
        at = prev[at];
    }
    // From the back: each moved card goes in front of the card that follows it in `order`,
    // which is already in its final place.
    let mut out = Vec::new();
    let mut next = None;
    for pos in (0..order.len()).rev() {
        if !keep[pos] {
            out.push((order[pos], next));
        }
        next = Some(order[pos]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{moves, parse_card_link_id};

    /// Apply `moves` to cards `0..n` the way the DOM would.
    fn replay(n: usize, moves: &[(usize, Option<usize>)]) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for &(card, before) in moves {
            let from = v.iter().position(|&c| c == card).unwrap();
            v.remove(from);
            match before {
                Some(b) => {
                    let to = v.iter().position(|&c| c == b).unwrap();
                    v.insert(to, card);
                }
                None => v.push(card),
            }
        }
        v
    }

    #[test]
    fn moves_only_the_cards_out_of_place() {
        // Three cards pulled to the front, the rest in their old relative order: 3 moves.
        let order = [5, 9, 2, 0, 1, 3, 4, 6, 7, 8, 10, 11];
        let m = moves(&order);
        assert_eq!(m.len(), 3);
        assert_eq!(replay(order.len(), &m), order);
        assert!(moves(&[0, 1, 2, 3]).is_empty());
        assert!(moves(&[]).is_empty());
        assert_eq!(moves(&[1, 0]).len(), 1);
        assert_eq!(replay(2, &moves(&[1, 0])), [1, 0]);
        // The first card sent to the end: one move, after the last card.
        let rotated: Vec<usize> = (1..48).chain([0]).collect();
        assert_eq!(moves(&rotated), vec![(0, None)]);
    }

    #[test]
    fn moves_reach_every_permutation() {
        fn permutations(n: usize) -> Vec<Vec<usize>> {
            if n == 0 {
                return vec![vec![]];
            }
            let mut out = Vec::new();
            for p in permutations(n - 1) {
                for i in 0..=p.len() {
                    let mut q = p.clone();
                    q.insert(i, n - 1);
                    out.push(q);
                }
            }
            out
        }
        for order in permutations(7) {
            let m = moves(&order);
            assert_eq!(replay(7, &m), order, "{order:?}");
        }
        let reversed: Vec<usize> = (0..48).rev().collect();
        assert_eq!(moves(&reversed).len(), 47);
        assert_eq!(replay(48, &moves(&reversed)), reversed);
    }

    #[test]
    fn parses_dawn_card_link_ids() {
        assert_eq!(
            parse_card_link_id("CardLink-template--123__product-grid-8012345"),
            Some(8012345)
        );
        assert_eq!(parse_card_link_id("CardLink-x-1"), Some(1));
        assert_eq!(parse_card_link_id("CardLink-x-"), None);
        assert_eq!(parse_card_link_id("CardLink-x-12a"), None);
        assert_eq!(parse_card_link_id("Card-x-12"), None);
        assert_eq!(parse_card_link_id("CardLink-12"), None);
    }
}
