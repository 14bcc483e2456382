//! [`Reg`]: one scratch register, placed in memory so that a step's loop
//! never waits on a store it does not depend on.
//!
//! A core first matches a load against earlier stores by the low 12 bits
//! of their addresses. A loop that reads one array and writes another
//! that starts a little ahead of it, modulo 4 KiB, finds each load
//! matching the store just made, and waits for it to complete ("4K
//! aliasing"). Registers allocated one after another sit 16 bytes apart
//! modulo 4 KiB (the allocator's header), which is just that. Placing
//! them took a chain of ten cheap stages over 2^23 `f32` on one core
//! from 16.3 to 13.7 ms (a hand-fused loop: 7.3 ms).
//!
//! So every register starts at the same place, [`PLACE`], modulo 4 KiB.
//! Between registers a loop's loads never trail its stores, and against
//! inputs and outputs that start at a page (or 16 bytes past one, as
//! large vectors do) the distance is about half a page either way, more
//! than the stores a core has in flight.

/// The bytes whose addresses alias.
const PAGE: usize = 4096;

/// Where each register starts, modulo [`PAGE`].
const PLACE: usize = PAGE / 2 + 64;

/// A register's values, at [`PLACE`] within its allocation.
#[derive(Default)]
pub(crate) struct Reg<T> {
    buf: Vec<T>,
    at: usize,
}

impl<T: Copy + Default> Reg<T> {
    /// A register of `len` values.
    pub fn new(len: usize) -> Reg<T> {
        let size = size_of::<T>();
        let buf = vec![T::default(); len + PAGE / size];
        // The address is a multiple of `size` and so is `PLACE`: `at` is whole.
        let at = (PLACE + PAGE - buf.as_ptr() as usize % PAGE) % PAGE / size;
        Reg { buf, at }
    }

    /// The number of values it holds.
    pub fn len(&self) -> usize {
        self.buf.len() - self.buf.len().min(PAGE / size_of::<T>())
    }

    /// The first `len` values.
    pub fn values(&self, len: usize) -> &[T] {
        &self.buf[self.at..self.at + len]
    }

    /// The first `len` values, to write.
    pub fn values_mut(&mut self, len: usize) -> &mut [T] {
        &mut self.buf[self.at..self.at + len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_register_starts_at_the_same_place_in_a_page() {
        for len in [0, 1, 10, 2048] {
            let (a, b) = (Reg::<f32>::new(len), Reg::<f64>::new(len));
            let (mut c, d) = (Reg::<bool>::new(len), Reg::<u32>::default());
            assert_eq!((a.len(), b.len(), c.len(), d.len()), (len, len, len, 0));
            c.values_mut(len).fill(true);
            for place in
                [a.values(len).as_ptr() as usize, b.values(len).as_ptr() as usize, c.values(len).as_ptr() as usize]
            {
                assert_eq!(place % PAGE, PLACE);
            }
        }
    }
}
