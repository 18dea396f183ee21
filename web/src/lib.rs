//! flotilla-web: the browser binding over the core simulation.
