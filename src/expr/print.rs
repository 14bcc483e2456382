//! [`Expr`] to text that parses back to the same tree.
//!
//! Parentheses appear only where the parser needs them, judged by the
//! parser's own precedence table. Two trees print as text that cannot
//! parse back to them, and neither runs as written: an input whose name is
//! not a plain name or is a reserved one (`var("i")`, `var("sin")`,
//! `var("a b")`, which a job refuses), and a NaN literal with a payload
//! other than the one `nan` reads as (its sign is kept: `-nan`).

use super::parse::{precedence, PREFIX};
use super::tree::{Binary, Expr, Node, Unary};
use super::MAX_DEPTH;
use std::fmt;

/// How tightly calls, names and numbers bind: they never need parentheses.
const ATOM: u8 = PREFIX + 1;

impl fmt::Display for Expr {
    /// The text of the tree; a tree deeper than [`MAX_DEPTH`] (built from
    /// Rust, since no text parses to one) prints as a short note instead,
    /// which printing it level by level could not reach.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.depth() {
            depth if depth > MAX_DEPTH => write!(f, "<an expression {depth} levels deep>"),
            _ => Text(self).fmt(f),
        }
    }
}

/// An expression known to be at most [`MAX_DEPTH`] deep, printed level by level.
struct Text<'a>(&'a Expr);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.node() {
            Node::Input(name) => f.write_str(name),
            Node::Index => f.write_str("i"),
            Node::Literal(value) => write_literal(*value, f),
            Node::Unary(op @ (Unary::Neg | Unary::Not), operand) => {
                f.write_str(op.name())?;
                write_operand(operand, PREFIX, f)
            }
            Node::Unary(op, operand) => write!(f, "{}({})", op.name(), Text(operand)),
            Node::Binary(op, a, b) => write_binary(*op, a, b, f),
            Node::Select(cond, then, otherwise) => {
                write!(f, "select({}, {}, {})", Text(cond), Text(then), Text(otherwise))
            }
            Node::Cast(dtype, operand) => write!(f, "{dtype}({})", Text(operand)),
        }
    }
}

fn write_binary(op: Binary, a: &Expr, b: &Expr, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some(power) = precedence(op) else {
        return write!(f, "{}({}, {})", op.name(), Text(a), Text(b));
    };
    // Operators associate to the left, so only the left operand may be
    // another operator of the same power unparenthesised; comparisons do
    // not associate at all.
    let left = if op.is_comparison() { power + 1 } else { power };
    write_operand(a, left, f)?;
    write!(f, " {} ", op.name())?;
    write_operand(b, power + 1, f)
}

/// `e`, in parentheses if its outermost operator binds looser than `min`.
fn write_operand(e: &Expr, min: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if binding(e) < min {
        write!(f, "({})", Text(e))
    } else {
        write!(f, "{}", Text(e))
    }
}

/// How tightly `e`'s text holds together: its outermost operator's power.
fn binding(e: &Expr) -> u8 {
    match e.node() {
        Node::Binary(op, ..) => precedence(*op).unwrap_or(ATOM),
        Node::Unary(Unary::Neg | Unary::Not, _) => PREFIX,
        // Printed with a leading `-`, which reads back as prefix minus
        // folded into the literal.
        Node::Literal(value) if value.is_sign_negative() => PREFIX,
        _ => ATOM,
    }
}

/// A number as the parser reads it back, bit for bit (but for NaN payloads).
fn write_literal(value: f64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if value.is_nan() {
        f.write_str(if value.is_sign_negative() { "-nan" } else { "nan" })
    } else if value.fract() == 0.0 && value.abs() < 1e16 {
        // Integers as integers (`Display` gives `1` and `-0`, never `1e3`).
        write!(f, "{value}")
    } else {
        // `Debug` is the shortest text that round-trips, with an exponent
        // where it is shorter (`1e300`, `1e-7`), and `inf`/`-inf`, which
        // are this syntax's spelling too.
        write!(f, "{value:?}")
    }
}

#[cfg(test)]
mod tests {
    use crate::expr::{lit, var, Expr};

    #[test]
    fn operands_get_parentheses_only_where_needed() {
        let (a, b, c) = (var("a"), var("b"), var("c"));
        assert_eq!((&a - (&b - &c)).to_string(), "a - (b - c)");
        assert_eq!((&a - &b - &c).to_string(), "a - b - c");
        assert_eq!(((&a + &b) * &c).to_string(), "(a + b) * c");
        assert_eq!(a.clone().lt(&b).lt(&c).to_string(), "(a < b) < c");
        assert_eq!((-(&a * &b)).to_string(), "-(a * b)");
        assert_eq!((&a - lit(-1.0)).to_string(), "a - -1");
        assert_eq!((-(-a)).to_string(), "--a");
    }

    #[test]
    fn literals_print_in_their_shortest_exact_form() {
        let cases = [(1.0, "1"), (-3.0, "-3"), (-0.0, "-0"), (0.1, "0.1"), (1e300, "1e300"), (1e-7, "1e-7")];
        for (value, text) in cases {
            assert_eq!(lit(value).to_string(), text);
            assert_eq!(Expr::parse(text).ok(), Some(lit(value)));
        }
        assert_eq!(lit(1e16).to_string(), "1e16");
        assert_eq!(lit(f64::NEG_INFINITY).to_string(), "-inf");
        assert_eq!(lit(-f64::NAN).to_string(), "-nan");
    }
}
