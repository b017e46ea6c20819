//! Engine benchmarks on synthetic stores of realistic shape (fixed seed). Run `make bench`,
//! which prints a table of medians after criterion's own output.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use tailor_core::events::{Event, EventKind};
use tailor_core::model::{ItemAttrs, ItemIx, Model, Neighbor, ScoreParams};
use tailor_core::profile::Profile;
use tailor_core::rank::{rank_grid, recommend, Context, Placement, Rules};
use tailor_core::snapshot::{ModelKind, Snapshot};

const T0: i64 = 1_764_000_000_000;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A store with `n` items in 50 categories, shaped like what the trainer ships within the
/// 1 MB brotli budget: 10-item neighbour lists for the 60% of items with enough history, and a
/// 20,000-session sample of category-local browsing walks.
fn store(n: usize) -> Model {
    let mut rng = Rng(0x5eed ^ n as u64);
    let categories = 50u64;
    let items: Vec<ItemAttrs> = (0..n as u64)
        .map(|i| ItemAttrs {
            id: 7_400_000_000_000 + i * 3,
            category: Some((i % categories) as u32),
            vendor: Some((i % 17) as u32 + categories as u32),
            price_cents: Some(200 + (i * 37 % 20_000) as u32),
            available: i % 23 != 0,
        })
        .collect();
    let strings: Vec<String> = (0..categories)
        .map(|c| format!("Category {c}"))
        .chain((0..17).map(|v| format!("Vendor {v}")))
        .collect();
    let popularity: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
    let next: Vec<Vec<Neighbor>> = (0..n)
        .map(|i| {
            let len = if i % 5 < 3 { 10 } else { 0 };
            (0..len)
                .map(|k| Neighbor {
                    item: rng.below(n as u64) as ItemIx,
                    score: 255 - k as u8 * 20,
                })
                .collect()
        })
        .collect();
    let sessions: Vec<Vec<ItemIx>> = (0..20_000)
        .map(|_| {
            let cat = rng.below(categories);
            let len = 2 + rng.below(8);
            (0..len)
                .map(|_| {
                    ((rng.below(n as u64 / categories) * categories + cat) % n as u64) as ItemIx
                })
                .collect()
        })
        .collect();
    Model::from_parts(
        items,
        strings,
        popularity,
        next,
        sessions,
        ScoreParams::default(),
    )
}

fn shopper(model: &Model) -> Profile {
    let mut p = Profile::default();
    for k in 0..8u64 {
        let item = model.items[(k * 50 + 7) as usize % model.items.len()].id;
        p.apply(&view(item, k as i64), Some(model));
    }
    p
}

fn view(item: u64, k: i64) -> Event {
    Event {
        id: "0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c".into(),
        ts: T0 + k * 1000,
        shopper: "bench".into(),
        session: "bench-session".into(),
        kind: EventKind::ProductView { item },
    }
}

fn benches(c: &mut Criterion) {
    let ctx = Context {
        now: T0 + 60_000,
        ..Default::default()
    };
    for &n in &[10_000usize, 50_000] {
        let model = store(n);
        let profile = shopper(&model);
        let mut g = c.benchmark_group("recommend_for_you_top12");
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                recommend(
                    Placement::ForYou,
                    black_box(&profile),
                    &ctx,
                    12,
                    &Rules::default(),
                    &model,
                )
            })
        });
        g.finish();
        let bytes = Snapshot::new(ModelKind::Hybrid, 1, model.clone()).encode();
        // Kept for the browser benchmark (scripts/bench-browser.mjs), which decodes the same
        // bytes in Chromium.
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-snapshots");
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(dir.join(format!("store-{n}.bin")), &bytes);
            let ids: Vec<String> = model
                .items
                .iter()
                .step_by(7)
                .take(48)
                .map(|a| a.id.to_string())
                .collect();
            let _ = std::fs::write(dir.join(format!("grid-{n}.txt")), ids.join(","));
        }
        eprintln!("store of {n} items: snapshot {} bytes", bytes.len());
        let mut g = c.benchmark_group("snapshot_decode");
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| Snapshot::decode(black_box(&bytes)).unwrap())
        });
        g.finish();
    }
    let model = store(10_000);
    let profile = shopper(&model);
    for &n in &[48usize, 500] {
        let ids: Vec<u64> = model
            .items
            .iter()
            .step_by(7)
            .take(n)
            .map(|a| a.id)
            .collect();
        let mut g = c.benchmark_group("rank_grid");
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| rank_grid(black_box(&ids), &profile, &ctx, &model))
        });
        g.finish();
    }
    let event = view(model.items[1234].id, 99);
    c.bench_function("profile_update", |b| {
        b.iter_batched(
            || profile.clone(),
            |mut p| {
                p.apply(black_box(&event), Some(&model));
                p
            },
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group! {
    name = engine;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = benches
}
criterion_main!(engine);
