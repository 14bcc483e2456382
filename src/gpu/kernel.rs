//! WGSL kernels: what identifies one, how its source is assembled, and
//! the layout of its parameters.
//!
//! A kernel's source is a generated header (types, the `Params` uniform,
//! the bindings, the expression as `fn apply` from [`crate::expr`]'s
//! lowering, the reduction as `fn combine`) followed by files from
//! `shaders/`. No user text and no constant value ever reaches the source.

use crate::canonical::{LANES, ROWS};
use crate::dtype::DType;
use crate::expr::program::{Scalar, Structure};
use crate::expr::wgsl;
use crate::extreme::Extreme;
use crate::op::Reduce;
use std::fmt::Write;
use std::sync::Arc;

const COMMON: &str = include_str!("../../shaders/common.wgsl");
const FLOAT_F32: &str = include_str!("../../shaders/float_f32.wgsl");
const FLOAT_F64: &str = include_str!("../../shaders/float_f64.wgsl");
const FILTER: &str = include_str!("../../shaders/filter.wgsl");
const FMOD_F32: &str = include_str!("../../shaders/fmod_f32.wgsl");
const KEEP: &str = include_str!("../../shaders/keep.wgsl");
const MAP: &str = include_str!("../../shaders/map.wgsl");
const REDUCE: &str = include_str!("../../shaders/reduce.wgsl");
const SCAN_APPLY: &str = include_str!("../../shaders/scan_apply.wgsl");
const SCAN_TOTALS: &str = include_str!("../../shaders/scan_totals.wgsl");
const ARGBEST: &str = include_str!("../../shaders/argbest.wgsl");
const HISTOGRAM: &str = include_str!("../../shaders/histogram.wgsl");

/// Identifies one compiled pipeline: the expression's structure (not its
/// constants' values, which travel in the uniform, so a new constant
/// reuses the pipeline) and what the kernel does with its values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Kernel {
    pub structure: Arc<Structure>,
    pub kind: Kind,
}

/// What a kernel does with the values of its expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// Writes each value (`shaders/map.wgsl`).
    Map,
    /// One level of this reduction (`shaders/reduce.wgsl`).
    Reduce(Reduce),
    /// Each tile's total in this scan's order (`shaders/scan_totals.wgsl`).
    ScanTotals(Reduce),
    /// Each tile's scan, offset by the scanned totals of the tiles before
    /// it, read from a `carry` binding after the inputs (`shaders/scan_apply.wgsl`).
    ScanApply(Reduce),
    /// Writes the values of each tile where a predicate holds, in order
    /// (`shaders/filter.wgsl`). The structure is a predicate's
    /// `predicate_steps` steps followed by the values' steps: see
    /// [`filter::merge`].
    Filter { predicate_steps: usize },
    /// Each tile's first extreme value and its index (`shaders/argbest.wgsl`).
    ArgBest(Extreme),
    /// Counts of values per bin (`shaders/histogram.wgsl`).
    Histogram,
}

impl Kind {
    /// The reduction whose `combine` (and identity) the kernel uses.
    pub fn reduce(self) -> Option<Reduce> {
        match self {
            Kind::Map | Kind::Filter { .. } | Kind::Histogram => None,
            Kind::Reduce(reduce) | Kind::ScanTotals(reduce) | Kind::ScanApply(reduce) => Some(reduce),
            Kind::ArgBest(extreme) => Some(extreme.reduce()),
        }
    }

    /// The shader file that follows the generated header.
    fn body(self) -> &'static str {
        match self {
            Kind::Map => MAP,
            Kind::Reduce(_) => REDUCE,
            Kind::ScanTotals(_) => SCAN_TOTALS,
            Kind::ScanApply(_) => SCAN_APPLY,
            Kind::Filter { .. } => FILTER,
            Kind::ArgBest(_) => ARGBEST,
            Kind::Histogram => HISTOGRAM,
        }
    }
}

impl Kernel {
    /// The kernels a job over `structure` runs: one map kernel, or a
    /// reduction's first level (over the structure) and the later levels
    /// (over the partials).
    pub fn of_job(structure: &Arc<Structure>, reduce: Option<Reduce>) -> Vec<Kernel> {
        match reduce {
            None => vec![Kernel::map(structure)],
            Some(reduce) => Kernel::reduce_levels(structure, reduce).to_vec(),
        }
    }

