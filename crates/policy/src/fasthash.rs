//! A small multiplicative hasher for the engine's sets of keys. The keys
//! are a few integers; SipHash's flooding resistance buys nothing here
//! (every set is bounded by `max_pending`) and costs most of the time of
//! handling a report.

use std::hash::{BuildHasherDefault, Hasher};

/// FxHash's mixing step (rotate, xor, multiply by a 64-bit odd constant).
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(K);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

pub type FastBuild = BuildHasherDefault<FastHasher>;
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastBuild>;
pub type FastSet<K> = std::collections::HashSet<K, FastBuild>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_small_keys_spread() {
        use std::hash::BuildHasher;
        let b = FastBuild::default();
        let hashes: FastSet<u64> = (0u64..10_000).map(|i| b.hash_one((i, 7u32))).collect();
        assert_eq!(hashes.len(), 10_000);
    }
}
