//! Text to [`Expr`]: a hand-written lexer and a precedence-climbing
//! (Pratt) parser, with line/column errors.
//!
//! Details the module docs leave open:
//! - Numbers are decimal digits with an optional fraction and exponent;
//!   either side of the point may be empty (`.5`, `1.`), not both. They
//!   have no sign: `-1` is prefix minus of `1`, which [`Expr::unary`]
//!   folds into the literal `-1`. A number too large for `f64` is an
//!   error; one too small for it reads as `0`.
//! - Whitespace is space, tab, `\r` and `\n`; only `\n` starts a line.
//! - Columns count characters, not bytes.
//! - A text may nest parentheses, calls and prefix operators at most
//!   `MAX_NESTING` deep, and its tree may be at most `MAX_DEPTH` deep.
//!   Both bound the stack: here, and in every later pass over the tree,
//!   which recurse (a chain `a + b + c + ...` is read in a loop but still
//!   makes a deep tree).

use super::tree::{index, lit, select, var, Binary, Expr, Node, Unary};
use super::MAX_DEPTH;
use crate::dtype::DType;
use crate::error::{excerpt, Error, Result};
use std::fmt;

/// Most levels of parentheses, calls and prefix operators in one text.
const MAX_NESTING: usize = 200;

/// How tightly prefix `-` and `!` bind: tighter than every infix operator.
pub(super) const PREFIX: u8 = 6;

/// How tightly an infix operator binds (higher binds tighter); `None` for
/// the binary functions. The printer uses the same table, so printed text
/// needs exactly the parentheses the parser needs.
pub(super) fn precedence(op: Binary) -> Option<u8> {
    match op {
        Binary::Or => Some(1),
        Binary::And => Some(2),
        Binary::Lt | Binary::Le | Binary::Gt | Binary::Ge | Binary::Eq | Binary::Ne => Some(3),
        Binary::Add | Binary::Sub => Some(4),
        Binary::Mul | Binary::Div | Binary::Rem => Some(5),
        Binary::Pow | Binary::Min | Binary::Max => None,
    }
}

/// Parses `text` into an expression.
pub(crate) fn parse(text: &str) -> Result<Expr> {
    let mut parser = Parser { lexer: Lexer::new(text), peeked: None, nesting: 0 };
    let tree = parser.expr(0)?;
    let token = parser.peek()?;
    match token.kind {
        Kind::End => Ok(tree.expr),
        Kind::RParen => Err(syntax(token.pos, "unmatched `)`: there is no `(` for it to close")),
        _ => Err(syntax(
            token.pos,
            format!("trailing input after a complete expression: expected an operator, found {}", describe(&token)),
        )),
    }
}

fn syntax(pos: Pos, message: impl Into<String>) -> Error {
    Error::Syntax { line: pos.line, column: pos.column, message: message.into() }
}

/// A place in the text: line and column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    line: usize,
    column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number(f64),
    Name,
    /// An infix operator; `-` is also prefix minus.
    Infix(Binary),
    Bang,
    LParen,
    RParen,
    Comma,
    End,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    /// The token as written, for messages and names.
    text: &'a str,
    pos: Pos,
}

/// What a message calls a token.
fn describe(token: &Token<'_>) -> String {
    match token.kind {
        Kind::End => "the end of the input".to_string(),
        Kind::Number(_) => format!("the number `{}`", excerpt(token.text)),
        _ => format!("`{}`", excerpt(token.text)),
    }
}

