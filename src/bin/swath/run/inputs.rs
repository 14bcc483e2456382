//! `--input [NAME=]FILE`: which file feeds which input of the job, every file checked against the
//! others and the command line before any value is read; then the values, read whole.
//!
//! Values are read into memory, not mapped: a mapped file is read on first touch, which would be
//! inside the first timed run; reading it here keeps loading out of the times, and one exact
//! allocation per file keeps memory at the data's size.

use super::npy;
use crate::cli::{InputSpec, DEFAULT_DTYPE};
use crate::failure::Failure;
use crate::format;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use swath::{DType, Element};

/// The input a single unnamed file feeds when the expression reads more than one, and the name of
/// an `--op` or `--reduce` job's input.
const DEFAULT_NAME: &str = "x";

/// An input file, its header and length checked; [`Source::read`] reads its values.
#[derive(Debug)]
pub struct Source {
    /// The input of the job it feeds.
    pub name: String,
    /// The file, as the command line gives it.
    pub path: PathBuf,
    /// Element type of its values.
    pub dtype: DType,
    /// Number of values.
    pub len: usize,
    /// Byte offset of the first value: past the header of a .npy file, 0 in a raw one.
    data_start: u64,
    /// The shape of a .npy array, `None` for raw values.
    shape: Option<Vec<u64>>,
}

/// Binds every `--input` to the input it feeds, `wanted` being the expression's inputs in order of
/// first use (`None`: an `--op` or `--reduce` job, which reads one), and opens the files; `dtype` is
/// `--dtype` when given. The files must all be there, of one element type and one length.
pub fn open(specs: &[InputSpec], wanted: Option<&[&str]>, dtype: Option<DType>) -> Result<Vec<Source>, Failure> {
    let bound = bind(specs, wanted).map_err(Failure::Files)?;
    let sources: Vec<Source> =
        bound.into_iter().map(|(name, path)| Source::open(name, path, dtype)).collect::<Result<_, _>>()?;
    agree(&sources).map_err(Failure::Files)?;
    Ok(sources)
}

/// The one raw file `--distributed` reads, if any: each rank reads its part by offset, which a .npy
/// header would shift.
pub fn raw_file(specs: &[InputSpec]) -> Result<Option<&Path>, Failure> {
    match specs {
        [] => Ok(None),
        [spec] if is_npy(&spec.path) => Err(Failure::Files(format!(
            "input {} is a .npy file; --distributed reads raw little-endian values of --dtype",
            spec.path.display()
        ))),
        [spec] => Ok(Some(&spec.path)),
        _ => Err(Failure::Files(format!("--distributed reads one --input file, not {}", specs.len()))),
    }
}

/// True if `path` names a .npy file: by its extension, or by its first bytes.
fn is_npy(path: &Path) -> bool {
    let named = path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("npy"));
    named || File::open(path).is_ok_and(|mut file| starts_with_magic(&mut file))
}

fn starts_with_magic(file: &mut File) -> bool {
    let mut lead = Vec::with_capacity(npy::MAGIC.len());
    let read = file.take(npy::MAGIC.len() as u64).read_to_end(&mut lead).is_ok();
    read && lead == npy::MAGIC
}

