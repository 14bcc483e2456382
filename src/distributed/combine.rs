//! A reduction over shards with the bits of the same reduction over the whole input.
//!
//! The canonical order ([`crate::canonical`]) reduces every tile of [`TILE`] elements to a
//! partial, then every run of [`TILE`] tile partials (the tiles of one [`BLOCK`]) to a level-two
//! partial, and so on. Shards start on tile boundaries, so each rank holds whole tiles:
//!
//! - a block a rank holds whole is reduced in one engine job, GPU or CPU, whose result is that
//!   block's level-two partial;
//! - a block split between ranks (at most two per rank, at the shard's ends) is sent as its tile
//!   partials, one CPU job per tile, and rank 0 reduces their concatenation in rank order, which
//!   is the block's level-two partial;
//! - rank 0 reduces the level-two partials, in block order, as one canonical reduction.
//!
//! Every step is a step of the single-machine order, so the result has the same bits as a
//! single-machine run on any number of ranks.

use super::layout::{pieces, shard, BLOCK};
use crate::canonical::TILE;
use crate::{Device, Element, Engine, Error, Job, Op, Output, Reduce};
use rayon::prelude::*;
use std::ops::Range;

/// A rank's partials for one reduction, and where its elements ran.
#[derive(Debug)]
pub(crate) struct Partials<T> {
    /// One value per whole block and one per tile of a shared block, in element order.
    pub values: Vec<T>,
    /// Elements reduced on the GPU.
    pub gpu_elements: usize,
    /// GPU jobs that failed and were rerun on the CPU.
    pub fallbacks: usize,
}

/// This rank's partials of `map` fused into `reduce` over `data`, its `shard` of `n` elements.
pub(crate) fn partials<T: Element>(
    engine: &Engine,
    n: usize,
    shard: Range<usize>,
    data: &[T],
    map: Option<Op>,
    reduce: Reduce,
) -> crate::Result<Partials<T>> {
    if data.len() != shard.len() {
        return Err(Error::LengthMismatch { input: data.len(), output: shard.len() });
    }
    let cpu = Engine::cpu();
    let mut partials = Partials { values: Vec::new(), gpu_elements: 0, fallbacks: 0 };
    for piece in pieces(shard.clone(), n) {
        let part = &data[piece.range.start - shard.start..piece.range.end - shard.start];
        if piece.whole {
            let outcome = engine.run(&job(part, map, reduce))?;
            if outcome.device == Device::Gpu {
                partials.gpu_elements += part.len();
            }
            partials.fallbacks += usize::from(outcome.fallback.is_some());
            match outcome.value {
                Output::Scalar(value) => partials.values.push(value),
                _ => unreachable!("a reduction job returns a scalar"),
            }
        } else {
            let tiles: Vec<T> =
                part.par_chunks(TILE).map(|tile| reduce_on(&cpu, tile, map, reduce)).collect::<crate::Result<_>>()?;
            partials.values.extend(tiles);
        }
    }
    Ok(partials)
}

/// The reduction of `n` elements from every rank's partials, in rank order, as rank 0 finishes it.
pub(crate) fn combine<T: Element>(n: usize, partials: &[Vec<T>], reduce: Reduce) -> crate::Result<T> {
    let cpu = Engine::cpu();
    let ranks = partials.len();
    let mut level_two = Vec::with_capacity(n.div_ceil(BLOCK));
    // Tile partials of a block split between ranks, gathered until the block is complete.
    let mut shared: Vec<T> = Vec::new();
    let mut shared_block = None;
    for (rank, values) in partials.iter().enumerate() {
        let mut values = values.as_slice();
        for piece in pieces(shard(n, ranks, rank), n) {
            let count = piece.partials();
            if values.len() < count {
                return Err(Error::LengthMismatch { input: values.len(), output: count });
            }
            let (part, rest) = values.split_at(count);
            values = rest;
            if shared_block.is_some_and(|block| block != piece.block) {
                level_two.push(cpu.reduce(&shared, reduce)?);
                shared.clear();
                shared_block = None;
            }
            if piece.whole {
                level_two.extend_from_slice(part);
            } else {
                shared.extend_from_slice(part);
                shared_block = Some(piece.block);
            }
        }
    }
    if shared_block.is_some() {
        level_two.push(cpu.reduce(&shared, reduce)?);
    }
    match level_two.as_slice() {
        [only] => Ok(*only),
        all => cpu.reduce(all, reduce),
    }
}

