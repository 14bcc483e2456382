//! Fuzzing the expression language end to end: random text, most of it
//! grammatical and some of it mangled, goes through the parser, the type
//! checker and both evaluators. Whatever the text, nothing panics and an
//! error message stays short; a text that parses prints back as text that
//! parses to the same tree; and a well-typed program of exact operations
//! gives the same bits on the CPU and the GPU (the contract of
//! `swath::expr`). Ten thousand cases run in CI.

mod common;

use proptest::prelude::*;
use std::sync::OnceLock;
use swath::expr::Expr;
use swath::{Engine, Inputs};

const CASES: u32 = 10_000;

/// Elements of every input: more than one workgroup, not a multiple of one.
const LEN: usize = 257;

fn gpu() -> Option<&'static Engine> {
    common::shared_gpu_engine("expr_fuzz (CPU/GPU parity of fuzzed expressions)")
}

fn cpu() -> &'static Engine {
    common::shared_cpu_engine()
}

/// The inputs: `a`, `b` f32 in [-2, 2] with signed zeros and a subnormal
/// mixed in; `n`, `m` i32 over their whole range and small values.
struct Data {
    a: Vec<f32>,
    b: Vec<f32>,
    n: Vec<i32>,
    m: Vec<i32>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut a: Vec<f32> = common::random("fuzz a", LEN, (-2.0, 2.0));
        let b: Vec<f32> = common::random("fuzz b", LEN, (-2.0, 2.0));
        for (k, special) in [(3, -0.0), (5, 0.0), (7, f32::MIN_POSITIVE / 8.0), (11, 1.0), (13, -2.0)] {
            a[k] = special;
        }
        let mut rng = common::Rng::labelled("fuzz n");
        let n = (0..LEN).map(|_| rng.next_u64() as i32).collect();
        let m = (0..LEN).map(|k| if k == 0 { i32::MIN } else { (rng.next_u64() % 9) as i32 - 4 }).collect();
        Data { a, b, n, m }
    })
}

/// The words a grammar builds its texts from.
#[derive(Clone)]
struct Words {
    leaves: Vec<&'static str>,
    /// Functions of one argument (casts included).
    unary: Vec<&'static str>,
    /// Infix operators.
    infix: Vec<&'static str>,
    /// Functions of two arguments.
    binary: Vec<&'static str>,
}

/// Grammatical text over `words`, with clamp, select and conditions;
/// whether the parts fit together by type is left to chance.
fn grammar(words: Words) -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(words.leaves.clone()).prop_map(String::from);
    leaf.prop_recursive(6, 64, 3, move |inner| {
        let words = words.clone();
        prop_oneof![
            2 => (prop::sample::select(words.unary), inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            4 => (inner.clone(), prop::sample::select(words.infix), inner.clone())
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            1 => inner.clone().prop_map(|a| format!("({a})")),
            1 => inner.clone().prop_map(|a| format!("-{a}")),
            2 => (prop::sample::select(words.binary), inner.clone(), inner.clone())
                .prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
            1 => (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, lo, hi)| format!("clamp({a}, {lo}, {hi})")),
            2 => (cond(inner.clone()), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("select({c}, {a}, {b})")),
        ]
    })
}

/// A condition: a comparison of two `num`s, or conditions joined.
fn cond(num: impl Strategy<Value = String> + Clone + 'static) -> impl Strategy<Value = String> {
    let comparison = prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]);
    let one = (num.clone(), comparison, num).prop_map(|(a, op, b)| format!("{a} {op} {b}"));
    one.prop_recursive(2, 4, 2, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(vec!["&&", "||"]), inner.clone())
                .prop_map(|(p, op, q)| format!("({p}) {op} ({q})")),
            inner.prop_map(|p| format!("!({p})")),
        ]
    })
}

/// Any text of the language: every input, number, function and cast.
fn any_text() -> impl Strategy<Value = String> {
    grammar(Words {
        leaves: vec![
            "a",
            "b",
            "n",
            "m",
            "i",
            "0.25",
            "1.5",
            "2",
            "3",
            "0",
            "inf",
            "nan",
            "1e39",
            "4294967296",
            "1e-45",
        ],
        unary: vec![
            "abs", "sq", "floor", "ceil", "round", "sqrt", "exp", "log", "sin", "cos", "tanh", "f32", "f64", "i32",
            "u32",
        ],
        infix: vec!["+", "-", "*", "/", "%"],
        binary: vec!["min", "max", "pow"],
    })
}

/// Float texts of the operations exact on `f32`, over `a`, `b` and small
/// numbers (most are well-typed).
fn exact_f32_text() -> impl Strategy<Value = String> {
    grammar(Words {
        leaves: vec!["a", "b", "a", "b", "0.25", "0.5", "1.5", "2", "3", "0", "-1"],
        unary: vec!["abs", "floor", "ceil", "round"],
        infix: vec!["+", "-", "*"],
        binary: vec!["min", "max"],
    })
}

