//! Shared helpers for Flotilla's cross-crate tests.
