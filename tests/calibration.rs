//! The calibrated cost model on disk: a good file is used as it is; a
//! corrupt, stale or implausible one is ignored with a warning and
//! replaced by a fresh measurement.

use std::path::PathBuf;
use std::sync::Mutex;
use swath::schedule::{CacheKey, CostModel, ModelCache};
use swath::{Engine, Policy};

/// Warnings logged so far, by every test of this binary.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Recorder;

impl log::Log for Recorder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            WARNINGS.lock().unwrap_or_else(|p| p.into_inner()).push(record.args().to_string());
        }
    }

    fn flush(&self) {}
}

fn record_warnings() {
    static RECORDER: Recorder = Recorder;
    if log::set_logger(&RECORDER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

/// True if a warning mentioning `path` and `why` was logged.
fn warned(path: &std::path::Path, why: &str) -> bool {
    let path = path.display().to_string();
    WARNINGS.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|w| w.contains(&path) && w.contains(why))
}

/// A fresh, empty cache directory for `test`.
fn cache_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("swath-calibration-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A CPU engine caching its model in `dir` (a CPU engine measures quickly).
fn engine(dir: &PathBuf) -> Engine {
    Engine::builder().policy(Policy::Cpu).threads(2).model_cache(ModelCache::at(dir)).build().expect("a CPU engine")
}

/// A model no machine measures, to tell a loaded model from a measured one.
fn marker() -> CostModel {
    let mut model = CostModel::with_threads(2);
    model.gpu = None;
    model.cpu.launch_s = 123e-6;
    model
}

fn write_entry(path: &PathBuf, key: &CacheKey, model: &CostModel) {
    let entry = serde_json::json!({ "key": key, "model": model });
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, entry.to_string()).unwrap();
}

/// Checks that the file was replaced by a valid entry for `key`.
fn assert_rebuilt(cache: &ModelCache, key: &CacheKey, model: &CostModel) {
    assert_eq!(cache.load(key).as_ref(), Some(model), "the fresh model is cached");
    assert!(model.cpu.bytes_per_s > 0.0 && model.cpu.bytes_per_s.is_finite(), "{model:?}");
}

#[test]
fn a_measured_model_is_cached_and_read_back_by_the_next_engine() {
    let dir = cache_dir("roundtrip");
    let first = engine(&dir);
    let measured = first.cost_model();
    let path = ModelCache::at(&dir).path(&first.cache_key()).unwrap();
    assert!(path.exists(), "the model is cached in {}", path.display());
    assert_eq!(engine(&dir).cost_model(), measured, "a second engine reads the cached model");
}

#[test]
fn a_cached_model_is_used_as_it_is() {
    let dir = cache_dir("used");
    let engine = engine(&dir);
    let key = engine.cache_key();
    write_entry(&ModelCache::at(&dir).path(&key).unwrap(), &key, &marker());
    assert_eq!(engine.cost_model(), marker());
}

/// In a fresh cache for `test`, lets `spoil` write the engine's cache file
/// (given its path and the engine's key), then checks that the engine
/// warns with `why`, measures a model of its own and caches it. Returns
/// that model.
fn assert_ignored_and_rebuilt(test: &str, why: &str, spoil: impl FnOnce(&PathBuf, &CacheKey)) -> CostModel {
    record_warnings();
    let dir = cache_dir(test);
    let engine = engine(&dir);
    let key = engine.cache_key();
    let path = ModelCache::at(&dir).path(&key).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    spoil(&path, &key);
    let model = engine.cost_model();
    assert!(warned(&path, why), "{test}: a warning names the file and says {why:?}");
    assert_rebuilt(&ModelCache::at(&dir), &key, &model);
    model
}

#[test]
fn a_corrupt_file_is_ignored_with_a_warning_and_rebuilt() {
    for (name, text) in [("garbage", "{ not json"), ("empty", ""), ("truncated", "{\"key\": {\"swath\": ")] {
        assert_ignored_and_rebuilt(name, "corrupt", |path, _| std::fs::write(path, text).unwrap());
    }
}

#[test]
fn a_stale_file_is_ignored_with_a_warning_and_rebuilt() {
    let model = assert_ignored_and_rebuilt("stale", "stale", |path, key| {
        let older = CacheKey { swath: "0.0.1".into(), ..key.clone() };
        write_entry(path, &older, &marker());
    });
    assert_ne!(model, marker(), "the stale model is not used");
}

#[test]
fn an_implausible_model_is_ignored_with_a_warning_and_rebuilt() {
    assert_ignored_and_rebuilt("implausible", "corrupt", |path, key| {
        let mut broken = marker();
        broken.cpu.bytes_per_s = -1.0;
        write_entry(path, key, &broken);
    });
}

#[test]
fn calibrate_measures_again_and_replaces_the_cached_model() {
    let dir = cache_dir("recalibrate");
    let engine = engine(&dir);
    let key = engine.cache_key();
    write_entry(&ModelCache::at(&dir).path(&key).unwrap(), &key, &marker());
    assert_eq!(engine.cost_model(), marker());
    let fresh = engine.calibrate();
    assert_ne!(fresh, marker());
    assert_eq!(engine.cost_model(), fresh, "the engine routes by the new model");
    assert_eq!(ModelCache::at(&dir).load(&key), Some(fresh), "and cached it");
}

#[test]
fn a_disabled_cache_still_gives_a_measured_model() {
    let engine = Engine::builder().policy(Policy::Cpu).model_cache(ModelCache::disabled()).build().unwrap();
    let model = engine.cost_model();
    assert!(model.cpu.bytes_per_s > 0.0 && model.gpu.is_none(), "{model:?}");
}
