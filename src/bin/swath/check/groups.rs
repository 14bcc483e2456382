//! What is checked: a group is one job shape on one element type (a map by one op, a reduction, a scan,
//! an expression, a primitive), run at every length of the check. The list follows swath's public API:
//! every `Op`, every `Reduce` alone, fused and as both scans, the classes of expressions whose accuracy
//! `swath::expr` documents, and every primitive.

use super::compare::Rule;
use super::data::{Flavor, Recipe};
use swath::{DType, Op, Reduce, Scan};

/// Half-width of the range most float inputs are drawn from.
const SPAN: f64 = 4.0;

/// Bins of the histogram groups, and keys of the bincount groups.
pub const BINS: usize = 64;
pub const KEYS: usize = 1000;

/// The predicate of filter, filter_indices and partition, over the value and the index, for every type.
/// One predicate: the three share its GPU kernels (a software adapter takes a second or so to compile
/// each filter's).
pub const PREDICATE: &str = "x > 1 || i % 5 == 0";

/// One class of expressions and the contract it is checked under.
#[derive(Debug)]
pub struct ExprCase {
    /// The text; `T` stands for the element type's name, as in the cast `T(i)`.
    pub text: &'static str,
    /// Types the expression is defined for.
    pub types: &'static [DType],
    /// True where `swath::expr` bounds the float result instead of fixing it.
    pub bounded: bool,
    /// Why the check cannot hold f64 to any promise, if it cannot.
    pub no_f64_promise: Option<&'static str>,
}

const FLOATS: &[DType] = &[DType::F32, DType::F64];
const INTEGERS: &[DType] = &[DType::I32, DType::U32];
const ALL: &[DType] = &DType::ALL;

const fn case(text: &'static str, types: &'static [DType], bounded: bool) -> ExprCase {
    ExprCase { text, types, bounded, no_f64_promise: None }
}

/// The expression classes: arithmetic, select and comparisons, rounding, division and remainder,
/// transcendental functions, several inputs and the index.
pub const EXPRESSIONS: &[ExprCase] = &[
    case("(a - b) * (a + c)", ALL, false),
    ExprCase {
        no_f64_promise: Some("an f64 multiply-add may be fused by the GPU compiler (f64 steps have no barrier)"),
        ..case("a * b + c", ALL, false)
    },
    case("select(a > b || a == c, a - b, min(b, c))", ALL, false),
    case("max(a, b) - abs(c)", ALL, false),
    case("floor(a) + ceil(b) - round(c * 4)", FLOATS, false),
    case("a / (abs(b) + 1)", FLOATS, true),
    case("a % b", FLOATS, false),
    case("a / (b % 9)", INTEGERS, false),
    case("a % (b % 9)", INTEGERS, false),
    case("tanh(a)", FLOATS, true),
    case("pow(abs(a) + 0.5, b)", FLOATS, true),
    case("(a + b) * (c - d)", ALL, false),
    case("select(i % 3 == 0, a, T(i))", ALL, false),
];

/// The job shape of a group.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Map(Op),
    Reduce(Reduce),
    /// An op fused into a reduction: one pass.
    MapReduce(Op, Reduce),
    Scan(Scan),
    Expr(&'static ExprCase),
    Filter,
    FilterIndices,
    Partition,
    Argmin,
    Argmax,
    Histogram,
    Bincount,
}

/// One job shape on one element type.
#[derive(Debug, Clone)]
pub struct Group {
    pub kind: Kind,
    pub dtype: DType,
    /// Also checked at the length one past the GPU's largest storage binding, in the full run.
    pub large: bool,
    /// As the report names it: `map f32 square`.
    pub name: String,
}

