//! Stage fusion: a pipeline's element-wise stages whose arrays nobody
//! keeps are folded into the stages that read them, so a chain of maps
//! is one pass over memory (one kernel on the GPU) instead of one pass,
//! and one intermediate array, per stage.
//!
//! A stage is *inlined* when the caller does not keep it, it maps rather
//! than reduces, and every stage that reads it ends up computed by one
//! run stage: its expression is substituted for its name there. A stage
//! read by two run stages is materialised instead, since inlining it
//! would compute it twice; and a stage nothing reads is not computed at
//! all. Substitution shares the inlined tree, so a stage read twice
//! within one run stage (`y * y` over `y = ...`) still compiles to one
//! step per element.
//!
//! Fusion changes no bits: each stage's value is converted to the
//! stage's element type exactly where its array would have been written
//! (a cast to the value's own type is no step), and every step rounds as
//! it did in its own stage.

use super::run::Known;
use super::StageSpec;
use crate::error::Result;
use crate::exec::chain::Stage;
use crate::expr::program::Program;
use crate::expr::Expr;

/// Deepest fused expression: past it, a stage's inlined inputs are
/// materialised instead, so fusion never makes a program too deep to
/// compile or too long for one GPU kernel.
const MAX_FUSED_DEPTH: usize = 64;

/// Most distinct nodes of a fused expression, for the same reason.
const MAX_FUSED_NODES: usize = 256;

/// The stages that run after fusion, and where each checked stage went.
pub(crate) struct Fused {
    pub stages: Vec<Stage>,
    /// For each checked stage, its index in `stages` if it runs as a
    /// stage of its own (every kept stage does).
    pub runs: Vec<Option<usize>>,
}

/// How a checked stage is computed.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Fate {
    /// As a run stage of its own.
    Runs,
    /// Inside the run stage that reads it.
    Inlined,
    /// Not at all: nothing reads it and nobody keeps it.
    Dead,
}

/// Fuses the checked `stages` (described by `specs`) over the `known`
/// arrays: the pipeline's inputs, then one per stage.
pub(crate) fn fuse(known: &[Known], specs: &[StageSpec], stages: Vec<Stage>) -> Result<Fused> {
    let first_stage = known.len() - stages.len();
    let mut fates = fates(&stages, first_stage);
    let exprs = fused_exprs(specs, &stages, first_stage, &mut fates);
    let types: Vec<(&str, crate::DType)> = known.iter().map(|k| (k.name.as_str(), k.dtype)).collect();
    let mut runs = vec![None; stages.len()];
    let mut fused = Vec::new();
    for (j, stage) in stages.into_iter().enumerate() {
        if fates[j] != Fate::Runs {
            continue;
        }
        let Some(expr) = &exprs[j] else { unreachable!("a run stage has an expression") };
        let mut program = Program::compile(expr, &types, specs[j].dtype)?;
        program.check_len(stage.len)?;
        // Columns index the known arrays; the chain counts its inputs,
        // then only the stages that run.
        let reads = std::mem::take(&mut program.columns)
            .into_iter()
            .map(|k| if k < first_stage { k } else { first_stage + runs[k - first_stage].expect("runs earlier") })
            .collect();
        program.columns = (0..program.structure.inputs.len()).collect();
        runs[j] = Some(fused.len());
        fused.push(Stage { program, reads, ..stage });
    }
    Ok(Fused { stages: fused, runs })
}

/// The fate of each stage, from the last to the first: a stage is
/// inlined when all its live readers end up in one run stage.
fn fates(stages: &[Stage], first_stage: usize) -> Vec<Fate> {
    let mut fates = vec![Fate::Dead; stages.len()];
    // The run stage that computes each stage, once its fate is known.
    let mut home: Vec<Option<usize>> = vec![None; stages.len()];
    for j in (0..stages.len()).rev() {
        let stage = &stages[j];
        if stage.keep || stage.reduce.is_some() {
            (fates[j], home[j]) = (Fate::Runs, Some(j));
            continue;
        }
        let readers = (j + 1..stages.len()).filter(|&r| stages[r].reads.contains(&(first_stage + j)));
        let mut homes = readers.filter_map(|r| home[r]);
        let Some(first) = homes.next() else { continue };
        if homes.all(|h| h == first) {
            (fates[j], home[j]) = (Fate::Inlined, Some(first));
        } else {
            (fates[j], home[j]) = (Fate::Runs, Some(j));
        }
    }
    fates
}

/// Each live stage's expression with its inlined inputs substituted,
/// first to last. A stage whose fused expression would pass the size
/// limits materialises its inlined inputs instead.
fn fused_exprs(specs: &[StageSpec], stages: &[Stage], first_stage: usize, fates: &mut [Fate]) -> Vec<Option<Expr>> {
    let mut exprs: Vec<Option<Expr>> = vec![None; stages.len()];
    for j in 0..stages.len() {
        if fates[j] == Fate::Dead {
            continue;
        }
        let inlined: Vec<usize> = stages[j]
            .reads
            .iter()
            .filter_map(|&k| k.checked_sub(first_stage))
            .filter(|&s| fates[s] == Fate::Inlined)
            .collect();
        let mut expr = substituted(&specs[j].expr, &inlined, specs, &exprs);
        if expr.depth() > MAX_FUSED_DEPTH || expr.nodes() > MAX_FUSED_NODES {
            inlined.iter().for_each(|&s| fates[s] = Fate::Runs);
            expr = specs[j].expr.clone();
        }
        exprs[j] = Some(expr);
    }
    exprs
}

/// `expr` with the name of each stage in `inlined` replaced by that
/// stage's fused expression, converted to the stage's element type.
fn substituted(expr: &Expr, inlined: &[usize], specs: &[StageSpec], exprs: &[Option<Expr>]) -> Expr {
    inlined.iter().fold(expr.clone(), |expr, &s| {
        let Some(value) = &exprs[s] else { unreachable!("an inlined stage is live") };
        expr.substitute(&specs[s].name, &value.cast(specs[s].dtype))
    })
}
