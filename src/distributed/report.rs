//! What each rank did in a collective job: [`RankReport`], and the results [`Reduced`] and [`Mapped`].

use std::fmt;
use std::ops::Range;
use std::time::Duration;

/// One rank's part of a job: where it ran, on what, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct RankReport {
    /// The rank.
    pub rank: usize,
    /// The host it ran on (`MPI_Get_processor_name`).
    pub host: String,
    /// The elements of its shard.
    pub range: Range<usize>,
    /// How many of them ran on the GPU; the rest ran on the CPU.
    pub gpu_elements: usize,
    /// GPU jobs that failed and were rerun on the CPU.
    pub fallbacks: usize,
    /// Time in the local engine, communication excluded.
    pub compute: Duration,
}

impl RankReport {
    /// Elements in the shard.
    pub fn elements(&self) -> usize {
        self.range.len()
    }

    /// `gpu`, `cpu`, or `gpu+cpu` when a job was split between them (the edges of a shard whose
    /// blocks other ranks share run on the CPU, see [`Cluster::map_reduce`](super::Cluster::map_reduce)).
    pub fn device(&self) -> &'static str {
        match self.gpu_elements {
            0 => "cpu",
            gpu if gpu == self.elements() => "gpu",
            _ => "gpu+cpu",
        }
    }

    /// The report as bytes, to send to rank 0.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let numbers = [
            self.rank as u64,
            self.range.start as u64,
            self.range.end as u64,
            self.gpu_elements as u64,
            self.fallbacks as u64,
            u64::try_from(self.compute.as_nanos()).unwrap_or(u64::MAX),
        ];
        let mut bytes: Vec<u8> = numbers.iter().flat_map(|x| x.to_le_bytes()).collect();
        bytes.extend_from_slice(self.host.as_bytes());
        bytes
    }

    /// A report from [`RankReport::to_bytes`]; `None` if `bytes` is too short.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<RankReport> {
        const NUMBERS: usize = 6;
        let (head, host) = bytes.split_at_checked(NUMBERS * 8)?;
        let mut numbers = head.chunks_exact(8).map(|chunk| u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        let mut next = || numbers.next().unwrap_or_default();
        Some(RankReport {
            rank: next() as usize,
            range: next() as usize..next() as usize,
            gpu_elements: next() as usize,
            fallbacks: next() as usize,
            compute: Duration::from_nanos(next()),
            host: String::from_utf8_lossy(host).into_owned(),
        })
    }
}

impl fmt::Display for RankReport {
    /// `rank 1 on node2: gpu, 100007936 elements [100007936, 200015872), 0.0412 s`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rank {} on {}: {}, {} elements [{}, {}), {:.4} s",
            self.rank,
            self.host,
            self.device(),
            self.elements(),
            self.range.start,
            self.range.end,
            self.compute.as_secs_f64()
        )?;
        match self.fallbacks {
            0 => Ok(()),
            jobs => write!(f, " ({jobs} GPU job(s) rerun on the CPU)"),
        }
    }
}

/// The result of [`Cluster::map_reduce`](super::Cluster::map_reduce), on every rank.
#[derive(Debug, Clone, PartialEq)]
pub struct Reduced<T> {
    /// The reduction over every rank's shard; the same bits on every rank.
    pub value: T,
    /// Wall time from the start barrier to the value on every rank: the slowest rank's compute,
    /// gathering the partials and combining them.
    pub elapsed: Duration,
    /// This rank's report.
    pub local: RankReport,
    /// Every rank's report, in rank order, on rank 0; empty on the other ranks.
    pub ranks: Vec<RankReport>,
}

/// The result of [`Cluster::map`](super::Cluster::map): this rank's part of the mapped array.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped<T> {
    /// The op applied to this rank's shard; [`Cluster::gather`](super::Cluster::gather) collects
    /// the whole array on rank 0.
    pub values: Vec<T>,
    /// Wall time from the start barrier until every rank had finished.
    pub elapsed: Duration,
    /// This rank's report.
    pub local: RankReport,
    /// Every rank's report, in rank order, on rank 0; empty on the other ranks.
    pub ranks: Vec<RankReport>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_survive_the_trip_to_rank_0() {
        let report = RankReport {
            rank: 3,
            host: "node-7".into(),
            range: 4096..12288,
            gpu_elements: 4096,
            fallbacks: 1,
            compute: Duration::from_micros(1500),
        };
        assert_eq!(RankReport::from_bytes(&report.to_bytes()), Some(report.clone()));
        assert_eq!(report.device(), "gpu+cpu");
        assert_eq!(
            report.to_string(),
            "rank 3 on node-7: gpu+cpu, 8192 elements [4096, 12288), 0.0015 s (1 GPU job(s) rerun on the CPU)"
        );
        assert_eq!(RankReport::from_bytes(&[0; 7]), None);
    }
}
