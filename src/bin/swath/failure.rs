//! Why a command failed, and the exit code that says so.

use std::fmt;
use std::io::{self, Write};
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
    /// An input or output file that cannot be used as the command line gives it: missing, malformed, of
    /// a type or length that does not fit, or bound to no input. Like clap's usage errors, the command
    /// line has to change, and the exit status is the same, 2.
    Files(String),
    /// `swath check` found results of the GPU that differ from the CPU's, or had no GPU to check.
    Check(String),
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
            Failure::Usage(message) | Failure::Files(message) | Failure::Check(message) => f.write_str(message),
        }
    }
}

impl Failure {
    /// Prints the failure on stderr and returns its exit code: 2 for files that do not fit the command line,
    /// as for clap's usage errors, 1 for everything else.
    pub fn report(&self) -> ExitCode {
        // A closed pipe (`swath devices | head -1`) is the reader's choice, not an error to explain.
        let broken_pipe = matches!(self, Failure::Output(error) if error.kind() == io::ErrorKind::BrokenPipe);
        if !broken_pipe {
            // One write for the whole line: `eprintln!` writes its pieces one by one to the unbuffered
            // stderr, and under `mpirun` the launcher's own report of a failed rank can land between them.
            let line = format!("error: {self}\n");
            let _ = io::stderr().write_all(line.as_bytes());
        }
        match self {
            Failure::Files(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}