/// Each file with the input it feeds, in the order of `wanted`.
fn bind<'a>(specs: &'a [InputSpec], wanted: Option<&[&str]>) -> Result<Vec<(String, &'a Path)>, String> {
    let Some(wanted) = wanted else {
        return match specs {
            [spec] => Ok(vec![(spec.name.clone().unwrap_or_else(|| DEFAULT_NAME.into()), &spec.path)]),
            _ => Err(format!("--op and --reduce read one --input file, not {}", specs.len())),
        };
    };
    let reads = if wanted.is_empty() { "no input".to_string() } else { wanted.join(", ") };
    let mut bound: Vec<(String, &Path)> = Vec::new();
    for spec in specs {
        let path = spec.path.display();
        let name = match (&spec.name, specs, wanted) {
            (Some(name), _, _) => name.clone(),
            (None, [_], [only]) => only.to_string(),
            (None, [_], _) if wanted.contains(&DEFAULT_NAME) => DEFAULT_NAME.to_string(),
            (None, _, _) => {
                let unnamed = wanted.iter().find(|&&input| !specs.iter().any(|s| s.name.as_deref() == Some(input)));
                let example = unnamed.unwrap_or(&DEFAULT_NAME);
                return Err(format!(
                    "--input {path}: the expression reads {reads}; name the input this file feeds, as in \
                     --input {example}={path}"
                ));
            }
        };
        if !wanted.contains(&name.as_str()) {
            return Err(format!("--input {name}={path}: the expression reads no input {name} (it reads {reads})"));
        }
        if bound.iter().any(|(bound_name, _)| *bound_name == name) {
            return Err(format!("--input {name}=... is given twice"));
        }
        bound.push((name, &spec.path));
    }
    if let Some(missing) = wanted.iter().find(|&&input| !bound.iter().any(|(name, _)| name == input)) {
        return Err(format!(
            "the expression reads {missing}, but no --input {missing}=FILE is given: with --input, every input \
             comes from a file"
        ));
    }
    bound.sort_by_key(|(name, _)| wanted.iter().position(|input| input == name));
    Ok(bound)
}

