//! Training: sessions of item views go in, a [`Model`] comes out, deterministically.
//!
//! Compiled only with the `train` feature, so the browser build never carries it.

use crate::model::{quantize_log, ItemAttrs, ItemIx, Model, Neighbor};
use std::collections::HashMap;

/// One training session: item ids with timestamps (seconds), in any order.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The session's key, used only to break ties deterministically.
    pub key: String,
    /// `(item id, time in seconds)`.
    pub events: Vec<(u64, f64)>,
}

/// Sessions from an event log: each session's product views (and recommendation clicks),
/// keyed by session id, in log order ([`train`] sorts them by time). Events of other types do
/// not enter the next-item model.
pub fn sessions_from_events(events: &[crate::events::Event]) -> Vec<Session> {
    use crate::events::EventKind;
    let mut order: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<Session> = Vec::new();
    for e in events {
        let item = match e.kind {
            EventKind::ProductView { item } | EventKind::RecClick { item, .. } => item,
            _ => continue,
        };
        let slot = *order.entry(e.session.as_str()).or_insert_with(|| {
            out.push(Session {
                key: e.session.clone(),
                events: Vec::new(),
            });
            out.len() - 1
        });
        out[slot].events.push((item, e.ts as f64 / 1000.0));
    }
    out
}

/// Training settings, with the size budget in mind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainParams {
    /// Keep at most this many of the most recent sessions for session-kNN.
    pub max_sessions: usize,
    /// Longest session kept in the sample (its most recent events).
    pub max_session_len: usize,
    /// Neighbour list length per item.
    pub top_k: usize,
    /// How far ahead (in events) a following item counts for the sequential lists.
    pub window: usize,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            max_sessions: 20_000,
            max_session_len: 30,
            top_k: 30,
            window: 5,
        }
    }
}

/// Quantize `w` relative to `max` linearly to 1..=255 (for list entries that exist).
fn quantize_linear(w: f64, max: f64) -> u8 {
    if max <= 0.0 {
        return 1;
    }
    (255.0 * w / max).round().clamp(1.0, 255.0) as u8
}

/// Training input beyond the browsing sessions: the catalog (items with category and vendor
/// indices into `strings`, which join the item table even when no session mentions them) and
/// the store's orders as baskets of item ids (for the co-purchase lists).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreInput {
    /// Catalog items.
    pub items: Vec<ItemAttrs>,
    /// The strings their category and vendor indices refer to.
    pub strings: Vec<String>,
    /// Orders, each the ids of the items bought together.
    pub baskets: Vec<Vec<u64>>,
}

/// The window of the trending prior: activity in the most recent this-many seconds of the
/// training data is compared with the item's long-run rate.
pub const TRENDING_WINDOW_SECS: f64 = 7.0 * 86_400.0;
/// How far apart two views of a session may be (in events) to count as co-viewed.
pub const COVIEW_WINDOW: usize = 10;

/// Weighted item pairs grouped by their first item, in the order they were added: a
/// compressed row per item of `(other item, weight code)`. Two passes over the same pairs (one
/// to count, one to fill) replace a hash map per item, which was the trainer's hot spot.
struct PairRows {
    start: Vec<usize>,
    cols: Vec<ItemIx>,
    codes: Vec<u8>,
}

impl PairRows {
    /// `visit` calls its argument with every `(row, col, code)`; it is run twice and must add
    /// the same pairs in the same order both times.
    fn collect(n: usize, visit: impl Fn(&mut dyn FnMut(ItemIx, ItemIx, u8))) -> PairRows {
        let mut start = vec![0usize; n + 1];
        visit(&mut |i, _, _| start[i as usize + 1] += 1);
        for k in 0..n {
            start[k + 1] += start[k];
        }
        let total = start[n];
        let mut cols = vec![0 as ItemIx; total];
        let mut codes = vec![0u8; total];
        let mut fill = start.clone();
        visit(&mut |i, j, code| {
            let at = &mut fill[i as usize];
            cols[*at] = j;
            codes[*at] = code;
            *at += 1;
        });
        PairRows { start, cols, codes }
    }

