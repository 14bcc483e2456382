//! Why a command failed, and the exit code that says so.

use std::fmt;
use std::io;
use std::process::ExitCode;

/// A failed command: the engine refused or failed the job, or the report could not be written.
#[derive(Debug)]
pub enum Failure {
    /// An error from swath: its message says what to change.
    Swath(swath::Error),
    /// Writing to stdout failed.
    Output(io::Error),
    /// A request that got past argument parsing but cannot be carried out.
    Usage(String),
}

impl From<swath::Error> for Failure {
    fn from(error: swath::Error) -> Self {
        Failure::Swath(error)
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Failure::Output(error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Swath(error) => write!(f, "{error}"),
            Failure::Output(error) => write!(f, "cannot write the output: {error}"),
            Failure::Usage(message) => f.write_str(message),
        }
    }
}

impl Failure {
    /// Prints the failure on stderr and returns exit code 1 (clap's usage errors exit with 2).
    pub fn report(&self) -> ExitCode {
        // A closed pipe (`swath devices | head -1`) is the reader's choice, not an error to explain.
        let broken_pipe = matches!(self, Failure::Output(error) if error.kind() == io::ErrorKind::BrokenPipe);
        if !broken_pipe {
            eprintln!("error: {self}");
        }
        ExitCode::FAILURE
    }
}
