//! Experiments: deterministic assignment of shoppers to a global holdout and to per-placement
//! control and treatment arms.
//!
//! Assignment is a pure function of the shopper id, the experiment id and the configuration, so
//! it is stable across page views, sessions and every device that shares the shopper id, and the
//! server can recompute it when it reports results.

use serde::{Deserialize, Serialize};

/// One A/B test of personalized (treatment) against control on a placement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Stable id; changing it reshuffles the arms.
    pub id: String,
    /// The placement tested (`grid`, `search`, `similar`, `for_you`, a banner name, ...).
    pub placement: String,
    /// Share of (non-holdout) shoppers in the treatment arm, 0..=1.
    #[serde(default = "half")]
    pub treatment_share: f64,
    /// Start (ms since epoch), inclusive; none = already started.
    #[serde(default)]
    pub start: Option<i64>,
    /// End (ms since epoch), exclusive; none = open-ended.
    #[serde(default)]
    pub end: Option<i64>,
}

fn half() -> f64 {
    0.5
}

fn five_percent() -> f64 {
    0.05
}

/// The store's experiment configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Share of shoppers who never see personalization, 0..=1 (default 5%).
    #[serde(default = "five_percent")]
    pub holdout_share: f64,
    /// The experiments.
    #[serde(default)]
    pub experiments: Vec<Experiment>,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        ExperimentConfig {
            holdout_share: five_percent(),
            experiments: Vec::new(),
        }
    }
}

/// Which experience a shopper gets on a placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// The global holdout: never personalized.
    Holdout,
    /// The experiment's control: the theme's order, or plain bestsellers for blocks.
    Control,
    /// The experiment's treatment: personalized.
    Treatment,
    /// No experiment runs on this placement now: personalized.
    Default,
}

impl Arm {
    /// Every arm.
    pub const ALL: [Arm; 4] = [Arm::Holdout, Arm::Control, Arm::Treatment, Arm::Default];

    /// The arm's name in events and reports: `holdout`, `control`, `treatment`, `default`.
    pub fn name(self) -> &'static str {
        match self {
            Arm::Holdout => "holdout",
            Arm::Control => "control",
            Arm::Treatment => "treatment",
            Arm::Default => "default",
        }
    }

    /// The arm with this name.
    pub fn from_name(name: &str) -> Option<Arm> {
        Arm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether the shopper sees personalization.
    pub fn personalized(self) -> bool {
        matches!(self, Arm::Treatment | Arm::Default)
    }
}

/// The assignment of one shopper on one placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The arm.
    pub arm: Arm,
    /// The experiment, when one runs on the placement.
    pub experiment: Option<String>,
}

/// A uniform number in `[0, 1)` from `parts`: FNV-1a over the bytes, then a 64-bit finalizer
/// (the one from SplitMix64) so that nearby ids spread evenly.
pub fn unit_hash(parts: &[&str]) -> f64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ 0x1f).wrapping_mul(0x100_0000_01b3);
        }
        for b in part.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Assign `shopper` on `placement` at `now` (ms).
pub fn assign(cfg: &ExperimentConfig, shopper: &str, placement: &str, now: i64) -> Assignment {
    if unit_hash(&["holdout", shopper]) < cfg.holdout_share {
        return Assignment {
            arm: Arm::Holdout,
            experiment: None,
        };
    }
    let running = cfg.experiments.iter().find(|e| {
        e.placement == placement
            && e.start.is_none_or(|s| now >= s)
            && e.end.is_none_or(|end| now < end)
    });
    match running {
        None => Assignment {
            arm: Arm::Default,
            experiment: None,
        },
        Some(e) => Assignment {
            arm: if unit_hash(&["experiment", &e.id, shopper]) < e.treatment_share {
                Arm::Treatment
            } else {
                Arm::Control
            },
            experiment: Some(e.id.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_names_match_their_serialized_form() {
        for arm in Arm::ALL {
            assert_eq!(
                serde_json::to_value(arm).unwrap(),
                serde_json::json!(arm.name())
            );
            assert_eq!(Arm::from_name(arm.name()), Some(arm));
        }
        assert_eq!(Arm::from_name("treated"), None);
    }

    fn cfg() -> ExperimentConfig {
        ExperimentConfig {
            holdout_share: 0.05,
            experiments: vec![Experiment {
                id: "grid-2026-11".into(),
                placement: "grid".into(),
                treatment_share: 0.5,
                start: Some(1000),
                end: Some(2000),
            }],
        }
    }

    #[test]
    fn stable_and_split_as_configured() {
        let c = cfg();
        let mut counts = [0usize; 4];
        for i in 0..100_000 {
            let shopper = format!("shopper-{i}");
            let a = assign(&c, &shopper, "grid", 1500);
            assert_eq!(a, assign(&c, &shopper, "grid", 1500), "not stable");
            counts[match a.arm {
                Arm::Holdout => 0,
                Arm::Control => 1,
                Arm::Treatment => 2,
                Arm::Default => 3,
            }] += 1;
        }
        // 5% holdout, the rest split evenly (binomial sd ~ 0.07% and 0.16%: 6 sd bounds).
        assert!((counts[0] as f64 / 1e5 - 0.05).abs() < 0.005, "{counts:?}");
        assert!((counts[1] as f64 / 1e5 - 0.475).abs() < 0.01, "{counts:?}");
        assert!((counts[2] as f64 / 1e5 - 0.475).abs() < 0.01, "{counts:?}");
        assert_eq!(counts[3], 0);
    }

    #[test]
    fn holdout_is_global_and_dates_bound_the_test() {
        let c = cfg();
        for i in 0..2000 {
            let s = format!("s{i}");
            let grid = assign(&c, &s, "grid", 1500).arm;
            let other = assign(&c, &s, "similar", 1500).arm;
            assert_eq!(grid == Arm::Holdout, other == Arm::Holdout);
            if other != Arm::Holdout {
                assert_eq!(other, Arm::Default);
                assert_eq!(assign(&c, &s, "grid", 999).arm, Arm::Default);
                assert_eq!(assign(&c, &s, "grid", 2000).arm, Arm::Default);
            }
        }
    }

    #[test]
    fn experiments_are_independent_of_the_holdout_and_each_other() {
        // Treatment membership in two experiments should be uncorrelated.
        let mut c = cfg();
        c.experiments.push(Experiment {
            id: "similar-1".into(),
            placement: "similar".into(),
            treatment_share: 0.5,
            start: None,
            end: None,
        });
        let (mut both, mut n) = (0usize, 0usize);
        for i in 0..40_000 {
            let s = format!("s{i}");
            let a = assign(&c, &s, "grid", 1500).arm;
            let b = assign(&c, &s, "similar", 1500).arm;
            if a == Arm::Holdout {
                continue;
            }
            n += 1;
            if a == Arm::Treatment && b == Arm::Treatment {
                both += 1;
            }
        }
        let share = both as f64 / n as f64;
        assert!((share - 0.25).abs() < 0.015, "{share}");
    }

    #[test]
    fn config_parses_with_defaults() {
        let c: ExperimentConfig =
            serde_json::from_str(r#"{"experiments":[{"id":"x","placement":"grid"}]}"#).unwrap();
        assert_eq!(c.holdout_share, 0.05);
        assert_eq!(c.experiments[0].treatment_share, 0.5);
        assert!(Arm::Default.personalized() && Arm::Treatment.personalized());
        assert!(!Arm::Control.personalized() && !Arm::Holdout.personalized());
    }
}
