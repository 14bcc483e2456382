//! The files of `--json` and `--plot`: created before measuring starts, so that a path that cannot be
//! written fails at once rather than after minutes of measurement.

use crate::failure::Failure;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file created for writing, filled once the results are in.
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
    file: File,
}

impl OutputFile {
    /// Creates (or truncates) the file of option `option` (`--json`), or says why it cannot.
    pub fn create(option: &str, path: &Path) -> Result<OutputFile, Failure> {
        let file = File::create(path).map_err(|error| cannot_write(option, path, &error))?;
        Ok(OutputFile { path: path.to_path_buf(), file })
    }

    /// Writes `contents` and flushes them.
    pub fn write(mut self, contents: &str) -> Result<(), Failure> {
        let written = self.file.write_all(contents.as_bytes()).and_then(|()| self.file.flush());
        written.map_err(|error| cannot_write("the results", &self.path, &error))
    }
}

fn cannot_write(what: &str, path: &Path, error: &std::io::Error) -> Failure {
    Failure::Usage(format!("cannot write {what} to {}: {error}", path.display()))
}
