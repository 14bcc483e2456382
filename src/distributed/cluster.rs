//! [`Cluster`]: this process's place among the MPI ranks, and the collective jobs they run.

use super::combine::{combine, partials};
use super::error::{Error, Result};
use super::layout::{pieces, shard};
use super::raw::write_raw;
use super::report::{Mapped, RankReport, Reduced};
use super::watchdog::Watchdog;
use crate::{Device, Element, Engine, Job, Op, Output, Reduce};
use mpi::collective::SystemOperation;
use mpi::environment::{Threading, Universe};
use mpi::topology::{Rank, SimpleCommunicator};
use mpi::traits::*;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Exit status of every rank when [`Cluster::abort_on_panic`] aborts the run (a panicking Rust
/// program's status).
pub const PANIC_EXIT_CODE: i32 = 101;

/// Largest message sent at once: MPI counts are 32-bit.
const MESSAGE_BYTES: usize = 1 << 30;

/// This process's rank among the processes `mpirun` started, and the collective jobs they run.
///
/// Creating it initializes MPI; dropping it finalizes MPI, which cannot be initialized again, so
/// a process has one. Every method that takes `&self` and returns a [`Result`] is *collective*:
/// every rank calls it, in the same order, with the same `n`, `op` and `reduce`. If it fails on
/// any rank, it returns [`Error::Rank`] on every rank, with the lowest failing rank's message, so
/// the ranks stop together instead of waiting for one that gave up. A rank that hangs or panics
/// instead is covered by [`Cluster::watchdog`] and [`Cluster::abort_on_panic`].
pub struct Cluster {
    world: SimpleCommunicator,
    rank: usize,
    ranks: usize,
    host: String,
    threading: Threading,
    // Last, so that MPI is finalized after everything else is dropped.
    _universe: Universe,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("rank", &self.rank)
            .field("ranks", &self.ranks)
            .field("host", &self.host)
            .field("threading", &self.threading)
            .finish()
    }
}

impl Cluster {
    /// Initializes MPI (asking for `MPI_THREAD_MULTIPLE`, which the watchdog's abort needs) and
    /// joins `MPI_COMM_WORLD`. Started without `mpirun`, the process is a cluster of one rank.
    pub fn init() -> Result<Cluster> {
        let (universe, threading) =
            mpi::initialize_with_threading(Threading::Multiple).ok_or(Error::AlreadyInitialized)?;
        let world = universe.world();
        let host = mpi::environment::processor_name().unwrap_or_else(|_| "unknown host".into());
        Ok(Cluster {
            rank: world.rank() as usize,
            ranks: world.size() as usize,
            host,
            threading,
            world,
            _universe: universe,
        })
    }

    /// This process's rank, from 0.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Number of ranks.
    pub fn ranks(&self) -> usize {
        self.ranks
    }

    /// True on rank 0, which combines results and gathers reports.
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// The host this rank runs on (`MPI_Get_processor_name`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The elements of `n` that this rank owns: [`shard`](super::shard)`(n, ranks, rank)`.
    pub fn shard(&self, n: usize) -> Range<usize> {
        shard(n, self.ranks, self.rank)
    }

