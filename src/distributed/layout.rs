//! Where each element lives: shards of whole tiles, and the blocks a reduction is cut into.

use crate::canonical::TILE;
use std::ops::Range;

/// Elements whose tile partials make one level-two partial of the canonical order: `TILE * TILE`,
/// 2^24. A rank reduces every block it holds whole in one engine job, so that rank 0 can finish
/// the reduction from these partials exactly as a single machine would (see [`Cluster::map_reduce`]).
///
/// [`Cluster::map_reduce`]: super::Cluster::map_reduce
pub const BLOCK: usize = TILE * TILE;

/// The elements that rank `rank` of `ranks` owns out of `n`.
///
/// Shards are runs of whole tiles ([`TILE`], 4096 elements), so every rank's tiles are the
/// tiles of a single-machine run. The tiles are shared out as evenly as they go, the lower ranks
/// taking one more where they do not divide evenly; the last tile may be short, and a rank left
/// without a tile owns the empty range `n..n`.
///
/// ```
/// use swath::distributed::shard;
/// assert_eq!(shard(10_000, 3, 0), 0..4096);
/// assert_eq!(shard(10_000, 3, 1), 4096..8192);
/// assert_eq!(shard(10_000, 3, 2), 8192..10_000);
/// assert_eq!(shard(5_000, 3, 2), 5_000..5_000); // only two tiles for three ranks
/// ```
///
/// # Panics
///
/// If `rank` is not below `ranks`.
pub fn shard(n: usize, ranks: usize, rank: usize) -> Range<usize> {
    assert!(rank < ranks, "rank {rank} is not one of {ranks} ranks");
    let tiles = n.div_ceil(TILE);
    let (base, extra) = (tiles / ranks, tiles % ranks);
    let first = rank * base + rank.min(extra);
    let count = base + usize::from(rank < extra);
    (first * TILE).min(n)..((first + count) * TILE).min(n)
}

/// One rank's part of one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    /// Index of the block: it covers `block * BLOCK..min((block + 1) * BLOCK, n)`.
    pub block: usize,
    /// The elements of the block this rank holds.
    pub range: Range<usize>,
    /// True if the rank holds the whole block, false if other ranks hold the rest.
    pub whole: bool,
}

impl Piece {
    /// Partials the rank sends for this piece: the block's reduction, or one per tile.
    pub fn partials(&self) -> usize {
        if self.whole {
            1
        } else {
            self.range.len().div_ceil(TILE)
        }
    }
}

/// The pieces of the blocks that `range` (a shard of `n` elements) overlaps, in order.
pub(crate) fn pieces(range: Range<usize>, n: usize) -> impl Iterator<Item = Piece> {
    let mut start = range.start;
    std::iter::from_fn(move || {
        if start >= range.end {
            return None;
        }
        let block = start / BLOCK;
        let extent = block * BLOCK..((block + 1) * BLOCK).min(n);
        let end = extent.end.min(range.end);
        let piece = Piece { block, range: start..end, whole: start == extent.start && end == extent.end };
        start = end;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_input_in_order_on_tile_boundaries() {
        for n in [0, 1, TILE - 1, TILE, TILE + 1, 3 * TILE, 10 * TILE + 7, BLOCK + 5] {
            for ranks in 1..=9 {
                let mut next = 0;
                for rank in 0..ranks {
                    let range = shard(n, ranks, rank);
                    assert_eq!(range.start, next, "n {n}, rank {rank} of {ranks}");
                    assert!(range.start.is_multiple_of(TILE) || range.is_empty());
                    assert!(range.end.is_multiple_of(TILE) || range.end == n);
                    next = range.end;
                }
                assert_eq!(next, n);
                let tiles = |rank| shard(n, ranks, rank).len().div_ceil(TILE);
                let (most, least) = ((0..ranks).map(tiles).max(), (0..ranks).map(tiles).min());
                assert!(most.unwrap_or(0) - least.unwrap_or(0) <= 1, "n {n}, {ranks} ranks: uneven shards");
            }
        }
    }

    #[test]
    fn pieces_split_a_shard_at_block_boundaries() {
        let n = 2 * BLOCK + 3 * TILE + 5;
        let all: Vec<Piece> = pieces(0..n, n).collect();
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|piece| piece.whole));
        assert_eq!(all[2].range, 2 * BLOCK..n);

        let middle: Vec<Piece> = pieces(TILE..BLOCK + 2 * TILE, n).collect();
        assert_eq!(middle.len(), 2);
        assert_eq!((middle[0].block, middle[0].whole, middle[0].partials()), (0, false, TILE - 1));
        assert_eq!((middle[1].block, middle[1].whole, middle[1].partials()), (1, false, 2));
        assert_eq!(pieces(5..5, n).count(), 0);
    }
}
