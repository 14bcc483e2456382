//! `swath bench`, run the way a user runs it, on sizes small enough to take a second or two.

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

const OPS: [&str; 3] = ["square", "sum", "sumsq"];
/// The ops that return a new vector per call, as users call them; not in the default set.
const NEW_VECTOR_OPS: [&str; 2] = ["square_new", "transcendental"];
/// The data-parallel primitives; not in the default set either.
const PRIMITIVE_OPS: [&str; 4] = ["scan", "filter", "argmax", "histogram"];
const CPU_DEVICES: [&str; 3] = ["plain_loop", "rayon", "swath_cpu"];
/// The rows of a GPU-only run with `--resident`: the baselines, the host path and the resident path.
const RESIDENT_DEVICES: [&str; 4] = ["plain_loop", "rayon", "swath_gpu", "swath_gpu_resident"];

/// `swath bench` with `args`, isolated from the caller's routing policy, log level and size settings.
fn bench(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_swath"));
    command.arg("bench").args(args);
    command.env_remove("SWATH_DEVICE").env_remove("SWATH_LOG").env_remove("SWATH_BENCH_LARGE");
    command
}

fn run(args: &[&str]) -> Output {
    bench(args).output().expect("the swath binary can be started")
}

/// Runs `args`, checks that it succeeded, and returns stdout.
fn succeeds(args: &[&str]) -> String {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "swath bench {args:?} failed: {:?}\n{stderr}", output.status);
    assert!(!stderr.contains("panicked"), "swath bench {args:?} panicked: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `args` and checks that it fails with `code`, without a panic, saying something about `hint`.
fn fails(args: &[&str], code: i32, hint: &str) {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "swath bench {args:?}: stderr {stderr}");
    assert!(!stderr.contains("panicked"), "swath bench {args:?} panicked: {stderr}");
    assert!(stderr.contains(hint), "swath bench {args:?}: stderr should mention {hint:?}, got: {stderr}");
}

/// A path in the temporary directory that no other test, nor another run of this one, uses.
fn temp_path(name: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos());
    std::env::temp_dir().join(format!("swath-bench-{}-{nanos}-{name}", std::process::id()))
}

/// The table's rows as (op, n, device): the lines under the header that names the device column, up to
/// the first line that is not a row (the blank line before the GPU phases, or a footnote).
fn table_rows(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .skip_while(|line| !(line.starts_with("op ") && line.contains("device")))
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .take_while(|words| {
            let op = words.first().copied().unwrap_or_default();
            let known = OPS.contains(&op) || NEW_VECTOR_OPS.contains(&op) || PRIMITIVE_OPS.contains(&op);
            words.len() >= 3 && known && words[1].starts_with("2^")
        })
        .map(|words| (words[0].to_string(), words[1].to_string(), words[2].to_string()))
        .collect()
}

/// Every (op, n, device) of the default ops for `sizes` and `devices`.
fn expected_rows(sizes: &[&str], devices: &[&str]) -> BTreeSet<(String, String, String)> {
    expected_rows_of(&OPS, sizes, devices)
}

/// Every (op, n, device) for `ops`, `sizes` and `devices`.
fn expected_rows_of(ops: &[&str], sizes: &[&str], devices: &[&str]) -> BTreeSet<(String, String, String)> {
    let mut expected = BTreeSet::new();
    for &op in ops {
        for size in sizes {
            for device in devices {
                expected.insert((op.to_string(), size.to_string(), device.to_string()));
            }
        }
    }
    expected
}

/// True if a GPU engine opens. Without one the test is skipped (reported on stderr directly, since
/// libtest captures `eprintln!`), unless `SWATH_REQUIRE_GPU=1` makes that a failure.
fn gpu_available(test: &str) -> bool {
    let opened = swath::Engine::builder().policy(swath::Policy::Gpu).build();
    let Err(error) = opened else { return true };
    assert!(std::env::var("SWATH_REQUIRE_GPU").as_deref() != Ok("1"), "SWATH_REQUIRE_GPU=1 but no GPU opens: {error}");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: no GPU adapter");
    false
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value.as_object().map(|object| object.keys().map(String::as_str).collect()).unwrap_or_default()
}

