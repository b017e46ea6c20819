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

impl StoreConfig {
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
}
