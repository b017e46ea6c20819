//! Experiment reports: what personalization earns, from the stored events alone.
//!
//! [`build`] is a pure function of an event slice, the store's configuration and the report's
//! clock. It does three things (methods in `docs/reports.md`):
//!
//! 1. **Attribution** per recommendation slot: impressions and clicks joined by shopper and
//!    rec request id; an add-to-cart of the clicked item in the same session, and a purchase
//!    line of the clicked item by the same shopper within [`ATTRIBUTION_WINDOW_MS`] (7 days) of
//!    the click, are credited to the last such click (last touch).
//! 2. **Per-arm metrics** for each experiment (control against treatment) and for the global
//!    holdout (holdout against everyone personalized), counted per shopper from their first
//!    `exposure` event: block CTR, session conversion rate, average order value, revenue per
//!    visitor (plain and CUPED-adjusted with pre-period spend), visitor conversion and the
//!    90-day repeat purchase rate per lifecycle cohort, each with a 95% interval
//!    ([`crate::stats`]).
//! 3. **Time series** for the dashboard: cumulative metrics per arm by day, lifecycle segment
//!    sizes by day, and the most recommended items per slot.

use crate::events::{Event, EventKind};
use crate::experiments::{assign, Arm, ExperimentConfig};
use crate::profile::Profile;
use crate::segments::{stage, SegmentConfig, Stage};
use crate::stats::{
    cuped, ratio_delta, split_p_value, two_proportions, welch, Comparison, Cuped, Summary,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A purchase of a clicked item up to this long after the click is credited to the click.
pub const ATTRIBUTION_WINDOW_MS: i64 = 7 * 86_400_000;
/// A buyer "repeats" when they order again within this many days of their first order in the
/// experiment; only buyers whose first order is at least this old are counted.
pub const REPEAT_WINDOW_DAYS: i64 = 90;
/// Spend in this many days before a shopper's first exposure is CUPED's covariate.
pub const PRE_PERIOD_DAYS: i64 = 90;
/// Most points in a time series (days are merged into longer steps beyond this).
pub const MAX_POINTS: usize = 60;
/// Items listed per slot in the top recommended items.
pub const TOP_ITEMS: usize = 10;

const DAY: i64 = 86_400_000;

/// What the report needs besides the events.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The report's clock (ms): the end of open experiments and of the repeat window.
    pub now: i64,
    /// The store's experiments (for dates, splits and checking logged arms).
    pub experiments: ExperimentConfig,
    /// Lifecycle thresholds (cohorts and segment sizes).
    pub segments: SegmentConfig,
}

/// How often a slot showed an item and how often it was clicked there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemCount {
    /// Product id.
    pub item: u64,
    /// Impressions of blocks that contained it.
    pub impressions: u64,
    /// Clicks on it in this slot.
    pub clicks: u64,
}

/// Attribution for one recommendation slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotAttribution {
    /// The slot name.
    pub slot: String,
    /// Block impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// clicks / impressions.
    pub ctr: f64,
    /// Clicks whose request id matches no impression of the same shopper and slot (not
    /// credited with anything).
    pub unmatched_clicks: u64,
    /// Add-to-carts of a clicked item in the click's session.
    pub attributed_add_to_carts: u64,
    /// Orders with at least one line credited to this slot.
    pub attributed_orders: u64,
    /// Value of the credited lines (price × quantity).
    pub attributed_revenue: f64,
    /// The most shown items, most impressions first.
    pub top_items: Vec<ItemCount>,
}

/// The 90-day repeat purchase rate of one lifecycle cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortComparison {
    /// Lifecycle stage at first exposure.
    pub cohort: String,
    /// Buyers who ordered again within 90 days, as a share of buyers.
    pub comparison: Comparison,
}

/// Every metric, for one pair of arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Recommendation block clicks per impression (delta method over shoppers).
    pub block_ctr: Comparison,
    /// Sessions with an order per session (delta method over shoppers).
    pub session_conversion: Comparison,
    /// Shoppers with an order per shopper (two-proportion z-test).
    pub visitor_conversion: Comparison,
    /// Revenue per order (delta method over shoppers).
    pub average_order_value: Comparison,
    /// Revenue per shopper (Welch's t-test).
    pub revenue_per_visitor: Comparison,
    /// Revenue per shopper, CUPED-adjusted with pre-period spend.
    pub revenue_per_visitor_cuped: Cuped,
    /// 90-day repeat purchase rate per lifecycle cohort (two-proportion z-test), cohorts with
    /// any buyer only.
    pub repeat_purchase_90d: Vec<CohortComparison>,
}

/// One day (or step) of the cumulative series of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CumulativePoint {
    /// End of the step (ms, exclusive).
    pub until: i64,
    /// Shoppers exposed so far, control / holdout side.
    pub control_shoppers: u64,
    /// Shoppers exposed so far, treatment / personalized side.
    pub treatment_shoppers: u64,
    /// Session conversion rate so far, control side.
    pub control_conversion: f64,
    /// Session conversion rate so far, treatment side.
    pub treatment_conversion: f64,
    /// Revenue per shopper so far, control side.
    pub control_revenue_per_visitor: f64,
    /// Revenue per shopper so far, treatment side.
    pub treatment_revenue_per_visitor: f64,
}