impl Group {
    fn new(kind: Kind, dtype: DType) -> Group {
        let name = match kind {
            Kind::Map(op) => format!("map {dtype} {op}"),
            Kind::Reduce(reduce) => format!("reduce {dtype} {reduce}"),
            Kind::MapReduce(Op::Square, Reduce::Sum) => format!("map-reduce {dtype} sumsq"),
            Kind::MapReduce(op, reduce) => format!("map-reduce {dtype} {op} {reduce}"),
            Kind::Scan(scan) => {
                let kind = if scan.exclusive { "exclusive" } else { "inclusive" };
                format!("scan {dtype} {kind} {}", scan.reduce)
            }
            Kind::Expr(case) => format!("expr {dtype} {}", case.text.replace('T', dtype.name())),
            Kind::Filter => format!("filter {dtype} {PREDICATE}"),
            Kind::FilterIndices => format!("filter-indices {dtype} {PREDICATE}"),
            Kind::Partition => format!("partition {dtype} {PREDICATE}"),
            Kind::Argmin => format!("argmin {dtype}"),
            Kind::Argmax => format!("argmax {dtype}"),
            Kind::Histogram => format!("histogram {dtype} {BINS} bins"),
            Kind::Bincount => format!("bincount {dtype} {KEYS} keys"),
        };
        // One group of each kind that reads or writes a whole array, on f32, goes past the binding.
        let large = dtype == DType::F32
            && matches!(
                kind,
                Kind::Map(Op::Square)
                    | Kind::Reduce(Reduce::Sum)
                    | Kind::MapReduce(..)
                    | Kind::Scan(Scan { reduce: Reduce::Sum, exclusive: false })
                    | Kind::Filter
                    | Kind::Argmax
                    | Kind::Histogram
            );
        Group { kind, dtype, large, name }
    }

    /// The expression's text for this group's type.
    pub fn expr_text(&self) -> Option<String> {
        match self.kind {
            Kind::Expr(case) => Some(case.text.replace('T', self.dtype.name())),
            _ => None,
        }
    }

    /// The inputs' flavors: data with specials for most; floats reduced or scanned also without them
    /// (a NaN makes every later sum NaN); expressions over finite values, as their contract is.
    pub fn flavors(&self) -> &'static [Flavor] {
        match self.kind {
            Kind::Expr(_) => &[Flavor::Zeros],
            Kind::Reduce(_) | Kind::MapReduce(..) | Kind::Scan(_) if self.dtype.is_float() => {
                &[Flavor::Plain, Flavor::Special]
            }
            _ => &[Flavor::Special],
        }
    }

    /// How the inputs are drawn, in the domain where each op's accuracy is promised.
    pub fn recipe(&self, flavor: Flavor) -> Recipe {
        let product =
            matches!(self.kind, Kind::Reduce(Reduce::Product) | Kind::Scan(Scan { reduce: Reduce::Product, .. }));
        let float_range = match self.kind {
            // Factors near 1: a product of a million of them neither under- nor overflows.
            _ if product => (0.99, 1.01),
            Kind::Map(Op::Sqrt | Op::Log) => (0.01, 10.0),
            Kind::Map(Op::Exp) => (-10.0, 10.0),
            // The f32 just below pi keeps the rounded inputs inside [-pi, pi].
            Kind::Map(Op::Sin | Op::Cos) => {
                (-f64::from(std::f32::consts::PI.next_down()), f64::from(std::f32::consts::PI.next_down()))
            }
            Kind::Histogram => (-SPAN - 1.0, SPAN + 1.0),
            _ => (-SPAN, SPAN),
        };
        let range = match (self.kind, self.dtype) {
            (_, DType::F32 | DType::F64) => Some(float_range),
            (Kind::Bincount, DType::I32) => Some((-100.0, KEYS as f64 + 100.0)),
            (Kind::Bincount, _) => Some((0.0, KEYS as f64 + 100.0)),
            _ => None,
        };
        Recipe { range, flavor, odd: product }
    }

    /// The histogram's range: past the data for floats, inside the type for integers.
    pub fn histogram_range(&self) -> (f64, f64) {
        match self.dtype {
            DType::I32 => (-f64::from(1 << 30), f64::from(1 << 30)),
            DType::U32 => (f64::from(1 << 30), f64::from(3u32 << 30)),
            _ => (-SPAN, SPAN),
        }
    }

    /// The contract of this group's values (see [`super::compare`]); a fused f64 sum's bound depends
    /// on the data, and is set where the data is.
    pub fn rule(&self) -> Rule {
        let float = self.dtype.is_float();
        match self.kind {
            _ if !float => Rule::Bits,
            Kind::Map(Op::Sin | Op::Cos) => Rule::SIN_COS,
            Kind::Map(op) if !op.is_exact() => Rule::Relative,
            Kind::Map(_) | Kind::MapReduce(..) => Rule::Value,
            Kind::Expr(case) if case.bounded => Rule::Relative,
            Kind::Expr(_) => Rule::Value,
            _ => Rule::Bits,
        }
    }
}

