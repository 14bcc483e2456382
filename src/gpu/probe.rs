//! The device's own limits: how fast it copies device memory to device
//! memory, and how fast bytes cross between host-visible and device memory
//! in each direction. A kernel streaming resident arrays cannot beat the
//! first; a job on host data cannot beat the other two, which is the link
//! (PCIe on a discrete GPU).
//!
//! Each copy is timed on the GPU where the adapter has timestamp queries:
//! an empty compute pass before the copy writes one timestamp and an empty
//! pass after it the other. Pass timestamps need only `TIMESTAMP_QUERY`,
//! which the context already requests, where timestamps written on the
//! encoder would need `TIMESTAMP_QUERY_INSIDE_ENCODERS` too; Vulkan writes
//! both kinds at the bottom of the pipe, once every earlier command is done.
//! Without timestamps, the host clock times a submission of the copy and
//! the wait for it, which adds the submission's fixed cost.
//!
//! The upload and readback copies start and end in mapped buffers: the
//! host's own copy into or out of mapped memory is CPU memory bandwidth,
//! measured by the CPU's probes, not the link.

use super::context::Context;
use super::scratch::read_back;
use super::Gpu;
use crate::error::GpuError;
use std::time::{Duration, Instant};

/// Timed runs of each copy, after one warm-up; the median counts.
const RUNS: usize = 5;

/// The bandwidth of a GPU's own copies, in decimal GB/s (1e9 bytes per
/// second), each the median of five runs after a warm-up.
///
/// Made by [`Engine::probe_gpu_bandwidth`](crate::Engine::probe_gpu_bandwidth).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuBandwidth {
    /// Bytes each copy moved: the size asked for, rounded down to a
    /// multiple of 4 (at least 4) and to the adapter's largest buffer.
    pub bytes: u64,
    /// A copy from device memory to device memory, counting the bytes read
    /// plus the bytes written (twice `bytes` per copy), as a map's traffic
    /// is counted.
    pub device_copy: f64,
    /// Host-visible (mapped) memory to device memory: the link's speed
    /// from host to device.
    pub upload: f64,
    /// Device memory to host-visible (mapped) memory.
    pub readback: f64,
    /// True if the copies were timed by GPU timestamps; false if by the
    /// host clock around a submission and its wait.
    pub timestamps: bool,
}

/// The copies a probe times, in the order each run encodes them.
const COPIES: [Direction; 3] = [Direction::HostToDevice, Direction::DeviceToDevice, Direction::DeviceToHost];

/// Where a copy goes from and to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    HostToDevice,
    DeviceToDevice,
    DeviceToHost,
}

/// The buffers of a probe: mapped staging, two device buffers and a
/// mapped readback buffer, each `bytes` long.
struct Buffers {
    bytes: u64,
    staging: wgpu::Buffer,
    source: wgpu::Buffer,
    target: wgpu::Buffer,
    readback: wgpu::Buffer,
}

impl Buffers {
    fn new(ctx: &Context, bytes: u64) -> Buffers {
        use wgpu::BufferUsages as U;
        let buffer = |label, usage| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        // The device buffers are storage buffers, placed where arrays are.
        let device = U::STORAGE | U::COPY_SRC | U::COPY_DST;
        Buffers {
            bytes,
            staging: buffer("swath probe staging", U::MAP_WRITE | U::COPY_SRC),
            source: buffer("swath probe source", device),
            target: buffer("swath probe target", device),
            readback: buffer("swath probe readback", U::MAP_READ | U::COPY_DST),
        }
    }

    /// Records `copy` into `encoder`.
    fn encode(&self, encoder: &mut wgpu::CommandEncoder, copy: Direction) {
        let (from, to) = match copy {
            Direction::HostToDevice => (&self.staging, &self.source),
            Direction::DeviceToDevice => (&self.source, &self.target),
            Direction::DeviceToHost => (&self.target, &self.readback),
        };
        encoder.copy_buffer_to_buffer(from, 0, to, 0, self.bytes);
    }
}

impl Gpu {
    /// Times each copy over `bytes` (see [`GpuBandwidth`]).
    pub fn probe_bandwidth(&self, bytes: u64) -> Result<GpuBandwidth, GpuError> {
        self.job(|ctx, _| {
            let buffers = Buffers::new(ctx, probe_bytes(bytes, ctx.device.limits().max_buffer_size));
            let timed = match ctx.device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
                true => by_timestamps(ctx, &buffers)?.filter(|medians| medians.iter().all(|t| !t.is_zero())),
                false => None,
            };
            let (medians, timestamps) = match timed {
                Some(medians) => (medians, true),
                None => (by_host_clock(ctx, &buffers)?, false),
            };
            let gbps = |copy: Direction, per_copy: u64| {
                let seconds = medians[COPIES.iter().position(|&c| c == copy).unwrap_or(0)].as_secs_f64();
                per_copy as f64 / seconds.max(1e-9) / 1e9
            };
            Ok(GpuBandwidth {
                bytes: buffers.bytes,
                device_copy: gbps(Direction::DeviceToDevice, 2 * buffers.bytes),
                upload: gbps(Direction::HostToDevice, buffers.bytes),
                readback: gbps(Direction::DeviceToHost, buffers.bytes),
                timestamps,
            })
        })
    }

    /// Waits until the GPU has finished every submission made so far.
    pub fn wait_idle(&self) -> Result<(), GpuError> {
        // An empty submission ends after every earlier one (queue order);
        // made on the queue directly, it is not counted as a job's.
        self.job(|ctx, _| ctx.wait(ctx.queue.submit(std::iter::empty::<wgpu::CommandBuffer>())))
    }
}

