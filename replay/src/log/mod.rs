//! The replay log (FORMAT.md): a versioned header, then hash-chained records of each
//! step's event and effects, and (from version 2) checkpoints of the core's state hash.

mod append;
mod codec;
mod error;
mod header;
mod header_damage;
mod lock;
mod pipeline;
mod probe;
mod reader;
mod record;
mod repair;
mod segment;
mod segment_writer;
mod segments;
mod writer;

pub use append::{AppendLog, RunLog};
pub use error::LogError;
pub use header::{CHECKPOINT_VERSION, FORMAT_VERSION, Header, MAGIC, SNIFF_LEN, looks_like_a_log};
pub use lock::LogLock;
pub use pipeline::{BATCH_BYTES, BATCH_RECORDS, Batch, DEFAULT_JOBS, EventItem, Item, verify_batches};
pub use probe::checkpoint_ending_at;
pub use reader::LogReader;
pub(crate) use reader::read_full as read_prefix;
pub use record::{Checkpoint, Entry, MAX_BODY_LEN, Position, Record, effects_digest, effects_json};
pub use repair::{Repaired, SegmentsRepaired, repair, repair_segments};
pub use segment::{
    LOCK_FILE, SEGMENT_EXTENSION, SEGMENT_MAGIC, SEGMENT_VERSION, SegmentHeader, SegmentStart, list_segments,
    segment_name, unfinished_segment,
};
pub use segment_writer::{SEGMENT_BYTES, SegmentLock, SegmentWriter};
pub use segments::{LogSource, SegmentReader, resume_point, segment_after, segment_holding};
pub use writer::{CHECKPOINT_EVERY, FsyncPolicy, LogWriter};

/// blake3 of a config in the log encoding: the header's config digest.
#[must_use]
pub fn config_digest(config: &machine::RawConfig) -> machine::Hash32 {
    let bytes = bincode::encode_to_vec(codec::LogConfig::from(config), codec::CONFIG).unwrap_or_default();
    machine::Hash32(*blake3::hash(&bytes).as_bytes())
}
