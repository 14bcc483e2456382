//! Why no GPU adapter opens: on a headless Linux server the usual cause is a missing Vulkan loader or
//! a missing driver manifest (ICD file), such as NVIDIA's in a container started without the `graphics`
//! driver capability. wgpu then simply finds no adapter; these checks say which piece is missing.

use std::path::{Path, PathBuf};

/// What was found, one line each, ending with what is probably missing. Empty off Linux.
pub fn diagnose() -> Vec<String> {
    if !cfg!(target_os = "linux") {
        return Vec::new();
    }
    let loader = find_loader();
    let manifests = Manifests::find();
    let mut lines = vec![match &loader {
        Some(path) => format!("Vulkan loader: {}", path.display()),
        None => "Vulkan loader: libvulkan.so.1 not found in the library paths".into(),
    }];
    lines.extend(manifests.describe());
    lines.push(format!("probably: {}", likely_cause(loader.is_some(), &manifests, nvidia_kernel_driver())));
    lines
}

/// The most likely reason, given what exists.
fn likely_cause(loader: bool, manifests: &Manifests, nvidia: bool) -> String {
    let nvidia_icd = manifests.found.iter().any(|path| path.to_string_lossy().contains("nvidia"));
    if !loader {
        "no Vulkan loader: install it (Debian/Ubuntu: libvulkan1; Fedora: vulkan-loader)".into()
    } else if !manifests.missing.is_empty() {
        format!("{} names driver files that do not exist: fix or unset it", manifests.variable)
    } else if nvidia && !nvidia_icd {
        "no NVIDIA Vulkan ICD: install the driver's Vulkan component, or in a container set \
         NVIDIA_DRIVER_CAPABILITIES to include graphics (e.g. compute,utility,graphics)"
            .into()
    } else if manifests.found.is_empty() {
        "no Vulkan driver: install your GPU vendor's Vulkan driver (or mesa-vulkan-drivers for a \
         software one)"
            .into()
    } else {
        "the drivers listed found no device they can run compute shaders on (SWATH_LOG=debug shows \
         what wgpu saw)"
            .into()
    }
}

/// `libvulkan.so.1` in `LD_LIBRARY_PATH` or the usual library directories.
fn find_loader() -> Option<PathBuf> {
    let from_env = std::env::var("LD_LIBRARY_PATH").unwrap_or_default();
    let usual = [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
        "/usr/local/lib",
    ];
    let found = from_env
        .split(':')
        .filter(|dir| !dir.is_empty())
        .chain(usual)
        .map(|dir| Path::new(dir).join("libvulkan.so.1"))
        .find(|path| path.exists());
    found
}

/// True if NVIDIA's kernel driver is loaded: the GPU is there, whatever Vulkan finds.
fn nvidia_kernel_driver() -> bool {
    Path::new("/proc/driver/nvidia/version").exists() || Path::new("/dev/nvidia0").exists()
}

/// The driver manifests (ICD files) the loader reads.
struct Manifests {
    /// The variable that lists them explicitly, or "the standard paths".
    variable: String,
    found: Vec<PathBuf>,
    /// Files an explicit list names that do not exist.
    missing: Vec<PathBuf>,
    /// Where the loader looked.
    searched: Vec<PathBuf>,
}

impl Manifests {
    fn find() -> Manifests {
        for variable in ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"] {
            if let Some(list) = std::env::var_os(variable).filter(|list| !list.is_empty()) {
                let (found, missing) = std::env::split_paths(&list).partition(|path| path.is_file());
                return Manifests { variable: variable.into(), found, missing, searched: Vec::new() };
            }
        }
        let searched = standard_dirs();
        let mut found: Vec<PathBuf> = searched
            .iter()
            .filter_map(|dir| std::fs::read_dir(dir).ok())
            .flatten()
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        found.sort();
        Manifests { variable: "the standard paths".into(), found, missing: Vec::new(), searched }
    }

    fn describe(&self) -> Vec<String> {
        let list = |paths: &[PathBuf]| paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        let mut lines = Vec::new();
        if !self.missing.is_empty() {
            lines.push(format!("{} names files that do not exist: {}", self.variable, list(&self.missing)));
        }
        lines.push(match (self.found.is_empty(), self.searched.is_empty()) {
            (false, _) => format!("Vulkan drivers (ICD files, from {}): {}", self.variable, list(&self.found)),
            (true, false) => format!("Vulkan drivers (ICD files): none in {}", list(&self.searched)),
            (true, true) => format!("Vulkan drivers (ICD files): none that {} names exists", self.variable),
        });
        lines
    }
}

/// The directories the Vulkan loader searches for driver manifests on Linux.
fn standard_dirs() -> Vec<PathBuf> {
    let var = |name: &str, default: &str| std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or(default.into());
    let home_data = std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share"));
    let data_home = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).or(home_data);
    let config = var("XDG_CONFIG_DIRS", "/etc/xdg");
    let data = var("XDG_DATA_DIRS", "/usr/local/share:/usr/share");
    let roots = config.split(':').map(PathBuf::from).chain([PathBuf::from("/etc")]).chain(data_home);
    let roots = roots.chain(data.split(':').map(PathBuf::from));
    let mut dirs: Vec<PathBuf> = roots.map(|root| root.join("vulkan/icd.d")).collect();
    dirs.dedup();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifests(found: &[&str], missing: &[&str]) -> Manifests {
        Manifests {
            variable: "VK_DRIVER_FILES".into(),
            found: found.iter().map(PathBuf::from).collect(),
            missing: missing.iter().map(PathBuf::from).collect(),
            searched: Vec::new(),
        }
    }

    #[test]
    fn the_cause_names_the_missing_piece() {
        assert!(likely_cause(false, &manifests(&[], &[]), false).contains("no Vulkan loader"));
        assert!(likely_cause(true, &manifests(&[], &["/x.json"]), false).contains("do not exist"));
        let lavapipe_only = manifests(&["/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"], &[]);
        assert!(likely_cause(true, &lavapipe_only, true).contains("NVIDIA_DRIVER_CAPABILITIES"));
        assert!(likely_cause(true, &manifests(&[], &[]), false).contains("no Vulkan driver"));
        let nvidia = manifests(&["/usr/share/vulkan/icd.d/nvidia_icd.json"], &[]);
        assert!(likely_cause(true, &nvidia, true).contains("found no device"));
    }
}
