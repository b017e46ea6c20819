//! The merchant's dashboard at `/admin`: one HTML page with server-rendered SVG charts (no
//! script, no external assets), drawn from a [`Report`].
//!
//! Every chart is an `<svg class="chart">` with a stable id, and every mark has a class
//! (`point`, `ci`, `series`, `pt`, `day`, `seg`, `bar`), so tests can count what was drawn.

use crate::report_cmd::{lift_text, metric_rows, percent, value};
use std::fmt::Write as _;
use tailor_core::report::{date_text, ArmsReport, Report};

/// Colours of the two sides of a comparison.
const CONTROL: &str = "#8a8f98";
const TREATMENT: &str = "#2f6fdf";
/// Colours of the lifecycle stages, in `Stage::ALL` order.
const STAGE_COLOURS: [&str; 8] = [
    "#c9d6ea", "#8fb3e8", "#4f86d9", "#7cc49a", "#2e9e5f", "#e0b43c", "#e07b3c", "#b5483a",
];
const WIDTH: f64 = 720.0;

/// Escape text for HTML and SVG (content and attribute values).
pub fn esc(s: &str) -> String {
    crate::static_files::escape_html(s)
}

/// Linear scale from `[d0, d1]` to `[r0, r1]`.
fn scale(d0: f64, d1: f64, r0: f64, r1: f64) -> impl Fn(f64) -> f64 {
    move |x| {
        if d1 == d0 {
            (r0 + r1) / 2.0
        } else {
            r0 + (x - d0) / (d1 - d0) * (r1 - r0)
        }
    }
}

fn label(a: &ArmsReport) -> String {
    if a.id == "holdout" {
        "all placements (holdout)".to_owned()
    } else {
        format!("{} ({})", a.placement, a.id)
    }
}

/// Session conversion lift with its 95% interval, one row per experiment and the holdout.
fn lift_chart(out: &mut String, rows: &[&ArmsReport]) {
    let row_h = 34.0;
    let (left, right, top) = (230.0, WIDTH - 30.0, 30.0);
    let height = top + row_h * rows.len() as f64 + 30.0;
    let mut lo: f64 = -0.05;
    let mut hi: f64 = 0.05;
    for a in rows {
        let c = &a.metrics.session_conversion;
        if let (Some(l), Some(h)) = (c.lift_low, c.lift_high) {
            lo = lo.min(l);
            hi = hi.max(h);
        }
    }
    let pad = (hi - lo) * 0.1;
    let x = scale(lo - pad, hi + pad, left, right);
    let _ = write!(
        out,
        r#"<svg class="chart" id="chart-lift" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Session conversion lift with 95% interval per placement">"#
    );
    let _ = write!(
        out,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fff"/><line class="zero" x1="{z:.1}" x2="{z:.1}" y1="{top}" y2="{b:.1}" stroke="#444" stroke-dasharray="4 3"/><text x="{z:.1}" y="18" text-anchor="middle" font-size="12">no difference</text>"##,
        z = x(0.0),
        b = height - 30.0
    );
    for (i, a) in rows.iter().enumerate() {
        let c = &a.metrics.session_conversion;
        let y = top + row_h * (i as f64 + 0.5);
        let _ = write!(
            out,
            r#"<g class="lift-row" data-id="{}"><text x="10" y="{:.1}" font-size="13">{}</text>"#,
            esc(&a.id),
            y + 4.0,
            esc(&label(a))
        );
        match (c.lift, c.lift_low, c.lift_high) {
            (Some(l), Some(lo), Some(hi)) => {
                let colour = if lo > 0.0 {
                    "#2e9e5f"
                } else if hi < 0.0 {
                    "#b5483a"
                } else {
                    "#555"
                };
                let _ = write!(
                    out,
                    r#"<line class="ci" x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="3"/><circle class="point" cx="{:.1}" cy="{y:.1}" r="6" fill="{colour}"><title>{}</title></circle>"#,
                    x(lo),
                    x(hi),
                    x(l),
                    esc(&format!("{}: {}", label(a), lift_text(c)))
                );
            }
            _ => {
                let _ = write!(
                    out,
                    r##"<text class="no-data" x="{left}" y="{:.1}" font-size="12" fill="#777">insufficient data</text>"##,
                    y + 4.0
                );
            }
        }
        out.push_str("</g>");
    }
    for t in [lo, 0.0, hi] {
        // Labels closer than 40 px to the zero label would overlap it.
        if t != 0.0 && (x(t) - x(0.0)).abs() < 40.0 {
            continue;
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#,
            x(t),
            height - 10.0,
            percent(t)
        );
    }
    out.push_str("</svg>");
}

