//! `--output FILE`: a map's result saved as a 1-D .npy array, whole or not at all.

use super::npy;
use crate::failure::Failure;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use swath::Element;
use tempfile::NamedTempFile;

/// The output file in the making: a temporary file beside the destination, renamed onto it once
/// complete. Dropped before that, on any error, it removes the temporary file, so a failed run leaves
/// neither a partial array nor a stray file, and an existing FILE stays as it was.
pub struct PendingOutput {
    path: PathBuf,
    temp: NamedTempFile,
}

impl PendingOutput {
    /// Creates the temporary file now, so that an output that cannot be written fails before the job
    /// runs rather than after.
    pub fn create(path: &Path) -> Result<PendingOutput, Failure> {
        let bad = |problem: String| Failure::Files(format!("output {} {problem}", path.display()));
        if path.is_dir() {
            return Err(bad("is a directory; give a file name, such as y.npy".into()));
        }
        let name = path.file_name().ok_or_else(|| bad("names no file; give one, such as y.npy".into()))?;
        let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let prefix = format!(".{}.", name.to_string_lossy());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // The result is the user's file, not a private temporary one: it gets what `File::create`
        // gives (0o666 less the umask), not the owner-only mode temporary files get.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        // Renaming is atomic only within one file system: the temporary file goes in FILE's directory.
        let temp = builder
            .tempfile_in(dir)
            .map_err(|error| bad(format!("cannot be created in {}: {error}", dir.display())))?;
        Ok(PendingOutput { path: path.into(), temp })
    }

    /// The file the result goes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `values` as .npy and renames the file onto FILE.
    pub fn finish<T: Element>(mut self, values: &[T]) -> Result<(), Failure> {
        let path = self.path.display().to_string();
        let failed = |error: std::io::Error| Failure::Files(format!("output {path} cannot be written: {error}"));
        let mut out = BufWriter::new(self.temp.as_file_mut());
        npy::write(&mut out, values).map_err(failed)?;
        out.flush().map_err(failed)?;
        drop(out);
        self.temp.persist(&self.path).map_err(|error| failed(error.error))?;
        Ok(())
    }
}