/// Splits the text into tokens on demand, so that the first error in
/// reading order is the one reported, lexical or not.
struct Lexer<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    offset: usize,
    pos: Pos,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Lexer<'a> {
        Lexer { text, offset: 0, pos: Pos { line: 1, column: 1 } }
    }

    /// Moves past `len` bytes of ASCII on one line. Every character a token
    /// consumes is ASCII, so bytes and columns advance together; anything
    /// else is an error before it is consumed.
    fn advance(&mut self, len: usize) {
        self.offset += len;
        self.pos.column += len;
    }

    fn skip_whitespace(&mut self) {
        while let Some(&byte) = self.text.as_bytes().get(self.offset) {
            match byte {
                b'\n' => {
                    self.offset += 1;
                    self.pos = Pos { line: self.pos.line + 1, column: 1 };
                }
                b' ' | b'\t' | b'\r' => self.advance(1),
                _ => break,
            }
        }
    }

    fn next_token(&mut self) -> Result<Token<'a>> {
        self.skip_whitespace();
        let (start, pos) = (self.offset, self.pos);
        let rest = &self.text[start..];
        let mut chars = rest.chars();
        let Some(first) = chars.next() else {
            return Ok(Token { kind: Kind::End, text: "", pos });
        };
        let (kind, len) = if first.is_ascii_digit() || first == '.' {
            self.number(rest)?
        } else if first.is_ascii_alphabetic() || first == '_' {
            (Kind::Name, rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count())
        } else {
            symbol(first, chars.next(), pos)?
        };
        self.advance(len);
        Ok(Token { kind, text: &rest[..len], pos })
    }

    /// Reads the number at the start of `rest`: its value and length.
    fn number(&self, rest: &str) -> Result<(Kind, usize)> {
        let bytes = rest.as_bytes();
        let digits_from =
            |i: usize| bytes.get(i..).map_or(0, |tail| tail.iter().take_while(|b| b.is_ascii_digit()).count());
        let mut len = digits_from(0);
        let mut digits = len;
        if bytes.get(len) == Some(&b'.') {
            let fraction = digits_from(len + 1);
            digits += fraction;
            len += 1 + fraction;
        }
        if digits == 0 {
            return Err(syntax(self.pos, "unexpected `.`: a number needs a digit before or after its point"));
        }
        if matches!(bytes.get(len), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(len + 1), Some(b'+' | b'-')));
            let exponent = digits_from(len + 1 + sign);
            if exponent == 0 {
                return Err(syntax(self.at(len + 1 + sign), "expected the digits of the number's exponent"));
            }
            len += 1 + sign + exponent;
        }
        let text = &rest[..len];
        if let Some(&next) = bytes.get(len).filter(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'.') {
            let message = format!("unexpected `{}` right after the number `{}`", char::from(next), excerpt(text));
            return Err(syntax(self.at(len), message));
        }
        let value: f64 = text.parse().map_err(|_| syntax(self.pos, format!("`{}` is not a number", excerpt(text))))?;
        if value.is_infinite() {
            return Err(syntax(
                self.pos,
                format!("the number `{}` is too large for f64; write `inf` for infinity", excerpt(text)),
            ));
        }
        Ok((Kind::Number(value), len))
    }

    /// The place `len` ASCII bytes after the current one.
    fn at(&self, len: usize) -> Pos {
        Pos { line: self.pos.line, column: self.pos.column + len }
    }
}

/// Reads an operator or punctuation starting with `first` (followed by
/// `second`): its kind and length in bytes.
fn symbol(first: char, second: Option<char>, pos: Pos) -> Result<(Kind, usize)> {
    let infix = |op: Binary| Ok((Kind::Infix(op), op.name().len()));
    match (first, second) {
        ('<', Some('=')) => infix(Binary::Le),
        ('<', _) => infix(Binary::Lt),
        ('>', Some('=')) => infix(Binary::Ge),
        ('>', _) => infix(Binary::Gt),
        ('=', Some('=')) => infix(Binary::Eq),
        ('!', Some('=')) => infix(Binary::Ne),
        ('&', Some('&')) => infix(Binary::And),
        ('|', Some('|')) => infix(Binary::Or),
        ('+', _) => infix(Binary::Add),
        ('-', _) => infix(Binary::Sub),
        ('*', _) => infix(Binary::Mul),
        ('/', _) => infix(Binary::Div),
        ('%', _) => infix(Binary::Rem),
        ('!', _) => Ok((Kind::Bang, 1)),
        ('(', _) => Ok((Kind::LParen, 1)),
        (')', _) => Ok((Kind::RParen, 1)),
        (',', _) => Ok((Kind::Comma, 1)),
        ('=', _) => Err(syntax(pos, "unexpected `=`: equality is `==`")),
        ('&', _) => Err(syntax(pos, "unexpected `&`: logical and is `&&`")),
        ('|', _) => Err(syntax(pos, "unexpected `|`: logical or is `||`")),
        _ => Err(syntax(pos, format!("unexpected character `{}`", first.escape_debug()))),
    }
}