    /// Each row's `top_k` strongest entries (weights summed per other item in the order the
    /// pairs were added, so the sums are reproducible to the bit), quantized relative to the
    /// row's strongest.
    fn top_lists(&self, top_k: usize, weight: impl Fn(u8) -> f64) -> Vec<Vec<Neighbor>> {
        let n = self.start.len() - 1;
        let mut sum = vec![0f64; n];
        let mut seen = vec![false; n];
        let mut touched: Vec<ItemIx> = Vec::new();
        (0..n)
            .map(|row| {
                let range = self.start[row]..self.start[row + 1];
                touched.clear();
                for (&j, &code) in self.cols[range.clone()].iter().zip(&self.codes[range]) {
                    if !seen[j as usize] {
                        seen[j as usize] = true;
                        touched.push(j);
                    }
                    sum[j as usize] += weight(code);
                }
                let mut row: Vec<(ItemIx, f64)> = touched
                    .iter()
                    .map(|&j| {
                        let w = sum[j as usize];
                        sum[j as usize] = 0.0;
                        seen[j as usize] = false;
                        (j, w)
                    })
                    .collect();
                let by_weight =
                    |a: &(ItemIx, f64), b: &(ItemIx, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
                if row.len() > top_k && top_k > 0 {
                    row.select_nth_unstable_by(top_k - 1, by_weight);
                }
                row.truncate(top_k);
                row.sort_by(by_weight);
                let top = row.first().map_or(0.0, |r| r.1);
                row.into_iter()
                    .map(|(item, w)| Neighbor {
                        item,
                        score: quantize_linear(w, top),
                    })
                    .collect()
            })
            .collect()
    }
}

/// Sort each session's events by time (ties keep input order) and the sessions by their last
/// event time (ties by key). Empty sessions are dropped.
pub fn normalize(sessions: &mut Vec<Session>) {
    sessions.retain(|s| !s.events.is_empty());
    for s in sessions.iter_mut() {
        s.events.sort_by(|a, b| a.1.total_cmp(&b.1));
    }
    let last = |s: &Session| s.events.last().map_or(0.0, |e| e.1);
    sessions.sort_by(|a, b| last(a).total_cmp(&last(b)).then_with(|| a.key.cmp(&b.key)));
}

/// Train a model from sessions. The catalog's items are added to the item table even when no
/// session mentions them, with their attributes and strings.
pub fn train(sessions: &[Session], catalog: &StoreInput, p: &TrainParams) -> Model {
    let extra_items = &catalog.items[..];
    let mut sessions = sessions.to_vec();
    normalize(&mut sessions);

    // Item table: every id seen, sorted.
    let mut attrs: HashMap<u64, ItemAttrs> =
        extra_items.iter().map(|a| (a.id, a.clone())).collect();
    let seen_ids = sessions
        .iter()
        .flat_map(|s| s.events.iter().map(|e| e.0))
        .chain(catalog.baskets.iter().flatten().copied());
    for id in seen_ids {
        attrs.entry(id).or_insert_with(|| ItemAttrs {
            id,
            available: true,
            ..Default::default()
        });
    }
    let mut items: Vec<ItemAttrs> = attrs.into_values().collect();
    items.sort_by_key(|a| a.id);
    let ix: HashMap<u64, ItemIx> = items
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id, i as ItemIx))
        .collect();
    let seqs: Vec<Vec<ItemIx>> = sessions
        .iter()
        .map(|s| s.events.iter().map(|(id, _)| ix[id]).collect())
        .collect();

    // Popularity: number of events per item.
    let mut counts = vec![0f64; items.len()];
    for seq in &seqs {
        for &i in seq {
            counts[i as usize] += 1.0;
        }
    }
    let max = counts.iter().copied().fold(0.0, f64::max);
    let popularity = counts.iter().map(|&c| quantize_log(c, max)).collect();

    // Sequential lists: j following i within `window` events adds 1/gap (j may equal i).
    let n = items.len();
    let window = p.window;
    let next = PairRows::collect(n, |add| {
        for seq in &seqs {
            for (a, &i) in seq.iter().enumerate() {
                for (d, &j) in seq[a + 1..].iter().take(window).enumerate() {
                    // Self-transitions count: shoppers often come back to the item they just saw.
                    add(i, j, d as u8 + 1);
                }
            }
        }
    })
    .top_lists(p.top_k, |gap| 1.0 / gap as f64);

    // Co-view lists: two different items within `COVIEW_WINDOW` events of one session, both
    // ways, 1/gap each.
    let coview = PairRows::collect(n, |add| {
        for seq in &seqs {
            for (a, &i) in seq.iter().enumerate() {
                for (d, &j) in seq[a + 1..].iter().take(COVIEW_WINDOW).enumerate() {
                    if i != j {
                        add(i, j, d as u8 + 1);
                        add(j, i, d as u8 + 1);
                    }
                }
            }
        }
    })
    .top_lists(p.top_k, |gap| 1.0 / gap as f64);

    // Co-purchase lists: two different items in one order, both ways.
    let baskets: Vec<Vec<ItemIx>> = catalog
        .baskets
        .iter()
        .map(|basket| {
            let mut b: Vec<ItemIx> = basket.iter().map(|id| ix[id]).collect();
            b.sort_unstable();
            b.dedup();
            b
        })
        .collect();
    let copurchase = PairRows::collect(n, |add| {
        for b in &baskets {
            for (k, &i) in b.iter().enumerate() {
                for &j in &b[k + 1..] {
                    add(i, j, 1);
                    add(j, i, 1);
                }
            }
        }
    })
    .top_lists(p.top_k, |_| 1.0);

    // Trending prior: views in the last `TRENDING_WINDOW_SECS` against the item's long-run
    // rate over the whole span; a lift of 8x or more is 255, no lift 0.
    let times = sessions.iter().flat_map(|s| s.events.iter().map(|e| e.1));
    let (t_min, t_max) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    let span = t_max - t_min;
    let trending: Vec<u8> = if span.is_finite() && span > TRENDING_WINDOW_SECS {
        let mut recent = vec![0f64; items.len()];
        for (s, seq) in sessions.iter().zip(&seqs) {
            for (e, &i) in s.events.iter().zip(seq) {
                if e.1 > t_max - TRENDING_WINDOW_SECS {
                    recent[i as usize] += 1.0;
                }
            }
        }
        let share = TRENDING_WINDOW_SECS / span;
        recent
            .iter()
            .zip(&counts)
            .map(|(&r, &total)| {
                let lift = (r + 1.0) / (total * share + 1.0);
                (255.0 * (lift.ln() / 8f64.ln())).round().clamp(0.0, 255.0) as u8
            })
            .collect()
    } else {
        Vec::new()
    };

    // Session sample: the most recent sessions, each cut to its most recent events.
    let start = seqs.len().saturating_sub(p.max_sessions);
    let sample = seqs[start..]
        .iter()
        .map(|s| s[s.len().saturating_sub(p.max_session_len)..].to_vec())
        .collect();

    let mut model = Model::from_parts(
        items,
        catalog.strings.clone(),
        popularity,
        next,
        sample,
        crate::model::ScoreParams::default(),
    );
    model.coview = crate::model::Lists::from_vecs(coview).canonical();
    model.copurchase = crate::model::Lists::from_vecs(copurchase).canonical();
    model.trending = trending;
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(key: &str, ev: &[(u64, f64)]) -> Session {
        Session {
            key: key.into(),
            events: ev.to_vec(),
        }
    }

    #[test]
    fn trains_deterministically() {
        let data = vec![
            s("b", &[(20, 5.0), (10, 4.0), (30, 6.0)]),
            s("a", &[(10, 1.0), (20, 2.0)]),
        ];
        let m1 = train(&data, &StoreInput::default(), &TrainParams::default());
        let mut rev = data.clone();
        rev.reverse();
        let m2 = train(&rev, &StoreInput::default(), &TrainParams::default());
        assert_eq!(m1, m2);
        let ids: Vec<u64> = m1.items.iter().map(|a| a.id).collect();
        assert_eq!(ids, vec![10, 20, 30]);
        // Sessions oldest first, events by time: a = [10, 20], b = [10, 20, 30].
        assert_eq!(m1.sessions.to_vecs(), vec![vec![0, 1], vec![0, 1, 2]]);
        // 10 is followed by 20 twice (gap 1) and by 30 once (gap 2).
        assert_eq!(
            m1.next.get(0)[0],
            Neighbor {
                item: 1,
                score: 255
            }
        );
        assert_eq!(m1.next.get(0)[1].item, 2);
        assert!(m1.next.get(0)[1].score < 255);
        assert_eq!(m1.popularity[0], 255);
    }

    #[test]
    fn respects_the_sample_budget() {
        let data: Vec<Session> = (0..10)
            .map(|k| s(&k.to_string(), &[(1, k as f64), (2, k as f64 + 0.5)]))
            .collect();
        let m = train(
            &data,
            &StoreInput::default(),
            &TrainParams {
                max_sessions: 3,
                max_session_len: 1,
                ..Default::default()
            },
        );
        assert_eq!(m.sessions.len(), 3);
        assert!(m.sessions.iter().all(|s| s.len() == 1));
    }

    #[test]
    fn catalog_items_join_the_table() {
        let extra = ItemAttrs {
            id: 5,
            price_cents: Some(250),
            available: false,
            ..Default::default()
        };
        let m = train(
            &[s("a", &[(9, 1.0)])],
            &StoreInput {
                items: vec![extra.clone()],
                ..Default::default()
            },
            &TrainParams::default(),
        );
        assert_eq!(m.items[0], extra);
        assert_eq!(m.popularity, vec![0, 255]);
    }
}

