//! Holding back identical log lines: the kernel re-sends a SICK report on
//! every access to a damaged object, and the reference prints each one (a
//! retrying application floods the journal). The first line of a kind is
//! printed; repeats within `interval_ms` are counted; the next one after the
//! interval is printed with the count, so nothing vanishes silently.

use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::hash::Hash;

/// What to do with one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Print it; `suppressed` identical lines were held back since the last.
    Print { suppressed: u64 },
    /// Hold it back (counted).
    Suppress,
}

#[derive(Debug, Clone)]
struct Entry {
    last_print_ms: u64,
    suppressed: u64,
    /// Its place in [`LineLimiter::order`].
    place: (u64, u64),
}

/// Per-key limiter with a bounded number of keys. Each admit costs
/// O(log n), full or not: a storm of distinct objects must not make every
/// new line scan the whole table.
#[derive(Debug)]
pub struct LineLimiter<K> {
    interval_ms: u64,
    capacity: usize,
    entries: FxHashMap<K, Entry>,
    /// The keys by when they last printed (then by arrival): the oldest
    /// first.
    order: BTreeMap<(u64, u64), K>,
    next: u64,
    /// Counts of evicted keys not yet reported.
    evicted: Vec<(K, u64)>,
}

impl<K: Hash + Eq + Clone> LineLimiter<K> {
    pub fn new(interval_ms: u64, capacity: usize) -> Self {
        LineLimiter {
            interval_ms,
            capacity: capacity.max(1),
            entries: FxHashMap::default(),
            order: BTreeMap::new(),
            next: 0,
            evicted: Vec::new(),
        }
    }

    /// A new interval (a reload); what each key printed and held stays.
    pub fn set_interval(&mut self, interval_ms: u64) {
        self.interval_ms = interval_ms;
    }

