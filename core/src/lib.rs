//! flotilla-core: everything Flotilla knows, with no I/O of its own.

pub mod model;
