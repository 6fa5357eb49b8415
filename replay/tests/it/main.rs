//! The one integration test binary of `replay` (style.md §5.8).

mod cli;
mod scenarios;
