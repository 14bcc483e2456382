//! [`Recent`]: a short list of the most recently used entries, for the
//! per-thread caches of compiled programs and their layouts. Scanning a
//! few entries without hashing costs a few nanoseconds, and the bound
//! keeps a caller that makes endless distinct programs from growing
//! memory without limit.

/// At most `bound` entries, the most recently used first.
pub(crate) struct Recent<E> {
    entries: Vec<E>,
    bound: usize,
}

impl<E> Recent<E> {
    pub const fn new(bound: usize) -> Recent<E> {
        Recent { entries: Vec::new(), bound }
    }

    /// The entry at the position `find` gives, moved to the front; or,
    /// if it gives none, the entry `make` makes, put at the front with
    /// the oldest dropped past the bound. An error from `make` is
    /// returned and nothing is kept.
    pub fn find_or_make<X>(
        &mut self,
        find: impl FnOnce(&[E]) -> Option<usize>,
        make: impl FnOnce() -> Result<E, X>,
    ) -> Result<&E, X> {
        match find(&self.entries) {
            // A hit at the front, the common case, moves nothing.
            Some(k) => self.entries[..=k].rotate_right(1),
            None => {
                let entry = make()?;
                self.entries.truncate(self.bound.saturating_sub(1));
                self.entries.insert(0, entry);
            }
        }
        Ok(&self.entries[0])
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Recent;

    #[test]
    fn keeps_the_most_recent_first_and_at_most_its_bound() {
        let mut recent = Recent::new(3);
        let mut get =
            |key: u32| *recent.find_or_make(|e| e.iter().position(|&k| k == key), || Ok::<_, ()>(key)).unwrap();
        for key in [1, 2, 3, 1, 4] {
            assert_eq!(get(key), key);
        }
        assert_eq!(recent.entries, [4, 1, 3], "2 was the least recently used");
        assert_eq!(recent.find_or_make(|_| None, || Err("bad")).err(), Some("bad"));
        assert_eq!(recent.len(), 3, "a failed make keeps nothing");
    }
}
