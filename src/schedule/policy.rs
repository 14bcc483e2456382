//! [`Policy`]: the user's say over where jobs run.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// The user's say over where jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Let the scheduler choose (the default).
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// The GPU whenever it can run the job, a software adapter included.
    Gpu,
    /// Every map or reduction on host data the GPU can run is split
    /// between the GPU and the CPU, in proportion to their predicted
    /// speed; everything else is routed as under `auto`.
    Both,
}

impl Policy {
    /// The environment variable that sets the policy of [`crate::Engine::new`].
    pub const ENV: &'static str = "SWATH_DEVICE";

    /// Reads [`Policy::ENV`]; unset or empty means `auto`.
    pub fn from_env() -> Result<Policy> {
        match std::env::var(Self::ENV) {
            Ok(text) if !text.trim().is_empty() => text.parse(),
            _ => Ok(Policy::Auto),
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Auto => "auto",
            Policy::Cpu => "cpu",
            Policy::Gpu => "gpu",
            Policy::Both => "both",
        })
    }
}

impl FromStr for Policy {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Policy::Auto),
            "cpu" => Ok(Policy::Cpu),
            "gpu" => Ok(Policy::Gpu),
            "both" => Ok(Policy::Both),
            _ => Err(Error::Parse {
                what: "device policy",
                input: text.to_string(),
                expected: "auto, cpu, gpu or both".into(),
            }),
        }
    }
}
