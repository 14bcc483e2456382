//! A minimal `log` backend on stderr, so the engine's warnings (a GPU job rerun on the CPU) reach the user.

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;

/// The environment variable that sets the level.
const ENV: &str = "SWATH_LOG";

/// Without `SWATH_LOG`: warnings and errors only.
const DEFAULT_LEVEL: LevelFilter = LevelFilter::Warn;

struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            let level = record.level().as_str().to_ascii_lowercase();
            // A log line that cannot be written has nowhere else to go: drop it.
            let _ = writeln!(std::io::stderr().lock(), "{level} [{}] {}", record.target(), record.args());
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Installs the logger at the level of `SWATH_LOG` (error, warn, info, debug, trace or off).
pub fn init() {
    let requested = std::env::var(ENV).ok().filter(|text| !text.trim().is_empty());
    let parsed = requested.as_deref().map(|text| text.trim().parse::<LevelFilter>());
    if log::set_logger(&LOGGER).is_err() {
        return;
    }
    log::set_max_level(match parsed {
        Some(Ok(level)) => level,
        _ => DEFAULT_LEVEL,
    });
    if let (Some(text), Some(Err(_))) = (&requested, &parsed) {
        log::warn!("ignoring {ENV}={text:?}: expected error, warn, info, debug, trace or off");
    }
}