/// Train like [`train`], then shrink until `fits` accepts the encoded snapshot (for example
/// "at most 1 MB once brotli-compressed"): first the neighbour lists, by a quarter at a time
/// down to [`MIN_TOP_K`] entries, then the session sample (halving; the most recent sessions
/// are kept), then the lists again. Returns the model and the settings that fit. A budget too small even for the item table returns the smallest model tried.
pub fn train_within(
    sessions: &[Session],
    catalog: &StoreInput,
    p: &TrainParams,
    fits: impl Fn(&[u8]) -> bool,
) -> (Model, TrainParams) {
    shrink_to_fit(train(sessions, catalog, p), p, fits)
}

/// Shrink a model trained with `p` until `fits` accepts its encoding, as [`train_within`]
/// does, without training again: the model is the one training with smaller settings would
/// give (the most recent sessions of the sample, the strongest entries of each list).
pub fn shrink_to_fit(
    model: Model,
    p: &TrainParams,
    fits: impl Fn(&[u8]) -> bool,
) -> (Model, TrainParams) {
    use crate::snapshot::{ModelKind, Snapshot};
    let mut params = *p;
    let mut model = model;
    loop {
        let bytes = Snapshot::new(ModelKind::Hybrid, 0, model.clone()).encode();
        if fits(&bytes) || (params.max_sessions == 0 && params.top_k == 0) {
            return (model, params);
        }
        if params.top_k > MIN_TOP_K {
            params.top_k = (params.top_k * 3 / 4).max(MIN_TOP_K);
        } else if params.max_sessions > 0 {
            params.max_sessions /= 2;
        } else {
            params.top_k /= 2;
        }
        model = shrink(&model, &params);
    }
}

