//! Split jobs against single-device CPU runs, bit for bit, at lengths
//! around tile boundaries and shares from none to all; a GPU fault in the
//! GPU's part; a GPU part streamed in several chunks.
//!
//! Without a GPU adapter the GPU tests print why and pass, unless
//! `SWATH_REQUIRE_GPU=1` makes them fail.

use super::split_point;
use crate::canonical::{tiles, TILE};
use crate::column::Column;
use crate::cpu::{self, eval};
use crate::dtype::{DType, Element};
use crate::engine::DEFAULT_GPU_TIMEOUT;
use crate::error::GpuError;
use crate::exec::{CpuExec, GpuExec, Task};
use crate::expr::program::Program;
use crate::expr::Expr;
use crate::gpu::{Gpu, InjectedFault};
use crate::op::{Op, Reduce};

/// Empty, one element, around a workgroup, around a tile, a short last
/// tile, and over `SERIAL_BELOW` (parallel tasks on the CPU side).
const LENGTHS: [usize; 9] = [0, 1, 255, 257, TILE - 1, TILE, TILE + 1, 3 * TILE + 5, 1 << 20 | 3];
/// GPU shares: none, some, half, all.
const SHARES: [f64; 4] = [0.0, 0.3, 0.5, 1.0];

#[test]
fn split_point_rounds_to_tiles_and_clamps() {
    assert_eq!(split_point(10 * TILE, 0.3), 3 * TILE);
    assert_eq!(split_point(10 * TILE, 0.34), 3 * TILE);
    assert_eq!(split_point(10 * TILE, 0.36), 4 * TILE);
    assert_eq!(split_point(100, 0.5), 0, "half of less than a tile rounds to none");
    assert_eq!(split_point(TILE - 1, 0.6), TILE - 1, "rounds up to a tile, clamped to the length");
    assert_eq!(split_point(1000, 1.0), 1000);
    assert_eq!(split_point(1000, 7.0), 1000);
    for share in [0.0, -0.5, f64::NAN, f64::NEG_INFINITY] {
        assert_eq!(split_point(10 * TILE, share), 0, "share {share}");
    }
    assert_eq!(split_point(0, 0.5), 0);
    assert_eq!(split_point(usize::MAX, 0.5) % TILE, 0);
}

#[test]
fn op_jobs_match_the_cpu() {
    let Some(gpu) = open_gpu(None) else { return };
    let engine = engine();
    check_op_jobs::<f32>(&engine, &gpu);
    check_op_jobs::<i32>(&engine, &gpu);
    if gpu.info().shader_f64 {
        check_op_jobs::<f64>(&engine, &gpu);
    }
}

#[test]
fn expression_jobs_match_the_evaluator() {
    let Some(gpu) = open_gpu(None) else { return };
    let engine = engine();
    check_expr_jobs::<f32>(&engine, &gpu);
    check_expr_jobs::<i32>(&engine, &gpu);
    if gpu.info().shader_f64 {
        check_expr_jobs::<f64>(&engine, &gpu);
    }
}

#[test]
fn gpu_partials_are_the_first_level_of_the_cpu() {
    let Some(gpu) = open_gpu(None) else { return };
    let mut rng = Rng(7);
    for n in LENGTHS {
        let xs: Vec<f32> = data(&mut rng, n, false, &[]);
        let program = Program::of_op(Some(Op::Square), DType::F32).expect("square compiles for f32");
        let before = gpu.transfers();
        let got: Vec<f32> =
            gpu.map_reduce_partials(&program, &[Column::of(&xs)], n, Reduce::Sum).expect("GPU partials");
        let want = cpu::map_partials(&xs, Some(Op::Square), Reduce::Sum);
        assert_eq!(got.len(), tiles(n));
        assert!(got.iter().zip(&want).all(|(&g, &w)| same(g, w)), "partials of {n}: {got:?} vs {want:?}");
        let read = gpu.transfers().since(&before).readback_bytes;
        assert_eq!(read, (tiles(n) * size_of::<f32>()) as u64, "readback of {n} elements' partials counted");
    }
}

