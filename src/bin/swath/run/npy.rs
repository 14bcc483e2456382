//! The `.npy` format, NumPy's array file: a header naming the element type, the axis order and the
//! shape, then the values.
//!
//! Headers are read here, not by npyz's reader: that reader allocates whatever header length a file
//! declares and multiplies the shape without overflow checks, so a file that lies would cost memory
//! or a panic. This one bounds the header by the file's size, parses only the literal numpy writes,
//! and checks the size the header implies against the file before anything is allocated for the
//! values. npyz writes the header of the arrays swath saves.

use npyz::WriterBuilder;
use std::io::{self, Read, Write};
use swath::{DType, Element};

/// The first bytes of every .npy file.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// numpy itself refuses headers longer than this unless told otherwise (`max_header_size`); a header
/// for an array of one of swath's types is under 200 bytes.
const MAX_HEADER_LEN: u64 = 10_000;

/// A checked .npy header: the values' type and number, and where they start.
#[derive(Debug, PartialEq)]
pub struct Header {
    /// Element type of the values.
    pub dtype: DType,
    /// Shape of the array, as written; the values are read flattened, in C order.
    pub shape: Vec<u64>,
    /// Number of values: the product of the shape.
    pub len: usize,
    /// Byte offset of the first value.
    pub data_start: u64,
}

/// Reads and checks the header of a .npy file of `file_size` bytes from `reader`, which then stands
/// at the first value. The error says what is wrong with the file, for a message that names it.
pub fn read_header(reader: &mut impl Read, file_size: u64) -> Result<Header, String> {
    let mut lead = [0u8; 8];
    reader.read_exact(&mut lead).map_err(|_| format!("is not a .npy file: it is only {file_size} bytes long"))?;
    if &lead[..6] != MAGIC {
        return Err("is not a .npy file: it does not start with \\x93NUMPY".into());
    }
    let prefix_len: u64 = match (lead[6], lead[7]) {
        (1, 0) => 10,
        (2, 0) | (3, 0) => 12,
        (major, minor) => return Err(format!("is .npy version {major}.{minor}; swath reads versions 1.0 to 3.0")),
    };
    let mut length = [0u8; 4];
    let length = &mut length[..prefix_len as usize - 8];
    reader.read_exact(length).map_err(|_| "is truncated inside its .npy header".to_string())?;
    let header_len = length.iter().rev().fold(0u64, |len, &byte| len << 8 | u64::from(byte));
    let data_start = prefix_len + header_len;
    if data_start > file_size {
        return Err(format!("is truncated: its header says it is {header_len} bytes, but the file is {file_size}"));
    }
    if header_len > MAX_HEADER_LEN {
        return Err(format!("has a header of {header_len} bytes, longer than numpy writes (at most {MAX_HEADER_LEN})"));
    }
    let mut text = vec![0u8; header_len as usize];
    reader.read_exact(&mut text).map_err(|e| format!("cannot be read: {e}"))?;
    let text = std::str::from_utf8(&text).map_err(|_| "has a header that is not text".to_string())?;
    let fields = parse_fields(text).map_err(|problem| format!("has a malformed header ({problem}): {text:?}"))?;
    let header = check(fields, data_start)?;
    let data_len = file_size - data_start;
    let expected = header.len as u64 * header.dtype.size() as u64;
    if data_len != expected {
        let what = if data_len < expected { "is truncated" } else { "is longer than its header says" };
        return Err(format!(
            "{what}: shape {} of {} needs {expected} bytes after the header, the file has {data_len}",
            shape_text(&header.shape),
            header.dtype
        ));
    }
    Ok(header)
}

/// The header's fields checked for what swath reads: one of its element types, and values laid out
/// in C order.
fn check(fields: Fields, data_start: u64) -> Result<Header, String> {
    let dtype = match fields.descr {
        Descr::Type(text) => dtype_of(&text)?,
        Descr::Record => return Err("holds a structured array (records of fields); swath reads plain arrays".into()),
    };
    let shape = fields.shape;
    if fields.fortran_order && shape.iter().filter(|&&axis| axis > 1).count() > 1 {
        return Err(format!(
            "holds a Fortran-order (column-major) array of shape {}; save a C-order copy: \
             np.save(path, np.ascontiguousarray(a))",
            shape_text(&shape)
        ));
    }
    let too_large = || format!("has shape {}, more values than this machine can address", shape_text(&shape));
    let count = shape.iter().try_fold(1u64, |count, &axis| count.checked_mul(axis)).ok_or_else(too_large)?;
    let len = usize::try_from(count).map_err(|_| too_large())?;
    count.checked_mul(dtype.size() as u64).ok_or_else(too_large)?;
    Ok(Header { dtype, shape, len, data_start })
}

