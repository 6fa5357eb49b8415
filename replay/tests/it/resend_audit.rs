//! `seqrec audit` warns of a batch sent at a second wallet nonce (issue 18, item 1): the
//! `resend` row in text and `--json`, and, for a log, from the effects recorded in it, so
//! an old log keeps its warning whatever the current core would do with its events.

use std::process::Command;

use machine::{Effect, Hash32, State, WalletNonce};
use replay::log::{FsyncPolicy, Header, LogWriter};

use super::support::{scratch, script_events};

fn audit(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_seqrec"))
        .arg("audit")
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn resend_rows(json: &str) -> Vec<serde_json::Value> {
    json.lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|row| row["what"] == "resend")
        .collect()
}

#[test]
fn the_window_fixture_shows_its_resend_as_a_warning_in_json() {
    let rows = resend_rows(&audit(&["fixtures/logs/resend-window.seqlog", "--json"]));
    let [row] = rows.as_slice() else { panic!("one resend row expected: {rows:?}") };
    assert_eq!(
        (row["warning"].as_str(), row["batch"].as_u64(), row["nonce"].as_u64()),
        (Some("resend"), Some(0), Some(0))
    );
    assert_eq!(
        (row["w_nonce"].as_u64(), row["first_w_nonce"].as_u64(), row["first_seq"].as_u64()),
        (Some(1), Some(0), Some(7))
    );
    assert_eq!(row["first_lost"], serde_json::Value::Null, "the first slot was not known lost: {row}");
    assert_eq!(row["first_tx_hash"], format!("0x{}", "a".repeat(64)));
    assert_eq!(row["tx_hash"], format!("0x{}", "c".repeat(64)));
    assert!(row["why"].as_str().is_some_and(|why| why.contains("both sends may land")), "{row}");
}

/// The happy path as a build that sent batch 0 a second time would have written it:
/// the round that sent batch 1 at wallet nonce 1 is recorded as sending batch 0 there.
/// The current core, re-executing the events, sends batch 1; the audit of the log still
/// shows what was sent.
#[test]
fn a_log_keeps_its_resend_whatever_the_current_core_would_send() {
    let path = scratch("resend-recorded").join("older-build.seqlog");
    let mut writer = LogWriter::create(&path, &Header::new(Hash32::default()), FsyncPolicy::Group(u32::MAX)).unwrap();
    let (mut state, mut first) = (State::new(), None);
    for event in &script_events("happy-path") {
        let (next, step) = machine::step(state, event);
        state = next;
        let effects: Vec<Effect> = step
            .effects
            .into_iter()
            .map(|effect| match effect {
                Effect::Submit { w_nonce: WalletNonce(0), .. } => {
                    first = Some(effect.clone());
                    effect
                }
                Effect::Submit { w_nonce: WalletNonce(1), .. } => match first.clone() {
                    Some(Effect::Submit { batch_index, nonce, wire_hash, wire, chain_id, bid, min_gas, .. }) => {
                        let w_nonce = WalletNonce(1);
                        Effect::Submit { batch_index, nonce, w_nonce, wire_hash, wire, chain_id, bid, min_gas }
                    }
                    _ => effect,
                },
                effect => effect,
            })
            .collect();
        writer.append(event, &effects).unwrap();
    }
    drop(writer);
    let log = path.to_str().unwrap();
    let text = audit(&[log]);
    let warning =
        "resend                 WARNING batch 0 (nonce 0) sent again at wallet nonce 1; first sent at wallet nonce 0";
    assert!(text.contains(warning), "{text}");
    let rows = resend_rows(&audit(&[log, "--json"]));
    assert_eq!(rows.len(), 1, "{rows:?}");
    // The core's own re-execution of the same events sends nothing twice.
    let loaded = replay::cli::load(&path).unwrap();
    assert_eq!(replay::resend::in_steps(&loaded.run().steps), []);
}