fn read_json(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).expect("--json wrote its file");
    let _ = std::fs::remove_file(path);
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("--json wrote invalid JSON ({error}): {text}"))
}

#[test]
fn the_table_has_a_row_per_op_size_and_device() {
    let stdout = succeeds(&["--sizes", "10,12", "--repeat", "3", "--devices", "cpu"]);
    let rows = table_rows(&stdout);
    let unique: BTreeSet<_> = rows.iter().cloned().collect();
    assert_eq!(unique.len(), rows.len(), "a row appears twice:\n{stdout}");
    assert_eq!(unique, expected_rows(&["2^10", "2^12"], &CPU_DEVICES), "{stdout}");
    for header in ["swath ", "cpu:", "adapter:", "bandwidth:", "vs rayon"] {
        assert!(stdout.contains(header), "no {header:?} in:\n{stdout}");
    }
}

/// One quick run of the ops that return a new vector: a row each, GB/s counted as for any map, and the
/// JSON says what each op computes.
#[test]
fn the_new_vector_ops_run_at_a_tiny_size() {
    for (ops, name) in [(&NEW_VECTOR_OPS[..], "new-vector.json"), (&PRIMITIVE_OPS[..], "primitives.json")] {
        check_tiny_run(ops, name);
    }
}

/// One run of `ops` at 2^10 on the CPU: a row each, positive GB/s and bandwidth shares in the JSON.
fn check_tiny_run(ops: &[&str], name: &str) {
    let path = temp_path(name);
    let json = path.to_str().expect("temporary paths are UTF-8");
    let list = ops.join(",");
    let stdout = succeeds(&["--ops", &list, "--sizes", "10", "--repeat", "1", "--devices", "cpu", "--json", json]);
    let rows: BTreeSet<_> = table_rows(&stdout).into_iter().collect();
    assert_eq!(rows, expected_rows_of(ops, &["2^10"], &CPU_DEVICES), "{stdout}");
    let document = read_json(&path);
    let described: Vec<&str> =
        document["ops"].as_array().into_iter().flatten().filter_map(|op| op["op"].as_str()).collect();
    assert_eq!(described, ops, "{document}");
    for result in document["results"].as_array().expect("results is an array") {
        assert!(result["gbps"].as_f64().is_some_and(|gbps| gbps > 0.0), "{result}");
        assert!(result["fraction_of_bandwidth"].as_f64().is_some_and(|share| share > 0.0), "{result}");
    }
}

#[test]
fn json_has_the_documented_keys() {
    let path = temp_path("results.json");
    let json = path.to_str().expect("temporary paths are UTF-8");
    succeeds(&["--sizes", "10,12", "--repeat", "3", "--devices", "cpu", "--json", json]);
    let document = read_json(&path);
    for key in ["swath_version", "cpu", "threads", "adapter", "bandwidth", "ops", "results"] {
        assert!(keys(&document).contains(key), "no {key:?} in {document}");
    }
    for key in ["device_copy_gbps", "upload_gbps", "readback_gbps"] {
        assert!(document[key].is_null() && keys(&document).contains(key), "{key} is not null: {document}");
    }
    assert_eq!(document["swath_version"], env!("CARGO_PKG_VERSION"));
    assert!(document["threads"].as_u64().is_some_and(|threads| threads >= 1));
    assert!(document["adapter"].is_null(), "--devices cpu measures no adapter: {document}");
    assert!(document["bandwidth"]["copy_gbps"].as_f64().is_some_and(|gbps| gbps > 0.0), "{document}");
    assert!(document["bandwidth"]["read_gbps"].as_f64().is_some_and(|gbps| gbps > 0.0), "{document}");
    let results = document["results"].as_array().expect("results is an array");
    assert_eq!(results.len(), OPS.len() * 2 * CPU_DEVICES.len(), "{document}");
    let documented = [
        "op",
        "n",
        "device",
        "median_s",
        "min_s",
        "max_s",
        "gbps",
        "fraction_of_bandwidth",
        "speedup_over_rayon",
        "gpu_profile",
        "fraction_of_device_bandwidth",
        "regret",
    ];
    for result in results {
        for key in documented {
            assert!(keys(result).contains(key), "no {key:?} in {result}");
        }
        let (min, median, max) = (result["min_s"].as_f64(), result["median_s"].as_f64(), result["max_s"].as_f64());
        assert!(min <= median && median <= max && min.is_some_and(|s| s > 0.0), "{result}");
        assert!(result["gpu_profile"].is_null(), "{result}");
        assert!(result["fraction_of_device_bandwidth"].is_null() && result["regret"].is_null(), "{result}");
        if result["device"] == "rayon" {
            assert_eq!(result["speedup_over_rayon"], 1.0, "{result}");
        }
    }
}

