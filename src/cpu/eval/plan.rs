//! [`Plan`]: where each step's value lives while a chunk is evaluated,
//! decided once per job: inputs are read in place, constants (and steps
//! of constants only, folded here) as scalars, the last step writes the
//! output, and every other step gets a scratch register, reused once its
//! value is dead.

use super::kernels::map1;
use super::lane::{Bank, Lane, Lit, Out, KINDS};
use super::prefetch;
use super::step::{self, Chunk, Dst};
use crate::column::Column;
use crate::dtype::Element;
use crate::expr::program::{Instr, Program, Scalar, Step, Ty};
use std::cell::RefCell;
use std::sync::Arc;

/// Where a step's value is during a chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Loc {
    /// Column `k` of the job's inputs, at the chunk's elements.
    Column(usize),
    /// One value for every element.
    Scalar(Lit),
    /// Scratch register `r` of the step's type.
    Reg(usize),
    /// The output (the last step only).
    Out,
}

/// The most bytes of registers a thread keeps between jobs, per type (a
/// thread's spare bank grows to the largest of its small jobs).
const SPARE_BYTES: usize = 64 << 10;

thread_local! {
    /// Each thread's registers for small jobs, kept between them.
    static SPARE: RefCell<Bank> = RefCell::new(Bank::default());
}

pub(crate) struct Plan<'p> {
    instrs: &'p [Instr],
    layout: Arc<Layout>,
}

/// Where each step of one program lives: a function of the program alone
/// (its steps, constants and input columns), so it is kept per thread
/// ([`super::layouts`]) for jobs too small to pay for working it out.
#[derive(Debug)]
pub(super) struct Layout {
    locs: Vec<Loc>,
    /// The steps to run for each chunk, in order: those in a register or the output.
    work: Vec<usize>,
    /// Registers of each type a task needs.
    regs: [usize; KINDS],
}

impl<'p> Plan<'p> {
    /// The plan of `program` over `columns`, whose types must be the
    /// program's input types (the caller compiled it for them).
    pub fn new(program: &'p Program, columns: &[Column<'_>]) -> Plan<'p> {
        for slot in 0..program.structure.inputs.len() {
            check_column(program, columns, slot);
        }
        let layout = super::layouts::layout(program, Layout::new);
        Plan { instrs: &program.structure.steps, layout }
    }

    /// Registers for one task, `len` elements each.
    pub fn bank(&self, len: usize) -> Bank {
        Bank::new(&self.layout.regs, len)
    }

    /// Runs `work` with registers of `len` elements: this thread's spare
    /// bank if they fit in [`SPARE_BYTES`], so that a small job allocates
    /// none (two allocations cost more than ten elements' work), else a
    /// bank of their own.
    pub fn with_bank<R>(&self, len: usize, work: impl FnOnce(&mut Bank) -> R) -> R {
        let regs = &self.layout.regs;
        if Bank::bytes(regs, len) > SPARE_BYTES {
            return work(&mut self.bank(len));
        }
        SPARE.with(|spare| match spare.try_borrow_mut() {
            Ok(mut bank) => {
                bank.fit(regs, len);
                work(&mut bank)
            }
            Err(_) => work(&mut self.bank(len)),
        })
    }

    /// Writes the program's values for elements `start..start + out.len()` into `out`.
    pub fn eval<U: Element>(&self, columns: &[Column<'_>], start: usize, bank: &mut Bank, out: &mut [U]) {
        let layout = &*self.layout;
        let chunk = Chunk { instrs: self.instrs, locs: &layout.locs, columns, start, len: out.len() };
        let mut out = Out::of(out);
        let steps = layout.work.len();
        for (w, &s) in layout.work.iter().enumerate() {
            prefetch::next_chunk_part(columns, start + chunk.len, chunk.len, (w, steps));
            let dst = match layout.locs[s] {
                Loc::Reg(r) => Dst::Reg(r),
                _ => Dst::Out(&mut out),
            };
            step::run(&chunk, bank, self.instrs[s], dst);
        }
        // A last step that is an input or a constant has nothing to run.
        let last = self.instrs.len() - 1;
        if let Loc::Column(_) | Loc::Scalar(_) = layout.locs[last] {
            by_num!(U::DTYPE, T => match T::out(&mut out) {
                Some(out) => map1(chunk.arg::<T>(bank, last), out, |x| x),
                None => unreachable!("Out::of gives the output's type"),
            })
        }
    }
}

