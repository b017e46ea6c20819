//! `tailor report` and `tailor export-profiles`: the experiment report and the customer
//! export, computed by `tailor-core` from the stored events, printed as text, JSON, CSV or
//! JSON lines. The admin endpoints serve the same data.

use crate::catalog::Catalog;
use crate::store::{EventStore, StorageError};
use tailor_core::audience::{customers, to_csv_row, CustomerRecord, CSV_HEADER};
use tailor_core::config::StoreConfig;
use tailor_core::model::Model;
use tailor_core::report::{build, date_text, ArmsReport, Report, ReportOptions};
use tailor_core::stats::Comparison;

/// The report of `site` as of `now` (ms).
pub fn report(
    store: &dyn EventStore,
    site: &str,
    config: &StoreConfig,
    now: i64,
) -> Result<Report, StorageError> {
    let events = store.events(site)?;
    Ok(build(
        &events,
        &ReportOptions {
            now,
            experiments: config.experiments.clone(),
            segments: config.segments,
        },
    ))
}

/// The item attributes (categories, prices) of `catalog`, as the profile learns them.
pub fn catalog_model(catalog: &Catalog) -> Model {
    crate::snapshot::build(catalog, &Default::default()).model
}

/// The customer records of `site` as of `now`; with `all`, shoppers who never ordered too.
pub fn profiles(
    store: &dyn EventStore,
    site: &str,
    catalog: &Catalog,
    config: &StoreConfig,
    now: i64,
    all: bool,
) -> Result<Vec<CustomerRecord>, StorageError> {
    let events = store.events(site)?;
    let model = catalog_model(catalog);
    Ok(customers(
        &events,
        Some(&model),
        now,
        &config.segments,
        !all,
    ))
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl ExportFormat {
    /// The format named `name` (`csv` or `jsonl`).
    pub fn parse(name: &str) -> Result<ExportFormat, String> {
        match name {
            "csv" => Ok(ExportFormat::Csv),
            "jsonl" => Ok(ExportFormat::Jsonl),
            other => Err(format!("format must be csv or jsonl, got {other:?}")),
        }
    }

    /// The media type of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Jsonl => "application/x-ndjson",
        }
    }
}

/// `records` in `format`, each line ending in `\n`.
pub fn export_text(records: &[CustomerRecord], format: ExportFormat) -> String {
    let mut out = String::new();
    match format {
        ExportFormat::Csv => {
            out.push_str(CSV_HEADER);
            out.push('\n');
            for r in records {
                out.push_str(&to_csv_row(r));
                out.push('\n');
            }
        }
        ExportFormat::Jsonl => {
            for r in records {
                out.push_str(&serde_json::to_string(r).unwrap_or_default());
                out.push('\n');
            }
        }
    }
    out
}

/// A share as a percentage with one decimal.
pub fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "-".into()
    }
}

fn signed_percent(x: f64) -> String {
    if x.is_finite() {
        format!("{:+.1}%", x * 100.0)
    } else {
        "-".into()
    }
}

fn money(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "-".into()
    }
}

/// How a metric's values read: shares or amounts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A share (shown as a percentage).
    Rate,
    /// An amount in the store's currency.
    Money,
}

/// The named metrics of one comparison, in report order.
pub fn metric_rows(a: &ArmsReport) -> Vec<(String, &Comparison, Kind)> {
    let m = &a.metrics;
    let mut rows = vec![
        (
            "session conversion".to_owned(),
            &m.session_conversion,
            Kind::Rate,
        ),
        (
            "visitor conversion".to_owned(),
            &m.visitor_conversion,
            Kind::Rate,
        ),
        ("block CTR".to_owned(), &m.block_ctr, Kind::Rate),
        (
            "average order value".to_owned(),
            &m.average_order_value,
            Kind::Money,
        ),
        (
            "revenue per visitor".to_owned(),
            &m.revenue_per_visitor,
            Kind::Money,
        ),
        (
            "revenue per visitor (CUPED)".to_owned(),
            &m.revenue_per_visitor_cuped.comparison,
            Kind::Money,
        ),
    ];
    for c in &m.repeat_purchase_90d {
        rows.push((
            format!("90-day repeat, {}", c.cohort.replace('_', " ")),
            &c.comparison,
            Kind::Rate,
        ));
    }
    rows
}

/// A value of a metric.
pub fn value(x: f64, kind: Kind) -> String {
    match kind {
        Kind::Rate => percent(x),
        Kind::Money => money(x),
    }
}

/// The relative lift and its interval, `+9.6% [+6.1%, +13.1%]`.
pub fn lift_text(c: &Comparison) -> String {
    match (c.lift, c.lift_low, c.lift_high) {
        (Some(l), Some(lo), Some(hi)) => format!(
            "{} [{}, {}]",
            signed_percent(l),
            signed_percent(lo),
            signed_percent(hi)
        ),
        (Some(l), _, _) => signed_percent(l),
        _ => "-".into(),
    }
}

