//! Unit tests of the core: boundary tables and property tests.

// A failed expectation in a test is a panic with the reason; that is the harness's job.
#![allow(clippy::panic)]

mod config_table;
mod danger_table;
mod fees_table;
mod nonce_space;
mod one_send;
mod props;
mod state_layout;
mod submit_budget;
