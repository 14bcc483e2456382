//! Expression jobs on the engine: [`Engine::eval`] and friends, and the
//! executors that route a compiled expression to the GPU or the CPU.

use super::{Engine, Outcome};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::expr::program::{Program, Step};
use crate::expr::{eval, wgsl, Expr, Unary};
use crate::gpu::Stopwatch;
use crate::inputs::Inputs;
use crate::op::Reduce;
use crate::schedule::{Device, ExprShape, Location, Policy, Shape, SMALL_JOB};

/// An expression job compiled against its inputs, ready to route.
pub(super) struct Prepared<'j, 'a> {
    pub program: Program,
    pub inputs: &'j Inputs<'a>,
    pub len: usize,
}

impl Engine {
    /// `expr` evaluated at every element of the zipped `inputs`, as a new
    /// vector of `U` (the expression's type must be `U`).
    ///
    /// ```
    /// use swath::{expr::Expr, Engine, Inputs};
    /// let engine = Engine::new()?;
    /// let (a, b, c) = (vec![1.0f32, 2.0], vec![3.0f32, 4.0], vec![0.5f32, 0.5]);
    /// let inputs = Inputs::new().with("a", &a).with("b", &b).with("c", &c);
    /// let out = engine.eval::<f32>(&Expr::parse("max(a * b, c) + f32(i)")?, &inputs)?;
    /// assert_eq!(out, [3.0, 9.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>) -> Result<Vec<U>> {
        let job = self.prepare::<U>(expr, inputs)?;
        let mut out = vec![U::default(); job.len];
        self.run_expr_map(&job, &mut out)?;
        Ok(out)
    }

    /// `expr` over the zipped `inputs`, written into `out` (as long as the
    /// inputs). Returns where it ran.
    pub fn eval_into<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>, out: &mut [U]) -> Result<Device> {
        let job = self.prepare::<U>(expr, inputs)?;
        if out.len() != job.len {
            return Err(Error::LengthMismatch { input: job.len, output: out.len() });
        }
        self.run_expr_map(&job, out)
    }

    /// `expr` over the zipped `inputs`, fused into `reduce`: one pass, no
    /// intermediate array.
    ///
    /// ```
    /// use swath::{expr::var, Engine, Inputs, Reduce};
    /// let xs: Vec<f32> = (1..=4).map(|i| i as f32).collect();
    /// let sum_of_squares = Engine::new()?.eval_reduce::<f32>(&var("x").sq(), &Inputs::new().with("x", &xs), Reduce::Sum)?;
    /// assert_eq!(sum_of_squares, 30.0);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval_reduce<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>, reduce: Reduce) -> Result<U> {
        let job = self.prepare::<U>(expr, inputs)?;
        if job.len < SMALL_JOB && self.core.policy != Policy::Gpu && (job.len > 0 || reduce.has_identity()) {
            return Ok(eval::map_reduce(&job.program, &inputs.columns, job.len, reduce));
        }
        Ok(self.execute_expr_reduce(&job, reduce)?.value)
    }

    /// Compiles `expr` for a `U` result over `inputs`, whose lengths must agree.
    pub(super) fn prepare<'j, 'a, U: Element>(&self, expr: &Expr, inputs: &'j Inputs<'a>) -> Result<Prepared<'j, 'a>> {
        let len = inputs.common_len()?;
        let program = Program::compile(expr, &inputs.types(), U::DTYPE)?;
        Ok(Prepared { program, inputs, len })
    }

    fn run_expr_map<U: Element>(&self, job: &Prepared<'_, '_>, out: &mut [U]) -> Result<Device> {
        if job.len < SMALL_JOB && self.core.policy != Policy::Gpu {
            eval::map_into(&job.program, &job.inputs.columns, out);
            return Ok(Device::Cpu);
        }
        Ok(self.execute_expr_map(job, out)?.device)
    }

    pub(super) fn execute_expr_map<U: Element>(&self, job: &Prepared<'_, '_>, out: &mut [U]) -> Result<Outcome<()>> {
        let (program, columns) = (&job.program, &job.inputs.columns);
        Ok(self.dispatch(
            &self.expr_shape::<U>(job, None),
            out,
            |gpu, out| gpu.map(program, columns, out, &mut Stopwatch::off()),
            |gpu, out, k| ((), self.split_expr_map(gpu, program, columns, out, k)),
            |out| eval::map_into(program, columns, out),
        ))
    }

    pub(super) fn execute_expr_reduce<U: Element>(&self, job: &Prepared<'_, '_>, reduce: Reduce) -> Result<Outcome<U>> {
        if job.len == 0 && !reduce.has_identity() {
            return Err(Error::EmptyReduction { reduce });
        }
        let (program, columns) = (&job.program, &job.inputs.columns);
        Ok(self.dispatch(
            &self.expr_shape::<U>(job, Some(reduce)),
            &mut (),
            |gpu, ()| gpu.map_reduce(program, columns, job.len, reduce, &mut Stopwatch::off()),
            |gpu, (), k| self.split_expr_reduce(gpu, program, columns, job.len, reduce, k),
            |()| eval::map_reduce(program, columns, job.len, reduce),
        ))
    }

    fn expr_shape<U: Element>(&self, job: &Prepared<'_, '_>, reduce: Option<Reduce>) -> Shape {
        let expr = Some(routing_shape(&job.program));
        Shape { dtype: U::DTYPE, len: job.len, map: None, reduce, expr, data: Location::Host }
    }
}

/// What the scheduler needs to know of a compiled expression.
pub(super) fn routing_shape(program: &Program) -> ExprShape {
    let structure = &program.structure;
    let transcendentals = structure
        .steps
        .iter()
        .filter(|s| match s.step {
            Step::Unary(op, _) => op.is_float_only() && op != Unary::Sqrt,
            Step::Binary(op, _, _) => op == crate::expr::Binary::Pow,
            _ => false,
        })
        .count();
    ExprShape {
        inputs: structure.inputs.len(),
        bytes_per_element: structure.inputs.iter().map(|t| t.size()).sum(),
        transcendentals,
        uses_f64: wgsl::uses_f64(structure),
        no_gpu_kernel: wgsl::unsupported(structure),
    }
}