fn arms_text(out: &mut String, a: &ArmsReport) {
    use std::fmt::Write as _;
    let title = if a.id == "holdout" {
        "Global holdout: holdout against personalized (every placement)".to_owned()
    } else {
        format!("Experiment {} (placement {})", a.id, a.placement)
    };
    let _ = writeln!(out, "\n{title}");
    let dates = match (a.start, a.end) {
        (Some(s), Some(e)) => format!(", {} to {}", date_text(s), date_text(e)),
        (Some(s), None) => format!(", since {}", date_text(s)),
        (None, Some(e)) => format!(", until {}", date_text(e)),
        (None, None) => String::new(),
    };
    let _ = writeln!(
        out,
        "  {} {} shoppers, {} {} shoppers{dates}",
        a.control_arm, a.control_shoppers, a.treatment_arm, a.treatment_shoppers
    );
    if let Some(p) = a.sample_ratio_p_value {
        let warn = if p < 0.001 {
            "  WARNING: the split differs from the configured one; do not trust these numbers"
        } else {
            ""
        };
        let _ = writeln!(out, "  sample ratio check p = {p:.4}{warn}");
    }
    if a.assignment_mismatches > 0 {
        let _ = writeln!(
            out,
            "  {} shoppers left out: their logged arm disagrees with the assignment",
            a.assignment_mismatches
        );
    }
    let _ = writeln!(
        out,
        "  {:<34} {:>12} {:>12}  {:<28} {:>8}  verdict",
        "metric", a.control_arm, a.treatment_arm, "lift [95% interval]", "p"
    );
    for (name, c, kind) in metric_rows(a) {
        let _ = writeln!(
            out,
            "  {:<34} {:>12} {:>12}  {:<28} {:>8.4}  {}",
            name,
            value(c.control, kind),
            value(c.treatment, kind),
            lift_text(c),
            c.p_value,
            c.verdict.text()
        );
    }
    let cuped = &a.metrics.revenue_per_visitor_cuped;
    let _ = writeln!(
        out,
        "  CUPED: theta {:.3}, variance removed {}",
        cuped.theta,
        percent(cuped.variance_reduction)
    );
}

/// The report as text for a terminal.
pub fn text(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Tailor report as of {}: {} events, {} shoppers",
        date_text(r.now),
        r.events,
        r.shoppers
    );
    let _ = writeln!(
        out,
        "Attribution: clicks matched to impressions by shopper and request id; an add-to-cart of\nthe clicked item in the same session, and a purchase of it within {} days, go to the last click.",
        r.attribution_window_ms / 86_400_000
    );
    if r.slots.is_empty() {
        let _ = writeln!(out, "\nNo recommendation impressions yet.");
    } else {
        let _ = writeln!(
            out,
            "\n{:<20} {:>11} {:>8} {:>7} {:>13} {:>8} {:>12} {:>10}",
            "slot",
            "impressions",
            "clicks",
            "CTR",
            "add-to-carts",
            "orders",
            "revenue",
            "unmatched"
        );
        for s in &r.slots {
            let _ = writeln!(
                out,
                "{:<20} {:>11} {:>8} {:>7} {:>13} {:>8} {:>12} {:>10}",
                s.slot,
                s.impressions,
                s.clicks,
                percent(s.ctr),
                s.attributed_add_to_carts,
                s.attributed_orders,
                money(s.attributed_revenue),
                s.unmatched_clicks
            );
        }
    }
    for a in &r.experiments {
        arms_text(&mut out, a);
    }
    arms_text(&mut out, &r.holdout);
    if let Some(last) = r.segments.last() {
        let _ = writeln!(out, "\nLifecycle segments on {}:", date_text(last.at));
        for (name, n) in &last.counts {
            let _ = writeln!(out, "  {:<18} {n}", name.replace('_', " "));
        }
    }
    if !r.diagnostics.is_empty() {
        let _ = writeln!(out, "\nWhat shoppers' browsers reported:");
        for d in &r.diagnostics {
            let n = |k: u64, one: &str| format!("{k} {one}{}", if k == 1 { "" } else { "s" });
            let _ = writeln!(
                out,
                "  {}: {} from {}, last on {}{}",
                d.code,
                n(d.reports, "report"),
                n(d.shoppers, "shopper"),
                date_text(d.last),
                diagnostic_hint(&d.code)
                    .map(|h| format!("\n    {h}"))
                    .unwrap_or_default()
            );
            for detail in &d.details {
                let _ = writeln!(out, "    e.g. {detail}");
            }
        }
    }
    out
}

/// What a diagnostic code means for the merchant, and what to do about it.
pub fn diagnostic_hint(code: &str) -> Option<&'static str> {
    match code {
        "NOTHING_RECOGNISED" => Some(
            "no theme adapter recognised these pages, which were left as the theme rendered them: give the script tag data-grid, data-card and data-card-id selectors, or set [site.adapter] in the server config (README, \"The script tag's options\")",
        ),
        "INVALID_SELECTOR" => Some(
            "the grid or card selector (the script tag's data-grid and data-card, or [site.adapter] in the server config) is not one browsers can parse, so the built-in adapters were used instead; the detail shows both",
        ),
        "PROFILE_UNREADABLE" => Some(
            "a shopper's device held a profile the engine could not read (a damaged copy, or one from a format this engine does not know), so that shopper started afresh; a few are harmless, a rise after an update means the update dropped what devices had learned",
        ),
        _ => None,
    }
}
