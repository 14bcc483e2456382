//! The job `swath run` asks for: an op or an expression, then a reduction, a scan, a filter or
//! nothing, over the named input arrays.

use crate::cli::RunArgs;
use crate::failure::Failure;
use swath::expr::{index, var, Expr};
use swath::{Element, Inputs, Job, Scan};

/// The names of the arrays the job reads, in order of first use: the expression's inputs (`x` for
/// an op or none), then any others the filter's predicate reads.
pub fn input_names(args: &RunArgs) -> Vec<String> {
    let mut names: Vec<String> = match &args.expr {
        Some(expr) => expr.inputs().into_iter().map(String::from).collect(),
        None if args.filter_indices.is_some() => Vec::new(),
        None => vec!["x".into()],
    };
    for predicate in [&args.filter, &args.filter_indices].into_iter().flatten() {
        for name in predicate.inputs() {
            if !names.iter().any(|known| known == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The job for the chosen op or expression, and reduction, scan or filter, over `inputs` (all the
/// arrays, `x` among them unless an expression names others); clap makes sure there is work and that
/// at most one of the last three is asked for.
pub fn job<'a, T: Element>(inputs: Inputs<'a>, x: &'a [T], args: &RunArgs) -> Result<Job<'a, T>, Failure> {
    let job = values_job(inputs, x, args)?;
    Ok(match (args.argmin, args.argmax, args.histogram, args.range) {
        (true, _, _, _) => job.into_argmin(),
        (_, true, _, _) => job.into_argmax(),
        (_, _, Some(bins), Some((lo, hi))) => job.into_histogram(bins, lo, hi),
        _ => job,
    })
}

/// The map, reduction, scan or filter the command line asks for.
fn values_job<'a, T: Element>(inputs: Inputs<'a>, x: &'a [T], args: &RunArgs) -> Result<Job<'a, T>, Failure> {
    let then = (args.reduce, scan(args), &args.filter);
    Ok(match (&args.expr, args.op, then) {
        (None, None, (Some(reduce), _, _)) => Job::reduce(x, reduce),
        (None, None, (None, Some(scan), _)) => Job::scan(x, scan),
        (None, None, (None, None, Some(predicate))) => Job::expr(inputs, var("x")).filtered(predicate.clone()),
        (expr, op, then) => {
            let map = match (expr, op) {
                (Some(expr), _) => Job::expr(inputs, expr.clone()),
                (None, Some(op)) => Job::map(x, op),
                (None, None) => Job::expr(inputs, var("x")),
            };
            match then {
                (Some(reduce), _, _) => map.reduced(reduce),
                (None, Some(scan), _) => map.scanned(scan),
                (None, None, Some(predicate)) => map.filtered(predicate.clone()),
                (None, None, None) => map,
            }
        }
    })
}

/// The indices where `predicate` holds over `inputs`.
pub fn indices<'a>(inputs: Inputs<'a>, predicate: &Expr) -> Job<'a, u32> {
    Job::expr(inputs, index()).filtered(predicate.clone())
}

/// The scan `--scan` and `--exclusive` ask for.
fn scan(args: &RunArgs) -> Option<Scan> {
    args.scan.map(|reduce| if args.exclusive { Scan::exclusive(reduce) } else { Scan::inclusive(reduce) })
}

/// The job in words, for the report's first line.
pub fn describe(args: &RunArgs) -> String {
    if let Some(predicate) = &args.filter_indices {
        return format!("indices where `{predicate}`");
    }
    let map = args.op.map(|op| op.to_string()).or(args.expr.as_ref().map(|e| format!("`{e}`")));
    let values = || map.clone().unwrap_or_else(|| "of x".into());
    if args.argmin || args.argmax {
        let name = if args.argmin { "argmin" } else { "argmax" };
        return format!("{name} {}", values());
    }
    if let (Some(bins), Some((lo, hi))) = (args.histogram, args.range) {
        return format!("histogram {} in {bins} bins over [{lo}, {hi}]", values());
    }
    match (map, args.reduce, scan(args), &args.filter) {
        (Some(map), Some(reduce), _, _) => format!("map {map} fused into reduce {reduce}"),
        (Some(map), None, Some(scan), _) => format!("map {map} fused into an {scan}"),
        (Some(map), None, None, Some(predicate)) => format!("map {map} where `{predicate}`"),
        (Some(map), None, None, None) => format!("map {map}"),
        (None, Some(reduce), _, _) => format!("reduce {reduce}"),
        (None, None, Some(scan), _) => format!("{scan}"),
        (None, None, None, Some(predicate)) => format!("filter where `{predicate}`"),
        (None, None, None, None) => "nothing".into(),
    }
}
