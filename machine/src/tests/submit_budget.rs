//! A submit round sends at most `MAX_SUBMIT_BYTES_PER_ROUND` of wire bytes: the step's
//! record holds every send's bytes, and must stay below the log's record limit however
//! many full-size batches are pending. The rest goes in the next rounds, none is lost.

use crate::State;
use crate::bytes::{Address, Bytes};
use crate::config::RawConfig;
use crate::effect::Effect;
use crate::event::{self, Event};
use crate::step::step;
use crate::submitter::MAX_SUBMIT_BYTES_PER_ROUND;
use crate::units::{BlockNumber, UnixMillis, WalletNonce};

#[test]
fn many_full_size_batches_are_submitted_over_several_rounds() {
    let now = 1_700_000_000_000_u64;
    let config = RawConfig {
        chain_id: Some(7),
        batch_submitter: Some(Address([1; 20])),
        inbox: Some(Address([2; 20])),
        max_wait_blocks: Some(1200),
        preemptive_margin_blocks: Some(300),
        ..RawConfig::default()
    };
    let sync = Event::L1(event::L1 {
        now_ms: UnixMillis(now),
        safe_block: BlockNumber(100),
        safe_timestamp: now / 1000,
        inputs: vec![],
        from_block: None,
        safe_hash: None,
        parent_hash: None,
        partial: false,
    });
    let mut events = vec![
        Event::Boot(event::Boot { now_ms: UnixMillis(now), config }),
        Event::ChainId(event::ChainId { chain_id: 7, genesis_hash: None }),
        sync,
    ];
    let batches = 150_u64;
    let payload = vec![0x5a; 122_000];
    events.extend((0..batches).map(|id| Event::Seal(event::Seal { id: Some(id), payload: Bytes(payload.clone()) })));
    let mut state = State::new();
    for event in &events {
        state = step(state, event).0;
    }
    let (mut sent, mut rounds) = (std::collections::BTreeSet::new(), 0);
    for round in 1..=10_u64 {
        let tick = Event::Tick(event::Tick { now_ms: UnixMillis(now + round * 1_000) });
        let wallet = Event::Wallet(event::Wallet {
            latest: WalletNonce(0),
            pending: WalletNonce(0),
            safe: WalletNonce(0),
            safe_block: BlockNumber(100),
            base_fee_wei: None,
            tip_wei: None,
            head_block: None,
        });
        let landings = Event::UnsafeLandings(event::UnsafeLandings { nonces: vec![], safe_block: None });
        let mut bytes = 0;
        for event in [tick, wallet, landings] {
            let (next, stepped) = step(state, &event);
            state = next;
            for effect in &stepped.effects {
                if let Effect::Submit { batch_index, wire, .. } = effect {
                    bytes += wire.0.len();
                    sent.insert(*batch_index);
                }
            }
        }
        assert!(bytes <= MAX_SUBMIT_BYTES_PER_ROUND, "round {round} sent {bytes} bytes");
        if bytes > 0 {
            rounds += 1;
        }
        if sent.len() as u64 == batches {
            break;
        }
    }
    assert_eq!(sent.len() as u64, batches, "every pending batch is submitted");
    assert!(rounds >= 3, "150 batches of 122 kB need at least three 8 MiB rounds: {rounds}");
}
