//! `swath`: run maps and reductions from the command line, and see where and why they run.

mod bench;
mod calibrate;
mod check;
mod cli;
mod devices;
mod distributed;
mod engine;
mod failure;
mod format;
mod logger;
mod run;
mod sample;
mod square;
mod vulkan;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_display_lookup();
    logger::init();
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let result = match &cli.command {
        Command::Square(args) => square::run(args, cli.device, &mut out),
        Command::Devices => devices::run(cli.device, &mut out),
        Command::Run(args) => run::run(args, cli.device, &mut out),
        Command::Bench(args) => bench::run(args, cli.device, &mut out),
        Command::Calibrate(args) => calibrate::run(cli.device, args.threads.map(usize::from), &mut out),
        Command::Check(args) => check::run(args, cli.device, &mut out),
    };
    match result.and_then(|()| std::io::Write::flush(&mut out).map_err(Into::into)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Mesa's Vulkan drivers look for a Wayland display when a device opens and, on a machine without a
/// login session (a server, a container, CI), print "XDG_RUNTIME_DIR is invalid or not set" each time.
/// swath never draws on a screen, so the variable points at the temporary directory when unset, before
/// any thread starts.
fn quiet_display_lookup() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
}
