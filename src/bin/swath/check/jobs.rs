//! One group at one length: its job run on the GPU engine and on the CPU engine, the GPU run confirmed
//! to have happened on the GPU (a silent fallback to the CPU would make the check compare the CPU with
//! itself), and the two results compared.

use super::compare::{self, Difference, Rule};
use super::data::{self, Flavor};
use super::groups::{Group, Kind, BINS, KEYS, PREDICATE};
use super::value::CheckValue;
use swath::expr::{index, Expr};
use swath::{DType, Device, Engine, GpuError, Inputs, Job, Outcome, Reason, Reduce, Transfers};

/// Why a group did not pass at one length.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The GPU cannot run it (swath routes it to the CPU whatever the policy), or there is not the
    /// memory for it: nothing was compared.
    Skip(String),
    /// The results differ, or the job did not run on the GPU: the report line after the group's name.
    Fail(String),
}

/// Runs cases on one GPU engine and one CPU engine, kept for the whole check.
pub struct Checker {
    pub gpu: Engine,
    pub cpu: Engine,
    /// `--corrupt`: the group name part whose first GPU result gets one bit flipped; `None` once done.
    corrupt: Option<String>,
    /// The length past the largest binding, where a GPU out of memory is a skip rather than a failure.
    large: Option<usize>,
}

/// The inputs of one case, by name.
struct Data<T> {
    names: Vec<String>,
    values: Vec<Vec<T>>,
}

impl<T: CheckValue> Data<T> {
    /// The first input, `x` for every group but the expressions.
    fn x(&self) -> &[T] {
        self.values.first().map_or(&[], Vec::as_slice)
    }

    fn inputs(&self) -> Inputs<'_> {
        self.names.iter().zip(&self.values).fold(Inputs::new(), |inputs, (name, values)| inputs.with(name, values))
    }

    /// The inputs at element `i`, as a mismatch shows them: `input 0.3`, `inputs a=0.3 b=-1.5`.
    fn at(&self, i: usize) -> String {
        match self.values.as_slice() {
            [values] => format!("input {:?}", values[i]),
            all => {
                let each: Vec<String> =
                    self.names.iter().zip(all).map(|(name, values)| format!("{name}={:?}", values[i])).collect();
                format!("inputs {}", each.join(" "))
            }
        }
    }
}

impl Checker {
    pub fn new(gpu: Engine, cpu: Engine, corrupt: Option<String>, large: Option<usize>) -> Checker {
        Checker { gpu, cpu, corrupt, large }
    }

    /// Checks `group` at `n` elements of `flavor` data.
    pub fn case(&mut self, group: &Group, n: usize, flavor: Flavor) -> Result<(), Problem> {
        match group.dtype {
            DType::F32 => self.typed::<f32>(group, n, flavor),
            DType::F64 => self.typed::<f64>(group, n, flavor),
            DType::I32 => self.typed::<i32>(group, n, flavor),
            DType::U32 => self.typed::<u32>(group, n, flavor),
        }
    }

    fn typed<T: CheckValue>(&mut self, group: &Group, n: usize, flavor: Flavor) -> Result<(), Problem> {
        let names: Vec<String> = match group.expr_text() {
            Some(text) => {
                let mut names: Vec<String> = parse(&text)?.inputs().into_iter().map(String::from).collect();
                names.sort();
                names
            }
            None => vec!["x".into()],
        };
        let recipe = group.recipe(flavor);
        let values: Option<Vec<Vec<T>>> =
            (0..names.len()).map(|input| data::values::<T>(&recipe, &group.name, n, input)).collect();
        let values = values.ok_or_else(|| Problem::Skip(format!("no memory for {n} elements")))?;
        let data = Data { names, values };
        let label = if T::DTYPE.is_float() { flavor.label() } else { "" };
        let mut line = format!("n={n}{label}: ");
        let compared = self.compare(group, &data).map_err(|problem| match problem {
            Problem::Fail(why) => Problem::Fail(format!("{line}{why}")),
            skip => skip,
        });
        let Some(difference) = compared? else { return Ok(()) };
        if let Some(i) = difference.index {
            line += &format!("index {i} ");
            if matches!(group.kind, Kind::Map(_) | Kind::Expr(_) | Kind::Scan(_)) {
                line += &format!("{} -> ", data.at(i));
            }
        }
        Err(Problem::Fail(line + &difference.to_string()))
    }