    /// The map kernel of `structure`.
    pub fn map(structure: &Arc<Structure>) -> Kernel {
        Kernel { structure: Arc::clone(structure), kind: Kind::Map }
    }

    /// A reduction's kernel for its first level and for the later ones.
    pub fn reduce_levels(structure: &Arc<Structure>, reduce: Reduce) -> [Kernel; 2] {
        let rest = Structure::identity(structure.output());
        [
            Kernel { structure: Arc::clone(structure), kind: Kind::Reduce(reduce) },
            Kernel { structure: Arc::new(rest), kind: Kind::Reduce(reduce) },
        ]
    }

    /// The output type.
    pub fn output(&self) -> DType {
        self.structure.output()
    }

    /// A short name for labels and logs.
    pub fn label(&self) -> String {
        let steps = self.structure.steps.len();
        match self.kind {
            Kind::Map => format!("swath map ({steps} steps) to {}", self.output()),
            Kind::Reduce(r) => format!("swath {r} ({steps} steps) of {}", self.output()),
            Kind::ScanTotals(r) => format!("swath {r} scan totals ({steps} steps) of {}", self.output()),
            Kind::ScanApply(r) => format!("swath {r} scan ({steps} steps) of {}", self.output()),
            Kind::Filter { .. } => format!("swath filter ({steps} steps) of {}", self.output()),
            Kind::ArgBest(e) => format!("swath {} ({steps} steps) of {}", e.name(), self.output()),
            Kind::Histogram => format!("swath histogram ({steps} steps) of {}", self.output()),
        }
    }

    /// The fields of the `Params` uniform, in declaration order, with
    /// their byte offsets: `n` and `offset`, then 8-byte fields, then
    /// 4-byte ones, so no field needs padding before it.
    pub fn layout(&self) -> Layout {
        let mut fields = vec![Field::new(Slot::N, DType::U32), Field::new(Slot::Offset, DType::U32)];
        let identity = self.kind.reduce().map(|_| Field::new(Slot::Identity, self.output()));
        let consts = self.structure.consts.iter().enumerate().map(|(k, &t)| Field::new(Slot::Const(k), t));
        let zero = Field::new(Slot::Zero, DType::U32);
        let rest: Vec<Field> = identity.into_iter().chain(consts).chain([zero]).collect();
        let (wide, narrow): (Vec<Field>, Vec<Field>) = rest.into_iter().partition(|f| f.dtype.size() == 8);
        fields.extend(wide.into_iter().chain(narrow));
        let mut end = 0;
        for field in &mut fields {
            field.offset = end;
            end += field.dtype.size();
        }
        Layout { fields, size: end.next_multiple_of(16) }
    }

    /// The complete WGSL source of this kernel.
    pub fn source(&self) -> String {
        let mut header = format!("alias U = {};\n", self.output().wgsl());
        let _ = writeln!(header, "const LANES: u32 = {LANES}u;\nconst ROWS: u32 = {ROWS}u;\n");
        header.push_str("struct Params {\n");
        for field in self.layout().fields {
            let _ = writeln!(header, "    {}: {},", field.slot, field.dtype.wgsl());
        }
        header.push_str("}\n\n@group(0) @binding(0) var<uniform> params: Params;\n");
        let _ = writeln!(header, "@group(0) @binding(1) var<storage, read_write> dst: {};", self.dst());
        for (slot, dtype) in self.structure.inputs.iter().enumerate() {
            let _ = writeln!(header, "@group(0) @binding({}) var<storage, read> in{slot}: array<{dtype}>;", slot + 2);
        }
        let mut floats = wgsl::float_min_max(&self.structure);
        let output = self.output();
        if matches!(self.kind.reduce(), Some(Reduce::Min | Reduce::Max))
            && output.is_float()
            && !floats.contains(&output)
        {
            floats.push(output);
        }
        for float in floats {
            header.push('\n');
            header.push_str(if float == DType::F64 { FLOAT_F64 } else { FLOAT_F32 });
        }
        if wgsl::uses_fmod_f32(&self.structure) {
            let _ = write!(header, "\n{FMOD_F32}");
        }
        let apply = match self.kind {
            Kind::Filter { predicate_steps } => filter::functions(&self.structure, predicate_steps),
            _ => wgsl::apply_fn(&self.structure),
        };
        let _ = write!(header, "\n{KEEP}\n{apply}");
        if let Some(reduce) = self.kind.reduce() {
            let _ = writeln!(header, "\nfn combine(a: U, b: U) -> U {{ return {}; }}", combine(reduce, output));
        }
        header.push_str(&self.extra());
        format!("{header}\n{COMMON}\n{}", self.kind.body())
    }