    pub fn admit(&mut self, key: &K, now_ms: u64) -> Admit {
        self.next += 1;
        let place = (now_ms, self.next);
        if let Some(entry) = self.entries.get_mut(key) {
            if now_ms.saturating_sub(entry.last_print_ms) < self.interval_ms {
                entry.suppressed += 1;
                return Admit::Suppress;
            }
            let suppressed = std::mem::take(&mut entry.suppressed);
            entry.last_print_ms = now_ms;
            let old = std::mem::replace(&mut entry.place, place);
            self.order.remove(&old);
            self.order.insert(place, key.clone());
            return Admit::Print { suppressed };
        }
        // Keys past their interval with nothing held back change nothing
        // (their next line prints anyway): they make room first, oldest
        // first; then the oldest goes, its count kept for a summary.
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.order.first_key_value() else {
                break;
            };
            let quiet = self.entries.get(oldest).is_some_and(|e| {
                e.suppressed == 0 && now_ms.saturating_sub(e.last_print_ms) >= self.interval_ms
            });
            if !quiet {
                self.evict_oldest();
                break;
            }
            if let Some((_, key)) = self.order.pop_first() {
                self.entries.remove(&key);
            }
        }
        self.entries.insert(
            key.clone(),
            Entry {
                last_print_ms: now_ms,
                suppressed: 0,
                place,
            },
        );
        self.order.insert(place, key.clone());
        Admit::Print { suppressed: 0 }
    }

    /// Forgets `key`, so its next line prints at once: the state it
    /// reported changed in between (a SICK line after HEALTHY is news, not
    /// a repeat). A held-back count is kept for the next summary.
    pub fn rearm(&mut self, key: &K) {
        if let Some(entry) = self.entries.remove(key) {
            self.order.remove(&entry.place);
            if entry.suppressed > 0 {
                self.evicted.push((key.clone(), entry.suppressed));
            }
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((_, key)) = self.order.pop_first()
            && let Some(entry) = self.entries.remove(&key)
            && entry.suppressed > 0
        {
            self.evicted.push((key, entry.suppressed));
        }
    }

    /// Every held-back count not yet reported (at exit, or after evictions),
    /// resetting them.
    pub fn take_suppressed(&mut self) -> Vec<(K, u64)> {
        let mut out = std::mem::take(&mut self.evicted);
        for (key, entry) in &mut self.entries {
            if entry.suppressed > 0 {
                out.push((key.clone(), std::mem::take(&mut entry.suppressed)));
            }
        }
        out
    }

    /// Counts of evicted keys only (cheap to call after every batch).
    pub fn take_evicted(&mut self) -> Vec<(K, u64)> {
        std::mem::take(&mut self.evicted)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repeats_within_the_interval_are_counted() {
        let mut l = LineLimiter::new(1000, 8);
        assert_eq!(l.admit(&"a", 0), Admit::Print { suppressed: 0 });
        assert_eq!(l.admit(&"a", 10), Admit::Suppress);
        assert_eq!(l.admit(&"b", 20), Admit::Print { suppressed: 0 });
        assert_eq!(l.admit(&"a", 999), Admit::Suppress);
        assert_eq!(l.admit(&"a", 1000), Admit::Print { suppressed: 2 });
        assert_eq!(l.admit(&"a", 1001), Admit::Suppress);
        assert_eq!(l.take_suppressed(), vec![("a", 1)]);
        assert_eq!(l.take_suppressed(), vec![]);
    }

    #[test]
    fn eviction_keeps_counts() {
        let mut l = LineLimiter::new(1000, 2);
        l.admit(&1, 0);
        l.admit(&1, 1);
        l.admit(&2, 2);
        l.admit(&3, 3); // evicts key 1, which had one suppressed line
        assert_eq!(l.len(), 2);
        assert_eq!(l.take_evicted(), vec![(1, 1)]);
    }

    #[test]
    fn rearm_prints_the_next_line_and_keeps_the_count() {
        let mut l = LineLimiter::new(1000, 8);
        l.admit(&"sick", 0);
        assert_eq!(l.admit(&"sick", 1), Admit::Suppress);
        l.rearm(&"sick");
        assert_eq!(l.admit(&"sick", 2), Admit::Print { suppressed: 0 });
        assert_eq!(l.take_evicted(), vec![("sick", 1)]);
        l.rearm(&"never seen");
        assert_eq!(l.take_evicted(), vec![]);
    }

    #[test]
    fn quiet_keys_make_room_without_summaries() {
        let mut l = LineLimiter::new(100, 2);
        assert_eq!(l.admit(&1u8, 0), Admit::Print { suppressed: 0 });
        assert_eq!(l.admit(&2u8, 0), Admit::Print { suppressed: 0 });
        assert_eq!(l.admit(&2u8, 50), Admit::Suppress);
        // Key 1 is past its interval with nothing held back: it goes
        // silently; key 2 holds a count and stays.
        assert_eq!(l.admit(&3u8, 200), Admit::Print { suppressed: 0 });
        assert!(l.take_evicted().is_empty());
        assert_eq!(l.take_suppressed(), vec![(2u8, 1)]);
    }

    proptest! {
        /// Printed + suppressed accounts for every line; keys stay bounded.
        #[test]
        fn nothing_is_lost(lines in proptest::collection::vec((0u8..20, 0u64..50), 0..400)) {
            let mut l = LineLimiter::new(100, 8);
            let mut now = 0;
            let mut printed = 0u64;
            let mut reported = 0u64;
            for (key, step) in &lines {
                now += step;
                match l.admit(key, now) {
                    Admit::Print { suppressed } => { printed += 1; reported += suppressed; }
                    Admit::Suppress => {}
                }
                prop_assert!(l.len() <= 8);
                prop_assert_eq!(l.order.len(), l.entries.len());
            }
            reported += l.take_suppressed().iter().map(|(_, n)| n).sum::<u64>();
            prop_assert_eq!(printed + reported, lines.len() as u64);
        }
    }
}