    /// Runs the group's job on both engines; the first difference, if any.
    fn compare<T: CheckValue>(&mut self, group: &Group, data: &Data<T>) -> Result<Option<Difference>, Problem> {
        let (x, rule) = (data.x(), group.rule());
        match group.kind {
            Kind::Map(op) => self.job(group, &Job::map(x, op), rule),
            Kind::Reduce(reduce) => self.job(group, &Job::reduce(x, reduce), rule),
            Kind::MapReduce(op, reduce) => {
                let rule = match (T::DTYPE, reduce) {
                    (DType::F64, Reduce::Sum) => {
                        let mapped = self.cpu.map(x, op).map_err(|e| Problem::Fail(format!("cpu map: {e}")))?;
                        Rule::contracted_sum(x.len(), mapped.iter().map(|y| y.as_f64().abs()).sum())
                    }
                    _ => rule,
                };
                self.job(group, &Job::map_reduce(x, op, reduce), rule)
            }
            Kind::Scan(scan) => self.job(group, &Job::scan(x, scan), rule),
            Kind::Expr(case) => match case.no_f64_promise {
                Some(why) if T::DTYPE == DType::F64 => Err(Problem::Skip(why.into())),
                _ => self.job(
                    group,
                    &Job::<T>::expr(data.inputs(), parse(&group.expr_text().unwrap_or_default())?),
                    rule,
                ),
            },
            Kind::Filter => self.job(group, &Job::filter(x, parse(PREDICATE)?), rule),
            Kind::FilterIndices => {
                self.job(group, &Job::<u32>::expr(data.inputs(), index()).filtered(parse(PREDICATE)?), Rule::Bits)
            }
            Kind::Argmin => self.job(group, &Job::argmin(x), rule),
            Kind::Argmax => self.job(group, &Job::argmax(x), rule),
            Kind::Histogram => {
                let (lo, hi) = group.histogram_range();
                self.job(group, &Job::histogram(x, BINS, lo, hi), rule)
            }
            Kind::Partition => self.partition(group, x),
            Kind::Bincount => self.bincount(group, x),
        }
    }

    /// `job` on both engines: the GPU's result, checked to come from the GPU, against the CPU's.
    fn job<U: CheckValue>(
        &mut self,
        group: &Group,
        job: &Job<'_, U>,
        rule: Rule,
    ) -> Result<Option<Difference>, Problem> {
        self.routed_to_gpu(job)?;
        let Some((mut gpu, cpu)) = both(self.gpu.run(job), self.cpu.run(job))? else { return Ok(None) };
        self.ran_on_gpu(&gpu, job.len())?;
        self.corrupt_if_chosen(group, || compare::corrupt(&mut gpu.value));
        Ok(compare::outputs(&gpu.value, &cpu.value, rule))
    }

    /// A stable partition, which has no `Job`: its routing is a filter's, and the engine's counters
    /// show whether it ran on the GPU.
    fn partition<T: CheckValue>(&mut self, group: &Group, xs: &[T]) -> Result<Option<Difference>, Problem> {
        let predicate = parse(PREDICATE)?;
        self.routed_to_gpu(&Job::filter(xs, predicate.clone()))?;
        let before = self.gpu_counters();
        let gpu = self.gpu.partition(xs, &predicate);
        let counted = self.counted_on_gpu(before, xs.len());
        let Some((mut gpu, cpu)) = both(gpu, self.cpu.partition(xs, &predicate))? else { return Ok(None) };
        counted?;
        self.corrupt_if_chosen(group, || compare::corrupt_slice(&mut gpu.values));
        Ok(compare::partitions(&gpu, &cpu))
    }

    /// bincount, which has no `Job` either: routed like a sum, and checked by the engine's counters.
    fn bincount<T: CheckValue>(&mut self, group: &Group, keys: &[T]) -> Result<Option<Difference>, Problem> {
        self.routed_to_gpu(&Job::reduce(keys, Reduce::Sum))?;
        let before = self.gpu_counters();
        let gpu = self.gpu.bincount(keys, KEYS);
        let counted = self.counted_on_gpu(before, keys.len());
        let Some((mut gpu, cpu)) = both(gpu, self.cpu.bincount(keys, KEYS))? else { return Ok(None) };
        counted?;
        self.corrupt_if_chosen(group, || compare::corrupt_slice(&mut gpu));
        Ok(compare::arrays(&gpu, &cpu, Rule::Bits))
    }

    /// A skip if swath sends `job` to the CPU whatever the policy because this adapter cannot run it
    /// (no kernel for it, no f64, too few bindings): there is nothing of the GPU's to compare. Any other
    /// reason to leave the GPU, such as a GPU marked unhealthy by earlier faults, is a failure.
    fn routed_to_gpu<U: CheckValue>(&self, job: &Job<'_, U>) -> Result<(), Problem> {
        let decision = self.gpu.explain(job);
        match (decision.device, decision.reason) {
            (Device::Gpu, _) => Ok(()),
            (_, Reason::NoGpuKernel(..) | Reason::NoShaderF64 | Reason::TooManyInputs { .. }) => {
                Err(Problem::Skip(decision.reason.to_string()))
            }
            (device, reason) => Err(Problem::Fail(format!("routed to the {device}, not the GPU: {reason}"))),
        }
    }

