//! Any bytes given to the log reader give whole records or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(reader) = replay::log::LogReader::new(std::io::Cursor::new(bytes)) {
        for record in reader {
            if record.is_err() {
                break;
            }
        }
    }
    let _ = replay::snapshot::Snapshot::decode(bytes);
});
