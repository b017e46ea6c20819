//! The store's configuration that travels in the snapshot: segment thresholds, experiments,
//! recommendation placements and banners. It is written by the merchant (the server's site
//! config) and read by the engine in the browser.

use crate::experiments::ExperimentConfig;
use crate::rank::{Placement, Rules};
use crate::segments::SegmentConfig;
use serde::{Deserialize, Serialize};

/// A recommendation slot on the store's pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementConfig {
    /// The slot's name (`data-tailor-slot="..."`).
    pub name: String,
    /// What it recommends.
    pub placement: Placement,
    /// How many items (1..=200).
    #[serde(default = "twelve")]
    pub n: usize,
    /// Its business rules.
    #[serde(default)]
    pub rules: Rules,
    /// Its heading, shown above the block.
    #[serde(default)]
    pub title: Option<String>,
}

fn twelve() -> usize {
    12
}

/// One variant of a banner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BannerVariantConfig {
    /// Variant id (`data-variant`).
    pub id: String,
    /// Target lifecycle stage name (`new_visitor`, `vip`, ...).
    #[serde(default)]
    pub segment: Option<String>,
    /// Target category.
    #[serde(default)]
    pub category: Option<String>,
}

/// A banner container and its variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BannerConfig {
    /// Banner name (`data-tailor-banner="..."`).
    pub name: String,
    /// Its variants.
    pub variants: Vec<BannerVariantConfig>,
}

/// Everything about the store's setup that the engine needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Lifecycle thresholds.
    pub segments: SegmentConfig,
    /// Holdout and A/B tests.
    pub experiments: ExperimentConfig,
    /// Recommendation slots.
    pub placements: Vec<PlacementConfig>,
    /// Banners.
    pub banners: Vec<BannerConfig>,
}

/// A share for an error message, to four decimals, written with integer formatting only (the
/// float formatter is a large part of a wasm build, and the browser decodes configs too).
pub fn number_text(x: f64) -> String {
    if !x.is_finite() {
        return "not a finite number".to_owned();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let scaled = (x.abs() * 10_000.0).round();
    if scaled >= 1e15 {
        return format!("{sign}{}", x.abs() as u64);
    }
    let scaled = scaled as u64;
    let (int, frac) = (scaled / 10_000, scaled % 10_000);
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let digits = format!("{frac:04}");
        format!("{sign}{int}.{}", digits.trim_end_matches('0'))
    }
}

/// A name of the config's that events carry (an experiment's id in an exposure, a placement's
/// name as a slot, a banner's name and a variant's id): the engine and the server refuse an
/// event whose ids are empty, longer than `max` bytes or hold an `@` (`events::check_id`), so
/// such a name would cost every event that names it, silently.
fn check_name(what: &str, v: &str, max: usize) -> Result<(), String> {
    if v.is_empty() || v.len() > max || v.contains('@') {
        return Err(format!(
            "{what} `{v}` must be 1 to {max} bytes, without `@`: events carry it"
        ));
    }
    Ok(())
}

impl StoreConfig {
    /// What a merchant's config must also pass, beyond [`StoreConfig::validate`]: names that
    /// events could not carry, an experiment defined twice or one that ends before it starts.
    /// (Checked where the config is read, `tailor serve` and the snapshot commands, and not by
    /// the browser's snapshot decoder, which `validate` alone keeps small.)
    pub fn check_names(&self) -> Result<(), String> {
        use crate::events::MAX_ID_BYTES;
        let e = &self.experiments;
        for (i, x) in e.experiments.iter().enumerate() {
            check_name("experiment id", &x.id, MAX_ID_BYTES)?;
            if e.experiments[..i].iter().any(|y| y.id == x.id) {
                return Err(format!("experiment `{}` is defined twice", x.id));
            }
            if let (Some(start), Some(end)) = (x.start, x.end) {
                if start >= end {
                    return Err(format!(
                        "experiment `{}`: start {start} is not before end {end}",
                        x.id
                    ));
                }
            }
        }
        for p in &self.placements {
            check_name("placement", &p.name, MAX_ID_BYTES)?;
        }
        for b in &self.banners {
            // (An exposure names the placement `banner:<name>`.)
            check_name("banner", &b.name, MAX_ID_BYTES - "banner:".len())?;
            for v in &b.variants {
                check_name(&format!("banner `{}` variant", b.name), &v.id, MAX_ID_BYTES)?;
            }
        }
        Ok(())
    }