/// `bytes` as a copy can take it: whole 4-byte words, at least one, in
/// one buffer of at most `largest` bytes.
fn probe_bytes(bytes: u64, largest: u64) -> u64 {
    let word = wgpu::COPY_BUFFER_ALIGNMENT;
    (bytes.min(largest) / word * word).max(word)
}

/// The median time of each copy of [`COPIES`], by GPU timestamps: every
/// run in one submission, two timestamps around each copy. `None` if the
/// timestamps cannot be read.
fn by_timestamps(ctx: &Context, buffers: &Buffers) -> Result<Option<[Duration; 3]>, GpuError> {
    let count = (2 * COPIES.len() * (RUNS + 1)) as u32;
    let queries = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
        label: Some("swath probe timestamps"),
        ty: wgpu::QueryType::Timestamp,
        count,
    });
    let bytes = u64::from(count) * u64::from(wgpu::QUERY_SIZE);
    let resolved = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("swath probe timestamps"),
        size: bytes,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let readback = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("swath probe timestamps readback"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    let mut index = 0;
    for _ in 0..=RUNS {
        for copy in COPIES {
            mark(&mut encoder, &queries, Some(index), None);
            buffers.encode(&mut encoder, copy);
            mark(&mut encoder, &queries, None, Some(index + 1));
            index += 2;
        }
    }
    encoder.resolve_query_set(&queries, 0..count, &resolved, 0);
    encoder.copy_buffer_to_buffer(&resolved, 0, &readback, 0, bytes);
    let submission = ctx.submit([encoder.finish()]);
    let mut ticks = Vec::new();
    read_back(ctx, &readback, bytes, submission, |view| {
        ticks = view.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default())).collect();
    })?;
    if ticks.len() != count as usize {
        return Ok(None);
    }
    let period = f64::from(ctx.queue.get_timestamp_period());
    let elapsed = |pair: &[u64]| Duration::from_nanos((pair[1].saturating_sub(pair[0]) as f64 * period) as u64);
    // Skip the warm-up run; then pair k of each run is copy k.
    let runs: Vec<Vec<Duration>> = ticks[2 * COPIES.len()..]
        .chunks_exact(2 * COPIES.len())
        .map(|run| run.chunks_exact(2).map(elapsed).collect())
        .collect();
    Ok(Some(std::array::from_fn(|k| median(runs.iter().map(|run| run[k]).collect()))))
}

/// An empty compute pass that writes the timestamps asked for: the
/// marker before or after a copy.
fn mark(encoder: &mut wgpu::CommandEncoder, queries: &wgpu::QuerySet, begin: Option<u32>, end: Option<u32>) {
    let timestamp_writes = wgpu::ComputePassTimestampWrites {
        query_set: queries,
        beginning_of_pass_write_index: begin,
        end_of_pass_write_index: end,
    };
    drop(
        encoder
            .begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: Some(timestamp_writes) }),
    );
}

/// The median time of each copy of [`COPIES`], by the host clock around
/// one submission of the copy and the wait for it.
fn by_host_clock(ctx: &Context, buffers: &Buffers) -> Result<[Duration; 3], GpuError> {
    let mut times: [Vec<Duration>; 3] = Default::default();
    for run in 0..=RUNS {
        for (k, copy) in COPIES.into_iter().enumerate() {
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            buffers.encode(&mut encoder, copy);
            let commands = encoder.finish();
            let start = Instant::now();
            ctx.wait(ctx.submit([commands]))?;
            // Run 0 is the warm-up: buffers zeroed on first use, caches.
            if run > 0 {
                times[k].push(start.elapsed());
            }
        }
    }
    Ok(times.map(median))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::DEFAULT_GPU_TIMEOUT;

    #[test]
    fn probe_sizes_are_whole_words_within_one_buffer() {
        assert_eq!(probe_bytes(0, 1 << 30), 4);
        assert_eq!(probe_bytes(4099, 1 << 30), 4096);
        assert_eq!(probe_bytes(1 << 40, 1 << 30), 1 << 30);
        assert_eq!(
            median(vec![Duration::from_secs(3), Duration::ZERO, Duration::from_secs(1)]),
            Duration::from_secs(1)
        );
    }

    /// Every copy moves bytes at a finite, positive rate, and the queue
    /// drains; skipped without an adapter unless `SWATH_REQUIRE_GPU=1`.
    #[test]
    fn probe_measures_every_copy() {
        let gpu = match Gpu::open(DEFAULT_GPU_TIMEOUT, None) {
            Ok(gpu) => gpu,
            Err(why) if std::env::var("SWATH_REQUIRE_GPU").as_deref() == Ok("1") => {
                panic!("SWATH_REQUIRE_GPU=1 but no GPU adapter: {why}")
            }
            Err(why) => {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "SKIPPED probe_measures_every_copy: no GPU adapter ({why})");
                return;
            }
        };
        let probed = gpu.probe_bandwidth((1 << 20) + 3);
        let Ok(bandwidth) = probed else { panic!("the probe failed: {probed:?}") };
        assert_eq!(bandwidth.bytes, 1 << 20);
        for gbps in [bandwidth.device_copy, bandwidth.upload, bandwidth.readback] {
            assert!(gbps.is_finite() && gbps > 0.0, "{bandwidth:?}");
        }
        assert!(gpu.wait_idle().is_ok());
    }
}
