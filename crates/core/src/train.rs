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

/// Sort each session's events by time (ties keep input order) and the sessions by their last
/// event time (ties by key). Empty sessions are dropped.
pub fn normalize(sessions: &mut Vec<Session>) {
    sessions.retain(|s| !s.events.is_empty());
    for s in sessions.iter_mut() {
        s.events
            .sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal));
    }
    let last = |s: &Session| s.events.last().map_or(0.0, |e| e.1);
    sessions.sort_by(|a, b| {
        last(a)
            .partial_cmp(&last(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.key.cmp(&b.key))
    });
}

/// Train a model from sessions. `extra_items` (e.g. the catalog) are added to the item table
/// even when no session mentions them.
pub fn train(sessions: &[Session], extra_items: &[ItemAttrs], p: &TrainParams) -> Model {
    let mut sessions = sessions.to_vec();
    normalize(&mut sessions);

    // Item table: every id seen, sorted.
    let mut attrs: HashMap<u64, ItemAttrs> =
        extra_items.iter().map(|a| (a.id, a.clone())).collect();
    for s in &sessions {
        for &(id, _) in &s.events {
            attrs.entry(id).or_insert_with(|| ItemAttrs {
                id,
                available: true,
                ..Default::default()
            });
        }
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
    let mut follow: Vec<HashMap<ItemIx, f64>> = vec![HashMap::new(); items.len()];
    for seq in &seqs {
        for (a, &i) in seq.iter().enumerate() {
            for (gap, &j) in seq.iter().enumerate().skip(a + 1).take(p.window) {
                // Self-transitions count: shoppers often come back to the item they just saw.
                *follow[i as usize].entry(j).or_insert(0.0) += 1.0 / (gap - a) as f64;
            }
        }
    }
    let next = follow
        .into_iter()
        .map(|row| {
            let mut row: Vec<(ItemIx, f64)> = row.into_iter().collect();
            row.sort_by(|a, b| {
                b.1.partial_cmp(&a.1)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.0.cmp(&b.0))
            });
            row.truncate(p.top_k);
            let top = row.first().map_or(0.0, |r| r.1);
            row.into_iter()
                .map(|(item, w)| Neighbor {
                    item,
                    score: quantize_linear(w, top),
                })
                .collect()
        })
        .collect();

    // Session sample: the most recent sessions, each cut to its most recent events.
    let start = seqs.len().saturating_sub(p.max_sessions);
    let sample = seqs[start..]
        .iter()
        .map(|s| s[s.len().saturating_sub(p.max_session_len)..].to_vec())
        .collect();

    let mut model = Model {
        items,
        strings: Vec::new(),
        popularity,
        next,
        sessions: sample,
        ..Default::default()
    };
    model.index();
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
        let m1 = train(&data, &[], &TrainParams::default());
        let mut rev = data.clone();
        rev.reverse();
        let m2 = train(&rev, &[], &TrainParams::default());
        assert_eq!(m1, m2);
        let ids: Vec<u64> = m1.items.iter().map(|a| a.id).collect();
        assert_eq!(ids, vec![10, 20, 30]);
        // Sessions oldest first, events by time: a = [10, 20], b = [10, 20, 30].
        assert_eq!(m1.sessions, vec![vec![0, 1], vec![0, 1, 2]]);
        // 10 is followed by 20 twice (gap 1) and by 30 once (gap 2).
        assert_eq!(
            m1.next[0][0],
            Neighbor {
                item: 1,
                score: 255
            }
        );
        assert_eq!(m1.next[0][1].item, 2);
        assert!(m1.next[0][1].score < 255);
        assert_eq!(m1.popularity[0], 255);
    }

    #[test]
    fn respects_the_sample_budget() {
        let data: Vec<Session> = (0..10)
            .map(|k| s(&k.to_string(), &[(1, k as f64), (2, k as f64 + 0.5)]))
            .collect();
        let m = train(
            &data,
            &[],
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
            std::slice::from_ref(&extra),
            &TrainParams::default(),
        );
        assert_eq!(m.items[0], extra);
        assert_eq!(m.popularity, vec![0, 255]);
    }
}
