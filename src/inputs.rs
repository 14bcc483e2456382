//! [`Inputs`]: named arrays zipped together for an expression job.

use crate::column::Column;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};

/// Named input arrays of one length, zipped: element `i` of an expression
/// reads element `i` of each. Arrays may have different element types.
///
/// ```
/// use swath::{expr::Expr, Engine, Error, Inputs};
/// let (a, b) = (vec![1.0f32, 2.0, 3.0], vec![10i32, 20, 30]);
/// let inputs = Inputs::new().with("a", &a).with("b", &b);
/// let sum = Expr::parse("a + f32(b)")?;
/// assert_eq!(Engine::cpu().eval::<f32>(&sum, &inputs)?, [11.0, 22.0, 33.0]);
///
/// let short = [1.0f32];
/// let bad = Inputs::new().with("a", &a).with("b", &short);
/// assert!(matches!(Engine::cpu().eval::<f32>(&Expr::parse("a + b")?, &bad), Err(Error::InputLengths { .. })));
/// # Ok::<(), swath::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    pub(crate) names: Vec<String>,
    pub(crate) columns: Vec<Column<'a>>,
    /// The length asked for with [`Inputs::with_len`].
    len: Option<usize>,
}

impl<'a> Inputs<'a> {
    /// No inputs yet.
    pub fn new() -> Self {
        Inputs::default()
    }

    /// Adds the array `name`; a later array of the same name replaces it.
    pub fn with<T: Element>(mut self, name: &str, values: &'a [T]) -> Self {
        let column = Column::of(values);
        match self.names.iter().position(|n| n == name) {
            Some(k) => self.columns[k] = column,
            None => {
                self.names.push(name.to_string());
                self.columns.push(column);
            }
        }
        self
    }

    /// Sets the length: needed for an expression that reads no array
    /// (only `i`), and checked against the arrays otherwise.
    ///
    /// ```
    /// use swath::{expr::Expr, DType, Engine, Inputs};
    /// let ramp = Engine::cpu().eval::<u32>(&Expr::parse("i * 2")?, &Inputs::new().with_len(4))?;
    /// assert_eq!(ramp, [0, 2, 4, 6]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn with_len(mut self, len: usize) -> Self {
        self.len = Some(len);
        self
    }

    /// Number of arrays.
    pub fn count(&self) -> usize {
        self.columns.len()
    }

    /// Each array's name and element type, in the order added.
    pub fn types(&self) -> Vec<(&str, DType)> {
        self.names.iter().map(String::as_str).zip(self.columns.iter().map(Column::dtype)).collect()
    }

    /// The common length of the arrays (and of [`Inputs::with_len`]); an
    /// error naming every length if they differ. No arrays and no length
    /// set is length 0.
    pub fn common_len(&self) -> Result<usize> {
        let first = self.len.or(self.columns.first().map(Column::len)).unwrap_or(0);
        if self.columns.iter().all(|c| c.len() == first) {
            return Ok(first);
        }
        let mut lengths: Vec<(String, usize)> =
            self.names.iter().cloned().zip(self.columns.iter().map(Column::len)).collect();
        if let Some(len) = self.len {
            lengths.insert(0, ("with_len".to_string(), len));
        }
        Err(Error::InputLengths { lengths })
    }
}