/// One comparison: an experiment's control against its treatment, or the holdout against
/// everyone personalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmsReport {
    /// The experiment id, or `holdout`.
    pub id: String,
    /// The placement tested (`*` for the holdout: every placement).
    pub placement: String,
    /// What the control side is (`control` or `holdout`).
    pub control_arm: String,
    /// What the treatment side is (`treatment` or `personalized`).
    pub treatment_arm: String,
    /// Start (ms), when configured.
    pub start: Option<i64>,
    /// End (ms, exclusive), when configured.
    pub end: Option<i64>,
    /// The configured share of the treatment side (of both sides together), when known.
    pub expected_treatment_share: Option<f64>,
    /// Shoppers on the control side.
    pub control_shoppers: u64,
    /// Shoppers on the treatment side.
    pub treatment_shoppers: u64,
    /// p-value of the observed split against the configured one (a small value means the
    /// assignment or its logging is broken, and the metrics cannot be trusted).
    pub sample_ratio_p_value: Option<f64>,
    /// Shoppers left out because their logged arm disagrees with the configured assignment
    /// or with their own earlier exposures.
    pub assignment_mismatches: u64,
    /// The metrics.
    pub metrics: Metrics,
    /// Cumulative session conversion and revenue per visitor by day.
    pub cumulative: Vec<CumulativePoint>,
}

/// Lifecycle segment sizes at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentPoint {
    /// The moment (ms): shoppers seen before it, staged as of it.
    pub at: i64,
    /// Shoppers per stage, in [`Stage::ALL`] order.
    pub counts: Vec<(String, u64)>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The report's clock (ms).
    pub now: i64,
    /// Events read.
    pub events: u64,
    /// Distinct shoppers.
    pub shoppers: u64,
    /// The attribution window (ms).
    pub attribution_window_ms: i64,
    /// Attribution per recommendation slot, by slot name.
    pub slots: Vec<SlotAttribution>,
    /// Each experiment, in configuration order, then experiments seen only in exposures.
    pub experiments: Vec<ArmsReport>,
    /// The global holdout against everyone else who was exposed anywhere.
    pub holdout: ArmsReport,
    /// Lifecycle segment sizes over time.
    pub segments: Vec<SegmentPoint>,
    /// What shoppers' browsers reported (`diagnostic` events), one row per code, the most
    /// reported first.
    #[serde(default)]
    pub diagnostics: Vec<DiagnosticRow>,
}

/// One code of the `diagnostic` events browsers sent: a page no adapter understood
/// (`NOTHING_RECOGNISED`, sent once per session and page type), and the like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticRow {
    /// The code.
    pub code: String,
    /// Events with this code.
    pub reports: u64,
    /// Distinct shoppers who sent one.
    pub shoppers: u64,
    /// When it was last sent (ms).
    pub last: i64,
    /// Up to [`DIAGNOSTIC_DETAILS`] distinct details, the most recent first (for
    /// `NOTHING_RECOGNISED`, the page type and the path).
    pub details: Vec<String>,
}

/// Details kept per diagnostic code.
pub const DIAGNOSTIC_DETAILS: usize = 5;

/// The diagnostic rows of `sorted` (events in time order).
fn diagnostics(sorted: &[&Event]) -> Vec<DiagnosticRow> {
    let mut by_code: BTreeMap<&str, (DiagnosticRow, std::collections::BTreeSet<&str>)> =
        BTreeMap::new();
    for e in sorted.iter().rev() {
        let EventKind::Diagnostic { code, detail } = &e.kind else {
            continue;
        };
        let (row, shoppers) = by_code.entry(code).or_insert_with(|| {
            let row = DiagnosticRow {
                code: code.clone(),
                reports: 0,
                shoppers: 0,
                last: e.ts,
                details: Vec::new(),
            };
            (row, Default::default())
        });
        row.reports += 1;
        shoppers.insert(&e.shopper);
        if let Some(d) = detail.as_deref().filter(|d| !d.is_empty()) {
            if row.details.len() < DIAGNOSTIC_DETAILS && !row.details.iter().any(|x| x == d) {
                row.details.push(d.to_owned());
            }
        }
    }
    let mut rows: Vec<DiagnosticRow> = by_code
        .into_values()
        .map(|(mut row, shoppers)| {
            row.shoppers = shoppers.len() as u64;
            row
        })
        .collect();
    rows.sort_by(|a, b| b.reports.cmp(&a.reports).then(a.code.cmp(&b.code)));
    rows
}

/// Build the report from `events` (any order; bots already removed by the caller).
pub fn build(events: &[Event], opts: &ReportOptions) -> Report {
    let mut sorted: Vec<&Event> = events.iter().collect();
    crate::sort::sort_by(&mut sorted, |a, b| a.ts.cmp(&b.ts).then(a.id.cmp(&b.id)));
    let mut by_shopper: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in &sorted {
        by_shopper.entry(e.shopper.as_str()).or_default().push(e);
    }
    let slots = attribution(&by_shopper);
    let mut experiments = Vec::new();
    let mut ids: Vec<(String, String)> = opts
        .experiments
        .experiments
        .iter()
        .map(|e| (e.id.clone(), e.placement.clone()))
        .collect();
    for e in &sorted {
        if let EventKind::Exposure {
            placement,
            experiment: Some(id),
            ..
        } = &e.kind
        {
            if !ids.iter().any(|(known, _)| known == id) {
                ids.push((id.clone(), placement.clone()));
            }
        }
    }
    for (id, placement) in ids {
        experiments.push(experiment_report(&by_shopper, opts, &id, &placement));
    }
    let holdout = holdout_report(&by_shopper, opts);
    let segments = segment_sizes(&sorted, opts);
    let diagnostics = diagnostics(&sorted);
    Report {
        now: opts.now,
        events: events.len() as u64,
        shoppers: by_shopper.len() as u64,
        attribution_window_ms: ATTRIBUTION_WINDOW_MS,
        slots,
        experiments,
        holdout,
        segments,
        diagnostics,
    }
}

// ---------------------------------------------------------------------------------------------
// Attribution