/// The element type a numpy type string names, if it is one swath runs on. `=` (native order) and
/// `|` (order not applicable) are read as little-endian on a little-endian host, where they are.
pub fn dtype_of(descr: &str) -> Result<DType, String> {
    let (order, code) = descr.split_at(descr.chars().next().map_or(0, char::len_utf8));
    let native_little = cfg!(target_endian = "little");
    let little = match order {
        "<" => true,
        ">" | "!" => false,
        "=" | "|" => native_little,
        _ => return Err(format!("has an element type swath does not know: {descr:?}")),
    };
    let dtype = match code {
        "f4" => DType::F32,
        "f8" => DType::F64,
        "i4" => DType::I32,
        "u4" => DType::U32,
        "O" => return Err(format!("holds Python objects ({descr}), not numbers")),
        _ => {
            return Err(format!(
                "holds {descr} values; swath runs on <f4, <f8, <i4 and <u4 (f32, f64, i32, u32): \
                 convert it first, e.g. a.astype(np.float32)"
            ))
        }
    };
    if !little {
        return Err(format!("holds big-endian values ({descr}); save them little-endian: a.astype('<{code}')"));
    }
    Ok(dtype)
}

/// The numpy type string of `dtype`, little-endian.
pub fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "<f4",
        DType::F64 => "<f8",
        DType::I32 => "<i4",
        DType::U32 => "<u4",
    }
}

