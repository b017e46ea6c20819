//! Building a site's snapshot with the core trainer from its catalog and stored events, and
//! keeping versions of it.

use crate::catalog::Catalog;
use crate::store::{EventStore, StorageError, StoredSnapshot, TrainingEvents};
use std::collections::HashMap;
use std::io::Write;
use tailor_core::model::{quantize_log, ItemAttrs};
use tailor_core::snapshot::{ModelKind, Snapshot};
use tailor_core::train::{shrink_to_fit, train, train_tuned, Session, StoreInput, TrainParams};

/// How much one stored product view adds to a product's popularity weight, on top of the
/// catalog's own popularity prior.
pub const VIEW_WEIGHT: f64 = 1.0;
/// Largest snapshot the trainer may ship, brotli-compressed.
pub const MAX_SNAPSHOT_BROTLI: usize = 1_000_000;
/// Below this many stored views the scorer keeps its default weights instead of tuning.
const MIN_VIEWS_TO_TUNE: usize = 500;

/// Shared strings (categories, vendors, tags), each stored once.
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    ix: HashMap<String, u32>,
}

impl Strings {
    fn get(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ix.get(s) {
            return i;
        }
        self.list.push(s.to_owned());
        self.ix.insert(s.to_owned(), self.list.len() as u32 - 1);
        self.list.len() as u32 - 1
    }
}

/// The catalog as trainer input (attributes and their strings), plus each product's tags as
/// string indices.
fn catalog_input(
    catalog: &Catalog,
    baskets: Vec<Vec<u64>>,
) -> (StoreInput, HashMap<u64, Vec<u32>>) {
    let mut strings = Strings::default();
    let mut tags = HashMap::new();
    let items = catalog
        .products
        .iter()
        .map(|p| {
            let category = (!p.category.is_empty()).then(|| strings.get(&p.category));
            let vendor = p
                .vendor
                .as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| strings.get(v));
            tags.insert(p.id, p.tags.iter().map(|t| strings.get(t)).collect());
            ItemAttrs {
                id: p.id,
                category,
                vendor,
                price_cents: Some((p.price * 100.0).round().clamp(0.0, u32::MAX as f64) as u32),
                available: p.available,
            }
        })
        .collect();
    let input = StoreInput {
        items,
        strings: strings.list,
        baskets,
    };
    (input, tags)
}

/// Train the site's snapshot. Sessions come from stored product views; baskets from stored
/// purchases; attributes from the catalog. Popularity is the catalog's prior plus
/// [`VIEW_WEIGHT`] per stored view, so a new store starts from its catalog and learns from
/// traffic.
pub fn build(catalog: &Catalog, data: &TrainingEvents) -> Snapshot {
    let mut order: HashMap<&str, usize> = HashMap::new();
    let mut sessions: Vec<Session> = Vec::new();
    for (session, item, ts) in &data.views {
        let slot = *order.entry(session.as_str()).or_insert_with(|| {
            sessions.push(Session {
                key: session.clone(),
                events: Vec::new(),
            });
            sessions.len() - 1
        });
        sessions[slot].events.push((*item, *ts as f64 / 1000.0));
    }
    let (input, tags) = catalog_input(catalog, data.baskets.clone());
    let params = TrainParams::default();
    let mut model = if data.views.len() >= MIN_VIEWS_TO_TUNE {
        train_tuned(&sessions, &input, &params, 5000).0
    } else {
        train(&sessions, &input, &params)
    };
    // Compressing is slow: a snapshot whose raw size is under the budget fits without it, and
    // one over four times the budget is taken not to (snapshots compress about 2:1).
    let fits = |b: &[u8]| {
        b.len() <= MAX_SNAPSHOT_BROTLI
            || (b.len() <= 4 * MAX_SNAPSHOT_BROTLI
                && crate::compress::brotli(b).len() <= MAX_SNAPSHOT_BROTLI)
    };
    model = shrink_to_fit(model, &params, fits).0;

    let mut views: HashMap<u64, f64> = HashMap::new();
    for (_, item, _) in &data.views {
        *views.entry(*item).or_insert(0.0) += VIEW_WEIGHT;
    }
    let prior: HashMap<u64, &crate::catalog::Product> =
        catalog.products.iter().map(|p| (p.id, p)).collect();
    let weights: Vec<f64> = model
        .items
        .iter()
        .map(|a| {
            prior.get(&a.id).map_or(0.0, |p| p.popularity)
                + views.get(&a.id).copied().unwrap_or(0.0)
        })
        .collect();
    let max = weights.iter().copied().fold(0.0, f64::max);
    model.popularity = weights.iter().map(|&w| quantize_log(w, max)).collect();
    let field = |f: fn(&crate::catalog::Product) -> String| -> Vec<String> {
        model
            .items
            .iter()
            .map(|a| prior.get(&a.id).map_or(String::new(), |p| f(p)))
            .collect()
    };
    model.handles = field(|p| p.handle.clone());
    model.titles = field(|p| p.title.clone());
    model.images = field(|p| p.image.clone().unwrap_or_default());
    if model.images.iter().all(String::is_empty) {
        model.images.clear();
    }
    model.tags = tailor_core::model::Lists::from_vecs(
        model
            .items
            .iter()
            .map(|a| tags.get(&a.id).cloned().unwrap_or_default())
            .collect(),
    )
    .canonical();
    model.index();
    Snapshot::new(ModelKind::Hybrid, catalog.version, model)
}