#[test]
fn a_gpu_fault_reruns_the_gpu_part_on_the_cpu() {
    // A GPU of its own: the injected fault must meet this test's job.
    let Some(gpu) = open_gpu(None) else { return };
    let engine = engine();
    let mut rng = Rng(11);
    let n = 3 * TILE + 5;
    let xs: Vec<f32> = data(&mut rng, n, false, &[]);
    let k = split_point(n, 0.5);
    assert!(k > 0);
    // Checks the fault, then that the GPU works again: a clean job also
    // keeps the faults from adding up to an unhealthy GPU.
    let injected = |what: &str, fault: Option<GpuError>| {
        assert!(matches!(fault, Some(GpuError::Validation(_))), "{what}: fault {fault:?}");
        let (_, fault) = op_reduce(&engine, &gpu, &xs, None, Reduce::Sum, k);
        assert!(fault.is_none(), "the GPU works again after a fault in the {what}: {fault:?}");
    };

    gpu.inject(InjectedFault::Validation);
    let (sum, fault) = op_reduce(&engine, &gpu, &xs, Some(Op::Square), Reduce::Sum, k);
    injected("op reduce", fault);
    assert!(same(sum, cpu::map_reduce(&xs, Some(Op::Square), Reduce::Sum)));

    gpu.inject(InjectedFault::Validation);
    let mut out = vec![0.0f32; n];
    injected("op map", op_map(&engine, &gpu, &xs, &mut out, Op::Square, k));
    let mut want = vec![0.0f32; n];
    cpu::map_into(&xs, &mut want, Op::Square);
    assert!(out.iter().zip(&want).all(|(&g, &w)| same(g, w)), "op map after a fault");

    let program = expr_program::<f32>();
    let columns = [Column::of(&xs), Column::of(&xs)];
    gpu.inject(InjectedFault::Validation);
    let (max, fault) = expr_reduce::<f32>(&engine, &gpu, &program, &columns, n, Reduce::Max, k);
    injected("expression reduce", fault);
    assert!(same(max, eval::map_reduce(&program, &columns, n, Reduce::Max)));

    gpu.inject(InjectedFault::Validation);
    let mut out = vec![0.0f32; n];
    injected("expression map", expr_map(&engine, &gpu, &program, &columns, &mut out, k));
    eval::map_into(&program, &columns, &mut want);
    assert!(out.iter().zip(&want).all(|(&g, &w)| same(g, w)), "expression map after a fault");
}

#[test]
fn a_gpu_part_of_several_chunks_matches_the_cpu() {
    let Some(gpu) = open_gpu(Some(4 << 20)) else { return };
    let engine = engine();
    let mut rng = Rng(13);
    let n = 3 << 20 | 5;
    let xs: Vec<f32> = data(&mut rng, n, false, &[]);
    let k = split_point(n, 0.9);
    assert!(k * size_of::<f32>() > 2 * (4 << 20), "the GPU's part spans three chunks or more");
    for reduce in Reduce::ALL {
        let (got, fault) = op_reduce(&engine, &gpu, &xs, Some(Op::Square), reduce, k);
        assert!(fault.is_none(), "{reduce}: {fault:?}");
        assert!(same(got, cpu::map_reduce(&xs, Some(Op::Square), reduce)), "{reduce} of squares over {n}");
    }
    let mut out = vec![0.0f32; n];
    assert!(op_map(&engine, &gpu, &xs, &mut out, Op::Square, k).is_none());
    let mut want = vec![0.0f32; n];
    cpu::map_into(&xs, &mut want, Op::Square);
    assert!(out.iter().zip(&want).all(|(&g, &w)| same(g, w)), "squares over {n}");

    let program = expr_program::<f32>();
    let columns = [Column::of(&xs), Column::of(&out)];
    let (got, fault) = expr_reduce::<f32>(&engine, &gpu, &program, &columns, n, Reduce::Sum, k);
    assert!(fault.is_none(), "{fault:?}");
    assert!(same(got, eval::map_reduce(&program, &columns, n, Reduce::Sum)), "expression sum over {n}");
}

