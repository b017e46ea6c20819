//! The `tailor` binary: bad input stops it with a precise message and a non-zero exit code.

use std::process::Command;

mod common;

fn tailor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tailor"))
}

/// Start `tailor serve` on a free port with an empty catalog in `dir`; returns the process,
/// its address and the rest of its output.
fn serve_empty(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    String,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::BufRead;
    let catalog = dir.join("catalog.json");
    std::fs::write(&catalog, r#"{"version":1,"products":[]}"#).unwrap();
    let mut child = tailor()
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--rebuild-every",
            "0",
            "--catalog",
        ])
        .arg(&catalog)
        .arg("--db")
        .arg(dir.join("t.db"))
        .arg("--www")
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(a) = line.strip_prefix("tailor: listening on http://") {
            break a.to_owned();
        }
    };
    (child, addr, lines)
}

#[test]
fn a_broken_catalog_is_reported_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.json");
    std::fs::write(
        &catalog,
        "{\"version\": 1,\n \"products\": [ {\"id\": 1, \"handle\": ",
    )
    .unwrap();
    let out = tailor()
        .args(["serve", "--addr", "127.0.0.1:0", "--catalog"])
        .arg(&catalog)
        .arg("--db")
        .arg(dir.path().join("t.db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!(
            "tailor: error: catalog {} is not valid catalog JSON: EOF while parsing a value at line 2",
            catalog.display()
        )),
        "{err}"
    );
    assert!(
        !dir.path().join("t.db").exists(),
        "nothing is created for a broken catalog"
    );
}

#[test]
fn a_missing_catalog_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = tailor()
        .args(["serve", "--catalog"])
        .arg(dir.path().join("nope.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("cannot read catalog"), "{err}");
    assert!(err.contains("nope.json"), "{err}");
}

/// A small generated data set: sessions walk a chain of 12 items, so the next item is learnable.
fn write_sessions(path: &std::path::Path, first_session: u64, count: u64) {
    let mut text = String::from("SessionId\tItemId\tTime\n");
    for s in first_session..first_session + count {
        let start = s % 9;
        for (k, item) in (start..start + 4).enumerate() {
            text.push_str(&format!("{s}\t{}\t{}.5\n", 1000 + item, s * 100 + k as u64));
        }
    }
    std::fs::write(path, text).unwrap();
}

/// A training file of 400 sessions and a test file of 20 in `dir`.
fn train_and_test(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (train, test) = (dir.join("train.tsv"), dir.join("test.tsv"));
    write_sessions(&train, 0, 400);
    write_sessions(&test, 1000, 20);
    (train, test)
}

#[test]
fn eval_reports_json_and_writes_one_prediction_per_test_event() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = train_and_test(dir.path());
    let preds = dir.path().join("preds.jsonl");
    let out = common::succeeded(
        tailor()
            .args(["eval", "--json", "--train"])
            .arg(&train)
            .arg("--test")
            .arg(&test)
            .arg("--predictions")
            .arg(&preds),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "hr10",
        "hr20",
        "mrr10",
        "mrr20",
        "test_events",
        "snapshot_bytes",
        "snapshot_bytes_brotli",
    ] {
        assert!(report.get(key).is_some(), "missing {key} in {report}");
    }
    // 20 sessions of 4 events: 3 predictions each.
    assert_eq!(report["test_events"], 60);
    // The chain is deterministic, so the model must find nearly every next item.
    assert!(report["hr20"].as_f64().unwrap() > 0.9, "{report}");
    assert!(
        report["snapshot_bytes_brotli"].as_u64().unwrap()
            < report["snapshot_bytes"].as_u64().unwrap()
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&preds)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 60);
    assert_eq!(lines[0]["session"], 1000);
    assert_eq!(lines[0]["position"], 0);
    assert_eq!(lines[0]["target"], 1000 + (1000 % 9) + 1);
    assert!(lines
        .iter()
        .all(|l| l["ranked"].as_array().unwrap().len() <= 20));
}

#[test]
fn eval_names_the_file_and_line_of_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.tsv");
    std::fs::write(&train, "SessionId\tItemId\tTime\n1\t5\t1\n1\tx5\t2\n").unwrap();
    let out = tailor()
        .args(["eval", "--train"])
        .arg(&train)
        .arg("--test")
        .arg(&train)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.trim_end(),
        format!(
            "tailor: error: {}: line 3: ItemId `x5` is not a non-negative integer",
            train.display()
        )
    );
}

#[test]
fn eval_cadence_beats_the_naive_baselines_on_regular_shoppers() {
    // Each user orders every `g` days with one noisy gap; the last-gap baseline is misled by
    // the noise and the global mean by the spread of `g` across users.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    let mut text = String::from("order_id,user_id,order_number,days_since_prior_order\n");
    for u in 0..40u32 {
        let g = 5 + (u % 4) * 5;
        let gaps = [
            String::new(),
            g.to_string(),
            (g + 9).to_string(),
            g.to_string(),
        ];
        for (k, gap) in gaps.iter().enumerate() {
            text.push_str(&format!("{},{u},{},{gap}\n", u * 10 + k as u32, k + 1));
        }
    }
    std::fs::write(&path, text).unwrap();
    let out = common::succeeded(
        tailor()
            .args(["eval-cadence", "--json", "--orders"])
            .arg(&path),
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["users"], 40);
    let ours = r["mae_profile"].as_f64().unwrap();
    assert!(ours < r["mae_last_gap"].as_f64().unwrap(), "{r}");
    assert!(ours < r["mae_global_mean"].as_f64().unwrap(), "{r}");
}