/// A function callable by name, and what a call of it builds.
#[derive(Debug, Clone, Copy)]
enum Function {
    Unary(Unary),
    Binary(Binary),
    Clamp,
    Select,
    Cast(DType),
}

/// Every function, for the message about an unknown one: read from the
/// tree's own tables, so a new function is listed without touching this.
fn functions() -> String {
    let names = |names: Vec<&str>| names.join(", ");
    let unary =
        names(Unary::ALL.into_iter().filter(|f| f.name().starts_with(char::is_alphabetic)).map(Unary::name).collect());
    let binary = names(Binary::ALL.into_iter().filter(|f| f.is_function()).map(Binary::name).collect());
    let casts = names(DType::ALL.into_iter().map(DType::name).collect());
    format!("{unary} (one argument), {binary} (two), clamp, select (three), and the casts {casts} (one)")
}

/// True if `name` reads back as an input: a plain name that is not `i`,
/// `inf`, `nan` or a function's.
pub(crate) fn is_input_name(name: &str) -> bool {
    let mut chars = name.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain && !matches!(name, "i" | "inf" | "nan") && Function::from_name(name).is_none()
}

impl Function {
    /// The function called `name`, found through the tree's own names so
    /// the two cannot drift apart.
    fn from_name(name: &str) -> Option<Function> {
        let unary = Unary::ALL.into_iter().find(|op| op.name() == name).map(Function::Unary);
        let binary = Binary::ALL.into_iter().find(|op| op.is_function() && op.name() == name).map(Function::Binary);
        let cast = DType::ALL.into_iter().find(|dtype| dtype.name() == name).map(Function::Cast);
        let other = match name {
            "clamp" => Some(Function::Clamp),
            "select" => Some(Function::Select),
            _ => None,
        };
        unary.or(binary).or(cast).or(other)
    }

    /// Levels of the tree a call makes, and so of calls in its printed
    /// text: `clamp(x, lo, hi)` prints as `min(max(x, lo), hi)`. Counting
    /// both in the limits lets every text that parses print as one that
    /// parses too.
    fn levels(self) -> usize {
        match self {
            Function::Clamp => 2,
            _ => 1,
        }
    }

    fn arity(self) -> usize {
        match self {
            Function::Unary(_) | Function::Cast(_) => 1,
            Function::Binary(_) => 2,
            Function::Clamp | Function::Select => 3,
        }
    }

    /// How to call it, for messages.
    fn usage(self, name: &str) -> String {
        match self {
            Function::Unary(_) | Function::Cast(_) => format!("`{name}(x)`"),
            Function::Clamp => "`clamp(x, lo, hi)`".to_string(),
            Function::Select => "`select(cond, then, else)`".to_string(),
            Function::Binary(_) => format!("`{name}(a, b)`"),
        }
    }

    /// The call of this function on `args`; `None` for the wrong count.
    fn apply(self, args: &[Expr]) -> Option<Expr> {
        Some(match (self, args) {
            (Function::Unary(op), [x]) => x.clone().unary(op),
            (Function::Binary(op), [a, b]) => a.clone().binary(op, b),
            (Function::Clamp, [x, lo, hi]) => x.clone().clamp(lo, hi),
            (Function::Select, [cond, then, otherwise]) => select(cond, then, otherwise),
            (Function::Cast(dtype), [x]) => x.clone().cast(dtype),
            _ => return None,
        })
    }
}

