//! Expression text: printing and parsing round-trip, the grammar's
//! precedence and associativity, and errors with exact positions.

use proptest::prelude::*;
use swath::expr::{index, lit, select, var, Binary, Expr, Unary};
use swath::{DType, Error};

fn parse(text: &str) -> Expr {
    Expr::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// The line, column and message of the syntax error `text` must give.
fn error(text: &str) -> (usize, usize, String) {
    match Expr::parse(text) {
        Err(Error::Syntax { line, column, message }) => (line, column, message),
        other => panic!("{text:?} gave {other:?}, not a syntax error"),
    }
}

/// NaN with the payload `nan` reads as, keeping the sign: text has no
/// spelling for other payloads (see `print.rs`).
fn canonical(value: f64) -> f64 {
    if value.is_nan() {
        f64::NAN.copysign(value)
    } else {
        value
    }
}

fn literal() -> impl Strategy<Value = f64> {
    let special = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        1e300,
        -1e300,
        1e-300,
        f64::MAX,
        f64::MIN_POSITIVE,
        f64::MIN_POSITIVE / 3.0,
        5e-324,
        1e16,
        1e16 - 2.0,
        9007199254740993.0,
        0.1,
        1e-4,
        1e-5,
        2.5,
    ];
    prop_oneof![
        (-20i32..20).prop_map(f64::from),
        any::<u64>().prop_map(|bits| canonical(f64::from_bits(bits))),
        any::<f64>().prop_map(canonical),
        prop::sample::select(special.to_vec()),
    ]
}

/// Input names: plain ones, and ones close to reserved words.
fn name() -> impl Strategy<Value = String> {
    let reserved = |n: &str| {
        matches!(n, "i" | "inf" | "nan" | "clamp" | "select")
            || Unary::ALL.iter().any(|op| op.name() == n)
            || Binary::ALL.iter().any(|op| op.name() == n)
            || DType::ALL.iter().any(|d| d.name() == n)
    };
    let near = ["x", "y", "rate_2", "_", "_t", "X1", "iota", "ii", "sinh", "f16", "nan2", "inf_", "selects"];
    prop_oneof![
        prop::sample::select(near.to_vec()).prop_map(String::from),
        "[a-zA-Z_][a-zA-Z0-9_]{0,6}".prop_filter("reserved word", move |n| !reserved(n)),
    ]
}

fn tree() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![name().prop_map(|n| var(&n)), Just(index()), literal().prop_map(lit)];
    // Operators weigh most: their precedence is what printing can get wrong.
    leaf.prop_recursive(6, 128, 3, |inner| {
        prop_oneof![
            3 => (inner.clone(), prop::sample::select(Binary::ALL.to_vec()), inner.clone())
                .prop_map(|(a, op, b)| a.binary(op, b)),
            2 => (inner.clone(), prop::sample::select(Unary::ALL.to_vec())).prop_map(|(e, op)| e.unary(op)),
            1 => (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| select(c, a, b)),
            1 => (inner, prop::sample::select(DType::ALL.to_vec())).prop_map(|(e, dtype)| e.cast(dtype)),
        ]
    })
}