#[test]
fn eval_reads_our_own_event_log() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, first: u64, count: u64| {
        let mut text = String::new();
        let mut n = 0u64;
        for s in first..first + count {
            let start = s % 9;
            for (k, item) in (start..start + 4).enumerate() {
                n += 1;
                let line = serde_json::json!({
                    "id": format!("00000000-0000-4000-8000-{:012x}", s * 10 + k as u64),
                    "type": "product_view", "item": 1000 + item,
                    "shopper": format!("shopper-{s}"), "session": format!("session-{s}"),
                    "ts": 1_700_000_000_000u64 + s * 100_000 + k as u64 * 1000,
                });
                text.push_str(&format!("{line}\n"));
                if k == 1 {
                    // Other event types are read but do not form sessions.
                    let page = serde_json::json!({
                        "id": format!("00000000-0000-4000-9000-{:012x}", s * 10 + k as u64),
                        "type": "page_view", "shopper": format!("shopper-{s}"),
                        "session": format!("session-{s}"), "ts": 1_700_000_000_000u64 + s * 100_000,
                    });
                    text.push_str(&format!("{page}\n"));
                }
            }
        }
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (path, n)
    };
    let (train, _) = write("train.jsonl", 0, 300);
    let (test, _) = write("test.jsonl", 1000, 10);
    let out = common::succeeded(
        tailor()
            .args(["eval", "--json", "--format", "events", "--train"])
            .arg(&train)
            .arg("--test")
            .arg(&test),
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["test_events"], 30);
    assert!(r["hr20"].as_f64().unwrap() > 0.9, "{r}");

    std::fs::write(&test, "{\"id\": 1}\n").unwrap();
    let out = tailor()
        .args(["eval", "--format", "events", "--train"])
        .arg(&train)
        .arg("--test")
        .arg(&test)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("test.jsonl: line 1: `type` is missing"),
        "{err}"
    );
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, lines) = serve_empty(dir.path());
    assert!(std::net::TcpStream::connect(&addr).is_ok());
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(
        rest.iter().any(|l| l.starts_with("tailor: stopping")),
        "{rest:?}"
    );
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "still accepting after SIGTERM"
    );
}

#[test]
fn a_closed_stdout_does_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, lines) = serve_empty(dir.path());
    // Stop reading: the server's stdout is now a broken pipe.
    drop(lines);
    // SIGTERM makes the server print again; it must still exit cleanly.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(std::net::TcpStream::connect(&addr).is_err());
}

#[test]
fn serve_reads_a_config_file_and_rejects_a_bad_one() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.json");
    std::fs::write(&catalog, r#"{"version":1,"products":[]}"#).unwrap();
    let config = dir.path().join("tailor.toml");
    std::fs::write(
        &config,
        format!(
            "addr = \"127.0.0.1:0\"\ndb = {:?}\nwww = {:?}\nrebuild_every_secs = 0\n[site]\nkey = \"shop\"\ncatalog = {:?}\n",
            dir.path().join("t.db"),
            dir.path(),
            catalog
        ),
    )
    .unwrap();
    let mut child = tailor()
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    assert!(
        first.starts_with("tailor: site 'shop': 0 products"),
        "{first}"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    std::fs::write(&config, "keep_versions = 0\n").unwrap();
    let out = tailor()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("keep_versions must be at least 1"), "{err}");
}

#[test]
fn build_snapshot_refuses_a_database_that_does_not_exist_and_names_a_missing_config() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.json");
    std::fs::write(&catalog, r#"{"version":1,"products":[]}"#).unwrap();
    let missing = dir.path().join("mistyped.db");
    let out = tailor()
        .args(["build-snapshot", "--site", "demo", "--catalog"])
        .arg(&catalog)
        .arg("--db")
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mistyped.db does not exist"), "{err}");
    assert!(!missing.exists(), "no empty database was created");
    // With a database, it trains, and says the store configuration is the default one.
    let db = dir.path().join("t.db");
    tailor_server::store::Store::open(&db).unwrap();
    let out = common::succeeded(
        tailor()
            .args(["build-snapshot", "--site", "demo", "--catalog"])
            .arg(&catalog)
            .arg("--db")
            .arg(&db),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no --config: the snapshot carries the default store configuration"),
        "{err}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_a_command_quietly() {
    // `tailor eval | head -c0`: the pipe is closed before the report is written.
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = train_and_test(dir.path());
    let mut child = tailor()
        .args(["eval", "--train"])
        .arg(&train)
        .arg("--test")
        .arg(&test)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}
