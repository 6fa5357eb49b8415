//! The one integration test binary of `effects`: the simulator's named scenarios, random
//! seeds with crash points, determinism, and the world checks catching a broken core.

// A failed expectation in a test is a panic with the reason; that is the harness's job.
#![allow(clippy::panic, clippy::unwrap_used)]

mod eth_send;
#[path = "../../../replay/tests/it/gate.rs"]
mod gate;
mod sim;
mod sqlite;
