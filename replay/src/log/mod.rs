//! The replay log (FORMAT.md): a versioned header, then hash-chained records of each
//! step's event and effects digest.

mod codec;
mod error;
mod header;
mod reader;
mod record;
mod repair;
mod writer;

pub use error::LogError;
pub use header::{FORMAT_VERSION, Header, MAGIC};
pub use reader::LogReader;
pub use record::{Record, effects_digest, effects_json};
pub use repair::{Repaired, repair};
pub use writer::{FsyncPolicy, LogWriter};

/// blake3 of a config in the log encoding: the header's config digest.
#[must_use]
pub fn config_digest(config: &machine::RawConfig) -> machine::Hash32 {
    let bytes = bincode::encode_to_vec(codec::LogConfig::from(config), codec::CONFIG).unwrap_or_default();
    machine::Hash32(*blake3::hash(&bytes).as_bytes())
}