fn attribution(by_shopper: &BTreeMap<&str, Vec<&Event>>) -> Vec<SlotAttribution> {
    #[derive(Default)]
    struct Acc {
        impressions: u64,
        clicks: u64,
        unmatched: u64,
        carts: u64,
        orders: u64,
        revenue: f64,
        items: HashMap<u64, (u64, u64)>,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for events in by_shopper.values() {
        // Impressions of this shopper by (request, slot): the items shown. Collected first:
        // an impression is logged when the block is seen, which can come a moment after a
        // fast click.
        let mut shown: HashMap<(&str, &str), Vec<u64>> = HashMap::new();
        for e in events {
            if let EventKind::RecImpression {
                request,
                slot,
                items,
                ..
            } = &e.kind
            {
                let a = acc.entry(slot.clone()).or_default();
                a.impressions += 1;
                for &i in items {
                    a.items.entry(i).or_default().0 += 1;
                }
                shown
                    .entry((request.as_str(), slot.as_str()))
                    .or_default()
                    .extend_from_slice(items);
            }
        }
        // Matched clicks so far, in time order: (ts, session, slot, item).
        let mut clicks: Vec<(i64, &str, &str, u64)> = Vec::new();
        for e in events {
            match &e.kind {
                EventKind::RecClick {
                    request,
                    slot,
                    item,
                    ..
                } => {
                    let a = acc.entry(slot.clone()).or_default();
                    a.clicks += 1;
                    a.items.entry(*item).or_default().1 += 1;
                    let matched = shown
                        .get(&(request.as_str(), slot.as_str()))
                        .is_some_and(|items| items.contains(item));
                    if matched {
                        clicks.push((e.ts, e.session.as_str(), slot.as_str(), *item));
                    } else {
                        a.unmatched += 1;
                    }
                }
                EventKind::AddToCart { item, .. } => {
                    let credited = clicks
                        .iter()
                        .rev()
                        .find(|c| c.1 == e.session && c.3 == *item && c.0 <= e.ts);
                    if let Some(c) = credited {
                        acc.entry(c.2.to_owned()).or_default().carts += 1;
                    }
                }
                EventKind::Purchase { lines, .. } => {
                    let mut slots_in_order: HashSet<&str> = HashSet::new();
                    for line in lines {
                        let credited = clicks.iter().rev().find(|c| {
                            c.3 == line.item && c.0 <= e.ts && e.ts - c.0 <= ATTRIBUTION_WINDOW_MS
                        });
                        if let Some(c) = credited {
                            acc.entry(c.2.to_owned()).or_default().revenue +=
                                line.price * line.qty as f64;
                            slots_in_order.insert(c.2);
                        }
                    }
                    for s in slots_in_order {
                        acc.entry(s.to_owned()).or_default().orders += 1;
                    }
                }
                _ => {}
            }
        }
    }
    acc.into_iter()
        .map(|(slot, a)| {
            let mut top: Vec<ItemCount> = a
                .items
                .iter()
                .map(|(&item, &(impressions, clicks))| ItemCount {
                    item,
                    impressions,
                    clicks,
                })
                .collect();
            crate::sort::sort_by(&mut top, |x, y| {
                y.impressions
                    .cmp(&x.impressions)
                    .then(y.clicks.cmp(&x.clicks))
                    .then(x.item.cmp(&y.item))
            });
            top.truncate(TOP_ITEMS);
            SlotAttribution {
                ctr: if a.impressions > 0 {
                    a.clicks as f64 / a.impressions as f64
                } else {
                    0.0
                },
                slot,
                impressions: a.impressions,
                clicks: a.clicks,
                unmatched_clicks: a.unmatched,
                attributed_add_to_carts: a.carts,
                attributed_orders: a.orders,
                attributed_revenue: a.revenue,
                top_items: top,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Per-shopper units

/// One shopper's outcome from their first exposure.
#[derive(Debug, Clone)]
struct Unit {
    start: i64,
    /// (first ts in the window, converted) per session.
    sessions: Vec<(i64, bool)>,
    /// (ts, value) per order.
    orders: Vec<(i64, f64)>,
    impressions: f64,
    clicks: f64,
    pre_spend: f64,
    cohort: Stage,
    /// Some(repeated) when the first order is old enough to judge.
    repeat: Option<bool>,
}

impl Unit {
    fn revenue(&self) -> f64 {
        self.orders.iter().map(|o| o.1).sum()
    }
}

/// The outcome of `events` (one shopper, time order) in `[start, end)`; `slot` limits the
/// impressions and clicks to one placement.
fn unit(events: &[&Event], start: i64, end: i64, slot: Option<&str>, opts: &ReportOptions) -> Unit {
    let mut profile = Profile::default();
    let mut pre_spend = 0.0;
    let mut sessions: Vec<(&str, i64, bool)> = Vec::new();
    let mut orders: Vec<(i64, f64)> = Vec::new();
    let mut seen_orders: HashSet<&str> = HashSet::new();
    let (mut impressions, mut clicks) = (0.0, 0.0);
    let mut all_orders_after: Vec<i64> = Vec::new();
    for e in events {
        if e.ts < start {
            profile.apply(e, None);
            if let EventKind::Purchase { value, .. } = &e.kind {
                if start - e.ts <= PRE_PERIOD_DAYS * DAY {
                    pre_spend += value;
                }
            }
            continue;
        }
        if let EventKind::Purchase { order, value, .. } = &e.kind {
            let fresh = order.as_deref().is_none_or(|o| seen_orders.insert(o));
            if !fresh {
                continue;
            }
            all_orders_after.push(e.ts);
            if e.ts < end {
                orders.push((e.ts, *value));
            }
        }
        if e.ts >= end {
            continue;
        }
        let converted = matches!(e.kind, EventKind::Purchase { .. });
        match sessions.iter_mut().find(|s| s.0 == e.session) {
            Some(s) => s.2 |= converted,
            None => sessions.push((e.session.as_str(), e.ts, converted)),
        }
        match &e.kind {
            EventKind::RecImpression { slot: s, .. } if slot.is_none_or(|x| x == s) => {
                impressions += 1.0
            }
            EventKind::RecClick { slot: s, .. } if slot.is_none_or(|x| x == s) => clicks += 1.0,
            _ => {}
        }
    }
    let repeat = orders.first().and_then(|&(first, _)| {
        let horizon = first + REPEAT_WINDOW_DAYS * DAY;
        (horizon <= opts.now).then(|| all_orders_after.iter().any(|&t| t > first && t <= horizon))
    });
    Unit {
        start,
        sessions: sessions.into_iter().map(|s| (s.1, s.2)).collect(),
        orders,
        impressions,
        clicks,
        pre_spend,
        cohort: stage(&profile, start, &opts.segments),
        repeat,
    }
}

fn metrics(control: &[Unit], treatment: &[Unit]) -> Metrics {
    let pairs = |units: &[Unit], f: &dyn Fn(&Unit) -> (f64, f64)| -> Vec<(f64, f64)> {
        units.iter().map(f).collect()
    };
    let ctr = |u: &Unit| (u.clicks, u.impressions);
    let conv = |u: &Unit| {
        (
            u.sessions.iter().filter(|s| s.1).count() as f64,
            u.sessions.len() as f64,
        )
    };
    let aov = |u: &Unit| (u.revenue(), u.orders.len() as f64);
    let rpv = |u: &Unit| (u.revenue(), u.pre_spend);
    let buyers = |units: &[Unit]| units.iter().filter(|u| !u.orders.is_empty()).count() as f64;
    let revenue = |units: &[Unit]| -> Vec<f64> { units.iter().map(Unit::revenue).collect() };
    let mut repeat = Vec::new();
    for cohort in Stage::ALL {
        let count = |units: &[Unit]| {
            let judged: Vec<bool> = units
                .iter()
                .filter(|u| u.cohort == cohort)
                .filter_map(|u| u.repeat)
                .collect();
            (
                judged.iter().filter(|r| **r).count() as f64,
                judged.len() as f64,
            )
        };
        let (xc, nc) = count(control);
        let (xt, nt) = count(treatment);
        if nc + nt > 0.0 {
            repeat.push(CohortComparison {
                cohort: cohort.name().to_owned(),
                comparison: two_proportions(xc, nc, xt, nt),
            });
        }
    }
    Metrics {
        block_ctr: ratio_delta(
            &pairs(control, &ctr)
                .into_iter()
                .filter(|p| p.1 > 0.0)
                .collect::<Vec<_>>(),
            &pairs(treatment, &ctr)
                .into_iter()
                .filter(|p| p.1 > 0.0)
                .collect::<Vec<_>>(),
        ),
        session_conversion: ratio_delta(&pairs(control, &conv), &pairs(treatment, &conv)),
        visitor_conversion: two_proportions(
            buyers(control),
            control.len() as f64,
            buyers(treatment),
            treatment.len() as f64,
        ),
        average_order_value: ratio_delta(
            &pairs(control, &aov)
                .into_iter()
                .filter(|p| p.1 > 0.0)
                .collect::<Vec<_>>(),
            &pairs(treatment, &aov)
                .into_iter()
                .filter(|p| p.1 > 0.0)
                .collect::<Vec<_>>(),
        ),
        revenue_per_visitor: welch(
            &Summary::of(&revenue(control)),
            &Summary::of(&revenue(treatment)),
        ),
        revenue_per_visitor_cuped: cuped(&pairs(control, &rpv), &pairs(treatment, &rpv)),
        repeat_purchase_90d: repeat,
    }
}

/// Day steps from the first unit's start to the report's end, at most [`MAX_POINTS`].
fn steps(first: i64, last: i64) -> Vec<i64> {
    if last <= first {
        return vec![last + 1];
    }
    let day0 = first.div_euclid(DAY) * DAY;
    let days = ((last - day0) / DAY + 1) as usize;
    let step = days.div_ceil(MAX_POINTS).max(1) as i64;
    let mut out = Vec::new();
    let mut t = day0 + step * DAY;
    loop {
        out.push(t);
        if t > last {
            return out;
        }
        t += step * DAY;
    }
}

fn cumulative(control: &[Unit], treatment: &[Unit], end: i64) -> Vec<CumulativePoint> {
    let first = control.iter().chain(treatment).map(|u| u.start).min();
    let Some(first) = first else {
        return Vec::new();
    };
    let last = control
        .iter()
        .chain(treatment)
        .flat_map(|u| u.sessions.iter().map(|s| s.0))
        .max()
        .unwrap_or(first)
        .min(end);
    let side = |units: &[Unit], until: i64| -> (u64, f64, f64) {
        let live: Vec<&Unit> = units.iter().filter(|u| u.start < until).collect();
        let (mut sessions, mut converted, mut revenue) = (0.0, 0.0, 0.0);
        for u in &live {
            for s in u.sessions.iter().filter(|s| s.0 < until) {
                sessions += 1.0;
                converted += s.1 as u8 as f64;
            }
            revenue += u
                .orders
                .iter()
                .filter(|o| o.0 < until)
                .map(|o| o.1)
                .sum::<f64>();
        }
        let n = live.len() as f64;
        (
            live.len() as u64,
            if sessions > 0.0 {
                converted / sessions
            } else {
                0.0
            },
            if n > 0.0 { revenue / n } else { 0.0 },
        )
    };
    steps(first, last)
        .into_iter()
        .map(|until| {
            let (cn, cc, cr) = side(control, until);
            let (tn, tc, tr) = side(treatment, until);
            CumulativePoint {
                until,
                control_shoppers: cn,
                treatment_shoppers: tn,
                control_conversion: cc,
                treatment_conversion: tc,
                control_revenue_per_visitor: cr,
                treatment_revenue_per_visitor: tr,
            }
        })
        .collect()
}

fn experiment_report(
    by_shopper: &BTreeMap<&str, Vec<&Event>>,
    opts: &ReportOptions,
    id: &str,
    placement: &str,
) -> ArmsReport {
    let config = opts.experiments.experiments.iter().find(|e| e.id == id);
    let start = config.and_then(|e| e.start);
    let end = config.and_then(|e| e.end);
    let window_end = end.unwrap_or(i64::MAX).min(opts.now.saturating_add(1));
    let (mut control, mut treatment) = (Vec::new(), Vec::new());
    let mut mismatches = 0;
    for (shopper, events) in by_shopper {
        let exposures: Vec<(i64, Arm)> = events
            .iter()
            .filter(|e| start.is_none_or(|s| e.ts >= s) && e.ts < window_end)
            .filter_map(|e| match &e.kind {
                EventKind::Exposure {
                    arm,
                    experiment: Some(x),
                    ..
                } if x == id => Some((e.ts, *arm)),
                _ => None,
            })
            .collect();
        let Some(&(t0, arm)) = exposures.first() else {
            continue;
        };
        let consistent = exposures.iter().all(|x| x.1 == arm);
        let as_configured =
            config.is_none() || assign(&opts.experiments, shopper, placement, t0).arm == arm;
        if !consistent || !as_configured {
            mismatches += 1;
            continue;
        }
        let u = unit(events, t0, window_end, Some(placement), opts);
        match arm {
            Arm::Control => control.push(u),
            Arm::Treatment => treatment.push(u),
            _ => mismatches += 1,
        }
    }
    let share = config.map(|e| e.treatment_share);
    ArmsReport {
        id: id.to_owned(),
        placement: placement.to_owned(),
        control_arm: "control".into(),
        treatment_arm: "treatment".into(),
        start,
        end,
        expected_treatment_share: share,
        control_shoppers: control.len() as u64,
        treatment_shoppers: treatment.len() as u64,
        sample_ratio_p_value: share
            .map(|s| split_p_value(control.len() as f64, treatment.len() as f64, s)),
        assignment_mismatches: mismatches,
        metrics: metrics(&control, &treatment),
        cumulative: cumulative(&control, &treatment, window_end),
    }
}

fn holdout_report(by_shopper: &BTreeMap<&str, Vec<&Event>>, opts: &ReportOptions) -> ArmsReport {
    let (mut holdout, mut personalized) = (Vec::new(), Vec::new());
    let mut mismatches = 0;
    let end = opts.now.saturating_add(1);
    for (shopper, events) in by_shopper {
        let exposures: Vec<(i64, Arm)> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Exposure { arm, .. } => Some((e.ts, *arm)),
                _ => None,
            })
            .collect();
        let Some(&(t0, _)) = exposures.first() else {
            continue;
        };
        let held: Vec<bool> = exposures.iter().map(|x| x.1 == Arm::Holdout).collect();
        let is_held = held[0];
        let configured =
            crate::experiments::unit_hash(&["holdout", shopper]) < opts.experiments.holdout_share;
        if held.iter().any(|h| *h != is_held) || configured != is_held {
            mismatches += 1;
            continue;
        }
        let u = unit(events, t0, end, None, opts);
        if is_held {
            holdout.push(u);
        } else {
            personalized.push(u);
        }
    }
    let share = 1.0 - opts.experiments.holdout_share;
    ArmsReport {
        id: "holdout".into(),
        placement: "*".into(),
        control_arm: "holdout".into(),
        treatment_arm: "personalized".into(),
        start: None,
        end: None,
        expected_treatment_share: Some(share),
        control_shoppers: holdout.len() as u64,
        treatment_shoppers: personalized.len() as u64,
        sample_ratio_p_value: Some(split_p_value(
            holdout.len() as f64,
            personalized.len() as f64,
            share,
        )),
        assignment_mismatches: mismatches,
        metrics: metrics(&holdout, &personalized),
        cumulative: cumulative(&holdout, &personalized, end),
    }
}

// ---------------------------------------------------------------------------------------------
// Segment sizes

fn segment_sizes(sorted: &[&Event], opts: &ReportOptions) -> Vec<SegmentPoint> {
    let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else {
        return Vec::new();
    };
    let mut profiles: HashMap<&str, Profile> = HashMap::new();
    let mut out = Vec::new();
    let mut next = 0;
    for at in steps(first.ts, last.ts) {
        while next < sorted.len() && sorted[next].ts < at {
            let e = sorted[next];
            profiles
                .entry(e.shopper.as_str())
                .or_default()
                .apply(e, None);
            next += 1;
        }
        let mut counts = [0u64; 8];
        for p in profiles.values() {
            let s = stage(p, at, &opts.segments);
            counts[Stage::ALL.iter().position(|x| *x == s).unwrap_or(0)] += 1;
        }
        out.push(SegmentPoint {
            at,
            counts: Stage::ALL
                .iter()
                .zip(counts)
                .map(|(s, n)| (s.name().to_owned(), n))
                .collect(),
        });
    }
    out
}

/// The day `ms` falls on, as `YYYY-MM-DD` (UTC), for reports.
pub fn date_text(ms: i64) -> String {
    // Days since 1970-01-01 to a civil date (the inverse of the proleptic Gregorian count).
    let z = ms.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Line;
    use crate::experiments::Experiment;

    const T0: i64 = 1_764_028_800_000; // 2025-11-25

    fn ev(ts: i64, shopper: &str, session: &str, kind: EventKind) -> Event {
        Event {
            id: format!("{shopper}-{session}-{ts}-{}", kind_tag(&kind)),
            ts,
            shopper: shopper.to_owned(),
            session: session.to_owned(),
            kind,
        }
    }

    fn kind_tag(k: &EventKind) -> String {
        match k {
            EventKind::RecClick { item, .. } => format!("click{item}"),
            EventKind::Purchase { value, .. } => format!("buy{value}"),
            other => format!("{other:?}").chars().take(12).collect(),
        }
    }

    fn imp(request: &str, slot: &str, items: &[u64]) -> EventKind {
        EventKind::RecImpression {
            request: request.into(),
            slot: slot.into(),
            items: items.to_vec(),
            model_version: "1".into(),
        }
    }

    fn click(request: &str, slot: &str, item: u64) -> EventKind {
        EventKind::RecClick {
            request: request.into(),
            slot: slot.into(),
            position: 0,
            item,
            model_version: "1".into(),
        }
    }

    fn buy(item: u64, price: f64, qty: u32) -> EventKind {
        EventKind::Purchase {
            order: None,
            lines: vec![Line { item, qty, price }],
            value: price * qty as f64,
            currency: None,
        }
    }

    fn opts() -> ReportOptions {
        ReportOptions {
            now: T0 + 200 * DAY,
            experiments: ExperimentConfig {
                holdout_share: 0.05,
                experiments: vec![Experiment {
                    id: "fy".into(),
                    placement: "for_you".into(),
                    treatment_share: 0.5,
                    start: Some(T0 - DAY),
                    end: None,
                }],
            },
            segments: SegmentConfig::default(),
        }
    }

    #[test]
    fn clicks_are_credited_within_the_window_and_matched_by_request() {
        let h = 3_600_000;
        let events = vec![
            ev(T0, "a", "s1", imp("r1", "similar", &[5, 6, 7])),
            ev(T0 + 1, "a", "s1", click("r1", "similar", 6)),
            ev(T0 + 2, "a", "s1", EventKind::AddToCart { item: 6, qty: 1 }),
            // Bought 6 days later: credited (2 × 10); item 8 was never clicked: not credited.
            ev(
                T0 + 6 * DAY,
                "a",
                "s2",
                EventKind::Purchase {
                    order: Some("o1".into()),
                    lines: vec![
                        Line {
                            item: 6,
                            qty: 2,
                            price: 10.0,
                        },
                        Line {
                            item: 8,
                            qty: 1,
                            price: 99.0,
                        },
                    ],
                    value: 119.0,
                    currency: None,
                },
            ),
            // Another shopper clicks, adds to cart in another session, buys 8 days later.
            ev(T0, "b", "t1", imp("r2", "similar", &[6, 7])),
            ev(T0 + h, "b", "t1", click("r2", "similar", 7)),
            ev(
                T0 + 2 * h,
                "b",
                "t2",
                EventKind::AddToCart { item: 7, qty: 1 },
            ),
            ev(T0 + 8 * DAY, "b", "t3", buy(7, 4.0, 1)),
            // A click on a request never shown to this shopper, and one on an item the block
            // did not contain.
            ev(T0, "c", "u1", click("r1", "similar", 6)),
            ev(T0, "c", "u1", imp("r3", "cart", &[1])),
            ev(T0 + 1, "c", "u1", click("r3", "cart", 2)),
        ];
        let r = build(&events, &opts());
        let similar = r.slots.iter().find(|s| s.slot == "similar").unwrap();
        assert_eq!((similar.impressions, similar.clicks), (2, 3));
        assert_eq!(similar.unmatched_clicks, 1);
        assert_eq!(similar.attributed_add_to_carts, 1);
        assert_eq!(similar.attributed_orders, 1);
        assert_eq!(similar.attributed_revenue, 20.0);
        assert!((similar.ctr - 1.5).abs() < 1e-12);
        // Top items: 6 and 7 shown twice, 6 clicked twice; then 5.
        let top: Vec<(u64, u64, u64)> = similar
            .top_items
            .iter()
            .map(|i| (i.item, i.impressions, i.clicks))
            .collect();
        assert_eq!(top, [(6, 2, 2), (7, 2, 1), (5, 1, 0)]);
        let cart = r.slots.iter().find(|s| s.slot == "cart").unwrap();
        assert_eq!((cart.clicks, cart.unmatched_clicks), (1, 1));
        assert_eq!(r.attribution_window_ms, 7 * DAY);
    }

    fn exposure(arm: Arm, experiment: Option<&str>) -> EventKind {
        EventKind::Exposure {
            placement: "for_you".into(),
            arm,
            experiment: experiment.map(str::to_owned),
        }
    }

    /// A shopper id that `assign` puts in `want` for the test config.
    fn shopper_in(want: Arm, skip: usize) -> String {
        let o = opts();
        (0..)
            .map(|i| format!("shopper-{i}"))
            .filter(|s| assign(&o.experiments, s, "for_you", T0).arm == want)
            .nth(skip)
            .unwrap()
    }

    #[test]
    fn units_count_from_the_first_exposure_and_mismatched_arms_are_left_out() {
        let c = shopper_in(Arm::Control, 0);
        let t = shopper_in(Arm::Treatment, 0);
        let liar = shopper_in(Arm::Control, 1);
        let held = shopper_in(Arm::Holdout, 0);
        let events = vec![
            // Control: spent 50 before exposure (pre-period), then 2 sessions, one converting.
            ev(T0 - 10 * DAY, &c, "c0", buy(1, 50.0, 1)),
            ev(T0, &c, "c1", exposure(Arm::Control, Some("fy"))),
            ev(T0 + 1, &c, "c1", imp("rc", "for_you", &[1, 2])),
            ev(T0 + 2, &c, "c1", click("rc", "for_you", 2)),
            ev(T0 + DAY, &c, "c2", exposure(Arm::Control, Some("fy"))),
            ev(T0 + DAY + 1, &c, "c2", buy(2, 30.0, 1)),
            // Treatment: one session, two orders in it.
            ev(T0, &t, "t1", exposure(Arm::Treatment, Some("fy"))),
            ev(T0 + 1, &t, "t1", imp("rt", "for_you", &[1])),
            ev(T0 + 2, &t, "t1", buy(1, 10.0, 1)),
            ev(T0 + 3, &t, "t1", buy(1, 10.0, 2)),
            // Logged treatment though the config says control: left out.
            ev(T0, &liar, "l1", exposure(Arm::Treatment, Some("fy"))),
            ev(T0 + 1, &liar, "l1", buy(1, 1000.0, 1)),
            // The holdout shopper.
            ev(T0, &held, "h1", exposure(Arm::Holdout, None)),
            // Never exposed: in no comparison.
            ev(T0, "nobody", "n1", buy(1, 5.0, 1)),
        ];
        let r = build(&events, &opts());
        let fy = &r.experiments[0];
        assert_eq!(fy.id, "fy");
        assert_eq!((fy.control_shoppers, fy.treatment_shoppers), (1, 1));
        assert_eq!(fy.assignment_mismatches, 1);
        let m = &fy.metrics;
        assert_eq!(m.session_conversion.control, 0.5);
        assert_eq!(m.session_conversion.treatment, 1.0);
        assert_eq!(m.block_ctr.control, 1.0);
        assert_eq!(m.block_ctr.treatment, 0.0);
        assert_eq!(m.average_order_value.control, 30.0);
        assert_eq!(m.average_order_value.treatment, 15.0);
        assert_eq!(m.revenue_per_visitor.treatment, 30.0);
        // One shopper per arm cannot be tested.
        assert_eq!(
            m.revenue_per_visitor.verdict,
            crate::stats::Verdict::InsufficientData
        );
        // The control shopper was a first-time buyer when exposed; the treatment one was new.
        let cohorts: Vec<&str> = m
            .repeat_purchase_90d
            .iter()
            .map(|c| c.cohort.as_str())
            .collect();
        assert_eq!(cohorts, ["new_visitor", "first_time_buyer"]);
        // The holdout: one held-out shopper against the three personalized ones (the liar's
        // holdout membership is consistent, so they count here).
        assert_eq!(r.holdout.control_shoppers, 1);
        assert_eq!(r.holdout.treatment_shoppers, 3);
        assert_eq!(r.shoppers, 5);
        // Cumulative series: by the end of the first day both arms have one shopper.
        let p0 = &fy.cumulative[0];
        assert_eq!((p0.control_shoppers, p0.treatment_shoppers), (1, 1));
        assert_eq!(p0.treatment_conversion, 1.0);
        assert_eq!(p0.control_conversion, 0.0);
        let last = fy.cumulative.last().unwrap();
        assert_eq!(last.control_conversion, 0.5);
        assert_eq!(last.control_revenue_per_visitor, 30.0);
    }

    #[test]
    fn repeat_purchases_are_judged_only_after_ninety_days() {
        let c = shopper_in(Arm::Control, 0);
        let c2 = shopper_in(Arm::Control, 1);
        let mut o = opts();
        let events = vec![
            ev(T0, &c, "1", exposure(Arm::Control, Some("fy"))),
            ev(T0 + 1, &c, "1", buy(1, 5.0, 1)),
            ev(T0 + 80 * DAY, &c, "2", buy(1, 5.0, 1)),
            ev(T0, &c2, "1", exposure(Arm::Control, Some("fy"))),
            ev(T0 + 1, &c2, "1", buy(1, 5.0, 1)),
            ev(T0 + 95 * DAY, &c2, "2", buy(1, 5.0, 1)),
        ];
        o.now = T0 + 89 * DAY;
        let r = build(&events, &o);
        assert!(r.experiments[0].metrics.repeat_purchase_90d.is_empty());
        o.now = T0 + 120 * DAY;
        let r = build(&events, &o);
        let rep = &r.experiments[0].metrics.repeat_purchase_90d;
        assert_eq!(rep.len(), 1);
        assert_eq!(rep[0].cohort, "new_visitor");
        assert_eq!(rep[0].comparison.control, 0.5);
        assert_eq!(rep[0].comparison.n_control, 2.0);
    }

    #[test]
    fn segment_sizes_follow_the_shoppers() {
        let events = vec![
            ev(T0, "a", "1", EventKind::PageView { page: None }),
            ev(T0 + DAY, "b", "1", EventKind::ProductView { item: 1 }),
            ev(T0 + 2 * DAY, "a", "2", buy(1, 5.0, 1)),
        ];
        let r = build(&events, &opts());
        let at =
            |i: usize, name: &str| r.segments[i].counts.iter().find(|c| c.0 == name).unwrap().1;
        assert_eq!(r.segments.len(), 3);
        assert_eq!(date_text(r.segments[0].at), "2025-11-26");
        assert_eq!(at(0, "new_visitor"), 1);
        assert_eq!((at(1, "new_visitor"), at(1, "browsing")), (1, 1));
        assert_eq!((at(2, "first_time_buyer"), at(2, "browsing")), (1, 1));
        let total: u64 = r.segments[2].counts.iter().map(|c| c.1).sum();
        assert_eq!(total, 2);
    }

    #[test]
    fn diagnostics_are_counted_per_code_with_the_latest_details_first() {
        let diag = |code: &str, detail: Option<&str>| EventKind::Diagnostic {
            code: code.to_owned(),
            detail: detail.map(str::to_owned),
        };
        let mut events = vec![ev(
            T0,
            "a",
            "1",
            EventKind::PageView {
                page: Some("home".into()),
            },
        )];
        for (k, shopper) in ["a", "b", "b", "c", "d", "e", "f", "g"].iter().enumerate() {
            let detail = format!("collection /collections/c{}", k % 7);
            events.push(ev(
                T0 + k as i64,
                shopper,
                "1",
                diag("NOTHING_RECOGNISED", Some(&detail)),
            ));
        }
        events.push(ev(T0 + 50, "a", "2", diag("OTHER", None)));
        let r = build(&events, &opts());
        assert_eq!(r.diagnostics.len(), 2);
        let first = &r.diagnostics[0];
        assert_eq!(
            (
                first.code.as_str(),
                first.reports,
                first.shoppers,
                first.last
            ),
            ("NOTHING_RECOGNISED", 8, 7, T0 + 7)
        );
        // The latest first, each once, at most five: c0 (k = 7) is the latest, then c6 … c3.
        assert_eq!(
            first.details,
            ["c0", "c6", "c5", "c4", "c3"]
                .map(|c| format!("collection /collections/{c}"))
                .to_vec()
        );
        assert_eq!(
            (r.diagnostics[1].code.as_str(), r.diagnostics[1].reports),
            ("OTHER", 1)
        );
        assert!(r.diagnostics[1].details.is_empty());
        let none = build(&events[..1], &opts());
        assert!(none.diagnostics.is_empty());
    }

    #[test]
    fn dates() {
        assert_eq!(date_text(T0), "2025-11-25");
        assert_eq!(date_text(951_782_400_000), "2000-02-29");
        assert_eq!(date_text(-1), "1969-12-31");
        assert_eq!(date_text(0), "1970-01-01");
    }

    /// A small deterministic generator (SplitMix64).
    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A synthetic store: shoppers with their own propensity to buy and spend level, one to
    /// three sessions each, a pre-period order for some; treatment sessions convert
    /// `1 + lift` times as often.
    fn population(seed: u64, shoppers: usize, lift: f64) -> Vec<Event> {
        let o = opts();
        let mut rng = Rng(seed);
        let mut out = Vec::new();
        for i in 0..shoppers {
            let s = format!("p{seed}-{i}");
            let arm = assign(&o.experiments, &s, "for_you", T0).arm;
            let experiment = matches!(arm, Arm::Control | Arm::Treatment).then_some("fy");
            let mut p = 0.05 + 0.3 * rng.next();
            if arm == Arm::Treatment {
                p *= 1.0 + lift;
            }
            let spend = 20.0 + 80.0 * rng.next();
            if rng.next() < 0.4 {
                out.push(ev(T0 - 20 * DAY, &s, "pre", buy(9, spend, 1)));
            }
            let start = T0 + (rng.next() * 14.0 * DAY as f64) as i64;
            for k in 0..1 + (rng.next() * 3.0) as i64 {
                let t = start + k * 2 * DAY;
                let sess = format!("{s}-{k}");
                let req = format!("{sess}-r");
                out.push(ev(t, &s, &sess, exposure(arm, experiment)));
                out.push(ev(t + 1, &s, &sess, imp(&req, "for_you", &[1, 2, 3])));
                if rng.next() < 0.1 {
                    out.push(ev(t + 2, &s, &sess, click(&req, "for_you", 2)));
                }
                if rng.next() < p {
                    let v = spend * (0.5 + rng.next());
                    out.push(ev(t + 3, &s, &sess, buy(2, v, 1)));
                }
            }
        }
        out
    }

    #[test]
    fn a_a_tests_are_calibrated() {
        // No difference between the arms: each test must flag about 5% of seeds (a calibrated
        // test at α = 0.05), and p-values must be uniform.
        let seeds = 200;
        let mut p: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for seed in 0..seeds {
            let r = build(&population(seed, 500, 0.0), &opts());
            let m = &r.experiments[0].metrics;
            for (name, c) in [
                ("block_ctr", &m.block_ctr),
                ("session_conversion", &m.session_conversion),
                ("visitor_conversion", &m.visitor_conversion),
                ("average_order_value", &m.average_order_value),
                ("revenue_per_visitor", &m.revenue_per_visitor),
                (
                    "revenue_per_visitor_cuped",
                    &m.revenue_per_visitor_cuped.comparison,
                ),
            ] {
                p.entry(name).or_default().push(c.p_value);
            }
        }
        for (name, ps) in &mut p {
            let n = ps.len() as f64;
            let flagged = ps.iter().filter(|&&x| x < 0.05).count() as f64;
            // Binomial(n, 0.05): at most 3 sd above its mean (n = 200: 10 + 9.2).
            let bound = 0.05 * n + 3.0 * (n * 0.05 * 0.95).sqrt();
            // Kolmogorov-Smirnov distance to the uniform distribution, against the 0.1%
            // critical value 1.95/√n (six metrics are tested on the same seeds).
            ps.sort_by(f64::total_cmp);
            let d = ps
                .iter()
                .enumerate()
                .map(|(i, &x)| ((i as f64 + 1.0) / n - x).max(x - i as f64 / n))
                .fold(0.0, f64::max);
            eprintln!("A/A {name}: {flagged} of {n} seeds significant, KS {d:.3}");
            assert!(flagged <= bound, "{name}: {flagged} of {n} flagged");
            assert!(d < 1.95 / n.sqrt(), "{name}: KS distance {d}");
        }
    }

    #[test]
    fn a_planted_lift_is_covered_by_the_interval() {
        // +10% session conversion in treatment: the 95% interval of the lift covers 0.10 in
        // about 95% of seeds.
        let seeds = 100;
        let mut covered = 0;
        for seed in 0..seeds {
            let r = build(&population(1000 + seed, 1500, 0.10), &opts());
            if r.experiments[0]
                .metrics
                .session_conversion
                .lift_interval_contains(0.10)
            {
                covered += 1;
            }
        }
        // Binomial(100, 0.95): sd 2.2; 3 sd below.
        assert!(covered >= 88, "covered in {covered} of {seeds}");
        eprintln!("planted +10%: covered in {covered} of {seeds} seeds");
    }
}
