//! Event scripts, runs, traces and audits: everything the `seqrec` tool shows of the
//! core. The binary log format arrives with its own issue; until then the tools read
//! event scripts.

pub mod audit;
pub mod checkpointer;
pub mod cli;
pub mod log;
pub mod resume;
pub mod run;
pub mod script;
pub mod snapshot;
pub mod snapshot_dir;
pub mod svg;
pub mod trace;
