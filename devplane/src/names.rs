//! Workspace titles in production's style (`royal-tree-08189931`), made
//! deterministically from the id so a restart or a rerun gives the same ones.

const ADJECTIVES: [&str; 16] = [
    "royal", "quiet", "amber", "brisk", "calm", "eager", "fuzzy", "gentle", "hidden", "lucky",
    "misty", "noble", "proud", "rapid", "silver", "tidy",
];
const NOUNS: [&str; 16] = [
    "tree", "river", "falcon", "meadow", "harbor", "canyon", "lantern", "pebble", "summit",
    "willow", "comet", "garden", "island", "maple", "otter", "valley",
];

pub fn title(id: u64) -> String {
    let mix = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let adjective = ADJECTIVES[usize::try_from(mix >> 60).unwrap_or(0)];
    let noun = NOUNS[usize::try_from((mix >> 56) & 0xF).unwrap_or(0)];
    format!("{adjective}-{noun}-{:08}", mix % 100_000_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_are_stable_slugs() {
        let t = super::title(1001);
        assert_eq!(t, super::title(1001));
        assert_ne!(t, super::title(1002));
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{t}"
        );
    }
}