    /// Ends every rank now with exit status `code` (`MPI_Abort`).
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }

    /// Starts a [`Watchdog`] that aborts every rank unless it is dropped within `timeout`.
    pub fn watchdog(&self, timeout: Duration) -> Result<Watchdog> {
        Watchdog::start(self.rank, self.ranks, timeout).map_err(|source| Error::Io {
            action: "start the watchdog thread for",
            path: PathBuf::from("this rank"),
            source,
        })
    }

    /// Makes a panic on any thread of this rank print its message and the rank, then abort every
    /// rank with [`PANIC_EXIT_CODE`], instead of leaving the other ranks waiting for it.
    pub fn abort_on_panic(&self) {
        let (rank, ranks) = (self.rank, self.ranks);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            if mpi::is_initialized() && !mpi::is_finalized() {
                eprintln!("error: rank {rank} of {ranks} panicked; aborting every rank");
                SimpleCommunicator::world().abort(PANIC_EXIT_CODE);
            }
        }));
    }

    /// Collective: `local` on every rank if it is `Ok` on every rank, else [`Error::Rank`] on
    /// every rank, carrying the message of the lowest rank that failed.
    ///
    /// Pass every fallible local step through it (reading the shard, opening the engine) before
    /// the next collective call, so that one rank's error stops them all.
    pub fn agree<V, E: fmt::Display>(&self, local: std::result::Result<V, E>) -> Result<V> {
        let mut failed = vec![0u8; self.ranks];
        self.world.all_gather_into(&u8::from(local.is_err()), &mut failed[..]);
        let Some(first) = failed.iter().position(|&flag| flag != 0) else {
            return local.map_err(|_| unreachable!("every rank reported success"));
        };
        let mut message = match &local {
            Err(error) if first == self.rank => error.to_string().into_bytes(),
            _ => Vec::new(),
        };
        let sender = self.world.process_at_rank(first as Rank);
        let mut len = message.len() as u64;
        sender.broadcast_into(&mut len);
        message.resize(len as usize, 0);
        sender.broadcast_into(&mut message[..]);
        Err(Error::Rank {
            rank: first,
            ranks: self.ranks,
            failed: failed.iter().filter(|&&flag| flag != 0).count(),
            message: String::from_utf8_lossy(&message).into_owned(),
        })
    }

    /// Collective: `value` if every rank passed the same one, else [`Error::Inconsistent`] on
    /// every rank. `what` names the value in the message.
    pub fn same(&self, what: &'static str, value: u64) -> Result<u64> {
        let (mut min, mut max) = (0u64, 0u64);
        self.world.all_reduce_into(&value, &mut min, SystemOperation::min());
        self.world.all_reduce_into(&value, &mut max, SystemOperation::max());
        if min == max {
            Ok(value)
        } else {
            Err(Error::Inconsistent { what, min, max })
        }
    }

    /// Collective: `map` (if any) fused into `reduce` over the `n` elements of every rank's shard,
    /// `data` being this rank's ([`Cluster::shard`]); the value on every rank.
    ///
    /// Each rank runs its shard on `engine`, GPU or CPU as its own scheduler decides, and sends
    /// rank 0 its partials; rank 0 combines them in one fixed order, that of the
    /// [canonical](crate::canonical) reduction: the result has the bits of `engine.map_reduce`
    /// over the whole input on one machine, on any number of ranks. (Device caveats of the
    /// canonical order apply: a GPU that flushes subnormals or contracts a fused multiply-add
    /// differs on one machine too.)
    ///
    /// How: a rank reduces every block of [`BLOCK`](super::BLOCK) = 2^24 elements it holds whole
    /// in one engine job, giving that block's level-two partial; a block split between two ranks
    /// (at most one at each end of a shard) is sent as its tile partials, computed one CPU job per
    /// tile, and rank 0 reduces them in rank order; rank 0 then reduces the blocks' partials.
    pub fn map_reduce<T: Element>(
        &self,
        engine: &Engine,
        n: usize,
        data: &[T],
        map: Option<Op>,
        reduce: Reduce,
    ) -> Result<Reduced<T>> {
        self.same("the number of elements", n as u64)?;
        let range = self.shard(n);
        self.world.barrier();
        let start = Instant::now();
        let local = self
            .check_shard(n, data)
            .and_then(|()| partials(engine, n, range.clone(), data, map, reduce).map_err(Error::from));
        let compute = start.elapsed();
        let local = self.agree(local)?;
        let combined = match self.gather_partials(n, &local.values) {
            Some(all) => combine(n, &all, reduce).map(Some),
            None => Ok(None),
        };
        let mut value = self.agree(combined)?.unwrap_or_default();
        self.world.process_at_rank(0).broadcast_into(bytemuck::bytes_of_mut(&mut value));
        let elapsed = start.elapsed();
        let report = self.report(range, local.gpu_elements, local.fallbacks, compute);
        let ranks = self.gather_reports(&report);
        Ok(Reduced { value, elapsed, local: report, ranks })
    }

    /// Collective: `op` applied to this rank's shard `data` of `n` elements, on `engine`.
    /// The mapped shard stays on its rank: [`Cluster::gather`] collects the array on rank 0, and
    /// [`Cluster::write_part`] writes one file per rank.
    pub fn map<T: Element>(&self, engine: &Engine, n: usize, data: &[T], op: Op) -> Result<Mapped<T>> {
        self.same("the number of elements", n as u64)?;
        let range = self.shard(n);
        self.world.barrier();
        let start = Instant::now();
        let local = self.check_shard(n, data).and_then(|()| engine.run(&Job::map(data, op)).map_err(Error::from));
        let compute = start.elapsed();
        let outcome = self.agree(local)?;
        let elapsed = start.elapsed();
        let gpu_elements = if outcome.device == Device::Gpu { data.len() } else { 0 };
        let report = self.report(range, gpu_elements, usize::from(outcome.fallback.is_some()), compute);
        let ranks = self.gather_reports(&report);
        let values = match outcome.value {
            Output::Array(values) => values,
            _ => unreachable!("a map job returns an array"),
        };
        Ok(Mapped { values, elapsed, local: report, ranks })
    }

    /// Collective: every rank's shard `local` of an array of `n` elements, concatenated in rank
    /// order on rank 0 (`Some` there, `None` elsewhere). Rank 0 needs memory for all of it.
    pub fn gather<T: Element>(&self, n: usize, local: &[T]) -> Result<Option<Vec<T>>> {
        self.same("the number of elements", n as u64)?;
        self.agree(self.check_shard(n, local))?;
        let buffer = if self.is_root() { allocate(n, "the gathered array") } else { Ok(Vec::new()) };
        let mut all = self.agree(buffer)?;
        if !self.is_root() {
            let root = self.world.process_at_rank(0);
            bytemuck::cast_slice::<T, u8>(local).chunks(MESSAGE_BYTES).for_each(|chunk| root.send(chunk));
            return Ok(None);
        }
        all[self.shard(n)].copy_from_slice(local);
        for rank in 1..self.ranks {
            let sender = self.world.process_at_rank(rank as Rank);
            let part = &mut all[shard(n, self.ranks, rank)];
            for chunk in bytemuck::cast_slice_mut::<T, u8>(part).chunks_mut(MESSAGE_BYTES) {
                sender.receive_into(chunk);
            }
        }
        Ok(Some(all))
    }

    /// Collective: writes this rank's `values` to [`part_path`]`(dir, rank)` as raw
    /// little-endian values, and returns that path.
    pub fn write_part<T: Element>(&self, dir: &Path, values: &[T]) -> Result<PathBuf> {
        let path = part_path(dir, self.rank);
        self.agree(write_raw(&path, values))?;
        Ok(path)
    }

    fn check_shard<T>(&self, n: usize, data: &[T]) -> Result<()> {
        let expected = self.shard(n).len();
        if data.len() == expected {
            Ok(())
        } else {
            Err(Error::ShardLength { rank: self.rank, expected, got: data.len(), n })
        }
    }

    fn report(&self, range: Range<usize>, gpu_elements: usize, fallbacks: usize, compute: Duration) -> RankReport {
        RankReport { rank: self.rank, host: self.host.clone(), range, gpu_elements, fallbacks, compute }
    }

    /// Every rank's partials on rank 0, in rank order; rank 0 knows how many each sends.
    fn gather_partials<T: Element>(&self, n: usize, local: &[T]) -> Option<Vec<Vec<T>>> {
        if !self.is_root() {
            self.world.process_at_rank(0).send(bytemuck::cast_slice::<T, u8>(local));
            return None;
        }
        let mut all = vec![local.to_vec()];
        for rank in 1..self.ranks {
            let count = pieces(shard(n, self.ranks, rank), n).map(|piece| piece.partials()).sum();
            let mut values = vec![T::default(); count];
            self.world.process_at_rank(rank as Rank).receive_into(bytemuck::cast_slice_mut::<T, u8>(&mut values));
            all.push(values);
        }
        Some(all)
    }

    /// Every rank's report on rank 0, in rank order; empty elsewhere.
    fn gather_reports(&self, local: &RankReport) -> Vec<RankReport> {
        if !self.is_root() {
            self.world.process_at_rank(0).send(&local.to_bytes()[..]);
            return Vec::new();
        }
        let mut all = vec![local.clone()];
        for rank in 1..self.ranks {
            let (bytes, _) = self.world.process_at_rank(rank as Rank).receive_vec::<u8>();
            all.extend(RankReport::from_bytes(&bytes));
        }
        all
    }
}

/// The file [`Cluster::write_part`] writes for `rank`: `dir/part-00003.raw` for rank 3.
///
/// ```
/// use std::path::Path;
/// assert_eq!(swath::distributed::part_path(Path::new("out"), 3), Path::new("out/part-00003.raw"));
/// ```
pub fn part_path(dir: &Path, rank: usize) -> PathBuf {
    dir.join(format!("part-{rank:05}.raw"))
}

/// `n` default values, or an error if the memory cannot be had.
fn allocate<T: Element>(n: usize, what: &'static str) -> Result<Vec<T>> {
    let mut values = Vec::new();
    values
        .try_reserve_exact(n)
        .map_err(|_| Error::OutOfMemory { what, bytes: (n as u64).saturating_mul(T::DTYPE.size() as u64) })?;
    values.resize(n, T::default());
    Ok(values)
}