/// Gzip at the best compression.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// What a rebuild produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// The new version.
    pub version: u64,
    /// Raw bytes.
    pub bytes: usize,
    /// Brotli bytes.
    pub brotli: usize,
    /// Events the site had.
    pub events: u64,
    /// Seconds spent in all (reading, training, compressing, storing).
    pub seconds: f64,
    /// Seconds reading the events from storage.
    pub load_seconds: f64,
    /// Seconds training.
    pub train_seconds: f64,
    /// Seconds encoding and compressing.
    pub compress_seconds: f64,
}

/// Train a new snapshot version of `site` from what `store` holds, with the store's
/// configuration `config`, and keep the last `keep`.
pub fn rebuild(
    store: &dyn EventStore,
    catalog: &Catalog,
    config: &tailor_core::config::StoreConfig,
    site: &str,
    keep: usize,
) -> Result<Built, StorageError> {
    rebuild_when(store, catalog, config, site, keep, false)?
        .ok_or_else(|| StorageError("a snapshot to store unconditionally was skipped".into()))
}

/// As [`rebuild`]; with `only_if_changed`, stores nothing when the snapshot it trains is the
/// latest one, byte for byte (`None`): a server that restarts with the same catalog and
/// configuration hands out no new version, and one that restarts with another does at once.
pub fn rebuild_when(
    store: &dyn EventStore,
    catalog: &Catalog,
    config: &tailor_core::config::StoreConfig,
    site: &str,
    keep: usize,
    only_if_changed: bool,
) -> Result<Option<Built>, StorageError> {
    let t0 = std::time::Instant::now();
    let events = store.event_count(site)?;
    let data = store.training_events(site)?;
    let loaded = t0.elapsed().as_secs_f64();
    let mut snap = build(catalog, &data);
    let trained = t0.elapsed().as_secs_f64();
    snap.model.config = config.clone();
    let raw = snap.encode();
    if only_if_changed && store.latest_snapshot(site)?.is_some_and(|s| s.raw == raw) {
        return Ok(None);
    }
    let br = crate::compress::brotli(&raw);
    let gz = gzip(&raw);
    let compressed = t0.elapsed().as_secs_f64();
    let created_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let snap = StoredSnapshot {
        version: 0,
        created_at,
        events,
        raw,
        br,
        gz,
    };
    let version = store.put_snapshot(site, &snap, keep)?;
    Ok(Some(Built {
        version,
        bytes: snap.raw.len(),
        brotli: snap.br.len(),
        events,
        seconds: t0.elapsed().as_secs_f64(),
        load_seconds: loaded,
        train_seconds: trained - loaded,
        compress_seconds: compressed - trained,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Product;

    fn product(id: u64, popularity: f64, category: &str) -> Product {
        Product {
            id,
            handle: format!("p{id}"),
            title: format!("P{id}"),
            category: category.into(),
            price: 1.25,
            popularity,
            sku: None,
            vendor: None,
            tags: vec![],
            image: None,
            available: true,
        }
    }

    fn score(s: &Snapshot, id: u64) -> Option<u8> {
        s.model.ix_of(id).map(|i| s.model.popularity[i as usize])
    }

    fn views(list: &[(&str, u64, i64)]) -> TrainingEvents {
        TrainingEvents {
            views: list.iter().map(|&(s, i, t)| (s.to_owned(), i, t)).collect(),
            baskets: vec![],
        }
    }

    #[test]
    fn views_raise_popularity_and_sessions_train_the_lists() {
        let catalog = Catalog {
            version: 9,
            source: None,
            products: vec![
                Product {
                    vendor: Some("Acme".into()),
                    tags: vec!["gift".into()],
                    ..product(1, 10.0, "Bags")
                },
                Product {
                    available: false,
                    ..product(2, 1.0, "")
                },
                product(3, 0.0, "Bags"),
            ],
        };
        let before = build(&catalog, &TrainingEvents::default());
        assert!(score(&before, 1) > score(&before, 2));
        let mut list: Vec<(&str, u64, i64)> = Vec::new();
        for k in 0..30 {
            list.push(("s", 2, k));
        }
        list.push(("t", 2, 100));
        list.push(("t", 3, 200));
        let after = build(
            &catalog,
            &TrainingEvents {
                baskets: vec![vec![1, 3]],
                ..views(&list)
            },
        );
        assert!(score(&after, 2) > score(&after, 1));
        assert_eq!(after.catalog_version, 9);
        assert_eq!(after.model.strings, vec!["Bags", "Acme", "gift"]);
        assert_eq!(after.model.items[0].vendor, Some(1));
        assert_eq!(after.model.tags.get(0), &[2]);
        assert!(!after.model.items[1].available);
        assert_eq!(after.model.items[0].category, Some(0));
        assert_eq!(after.model.items[1].category, None);
        assert_eq!(after.model.items[0].price_cents, Some(125));
        assert_eq!(after.model.handles, vec!["p1", "p2", "p3"]);
        // 2 was followed by 3 in session t; 1 and 3 were bought together.
        let ix = |id| after.model.ix_of(id).unwrap();
        assert!(after
            .model
            .next
            .get(ix(2) as usize)
            .iter()
            .any(|n| n.item == ix(3)));
        assert_eq!(after.model.copurchase.get(ix(1) as usize)[0].item, ix(3));
        // Decodes as a browser would.
        assert_eq!(Snapshot::decode(&after.encode()).unwrap(), after);
    }

    #[test]
    fn a_restart_stores_a_version_only_when_the_catalog_or_the_configuration_changed() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("t.db")).unwrap();
        let ev = |n: u64, item: u64| crate::store::StoredEvent {
            id: format!("e{n}"),
            kind: "product_view".into(),
            item: Some(item),
            shopper: format!("s{}", n / 3),
            session: format!("x{}", n / 3),
            ts: 1_700_000_000_000 + n as i64,
            payload: "{}".into(),
            bot: false,
        };
        let events: Vec<_> = (0..30).map(|n| ev(n, 1 + n % 3)).collect();
        store.insert_events("demo", &events, 0).unwrap();
        let catalog = Catalog {
            version: 1,
            source: None,
            products: (1..=3).map(|id| product(id, 1.0, "Bags")).collect(),
        };
        let config = tailor_core::config::StoreConfig::default();
        assert_eq!(
            rebuild(&store, &catalog, &config, "demo", 5)
                .unwrap()
                .version,
            1
        );
        // The same inputs train the same bytes: nothing new to hand out.
        assert!(rebuild_when(&store, &catalog, &config, "demo", 5, true)
            .unwrap()
            .is_none());
        assert_eq!(store.snapshot_versions("demo").unwrap(), vec![1]);
        // Another configuration (an experiment's holdout), or another catalog: a new version.
        let mut other = config.clone();
        other.experiments.holdout_share = 0.2;
        let b = rebuild_when(&store, &catalog, &other, "demo", 5, true).unwrap();
        assert_eq!(b.map(|b| b.version), Some(2));
        let mut bigger = catalog.clone();
        bigger.products.push(product(4, 1.0, "Bags"));
        let b = rebuild_when(&store, &bigger, &other, "demo", 5, true).unwrap();
        assert_eq!(b.map(|b| b.version), Some(3));
    }

    #[test]
    fn compressed_copies_decompress_to_the_snapshot() {
        let raw = b"TLSN snapshot bytes ".repeat(50);
        let gz = gzip(&raw);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).unwrap();
        assert_eq!(out, raw);
    }
}
