//! The gate every live and privileged test goes through when it cannot run here (no
//! node named by `SEQREC_ANVIL` / `SEQREC_HARDHAT`, no right to mount): `cargo xtask ci`
//! sets `SEQREC_REQUIRE_LIVE=1`, under which a missing node is a failure, and, when it
//! runs as root, `SEQREC_REQUIRE_ROOT=1`, under which a refused mount is one too. A plain
//! `cargo test` skips, and says so past the harness's output capture. Each skip is also
//! appended to the file `SEQREC_SKIP_LOG` names, so `cargo xtask ci` counts them in its
//! verdict. Shared by both crates' integration tests (`effects` includes this file).

use std::io::Write as _;

/// What a skipped test lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // `effects` uses only `Node`.
pub(crate) enum Needs {
    /// A dev node (anvil or hardhat).
    Node,
    /// Root's rights (mount, a read-only bind).
    Root,
}

/// The running test cannot run here (`why`): panics where the run requires it, else
/// reports the skip (under the test's name, which the harness gives its thread) and
/// returns, and the caller returns.
pub(crate) fn skip(why: &str, needs: Needs) {
    let what = std::thread::current().name().unwrap_or("a test").to_owned();
    let required = match needs {
        Needs::Node => "SEQREC_REQUIRE_LIVE",
        Needs::Root => "SEQREC_REQUIRE_ROOT",
    };
    assert!(
        std::env::var_os(required).is_none_or(|value| value != "1"),
        "{what}: {why}, and {required}=1 (set by `cargo xtask ci`) forbids skipping it"
    );
    let line = format!("{what}: skipped: {why}\n");
    // Straight to the process's stderr: the harness captures only `eprintln!`.
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(path) = std::env::var_os("SEQREC_SKIP_LOG") {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path);
        let _ = file.and_then(|mut file| file.write_all(line.as_bytes()));
    }
}
