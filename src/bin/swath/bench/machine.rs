//! What the numbers were measured on: CPU model, threads, GPU adapter and swath version.

use swath::GpuInfo;

/// The machine and software behind a report.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The CPU's model name, or `unknown`.
    pub cpu: String,
    /// Threads of rayon's pool, which every CPU row shares.
    pub threads: usize,
    /// The adapter the swath_gpu rows ran on.
    pub adapter: Option<GpuInfo>,
    /// Why there is no adapter (empty when there is one).
    pub adapter_absent: String,
    pub swath_version: &'static str,
}

impl Machine {
    pub fn new(threads: usize, adapter: Option<GpuInfo>, adapter_absent: String) -> Machine {
        Machine { cpu: cpu_model(), threads, adapter, adapter_absent, swath_version: env!("CARGO_PKG_VERSION") }
    }

    /// True if the swath_gpu rows ran on a software adapter, whose speed says nothing about GPUs.
    pub fn software_gpu(&self) -> bool {
        self.adapter.as_ref().is_some_and(|adapter| adapter.software)
    }
}

/// The `model name` line of /proc/cpuinfo (Linux on x86 and most others), else `unknown`.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|text| model_name(&text)).unwrap_or_else(|| "unknown".into())
}

fn model_name(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim() == "model name")
        .map(|(_, value)| value.trim().to_string())
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_name_is_found() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n";
        assert_eq!(model_name(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(model_name("processor\t: 0\n"), None);
        assert_eq!(model_name("model name\t:\n"), None);
    }
}
