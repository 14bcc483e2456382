//! WGSL kernels: which ones exist and how their source is assembled.
//!
//! A kernel's source is a generated header (element type, tile constants,
//! the op and the reduction as one-line functions taken from the fixed
//! tables below) followed by `shaders/common.wgsl` and the kernel body.
//! No user text ever reaches the source.

use crate::canonical::{LANES, ROWS};
use crate::dtype::DType;
use crate::op::{OpKind, Reduce};

const COMMON: &str = include_str!("../../shaders/common.wgsl");
const MAP: &str = include_str!("../../shaders/map.wgsl");
const REDUCE: &str = include_str!("../../shaders/reduce.wgsl");

/// Identifies one compiled pipeline: what it computes, not its scalars
/// (those travel in the uniform), so a new scalar reuses the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Kernel {
    pub dtype: DType,
    /// The element-wise op; `None` is the identity.
    pub op: Option<OpKind>,
    /// `None` for a map kernel, else one level of this reduction.
    pub reduce: Option<Reduce>,
}

impl Kernel {
    /// A short name for labels and logs.
    pub fn label(&self) -> String {
        let op = self.op.map_or("id".to_string(), |op| format!("{op:?}").to_lowercase());
        match self.reduce {
            None => format!("swath map {op} {}", self.dtype),
            Some(r) => format!("swath reduce {r}({op}) {}", self.dtype),
        }
    }

    /// The complete WGSL source of this kernel.
    pub fn source(&self) -> String {
        let t = self.dtype;
        let mut header = String::new();
        header.push_str(&format!("alias T = {};\n", t.wgsl()));
        header.push_str(&format!("const LANES: u32 = {LANES}u;\nconst ROWS: u32 = {ROWS}u;\n"));
        header.push_str(&format!("fn is_nan(x: T) -> bool {{ return {}; }}\n", is_nan_expr(t)));
        let apply = self.op.map_or("x", |op| op_expr(op, t));
        header.push_str(&format!("fn apply(x: T) -> T {{ return {apply}; }}\n"));
        if let Some(reduce) = self.reduce {
            header.push_str(&format!("fn combine(a: T, b: T) -> T {{ return {}; }}\n", combine_expr(reduce)));
        }
        let body = if self.reduce.is_some() { REDUCE } else { MAP };
        format!("{header}\n{COMMON}\n{body}")
    }
}

fn is_nan_expr(t: DType) -> &'static str {
    match t {
        // Bit tests: drivers may assume no NaNs exist and fold `x != x` to
        // false. WGSL has no 64-bit integers, so f64 narrows to f32 first;
        // the conversion keeps NaN a NaN and turns large values into inf.
        DType::F32 => "(bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u",
        DType::F64 => "(bitcast<u32>(f32(x)) & 0x7fffffffu) > 0x7f800000u",
        DType::I32 | DType::U32 => "false",
    }
}

/// The WGSL expression of an op over `x`, with scalars `params.a`, `params.b`.
fn op_expr(op: OpKind, t: DType) -> &'static str {
    match op {
        OpKind::Square => "x * x",
        OpKind::Abs => "abs(x)",
        OpKind::Neg if t == DType::U32 => "0u - x",
        OpKind::Neg => "-x",
        OpKind::Sqrt => "sqrt(x)",
        OpKind::Exp => "exp(x)",
        OpKind::Log => "log(x)",
        OpKind::Sin => "sin(x)",
        OpKind::Cos => "cos(x)",
        OpKind::Add => "x + params.a",
        OpKind::Mul => "x * params.a",
        OpKind::Min => "min_nan(x, params.a)",
        OpKind::Max => "max_nan(x, params.a)",
        OpKind::Clamp => "min_nan(max_nan(x, params.a), params.b)",
    }
}

fn combine_expr(reduce: Reduce) -> &'static str {
    match reduce {
        Reduce::Sum => "a + b",
        Reduce::Product => "a * b",
        Reduce::Min => "min_nan(a, b)",
        Reduce::Max => "max_nan(a, b)",
    }
}

/// True if this op has a kernel for this element type. Float-only ops have
/// no integer kernels; f64 transcendentals have none because Vulkan's
/// GLSL.std.450 defines them for 16- and 32-bit floats only.
pub(crate) fn exists(op: Option<OpKind>, t: DType) -> bool {
    use OpKind::*;
    match op {
        Some(Sqrt) => t.is_float(),
        Some(Exp | Log | Sin | Cos) => t == DType::F32,
        _ => true,
    }
}

/// Every kernel swath can build: each op (and the identity) as a map and
/// fused into each reduction, for every element type.
#[cfg(test)]
pub(crate) fn all() -> Vec<Kernel> {
    use OpKind::*;
    let ops = [
        None,
        Some(Square),
        Some(Abs),
        Some(Neg),
        Some(Sqrt),
        Some(Exp),
        Some(Log),
        Some(Sin),
        Some(Cos),
        Some(Add),
        Some(Mul),
        Some(Min),
        Some(Max),
        Some(Clamp),
    ];
    let reduces = [None, Some(Reduce::Sum), Some(Reduce::Product), Some(Reduce::Min), Some(Reduce::Max)];
    let mut kernels = Vec::new();
    for dtype in DType::ALL {
        for op in ops.into_iter().filter(|&op| exists(op, dtype)) {
            for reduce in reduces {
                kernels.push(Kernel { dtype, op, reduce });
            }
        }
    }
    kernels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(source: &str) -> Result<(), String> {
        let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
            .validate(&module)
            .map(|_| ())
            .map_err(|e| e.emit_to_string(source))
    }

    #[test]
    fn every_kernel_is_valid_wgsl() {
        let kernels = all();
        assert!(kernels.len() > 200, "expected every op x reduce x dtype, got {}", kernels.len());
        for kernel in kernels {
            if let Err(e) = validate(&kernel.source()) {
                panic!("{} is invalid WGSL:\n{e}", kernel.label());
            }
        }
    }

    #[test]
    fn every_shader_file_is_used_and_valid() {
        // Each file in shaders/ must be part of some kernel, and valid there.
        for (name, text) in [("common.wgsl", COMMON), ("map.wgsl", MAP), ("reduce.wgsl", REDUCE)] {
            let kernel =
                all().into_iter().find(|k| k.source().contains(text)).unwrap_or_else(|| panic!("{name} is unused"));
            validate(&kernel.source()).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders")).unwrap().count();
        assert_eq!(on_disk, 3, "a new shader file must be added to this test");
    }
}
