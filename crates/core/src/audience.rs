//! Customer records for email tools and ad audiences: each shopper's lifecycle stage, tastes,
//! cadence and the hour and weekday they are usually active, from their own events.

use crate::events::{Event, EventKind};
use crate::model::Model;
use crate::profile::{decayed, Profile, PRICE_BANDS};
use crate::report::date_text;
use crate::segments::{stage, SegmentConfig, Stage};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Categories listed per customer.
pub const TOP_CATEGORIES: usize = 3;

/// One customer, as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRecord {
    /// The random shopper id.
    pub shopper: String,
    /// Lifecycle stage (`segments::Stage` name) as of the export.
    pub lifecycle_stage: String,
    /// Strongest categories, strongest first.
    pub top_categories: Vec<String>,
    /// The price band they view and buy most (`under 5`, `5-15`, `15-50`, `50-150`,
    /// `150+`, in the store's currency).
    pub price_band: Option<String>,
    /// Orders.
    pub orders: u32,
    /// Total spend.
    pub spend: f64,
    /// Last activity, `YYYY-MM-DD` (UTC).
    pub last_seen: String,
    /// When the next order is expected, `YYYY-MM-DD` (UTC); none before the first order.
    pub expected_date_of_next_order: Option<String>,
    /// Probability that they stopped buying (0..=1); none before the first order.
    pub churn_probability: Option<f64>,
    /// The hour of day (0-23, UTC) with most of their activity.
    pub best_send_hour: Option<u8>,
    /// The weekday with most of their activity.
    pub best_send_weekday: Option<String>,
    /// Suggested email frequency: `weekly`, `fortnightly`, `monthly` or `winback`.
    pub email_frequency: String,
}

fn band_label(band: usize) -> String {
    match band {
        0 => format!("under {}", PRICE_BANDS[0]),
        b if b >= PRICE_BANDS.len() => format!("{}+", PRICE_BANDS[PRICE_BANDS.len() - 1]),
        b => format!("{}-{}", PRICE_BANDS[b - 1], PRICE_BANDS[b]),
    }
}

/// Whether an event is the shopper's own doing (not logged automatically beside a page view).
fn active(e: &Event) -> bool {
    matches!(
        e.kind,
        EventKind::PageView { .. }
            | EventKind::ProductView { .. }
            | EventKind::AddToCart { .. }
            | EventKind::Purchase { .. }
            | EventKind::Search { .. }
            | EventKind::RecClick { .. }
            | EventKind::BannerClick { .. }
    )
}

/// The index with the highest count; ties go to the lowest index. `None` when all are zero.
fn mode(counts: &[u32]) -> Option<usize> {
    let (best, n) = counts
        .iter()
        .enumerate()
        .fold((0, 0), |acc, (i, &n)| if n > acc.1 { (i, n) } else { acc });
    (n > 0).then_some(best)
}

/// The suggested email frequency: win-back for buyers at risk or lapsed; otherwise by the
/// expected days between orders (≤ 14 weekly, ≤ 45 fortnightly, else monthly); shoppers who
/// never ordered get weekly mail when engaged, monthly otherwise.
pub fn email_frequency(stage: Stage, expected_gap_days: Option<f64>) -> &'static str {
    match (stage, expected_gap_days) {
        (Stage::AtRisk | Stage::Lapsed, _) => "winback",
        (_, Some(gap)) if gap <= 14.0 => "weekly",
        (_, Some(gap)) if gap <= 45.0 => "fortnightly",
        (_, Some(_)) => "monthly",
        (Stage::Engaged, None) => "weekly",
        (_, None) => "monthly",
    }
}

