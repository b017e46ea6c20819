//! Lifecycle segments, computed in real time from the profile with thresholds from the store's
//! configuration.

use crate::profile::{Profile, DAY_MS};
use serde::{Deserialize, Serialize};

/// The lifecycle stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// First session, nothing viewed yet.
    NewVisitor,
    /// Some browsing, no order.
    Browsing,
    /// Much browsing or several sessions, no order.
    Engaged,
    /// One order.
    FirstTimeBuyer,
    /// Two or more orders.
    RepeatBuyer,
    /// Many orders or high spend.
    Vip,
    /// A buyer whose next order is overdue.
    AtRisk,
    /// A buyer gone for a long time.
    Lapsed,
}

impl Stage {
    /// Every stage, in lifecycle order.
    pub const ALL: [Stage; 8] = [
        Stage::NewVisitor,
        Stage::Browsing,
        Stage::Engaged,
        Stage::FirstTimeBuyer,
        Stage::RepeatBuyer,
        Stage::Vip,
        Stage::AtRisk,
        Stage::Lapsed,
    ];

    /// The stage's name as used in configuration and markup (`data-segment="vip"`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::NewVisitor => "new_visitor",
            Stage::Browsing => "browsing",
            Stage::Engaged => "engaged",
            Stage::FirstTimeBuyer => "first_time_buyer",
            Stage::RepeatBuyer => "repeat_buyer",
            Stage::Vip => "vip",
            Stage::AtRisk => "at_risk",
            Stage::Lapsed => "lapsed",
        }
    }

    /// The stage named `name`.
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Thresholds, from the store's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentConfig {
    /// Product views that make a non-buyer engaged.
    pub engaged_product_views: u32,
    /// Sessions that make a non-buyer engaged.
    pub engaged_sessions: u32,
    /// Orders that make a buyer a VIP.
    pub vip_orders: u32,
    /// Spend that makes a buyer a VIP.
    pub vip_spend: f64,
    /// A buyer is at risk when the time since the last order exceeds this many expected gaps.
    pub at_risk_gaps: f64,
    /// A buyer is lapsed after this many days without an order.
    pub lapsed_days: f64,
    /// The store's typical days between orders, used before a shopper has their own.
    pub typical_gap_days: f64,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        SegmentConfig {
            engaged_product_views: 5,
            engaged_sessions: 3,
            vip_orders: 5,
            vip_spend: 500.0,
            at_risk_gaps: 1.5,
            lapsed_days: 180.0,
            typical_gap_days: 30.0,
        }
    }
}

/// The shopper's stage as of `now` (ms).
pub fn stage(p: &Profile, now: i64, cfg: &SegmentConfig) -> Stage {
    let Some(last) = p.purchases.last() else {
        if p.product_views >= cfg.engaged_product_views || p.sessions >= cfg.engaged_sessions {
            return Stage::Engaged;
        }
        if p.sessions <= 1 && p.product_views == 0 {
            return Stage::NewVisitor;
        }
        return Stage::Browsing;
    };
    let since = now.saturating_sub(last.ts).max(0) as f64 / DAY_MS;
    if since > cfg.lapsed_days {
        return Stage::Lapsed;
    }
    let gap = p
        .expected_gap_days(cfg.typical_gap_days)
        .unwrap_or(cfg.typical_gap_days);
    if since > cfg.at_risk_gaps * gap {
        return Stage::AtRisk;
    }
    if p.orders >= cfg.vip_orders || p.spend >= cfg.vip_spend {
        return Stage::Vip;
    }
    if p.orders >= 2 {
        Stage::RepeatBuyer
    } else {
        Stage::FirstTimeBuyer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Purchase;

    const T0: i64 = 1_700_000_000_000;
    const DAY: i64 = 86_400_000;

    fn buyer(orders: &[(i64, f64)]) -> Profile {
        let mut p = Profile::default();
        for &(day, value) in orders {
            p.purchases.push(Purchase {
                ts: T0 + day * DAY,
                value,
                items: vec![],
                order: None,
            });
            p.orders += 1;
            p.spend += value;
        }
        p
    }

    #[test]
    fn every_stage_is_reachable() {
        let cfg = SegmentConfig::default();
        let mut p = Profile::default();
        assert_eq!(stage(&p, T0, &cfg), Stage::NewVisitor);
        p.sessions = 1;
        p.product_views = 1;
        assert_eq!(stage(&p, T0, &cfg), Stage::Browsing);
        p.product_views = 5;
        assert_eq!(stage(&p, T0, &cfg), Stage::Engaged);
        assert_eq!(stage(&buyer(&[(0, 10.0)]), T0, &cfg), Stage::FirstTimeBuyer);
        assert_eq!(
            stage(&buyer(&[(0, 10.0), (20, 10.0)]), T0 + 21 * DAY, &cfg),
            Stage::RepeatBuyer
        );
        assert_eq!(stage(&buyer(&[(0, 600.0)]), T0, &cfg), Stage::Vip);
        // One order, typical gap 30 days: at risk after 45 days, lapsed after 180.
        assert_eq!(
            stage(&buyer(&[(0, 10.0)]), T0 + 44 * DAY, &cfg),
            Stage::FirstTimeBuyer
        );
        assert_eq!(
            stage(&buyer(&[(0, 10.0)]), T0 + 46 * DAY, &cfg),
            Stage::AtRisk
        );
        assert_eq!(
            stage(&buyer(&[(0, 10.0)]), T0 + 181 * DAY, &cfg),
            Stage::Lapsed
        );
    }

    #[test]
    fn thresholds_come_from_config() {
        let cfg = SegmentConfig {
            vip_orders: 2,
            ..Default::default()
        };
        assert_eq!(
            stage(&buyer(&[(0, 1.0), (1, 1.0)]), T0 + 2 * DAY, &cfg),
            Stage::Vip
        );
        let parsed: SegmentConfig = serde_json::from_str(r#"{"lapsed_days": 90}"#).unwrap();
        assert_eq!(parsed.lapsed_days, 90.0);
        assert_eq!(parsed.vip_orders, SegmentConfig::default().vip_orders);
        assert!(serde_json::from_str::<SegmentConfig>(r#"{"vip_order": 3}"#).is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::from_name(s.name()), Some(s));
        }
        assert_eq!(Stage::from_name("whale"), None);
    }
}
