//! flotilla-core: everything Flotilla knows, with no I/O of its own.
#![deny(missing_docs)]

pub mod model;
#[cfg(test)]
mod mutation;
pub mod raft;
pub mod rt;
pub mod scenario;
pub mod sim;
