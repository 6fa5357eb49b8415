//! Any text given to the script reader is a typed error or events, and stepping those
//! events through the core never panics and keeps every invariant.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(script) = replay::script::parse(text) else { return };
    let run = replay::run::run(script.events.iter().map(|(line, event)| (Some(*line), event)));
    assert!(run.violation.is_none(), "{:?}", run.violation);
});
