//! What personalization earns, end to end: a synthetic population with a planted lift goes
//! through a real `tailor serve` over HTTP into SQLite; the report (over HTTP and from the
//! `tailor report` command) must recover the lift within its interval. Also the admin token,
//! the dashboard and the customer export.

mod common;

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use tailor_core::experiments::{assign, Arm};

const TOKEN: &str = "test-admin-token-0123456789";
const T0: i64 = 1_761_955_200_000; // 2025-11-01
const DAY: i64 = 86_400_000;

const CATALOG: &str = r#"{"version": 1, "products": [
  {"id": 1, "handle": "red-mug", "title": "Red mug", "category": "Kitchen", "price": 12.0, "popularity": 5},
  {"id": 2, "handle": "blue-bag", "title": "Blue bag", "category": "Bags", "price": 40.0, "popularity": 3},
  {"id": 3, "handle": "candle", "title": "Candle", "category": "Candles", "price": 8.0, "popularity": 1}
]}"#;

/// A tailor.toml with one experiment on the `for_you` slot and the admin token.
fn config(dir: &Path, token: &str) -> String {
    format!(
        r#"addr = "127.0.0.1:0"
db = "{db}"
www = "{dir}"
dist = "{dir}"
rebuild_every_secs = 0
log_level = "error"
[site]
key = "demo"
catalog = "{catalog}"
rate_per_sec = 100000.0
rate_burst = 100000.0
admin_token = "{token}"
[site.store.experiments]
holdout_share = 0.05
[[site.store.experiments.experiments]]
id = "for-you-1"
placement = "for_you"
treatment_share = 0.5
start = {start}
"#,
        db = dir.join("events.db").display(),
        dir = dir.display(),
        catalog = dir.join("catalog.json").display(),
        start = T0 - DAY,
    )
}

