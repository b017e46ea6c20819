//! Offline evaluation with the session-based protocol (`../shared/data/README.md`): for every
//! test session and every prefix, the model ranks 20 items and the next event is the target.
//! HR@N and MRR@N are summed event by event in the framework's order (sessions by ascending id,
//! positions ascending), so the floats match the reference scorer bit for bit.
//!
//! Compiled only with the `train` feature.

use crate::model::{ItemIx, Model, ScoreParams};
use crate::train::Session;
use std::collections::HashMap;
use std::fmt;

/// Why an input file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// 1-based line number (0 for the whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for FormatError {}

/// Read session-rec TSV (`SessionId<TAB>ItemId<TAB>Time` with a header naming the columns,
/// in any order). Sessions come back in file order of first appearance; events in file order.
pub fn read_session_rec_tsv(text: &str) -> Result<Vec<Session>, FormatError> {
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or(FormatError {
        line: 0,
        message: "empty file: expected a header `SessionId\\tItemId\\tTime`".into(),
    })?;
    let cols: Vec<&str> = header.trim_end_matches('\r').split('\t').collect();
    let col = |name: &str| {
        cols.iter().position(|c| *c == name).ok_or(FormatError {
            line: 1,
            message: format!("header has no `{name}` column (found: {})", cols.join(", ")),
        })
    };
    let (si, ii, ti) = (col("SessionId")?, col("ItemId")?, col("Time")?);
    let mut order: HashMap<String, usize> = HashMap::new();
    let mut sessions: Vec<Session> = Vec::new();
    for (n, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let get = |i: usize, name: &str| {
            f.get(i).copied().ok_or(FormatError {
                line: n + 1,
                message: format!(
                    "missing `{name}` field (expected {} tab-separated fields)",
                    cols.len()
                ),
            })
        };
        let key = get(si, "SessionId")?.trim().to_owned();
        let item_text = get(ii, "ItemId")?.trim();
        let item = parse_id(item_text).ok_or(FormatError {
            line: n + 1,
            message: format!("ItemId `{item_text}` is not a non-negative integer"),
        })?;
        let time_text = get(ti, "Time")?.trim();
        let time: f64 = time_text
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite())
            .ok_or(FormatError {
                line: n + 1,
                message: format!("Time `{time_text}` is not a number"),
            })?;
        let slot = *order.entry(key.clone()).or_insert_with(|| {
            sessions.push(Session {
                key,
                events: Vec::new(),
            });
            sessions.len() - 1
        });
        sessions[slot].events.push((item, time));
    }
    Ok(sessions)
}

/// Parse an id written as an integer or an integral float (`12`, `12.0`).
pub fn parse_id(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().or_else(|| {
        text.parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
            .map(|f| f as u64)
    })
}

/// Order sessions the way the reference scorer does: integer keys ascending, then other keys.
pub fn evaluation_order(sessions: &mut [Session]) {
    sessions.sort_by(|a, b| {
        let ka = a.key.parse::<i64>().ok();
        let kb = b.key.parse::<i64>().ok();
        match (ka, kb) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.key.cmp(&b.key),
        }
    });
}

/// One prediction: the model saw `position + 1` events of `session` and ranked `ranked`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The session key.
    pub session: String,
    /// 0-based position of the last seen event.
    pub position: usize,
    /// The item that came next.
    pub target: u64,
    /// Up to `cutoff` item ids, best first.
    pub ranked: Vec<u64>,
}

/// Metrics over all test events.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Metrics {
    /// Number of predicted events.
    pub events: usize,
    /// Hit rate at 10.
    pub hr10: f64,
    /// Hit rate at 20.
    pub hr20: f64,
    /// Mean reciprocal rank at 10.
    pub mrr10: f64,
    /// Mean reciprocal rank at 20.
    pub mrr20: f64,
    /// Share of the model's items that appeared in at least one top-20 list.
    pub coverage: f64,
}

