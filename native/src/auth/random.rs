//! Random identifiers and secrets from the operating system's generator.

/// `bytes` random bytes from the operating system, as lowercase hex (twice as many characters).
///
/// Panics only if the operating system cannot provide randomness at all, in which case no
/// secret this process could make would be safe anyway.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's random number generator");
    hex::encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_draws_differ_and_have_the_asked_length() {
        let (a, b) = (random_hex(16), random_hex(16));
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