/// Cumulative session conversion of both sides, by day.
fn cumulative_chart(out: &mut String, n: usize, a: &ArmsReport) {
    let (left, right, top, bottom) = (60.0, WIDTH - 20.0, 20.0, 200.0);
    let height = bottom + 40.0;
    let pts = &a.cumulative;
    let ymax = pts
        .iter()
        .flat_map(|p| [p.control_conversion, p.treatment_conversion])
        .fold(0.0f64, f64::max)
        .max(0.01)
        * 1.15;
    let x = scale(0.0, (pts.len().max(2) - 1) as f64, left, right);
    let y = scale(0.0, ymax, bottom, top);
    let _ = write!(
        out,
        r##"<svg class="chart cumulative" id="chart-cumulative-{n}" data-id="{}" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Cumulative session conversion by day"><rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fff"/><line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="#999"/><line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#999"/>"##,
        esc(&a.id)
    );
    for t in [0.0, ymax / 2.0, ymax] {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"#,
            left - 6.0,
            y(t) + 4.0,
            percent(t)
        );
    }
    for (side, colour, get) in [
        (
            "control",
            CONTROL,
            (|p: &tailor_core::report::CumulativePoint| p.control_conversion)
                as fn(&tailor_core::report::CumulativePoint) -> f64,
        ),
        ("treatment", TREATMENT, |p| p.treatment_conversion),
    ] {
        let line: Vec<String> = pts
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i as f64), y(get(p))))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="series {side}" points="{}" fill="none" stroke="{colour}" stroke-width="2.5"/>"#,
            line.join(" ")
        );
        for (i, p) in pts.iter().enumerate() {
            let _ = write!(
                out,
                r#"<circle class="pt {side}" cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{} {side}: {}</title></circle>"#,
                x(i as f64),
                y(get(p)),
                date_text(p.until - 1),
                percent(get(p))
            );
        }
    }
    if let (Some(first), Some(last)) = (pts.first(), pts.last()) {
        let _ = write!(
            out,
            r#"<text x="{left}" y="{:.1}" font-size="11">{}</text><text x="{right}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
            bottom + 16.0,
            date_text(first.until - 1),
            bottom + 16.0,
            date_text(last.until - 1)
        );
    }
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" fill="{CONTROL}">■ {}</text><text x="{:.1}" y="{:.1}" font-size="12" fill="{TREATMENT}">■ {}</text></svg>"#,
        left + 10.0,
        height - 6.0,
        esc(&a.control_arm),
        left + 130.0,
        height - 6.0,
        esc(&a.treatment_arm)
    );
}