/// Replay every test session through `model` and call `sink` with each prediction, in
/// evaluation order. Sessions with fewer than two events are skipped, as in the protocol.
pub fn evaluate(
    model: &Model,
    test: &[Session],
    params: &ScoreParams,
    mut sink: impl FnMut(&Prediction),
) -> Metrics {
    let mut test = test.to_vec();
    for s in &mut test {
        // Stable: equal times keep file order, as the reference scorer's sort does.
        s.events.sort_by(|a, b| a.1.total_cmp(&b.1));
    }
    evaluation_order(&mut test);
    let (mut h10, mut h20, mut r10, mut r20) = (0usize, 0usize, 0f64, 0f64);
    let mut events = 0usize;
    let mut shown = vec![false; model.items.len()];
    for s in &test {
        if s.events.len() < 2 {
            continue;
        }
        let mut prefix: Vec<ItemIx> = Vec::with_capacity(s.events.len());
        for p in 0..s.events.len() - 1 {
            if let Some(ix) = model.ix_of(s.events[p].0) {
                prefix.push(ix);
            }
            let target = s.events[p + 1].0;
            let top = model.recommend_next(&prefix, 20, params);
            let ranked: Vec<u64> = top.iter().map(|x| model.id_of(x.item)).collect();
            for x in &top {
                shown[x.item as usize] = true;
            }
            if let Some(rank) = ranked.iter().position(|&r| r == target) {
                h20 += 1;
                r20 += 1.0 / (rank + 1) as f64;
                if rank < 10 {
                    h10 += 1;
                    r10 += 1.0 / (rank + 1) as f64;
                }
            }
            events += 1;
            sink(&Prediction {
                session: s.key.clone(),
                position: p,
                target,
                ranked,
            });
        }
    }
    let n = events.max(1) as f64;
    Metrics {
        events,
        hr10: h10 as f64 / n,
        hr20: h20 as f64 / n,
        mrr10: r10 / n,
        mrr20: r20 / n,
        coverage: shown.iter().filter(|&&b| b).count() as f64 / shown.len().max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{train, StoreInput, TrainParams};

    #[test]
    fn reads_session_rec_tsv_with_precise_errors() {
        let s = read_session_rec_tsv("SessionId\tItemId\tTime\n1\t10\t1.5\n2\t20\t2\n1\t11.0\t3\n")
            .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].events, vec![(10, 1.5), (11, 3.0)]);
        let e = read_session_rec_tsv("SessionId\tItemId\tTime\n1\tabc\t1\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: ItemId `abc` is not a non-negative integer"
        );
        let e = read_session_rec_tsv("Session\tItemId\tTime\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("line 1: header has no `SessionId` column"),
            "{e}"
        );
        let e = read_session_rec_tsv("SessionId\tItemId\tTime\n1\t2\n").unwrap_err();
        assert!(
            e.to_string().starts_with("line 2: missing `Time` field"),
            "{e}"
        );
        assert!(read_session_rec_tsv("").is_err());
    }

    #[test]
    fn evaluates_every_prefix_in_order() {
        let train_data = read_session_rec_tsv(
            "SessionId\tItemId\tTime\n1\t1\t1\n1\t2\t2\n1\t3\t3\n2\t1\t4\n2\t2\t5\n2\t3\t6\n",
        )
        .unwrap();
        let model = train(&train_data, &StoreInput::default(), &TrainParams::default());
        let test = read_session_rec_tsv(
            "SessionId\tItemId\tTime\n10\t1\t9\n10\t2\t10\n10\t3\t11\n9\t3\t1\n5\t1\t1\n5\t2\t2\n",
        )
        .unwrap();
        let mut preds = Vec::new();
        let m = evaluate(&model, &test, &ScoreParams::default(), |p| {
            preds.push(p.clone())
        });
        // Session 9 has one event and is skipped; 5 comes before 10.
        let keys: Vec<(String, usize)> = preds
            .iter()
            .map(|p| (p.session.clone(), p.position))
            .collect();
        assert_eq!(
            keys,
            vec![("5".into(), 0), ("10".into(), 0), ("10".into(), 1)]
        );
        assert_eq!(m.events, 3);
        // 1 -> 2 and 2 -> 3 are exactly what training showed: every target is the best item
        // the shopper has not seen yet.
        assert_eq!(m.hr20, 1.0);
        assert!(m.mrr20 > 0.3 && m.mrr20 <= 1.0);
        let seen = |p: &Prediction| {
            test.iter().find(|s| s.key == p.session).unwrap().events[..=p.position]
                .iter()
                .map(|e| e.0)
                .collect::<Vec<u64>>()
        };
        for p in &preds {
            let best_new = p.ranked.iter().find(|id| !seen(p).contains(id)).unwrap();
            assert_eq!(*best_new, p.target, "{p:?}");
        }
    }
}