impl Layout {
    /// Works out where each step of `program` lives.
    pub fn new(program: &Program) -> Layout {
        let instrs = &program.structure.steps[..];
        let last_use = last_uses(instrs);
        let mut locs: Vec<Loc> = Vec::with_capacity(instrs.len());
        let mut regs = Registers::default();
        for (s, instr) in instrs.iter().enumerate() {
            let loc = match instr.step {
                Step::Input(slot) => Loc::Column(program.columns[slot]),
                Step::Const(k) => Loc::Scalar(lit(program.consts[k])),
                Step::Index => Loc::Reg(0),
                step if operands(step).all(|a| matches!(locs[a], Loc::Scalar(_))) => {
                    Loc::Scalar(fold(instrs, &locs, *instr))
                }
                _ => Loc::Reg(0),
            };
            let loc = match loc {
                Loc::Reg(_) if s + 1 == instrs.len() => Loc::Out,
                // Taken before the operands' registers are freed, so a step
                // never writes a register it reads.
                Loc::Reg(_) => Loc::Reg(regs.take(kind(instr.ty))),
                loc => loc,
            };
            // A step may read one operand twice (`x + x`, once shared
            // subtrees are one step): its register is freed once.
            let mut read: Vec<usize> = operands(instr.step).filter(|&a| last_use[a] == s).collect();
            read.sort_unstable();
            read.dedup();
            for a in read {
                if let Loc::Reg(r) = locs[a] {
                    regs.free(kind(instrs[a].ty), r);
                }
            }
            locs.push(loc);
        }
        let work = (0..instrs.len()).filter(|&s| matches!(locs[s], Loc::Reg(_) | Loc::Out)).collect();
        Layout { locs, work, regs: regs.count }
    }
}

/// Free registers of each type, and how many a task needs.
#[derive(Default)]
struct Registers {
    free: [Vec<usize>; KINDS],
    count: [usize; KINDS],
}

impl Registers {
    fn take(&mut self, kind: usize) -> usize {
        self.free[kind].pop().unwrap_or_else(|| {
            self.count[kind] += 1;
            self.count[kind] - 1
        })
    }

    fn free(&mut self, kind: usize, r: usize) {
        self.free[kind].push(r);
    }
}

fn kind(ty: Ty) -> usize {
    by_ty!(ty, T => T::KIND)
}

/// The steps `step` reads.
fn operands(step: Step) -> impl Iterator<Item = usize> {
    let (steps, n) = match step {
        Step::Input(_) | Step::Index | Step::Const(_) => ([0; 3], 0),
        Step::Unary(_, a) | Step::Cast(a) => ([a, 0, 0], 1),
        Step::Binary(_, a, b) => ([a, b, 0], 2),
        Step::Select(c, a, b) => ([c, a, b], 3),
    };
    steps.into_iter().take(n)
}

/// For each step, the last step that reads it (itself if none does).
fn last_uses(instrs: &[Instr]) -> Vec<usize> {
    let mut last: Vec<usize> = (0..instrs.len()).collect();
    for (s, instr) in instrs.iter().enumerate() {
        for a in operands(instr.step) {
            last[a] = s;
        }
    }
    last
}

/// Checks the column input `slot` reads against the program's type.
fn check_column(program: &Program, columns: &[Column<'_>], slot: usize) {
    let k = program.columns[slot];
    let expected = program.structure.inputs[slot];
    let found = columns.get(k).map(Column::dtype);
    assert_eq!(found, Some(expected), "input slot {slot} reads column {k}, which must hold {expected}");
}

fn lit(scalar: Scalar) -> Lit {
    match scalar {
        Scalar::F32(x) => Lit::F32(x),
        Scalar::F64(x) => Lit::F64(x),
        Scalar::I32(x) => Lit::I32(x),
        Scalar::U32(x) => Lit::U32(x),
    }
}

/// The value of a step whose operands are all scalars: the step's own
/// loop run over one element, so folding cannot differ from evaluating.
fn fold(instrs: &[Instr], locs: &[Loc], instr: Instr) -> Lit {
    let chunk = Chunk { instrs, locs, columns: &[], start: 0, len: 1 };
    by_ty!(instr.ty, T => {
        let mut value = [T::default()];
        step::run(&chunk, &mut Bank::default(), instr, Dst::Out(&mut T::wrap(&mut value)));
        value[0].lit()
    })
}
