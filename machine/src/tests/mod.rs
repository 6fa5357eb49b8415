//! Unit tests of the core: tables of boundaries and property tests.