/// Shoppers per lifecycle stage by day, stacked.
fn segments_chart(out: &mut String, r: &Report) {
    let (left, right, top, bottom) = (60.0, WIDTH - 20.0, 20.0, 220.0);
    let height = bottom + 60.0;
    let total_max = r
        .segments
        .iter()
        .map(|p| p.counts.iter().map(|c| c.1).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = r.segments.len().max(1) as f64;
    let slot = (right - left) / n;
    let bar = (slot * 0.8).max(1.0);
    let y = scale(0.0, total_max, bottom, top);
    let _ = write!(
        out,
        r##"<svg class="chart" id="chart-segments" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Shoppers per lifecycle stage by day"><rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fff"/><line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#999"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
        left - 6.0,
        top + 4.0,
        total_max as u64
    );
    for (i, p) in r.segments.iter().enumerate() {
        let x0 = left + slot * i as f64 + (slot - bar) / 2.0;
        let _ = write!(
            out,
            r#"<g class="day" data-date="{}">"#,
            date_text(p.at - 1)
        );
        let mut acc = 0u64;
        for (k, (name, count)) in p.counts.iter().enumerate() {
            if *count == 0 {
                continue;
            }
            let (y_top, y_bottom) = (y((acc + count) as f64), y(acc as f64));
            let _ = write!(
                out,
                r#"<rect class="seg seg-{}" x="{x0:.1}" y="{y_top:.1}" width="{bar:.1}" height="{:.1}" fill="{}"><title>{}: {} {}</title></rect>"#,
                esc(name),
                (y_bottom - y_top).max(0.5),
                STAGE_COLOURS[k % STAGE_COLOURS.len()],
                date_text(p.at - 1),
                count,
                esc(&name.replace('_', " "))
            );
            acc += count;
        }
        out.push_str("</g>");
    }
    if let Some(first) = r.segments.first() {
        for (k, (name, _)) in first.counts.iter().enumerate() {
            let lx = left + (k % 4) as f64 * 160.0;
            let ly = bottom + 22.0 + (k / 4) as f64 * 18.0;
            let _ = write!(
                out,
                r#"<rect x="{lx:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
                ly - 9.0,
                STAGE_COLOURS[k % STAGE_COLOURS.len()],
                lx + 14.0,
                ly,
                esc(&name.replace('_', " "))
            );
        }
    }
    out.push_str("</svg>");
}

/// The most shown items of one slot, as horizontal bars of impressions.
fn top_items_chart(
    out: &mut String,
    n: usize,
    slot: &tailor_core::report::SlotAttribution,
    titles: &dyn Fn(u64) -> Option<String>,
) {
    let row_h = 22.0;
    let (left, right, top) = (260.0, WIDTH - 80.0, 10.0);
    let height = top * 2.0 + row_h * slot.top_items.len().max(1) as f64;
    let max = slot
        .top_items
        .iter()
        .map(|i| i.impressions)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = scale(0.0, max, left, right);
    let _ = write!(
        out,
        r##"<svg class="chart top-items" id="chart-top-{n}" data-slot="{}" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Most recommended items"><rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fff"/>"##,
        esc(&slot.slot)
    );
    for (i, item) in slot.top_items.iter().enumerate() {
        let y = top + row_h * i as f64;
        let name = titles(item.item).unwrap_or_else(|| format!("item {}", item.item));
        let name: String = name.chars().take(36).collect();
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12">{}</text><rect class="bar" x="{left}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{TREATMENT}"><title>{} impressions, {} clicks</title></rect><text x="{:.1}" y="{:.1}" font-size="11">{} / {} clicks</text>"##,
            left - 8.0,
            y + 14.0,
            esc(&name),
            y + 3.0,
            (x(item.impressions as f64) - left).max(1.0),
            row_h - 6.0,
            item.impressions,
            item.clicks,
            x(item.impressions as f64) + 6.0,
            y + 14.0,
            item.impressions,
            item.clicks
        );
    }
    out.push_str("</svg>");
}

fn arms_table(out: &mut String, a: &ArmsReport) {
    let _ = write!(
        out,
        "<table><thead><tr><th>metric</th><th>{}</th><th>{}</th><th>lift [95% interval]</th><th>p</th><th>verdict</th></tr></thead><tbody>",
        esc(&a.control_arm),
        esc(&a.treatment_arm)
    );
    for (name, c, kind) in metric_rows(a) {
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td class="verdict {}">{}</td></tr>"#,
            esc(&name),
            value(c.control, kind),
            value(c.treatment, kind),
            esc(&lift_text(c)),
            c.p_value,
            serde_json::to_value(c.verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            c.verdict.text()
        );
    }
    out.push_str("</tbody></table>");
}

