//! The replay log, snapshots, event scripts, runs, traces, audits and what-ifs:
//! everything the `seqrec` tool shows of the core, and the `seqrec run` node.

pub mod audit;
pub mod check;
pub mod checkpointer;
pub mod cli;
pub mod landings;
pub mod log;
pub mod resend;
pub mod resume;
pub mod run;
pub mod script;
pub mod shrink;
pub mod snapshot;
pub mod snapshot_dir;
pub mod svg;
pub mod trace;
pub mod whatif;
pub mod whatif_svg;
