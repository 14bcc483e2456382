//! [`ArrayValues`]: what [`Engine::array`](crate::Engine::array) takes.
//!
//! An array owns its values, so borrowed values are copied, and that
//! copy was most of a short pipeline over a large slice: `Vec::from`
//! copies on one core into fresh 4 KiB pages, a page fault every 1,024
//! `f32`. Owned values are kept as they are; borrowed ones go through
//! the copier the engine hands in (a parallel copy into huge pages).
//! `Into<Vec<T>>` could not tell the two apart, hence a trait of our own
//! implemented for the owned and borrowed forms callers pass.

use crate::dtype::Element;
use std::borrow::Cow;

/// Values an [`Engine::array`](crate::Engine::array) can be made of:
/// `Vec<T>`, `Box<[T]>`, `[T; N]` and `Cow<[T]>` are taken as they are
/// (a vector is not copied), `&[T]`, `&mut [T]`, `&Vec<T>` and `&[T; N]`
/// are copied, in parallel on the engine's pool when large. Sealed: the
/// forms are this crate's to choose.
pub trait ArrayValues<T: Element>: sealed::Sealed {
    /// The values as a vector: `self` if owned, else `copy(self)`.
    #[doc(hidden)]
    fn into_values(self, copy: &dyn Fn(&[T]) -> Vec<T>) -> Vec<T>;
}

mod sealed {
    pub trait Sealed {}
}

impl<T: Element> sealed::Sealed for Vec<T> {}
impl<T: Element> ArrayValues<T> for Vec<T> {
    fn into_values(self, _: &dyn Fn(&[T]) -> Vec<T>) -> Vec<T> {
        self
    }
}

impl<T: Element> sealed::Sealed for Box<[T]> {}
impl<T: Element> ArrayValues<T> for Box<[T]> {
    fn into_values(self, _: &dyn Fn(&[T]) -> Vec<T>) -> Vec<T> {
        self.into_vec()
    }
}

impl<T: Element, const N: usize> sealed::Sealed for [T; N] {}
impl<T: Element, const N: usize> ArrayValues<T> for [T; N] {
    fn into_values(self, _: &dyn Fn(&[T]) -> Vec<T>) -> Vec<T> {
        Vec::from(self)
    }
}

impl<T: Element> sealed::Sealed for Cow<'_, [T]> {}
impl<T: Element> ArrayValues<T> for Cow<'_, [T]> {
    fn into_values(self, copy: &dyn Fn(&[T]) -> Vec<T>) -> Vec<T> {
        match self {
            Cow::Owned(values) => values,
            Cow::Borrowed(values) => copy(values),
        }
    }
}

/// The borrowed forms: each is copied.
macro_rules! borrowed {
    ($($ty:ty),*) => {$(
        impl<T: Element> sealed::Sealed for $ty {}
        impl<T: Element> ArrayValues<T> for $ty {
            fn into_values(self, copy: &dyn Fn(&[T]) -> Vec<T>) -> Vec<T> {
                copy(self)
            }
        }
    )*};
}

borrowed!(&[T], &mut [T], &Vec<T>);

impl<T: Element, const N: usize> sealed::Sealed for &[T; N] {}
impl<T: Element, const N: usize> ArrayValues<T> for &[T; N] {
    fn into_values(self, copy: &dyn Fn(&[T]) -> Vec<T>) -> Vec<T> {
        copy(self)
    }
}

#[cfg(test)]
mod tests {
    use crate::fresh::PARALLEL_COPY_FROM;
    use crate::{Engine, Policy};
    use std::borrow::Cow;

    #[test]
    // The borrowed forms are what is tested, needless or not.
    #[allow(clippy::needless_borrows_for_generic_args)]
    fn every_form_gives_the_values() {
        let engine = Engine::builder().policy(Policy::Cpu).threads(2).build().unwrap();
        // Past the parallel copy's threshold, and a short one copied plainly.
        for len in [3, PARALLEL_COPY_FROM / 4 + 5] {
            let values: Vec<f32> = (0..len).map(|i| i as f32 * 0.5).collect();
            let slice = values.as_slice();
            assert_eq!(engine.array(slice).to_vec().unwrap(), values);
            assert_eq!(engine.array(&values).to_vec().unwrap(), values);
            assert_eq!(engine.array(values.clone().as_mut_slice()).to_vec().unwrap(), values);
            assert_eq!(engine.array(Cow::Borrowed(slice)).to_vec().unwrap(), values);
            assert_eq!(engine.array(values.clone().into_boxed_slice()).to_vec().unwrap(), values);
            assert_eq!(engine.array(values.clone()).to_vec().unwrap(), values);
        }
        assert_eq!(engine.array([1u32, 2]).to_vec().unwrap(), [1, 2]);
        let pair = [3i32, 4];
        assert_eq!(engine.array(&pair).to_vec().unwrap(), pair);
    }
}
