//! The evaluator against a per-element reference, on every operation and
//! type, at lengths that take the serial and the parallel paths; and its
//! reductions against `cpu::map_reduce` over the mapped values. Every
//! map on the calling thread also runs with the baseline loops forced,
//! which must give the bits of the AVX2 ones (see `super::loops`).

mod reference;

use super::loops::baseline_only;
use super::{map_into, map_reduce};
use crate::column::Column;
use crate::cpu;
use crate::dtype::{DType, Element};
use crate::expr::program::Program;
use crate::expr::{index, lit, select, var, Binary, Expr, Unary};
use crate::op::Reduce;
use reference::{data, element, Data, V};

/// Empty, one element, under a tile, just over a tile (two chunks of a
/// map, a short last tile), and over `SERIAL_BELOW` (parallel tasks).
const LENGTHS: [usize; 5] = [0, 1, 255, 4097, 100_003];

/// Inputs `x` and `y` of `dtype`, plus `f` (f32), `d` (f64), `s` (i32)
/// and `u` (u32).
fn inputs(dtype: DType) -> Vec<(&'static str, DType)> {
    vec![("x", dtype), ("y", dtype), ("f", DType::F32), ("d", DType::F64), ("s", DType::I32), ("u", DType::U32)]
}

/// Checks `expr` over [`inputs`] of `dtype` at every length in [`LENGTHS`].
fn check(expr: &Expr, dtype: DType, output: DType) {
    check_at_lengths(expr, dtype, output, &LENGTHS);
}

/// [`check`] at `lengths`: variants of an operation checked at every
/// length elsewhere skip the longest, to keep the tests fast.
fn check_at_lengths(expr: &Expr, dtype: DType, output: DType, lengths: &[usize]) {
    let types = inputs(dtype);
    let program = match Program::compile(expr, &types, output) {
        Ok(program) => program,
        Err(e) => panic!("`{expr}` over {dtype}: {e}"),
    };
    for &n in lengths {
        let data: Vec<Data> = types.iter().enumerate().map(|(k, &(_, t))| data(t, n, k % 2 == 1)).collect();
        let columns: Vec<Column<'_>> = data.iter().map(Data::column).collect();
        by_num!(output, U => check_at::<U>(expr, &program, &columns, n));
    }
}

