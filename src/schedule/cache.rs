//! The calibrated cost model on disk, one file per machine: adapter,
//! driver, CPU and thread count. A file that does not parse or was written
//! for another machine or another swath is ignored with a warning, and the
//! caller measures again.

use super::CostModel;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a calibration is valid for: measuring on a different adapter,
/// driver, CPU, thread count or swath gives different numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// swath's version: a new version may measure differently.
    pub swath: String,
    /// Adapter name and backend, empty without a GPU.
    pub adapter: String,
    /// Driver name and version, empty without a GPU.
    pub driver: String,
    /// CPU model.
    pub cpu: String,
    /// Threads of the CPU pool.
    pub threads: usize,
    /// [`CostModel::FORMAT`]: a model of other fields is measured again,
    /// its file never read.
    pub format: u32,
}

/// The file's contents.
#[derive(Serialize, Deserialize)]
struct Entry {
    key: CacheKey,
    model: CostModel,
}

/// Where calibrated models are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCache {
    dir: Option<PathBuf>,
}

impl ModelCache {
    /// The environment variable naming the cache directory; `off` keeps
    /// nothing on disk.
    pub const ENV: &'static str = "SWATH_CACHE_DIR";

    /// The directory of [`ModelCache::ENV`], else the user's cache
    /// directory (`$XDG_CACHE_HOME/swath`, `~/.cache/swath`,
    /// `~/Library/Caches/swath` or `%LOCALAPPDATA%\swath`).
    pub fn from_env() -> ModelCache {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let dir = match var(Self::ENV) {
            Some(dir) if dir == Path::new("off") => None,
            Some(dir) => Some(dir),
            None => user_cache_dir(var).map(|dir| dir.join("swath")),
        };
        ModelCache { dir }
    }

    /// A cache in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> ModelCache {
        ModelCache { dir: Some(dir.into()) }
    }

    /// A cache that keeps nothing: every engine measures.
    pub fn disabled() -> ModelCache {
        ModelCache { dir: None }
    }

    /// The file a model for `key` lives in, if the cache is on.
    pub fn path(&self, key: &CacheKey) -> Option<PathBuf> {
        let name = format!("cost-model-{:016x}.json", fnv1a(&serde_json::to_vec(key).unwrap_or_default()));
        self.dir.as_ref().map(|dir| dir.join(name))
    }

    /// The model stored for `key`; `None` (with a warning unless the file
    /// is simply absent) when it is missing, unreadable, corrupt or stale.
    pub fn load(&self, key: &CacheKey) -> Option<CostModel> {
        let path = self.path(key)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => return ignored(&path, &format!("unreadable: {e}")),
        };
        match serde_json::from_str::<Entry>(&text) {
            Err(e) => ignored(&path, &format!("corrupt: {e}")),
            Ok(entry) if entry.key != *key => ignored(&path, "stale: measured for another machine or swath version"),
            Ok(entry) if !plausible(&entry.model) => ignored(&path, "corrupt: rates must be positive and finite"),
            Ok(entry) => Some(entry.model),
        }
    }

    /// Stores `model` for `key`, atomically (a reader never sees half a
    /// file). Returns the path written; the error says why nothing was.
    pub fn store(&self, key: &CacheKey, model: &CostModel) -> std::io::Result<PathBuf> {
        let path = self.path(key).ok_or_else(|| std::io::Error::other("the model cache is off"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(&Entry { key: key.clone(), model: *model })?;
        let partial = path.with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, &path)?;
        Ok(path)
    }
}

fn ignored(path: &Path, why: &str) -> Option<CostModel> {
    log::warn!("ignoring the cost model cached in {}: {why}; measuring again", path.display());
    None
}

/// True if every rate of `model` could be real.
fn plausible(model: &CostModel) -> bool {
    let cpu = &model.cpu;
    let positive = |x: f64| x.is_finite() && x > 0.0;
    let times = |x: f64| x.is_finite() && x >= 0.0;
    let cpu_ok = cpu.threads > 0
        && positive(cpu.serial_bytes_per_s)
        && positive(cpu.bytes_per_s)
        && positive(cpu.memory_bytes_per_s)
        && positive(cpu.first_touch_bytes_per_s)
        && times(cpu.launch_s)
        && times(cpu.transcendental_s);
    cpu_ok
        && model.gpu.is_none_or(|gpu| {
            positive(gpu.upload_bytes_per_s)
                && positive(gpu.readback_bytes_per_s)
                && positive(gpu.bytes_per_s)
                && times(gpu.launch_s)
                && times(gpu.transcendental_s)
        })
}

/// The platform's per-user cache directory.
fn user_cache_dir(var: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    if cfg!(windows) {
        return var("LOCALAPPDATA");
    }
    if cfg!(target_os = "macos") {
        return var("HOME").map(|home| home.join("Library/Caches"));
    }
    var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|home| home.join(".cache")))
}

/// 64-bit FNV-1a: a stable file name for a key (std's hasher may change
/// between Rust releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CacheKey {
        CacheKey {
            swath: "0.1.0".into(),
            adapter: "a".into(),
            driver: "d".into(),
            cpu: "c".into(),
            threads: 4,
            format: 1,
        }
    }

    #[test]
    fn file_names_are_stable_across_runs() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn rejects_rates_no_machine_has() {
        let mut model = CostModel::with_threads(4);
        assert!(plausible(&model));
        model.cpu.bytes_per_s = f64::NAN;
        assert!(!plausible(&model));
        let mut model = CostModel::with_threads(4);
        model.gpu.as_mut().unwrap().upload_bytes_per_s = 0.0;
        assert!(!plausible(&model));
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        let cache = ModelCache::disabled();
        assert_eq!(cache.path(&key()), None);
        assert!(cache.store(&key(), &CostModel::with_threads(4)).is_err());
        assert_eq!(cache.load(&key()), None);
    }
}
