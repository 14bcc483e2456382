//! `swath square`: the smallest job, a map of `x * x` over numbers from the command line.

use crate::cli::SquareArgs;
use crate::failure::Failure;
use crate::format::list;
use std::io::Write;
use swath::{Op, Policy};

/// Squares the numbers and prints them as `[1, 4, 9]`.
pub fn run(args: &SquareArgs, policy: Option<Policy>, out: &mut impl Write) -> Result<(), Failure> {
    let engine = crate::engine::open(policy, None)?;
    let squares = engine.map(&args.numbers, Op::Square)?;
    writeln!(out, "{}", list(&squares))?;
    Ok(())
}
