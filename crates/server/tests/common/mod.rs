//! Running the real `tailor` binary in tests.
#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A `tailor serve` process, killed when dropped (also when an assertion fails).
pub struct Proc {
    pub child: Child,
    pub addr: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait for the `listening on` line of a child started with piped stdout; returns the address
/// and keeps reading what the server prints, as a terminal would.
pub fn listening_addr(child: &mut Child) -> String {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.strip_prefix("tailor: listening on http://") {
            break rest.trim().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    addr
}

/// `tailor serve` on a free loopback port with the database `db` and the catalog `catalog`,
/// serving `dir` as storefront and build folder, plus `extra` options.
pub fn serve(dir: &Path, db: &Path, catalog: &Path, extra: &[&str]) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(["serve", "--addr", "127.0.0.1:0", "--rebuild-every", "0"])
        .args(extra)
        .arg("--db")
        .arg(db)
        .arg("--catalog")
        .arg(catalog)
        .arg("--www")
        .arg(dir)
        .arg("--dist")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_addr(&mut child);
    Proc { child, addr }
}

/// Run `cmd` to its end, failing the test with its stderr unless it succeeded; its output.
pub fn succeeded(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