/// Every reduction, bare and of squares, and the map of squares, on
/// finite data and on data with infinities or a NaN, split at each share.
fn check_op_jobs<T: Sample>(engine: &rayon::ThreadPool, gpu: &Gpu) {
    let mut rng = Rng(T::DTYPE.size() as u64 + 3);
    for n in LENGTHS {
        for plant in T::plants() {
            let xs = data::<T>(&mut rng, n, false, &plant);
            let near_one = data::<T>(&mut rng, n, true, &plant);
            for reduce in Reduce::ALL {
                // Products of values near one stay finite long enough to test the order.
                let input = if reduce == Reduce::Product { &near_one } else { &xs };
                for map in [None, Some(Op::Square)] {
                    let want = cpu::map_reduce(input, map, reduce);
                    for share in SHARES {
                        let k = split_point(n, share);
                        let (got, fault) = op_reduce(engine, gpu, input, map, reduce, k);
                        let what = format!("{reduce} of {map:?} over {n} {}, {plant:?} planted, GPU {k}", T::DTYPE);
                        assert!(fault.is_none(), "{what}: {fault:?}");
                        assert!(same(got, want), "{what}: {got:?}, want {want:?}");
                    }
                }
            }
            let mut want = vec![T::default(); n];
            cpu::map_into(&xs, &mut want, Op::Square);
            for share in SHARES {
                let k = split_point(n, share);
                let mut out = vec![T::default(); n];
                let fault = op_map(engine, gpu, &xs, &mut out, Op::Square, k);
                assert!(fault.is_none(), "square over {n} {}, GPU {k}: {fault:?}", T::DTYPE);
                let wrong = out.iter().zip(&want).position(|(&g, &w)| !same(g, w));
                assert_eq!(wrong, None, "square over {n} {}, {plant:?} planted, GPU {k}", T::DTYPE);
            }
        }
    }
}

/// An expression that reads two inputs and the index `i` (so each side
/// must number its elements right), mapped and reduced, split at each
/// share. Finite data only: a GPU compiler may assume no NaN or infinity.
fn check_expr_jobs<T: Sample>(engine: &rayon::ThreadPool, gpu: &Gpu) {
    let program = expr_program::<T>();
    let mut rng = Rng(T::DTYPE.size() as u64 + 5);
    for n in LENGTHS {
        let (x, y) = (data::<T>(&mut rng, n, false, &[]), data::<T>(&mut rng, n, false, &[]));
        let columns = [Column::of(&x), Column::of(&y)];
        let mut want = vec![T::default(); n];
        eval::map_into(&program, &columns, &mut want);
        for share in SHARES {
            let k = split_point(n, share);
            let mut out = vec![T::default(); n];
            let fault = expr_map(engine, gpu, &program, &columns, &mut out, k);
            assert!(fault.is_none(), "map over {n} {}, GPU {k}: {fault:?}", T::DTYPE);
            let wrong = out.iter().zip(&want).position(|(&g, &w)| !same(g, w));
            assert_eq!(wrong, None, "map over {n} {}, GPU {k}", T::DTYPE);
            for reduce in Reduce::ALL {
                let want = eval::map_reduce::<T>(&program, &columns, n, reduce);
                let (got, fault) = expr_reduce::<T>(engine, gpu, &program, &columns, n, reduce, k);
                assert!(fault.is_none(), "{reduce} over {n} {}, GPU {k}: {fault:?}", T::DTYPE);
                assert!(same(got, want), "{reduce} over {n} {}, GPU {k}: {got:?}, want {want:?}", T::DTYPE);
            }
        }
    }
}

/// `min(x * y, x) - T(i % 1000)` over inputs `x` and `y` of `T`: no
/// multiply feeds an add, so no GPU compiler can fuse one into an FMA.
fn expr_program<T: Element>() -> Program {
    let t = T::DTYPE;
    let expr = Expr::parse(&format!("min(x * y, x) - {t}(i % 1000)")).expect("the test expression parses");
    Program::compile(&expr, &[("x", t), ("y", t)], t).expect("the test expression compiles")
}

/// A pool of its own, so that the CPU executor installs work there while
/// the GPU's part runs on a thread of its own.
fn engine() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool of two threads")
}

/// [`super::reduce`] of `map(xs)`, the GPU taking `[0, k)`.
fn op_reduce<T: Element>(
    pool: &rayon::ThreadPool,
    gpu: &Gpu,
    xs: &[T],
    map: Option<Op>,
    reduce: Reduce,
    k: usize,
) -> (T, Option<GpuError>) {
    let program = Program::of_op(map, T::DTYPE).expect("the op compiles");
    expr_reduce(pool, gpu, &program, &[Column::of(xs)], xs.len(), reduce, k)
}

/// [`super::map`] of `op(xs)` into `out`, the GPU taking `[0, k)`.
fn op_map<T: Element>(
    pool: &rayon::ThreadPool,
    gpu: &Gpu,
    xs: &[T],
    out: &mut [T],
    op: Op,
    k: usize,
) -> Option<GpuError> {
    let program = Program::of_op(Some(op), T::DTYPE).expect("the op compiles");
    expr_map(pool, gpu, &program, &[Column::of(xs)], out, k)
}