/// Every group for every element type, types in order.
pub fn all() -> Vec<Group> {
    DType::ALL.into_iter().flat_map(|dtype| kinds(dtype).into_iter().map(move |kind| Group::new(kind, dtype))).collect()
}

/// The job shapes defined for `dtype`: an op the type does not have is no group of it.
fn kinds(dtype: DType) -> Vec<Kind> {
    let mut kinds: Vec<Kind> = Op::ALL
        .into_iter()
        .map(|op| with_scalars_for(op, dtype))
        .filter(|op| op.check(dtype).is_ok())
        .map(Kind::Map)
        .collect();
    kinds.extend(Reduce::ALL.map(Kind::Reduce));
    kinds.push(Kind::MapReduce(Op::Square, Reduce::Sum));
    kinds.extend(Reduce::ALL.into_iter().flat_map(|r| [Scan::inclusive(r), Scan::exclusive(r)]).map(Kind::Scan));
    kinds.extend(EXPRESSIONS.iter().filter(|case| case.types.contains(&dtype)).map(Kind::Expr));
    kinds.extend([Kind::Filter, Kind::FilterIndices, Kind::Partition, Kind::Argmin, Kind::Argmax, Kind::Histogram]);
    if !dtype.is_float() {
        kinds.push(Kind::Bincount);
    }
    kinds
}

/// `op` with scalars `dtype` holds: integers scale the examples of `Op::ALL` (0.5, -1, 2, 3) by 2^29,
/// so that full-range data is neither clamped nearly whole nor left alone.
fn with_scalars_for(op: Op, dtype: DType) -> Op {
    if dtype.is_float() {
        return op;
    }
    let fit = |s: f64| {
        let scaled = (s * f64::from(1u32 << 29)).round();
        if dtype == DType::U32 {
            scaled.abs()
        } else {
            scaled
        }
    };
    match op {
        Op::Add(s) => Op::Add(fit(s)),
        Op::Mul(s) => Op::Mul(fit(s)),
        Op::Min(s) => Op::Min(fit(s)),
        Op::Max(s) => Op::Max(fit(s)),
        Op::Clamp { lo, hi } => Op::Clamp { lo: fit(lo), hi: fit(hi) },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_every_shape_it_supports() {
        let groups = all();
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        for name in ["map f32 square", "map i32 add:1610612736", "reduce u32 product", "map-reduce f64 sumsq"] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        for name in ["scan i32 exclusive max", "expr u32 select(i % 3 == 0, a, u32(i))", "bincount i32 1000 keys"] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        assert!(!names.iter().any(|name| name.starts_with("map i32 sqrt") || name.starts_with("bincount f32")));
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "names are unique");
        assert_eq!(groups.iter().filter(|g| g.large).count(), 7);
    }

    #[test]
    fn every_expression_parses_for_its_types() {
        for group in all() {
            if let Some(text) = group.expr_text() {
                let expr: swath::expr::Expr = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
                let inputs: Vec<(&str, DType)> = expr.inputs().into_iter().map(|name| (name, group.dtype)).collect();
                assert!(expr.check(&inputs, group.dtype).is_ok(), "{}", group.name);
            }
        }
    }
}