/// The record of one shopper from their events (time order) as of `now`. `model` supplies
/// categories and prices.
pub fn customer(
    shopper: &str,
    events: &[&Event],
    model: Option<&Model>,
    now: i64,
    cfg: &SegmentConfig,
) -> CustomerRecord {
    let mut p = Profile::default();
    let mut hours = [0u32; 24];
    let mut weekdays = [0u32; 7];
    for e in events {
        p.apply(e, model);
        if active(e) {
            hours[(e.ts.rem_euclid(86_400_000) / 3_600_000) as usize] += 1;
            weekdays[((e.ts.div_euclid(86_400_000) + 3).rem_euclid(7)) as usize] += 1;
        }
    }
    let st = stage(&p, now, cfg);
    let band = p
        .price_bands
        .iter()
        .map(|a| {
            (
                a.key.parse::<usize>().unwrap_or(0),
                decayed(a.score, a.at, now),
            )
        })
        .fold(None::<(usize, f32)>, |best, (b, s)| match best {
            Some((_, bs)) if bs >= s => best,
            _ => Some((b, s)),
        })
        .map(|(b, _)| band_label(b));
    let prior = cfg.typical_gap_days;
    CustomerRecord {
        shopper: shopper.to_owned(),
        lifecycle_stage: st.name().to_owned(),
        top_categories: p
            .top_categories(TOP_CATEGORIES, now)
            .into_iter()
            .map(|c| c.0)
            .collect(),
        price_band: band,
        orders: p.orders,
        spend: (p.spend * 100.0).round() / 100.0,
        last_seen: date_text(p.last_seen),
        expected_date_of_next_order: p.expected_date_of_next_order(prior).map(date_text),
        churn_probability: p
            .churn_probability(now, prior)
            .map(|c| (c * 1000.0).round() / 1000.0),
        best_send_hour: mode(&hours).map(|h| h as u8),
        best_send_weekday: mode(&weekdays).map(|d| WEEKDAYS[d].to_owned()),
        email_frequency: email_frequency(st, p.expected_gap_days(prior)).to_owned(),
    }
}

/// Records of every shopper in `events` (any order), by shopper id; with `buyers_only`, only
/// shoppers with an order.
pub fn customers(
    events: &[Event],
    model: Option<&Model>,
    now: i64,
    cfg: &SegmentConfig,
    buyers_only: bool,
) -> Vec<CustomerRecord> {
    let mut by: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events {
        by.entry(e.shopper.as_str()).or_default().push(e);
    }
    by.into_iter()
        .filter_map(|(shopper, mut evs)| {
            crate::sort::sort_by(&mut evs, |a, b| a.ts.cmp(&b.ts).then(a.id.cmp(&b.id)));
            let r = customer(shopper, &evs, model, now, cfg);
            (!buyers_only || r.orders > 0).then_some(r)
        })
        .collect()
}

/// The CSV header of [`to_csv_row`].
pub const CSV_HEADER: &str = "shopper,lifecycle_stage,top_categories,price_band,orders,spend,last_seen,expected_date_of_next_order,churn_probability,best_send_hour,best_send_weekday,email_frequency";

