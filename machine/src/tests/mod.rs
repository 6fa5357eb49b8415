//! Unit tests of the core: boundary tables and property tests.

mod config_table;
mod danger_table;
mod props;