/// A parsed subtree and its depth, tracked to enforce [`MAX_DEPTH`]
/// without walking the tree again.
struct Parsed {
    expr: Expr,
    depth: usize,
}

impl Parsed {
    fn leaf(expr: Expr) -> Parsed {
        Parsed { expr, depth: 0 }
    }
}

/// `depth`, if a node at `token` may have it.
fn check_depth(depth: usize, token: &Token<'_>) -> Result<usize> {
    if depth > MAX_DEPTH {
        return Err(syntax(
            token.pos,
            format!("expression too deep: its tree would be more than {MAX_DEPTH} levels deep"),
        ));
    }
    Ok(depth)
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token<'a>>,
    /// Parentheses, calls and prefix operators open around the current token.
    nesting: usize,
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<Token<'a>> {
        match self.peeked {
            Some(token) => Ok(token),
            None => {
                let token = self.lexer.next_token()?;
                self.peeked = Some(token);
                Ok(token)
            }
        }
    }

    fn bump(&mut self) -> Result<Token<'a>> {
        let token = self.peek()?;
        self.peeked = None;
        Ok(token)
    }

    /// Opens one level of nesting at `token`, or fails past [`MAX_NESTING`].
    /// Every recursion of the parser passes through here or climbs to a
    /// tighter operator, so this bounds the parser's stack.
    fn enter(&mut self, token: &Token<'_>) -> Result<()> {
        if self.nesting >= MAX_NESTING {
            let message =
                format!("nested too deeply: more than {MAX_NESTING} levels of parentheses, calls and prefix operators");
            return Err(syntax(token.pos, message));
        }
        self.nesting += 1;
        Ok(())
    }

    /// An expression whose infix operators all bind at least as tightly
    /// as `min`: the precedence-climbing loop.
    fn expr(&mut self, min: u8) -> Result<Parsed> {
        let mut lhs = self.unary()?;
        // Comparisons do not associate: `a < b < c` is an error, not `(a < b) < c`.
        let mut after_comparison = false;
        loop {
            let token = self.peek()?;
            let Kind::Infix(op) = token.kind else { break };
            let Some(power) = precedence(op).filter(|power| *power >= min) else { break };
            if op.is_comparison() && after_comparison {
                let message = "comparisons do not chain: join two with `&&` (`a < b && b < c`), or add parentheses";
                return Err(syntax(token.pos, message));
            }
            after_comparison = op.is_comparison();
            self.bump()?;
            // Left-associative: the right operand takes only tighter operators.
            let rhs = self.expr(power + 1)?;
            let depth = check_depth(lhs.depth.max(rhs.depth) + 1, &token)?;
            lhs = Parsed { expr: lhs.expr.binary(op, rhs.expr), depth };
        }
        Ok(lhs)
    }

    /// Prefix operators, then a primary.
    fn unary(&mut self) -> Result<Parsed> {
        let token = self.peek()?;
        let op = match token.kind {
            Kind::Infix(Binary::Sub) => Unary::Neg,
            Kind::Bang => Unary::Not,
            _ => return self.primary(),
        };
        self.enter(&token)?;
        self.bump()?;
        let operand = self.unary()?;
        self.nesting -= 1;
        let expr = operand.expr.unary(op);
        // `-1` folds into a literal, a leaf.
        let depth = if matches!(expr.node(), Node::Literal(_)) { 0 } else { check_depth(operand.depth + 1, &token)? };
        Ok(Parsed { expr, depth })
    }

    fn primary(&mut self) -> Result<Parsed> {
        let token = self.bump()?;
        match token.kind {
            Kind::Number(value) => Ok(Parsed::leaf(lit(value))),
            Kind::Name => self.name(token),
            Kind::LParen => {
                self.enter(&token)?;
                let inner = self.expr(0)?;
                let close = self.bump()?;
                if close.kind != Kind::RParen {
                    let message = format!("expected `)` to close `(` at {}, found {}", token.pos, describe(&close));
                    return Err(syntax(close.pos, message));
                }
                self.nesting -= 1;
                Ok(inner)
            }
            _ => Err(syntax(
                token.pos,
                format!("expected an operand (a number, a name, a call or `(`), found {}", describe(&token)),
            )),
        }
    }

    /// A name: a call, `i`, `inf`, `nan`, or an input.
    fn name(&mut self, name: Token<'a>) -> Result<Parsed> {
        let called = self.peek()?.kind == Kind::LParen;
        let Some(function) = Function::from_name(name.text) else {
            if called {
                let message = format!("unknown function `{}`; the functions are {}", excerpt(name.text), functions());
                return Err(syntax(name.pos, message));
            }
            return Ok(Parsed::leaf(match name.text {
                "i" => index(),
                "inf" => lit(f64::INFINITY),
                "nan" => lit(f64::NAN),
                input => var(input),
            }));
        };
        if !called {
            let message =
                format!("`{}` is a function, not an input: call it as {}", name.text, function.usage(name.text));
            return Err(syntax(name.pos, message));
        }
        let args = self.arguments(&name, function.levels())?;
        let depth = check_depth(args.iter().map(|arg| arg.depth).max().unwrap_or(0) + function.levels(), &name)?;
        let exprs: Vec<Expr> = args.into_iter().map(|arg| arg.expr).collect();
        let Some(expr) = function.apply(&exprs) else {
            let (arity, given) = (function.arity(), exprs.len());
            let plural = if arity == 1 { "argument" } else { "arguments" };
            let message =
                format!("`{}` takes {arity} {plural}, {}, but was given {given}", name.text, function.usage(name.text));
            return Err(syntax(name.pos, message));
        };
        Ok(Parsed { expr, depth })
    }

    /// The parenthesised, comma-separated arguments of a call of `name`,
    /// which counts as `levels` levels of nesting.
    fn arguments(&mut self, name: &Token<'_>, levels: usize) -> Result<Vec<Parsed>> {
        let open = self.bump()?;
        for _ in 0..levels {
            self.enter(&open)?;
        }
        let mut args = Vec::new();
        if self.peek()?.kind == Kind::RParen {
            self.bump()?;
        } else {
            loop {
                args.push(self.expr(0)?);
                let token = self.bump()?;
                match token.kind {
                    Kind::Comma => {}
                    Kind::RParen => break,
                    _ => {
                        let message = format!(
                            "expected `,` or `)` in the call of `{}` at {}, found {}",
                            name.text,
                            name.pos,
                            describe(&token)
                        );
                        return Err(syntax(token.pos, message));
                    }
                }
            }
        }
        self.nesting -= levels;
        Ok(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::var;

    fn position(text: &str) -> (usize, usize) {
        match parse(text) {
            Err(Error::Syntax { line, column, .. }) => (line, column),
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn the_doc_example_error_is_one_past_the_end() {
        assert_eq!(position("x * (1 +"), (1, 9));
    }

    #[test]
    fn nesting_is_limited_at_the_token_past_the_limit() {
        let ok = format!("{}x{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert_eq!(parse(&ok).ok(), Some(var("x")));
        assert_eq!(position(&"(".repeat(MAX_NESTING + 1)), (1, MAX_NESTING + 1));
        assert_eq!(position(&format!("{}x", "-".repeat(10_000))), (1, MAX_NESTING + 1));
    }

    #[test]
    fn long_chains_are_limited_by_tree_depth() {
        let ok = format!("x{}", " + x".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let long = format!("x{}", " + x".repeat(MAX_DEPTH + 1));
        assert_eq!(position(&long), (1, 2 + 4 * MAX_DEPTH + 1));
    }
}