/// `tailor serve --config` with the file written for `dir`.
fn serve(dir: &Path, token: &str) -> (common::Proc, std::path::PathBuf) {
    std::fs::write(dir.join("catalog.json"), CATALOG).unwrap();
    let path = dir.join("tailor.toml");
    std::fs::write(&path, config(dir, token)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .arg("serve")
        .arg("--config")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = common::listening_addr(&mut child);
    (common::Proc { child, addr }, path)
}

/// SplitMix64, for a population that is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The synthetic store. Each shopper has their own propensity to buy (15% to 45% of
/// sessions) and spend level, one to three sessions over two weeks, and sometimes an order
/// before the experiment (CUPED's covariate). Every session reaches the `for_you` slot (an
/// exposure with the arm `assign` gives, an impression, sometimes a click). Treatment sessions
/// convert 10% more often; control and holdout sessions do not differ.
fn population(seed: u64, shoppers: usize, lift: f64) -> Vec<Value> {
    let cfg = tailor_server::config::ServerConfig::parse(&config(Path::new("/x"), TOKEN))
        .unwrap()
        .site
        .store
        .experiments;
    let mut rng = Rng(seed);
    let mut n = 0u64;
    let mut out = Vec::new();
    let mut push = |out: &mut Vec<Value>, shopper: &str, session: &str, ts: i64, kind: Value| {
        n += 1;
        let mut e = kind;
        e["id"] = json!(format!("{:08x}-0000-4000-8000-{:012x}", seed as u32, n));
        e["shopper"] = json!(shopper);
        e["session"] = json!(session);
        e["ts"] = json!(ts);
        out.push(e);
    };
    for i in 0..shoppers {
        let shopper = format!("sim-{seed}-{i}");
        let a = assign(&cfg, &shopper, "for_you", T0);
        let mut p = 0.15 + 0.3 * rng.next();
        if a.arm == Arm::Treatment {
            p *= 1.0 + lift;
        }
        let spend = 20.0 + 60.0 * rng.next();
        if rng.next() < 0.3 {
            push(
                &mut out,
                &shopper,
                "pre",
                T0 - 30 * DAY,
                json!({"type": "purchase",
                "lines": [{"item": 3, "qty": 1, "price": spend}], "value": spend}),
            );
        }
        let start = T0 + (rng.next() * 14.0 * DAY as f64) as i64;
        let arm = serde_json::to_value(a.arm).unwrap();
        for k in 0..1 + (rng.next() * 3.0) as i64 {
            let t = start + k * 2 * DAY;
            let session = format!("{shopper}-{k}");
            let request = format!("{session}-r");
            let mut exposure = json!({"type": "exposure", "placement": "for_you", "arm": arm});
            if let Some(x) = &a.experiment {
                exposure["experiment"] = json!(x);
            }
            push(
                &mut out,
                &shopper,
                &session,
                t,
                json!({"type": "page_view", "page": "home"}),
            );
            push(&mut out, &shopper, &session, t + 1, exposure);
            push(
                &mut out,
                &shopper,
                &session,
                t + 2,
                json!({"type": "rec_impression",
                "request": request, "slot": "for_you", "items": [1, 2], "model_version": "1"}),
            );
            let clicked = rng.next() < 0.2;
            if clicked {
                push(
                    &mut out,
                    &shopper,
                    &session,
                    t + 3,
                    json!({"type": "rec_click",
                    "request": request, "slot": "for_you", "position": 1, "item": 2,
                    "model_version": "1"}),
                );
            }
            if rng.next() < p {
                let item = if clicked { 2 } else { 1 };
                let value = (spend * (0.5 + rng.next()) * 100.0).round() / 100.0;
                push(
                    &mut out,
                    &shopper,
                    &session,
                    t + 60_000,
                    json!({"type": "purchase",
                    "lines": [{"item": item, "qty": 1, "price": value}], "value": value}),
                );
            }
        }
    }
    out
}

async fn post_all(client: &reqwest::Client, base: &str, events: &[Value]) {
    for chunk in events.chunks(700) {
        let res = client
            .post(format!("{base}/v1/events"))
            .json(&json!({"site": "demo", "events": chunk}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["accepted"], chunk.len(), "{body}");
    }
}

fn comparison<'a>(report: &'a Value, id: &str, metric: &str) -> &'a Value {
    let arms = if id == "holdout" {
        &report["holdout"]
    } else {
        report["experiments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .unwrap()
    };
    &arms["metrics"][metric]
}

#[tokio::test]
async fn the_report_recovers_a_planted_lift_through_the_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, config_path) = serve(dir.path(), TOKEN);
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let mut events = population(20_261_125, 12_000, 0.10);
    // Pages no adapter understood, as browsers report them (docs/reports.md).
    for (n, (shopper, path)) in [
        ("sim-20261125-0", "/pages/a"),
        ("sim-20261125-1", "/pages/b"),
        ("sim-20261125-1", "/pages/a"),
    ]
    .iter()
    .enumerate()
    {
        events.push(json!({"type": "diagnostic", "code": "NOTHING_RECOGNISED", "detail": format!("other {path}"),
            "id": format!("d1a90000-0000-4000-8000-{n:012x}"), "shopper": shopper, "session": "d", "ts": T0 + 3 * DAY + n as i64}));
    }
    post_all(&client, &base, &events).await;

    let res = client
        .get(format!("{base}/v1/admin/demo/report"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["events"], events.len());

    // The experiment: +10% session conversion planted; the interval covers it and excludes 0.
    let exp = &report["experiments"][0];
    assert_eq!(exp["id"], "for-you-1");
    assert_eq!(exp["assignment_mismatches"], 0);
    assert!(
        exp["sample_ratio_p_value"].as_f64().unwrap() > 0.001,
        "{exp}"
    );
    let conv = comparison(&report, "for-you-1", "session_conversion");
    let (lo, lift, hi) = (
        conv["lift_low"].as_f64().unwrap(),
        conv["lift"].as_f64().unwrap(),
        conv["lift_high"].as_f64().unwrap(),
    );
    eprintln!("planted +10%: measured {lift:+.4} [{lo:+.4}, {hi:+.4}]");
    assert!(lo <= 0.10 && 0.10 <= hi, "{conv}");
    assert!(
        lo > 0.0,
        "the lift should be significant at this size: {conv}"
    );
    assert_eq!(conv["verdict"], "higher");
    assert_eq!(conv["method"], "delta_ratio_z");
    // Nothing was planted on clicks: CTR does not differ significantly.
    let ctr = comparison(&report, "for-you-1", "block_ctr");
    assert_eq!(ctr["verdict"], "not_yet_significant", "{ctr}");

    // The holdout against everyone personalized: half of them are in treatment, so the true
    // program lift is about +5%; the holdout is small, so the interval is wide.
    let held = comparison(&report, "holdout", "session_conversion");
    assert!(
        held["lift_low"].as_f64().unwrap() <= 0.05 && 0.05 <= held["lift_high"].as_f64().unwrap(),
        "{held}"
    );
    let holdout = &report["holdout"];
    let total = holdout["control_shoppers"].as_u64().unwrap()
        + holdout["treatment_shoppers"].as_u64().unwrap();
    assert_eq!(total, 12_000);

    // CUPED uses the pre-period orders: it removes some variance and keeps the estimate.
    let cuped = &comparison(&report, "for-you-1", "revenue_per_visitor_cuped");
    assert!(
        cuped["variance_reduction"].as_f64().unwrap() > 0.0,
        "{cuped}"
    );

    // Attribution: clicked item 2 bought in the same session is credited to for_you.
    let slot = &report["slots"][0];
    assert_eq!(slot["slot"], "for_you");
    assert!(slot["attributed_orders"].as_u64().unwrap() > 0);
    assert_eq!(slot["unmatched_clicks"], 0);
    // Items 1 and 2 are in every impression; the clicks on 2 break the tie.
    assert_eq!(slot["top_items"][0]["item"], 2);
    assert_eq!(slot["top_items"][0]["impressions"], slot["impressions"]);

    // What browsers reported: counted, with the latest distinct details first.
    assert_eq!(
        report["diagnostics"],
        json!([{"code": "NOTHING_RECOGNISED", "reports": 3, "shoppers": 2, "last": T0 + 3 * DAY + 2,
                "details": ["other /pages/a", "other /pages/b"]}])
    );
    let page = client
        .get(format!("{base}/admin"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<tr class="diagnostic"><td>NOTHING_RECOGNISED</td><td>3</td><td>2</td>"#),
        "{page}"
    );
    assert!(page.contains("other /pages/a<br>other /pages/b"));
    assert!(page.contains("no theme adapter recognised these pages"));

    // `tailor report` reads the same database and computes the same numbers.
    let out = common::succeeded(
        Command::new(env!("CARGO_BIN_EXE_tailor"))
            .args(["report", "--site", "demo", "--json", "--db"])
            .arg(dir.path().join("events.db"))
            .arg("--config")
            .arg(&config_path),
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        comparison(&cli, "for-you-1", "session_conversion"),
        conv,
        "the command and the endpoint disagree"
    );
    let text = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(["report", "--site", "demo", "--db"])
        .arg(dir.path().join("events.db"))
        .arg("--config")
        .arg(&config_path)
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Experiment for-you-1 (placement for_you)"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("session conversion"))
        .unwrap();
    assert!(row.ends_with("significantly higher"), "{row}");
    assert!(
        text.contains("NOTHING_RECOGNISED: 3 reports from 2 shoppers, last on 2025-11-04")
            && text.contains("    e.g. other /pages/a\n    e.g. other /pages/b\n"),
        "{text}"
    );
}

#[tokio::test]
async fn admin_routes_need_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = serve(dir.path(), TOKEN);
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    post_all(&client, &base, &population(7, 200, 0.0)).await;
    for path in ["/admin", "/v1/admin/demo/report", "/v1/admin/demo/profiles"] {
        let res = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 401, "{path}");
        assert_eq!(
            res.headers()["www-authenticate"],
            "Bearer realm=\"tailor admin\""
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "UNAUTHORIZED");
        let res = client
            .get(format!("{base}{path}"))
            .bearer_auth("not-the-token-at-all")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{path}");
        // Header, cookie and query parameter all work.
        for req in [
            client.get(format!("{base}{path}")).bearer_auth(TOKEN),
            client
                .get(format!("{base}{path}"))
                .header("cookie", format!("other=1; tailor_admin={TOKEN}")),
            client.get(format!("{base}{path}?token={TOKEN}")),
        ] {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
        }
    }
    // The dashboard is HTML with the charts in it, locked down by its CSP.
    let res = client
        .get(format!("{base}/admin"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    let html = res.text().await.unwrap();
    for id in [
        "chart-lift",
        "chart-cumulative-0",
        "chart-segments",
        "chart-top-0",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(!html.contains("<script"));
    // Unknown site: 404 after authentication.
    let res = client
        .get(format!("{base}/v1/admin/other/report"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn without_a_configured_token_the_admin_pages_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = serve(dir.path(), "");
    let res = reqwest::Client::new()
        .get(format!("http://{}/admin", server.addr))
        .bearer_auth("")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("set site.admin_token"));
    // A short token is refused at start.
    let short = dir.path().join("short.toml");
    std::fs::write(&short, config(dir.path(), "short")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .arg("serve")
        .arg("--config")
        .arg(&short)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("site.admin_token must be at least 16"));
}

#[tokio::test]
async fn customer_exports_over_http_and_from_the_command_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (server, config_path) = serve(dir.path(), TOKEN);
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let events = population(11, 300, 0.0);
    post_all(&client, &base, &events).await;
    let get = |q: &str| {
        client
            .get(format!("{base}/v1/admin/demo/profiles{q}"))
            .bearer_auth(TOKEN)
            .send()
    };
    let res = get("").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), tailor_core::audience::CSV_HEADER);
    let rows: Vec<&str> = lines.collect();
    // Buyers only by default: every shopper with a purchase event, once.
    let mut buyers: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "purchase")
        .map(|e| e["shopper"].as_str().unwrap())
        .collect();
    buyers.sort();
    buyers.dedup();
    assert_eq!(rows.len(), buyers.len());
    assert!(rows.iter().all(|r| r.split(',').count() == 12), "{rows:?}");

    let res = get("?format=jsonl&all=true").await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    let text = res.text().await.unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 300);
    let buyer = records
        .iter()
        .find(|r| r["orders"].as_u64() > Some(0))
        .unwrap();
    for field in [
        "lifecycle_stage",
        "top_categories",
        "price_band",
        "expected_date_of_next_order",
        "churn_probability",
        "best_send_hour",
        "best_send_weekday",
        "email_frequency",
    ] {
        assert!(!buyer[field].is_null(), "{field} missing: {buyer}");
    }
    // Categories come from the catalog.
    let cats = buyer["top_categories"].as_array().unwrap();
    assert!(cats
        .iter()
        .all(|c| ["Kitchen", "Bags", "Candles"].contains(&c.as_str().unwrap())));

    for (q, want) in [
        ("?format=xml", "format must be csv or jsonl"),
        ("?all=yes", "all must be true or false"),
    ] {
        let res = get(q).await.unwrap();
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "BAD_PARAMETER");
        assert!(body["error"]["message"].as_str().unwrap().contains(want));
    }

    // The command writes the same buyers to a file.
    let out_file = dir.path().join("customers.jsonl");
    common::succeeded(
        Command::new(env!("CARGO_BIN_EXE_tailor"))
            .args([
                "export-profiles",
                "--site",
                "demo",
                "--format",
                "jsonl",
                "--db",
            ])
            .arg(dir.path().join("events.db"))
            .arg("--catalog")
            .arg(dir.path().join("catalog.json"))
            .arg("--config")
            .arg(&config_path)
            .arg("--out")
            .arg(&out_file),
    );
    let written = std::fs::read_to_string(&out_file).unwrap();
    let shoppers: Vec<String> = written
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["shopper"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(shoppers, buyers);
}

#[test]
fn the_commands_refuse_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["report", "export-profiles"] {
        let out = Command::new(env!("CARGO_BIN_EXE_tailor"))
            .args([cmd, "--db"])
            .arg(dir.path().join("nope.db"))
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("nope.db does not exist"), "{cmd}: {err}");
        assert!(!dir.path().join("nope.db").exists());
    }
}
