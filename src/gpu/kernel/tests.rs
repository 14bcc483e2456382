//! Every kernel swath can generate is valid WGSL, checked with naga so no
//! adapter is needed, and its `Params` layout is the one naga computes.

use super::*;
use crate::expr::program::Program;
use crate::expr::{index, select, var, Binary, Expr, Unary};
use crate::extreme::Extreme;
use crate::op::Op;

fn module(source: &str) -> Result<(naga::Module, naga::valid::ModuleInfo), String> {
    let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
        .validate(&module)
        .map_err(|e| e.emit_to_string(source))?;
    Ok((module, info))
}

fn kernels(program: &Program) -> Vec<Kernel> {
    let kinds = [Kind::Map, Kind::Reduce(Reduce::Sum), Kind::Reduce(Reduce::Product)];
    let kinds = kinds.into_iter().chain([Kind::Reduce(Reduce::Min), Kind::Reduce(Reduce::Max)]);
    let scans = Reduce::ALL.into_iter().flat_map(|r| [Kind::ScanTotals(r), Kind::ScanApply(r)]);
    kinds.chain(scans).map(|kind| Kernel { structure: program.structure.clone(), kind }).collect()
}

/// Checks that each kernel of `program` is valid and that naga lays out
/// `Params` where [`Kernel::layout`] says.
fn check(program: &Program, what: &str) {
    for kernel in kernels(program) {
        let source = kernel.source();
        let (module, _) =
            module(&source).unwrap_or_else(|e| panic!("{what} ({}) is invalid WGSL:\n{e}", kernel.label()));
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).expect("layout");
        let params = module.types.iter().find(|(_, t)| t.name.as_deref() == Some("Params")).expect("Params");
        let naga::TypeInner::Struct { members, span } = &params.1.inner else { panic!("Params is a struct") };
        let layout = kernel.layout();
        assert_eq!(members.len(), layout.fields.len(), "{what}");
        for (member, field) in members.iter().zip(&layout.fields) {
            assert_eq!(member.name.as_deref(), Some(field.slot.to_string().as_str()), "{what}");
            assert_eq!(member.offset as usize, field.offset, "{what}: offset of {}", field.slot);
        }
        assert!(*span as usize <= layout.size, "{what}: Params is {span} bytes, the binding {}", layout.size);
    }
}

#[test]
fn every_op_kernel_is_valid_wgsl() {
    for dtype in DType::ALL {
        for op in Op::ALL.into_iter().map(Some).chain([None]) {
            let gpu_has_it = op.is_none_or(|op| op.check(dtype).is_ok())
                && !(dtype == DType::F64 && matches!(op, Some(Op::Exp | Op::Log | Op::Sin | Op::Cos)));
            if gpu_has_it {
                let program = Program::of_op(op, dtype).unwrap();
                assert!(wgsl::unsupported(&program.structure).is_none());
                check(&program, &format!("{op:?} on {dtype}"));
            }
        }
    }
}

#[test]
fn every_function_operator_and_cast_is_valid_wgsl() {
    let (x, y) = (var("x"), var("y"));
    for dtype in DType::ALL {
        let inputs = [("x", dtype), ("y", dtype)];
        let mut exprs: Vec<Expr> = Vec::new();
        for op in Unary::ALL.into_iter().filter(|&op| op != Unary::Not) {
            if dtype.is_float() || !op.is_float_only() {
                exprs.push(x.clone().unary(op));
            }
        }
        for op in Binary::ALL.into_iter().filter(|op| !op.is_comparison() && !op.is_logical()) {
            if dtype.is_float() || op != Binary::Pow {
                exprs.push(x.clone().binary(op, y.clone()) + 1);
            }
        }
        for op in Binary::ALL.into_iter().filter(|op| op.is_comparison()) {
            let cond = x.clone().binary(op, y.clone());
            exprs.push(select(cond.clone().and(!cond.clone().or(x.clone().lt(2))), x.clone(), 0));
        }
        for from in DType::ALL {
            exprs.push(x.clone().cast(from).cast(dtype));
        }
        exprs.push(index().cast(dtype) * x.clone());
        exprs.push(x.clone().gt(0).cast(dtype));
        for expr in exprs {
            let program = Program::compile(&expr, &inputs, dtype).unwrap_or_else(|e| panic!("{expr}: {e}"));
            if wgsl::unsupported(&program.structure).is_none() {
                check(&program, &format!("{expr} on {dtype}"));
            }
        }
    }
}

#[test]
fn mixed_types_and_many_constants_lay_out_like_naga() {
    let inputs = [("a", DType::F32), ("b", DType::F64), ("c", DType::I32), ("d", DType::U32)];
    // f64(a * 1.5 + f32(c % 3)) * b + 2.25 + f64(d / 7)
    let e = (var("a") * 1.5 + (var("c") % 3).cast(DType::F32)).cast(DType::F64) * var("b")
        + 2.25
        + (var("d") / 7).cast(DType::F64);
    let program = Program::compile(&e, &inputs, DType::F64).unwrap();
    assert_eq!(program.structure.inputs, [DType::F32, DType::I32, DType::F64, DType::U32]);
    check(&program, "mixed");
    let mut many = var("a");
    for k in 0..100 {
        many = many * (k as f64 + 0.5);
    }
    check(&Program::compile(&many, &inputs, DType::F32).unwrap(), "100 constants");
}

