//! Walks over expression trees that never recurse on the call stack, so
//! a tree of any depth (built in a loop from Rust, where no parser limits
//! it) can be measured, compared, searched, rewritten and dropped; and
//! that meet a subtree shared in several places once, so a tree whose
//! written-out form is exponential (`e = &e * &e` in a loop) costs time
//! linear in its distinct nodes.

use super::tree::{select, Expr, Node};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};

/// The operands of `node`, left to right.
fn operands(node: &Node) -> impl Iterator<Item = &Expr> {
    let (a, b, c) = match node {
        Node::Input(_) | Node::Index | Node::Literal(_) => (None, None, None),
        Node::Unary(_, a) | Node::Cast(_, a) => (Some(a), None, None),
        Node::Binary(_, a, b) => (Some(a), Some(b), None),
        Node::Select(c, a, b) => (Some(c), Some(a), Some(b)),
    };
    [a, b, c].into_iter().flatten()
}

/// Calls `f` on every distinct node once, parents before children, left
/// to right.
pub(super) fn visit<'a>(root: &'a Expr, f: &mut impl FnMut(&'a Node)) {
    let mut seen: HashSet<*const Node> = HashSet::new();
    let mut stack = vec![root];
    while let Some(e) = stack.pop() {
        if seen.insert(e.as_ptr()) {
            f(e.node());
            let mut children: Vec<&Expr> = operands(e.node()).collect();
            children.reverse();
            stack.extend(children);
        }
    }
}

/// Levels of operators above the deepest leaf: 0 for a leaf.
pub(super) fn depth(root: &Expr) -> usize {
    let mut depths: HashMap<*const Node, usize> = HashMap::new();
    let mut stack = vec![root];
    while let Some(&e) = stack.last() {
        if depths.contains_key(&e.as_ptr()) {
            stack.pop();
            continue;
        }
        let pending: Vec<&Expr> = operands(e.node()).filter(|a| !depths.contains_key(&a.as_ptr())).collect();
        if pending.is_empty() {
            let depth = operands(e.node()).map(|a| depths[&a.as_ptr()] + 1).max().unwrap_or(0);
            depths.insert(e.as_ptr(), depth);
            stack.pop();
        } else {
            stack.extend(pending);
        }
    }
    depths[&root.as_ptr()]
}

/// `root` with every input `name` replaced by `value`; a subtree shared
/// in `root` is rewritten once and stays shared.
pub(super) fn substitute(root: &Expr, name: &str, value: &Expr) -> Expr {
    let mut done: HashMap<*const Node, Expr> = HashMap::new();
    let mut stack = vec![root];
    while let Some(&e) = stack.last() {
        if done.contains_key(&e.as_ptr()) {
            stack.pop();
            continue;
        }
        let pending: Vec<&Expr> = operands(e.node()).filter(|a| !done.contains_key(&a.as_ptr())).collect();
        if !pending.is_empty() {
            stack.extend(pending);
            continue;
        }
        let sub = |a: &Expr| done[&a.as_ptr()].clone();
        let new = match e.node() {
            Node::Input(n) if &**n == name => value.clone(),
            Node::Input(_) | Node::Index | Node::Literal(_) => e.clone(),
            Node::Unary(op, a) => sub(a).unary(*op),
            Node::Binary(op, a, b) => sub(a).binary(*op, sub(b)),
            Node::Select(c, a, b) => select(sub(c), sub(a), sub(b)),
            Node::Cast(dtype, a) => sub(a).cast(*dtype),
        };
        done.insert(e.as_ptr(), new);
        stack.pop();
    }
    done.remove(&root.as_ptr()).unwrap_or_else(|| root.clone())
}

/// Structural equality; literals compare by bits. Pairs of subtrees
/// already compared equal are not compared again.
pub(super) fn equal(a: &Expr, b: &Expr) -> bool {
    let mut equal_pairs: HashSet<(*const Node, *const Node)> = HashSet::new();
    let mut stack = vec![(a, b)];
    while let Some((a, b)) = stack.pop() {
        if Arc::ptr_eq(&a.0, &b.0) || !equal_pairs.insert((a.as_ptr(), b.as_ptr())) {
            continue;
        }
        let same_node = match (a.node(), b.node()) {
            (Node::Input(p), Node::Input(q)) => p == q,
            (Node::Index, Node::Index) => true,
            (Node::Literal(p), Node::Literal(q)) => p.to_bits() == q.to_bits(),
            (Node::Unary(p, _), Node::Unary(q, _)) => p == q,
            (Node::Binary(p, ..), Node::Binary(q, ..)) => p == q,
            (Node::Select(..), Node::Select(..)) => true,
            (Node::Cast(p, _), Node::Cast(q, _)) => p == q,
            _ => false,
        };
        if !same_node {
            return false;
        }
        stack.extend(operands(a.node()).zip(operands(b.node())));
    }
    true
}

/// A leaf every dropped node's operands are swapped for: shared, so the
/// swap allocates nothing.
static LEAF: LazyLock<Expr> = LazyLock::new(|| Expr::new(Node::Index));

/// Drops `node`'s operands without recursing: each operand this node alone
/// holds is taken out (a shared leaf left in its place) and its own
/// operands after it, on a heap stack.
pub(super) fn drop_operands(node: &mut Node) {
    fn take_unique(node: &mut Node, stack: &mut Vec<Node>) {
        let operands: [Option<&mut Expr>; 3] = match node {
            Node::Input(_) | Node::Index | Node::Literal(_) => [None, None, None],
            Node::Unary(_, a) | Node::Cast(_, a) => [Some(a), None, None],
            Node::Binary(_, a, b) => [Some(a), Some(b), None],
            Node::Select(c, a, b) => [Some(c), Some(a), Some(b)],
        };
        for operand in operands.into_iter().flatten() {
            if Arc::strong_count(&operand.0) == 1 {
                let taken = std::mem::replace(operand, LEAF.clone());
                if let Ok(inner) = Arc::try_unwrap(taken.0) {
                    stack.push(inner);
                }
            }
        }
    }
    let mut stack = Vec::new();
    take_unique(node, &mut stack);
    while let Some(mut inner) = stack.pop() {
        take_unique(&mut inner, &mut stack);
        // `inner` drops here with only shared operands: no recursion.
    }
}