/// The whole page.
pub fn page(site: &str, r: &Report, titles: &dyn Fn(u64) -> Option<String>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>Tailor · {site}</title><style>
body{{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:760px;color:#222;padding:0 12px}}
h1{{font-size:22px}}h2{{font-size:17px;margin-top:32px}}h3{{font-size:14px}}
table{{border-collapse:collapse;margin:8px 0 16px;width:100%}}td,th{{border-bottom:1px solid #e3e3e3;padding:4px 6px;text-align:right}}td:first-child,th:first-child{{text-align:left}}
.verdict.higher{{color:#2e9e5f;font-weight:600}}.verdict.lower{{color:#b5483a;font-weight:600}}.note{{color:#666}}svg.chart{{display:block;max-width:100%;height:auto;margin:8px 0}}
</style></head><body><h1>Tailor · {site}</h1><p class="note">As of {date}: {events} events from {shoppers} shoppers. Intervals are 95%; a result is significant when p &lt; 0.05. Methods: docs/reports.md.</p>"#,
        site = esc(site),
        date = date_text(r.now),
        events = r.events,
        shoppers = r.shoppers
    );
    if !r.diagnostics.is_empty() {
        out.push_str("<h2>What shoppers' browsers reported</h2><table><thead><tr><th>code</th><th>reports</th><th>shoppers</th><th>last</th><th>for example</th></tr></thead><tbody>");
        for d in &r.diagnostics {
            let _ = write!(
                out,
                r#"<tr class="diagnostic"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&d.code),
                d.reports,
                d.shoppers,
                date_text(d.last),
                d.details
                    .iter()
                    .map(|x| esc(x))
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
        }
        out.push_str("</tbody></table>");
        for d in &r.diagnostics {
            if let Some(hint) = crate::report_cmd::diagnostic_hint(&d.code) {
                let _ = write!(
                    out,
                    r#"<p class="note">{}: {}.</p>"#,
                    esc(&d.code),
                    esc(hint)
                );
            }
        }
    }
    let mut rows: Vec<&ArmsReport> = r.experiments.iter().collect();
    rows.push(&r.holdout);
    out.push_str("<h2>Lift in session conversion, per placement</h2>");
    lift_chart(&mut out, &rows);
    out.push_str("<h2>Cumulative session conversion over time</h2>");
    for (n, a) in rows.iter().enumerate() {
        let _ = write!(
            out,
            "<h3>{}: {} {} shoppers, {} {} shoppers</h3>",
            esc(&label(a)),
            esc(&a.control_arm),
            a.control_shoppers,
            esc(&a.treatment_arm),
            a.treatment_shoppers
        );
        if a.sample_ratio_p_value.is_some_and(|p| p < 0.001) {
            out.push_str(r#"<p class="warning"><strong>The split differs from the configured one (sample ratio check p &lt; 0.001): do not trust these numbers.</strong></p>"#);
        }
        cumulative_chart(&mut out, n, a);
        arms_table(&mut out, a);
    }
    out.push_str("<h2>Lifecycle segments over time</h2>");
    segments_chart(&mut out, r);
    out.push_str("<h2>Top recommended items per placement</h2>");
    if r.slots.is_empty() {
        out.push_str(r#"<p class="note">No recommendation impressions yet.</p>"#);
    }
    for (n, s) in r.slots.iter().enumerate() {
        let _ = write!(
            out,
            "<h3>{}: {} impressions, CTR {}, {} attributed orders, {:.2} attributed revenue</h3>",
            esc(&s.slot),
            s.impressions,
            percent(s.ctr),
            s.attributed_orders,
            s.attributed_revenue
        );
        top_items_chart(&mut out, n, s, titles);
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc(r#"<b a="1">&'"#), "&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
    }
}