    /// The type of the output binding `dst`.
    fn dst(&self) -> &'static str {
        match self.kind {
            Kind::Histogram => "array<atomic<u32>>",
            _ => "array<U>",
        }
    }

    /// Declarations of the kinds that bind more than `dst` and the inputs
    /// (their extra bindings follow the inputs), from their own modules.
    fn extra(&self) -> String {
        match self.kind {
            Kind::ArgBest(extreme) => super::argbest::header(&self.structure, extreme),
            Kind::Histogram => super::histogram::header(&self.structure),
            Kind::ScanApply(_) => {
                let binding = self.structure.inputs.len() + 2;
                format!("@group(0) @binding({binding}) var<storage, read> carry: array<U>;\n")
            }
            Kind::Map | Kind::Reduce(_) | Kind::ScanTotals(_) | Kind::Filter { .. } => String::new(),
        }
    }
}

fn combine(reduce: Reduce, output: DType) -> String {
    match (reduce, output.is_float()) {
        (Reduce::Sum, _) => "a + b".into(),
        (Reduce::Product, _) => "a * b".into(),
        (Reduce::Min, true) => format!("min_nan_{output}(a, b)"),
        (Reduce::Max, true) => format!("max_nan_{output}(a, b)"),
        (Reduce::Min, false) => "min(a, b)".into(),
        (Reduce::Max, false) => "max(a, b)".into(),
    }
}

/// What a field of the `Params` uniform holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Slot {
    /// Valid elements in this dispatch.
    N,
    /// Index of the dispatch's first element in the whole job.
    Offset,
    /// The reduction's identity.
    Identity,
    /// Constant `k` of the expression.
    Const(usize),
    /// Always 0, unknown to the shader compiler: see `shaders/keep.wgsl`.
    Zero,
}

impl std::fmt::Display for Slot {
    /// The field's name in WGSL.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Slot::N => f.write_str("n"),
            Slot::Offset => f.write_str("offset"),
            Slot::Identity => f.write_str("identity"),
            Slot::Const(k) => write!(f, "c{k}"),
            Slot::Zero => f.write_str("zero"),
        }
    }
}

/// One field of the `Params` uniform.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub slot: Slot,
    pub dtype: DType,
    pub offset: usize,
}

impl Field {
    fn new(slot: Slot, dtype: DType) -> Field {
        Field { slot, dtype, offset: 0 }
    }
}

/// Where each field of a kernel's `Params` lives, and its size.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub fields: Vec<Field>,
    /// Bytes of the struct, rounded up to 16.
    pub size: usize,
}

impl Layout {
    /// The uniform's bytes for one dispatch of `n` elements starting at
    /// element `offset`, with the reduction identity (if the kernel has
    /// one) and the constants' values.
    pub fn bytes(&self, n: u32, offset: u32, identity: Option<Scalar>, consts: &[Scalar]) -> Vec<u8> {
        let mut bytes = vec![0u8; self.size];
        for field in &self.fields {
            let value = match field.slot {
                Slot::N => Some(Scalar::U32(n)),
                Slot::Offset => Some(Scalar::U32(offset)),
                Slot::Identity => identity,
                Slot::Const(k) => consts.get(k).copied(),
                Slot::Zero => Some(Scalar::U32(0)),
            };
            // The caller passes every value the kernel declares.
            let Some(value) = value else { continue };
            let raw = value.to_le_bytes();
            bytes[field.offset..][..raw.len()].copy_from_slice(&raw);
        }
        bytes
    }
}

pub(super) mod filter;
#[cfg(test)]
mod tests;
