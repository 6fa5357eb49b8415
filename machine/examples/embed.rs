//! Embedding the core in ten lines: feed it events, run what it asks for, feed back the
//! outcomes. Here the "world" is a fixed list of facts; a real driver reads L1, the
//! clock and a database and turns each answer into the next event.
//!
//! `cargo run -p seqrec-machine --example embed`

use seqrec_machine::{Event, State, step};

fn main() -> Result<(), serde_json::Error> {
    let script = [
        r#"{"ev":"boot","now_ms":1700000000000,"config":{"chain_id":1,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222"}}"#,
        r#"{"ev":"chain_id","chain_id":1}"#,
        r#"{"ev":"l1","now_ms":1700000000000,"safe_block":100,"safe_timestamp":1700000000,"inputs":[]}"#,
        r#"{"ev":"seal","payload":"0x0102"}"#,
    ];
    let mut state = State::new();
    for line in script {
        let event: Event = serde_json::from_str(line)?;
        let (next, step) = step(state, &event);
        state = next;
        for note in &step.notes {
            println!("{:<10} {}", event.name(), note.why);
        }
        for effect in &step.effects {
            println!("{:<10} -> {}", "", serde_json::to_string(effect)?);
        }
    }
    println!("state hash {}", state.state_hash());
    Ok(())
}