#[test]
fn plot_writes_an_svg_chart() {
    let path = temp_path("chart.svg");
    let plot = path.to_str().expect("temporary paths are UTF-8");
    succeeds(&["--sizes", "10", "--repeat", "3", "--devices", "cpu", "--ops", "sum", "--plot", plot]);
    let svg = std::fs::read_to_string(&path).expect("--plot wrote its file");
    let _ = std::fs::remove_file(&path);
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "not an SVG: {}", &svg[..svg.len().min(200)]);
    assert!(svg.contains("GB/s") && svg.contains("swath_cpu"), "the chart has no axis title or legend");
}

#[test]
fn bad_sizes_fail_cleanly() {
    fails(&["--sizes", "40"], 2, "too large");
    fails(&["--sizes", "x"], 2, "--sizes");
    fails(&["--sizes", "12..10"], 2, "empty");
    fails(&["--sizes", "10..20:0"], 2, "step");
}

#[test]
fn an_unwritable_file_fails_before_measuring() {
    let missing = temp_path("missing-directory").join("results.json");
    let json = missing.to_str().expect("temporary paths are UTF-8");
    fails(&["--sizes", "10", "--devices", "cpu", "--json", json], 1, "cannot write");
    fails(&["--sizes", "10", "--devices", "cpu", "--plot", json], 1, "cannot write");
}

#[test]
fn the_device_option_points_to_devices() {
    fails(&["--device", "cpu", "--sizes", "10"], 1, "--devices");
}

#[test]
fn gpu_rows_come_with_their_phases() {
    if !gpu_available("gpu_rows_come_with_their_phases") {
        return;
    }
    let path = temp_path("gpu.json");
    let json = path.to_str().expect("temporary paths are UTF-8");
    let stdout = succeeds(&["--sizes", "10,12", "--repeat", "3", "--devices", "cpu,gpu", "--json", json]);
    // On a software adapter the device is marked `swath_gpu(sw)`.
    let rows: BTreeSet<_> = table_rows(&stdout)
        .into_iter()
        .map(|(op, n, device)| (op, n, device.trim_end_matches("(sw)").to_string()))
        .collect();
    let devices = ["plain_loop", "rayon", "swath_cpu", "swath_gpu", "swath_both", "swath_auto"];
    assert_eq!(rows, expected_rows(&["2^10", "2^12"], &devices), "{stdout}");
    assert!(stdout.contains("crossover"), "{stdout}");
    let document = read_json(&path);
    let adapter = &document["adapter"];
    assert_eq!(keys(adapter), BTreeSet::from(["name", "driver", "software"]), "{document}");
    let results = document["results"].as_array().expect("results is an array");
    let gpu_results: Vec<&Value> = results.iter().filter(|result| result["device"] == "swath_gpu").collect();
    assert_eq!(gpu_results.len(), OPS.len() * 2, "{document}");
    for result in gpu_results {
        let profile = &result["gpu_profile"];
        for phase in ["upload_s", "kernel_s", "readback_s"] {
            assert!(profile[phase].as_f64().is_some_and(|seconds| seconds >= 0.0), "no {phase} in {result}");
        }
    }
}