/// Lists are cut to this length before the session sample is touched: with many items the lists
/// are most of the bytes, while the sample is what session-kNN needs.
pub const MIN_TOP_K: usize = 4;

/// `model` cut to `p`'s session sample and list length.
fn shrink(model: &Model, p: &TrainParams) -> Model {
    use crate::model::Lists;
    let cut = |l: &Lists<Neighbor>| {
        Lists::from_vecs(
            l.iter()
                .map(|x| x[..x.len().min(p.top_k)].to_vec())
                .collect(),
        )
        .canonical()
    };
    let mut m = model.clone();
    m.next = cut(&model.next);
    m.coview = cut(&model.coview);
    m.copurchase = cut(&model.copurchase);
    let start = model.sessions.len().saturating_sub(p.max_sessions);
    m.sessions = Lists::from_vecs(
        model
            .sessions
            .iter()
            .skip(start)
            .map(<[_]>::to_vec)
            .collect(),
    );
    m.index();
    m
}

/// The grid of scorer weights [`train_tuned`] tries: `(recency, sequential)`.
pub const TUNING_GRID: &[(f32, f32)] = &[
    (1.0, 0.25),
    (1.0, 0.5),
    (1.0, 1.0),
    (2.0, 0.25),
    (2.0, 0.5),
    (2.0, 1.0),
    (2.0, 2.0),
    (3.0, 0.25),
    (3.0, 0.5),
    (3.0, 1.0),
    (3.0, 2.0),
];

