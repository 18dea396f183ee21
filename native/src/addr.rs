//! Node addresses (`host:port`) and when two spellings name the same node.
//!
//! Nodes are addressed by the `host:port` they advertise, and clients spell the same machine in
//! several ways: `localhost:8002`, `127.0.0.1:8002` and `[::1]:8002` are one node. Every place
//! that compares addresses goes through [`same_addr`] (or keys tables by [`canonical`]), so a
//! link cut as `127.0.0.1:8002` is the link to `localhost:8002`.

/// Spellings of the loopback address that name the same host as `localhost`.
const LOOPBACK_ALIASES: [&str; 3] = ["127.0.0.1", "[::1]", "::1"];

/// One spelling per address: loopback hosts become `localhost`, everything else lower case.
pub fn canonical(addr: &str) -> String {
    match addr.rsplit_once(':') {
        Some((host, port)) if LOOPBACK_ALIASES.contains(&host) => format!("localhost:{port}"),
        _ => addr.to_ascii_lowercase(),
    }
}

/// Whether `a` and `b` name the same node (same host up to loopback spellings and case, same
/// port).
pub fn same_addr(a: &str, b: &str) -> bool {
    canonical(a) == canonical(b)
}

/// Whether `host` names the machine this process runs on: a loopback spelling, the unspecified
/// address, or the host name it advertises (`advertised`).
pub fn is_this_machine(host: &str, advertised: &str) -> bool {
    host == "localhost"
        || host == "0.0.0.0"
        || LOOPBACK_ALIASES.contains(&host)
        || host == advertised
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_spellings_name_one_node() {
        assert!(same_addr("127.0.0.1:8002", "localhost:8002"));
        assert!(same_addr("[::1]:8002", "LOCALHOST:8002"));
        assert!(!same_addr("localhost:8002", "localhost:8003"));
        assert!(!same_addr("10.0.0.1:8002", "localhost:8002"));
        assert_eq!(canonical("Host.Example:80"), "host.example:80");
    }

    #[test]
    fn this_machine_is_loopback_unspecified_or_the_advertised_host() {
        for host in ["localhost", "127.0.0.1", "::1", "0.0.0.0", "box.lan"] {
            assert!(is_this_machine(host, "box.lan"), "{host}");
        }
        assert!(!is_this_machine("other.lan", "box.lan"));
    }
}
