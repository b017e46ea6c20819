//! `tailor eval`: train on one file, replay another through the browser's scoring path, and
//! report next-item quality, size and speed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tailor_core::eval::{evaluate, read_session_rec_tsv, Metrics};
use tailor_core::model::ScoreParams;
use tailor_core::snapshot::{ModelKind, Snapshot};
use tailor_core::train::{
    sessions_from_events, train, train_tuned, train_within, Session, StoreInput, TrainParams,
};

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tab-separated `SessionId ItemId Time` with a header.
    SessionRec,
    /// JSON lines of Tailor events (`docs/events.md`); product views form the sessions.
    Events,
}

/// Options of `tailor eval`.
pub struct EvalOptions {
    /// Format of both files.
    pub format: Format,
    /// Largest snapshot, brotli-compressed; the trainer shrinks the session sample and then the
    /// neighbour lists to fit.
    pub max_snapshot_brotli: usize,
    /// Training file.
    pub train: PathBuf,
    /// Test file.
    pub test: PathBuf,
    /// Where to write one JSON line per prediction.
    pub predictions: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    pub json: bool,
    /// Scorer weights: `None` lets the trainer tune them on a validation split of the
    /// training data; `Some` fixes them.
    pub score: Option<ScoreParams>,
    /// Training settings.
    pub train_params: TrainParams,
}

/// What `tailor eval` measured.
pub struct EvalReport {
    /// Quality.
    pub metrics: Metrics,
    /// Encoded snapshot bytes.
    pub snapshot_bytes: usize,
    /// Brotli-compressed snapshot bytes.
    pub snapshot_bytes_brotli: usize,
    /// Training time in seconds.
    pub train_seconds: f64,
    /// Mean scoring time per test event in microseconds.
    pub score_micros: f64,
    /// Items in the model.
    pub items: usize,
    /// The weights used, and how they were chosen.
    pub params: ScoreParams,
    /// Validation events used for tuning (0 when the weights were fixed or data was too small).
    pub validation_events: usize,
}

fn read_sessions(path: &Path, format: Format) -> Result<Vec<Session>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match format {
        Format::SessionRec => {
            read_session_rec_tsv(&text).map_err(|e| format!("{}: {e}", path.display()))
        }
        Format::Events => {
            let events = tailor_core::events::parse_json_lines(&text)
                .map_err(|(line, e)| format!("{}: line {line}: {e}", path.display()))?;
            Ok(sessions_from_events(&events))
        }
    }
}

/// Run the evaluation.
pub fn run(opts: &EvalOptions) -> Result<EvalReport, String> {
    let train_data = read_sessions(&opts.train, opts.format)?;
    let test_data = read_sessions(&opts.test, opts.format)?;
    let t0 = Instant::now();
    let (model, validation_events) = match opts.score {
        Some(fixed) => {
            let mut m = train(&train_data, &StoreInput::default(), &opts.train_params);
            m.params = fixed;
            (m, 0)
        }
        None => {
            let (m, tuning) = train_tuned(
                &train_data,
                &StoreInput::default(),
                &opts.train_params,
                5000,
            );
            (m, tuning.validation_events)
        }
    };
    let budget = opts.max_snapshot_brotli;
    let fits = |b: &[u8]| b.len() <= budget || crate::compress::brotli(b).len() <= budget;
    let mut bytes = Snapshot::new(ModelKind::Hybrid, 0, model.clone()).encode();
    let model = if fits(&bytes) {
        model
    } else {
        let (mut smaller, _) = train_within(
            &train_data,
            &StoreInput::default(),
            &opts.train_params,
            fits,
        );
        smaller.params = model.params;
        bytes = Snapshot::new(ModelKind::Hybrid, 0, smaller.clone()).encode();
        smaller
    };
    let train_seconds = t0.elapsed().as_secs_f64();
    let params = model.params;
    let snapshot_bytes = bytes.len();
    let snapshot_bytes_brotli = crate::compress::brotli(&bytes).len();

    let mut out = match &opts.predictions {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?,
        )),
        None => None,
    };
    let mut write_err = None;
    let t1 = Instant::now();
    let metrics = evaluate(&model, &test_data, &params, |p| {
        if let Some(w) = out.as_mut() {
            let session = match p.session.parse::<i64>() {
                Ok(n) => serde_json::json!(n),
                Err(_) => serde_json::json!(p.session),
            };
            let line = serde_json::json!({
                "session": session, "position": p.position, "target": p.target, "ranked": p.ranked,
            });
            if let Err(e) = writeln!(w, "{line}") {
                write_err.get_or_insert(e);
            }
        }
    });
    let elapsed = t1.elapsed().as_secs_f64();
    if let Some(mut w) = out {
        if let Some(e) = write_err {
            return Err(format!("writing predictions failed: {e}"));
        }
        w.flush()
            .map_err(|e| format!("writing predictions failed: {e}"))?;
    }
    Ok(EvalReport {
        metrics,
        snapshot_bytes,
        snapshot_bytes_brotli,
        train_seconds,
        score_micros: elapsed * 1e6 / metrics.events.max(1) as f64,
        items: model.items.len(),
        params,
        validation_events,
    })
}

/// Print the report as a table or one JSON object.
pub fn print(r: &EvalReport, json: bool) {
    let m = &r.metrics;
    if json {
        crate::out!(
            "{}",
            serde_json::json!({
                "hr10": m.hr10, "hr20": m.hr20, "mrr10": m.mrr10, "mrr20": m.mrr20,
                "coverage": m.coverage, "test_events": m.events, "items": r.items,
                "snapshot_bytes": r.snapshot_bytes, "snapshot_bytes_brotli": r.snapshot_bytes_brotli,
                "train_seconds": r.train_seconds, "score_micros_per_event": r.score_micros,
                "params": {"k": r.params.k, "sample": r.params.sample, "sequential": r.params.sequential,
                           "popularity": r.params.popularity, "recency": r.params.recency,
                           "idf": r.params.idf, "forward": r.params.forward},
                "validation_events": r.validation_events,
            })
        );
        return;
    }
    crate::out!("metric                 value");
    crate::out!("HR@10                 {:.4}", m.hr10);
    crate::out!("HR@20                 {:.4}", m.hr20);
    crate::out!("MRR@10                {:.4}", m.mrr10);
    crate::out!("MRR@20                {:.4}", m.mrr20);
    crate::out!("item coverage@20      {:.4}", m.coverage);
    crate::out!("test events           {}", m.events);
    crate::out!("items                 {}", r.items);
    crate::out!("snapshot bytes        {}", r.snapshot_bytes);
    crate::out!("snapshot brotli       {}", r.snapshot_bytes_brotli);
    crate::out!("training time         {:.3} s", r.train_seconds);
    crate::out!("scoring per event     {:.1} us", r.score_micros);
    let p = &r.params;
    let how = if r.validation_events > 0 {
        format!(
            "tuned on {} validation events from the training file",
            r.validation_events
        )
    } else {
        "fixed".to_owned()
    };
    crate::out!(
        "weights               recency {} sequential {} popularity {} k {} sample {} ({how})",
        p.recency,
        p.sequential,
        p.popularity,
        p.k,
        p.sample
    );
}
