//! The golden snapshot fixture (`tests/fixtures/snapshot-v4-small.bin`), shared by every test
//! layer: encoding the model described in the JSON beside it gives exactly those bytes, and
//! decoding the bytes gives the model back.

use serde_json::Value;
use tailor_core::model::{ItemAttrs, Lists, Model, Neighbor, ScoreParams};
use tailor_core::profile::Profile;
use tailor_core::rank::{rank_grid, Context};
use tailor_core::snapshot::{ModelKind, Snapshot};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

fn described() -> (Snapshot, Value) {
    let text = std::fs::read_to_string(format!("{DIR}/snapshot-v4-small.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let u32_opt = |x: &Value| x.as_u64().map(|n| n as u32);
    let items = v["items"].as_array().unwrap();
    let p = &v["params"];
    let f = |k: &str| p[k].as_f64().unwrap() as f32;
    let params = ScoreParams {
        k: p["k"].as_u64().unwrap() as usize,
        sample: p["sample"].as_u64().unwrap() as usize,
        sequential: f("sequential"),
        popularity: f("popularity"),
        recency: f("recency"),
        idf: f("idf"),
        forward: f("forward"),
    };
    let lists = |key: &str| -> Vec<Vec<Neighbor>> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                l.as_array()
                    .unwrap()
                    .iter()
                    .map(|e| Neighbor {
                        item: e[0].as_u64().unwrap() as u32,
                        score: e[1].as_u64().unwrap() as u8,
                    })
                    .collect()
            })
            .collect()
    };
    let mut model = Model::from_parts(
        items
            .iter()
            .map(|i| ItemAttrs {
                id: i["id"].as_u64().unwrap(),
                category: u32_opt(&i["category"]),
                vendor: u32_opt(&i["vendor"]),
                price_cents: u32_opt(&i["price_cents"]),
                available: i["available"].as_bool().unwrap(),
            })
            .collect(),
        v["strings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect(),
        items
            .iter()
            .map(|i| i["popularity"].as_u64().unwrap() as u8)
            .collect(),
        lists("next"),
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s.as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_u64().unwrap() as u32)
                    .collect()
            })
            .collect(),
        params,
    );
    model.handles = v["handles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect();
    for (key, field) in [("titles", &mut model.titles), ("images", &mut model.images)] {
        *field = v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_owned())
            .collect();
    }
    model.tags = Lists::from_vecs(
        v["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                t.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap() as u32)
                    .collect()
            })
            .collect(),
    );
    model.coview = Lists::from_vecs(lists("coview"));
    model.copurchase = Lists::from_vecs(lists("copurchase"));
    model.trending = v["trending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u8)
        .collect();
    model.config = tailor_core::config::StoreConfig::from_json(&v["config"].to_string()).unwrap();
    let version = v["catalog_version"].as_u64().unwrap();
    (Snapshot::new(ModelKind::Hybrid, version, model), v)
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

#[test]
fn golden_snapshot_bytes_are_stable() {
    let (snap, _) = described();
    let bytes = snap.encode();
    let path = format!("{DIR}/snapshot-v4-small.bin");
    if std::env::var_os("TAILOR_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let golden = std::fs::read(&path).unwrap();
    assert_eq!(
        bytes, golden,
        "the encoder no longer writes the golden bytes: a format change needs a new format version"
    );
    assert_eq!(Snapshot::decode(&golden).unwrap(), snap);
}

#[test]
fn golden_snapshot_ranks_the_documented_grid() {
    let (_, v) = described();
    let golden = std::fs::read(format!("{DIR}/snapshot-v4-small.bin")).unwrap();
    let snap = Snapshot::decode(&golden).unwrap();
    let grid = ids(&v["grid_order"]["ids"]);
    let got: Vec<u64> = rank_grid(&grid, &Profile::default(), &Context::default(), &snap.model)
        .iter()
        .map(|(k, _)| grid[*k])
        .collect();
    assert_eq!(got, ids(&v["grid_order"]["ranked"]));
}