/// A shape as Python writes it: `(3,)`, `(2, 3)`, `()`.
fn shape_text(shape: &[u64]) -> String {
    match shape {
        [axis] => format!("({axis},)"),
        _ => format!("({})", shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// Writes `values` as a 1-D .npy array of their type.
pub fn write<T: Element>(out: &mut impl Write, values: &[T]) -> io::Result<()> {
    let type_str = descr(T::DTYPE).parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let out = npyz::WriteOptions::new_header_only()
        .dtype(npyz::DType::Plain(type_str))
        .shape(&[values.len() as u64])
        .writer(out)
        .write_header_only()?;
    let bytes: &[u8] = bytemuck::cast_slice(values);
    if cfg!(target_endian = "little") {
        return out.write_all(bytes);
    }
    let mut swapped = bytes.to_vec();
    to_native(&mut swapped, T::DTYPE.size());
    out.write_all(&swapped)
}

/// Swaps little-endian values of `size` bytes to the host's order and back (nothing to do on
/// little-endian hosts).
pub fn to_native(bytes: &mut [u8], size: usize) {
    if cfg!(target_endian = "big") {
        bytes.chunks_exact_mut(size).for_each(<[u8]>::reverse);
    }
}

/// The three entries of a header's dictionary.
struct Fields {
    descr: Descr,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// A header's `descr`: a type string, or the list of fields of a structured array.
enum Descr {
    Type(String),
    Record,
}

/// Parses the dictionary literal numpy writes, `{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`,
/// and nothing more general: its keys in any order, each exactly once.
fn parse_fields(text: &str) -> Result<Fields, String> {
    let mut cursor = Cursor { rest: text };
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    cursor.expect('{')?;
    while !cursor.eat('}') {
        let key = cursor.string()?;
        cursor.expect(':')?;
        let duplicate = match key.as_str() {
            "descr" => descr.replace(cursor.descr()?).is_some(),
            "fortran_order" => fortran_order.replace(cursor.boolean()?).is_some(),
            "shape" => shape.replace(cursor.shape()?).is_some(),
            _ => return Err(format!("unexpected key {key:?}")),
        };
        if duplicate {
            return Err(format!("{key:?} given twice"));
        }
        if !cursor.eat(',') {
            cursor.expect('}')?;
            break;
        }
    }
    if !cursor.rest.trim().is_empty() {
        return Err("text after the dictionary".into());
    }
    Ok(Fields {
        descr: descr.ok_or("no 'descr'")?,
        fortran_order: fortran_order.ok_or("no 'fortran_order'")?,
        shape: shape.ok_or("no 'shape'")?,
    })
}

/// The unread rest of a header, consumed token by token.
struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    /// Skips white space, then takes `token` if it comes next.
    fn eat(&mut self, token: char) -> bool {
        self.rest = self.rest.trim_start();
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, token: char) -> Result<(), String> {
        if self.eat(token) {
            return Ok(());
        }
        Err(format!("expected {token:?}"))
    }

    /// A quoted string without escapes, as numpy writes keys and type strings.
    fn string(&mut self) -> Result<String, String> {
        self.rest = self.rest.trim_start();
        let quote = self.rest.chars().next().filter(|c| matches!(c, '\'' | '"')).ok_or("expected a string")?;
        let body = &self.rest[1..];
        let end = body.find(quote).ok_or("unterminated string")?;
        self.rest = &body[end + 1..];
        Ok(body[..end].to_string())
    }

    /// A run of letters, digits, signs and underscores: `True`, `3`, `-1`.
    fn word(&mut self) -> &str {
        self.rest = self.rest.trim_start();
        let end = self.rest.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+')));
        let (word, rest) = self.rest.split_at(end.unwrap_or(self.rest.len()));
        self.rest = rest;
        word
    }

    fn boolean(&mut self) -> Result<bool, String> {
        match self.word() {
            "True" => Ok(true),
            "False" => Ok(false),
            other => Err(format!("'fortran_order' is {other:?}, not True or False")),
        }
    }

    /// A type string, or a structured array's list of fields, skipped whole.
    fn descr(&mut self) -> Result<Descr, String> {
        if !self.eat('[') {
            return self.string().map(Descr::Type);
        }
        let mut depth = 1;
        while depth > 0 {
            self.rest = self.rest.trim_start();
            match self.rest.chars().next() {
                Some('\'' | '"') => {
                    self.string()?;
                }
                Some(c) => {
                    depth += i32::from(matches!(c, '[' | '(')) - i32::from(matches!(c, ']' | ')'));
                    self.rest = &self.rest[c.len_utf8()..];
                }
                None => return Err("unterminated list".into()),
            }
        }
        Ok(Descr::Record)
    }

    /// A tuple (or list) of whole numbers: `()`, `(3,)`, `(2, 3)`.
    fn shape(&mut self) -> Result<Vec<u64>, String> {
        let close = if self.eat('(') {
            ')'
        } else if self.eat('[') {
            ']'
        } else {
            return Err("'shape' is not a tuple".into());
        };
        let mut shape = Vec::new();
        while !self.eat(close) {
            let word = self.word();
            let axis = word.parse().map_err(|_| format!("'shape' has {word:?}, not a length"))?;
            shape.push(axis);
            if !self.eat(',') {
                self.expect(close)?;
                break;
            }
        }
        Ok(shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A .npy file of version 1.0 with the header `dict` and `values` bytes after it.
    fn npy(dict: &str, values: &[u8]) -> Vec<u8> {
        let mut file = MAGIC.to_vec();
        file.extend([1, 0]);
        file.extend((dict.len() as u16).to_le_bytes());
        file.extend(dict.as_bytes());
        file.extend(values);
        file
    }

    fn header(file: &[u8]) -> Result<Header, String> {
        read_header(&mut &file[..], file.len() as u64)
    }

    #[test]
    fn the_header_numpy_writes_is_read() {
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }          \n";
        let parsed = header(&npy(dict, &[0; 48]));
        let data_start = 10 + dict.len() as u64;
        assert_eq!(parsed, Ok(Header { dtype: DType::F64, shape: vec![2, 3], len: 6, data_start }));
        let scalar = npy("{\"shape\": (), \"fortran_order\": False, \"descr\": \"=u4\"}", &[0; 4]);
        assert_eq!(header(&scalar).map(|h| (h.dtype, h.len)), Ok((DType::U32, 1)));
    }

    #[test]
    fn what_we_write_reads_back() {
        let mut file = Vec::new();
        write(&mut file, &[1.5f32, -2.0, 3.25]).expect("writing to memory");
        let parsed = header(&file).expect("our own header");
        assert_eq!((parsed.dtype, parsed.len), (DType::F32, 3));
        assert_eq!(parsed.data_start % 16, 0, "numpy aligns the values");
        let values: &[u8] = &file[parsed.data_start as usize..];
        assert_eq!(values, bytemuck::cast_slice::<f32, u8>(&[1.5, -2.0, 3.25]));
    }

    #[test]
    fn types_swath_does_not_run_on_are_named() {
        for (descr, hint) in [(">f4", "big-endian"), ("<f2", "<f2"), ("|O", "Python objects"), ("<i8", "<i8")] {
            let error = dtype_of(descr).expect_err(descr);
            assert!(error.contains(hint), "{descr}: {error}");
        }
        assert_eq!(dtype_of("<i4"), Ok(DType::I32));
        assert_eq!(dtype_of("|u4"), Ok(DType::U32));
    }

    #[test]
    fn headers_that_lie_are_refused_before_allocating() {
        let huge_header = [MAGIC.as_slice(), &[2, 0], &u32::MAX.to_le_bytes(), b"{}"].concat();
        assert!(header(&huge_header).is_err_and(|e| e.contains("truncated")));
        let short = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", &[0; 12]);
        assert!(header(&short).is_err_and(|e| e.contains("truncated")));
        let long = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", &[0; 12]);
        assert!(header(&long).is_err_and(|e| e.contains("longer than")));
        let overflow = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", &[]);
        assert!(header(&overflow).is_err_and(|e| e.contains("more values")));
    }

    #[test]
    fn malformed_headers_are_errors() {
        for dict in [
            "",
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
            "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
            "{'descr': [('a', '<f4'), 'fortran_order': False, 'shape': (1,)}",
        ] {
            assert!(header(&npy(dict, &[0; 4])).is_err(), "{dict}");
        }
        let record = npy("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", &[0; 8]);
        assert!(header(&record).is_err_and(|e| e.contains("structured")));
    }

    #[test]
    fn fortran_order_matters_only_with_two_long_axes() {
        let matrix = npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2), }", &[0; 16]);
        assert!(header(&matrix).is_err_and(|e| e.contains("Fortran")));
        let row = npy("{'descr': '<i4', 'fortran_order': True, 'shape': (1, 4), }", &[0; 16]);
        assert_eq!(header(&row).map(|h| h.len), Ok(4));
    }
}
