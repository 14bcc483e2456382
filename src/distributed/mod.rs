//! Distributed runs on MPI (cargo feature `mpi`): one job over data split across processes and
//! machines, each rank running its part on its own [`Engine`](crate::Engine).
//!
//! ```no_run
//! // Run with: mpirun -np 4 target/release/examples/sum_of_squares
//! use swath::distributed::Cluster;
//! use swath::{Engine, Op, Reduce};
//! use std::time::Duration;
//!
//! fn main() -> swath::distributed::Result<()> {
//!     let cluster = Cluster::init()?; // MPI_Init; MPI_Finalize when dropped
//!     cluster.abort_on_panic();
//!     let _watchdog = cluster.watchdog(Duration::from_secs(600))?;
//!
//!     let n = 1 << 28;
//!     let shard = cluster.shard(n); // this rank's elements, whole tiles
//!     let data: Vec<f32> = shard.map(|i| (i % 1000) as f32 / 1000.0).collect();
//!     let engine = cluster.agree(Engine::new())?; // GPU or CPU, as this rank's scheduler decides
//!
//!     let sum = cluster.map_reduce(&engine, n, &data, Some(Op::Square), Reduce::Sum)?;
//!     if cluster.is_root() {
//!         println!("sum of squares {} in {:?}", sum.value, sum.elapsed);
//!         for rank in &sum.ranks {
//!             println!("{rank}"); // rank, host, device, elements, seconds
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! - **Shards**: rank `r` of `p` owns [`shard`]`(n, p, r)`, a run of whole tiles of
//!   [`TILE`](crate::canonical::TILE) elements, so its tiles are the tiles of a single-machine
//!   run. It makes or reads its own data ([`read_raw`] reads its part of a file of raw
//!   little-endian values); nothing is scattered from rank 0.
//! - **Reductions** ([`Cluster::map_reduce`]) combine the ranks' partials on rank 0 in one fixed
//!   order, that of the canonical reduction, so the result has the same bits as a single-machine
//!   run, on any number of ranks, and every rank receives it.
//! - **Maps** ([`Cluster::map`]) leave each rank its part of the result, to be gathered on rank 0
//!   ([`Cluster::gather`]) or written one file per rank ([`Cluster::write_part`]).
//! - **Failures**: every fallible method is collective and fails on every rank when it fails on
//!   one ([`Error::Rank`]); [`Cluster::watchdog`] and [`Cluster::abort_on_panic`] abort every
//!   rank when one hangs or panics. No rank is left waiting.
//!
//! The `swath` command line runs this as `mpirun -np 4 swath run --distributed ...`.

mod cluster;
mod combine;
mod error;
mod layout;
mod raw;
mod report;
mod watchdog;

pub use cluster::{part_path, Cluster, PANIC_EXIT_CODE};
pub use error::{Error, Result};
pub use layout::{shard, BLOCK};
pub use raw::{raw_len, read_raw, write_raw};
pub use report::{Mapped, RankReport, Reduced};
pub use watchdog::{Watchdog, TIMEOUT_EXIT_CODE};