/// Whatever `text` gives: no panic, and either a tree that prints as
/// text giving it back, or a syntax error at a place inside the text.
fn check_any_text(text: &str) -> Result<(), TestCaseError> {
    match Expr::parse(text) {
        Ok(e) => {
            let printed = e.to_string();
            let again = Expr::parse(&printed);
            prop_assert!(matches!(&again, Ok(back) if *back == e), "{text:?} printed as {printed:?} gave {again:?}");
        }
        Err(Error::Syntax { line, column, message }) => {
            let lines: Vec<&str> = text.split('\n').collect();
            prop_assert!((1..=lines.len()).contains(&line), "{text:?}: line {line} ({message})");
            let width = lines[line - 1].chars().count();
            prop_assert!((1..=width + 1).contains(&column), "{text:?}: {line}:{column} ({message})");
            prop_assert!(!message.is_empty());
        }
        Err(other) => prop_assert!(false, "{text:?} gave a non-syntax error: {other}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn printed_trees_parse_back_identically(e in tree()) {
        let text = e.to_string();
        let back = Expr::parse(&text);
        prop_assert!(matches!(&back, Ok(b) if *b == e), "{text:?} parsed as {back:?}");
        // Printing is stable: the reparsed tree prints the same text.
        prop_assert_eq!(back.map(|b| b.to_string()).ok(), Some(text));
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check_any_text(&text)?;
    }

    #[test]
    fn strings_over_the_alphabet_never_panic(text in "[a-z0-9_ .+*/%<>=!&|(),\n-]{0,40}") {
        check_any_text(&text)?;
    }

    #[test]
    fn damaged_printed_trees_never_panic(
        e in tree(),
        at in any::<prop::sample::Index>(),
        insert in prop::sample::select(vec!["", "(", ")", ",", "-", "!", "<", "\n", "é", "1e", "x"]),
    ) {
        // A character removed and another put in its place: near-miss texts
        // the other strategies rarely reach.
        let mut chars: Vec<char> = e.to_string().chars().collect();
        let i = at.index(chars.len());
        chars.remove(i);
        let mut text: String = chars.into_iter().collect();
        let byte = text.char_indices().nth(i).map_or(text.len(), |(b, _)| b);
        text.insert_str(byte, insert);
        check_any_text(&text)?;
    }

    #[test]
    fn near_valid_strings_never_panic(
        text in "(x|i|1|2\\.5|1e-3|nan|sin|min|clamp|select|f32|\\(|\\)|,| |\n|-|!|\\+|\\*|<=|<|==|&&|\\|\\|){0,30}"
    ) {
        check_any_text(&text)?;
    }
}

#[test]
fn operators_of_one_power_associate_to_the_left() {
    let (a, b, c) = (var("a"), var("b"), var("c"));
    assert_eq!(parse("a - b - c"), (&a - &b) - &c);
    assert_eq!(parse("a - (b - c)"), &a - (&b - &c));
    assert_eq!(parse("a / b * c"), (&a / &b) * &c);
    assert_eq!(parse("a % b / c"), (&a % &b) / &c);
    assert_eq!(parse("a && b && c"), a.clone().and(&b).and(&c));
    assert_eq!(parse("a || b || c"), a.clone().or(&b).or(&c));
    assert_eq!((&a - (&b - &c)).to_string(), "a - (b - c)");
    assert_eq!((&a - &b - &c).to_string(), "a - b - c");
    assert_eq!((&a * (&b * &c)).to_string(), "a * (b * c)");
}

#[test]
fn operators_bind_loosest_first_or_and_comparison_sum_product_prefix() {
    let v = |n: &str| var(n);
    let expected = v("a").lt(v("b")).and(v("c").gt(v("d"))).or(v("e").equals(v("f")));
    assert_eq!(parse("a < b && c > d || e == f"), expected);
    assert_eq!(expected.to_string(), "a < b && c > d || e == f");
    assert_eq!(parse("a || b && c"), v("a").or(v("b").and(v("c"))));
    assert_eq!(v("a").or(v("b")).and(v("c")).to_string(), "(a || b) && c");
    assert_eq!(parse("a + b * c"), v("a") + v("b") * v("c"));
    assert_eq!(parse("(a + b) * c"), (v("a") + v("b")) * v("c"));
    assert_eq!(parse("a + b <= c * d"), (v("a") + v("b")).le(v("c") * v("d")));
    assert_eq!(parse("a != b"), v("a").not_equals(v("b")));
    assert_eq!(parse("a >= b"), v("a").ge(v("b")));
    assert_eq!(parse("-x * y"), (-v("x")) * v("y"));
    assert_eq!(parse("-(x * y)"), -(v("x") * v("y")));
    assert_eq!(parse("--x"), -(-v("x")));
    assert_eq!(parse("!a < b"), (!v("a")).lt(v("b")));
    assert_eq!(parse("!(a < b)"), !v("a").lt(v("b")));
    assert_eq!(parse("(a < b) < c"), v("a").lt(v("b")).lt(v("c")));
    assert_eq!(parse("a - -1"), v("a") - lit(-1.0));
}

#[test]
fn tricky_trees_print_as_text_that_reads_back() {
    let x = var("x");
    let cases = [
        (-(-x.clone()), "--x"),
        (-(&x + 1.0), "-(x + 1)"),
        (lit(-2.0) * &x, "-2 * x"),
        (lit(-1.0).sq(), "sq(-1)"),
        (&x - lit(-1.0), "x - -1"),
        (lit(-1.0) - &x, "-1 - x"),
        (!lit(-1.0), "!-1"),
        (-x.clone().sq(), "-sq(x)"),
        (-(!x.clone()), "-!x"),
        (!x.clone().lt(0), "!(x < 0)"),
        (x.clone().lt(1).lt(x.clone().lt(2)), "(x < 1) < (x < 2)"),
        (x.clone().clamp(0, 1), "min(max(x, 0), 1)"),
        (x.clone().pow(lit(-0.0)), "pow(x, -0)"),
        (index().cast(DType::F32) * 0.5, "f32(i) * 0.5"),
        (select(x.clone().gt(0.0), x.clone(), 0.0), "select(x > 0, x, 0)"),
    ];
    for (e, text) in cases {
        assert_eq!(e.to_string(), text);
        assert_eq!(parse(text), e, "{text}");
    }
}

#[test]
fn every_function_and_cast_parses_to_its_tree() {
    let (x, y, z) = (var("x"), var("y"), var("z"));
    for op in Unary::ALL.into_iter().filter(|op| !matches!(op, Unary::Neg | Unary::Not)) {
        assert_eq!(parse(&format!("{}(x)", op.name())), x.clone().unary(op));
    }
    for op in Binary::ALL.into_iter().filter(|op| op.is_function()) {
        assert_eq!(parse(&format!("{}(x, y)", op.name())), x.clone().binary(op, &y));
    }
    for dtype in DType::ALL {
        assert_eq!(parse(&format!("{dtype}(x)")), x.clone().cast(dtype));
    }
    assert_eq!(parse("clamp(x, y, z)"), x.clone().clamp(&y, &z));
    assert_eq!(parse("select(x, y, z)"), select(&x, &y, &z));
    assert_eq!(parse("sq(x) + 1"), x.sq() + 1.0);
    assert_eq!(parse("i"), index());
    assert_eq!(parse("f32(i) * 0.5"), index().cast(DType::F32) * 0.5);
}

#[test]
fn numbers_read_exactly() {
    let cases = [
        ("1", 1.0),
        ("2.5", 2.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("1e-3", 1e-3),
        ("1E+3", 1e3),
        ("1.5e2", 150.0),
        ("007", 7.0),
        ("0.1", 0.1),
        ("1e-400", 0.0),
        ("-0", -0.0),
        ("-1", -1.0),
        ("- 1", -1.0),
        ("inf", f64::INFINITY),
        ("-inf", f64::NEG_INFINITY),
        ("nan", f64::NAN),
        ("-nan", -f64::NAN),
        ("1.7976931348623157e308", f64::MAX),
        ("5e-324", 5e-324),
    ];
    for (text, value) in cases {
        assert_eq!(parse(text), lit(value), "{text}");
    }
    assert_ne!(parse("-0"), lit(0.0), "-0 keeps its sign");
}

#[test]
fn whitespace_and_newlines_separate_tokens() {
    let expected = var("a") * (var("b") + var("c"));
    assert_eq!(parse("  a\n*\t( b\r\n+ c )\n"), expected);
    assert_eq!(parse("a*(b+c)"), expected);
    assert_eq!(parse("rate_2 + _x"), var("rate_2") + var("_x"));
    assert_eq!(parse("min(\n  x,\n  y\n)"), var("x").min(var("y")));
}

#[test]
fn malformed_texts_report_where_and_what() {
    let deep = "(".repeat(10_000);
    let cases = [
        ("x +", 1, 4, "expected an operand"),
        ("(x", 1, 3, "expected `)` to close `(` at 1:1"),
        ("x)", 1, 2, "unmatched `)`"),
        ("a < b < c", 1, 7, "comparisons do not chain"),
        ("foo(x)", 1, 1, "unknown function `foo`"),
        ("i(x)", 1, 1, "unknown function `i`"),
        ("min(x)", 1, 1, "`min` takes 2 arguments"),
        ("sqrt(x, y)", 1, 1, "`sqrt` takes 1 argument,"),
        ("clamp()", 1, 1, "takes 3 arguments"),
        ("sin + 1", 1, 1, "`sin` is a function"),
        ("f32", 1, 1, "call it as `f32(x)`"),
        ("1e400", 1, 1, "too large"),
        ("x + 1e400", 1, 5, "too large"),
        ("x $ y", 1, 3, "unexpected character `$`"),
        ("a\n  * (b +", 2, 9, "expected an operand"),
        ("x * (1 +", 1, 9, "found the end of the input"),
        ("", 1, 1, "expected an operand"),
        ("  \n ", 2, 2, "expected an operand"),
        (&deep, 1, 201, "nested too deeply"),
        ("x y", 1, 3, "trailing input"),
        ("2x", 1, 2, "right after the number `2`"),
        ("1.2.3", 1, 4, "right after the number `1.2`"),
        ("1e", 1, 3, "exponent"),
        ("1e+x", 1, 4, "exponent"),
        (".", 1, 1, "a digit"),
        ("x = 1", 1, 3, "`==`"),
        ("a & b", 1, 3, "`&&`"),
        ("a | b", 1, 3, "`||`"),
        ("min(a, b,)", 1, 10, "expected an operand"),
        ("min(a b)", 1, 7, "expected `,` or `)` in the call of `min` at 1:1"),
        ("x * ()", 1, 6, "expected an operand"),
        ("é + x", 1, 1, "unexpected character `é`"),
        ("x + é", 1, 5, "unexpected character `é`"),
        ("x + 1\n  é", 2, 3, "`é`"),
        ("\u{0}", 1, 1, "`\\0`"),
    ];
    for (text, line, column, message) in cases {
        let got = error(text);
        assert_eq!((got.0, got.1), (line, column), "{text:?}: {}", got.2);
        assert!(got.2.contains(message), "{text:?}: {:?} lacks {message:?}", got.2);
    }
}

#[test]
fn huge_inputs_are_errors_not_stack_overflows() {
    let prefix = format!("{}x", "-".repeat(100_000));
    assert!(error(&prefix).2.contains("nested too deeply"));
    let calls = format!("{}x", "sq(".repeat(100_000));
    assert!(error(&calls).2.contains("nested too deeply"));
    let chain = format!("x{}", " + x".repeat(100_000));
    assert!(error(&chain).2.contains("too deep"));
    // Moderate depths are fine.
    let nested = format!("{}x{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(parse(&nested), var("x"));
    assert!(Expr::parse(&format!("x{}", " * x".repeat(500))).is_ok());
    let long_name = "n".repeat(100_000);
    assert_eq!(parse(&long_name), var(&long_name));
    let long_number = format!("1{}", "0".repeat(300));
    assert_eq!(parse(&long_number), lit(1e300));
}

#[test]
fn texts_at_the_nesting_limit_print_as_texts_that_parse() {
    // `clamp` prints as two nested calls, so it counts twice.
    let clamps = |n: usize| format!("{}x{}", "clamp(".repeat(n), ", 0, 1)".repeat(n));
    let e = parse(&clamps(100));
    assert_eq!(parse(&e.to_string()), e);
    assert!(error(&clamps(101)).2.contains("nested too deeply"));
    let mixed = format!("{}x{}", "-sq((".repeat(66), "))".repeat(66));
    let e = parse(&mixed);
    assert_eq!(parse(&e.to_string()), e);
}
