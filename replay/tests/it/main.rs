//! The one integration test binary of `replay`.

// A failed expectation in a test is a panic with the reason; that is the harness's job.
#![allow(clippy::panic, clippy::unwrap_used, clippy::cast_possible_truncation)]

mod anvil;
mod cli;
mod faults;
mod fees_live;
mod gate;
mod hardhat;
mod live;
mod log_damage;
mod log_format;
mod log_pipeline;
mod log_repair;
mod log_segments;
mod log_snapshots;
mod log_writer;
mod logs;
mod metrics_live;
mod node_faults;
mod pause_live;
mod picture;
mod proxy;
mod readable;
mod readme;
mod resend_audit;
mod resend_live;
mod rpc_calls;
mod run_segments;
mod run_settings;
mod run_snapshots;
mod sabotage_shrink;
mod scenarios;
mod shrink;
mod support;
mod whatif;