/// Checks that the files hold one element type and one length.
fn agree(sources: &[Source]) -> Result<(), String> {
    let Some(first) = sources.first() else { return Ok(()) };
    let each = |show: &dyn Fn(&Source) -> String| {
        sources
            .iter()
            .map(|source| format!("{} {}", source.path.display(), show(source)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if sources.iter().any(|source| source.dtype != first.dtype) {
        let types = each(&|source| source.dtype.to_string());
        return Err(format!(
            "the inputs hold different element types ({types}); a job runs on one: convert them first"
        ));
    }
    if sources.iter().any(|source| source.len != first.len) {
        let lengths = each(&|source| format!("{} elements", source.len));
        return Err(format!("the inputs have different lengths ({lengths}); element i of each is read together"));
    }
    Ok(())
}

impl Source {
    /// Opens the file feeding `name` and checks its header or length; `dtype` is `--dtype` when given.
    fn open(name: String, path: &Path, dtype: Option<DType>) -> Result<Source, Failure> {
        let bad = |problem: String| Failure::Files(format!("input {} {problem}", path.display()));
        let metadata = std::fs::metadata(path).map_err(|error| bad(unreadable(&error)))?;
        if metadata.is_dir() {
            return Err(bad("is a directory, not a file".into()));
        }
        let mut file = File::open(path).map_err(|error| bad(unreadable(&error)))?;
        let size = file.metadata().map_err(|error| bad(unreadable(&error)))?.len();
        let mut source = Source { name, path: path.into(), dtype: DEFAULT_DTYPE, len: 0, data_start: 0, shape: None };
        if is_npy(path) {
            let header = npy::read_header(&mut file, size).map_err(bad)?;
            if let Some(asked) = dtype.filter(|&asked| asked != header.dtype) {
                let held = header.dtype;
                return Err(bad(format!(
                    "holds {held} values, but --dtype is {asked}; leave out --dtype to run on {held}"
                )));
            }
            (source.dtype, source.len, source.data_start) = (header.dtype, header.len, header.data_start);
            source.shape = Some(header.shape);
            return Ok(source);
        }
        source.dtype = dtype.unwrap_or(DEFAULT_DTYPE);
        let element = source.dtype.size() as u64;
        if size % element != 0 {
            return Err(bad(format!(
                "is {size} bytes, not a whole number of {} values ({element} bytes each): a file that is not .npy \
                 holds raw little-endian values of --dtype",
                source.dtype
            )));
        }
        source.len =
            usize::try_from(size / element).map_err(|_| bad("is larger than this machine can address".into()))?;
        Ok(source)
    }

    /// Reads the values, with one allocation of exactly their size.
    pub fn read<T: Element>(&self) -> Result<Vec<T>, Failure> {
        debug_assert_eq!(T::DTYPE, self.dtype, "the job's type is the files' type");
        let mut values = Vec::new();
        values.try_reserve_exact(self.len).map_err(|_| {
            let size = format::bytes(self.len as u64 * self.dtype.size() as u64);
            Failure::Usage(format!("cannot allocate {size} for input {}", self.path.display()))
        })?;
        values.resize(self.len, T::default());
        let failed = |error: io::Error| Failure::Files(format!("input {} {}", self.path.display(), unreadable(&error)));
        let mut file = File::open(&self.path).map_err(failed)?;
        file.seek(SeekFrom::Start(self.data_start)).map_err(failed)?;
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut values);
        file.read_exact(bytes).map_err(failed)?;
        npy::to_native(bytes, self.dtype.size());
        Ok(values)
    }

    /// The file, its length and type, and how its values are laid out: `a.npy: 1000 f32`,
    /// `m.npy: 6 i32, shape (2, 3) flattened`, `x.raw: 1000 f64, raw little-endian`.
    pub fn describe(&self) -> String {
        let layout = match self.shape.as_deref() {
            None => ", raw little-endian".to_string(),
            Some([_]) => String::new(),
            Some(shape) => {
                let axes: Vec<String> = shape.iter().map(u64::to_string).collect();
                format!(", shape ({}) flattened", axes.join(", "))
            }
        };
        format!("{}: {} {}{layout}", self.path.display(), self.len, self.dtype)
    }
}

/// Why a file cannot be opened or read, as the end of a sentence that starts with its name.
fn unreadable(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "does not exist".into(),
        io::ErrorKind::UnexpectedEof => "is shorter than when it was opened: was it changed while swath ran?".into(),
        _ => format!("cannot be read: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(texts: &[&str]) -> Vec<InputSpec> {
        texts.iter().map(|text| InputSpec::parse(text.as_ref()).expect("a valid --input")).collect()
    }

    fn names(texts: &[&str], wanted: Option<&[&str]>) -> Result<Vec<String>, String> {
        let specs = specs(texts);
        bind(&specs, wanted).map(|bound| bound.into_iter().map(|(name, _)| name).collect())
    }

    #[test]
    fn one_unnamed_file_feeds_x_or_the_only_input() {
        assert_eq!(names(&["a.npy"], None), Ok(vec!["x".into()]));
        assert_eq!(names(&["a.npy"], Some(&["y"])), Ok(vec!["y".into()]));
        assert_eq!(names(&["a.npy"], Some(&["x"])), Ok(vec!["x".into()]));
        assert!(names(&["a.npy"], Some(&["a", "x"])).is_err_and(|e| e.contains("reads a")));
        assert!(names(&["a.npy"], Some(&["a", "b"])).is_err_and(|e| e.contains("as in --input a=a.npy")));
        assert!(names(&["a.npy"], Some(&[])).is_err_and(|e| e.contains("reads no input")));
    }

    #[test]
    fn named_files_are_bound_in_the_expression_order() {
        let wanted: &[&str] = &["b", "a"];
        assert_eq!(names(&["a=a.npy", "b=b.npy"], Some(wanted)), Ok(vec!["b".into(), "a".into()]));
        assert!(names(&["a=a.npy", "b.npy"], Some(wanted)).is_err_and(|e| e.contains("as in --input b=b.npy")));
        assert!(names(&["a=a.npy", "a=c.npy", "b=b.npy"], Some(wanted)).is_err_and(|e| e.contains("twice")));
        assert!(names(&["a=a.npy", "b=b.npy", "c=c.npy"], Some(wanted)).is_err_and(|e| e.contains("no input c")));
        assert!(names(&["a=a.npy"], Some(wanted)).is_err_and(|e| e.contains("reads b")));
        assert!(names(&["a=a.npy", "b=b.npy"], None).is_err_and(|e| e.contains("one --input")));
    }

    #[test]
    fn distributed_runs_take_one_raw_file() {
        assert!(matches!(raw_file(&specs(&["x.raw"])), Ok(Some(path)) if path == Path::new("x.raw")));
        assert!(matches!(raw_file(&[]), Ok(None)));
        assert!(matches!(raw_file(&specs(&["x.npy"])), Err(Failure::Files(_))));
        assert!(matches!(raw_file(&specs(&["a.raw", "b.raw"])), Err(Failure::Files(_))));
    }
}
