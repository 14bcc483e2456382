//! Timing one cell: a warm-up, then timed runs, summarised by the median and the spread.

use crate::format;
use std::time::{Duration, Instant};

/// Fewest timed runs a cell gets when its runs are slow, so that a median still means something.
pub const MIN_RUNS: u32 = 3;

/// About how long one cell may take, warm-up included, before its runs are lowered towards
/// [`MIN_RUNS`]: this keeps the default run short at the largest sizes.
pub const CELL_BUDGET: Duration = Duration::from_secs(1);

/// Shortest time one timed sample takes: quicker runs are repeated in a batch and timed together, so
/// that the clock's resolution and the cost of reading it stay below 0.1% of the sample.
pub const MIN_SAMPLE: Duration = Duration::from_millis(1);

/// Most runs one batch holds, so that a run too fast to time still ends.
const MAX_BATCH: u32 = 1 << 20;

/// How many times to run each cell.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Timed runs asked for (`--repeat`).
    pub repeat: u32,
    /// See [`CELL_BUDGET`].
    pub per_cell: Duration,
}

/// The timed runs of one cell, each the average run of its batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
    /// Timed samples: `--repeat`, or fewer for a slow cell.
    pub runs: u32,
    /// Runs per sample: 1, or more for runs quicker than [`MIN_SAMPLE`].
    pub batch: u32,
    /// True if `runs` was lowered below `--repeat` to keep the cell within its budget.
    pub lowered: bool,
}

/// Runs `run` once as a warm-up (caches, page faults, compiled pipelines), then times it.
pub fn measure<E>(budget: &Budget, mut run: impl FnMut() -> Result<(), E>) -> Result<Timing, E> {
    run()?;
    time_runs(budget, run)
}

/// Times `run`, already warmed up, `budget.repeat` times, or fewer if the first run shows that they
/// would overrun the cell's budget; runs quicker than [`MIN_SAMPLE`] are timed in batches. Buffers are
/// the caller's, so repetitions reuse them.
pub fn time_runs<E>(budget: &Budget, mut run: impl FnMut() -> Result<(), E>) -> Result<Timing, E> {
    let mut timed = |batch: u32| -> Result<Duration, E> {
        let start = Instant::now();
        for _ in 0..batch {
            run()?;
        }
        Ok(start.elapsed() / batch)
    };
    let first = timed(1)?;
    let batch = batch_size(first);
    let runs = planned_runs(budget, first * batch);
    let mut times = Vec::with_capacity(runs as usize);
    // A single run is a sample only when runs are not batched.
    if batch == 1 {
        times.push(first);
    }
    while times.len() < runs as usize {
        times.push(timed(batch)?);
    }
    Ok(summarise(&times, batch, runs < budget.repeat))
}

/// Runs per sample, so that a sample of runs taking `one` each lasts at least [`MIN_SAMPLE`].
fn batch_size(one: Duration) -> u32 {
    if one >= MIN_SAMPLE {
        return 1;
    }
    let batch = MIN_SAMPLE.as_secs_f64() / one.as_secs_f64().max(1e-9);
    (batch.ceil() as u32).clamp(1, MAX_BATCH)
}

/// `budget.repeat`, or as many runs of `one` as fit in the budget after the warm-up, but never fewer
/// than [`MIN_RUNS`] (nor more than asked for).
fn planned_runs(budget: &Budget, one: Duration) -> u32 {
    if one.is_zero() {
        return budget.repeat;
    }
    let fit = (budget.per_cell.as_secs_f64() / one.as_secs_f64()).floor();
    let affordable = (fit as u32).saturating_sub(1);
    budget.repeat.min(affordable.max(MIN_RUNS))
}

fn summarise(times: &[Duration], batch: u32, lowered: bool) -> Timing {
    Timing {
        median: format::median(times).unwrap_or_default(),
        min: times.iter().min().copied().unwrap_or_default(),
        max: times.iter().max().copied().unwrap_or_default(),
        runs: times.len() as u32,
        batch,
        lowered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASKED: Budget = Budget { repeat: 5, per_cell: CELL_BUDGET };

    #[test]
    fn fast_cells_get_every_run() {
        assert_eq!(planned_runs(&ASKED, Duration::from_millis(10)), 5);
        assert_eq!(planned_runs(&ASKED, Duration::ZERO), 5);
        assert_eq!(planned_runs(&ASKED, Duration::from_millis(166)), 5);
    }

    #[test]
    fn slow_cells_get_fewer_runs_but_never_below_the_minimum() {
        assert_eq!(planned_runs(&ASKED, Duration::from_millis(200)), 4);
        assert_eq!(planned_runs(&ASKED, Duration::from_millis(300)), MIN_RUNS);
        assert_eq!(planned_runs(&ASKED, Duration::from_secs(10)), MIN_RUNS);
        let two = Budget { repeat: 2, per_cell: CELL_BUDGET };
        assert_eq!(planned_runs(&two, Duration::from_secs(10)), 2);
    }

    #[test]
    fn quick_runs_are_timed_in_batches() {
        assert_eq!(batch_size(Duration::from_millis(2)), 1);
        assert_eq!(batch_size(MIN_SAMPLE), 1);
        assert_eq!(batch_size(Duration::from_micros(10)), 100);
        assert!((2..=MAX_BATCH).contains(&batch_size(Duration::ZERO)));
    }

    #[test]
    fn timings_report_median_and_spread() {
        let ms = Duration::from_millis;
        let timing = summarise(&[ms(3), ms(1), ms(2), ms(9), ms(2)], 1, false);
        assert_eq!((timing.median, timing.min, timing.max, timing.runs), (ms(2), ms(1), ms(9), 5));
        let mut calls = 0;
        let timing = measure(&ASKED, || -> Result<(), ()> {
            calls += 1;
            std::thread::sleep(MIN_SAMPLE);
            Ok(())
        });
        assert_eq!(timing.map(|t| (t.runs, t.batch)), Ok((5, 1)));
        assert_eq!(calls, 6, "one warm-up and five timed runs");
    }
}