fn check_at<U: Element>(expr: &Expr, program: &Program, columns: &[Column<'_>], n: usize) {
    let mut out = vec![U::default(); n];
    map_into(program, columns, &mut out);
    if n < cpu::SERIAL_BELOW {
        let mut baseline = vec![U::default(); n];
        baseline_only(|| map_into(program, columns, &mut baseline));
        let bits = |x: &U| bytemuck::bytes_of(x).to_vec();
        if let Some(i) = (0..n).find(|&i| bits(&baseline[i]) != bits(&out[i])) {
            let (base, avx2) = (baseline[i], out[i]);
            panic!(
                "`{expr}` at {i} of {n}: baseline loops {base:?}, AVX2 {avx2:?}, inputs {:?}",
                inputs_at(columns, i)
            );
        }
    }
    let mut scratch = Vec::new();
    for i in 0..n {
        let want = element(program, columns, i, &mut scratch);
        let got = V::read(Column::of(&out[i..=i]), 0);
        assert!(
            want.same(got),
            "`{expr}` at {i} of {n}: want {want:?}, got {got:?}, inputs {:?}",
            inputs_at(columns, i)
        );
    }
    for reduce in Reduce::ALL {
        if n == 0 && !reduce.has_identity() {
            continue;
        }
        let want = cpu::map_reduce(&out, None, reduce);
        let got: U = map_reduce(program, columns, n, reduce);
        assert!(
            V::read(Column::of(&[want]), 0).same(V::read(Column::of(&[got]), 0)),
            "{reduce} of `{expr}` over {n}: want {want:?}, got {got:?}"
        );
    }
}

fn inputs_at(columns: &[Column<'_>], i: usize) -> Vec<V> {
    columns.iter().map(|&c| V::read(c, i)).collect()
}

/// A constant of `dtype` worth testing as an operand.
fn constants(dtype: DType) -> [f64; 2] {
    match dtype {
        DType::F32 | DType::F64 => [0.0, -2.5],
        DType::I32 => [0.0, -1.0],
        DType::U32 => [0.0, 3.0],
    }
}

#[test]
fn unary_operations_on_every_type() {
    for dtype in DType::ALL {
        for op in Unary::ALL {
            if op == Unary::Not || (op.is_float_only() && !dtype.is_float()) {
                continue;
            }
            check(&var("x").unary(op), dtype, dtype);
        }
    }
}

#[test]
fn arithmetic_on_every_type_with_slices_and_constants() {
    let ops = [Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Rem, Binary::Pow, Binary::Min, Binary::Max];
    for dtype in DType::ALL {
        for op in ops {
            if op == Binary::Pow && !dtype.is_float() {
                continue;
            }
            check(&var("x").binary(op, var("y")), dtype, dtype);
            for c in constants(dtype) {
                check_at_lengths(&var("x").binary(op, c), dtype, dtype, &LENGTHS[..4]);
                check_at_lengths(&lit(c).binary(op, var("y")), dtype, dtype, &LENGTHS[..4]);
            }
        }
    }
}

#[test]
fn comparisons_and_logic() {
    let comparisons = [Binary::Lt, Binary::Le, Binary::Gt, Binary::Ge, Binary::Eq, Binary::Ne];
    for dtype in DType::ALL {
        for op in comparisons {
            check(&var("x").binary(op, var("y")).cast(DType::U32), dtype, DType::U32);
            check(&var("x").binary(op, 1).cast(DType::F32), dtype, DType::F32);
        }
        let (a, b) = (var("x").lt(var("y")), var("y").ge(0));
        check(&a.clone().and(b.clone()).cast(DType::I32), dtype, DType::I32);
        check(&a.clone().or(b).cast(DType::I32), dtype, DType::I32);
        check(&(!a).cast(DType::F64), dtype, DType::F64);
    }
}

#[test]
fn select_with_every_operand_shape() {
    for dtype in DType::ALL {
        let (x, y) = (var("x"), var("y"));
        let c = || x.clone().gt(y.clone());
        check(&select(c(), x.clone(), y.clone()), dtype, dtype);
        check(&select(c(), x.clone(), 1), dtype, dtype);
        check(&select(c(), 2, y.clone()), dtype, dtype);
        check(&select(c(), 2, 3), dtype, dtype);
        check(&select(lit(1.0).gt(0), x.clone(), y.clone()), dtype, dtype);
        // A select of conditions.
        check(&select(c(), x.clone().lt(0), y.clone().lt(0)).cast(dtype), dtype, dtype);
    }
}

#[test]
fn casts_between_every_pair_of_types() {
    for from in DType::ALL {
        for to in DType::ALL {
            check(&var("x").cast(to), from, to);
            check(&(var("x").cast(to) + 1).cast(from), from, from);
        }
        check(&var("x").gt(var("y")).cast(from), from, from);
    }
}

#[test]
fn index_constants_and_leaves() {
    check(&index(), DType::F32, DType::U32);
    check(&(index().cast(DType::F32) * 0.5), DType::F32, DType::F32);
    check(&(index() + var("u")), DType::F32, DType::U32);
    check(&(index().cast(DType::I32) - var("s")), DType::F32, DType::I32);
    // Steps of constants only fold to one value.
    check(&(lit(2.0) + lit(3.0)), DType::F32, DType::F32);
    check(&(lit(7.0) / lit(0.0)), DType::F32, DType::I32);
    check(&lit(5.0), DType::F32, DType::F64);
    check(&(var("x") * (lit(2.0) + lit(3.0)).sqrt()), DType::F32, DType::F32);
    // A program that is one input copies it.
    for dtype in DType::ALL {
        check(&var("x"), dtype, dtype);
    }
}

#[test]
fn deep_expressions_reuse_registers() {
    let (x, y) = (var("x"), var("y"));
    let deep = ((&x * &y + &x) * (&y - x.clone().sq())).max(&x / (&y + 1)) - (&x + &y).sq();
    for dtype in DType::ALL {
        check(&deep, dtype, dtype);
    }
    let mixed = (var("f") * var("s").cast(DType::F32) + index().cast(DType::F32)).cast(DType::F64) * var("d")
        + select(var("u").gt(7).and(var("s").lt(0)), var("d"), var("u").cast(DType::F64));
    check(&mixed, DType::F32, DType::F64);
    let fma = var("f") * var("x") + var("f").cast(DType::F64).cast(DType::F32);
    check(&fma, DType::F32, DType::F32);
}

/// Small jobs share each thread's spare registers: a job after a longer
/// one, or after another program whose values are still in them, must
/// compute every element from its own steps.
#[test]
fn small_jobs_after_others_see_no_stale_registers() {
    let (x, y) = (var("x"), var("y"));
    let wide = (&x * &y + &x) * (&y - x.clone().sq()) + (index().cast(DType::F64) * var("d"));
    let narrow = (&x - &y).sq().max(x.clone().abs());
    for lengths in [[2000, 3, 700], [1, 1500, 9]] {
        check_at_lengths(&wide, DType::F64, DType::F64, &lengths);
        check_at_lengths(&narrow, DType::F32, DType::F32, &lengths);
        check_at_lengths(&narrow, DType::I32, DType::I32, &lengths);
    }
}

/// A shared subtree is one step, which a step may read twice (`a + a`):
/// its register is freed once, so no later step takes it twice.
#[test]
fn a_step_that_reads_one_operand_twice() {
    let twice = index().cast(DType::I32);
    let e = &twice + &twice + (-var("s") + var("s"));
    check(&e, DType::I32, DType::I32);
    let c = var("x").gt(1);
    let both = select(c.clone(), &twice * &twice, var("s")) + select(c.clone().and(c), var("s"), &twice);
    check(&both, DType::I32, DType::I32);
}

#[test]
fn reduction_of_one_negative_zero_keeps_its_canonical_bits() {
    let xs = [-0.0f32];
    let program = Program::compile(&var("x"), &[("x", DType::F32)], DType::F32).expect("compiles");
    for reduce in Reduce::ALL {
        let got: f32 = map_reduce(&program, &[Column::F32(&xs)], 1, reduce);
        assert_eq!(got.to_bits(), cpu::map_reduce(&xs, None, reduce).to_bits(), "{reduce}");
    }
}