    /// Check what serde cannot: ranges, unknown segment names, duplicate names.
    pub fn validate(&self) -> Result<(), String> {
        let e = &self.experiments;
        if !(0.0..=1.0).contains(&e.holdout_share) {
            return Err(format!(
                "experiments.holdout_share {} is not between 0 and 1",
                number_text(e.holdout_share)
            ));
        }
        for x in &e.experiments {
            if !(0.0..=1.0).contains(&x.treatment_share) {
                return Err(format!(
                    "experiment `{}`: treatment_share {} is not between 0 and 1",
                    x.id,
                    number_text(x.treatment_share)
                ));
            }
        }
        for (i, p) in self.placements.iter().enumerate() {
            if p.n == 0 || p.n > crate::rank::MAX_LIST {
                return Err(format!(
                    "placement `{}`: n = {} is not between 1 and {}",
                    p.name,
                    p.n,
                    crate::rank::MAX_LIST
                ));
            }
            if self.placements[..i].iter().any(|q| q.name == p.name) {
                return Err(format!("placement `{}` is defined twice", p.name));
            }
        }
        for b in &self.banners {
            for v in &b.variants {
                if let Some(s) = &v.segment {
                    if crate::segments::Stage::from_name(s).is_none() {
                        return Err(format!(
                            "banner `{}` variant `{}`: unknown segment `{s}`",
                            b.name, v.id
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Parse and validate JSON.
    pub fn from_json(text: &str) -> Result<StoreConfig, String> {
        let c: StoreConfig =
            serde_json::from_str(text).map_err(|e| format!("store config: {e}"))?;
        c.validate().map_err(|e| format!("store config: {e}"))?;
        Ok(c)
    }
}

#[cfg(test)]
mod number_tests {
    #[test]
    fn numbers_for_messages() {
        use super::number_text;
        assert_eq!(number_text(2.0), "2");
        assert_eq!(number_text(0.05), "0.05");
        assert_eq!(number_text(1.5), "1.5");
        assert_eq!(number_text(-0.25), "-0.25");
        assert_eq!(number_text(f64::NAN), "not a finite number");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults_and_validates() {
        let c = StoreConfig::from_json(
            r#"{"placements":[{"name":"pdp-similar","placement":"similar"}],
                "banners":[{"name":"hero","variants":[{"id":"vip","segment":"vip"},{"id":"default"}]}]}"#,
        )
        .unwrap();
        assert_eq!(c.placements[0].n, 12);
        assert!(c.placements[0].rules.exclude_unavailable);
        assert_eq!(c.experiments.holdout_share, 0.05);
        let e = StoreConfig::from_json(
            r#"{"banners":[{"name":"hero","variants":[{"id":"x","segment":"whale"}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            "store config: banner `hero` variant `x`: unknown segment `whale`"
        );
        let e = StoreConfig::from_json(r#"{"experiments":{"holdout_share":1.5}}"#).unwrap_err();
        assert!(e.contains("holdout_share 1.5"), "{e}");
        assert!(StoreConfig::from_json(r#"{"placement":[]}"#)
            .unwrap_err()
            .contains("unknown field"));
    }

    #[test]
    fn refuses_names_that_events_could_not_carry_and_experiments_that_cannot_run() {
        let long = "x".repeat(65);
        let cases = [
            (
                format!(r#"{{"experiments":{{"experiments":[{{"id":"{long}","placement":"grid"}}]}}}}"#),
                format!("store config: experiment id `{long}` must be 1 to 64 bytes, without `@`: events carry it"),
            ),
            (
                r#"{"experiments":{"experiments":[{"id":"g","placement":"grid"},{"id":"g","placement":"search"}]}}"#.into(),
                "store config: experiment `g` is defined twice".into(),
            ),
            (
                r#"{"experiments":{"experiments":[{"id":"g","placement":"grid","start":20,"end":10}]}}"#.into(),
                "store config: experiment `g`: start 20 is not before end 10".into(),
            ),
            (
                r#"{"placements":[{"name":"a@b","placement":"similar"}]}"#.into(),
                "store config: placement `a@b` must be 1 to 64 bytes, without `@`: events carry it".into(),
            ),
            (
                format!(r#"{{"banners":[{{"name":"{}","variants":[{{"id":"v"}}]}}]}}"#, "b".repeat(58)),
                format!("store config: banner `{}` must be 1 to 57 bytes, without `@`: events carry it", "b".repeat(58)),
            ),
            (
                r#"{"banners":[{"name":"hero","variants":[{"id":""}]}]}"#.into(),
                "store config: banner `hero` variant `` must be 1 to 64 bytes, without `@`: events carry it".into(),
            ),
        ];
        let checked = |json: &str| {
            StoreConfig::from_json(json)
                .and_then(|c| c.check_names().map_err(|e| format!("store config: {e}")))
        };
        for (json, want) in cases {
            assert_eq!(checked(&json).unwrap_err(), want);
            // (The browser's snapshot decoder does not check these.)
            StoreConfig::from_json(&json).unwrap();
        }
        // At the limits: accepted.
        let ok = format!(
            r#"{{"experiments":{{"experiments":[{{"id":"{}","placement":"grid","start":10,"end":20}}]}},
                "banners":[{{"name":"{}","variants":[{{"id":"{}"}}]}}]}}"#,
            "x".repeat(64),
            "b".repeat(57),
            "v".repeat(64)
        );
        checked(&ok).unwrap();
    }
}