fn job<T: Element>(input: &[T], map: Option<Op>, reduce: Reduce) -> Job<'_, T> {
    match map {
        Some(op) => Job::map_reduce(input, op, reduce),
        None => Job::reduce(input, reduce),
    }
}

fn reduce_on<T: Element>(engine: &Engine, input: &[T], map: Option<Op>, reduce: Reduce) -> crate::Result<T> {
    match map {
        Some(op) => engine.map_reduce(input, op, reduce),
        None => engine.reduce(input, reduce),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values spread over several magnitudes, so that the order of additions shows in the bits.
    fn data(n: usize) -> Vec<f32> {
        (0..n as u64)
            .map(|i| {
                let z = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let z = (z ^ (z >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                ((z >> 40) as f32 / (1u64 << 24) as f32) * [1.0, 1e3, 1e-3, 7.0][(z & 3) as usize]
            })
            .collect()
    }

    fn distributed<T: Element>(xs: &[T], ranks: usize, map: Option<Op>, reduce: Reduce) -> crate::Result<T> {
        let engine = Engine::cpu();
        let n = xs.len();
        let mut all = Vec::new();
        for rank in 0..ranks {
            let range = shard(n, ranks, rank);
            all.push(partials(&engine, n, range.clone(), &xs[range], map, reduce)?.values);
        }
        combine(n, &all, reduce)
    }

    #[test]
    fn sums_have_single_machine_bits_on_any_rank_count() {
        let big = data(2 * BLOCK + 5 * TILE + 17);
        let sizes = [0, 1, 100, TILE, TILE + 1, 3 * TILE + 5, 10 * TILE, BLOCK - 1, BLOCK, BLOCK + 2 * TILE + 9];
        let engine = Engine::cpu();
        for n in sizes.into_iter().chain([big.len()]) {
            let xs = &big[..n];
            let single = engine.map_reduce(xs, Op::Square, Reduce::Sum).map(f32::to_bits);
            let plain = engine.reduce(xs, Reduce::Sum).map(f32::to_bits);
            for ranks in [1, 2, 3, 5, 7] {
                let many = distributed(xs, ranks, Some(Op::Square), Reduce::Sum).map(f32::to_bits);
                assert_eq!(many.ok(), single.as_ref().ok().copied(), "sum of squares, n {n}, {ranks} ranks");
                let many = distributed(xs, ranks, None, Reduce::Sum).map(f32::to_bits);
                assert_eq!(many.ok(), plain.as_ref().ok().copied(), "sum, n {n}, {ranks} ranks");
            }
        }
    }

    #[test]
    fn other_reductions_and_integers_match_too() {
        let xs = data(BLOCK + 7 * TILE + 3);
        let engine = Engine::cpu();
        for reduce in [Reduce::Max, Reduce::Min] {
            let single = engine.map_reduce(&xs, Op::Add(0.5), reduce).map(f32::to_bits).ok();
            assert_eq!(distributed(&xs, 3, Some(Op::Add(0.5)), reduce).map(f32::to_bits).ok(), single, "{reduce}");
        }
        // Factors near 1, so that the product of 2^24 of them stays finite.
        let factors: Vec<f32> = xs.iter().map(|x| 1.0 + x * 1e-7).collect();
        let single = engine.reduce(&factors, Reduce::Product).map(f32::to_bits).ok();
        assert_eq!(distributed(&factors, 3, None, Reduce::Product).map(f32::to_bits).ok(), single);
        let ints: Vec<i32> = xs.iter().map(|x| (x * 1e4) as i32).collect();
        let single = engine.map_reduce(&ints, Op::Square, Reduce::Sum).ok();
        assert_eq!(distributed(&ints, 4, Some(Op::Square), Reduce::Sum).ok(), single);
    }

    #[test]
    fn empty_inputs_follow_the_single_machine_rules() {
        let none: [f32; 0] = [];
        assert_eq!(distributed(&none, 3, None, Reduce::Sum).ok(), Some(0.0));
        assert_eq!(distributed(&none, 3, None, Reduce::Product).ok(), Some(1.0));
        assert!(matches!(distributed(&none, 3, None, Reduce::Max), Err(Error::EmptyReduction { .. })));
    }
}
