//! Files of raw little-endian values, read and written a shard at a time.

use super::error::{Error, Result};
use crate::Element;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;

/// Elements of type `T` in the file at `path`: its length over `T`'s size, which must divide it.
///
/// ```
/// use swath::distributed::{raw_len, write_raw};
/// let path = std::env::temp_dir().join(format!("swath-raw-len-{}.f32", std::process::id()));
/// write_raw(&path, &[1.0f32, 2.0, 3.0])?;
/// assert_eq!(raw_len::<f32>(&path)?, 3);
/// assert!(raw_len::<f64>(&path).is_err()); // 12 bytes are not a whole number of f64
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), swath::distributed::Error>(())
/// ```
pub fn raw_len<T: Element>(path: &Path) -> Result<usize> {
    let io = |source| Error::Io { action: "read the length of", path: path.into(), source };
    let bytes = std::fs::metadata(path).map_err(io)?.len();
    let size = T::DTYPE.size() as u64;
    if bytes % size != 0 {
        return Err(Error::RaggedFile { path: path.into(), bytes, dtype: T::DTYPE });
    }
    Ok((bytes / size) as usize)
}

/// Elements `range` of the file of raw little-endian `T` values at `path`: one rank's shard.
///
/// ```
/// use swath::distributed::{read_raw, write_raw};
/// let path = std::env::temp_dir().join(format!("swath-read-raw-{}.i32", std::process::id()));
/// write_raw(&path, &[10i32, 20, 30, 40])?;
/// assert_eq!(read_raw::<i32>(&path, 1..3)?, [20, 30]);
/// assert!(read_raw::<i32>(&path, 3..5).is_err()); // past the end
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), swath::distributed::Error>(())
/// ```
pub fn read_raw<T: Element>(path: &Path, range: Range<usize>) -> Result<Vec<T>> {
    let size = T::DTYPE.size();
    let mut values = Vec::new();
    values.try_reserve_exact(range.len()).map_err(|_| Error::OutOfMemory {
        what: "the shard read from the input file",
        bytes: (range.len() * size) as u64,
    })?;
    values.resize(range.len(), T::default());
    let io = |action| move |source| Error::Io { action, path: path.into(), source };
    let mut file = File::open(path).map_err(io("open"))?;
    file.seek(SeekFrom::Start((range.start * size) as u64)).map_err(io("seek in"))?;
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut values);
    file.read_exact(bytes).map_err(io("read"))?;
    to_native(bytes, size);
    Ok(values)
}

/// Writes `values` to `path` as raw little-endian values, replacing any file there.
pub fn write_raw<T: Element>(path: &Path, values: &[T]) -> Result<()> {
    let io = |action| move |source| Error::Io { action, path: path.into(), source };
    let mut file = File::create(path).map_err(io("create"))?;
    let bytes: &[u8] = bytemuck::cast_slice(values);
    if cfg!(target_endian = "little") {
        file.write_all(bytes).map_err(io("write"))?;
    } else {
        let mut swapped = bytes.to_vec();
        to_native(&mut swapped, T::DTYPE.size());
        file.write_all(&swapped).map_err(io("write"))?;
    }
    file.sync_all().map_err(io("write"))
}

/// Swaps little-endian values of `size` bytes to the host's order and back (nothing to do on
/// little-endian hosts).
fn to_native(bytes: &mut [u8], size: usize) {
    if cfg!(target_endian = "big") {
        bytes.chunks_exact_mut(size).for_each(<[u8]>::reverse);
    }
}