/// The finite, positive number at `key` of `value`, or a panic naming it.
fn positive(value: &Value, key: &str) -> f64 {
    let number = value[key].as_f64().unwrap_or(f64::NAN);
    assert!(number.is_finite() && number > 0.0, "{key} is not a positive number in {value}");
    number
}

/// `--resident` on the GPU alone: resident rows for every op beside the host-path rows, the GPU's copy
/// and transfer bandwidth in the header and the JSON, and each GPU row's share of its device bound.
#[test]
fn resident_rows_compare_with_the_gpus_own_bandwidth() {
    if !gpu_available("resident_rows_compare_with_the_gpus_own_bandwidth") {
        return;
    }
    let path = temp_path("resident.json");
    let json = path.to_str().expect("temporary paths are UTF-8");
    let stdout = succeeds(&["--resident", "--devices", "gpu", "--sizes", "16,20", "--repeat", "1", "--json", json]);
    let rows: BTreeSet<_> = table_rows(&stdout)
        .into_iter()
        .map(|(op, n, device)| (op, n, device.trim_end_matches("(sw)").to_string()))
        .collect();
    assert_eq!(rows, expected_rows(&["2^16", "2^20"], &RESIDENT_DEVICES), "{stdout}");
    assert!(stdout.contains("gpu bw:") && stdout.contains("% dev"), "{stdout}");
    let document = read_json(&path);
    let device_copy = positive(&document, "device_copy_gbps");
    let (upload, readback) = (positive(&document, "upload_gbps"), positive(&document, "readback_gbps"));
    assert!(device_copy < 1e6 && upload < 1e6 && readback < 1e6, "implausible GPU bandwidth: {document}");
    let results = document["results"].as_array().expect("results is an array");
    for result in results {
        match result["device"].as_str() {
            Some("swath_gpu" | "swath_gpu_resident") => {
                positive(result, "fraction_of_device_bandwidth");
            }
            _ => assert!(result["fraction_of_device_bandwidth"].is_null(), "{result}"),
        }
    }
    let resident = results.iter().filter(|result| result["device"] == "swath_gpu_resident");
    assert_eq!(resident.count(), OPS.len() * 2, "{document}");
}

/// The auto policy against the devices it chooses from: a regret column, the worst regret in the
/// summary, and a finite regret on every swath_auto row of the JSON. Without --devices, so that it runs
/// with a GPU (auto then chooses) and without one (auto runs on the CPU, its regret against it alone).
#[test]
fn auto_rows_report_their_routing_regret() {
    let path = temp_path("regret.json");
    let json = path.to_str().expect("temporary paths are UTF-8");
    let stdout = succeeds(&["--ops", "sum,square", "--sizes", "12,16", "--repeat", "1", "--json", json]);
    let header = stdout.lines().find(|line| line.starts_with("op ") && line.contains("device"));
    assert!(header.is_some_and(|header| header.contains("regret")), "no regret column:\n{stdout}");
    let worst = stdout.lines().find_map(|line| line.strip_prefix("worst routing regret: "));
    let worst = worst.unwrap_or_else(|| panic!("no worst regret in the summary:\n{stdout}"));
    assert!(worst.contains("x (") && (worst.contains("sum at 2^") || worst.contains("square at 2^")), "{worst}");
    let document = read_json(&path);
    let results = document["results"].as_array().expect("results is an array");
    let auto: Vec<&Value> = results.iter().filter(|result| result["device"] == "swath_auto").collect();
    assert_eq!(auto.len(), 2 * 2, "{document}");
    for result in auto {
        // Noise can put auto ahead of the option it picked, but never by a factor of ten.
        let regret = positive(result, "regret");
        assert!(regret >= 0.1, "{result}");
        assert!(["cpu", "gpu", "gpu+cpu"].contains(&result["ran_on"].as_str().unwrap_or_default()), "{result}");
    }
    for result in results.iter().filter(|result| result["device"] != "swath_auto") {
        assert!(result["regret"].is_null(), "{result}");
    }
}