/// One CSV field, quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-`,
/// `@`, tab or carriage return is prefixed with `'` so spreadsheets do not run it as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A record as one CSV line (RFC 4180; categories joined with `|`).
pub fn to_csv_row(r: &CustomerRecord) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        csv_field(&r.shopper),
        csv_field(&r.lifecycle_stage),
        csv_field(&r.top_categories.join("|")),
        csv_field(&opt(&r.price_band)),
        r.orders.to_string(),
        format!("{:.2}", r.spend),
        r.last_seen.clone(),
        opt(&r.expected_date_of_next_order),
        r.churn_probability
            .map(|c| format!("{c:.3}"))
            .unwrap_or_default(),
        r.best_send_hour.map(|h| h.to_string()).unwrap_or_default(),
        opt(&r.best_send_weekday),
        r.email_frequency.clone(),
    ]
    .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Line;

    const T0: i64 = 1_764_028_800_000; // 2025-11-25, a Tuesday, 00:00 UTC
    const H: i64 = 3_600_000;
    const DAY: i64 = 24 * H;

    fn ev(ts: i64, session: &str, kind: EventKind) -> Event {
        Event {
            id: format!("{ts}-{session}"),
            ts,
            shopper: "s1".into(),
            session: session.into(),
            kind,
        }
    }

    fn model() -> Model {
        let mut m = Model::from_popularity(&[(1, 1.0), (2, 1.0), (3, 1.0)]);
        m.strings = vec!["Mugs".into(), "Bags".into()];
        for (attrs, (cat, cents)) in m.items.iter_mut().zip([(0, 1200), (1, 8000), (0, 900)]) {
            attrs.category = Some(cat);
            attrs.price_cents = Some(cents);
        }
        m.index();
        m
    }

    fn buy(item: u64, price: f64) -> EventKind {
        EventKind::Purchase {
            order: None,
            lines: vec![Line {
                item,
                qty: 1,
                price,
            }],
            value: price,
            currency: None,
        }
    }

    #[test]
    fn a_repeat_buyer_record() {
        let m = model();
        // Active on Tuesday evenings (19:00 UTC), bought mugs twice 20 days apart.
        let events = [
            ev(T0 + 19 * H, "a", EventKind::ProductView { item: 1 }),
            ev(T0 + 19 * H + 1, "a", buy(1, 12.0)),
            ev(
                T0 + 7 * DAY + 19 * H,
                "b",
                EventKind::ProductView { item: 3 },
            ),
            ev(T0 + 20 * DAY + 10 * H, "c", buy(3, 9.0)),
            ev(
                T0 + 14 * DAY + 19 * H,
                "d",
                EventKind::ProductView { item: 2 },
            ),
        ];
        let refs: Vec<&Event> = {
            let mut v: Vec<&Event> = events.iter().collect();
            v.sort_by_key(|e| e.ts);
            v
        };
        let cfg = SegmentConfig::default();
        let r = customer("s1", &refs, Some(&m), T0 + 21 * DAY, &cfg);
        assert_eq!(r.lifecycle_stage, "repeat_buyer");
        assert_eq!(r.top_categories, ["Mugs", "Bags"]);
        assert_eq!(r.price_band.as_deref(), Some("5-15"));
        assert_eq!(r.orders, 2);
        assert_eq!(r.spend, 21.0);
        assert_eq!(r.best_send_hour, Some(19));
        assert_eq!(r.best_send_weekday.as_deref(), Some("tuesday"));
        // Own gap 20 days, prior 30 days worth two gaps: (20 + 60) / 3 = 26.67 days after
        // the last order (day 20, 10:00) = day 47.1 → 2026-01-11.
        assert_eq!(r.expected_date_of_next_order.as_deref(), Some("2026-01-11"));
        assert_eq!(r.churn_probability, Some(0.0));
        assert_eq!(r.email_frequency, "fortnightly");
        assert_eq!(r.last_seen, "2025-12-15");
        let row = to_csv_row(&r);
        assert_eq!(
            row,
            "s1,repeat_buyer,Mugs|Bags,5-15,2,21.00,2025-12-15,2026-01-11,0.000,19,tuesday,fortnightly"
        );
        assert_eq!(row.split(',').count(), CSV_HEADER.split(',').count());
    }

    #[test]
    fn lapsed_buyers_get_winback_and_browsers_have_no_cadence() {
        let cfg = SegmentConfig::default();
        let events = [ev(T0, "a", buy(1, 5.0))];
        let refs: Vec<&Event> = events.iter().collect();
        let r = customer("s1", &refs, None, T0 + 200 * DAY, &cfg);
        assert_eq!(r.lifecycle_stage, "lapsed");
        assert_eq!(r.email_frequency, "winback");
        assert!(r.churn_probability.unwrap() > 0.9);
        let browse = [ev(T0, "a", EventKind::PageView { page: None })];
        let refs: Vec<&Event> = browse.iter().collect();
        let r = customer("s1", &refs, None, T0, &cfg);
        assert_eq!(r.expected_date_of_next_order, None);
        assert_eq!(r.churn_probability, None);
        assert_eq!(r.price_band, None);
        assert_eq!(r.email_frequency, "monthly");
        // Only buyers, when asked.
        let all: Vec<Event> = browse.to_vec();
        assert_eq!(customers(&all, None, T0, &cfg, true).len(), 0);
        assert_eq!(customers(&all, None, T0, &cfg, false).len(), 1);
    }

    #[test]
    fn frequency_tiers_and_csv_quoting() {
        assert_eq!(email_frequency(Stage::RepeatBuyer, Some(10.0)), "weekly");
        assert_eq!(email_frequency(Stage::Vip, Some(60.0)), "monthly");
        assert_eq!(email_frequency(Stage::AtRisk, Some(10.0)), "winback");
        assert_eq!(email_frequency(Stage::Engaged, None), "weekly");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("\t=cmd()"), "'\t=cmd()");
        assert_eq!(csv_field("\r=cmd()"), "\"'\r=cmd()\"");
        assert_eq!(band_label(0), "under 5");
        assert_eq!(band_label(4), "150+");
    }
}