/// [`super::reduce`] of `program(columns)`, `n` elements, the GPU taking `[0, k)`.
fn expr_reduce<T: Element>(
    pool: &rayon::ThreadPool,
    gpu: &Gpu,
    program: &Program,
    columns: &[Column<'_>],
    n: usize,
    reduce: Reduce,
    k: usize,
) -> (T, Option<GpuError>) {
    super::reduce(&GpuExec::new(gpu), &CpuExec::new(Some(pool)), Task::new(program, columns, n), reduce, k)
}

/// [`super::map`] of `program(columns)` into `out`, the GPU taking `[0, k)`.
fn expr_map<T: Element>(
    pool: &rayon::ThreadPool,
    gpu: &Gpu,
    program: &Program,
    columns: &[Column<'_>],
    out: &mut [T],
    k: usize,
) -> Option<GpuError> {
    let task = Task::new(program, columns, out.len());
    super::map(&GpuExec::new(gpu), &CpuExec::new(Some(pool)), task, out, k)
}

/// The GPU, with transfers cut at `chunk_bytes`; `None` (the test is
/// skipped) without an adapter, unless `SWATH_REQUIRE_GPU=1`.
fn open_gpu(chunk_bytes: Option<u64>) -> Option<Gpu> {
    match Gpu::open(DEFAULT_GPU_TIMEOUT, chunk_bytes) {
        Ok(gpu) => Some(gpu),
        Err(why) if std::env::var("SWATH_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("SWATH_REQUIRE_GPU=1 but no GPU adapter: {why}")
        }
        Err(why) => {
            eprintln!("skipped: no GPU adapter ({why})");
            None
        }
    }
}

/// Equal bits, except that any NaN equals any NaN: a NaN's sign and
/// payload may differ between devices (see the expression docs).
fn same<T: Element>(a: T, b: T) -> bool {
    bytemuck::bytes_of(&a) == bytemuck::bytes_of(&b) || (a.is_nan() && b.is_nan())
}

/// `n` random non-zero values, with `plant` written at evenly spread
/// places (so that a split puts some on each side).
fn data<T: Sample>(rng: &mut Rng, n: usize, near_one: bool, plant: &[T]) -> Vec<T> {
    let mut xs: Vec<T> = (0..n).map(|_| T::sample(rng, near_one)).collect();
    for (j, &value) in plant.iter().enumerate() {
        if n > 0 {
            xs[(j + 1) * n / (plant.len() + 1)] = value;
        }
    }
    xs
}

/// xorshift64: reproducible data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Test values of an element type.
trait Sample: Element {
    /// A random non-zero value; `near_one` keeps long products from
    /// overflowing (floats near 1, odd integers).
    fn sample(rng: &mut Rng, near_one: bool) -> Self;
    /// Sets of special values to plant in the data, the empty set first.
    fn plants() -> Vec<Vec<Self>>;
}

/// A random non-zero float: a sign, a mantissa and an exponent in
/// [-4, 4], so sums depend on their order; or one within 1% of 1.
fn float(rng: &mut Rng, near_one: bool) -> f64 {
    if near_one {
        return 1.0 + (rng.unit() - 0.5) / 64.0;
    }
    let magnitude = (1.0 + rng.unit()) * 2f64.powi((rng.next() % 9) as i32 - 4);
    if rng.next() & 1 == 0 {
        magnitude
    } else {
        -magnitude
    }
}

impl Sample for f32 {
    fn sample(rng: &mut Rng, near_one: bool) -> f32 {
        float(rng, near_one) as f32
    }

    fn plants() -> Vec<Vec<f32>> {
        vec![vec![], vec![f32::INFINITY, f32::INFINITY], vec![f32::NEG_INFINITY, f32::NAN]]
    }
}

impl Sample for f64 {
    fn sample(rng: &mut Rng, near_one: bool) -> f64 {
        float(rng, near_one)
    }

    fn plants() -> Vec<Vec<f64>> {
        vec![vec![], vec![f64::INFINITY, f64::INFINITY], vec![f64::NEG_INFINITY, f64::NAN]]
    }
}

impl Sample for i32 {
    fn sample(rng: &mut Rng, near_one: bool) -> i32 {
        let x = rng.next() as i32;
        match (near_one, x) {
            (true, x) => x | 1,
            (false, 0) => 1,
            (false, x) => x,
        }
    }

    fn plants() -> Vec<Vec<i32>> {
        vec![vec![], vec![i32::MIN, i32::MAX]]
    }
}
