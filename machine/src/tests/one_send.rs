//! ARCHITECTURE.md choice 68: a batch is broadcast at one wallet nonce. Three batches of
//! production sizes (32 KiB, 60 KiB, 1 KiB) are sent at wallet nonces 0, 1 and 2; the first
//! two land, and the block holding the first turns safe between the detector's sync and
//! the submit round's reads, so neither the core's safe view nor the round's landings show
//! it. Each row is one way the round's answers come.

use crate::State;
use crate::effect::Effect;
use crate::event::Event;
use crate::step::step;

const BOOT: &str = r#"{"ev":"boot","now_ms":1700000000000,"config":{"chain_id":31337,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222","max_wait_blocks":20,"preemptive_margin_blocks":5,"seconds_per_block":12}}"#;

fn event(json: &str) -> Event {
    serde_json::from_str(json).unwrap_or_else(|error| panic!("{json}: {error}"))
}

fn seal(kib: usize, byte: u8) -> Event {
    let payload = format!("0x{}", format!("{byte:02x}").repeat(kib * 1024));
    event(&format!(r#"{{"ev":"seal","payload":"{payload}"}}"#))
}

/// The `(batch nonce, wallet nonce)` of every `submit` the window round asks for, after
/// the given answers (`wallet` then `unsafe_landings`, or the reverse).
fn window_round(wallet: &str, landings: &str, wallet_first: bool) -> Vec<(u64, u64)> {
    let mut state = State::new();
    let run = |state: &mut State, event: &Event| {
        let (next, stepped) = step(std::mem::take(state), event);
        *state = next;
        assert_eq!(stepped.rejected(), None, "{event:?}");
        stepped.effects
    };
    let setup = [
        event(BOOT),
        event(r#"{"ev":"chain_id","chain_id":31337}"#),
        event(r#"{"ev":"l1","now_ms":1700000000000,"safe_block":100,"safe_timestamp":1700000000,"inputs":[]}"#),
        seal(32, 0xA1),
        seal(60, 0xB2),
        seal(1, 0xC3),
        event(r#"{"ev":"tick","now_ms":1700000001000}"#),
        event(r#"{"ev":"wallet","latest":0,"pending":0,"safe":0,"safe_block":100,"head_block":100}"#),
        event(r#"{"ev":"unsafe_landings","nonces":[],"safe_block":100}"#),
        event(r#"{"ev":"tick","now_ms":1700000002000}"#),
        event(r#"{"ev":"l1","now_ms":1700000002000,"safe_block":100,"safe_timestamp":1700000000,"inputs":[]}"#),
    ];
    let mut first = Vec::new();
    for event in &setup {
        first.extend(run(&mut state, event));
    }
    let sends = |effects: &[Effect]| -> Vec<(u64, u64)> {
        effects
            .iter()
            .filter_map(|effect| match effect {
                Effect::Submit { nonce, w_nonce, .. } => Some((nonce.0, w_nonce.0)),
                _ => None,
            })
            .collect()
    };
    assert_eq!(sends(&first), [(0, 0), (1, 1), (2, 2)], "the first round");
    let (wallet, landings) = (event(wallet), event(landings));
    let answers = if wallet_first { [wallet, landings] } else { [landings, wallet] };
    answers.iter().flat_map(|answer| sends(&run(&mut state, answer))).collect()
}

/// Block 101 (batch 0) is safe now, block 102 (batch 1) is not: `latest` 2, `safe` 1.
const WALLET: &str = r#"{"ev":"wallet","latest":2,"pending":3,"safe":1,"safe_block":101,"head_block":102}"#;
const LANDINGS: &str = r#"{"ev":"unsafe_landings","nonces":[1],"safe_block":101}"#;
const WALLET_BEFORE: &str = r#"{"ev":"wallet","latest":2,"pending":3,"safe":1,"safe_block":101}"#;
const LANDINGS_BEFORE: &str = r#"{"ev":"unsafe_landings","nonces":[1]}"#;

#[test]
fn a_landing_the_round_cannot_see_is_not_sent_again_whichever_answer_comes_last() {
    // Batches 0 and 1 count as landed (slots 0 and 1 are below latest 2 and hold only
    // them); batch 2 is pending at its own slot and watched: nothing is sent.
    assert_eq!(window_round(WALLET, LANDINGS, true), []);
    assert_eq!(window_round(WALLET, LANDINGS, false), []);
    // Only the answer that completes the round needs to say where it was read.
    assert_eq!(window_round(WALLET_BEFORE, LANDINGS, true), []);
    assert_eq!(window_round(WALLET, LANDINGS_BEFORE, false), []);
}

#[test]
fn answers_recorded_before_the_choice_keep_the_old_plan() {
    // The defect, kept for old logs: the round starts at nonce 0 and shifts every batch.
    assert_eq!(window_round(WALLET_BEFORE, LANDINGS_BEFORE, true), [(0, 2), (1, 3), (2, 4)]);
    assert_eq!(window_round(WALLET, LANDINGS_BEFORE, true), [(0, 2), (1, 3), (2, 4)]);
}

#[test]
fn a_slot_at_or_above_latest_is_not_a_landing() {
    // Nothing mined yet: every batch is pending at its own slot and watched.
    let wallet = r#"{"ev":"wallet","latest":0,"pending":3,"safe":0,"safe_block":100,"head_block":101}"#;
    let landings = r#"{"ev":"unsafe_landings","nonces":[],"safe_block":100}"#;
    assert_eq!(window_round(wallet, landings, true), []);
    // Only batch 0 is mined: batch 1 stays at wallet nonce 1, not shifted.
    let wallet = r#"{"ev":"wallet","latest":1,"pending":3,"safe":1,"safe_block":101,"head_block":101}"#;
    let landings = r#"{"ev":"unsafe_landings","nonces":[],"safe_block":101}"#;
    assert_eq!(window_round(wallet, landings, true), []);
}