/// What tuning found.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// Test events in the validation split (0 when there was too little data to tune).
    pub validation_events: usize,
    /// `(recency, sequential, HR@20, MRR@20)` for each point of the grid.
    pub tried: Vec<(f32, f32, f64, f64)>,
    /// The weights chosen.
    pub chosen: crate::model::ScoreParams,
}

/// Train like [`train`], choosing the scorer's `recency` and `sequential` weights for this
/// store: the most recent tenth of the sessions (at most `max_validation_events` predictions)
/// is held out, a model trained on the rest scores it for every point of [`TUNING_GRID`], and
/// the point with the best HR@20 + MRR@20 wins (ties: the earlier point). The final model is
/// then trained on all sessions. With fewer than 50 validation events the defaults are kept.
pub fn train_tuned(
    sessions: &[Session],
    catalog: &StoreInput,
    p: &TrainParams,
    max_validation_events: usize,
) -> (Model, Tuning) {
    use crate::eval::evaluate;
    use crate::model::ScoreParams;

    let mut sorted = sessions.to_vec();
    normalize(&mut sorted);
    let split = sorted.len() - sorted.len() / 10;
    let (fit, held) = sorted.split_at(split);
    let fit_model = train(fit, catalog, p);
    // Validation: the most recent held-out sessions, restricted to items the fit model knows.
    let mut validation: Vec<Session> = Vec::new();
    let mut events = 0usize;
    for s in held.iter().rev() {
        let known: Vec<(u64, f64)> = s
            .events
            .iter()
            .copied()
            .filter(|(id, _)| fit_model.ix_of(*id).is_some())
            .collect();
        if known.len() < 2 {
            continue;
        }
        if events + known.len() - 1 > max_validation_events {
            break;
        }
        events += known.len() - 1;
        validation.push(Session {
            key: s.key.clone(),
            events: known,
        });
    }
    let mut chosen = ScoreParams::default();
    let mut tried = Vec::new();
    if events >= 50 {
        // The settings are independent replays: spread them over the cores, then pick the
        // best in grid order (ties go to the earlier setting), so the result does not depend
        // on the number of threads.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = TUNING_GRID
            .len()
            .div_ceil(threads.clamp(1, TUNING_GRID.len()));
        let scored: Vec<(ScoreParams, f64, f64)> = std::thread::scope(|scope| {
            let workers: Vec<_> = TUNING_GRID
                .chunks(chunk)
                .map(|part| {
                    let (model, validation) = (&fit_model, &validation);
                    scope.spawn(move || {
                        part.iter()
                            .map(|&(recency, sequential)| {
                                let params = ScoreParams {
                                    recency,
                                    sequential,
                                    ..ScoreParams::default()
                                };
                                let m = evaluate(model, validation, &params, |_| {});
                                (params, m.hr20, m.mrr20)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        let mut best = f64::NEG_INFINITY;
        for (params, hr20, mrr20) in scored {
            tried.push((params.recency, params.sequential, hr20, mrr20));
            if hr20 + mrr20 > best {
                best = hr20 + mrr20;
                chosen = params;
            }
        }
    }
    let mut model = train(&sorted, catalog, p);
    model.params = chosen;
    (
        model,
        Tuning {
            validation_events: if tried.is_empty() { 0 } else { events },
            tried,
            chosen,
        },
    )
}

#[cfg(test)]
mod tuning_tests {
    use super::*;

    #[test]
    fn catalog_strings_travel_with_the_model() {
        let catalog = StoreInput {
            items: vec![ItemAttrs {
                id: 5,
                category: Some(1),
                vendor: Some(0),
                price_cents: Some(100),
                available: true,
            }],
            strings: vec!["Acme".into(), "Kitchen".into()],
            ..Default::default()
        };
        let sessions = vec![Session {
            key: "a".into(),
            events: vec![(5, 1.0), (6, 2.0)],
        }];
        let m = train(&sessions, &catalog, &TrainParams::default());
        let bytes =
            crate::snapshot::Snapshot::new(crate::snapshot::ModelKind::Hybrid, 1, m.clone())
                .encode();
        let back = crate::snapshot::Snapshot::decode(&bytes).unwrap();
        assert_eq!(back.model, m);
        assert_eq!(m.strings[m.items[0].category.unwrap() as usize], "Kitchen");
    }

    #[test]
    fn co_view_co_purchase_and_trending() {
        let day = 86_400.0;
        // Items 1 and 2 are viewed together; 3 only lately (the last day of a 30-day span).
        let mut sessions: Vec<Session> = (0..20)
            .map(|k| Session {
                key: format!("a{k}"),
                events: vec![(1, k as f64 * day), (2, k as f64 * day + 1.0)],
            })
            .collect();
        for k in 0..5 {
            sessions.push(Session {
                key: format!("b{k}"),
                events: vec![(3, 30.0 * day - k as f64), (9, 0.0)],
            });
        }
        let store = StoreInput {
            baskets: vec![vec![1, 4], vec![1, 4, 4], vec![2, 5]],
            ..Default::default()
        };
        let m = train(&sessions, &store, &TrainParams::default());
        let ix = |id| m.ix_of(id).unwrap() as usize;
        assert_eq!(m.coview.get(ix(1))[0].item as usize, ix(2));
        assert_eq!(m.coview.get(ix(2))[0].item as usize, ix(1));
        assert_eq!(
            m.copurchase.get(ix(1)),
            &[Neighbor {
                item: ix(4) as u32,
                score: 255
            }]
        );
        assert_eq!(m.copurchase.get(ix(5))[0].item as usize, ix(2));
        // 5 recent views against an expected 5 x 7/30: a lift of (5+1)/(1.17+1) = 2.77,
        // ln(2.77)/ln(8) x 255 = 125.
        assert_eq!(m.trending[ix(3)], 125, "{:?}", m.trending);
        assert_eq!(m.trending[ix(1)], 0);
        assert!(m.trending.iter().all(|&t| t <= m.trending[ix(3)]));
    }

    #[test]
    fn sessions_come_from_product_views() {
        use crate::events::{Event, EventKind};
        let ev = |session: &str, ts: i64, kind: EventKind| Event {
            id: "0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c".into(),
            ts,
            shopper: "s".into(),
            session: session.into(),
            kind,
        };
        let events = vec![
            ev("a", 1000, EventKind::ProductView { item: 1 }),
            ev("b", 1500, EventKind::ProductView { item: 9 }),
            ev("a", 2000, EventKind::PageView { page: None }),
            ev("a", 3000, EventKind::ProductView { item: 2 }),
        ];
        let s = sessions_from_events(&events);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].key, "a");
        assert_eq!(s[0].events, vec![(1, 1.0), (2, 3.0)]);
    }

    #[test]
    fn the_size_budget_shrinks_the_sample_first() {
        let sessions: Vec<Session> = (0..500u64)
            .map(|k| Session {
                key: k.to_string(),
                events: (0..6)
                    .map(|i| ((k * 7 + i * 13) % 300, (k * 10 + i) as f64))
                    .collect(),
            })
            .collect();
        let p = TrainParams::default();
        let full = train(&sessions, &StoreInput::default(), &p);
        let full_len =
            crate::snapshot::Snapshot::new(crate::snapshot::ModelKind::Hybrid, 0, full.clone())
                .encode()
                .len();
        let (small, used) = train_within(&sessions, &StoreInput::default(), &p, |b| {
            b.len() <= full_len / 2
        });
        let len =
            crate::snapshot::Snapshot::new(crate::snapshot::ModelKind::Hybrid, 0, small.clone())
                .encode()
                .len();
        assert!(len <= full_len / 2, "{len} > {}", full_len / 2);
        assert!(used.top_k < p.top_k, "the lists shrink first: {used:?}");
        assert_eq!(small.items.len(), full.items.len(), "every item stays");
        // Shrinking gives exactly the model that training with the smaller settings gives.
        assert_eq!(small, train(&sessions, &StoreInput::default(), &used));
        // A budget that only shorter lists can meet.
        let (tiny, used) = train_within(&sessions, &StoreInput::default(), &p, |b| b.len() <= 3000);
        assert!(used.top_k < p.top_k && used.max_sessions == 0, "{used:?}");
        assert_eq!(tiny, train(&sessions, &StoreInput::default(), &used));
        let (same, used) = train_within(&sessions, &StoreInput::default(), &p, |_| true);
        assert_eq!((same, used), (full, p));
    }

    #[test]
    fn tuning_picks_sequential_weight_when_order_is_the_signal() {
        // Every session walks a fixed chain 0 -> 1 -> 2 -> ... -> 9, starting anywhere, so the
        // next item is fully determined by the last one: the sequential lists alone are right.
        let mut sessions = Vec::new();
        for k in 0..300u64 {
            let start = k % 7;
            let events = (start..start + 3)
                .map(|i| (i, (k * 10 + i) as f64))
                .collect();
            sessions.push(Session {
                key: k.to_string(),
                events,
            });
        }
        let (model, tuning) = train_tuned(
            &sessions,
            &StoreInput::default(),
            &TrainParams::default(),
            5000,
        );
        assert!(tuning.validation_events >= 50, "{tuning:?}");
        assert_eq!(tuning.tried.len(), TUNING_GRID.len());
        assert_eq!(model.params, tuning.chosen);
        let best = tuning
            .tried
            .iter()
            .map(|t| t.2 + t.3)
            .fold(f64::NEG_INFINITY, f64::max);
        let chosen = tuning
            .tried
            .iter()
            .find(|t| t.0 == tuning.chosen.recency && t.1 == tuning.chosen.sequential)
            .unwrap();
        assert_eq!(chosen.2 + chosen.3, best);
        // Deterministic: the same data gives the same choice.
        let (again, _) = train_tuned(
            &sessions,
            &StoreInput::default(),
            &TrainParams::default(),
            5000,
        );
        assert_eq!(again, model);
    }

    #[test]
    fn too_little_data_keeps_the_defaults() {
        let sessions = vec![Session {
            key: "a".into(),
            events: vec![(1, 1.0), (2, 2.0)],
        }];
        let (model, tuning) = train_tuned(
            &sessions,
            &StoreInput::default(),
            &TrainParams::default(),
            5000,
        );
        assert_eq!(tuning.validation_events, 0);
        assert_eq!(model.params, crate::model::ScoreParams::default());
    }
}