#[test]
fn a_constant_changes_the_uniform_not_the_kernel() {
    let inputs = [("x", DType::F32)];
    let one = Program::compile(&(var("x") * 2.0), &inputs, DType::F32).unwrap();
    let two = Program::compile(&(var("x") * 3.0), &inputs, DType::F32).unwrap();
    assert_eq!(one.structure, two.structure);
    assert_ne!(one.consts, two.consts);
    let kernel = Kernel::map(&one.structure);
    assert!(!kernel.source().contains("2.0") && !kernel.source().contains("3.0"));
}

#[test]
fn every_shader_file_is_used_and_valid() {
    let float_min = Program::compile(&var("x").min(var("y")), &[("x", DType::F32), ("y", DType::F32)], DType::F32);
    let double_min = Program::compile(&var("x").min(var("y")), &[("x", DType::F64), ("y", DType::F64)], DType::F64);
    let float_rem = Program::compile(&(var("x") % var("y")), &[("x", DType::F32), ("y", DType::F32)], DType::F32);
    let programs = [float_min.unwrap(), double_min.unwrap(), float_rem.unwrap()];
    let sources: Vec<String> = programs.iter().flat_map(kernels).map(|k| k.source()).collect();
    let sources = [sources, vec![filter_kernel("x", "x > 0", DType::F32).source()]].concat();
    let sources: Vec<String> =
        sources.into_iter().chain(programs.iter().flat_map(primitive_kernels).map(|k| k.source())).collect();
    for (name, text) in [
        ("common", COMMON),
        ("filter", FILTER),
        ("float_f32", FLOAT_F32),
        ("float_f64", FLOAT_F64),
        ("fmod_f32", FMOD_F32),
        ("keep", KEEP),
        ("map", MAP),
        ("reduce", REDUCE),
        ("scan_apply", SCAN_APPLY),
        ("scan_totals", SCAN_TOTALS),
        ("argbest", ARGBEST),
        ("histogram", HISTOGRAM),
    ] {
        let source = sources.iter().find(|s| s.contains(text)).unwrap_or_else(|| panic!("{name}.wgsl is unused"));
        module(source).unwrap_or_else(|e| panic!("{name}.wgsl: {e}"));
    }
    let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders")).unwrap().count();
    assert_eq!(on_disk, 12, "a new shader file must be added to this test");
}

/// The write kernel of a filter of `values` where `predicate` holds,
/// over `x` of `dtype` and `y` of f32.
fn filter_kernel(values: &str, predicate: &str, dtype: DType) -> Kernel {
    let inputs = [("x", dtype), ("y", DType::F32)];
    let values = Program::compile(&Expr::parse(values).unwrap(), &inputs, dtype).unwrap();
    let predicate = Expr::parse(predicate).unwrap().cast(DType::U32);
    let predicate = Program::compile(&predicate, &inputs, DType::U32).unwrap();
    let merged = filter::merge(&values, &predicate);
    Kernel { structure: merged.program.structure, kind: Kind::Filter { predicate_steps: merged.predicate_steps } }
}

#[test]
fn every_filter_kernel_is_valid_wgsl() {
    let cases = [
        ("x", "x > x"),
        ("x * x + x", "y > 0.5 && i % 3 == 0"),
        ("x", "!(y != y) || min(y, 2.0) < 1.5"),
        ("min(x, x) + x", "x != x || y % 2.0 == 1.0"),
        ("x", "i % 3 == 0"),
        ("max(x, x * 2)", "y == 3.25 && x < 7"),
    ];
    for dtype in DType::ALL {
        for (values, predicate) in cases {
            let kernel = filter_kernel(values, predicate, dtype);
            let what = format!("filter of {values} where {predicate} over {dtype}");
            let source = kernel.source();
            let (module, _) = module(&source).unwrap_or_else(|e| panic!("{what} is invalid WGSL:\n{e}"));
            let params = module.types.iter().find(|(_, t)| t.name.as_deref() == Some("Params")).expect("Params");
            let naga::TypeInner::Struct { members, .. } = &params.1.inner else { panic!("Params is a struct") };
            let names: Vec<String> = kernel.layout().fields.iter().map(|f| f.slot.to_string()).collect();
            assert_eq!(members.iter().map(|m| m.name.clone().unwrap()).collect::<Vec<_>>(), names, "{what}");
            let offsets = format!("@binding({}) var<storage, read> tile_offsets", 2 + kernel.structure.inputs.len());
            assert!(source.contains(&offsets), "{what}: the offsets follow the inputs");
        }
    }
}

#[test]
fn a_filter_binds_a_column_both_read_once() {
    let kernel = filter_kernel("x * 2", "x > 0 && y < 1", DType::F32);
    assert_eq!(kernel.structure.inputs, [DType::F32, DType::F32]);
    let kernel = filter_kernel("x", "x > 1", DType::I32);
    assert_eq!(kernel.structure.inputs, [DType::I32]);
}

/// The kernels of argmin, argmax and histograms over `program`.
fn primitive_kernels(program: &Program) -> Vec<Kernel> {
    let kinds = [Kind::ArgBest(Extreme::Min), Kind::ArgBest(Extreme::Max), Kind::Histogram];
    kinds.into_iter().map(|kind| Kernel { structure: program.structure.clone(), kind }).collect()
}

#[test]
fn every_argbest_and_histogram_kernel_is_valid_wgsl() {
    for dtype in DType::ALL {
        let inputs = [("x", dtype), ("y", dtype)];
        for expr in [var("x"), var("x").min(var("y")) + 1, index().cast(dtype) * var("x")] {
            let program = Program::compile(&expr, &inputs, dtype).unwrap();
            for kernel in primitive_kernels(&program) {
                module(&kernel.source())
                    .unwrap_or_else(|e| panic!("{expr} ({}) is invalid WGSL:\n{e}", kernel.label()));
            }
        }
    }
}
