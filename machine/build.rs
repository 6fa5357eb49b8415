//! The sabotage switch (ARCHITECTURE.md choice 31): `SEQREC_SABOTAGE_BUILD=1` compiles
//! `machine::sabotage`, the test-only deliberate bugs, into this build, by setting
//! `--cfg seqrec_sabotage` for the workspace's crates only (`effects` and `replay` run
//! this same script), so the registry dependencies are not rebuilt. No Cargo feature can
//! set it, and the published package ships no build script: a dependent cannot turn it on.

fn main() {
    println!("cargo::rerun-if-env-changed=SEQREC_SABOTAGE_BUILD");
    println!("cargo::rustc-check-cfg=cfg(seqrec_sabotage)");
    if std::env::var_os("SEQREC_SABOTAGE_BUILD").is_some_and(|value| value == "1") {
        println!("cargo::rustc-cfg=seqrec_sabotage");
    }
}