    /// A failure unless `outcome` was computed on the GPU; running out of GPU memory past the largest
    /// binding is a skip.
    fn ran_on_gpu<V>(&self, outcome: &Outcome<V>, len: usize) -> Result<(), Problem> {
        match (&outcome.fallback, outcome.device) {
            (None, Device::Gpu) => Ok(()),
            (Some(fault @ GpuError::OutOfMemory(_)), _) if self.large == Some(len) => {
                Err(Problem::Skip(fault.to_string()))
            }
            (Some(fault), _) => Err(Problem::Fail(format!("fell back to the CPU after a GPU fault: {fault}"))),
            (None, device) => {
                Err(Problem::Fail(format!("ran on the {device}, not the GPU ({})", outcome.decision.reason)))
            }
        }
    }

    /// The GPU engine's fallbacks and transfers so far.
    fn gpu_counters(&self) -> (u64, Transfers) {
        (self.gpu.gpu_fallbacks(), self.gpu.transfers())
    }

    /// A failure unless the job of `len` elements run since `before` launched kernels on the GPU and
    /// was not sent back to the CPU by a fault.
    fn counted_on_gpu(&self, before: (u64, Transfers), len: usize) -> Result<(), Problem> {
        let (fallbacks, transfers) = self.gpu_counters();
        let launched = transfers.since(&before.1).dispatches;
        if fallbacks > before.0 {
            Err(Problem::Fail("fell back to the CPU after a GPU fault (logged above)".into()))
        } else if len > 0 && launched == 0 {
            Err(Problem::Fail("did not run on the GPU: no kernel was launched".into()))
        } else {
            Ok(())
        }
    }

    /// Applies `flip` to the GPU's result if `--corrupt` names this group and no result was flipped yet.
    fn corrupt_if_chosen(&mut self, group: &Group, flip: impl FnOnce() -> bool) {
        if self.corrupt.as_deref().is_some_and(|part| group.name.contains(part)) && flip() {
            self.corrupt = None;
        }
    }
}

/// Both results, or `None` if both engines refused the job alike (the minimum of nothing), which is
/// agreement; a failure if only one did, or they refused differently.
fn both<R>(gpu: swath::Result<R>, cpu: swath::Result<R>) -> Result<Option<(R, R)>, Problem> {
    match (gpu, cpu) {
        (Ok(gpu), Ok(cpu)) => Ok(Some((gpu, cpu))),
        (Err(gpu), Err(cpu)) if gpu.to_string() == cpu.to_string() => Ok(None),
        (gpu, cpu) => {
            let said =
                |result: swath::Result<R>| result.map_or_else(|e| format!("failed: {e}"), |_| "succeeded".into());
            Err(Problem::Fail(format!("the gpu {}; the cpu {}", said(gpu), said(cpu))))
        }
    }
}

fn parse(text: &str) -> Result<Expr, Problem> {
    Expr::parse(text).map_err(|e| Problem::Fail(format!("{text:?} does not parse: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::groups;
    use swath::{InjectedFault, Policy};

    /// A GPU engine, or `None` (said on stderr) without an adapter, unless `SWATH_REQUIRE_GPU=1`.
    fn gpu_engine(test: &str) -> Option<Engine> {
        match Engine::builder().policy(Policy::Gpu).build() {
            Ok(engine) => Some(engine),
            Err(error) if std::env::var("SWATH_REQUIRE_GPU").is_ok_and(|v| v == "1") => {
                panic!("{test}: SWATH_REQUIRE_GPU=1 but no GPU engine opens: {error}")
            }
            Err(error) => {
                let _ =
                    std::io::Write::write_all(&mut std::io::stderr(), format!("SKIPPED {test}: {error}\n").as_bytes());
                None
            }
        }
    }

    #[test]
    fn a_job_rerun_on_the_cpu_fails_its_group() {
        let Some(gpu) = gpu_engine("a_job_rerun_on_the_cpu_fails_its_group") else { return };
        let mut checker = Checker::new(gpu, Engine::cpu(), None, None);
        let all = groups::all();
        for name in ["map f32 square", "partition i32 x > 1 || i % 5 == 0", "bincount u32 1000 keys"] {
            let group = all.iter().find(|group| group.name == name).expect("the group exists");
            assert_eq!(checker.case(group, 5000, Flavor::Special), Ok(()), "{name} without a fault");
            assert!(checker.gpu.inject_gpu_fault(InjectedFault::Validation));
            match checker.case(group, 5000, Flavor::Special) {
                Err(Problem::Fail(line)) => assert!(line.starts_with("n=5000") && line.contains("GPU"), "{line}"),
                other => panic!("{name} after a GPU fault: {other:?}"),
            }
        }
    }

    #[test]
    fn a_refusal_by_both_engines_is_agreement() {
        let refused = || -> swath::Result<u32> { Err(swath::Error::EmptyReduction { reduce: Reduce::Min }) };
        assert_eq!(both(refused(), refused()), Ok(None));
        assert_eq!(both(Ok(1), Ok(2)), Ok(Some((1, 2))));
        assert!(matches!(both(refused(), Ok(2)), Err(Problem::Fail(line)) if line.contains("the gpu failed")));
    }
}
