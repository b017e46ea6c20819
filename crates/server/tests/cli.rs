//! The `tailor` binary: bad input stops it with a precise message and a non-zero exit code.

use std::process::Command;

fn tailor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tailor"))
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