/// Integer texts over `n`, `m`, the index and small numbers, with integer
/// division and remainder (most are well-typed).
fn integer_text() -> impl Strategy<Value = String> {
    grammar(Words {
        leaves: vec!["n", "m", "n", "m", "i32(i)", "0", "1", "2", "3", "-4", "7"],
        unary: vec!["abs", "i32"],
        infix: vec!["+", "-", "*", "/", "%"],
        binary: vec!["min", "max"],
    })
}

/// A grammatical text, or one with a few of its characters deleted,
/// doubled or replaced by a stray token.
fn text() -> impl Strategy<Value = String> {
    let stray = prop::sample::select(vec!["(", ")", ",", "+", "*", "!", "&&", "?", "x y", "1e", ".", "sin", "é", "\0"]);
    let edit = (any::<prop::sample::Index>(), 0usize..3, stray);
    let grammatical = prop_oneof![any_text(), exact_f32_text(), integer_text()];
    prop_oneof![
        3 => grammatical.clone(),
        1 => (grammatical, prop::collection::vec(edit, 1..4)).prop_map(|(mut text, edits)| {
            for (at, kind, stray) in edits {
                let chars: Vec<char> = text.chars().collect();
                let k = at.index(chars.len() + 1);
                let (head, tail): (String, String) = (chars[..k].iter().collect(), chars[k..].iter().collect());
                text = match kind {
                    0 => format!("{head}{}", tail.chars().skip(1).collect::<String>()),
                    1 => format!("{head}{stray}{tail}"),
                    _ => format!("{head}{head}{tail}"),
                };
            }
            text
        }),
    ]
}

/// The names and numbers of a text.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).filter(|w| !w.is_empty())
}

/// Functions whose results the contract bounds rather than fixes, and
/// literals that are not finite.
const INEXACT: [&str; 9] = ["sqrt", "exp", "log", "sin", "cos", "tanh", "pow", "inf", "nan"];

/// True if the text is a program of operations the contract makes exact
/// on `f32`, reading only `a`, `b` and numbers up to 3: no division,
/// remainder, `f64` step (a driver may fuse those into an FMA) or `sq`,
/// so no value can overflow to infinity, which a GPU compiler may assume
/// never happens.
fn exact_f32(text: &str) -> bool {
    const NOT_EXACT: [&str; 6] = ["f64", "u32", "sq", "n", "m", "i"];
    let exact_word = |w: &str| match w.parse::<f64>() {
        Ok(number) => number.abs() <= 3.0,
        Err(_) => !w.starts_with(|c: char| c.is_ascii_digit()) && !INEXACT.contains(&w) && !NOT_EXACT.contains(&w),
    };
    !text.contains(['/', '%']) && words(text).all(exact_word)
}

/// True if the text reads and computes integers only: wrapping integer
/// arithmetic, division and remainder are exact on both paths.
fn integers_only(text: &str) -> bool {
    words(text).all(|w| !w.contains('.') && !INEXACT.contains(&w) && !["a", "b", "f32", "f64"].contains(&w))
}

fn same_bits(got: &[f32], want: &[f32]) -> bool {
    got.len() == want.len()
        && got.iter().zip(want).all(|(g, w)| g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()) || g == w)
}

/// One fuzzed case; see the module's documentation.
fn check(text: &str) -> Result<(), TestCaseError> {
    let e = match Expr::parse(text) {
        Ok(e) => e,
        Err(error) => {
            prop_assert!(error.to_string().len() < 400, "a long message for {text:?}: {error}");
            return Ok(());
        }
    };
    let printed = e.to_string();
    let reread = Expr::parse(&printed);
    prop_assert_eq!(reread.as_ref(), Ok(&e), "{:?} printed as {:?}", text, printed);
    let d = data();
    let inputs = Inputs::new().with("a", &d.a).with("b", &d.b).with("n", &d.n).with("m", &d.m);
    // Every output type: an error or values, never a panic.
    let as_f32 = cpu().eval::<f32>(&e, &inputs);
    let as_i32 = cpu().eval::<i32>(&e, &inputs);
    let _ = (cpu().eval::<f64>(&e, &inputs), cpu().eval::<u32>(&e, &inputs));
    let Some(gpu) = gpu() else { return Ok(()) };
    if let (Ok(want), true) = (&as_f32, exact_f32(&printed)) {
        let got = gpu.eval::<f32>(&e, &inputs).unwrap();
        prop_assert!(same_bits(&got, want), "{}: GPU {:?}, CPU {:?}", printed, &got[..8], &want[..8]);
    }
    if let (Ok(want), true) = (&as_i32, integers_only(&printed)) {
        prop_assert_eq!(&gpu.eval::<i32>(&e, &inputs).unwrap(), want, "{}", &printed);
    }
    Ok(())
}

// Two halves of the cases, so that they run on two threads.
proptest! {
    #![proptest_config(ProptestConfig { cases: CASES / 2, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzzed_text_never_panics_and_exact_programs_agree_on_cpu_and_gpu(text in text()) {
        check(&text)?;
    }

    #[test]
    fn fuzzed_text_second_half(text in text()) {
        check(&text)?;
    }
}
