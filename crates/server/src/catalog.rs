//! The store's catalog: the products a snapshot can score.
//!
//! The file is JSON: `{"version": 3, "products": [{"id": 1, "handle": "...", "title": "...",
//! "category": "...", "price": 2.5, "popularity": 12}]}`. Loading checks it fully and reports
//! the first problem with its file and position, so a broken catalog never starts a server.

use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// One product.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// The store's product id.
    pub id: u64,
    /// URL handle, as in `/products/<handle>`.
    pub handle: String,
    /// Display title.
    pub title: String,
    /// Category path, `/`-separated.
    #[serde(default)]
    pub category: String,
    /// Price in the store's currency.
    #[serde(default)]
    pub price: f64,
    /// A non-negative popularity prior (for the demo: how many orders contained the product).
    #[serde(default)]
    pub popularity: f64,
    /// The merchant's stock-keeping code, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Vendor or brand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Main image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Whether it can be bought now.
    #[serde(default = "yes")]
    pub available: bool,
}

fn yes() -> bool {
    true
}

/// A loaded, validated catalog.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Increases whenever the catalog changes; stamped into snapshots.
    pub version: u64,
    /// Where the catalog data comes from (credit line), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The products.
    pub products: Vec<Product>,
}

/// Why a catalog could not be loaded.
#[derive(Debug)]
pub enum CatalogError {
    /// The file could not be read.
    Read(PathBuf, std::io::Error),
    /// The file is not valid catalog JSON.
    Parse(PathBuf, serde_json::Error),
    /// The JSON is well formed but a product is invalid.
    Invalid(PathBuf, String),
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogError::Read(p, e) => write!(f, "cannot read catalog {}: {e}", p.display()),
            CatalogError::Parse(p, e) => {
                write!(f, "catalog {} is not valid catalog JSON: {e}", p.display())
            }
            CatalogError::Invalid(p, why) => write!(f, "catalog {}: {why}", p.display()),
        }
    }
}

impl std::error::Error for CatalogError {}

impl Catalog {
    /// Load and validate the catalog at `path`.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| CatalogError::Read(path.to_owned(), e))?;
        Catalog::parse(&text).map_err(|e| match e {
            ParseError::Json(e) => CatalogError::Parse(path.to_owned(), e),
            ParseError::Invalid(why) => CatalogError::Invalid(path.to_owned(), why),
        })
    }

    /// Parse and validate catalog JSON.
    pub fn parse(text: &str) -> Result<Catalog, ParseError> {
        let catalog: Catalog = serde_json::from_str(text).map_err(ParseError::Json)?;
        let mut seen = HashSet::with_capacity(catalog.products.len());
        for (i, p) in catalog.products.iter().enumerate() {
            if !seen.insert(p.id) {
                return Err(ParseError::Invalid(format!(
                    "products[{i}] repeats id {}",
                    p.id
                )));
            }
            if p.handle.is_empty() {
                return Err(ParseError::Invalid(format!(
                    "products[{i}] (id {}) has an empty handle",
                    p.id
                )));
            }
            if !p.popularity.is_finite() || p.popularity < 0.0 {
                return Err(ParseError::Invalid(format!(
                    "products[{i}] (id {}) has popularity {}, expected a number >= 0",
                    p.id, p.popularity
                )));
            }
            if !p.price.is_finite() || p.price < 0.0 {
                return Err(ParseError::Invalid(format!(
                    "products[{i}] (id {}) has price {}, expected a number >= 0",
                    p.id, p.price
                )));
            }
        }
        Ok(catalog)
    }
}

/// Why catalog text is invalid (no file attached).
#[derive(Debug)]
pub enum ParseError {
    /// Not JSON of the catalog's shape.
    Json(serde_json::Error),
    /// A product breaks a rule.
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_valid_catalog() {
        let c = Catalog::parse(
            r#"{"version":2,"products":[{"id":1,"handle":"a","title":"A","popularity":3}]}"#,
        )
        .unwrap();
        assert_eq!(c.version, 2);
        assert_eq!(c.products[0].popularity, 3.0);
        assert_eq!(c.products[0].category, "");
    }

    #[test]
    fn reports_position_of_json_errors() {
        let e =
            Catalog::parse("{\"version\": 1,\n \"products\": [ {\"id\": \"x\"} ]}").unwrap_err();
        let ParseError::Json(e) = e else {
            panic!("expected a JSON error")
        };
        assert_eq!(e.line(), 2);
        assert!(e.to_string().contains("invalid type"), "{e}");
    }

    #[test]
    fn rejects_duplicate_ids_and_bad_numbers() {
        let dup = r#"{"version":1,"products":[{"id":1,"handle":"a","title":"A"},{"id":1,"handle":"b","title":"B"}]}"#;
        match Catalog::parse(dup) {
            Err(ParseError::Invalid(m)) => assert_eq!(m, "products[1] repeats id 1"),
            other => panic!("unexpected {other:?}"),
        }
        let ok = r#"{"id":1,"handle":"a","title":"A"}"#;
        for (bad, says) in [
            (
                r#"{"id":2,"handle":"b","title":"B","popularity":-1}"#,
                "products[1] (id 2) has popularity -1, expected a number >= 0",
            ),
            (
                r#"{"id":2,"handle":"b","title":"B","price":-0.5}"#,
                "products[1] (id 2) has price -0.5, expected a number >= 0",
            ),
            (
                r#"{"id":2,"handle":"","title":"B"}"#,
                "products[1] (id 2) has an empty handle",
            ),
        ] {
            let text = format!(r#"{{"version":1,"products":[{ok},{bad}]}}"#);
            match Catalog::parse(&text) {
                Err(ParseError::Invalid(m)) => assert_eq!(m, says),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_unknown_fields() {
        let e = Catalog::parse(r#"{"version":1,"products":[],"extra":1}"#).unwrap_err();
        assert!(matches!(e, ParseError::Json(_)));
    }
}
