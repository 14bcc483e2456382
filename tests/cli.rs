//! The `swath` binary, run the way a user runs it.

use std::io::Write;
use std::process::{Command, Output};

/// `swath` with `args`, isolated from the caller's routing policy and log level.
fn swath(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_swath"));
    command.args(args).env_remove("SWATH_DEVICE").env_remove("SWATH_LOG");
    command
}

fn output(command: &mut Command) -> Output {
    command.output().expect("the swath binary can be started")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr without the `XDG_RUNTIME_DIR` complaints Mesa prints on machines without a session.
fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| !line.contains("XDG_RUNTIME_DIR"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `args` and checks that it succeeded, returning stdout.
fn succeeds(args: &[&str]) -> String {
    let result = output(&mut swath(args));
    assert!(result.status.success(), "swath {args:?} failed: {:?}\n{}", result.status, stderr(&result));
    stdout(&result)
}

/// Runs `args` and checks that it fails with `code`, no panic, and a stderr that mentions `hint`.
fn rejects(command: &mut Command, code: i32, hint: &str) {
    let result = output(command);
    let errors = stderr(&result);
    assert_eq!(result.status.code(), Some(code), "{command:?}: stderr {errors}");
    assert!(!errors.contains("panicked"), "{command:?} panicked: {errors}");
    assert!(errors.contains(hint), "{command:?}: stderr should mention {hint:?}, got: {errors}");
}

/// True if a GPU adapter exists. Without one the test is skipped (reported on stderr directly, since
/// libtest captures `eprintln!`), unless `SWATH_REQUIRE_GPU=1` makes that a failure.
fn gpu_available(test: &str) -> bool {
    if !swath::adapters().is_empty() {
        return true;
    }
    assert!(
        std::env::var("SWATH_REQUIRE_GPU").as_deref() != Ok("1"),
        "SWATH_REQUIRE_GPU=1 but wgpu found no GPU adapter (on Debian/Ubuntu: apt-get install mesa-vulkan-drivers)"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: no GPU adapter");
    false
}

#[test]
fn square_prints_the_seed_example_exactly() {
    assert_eq!(
        succeeds(&["square", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]),
        "[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]\n"
    );
}

#[test]
fn square_takes_decimals_and_negative_numbers() {
    assert_eq!(succeeds(&["square", "1.5", "-2"]), "[2.25, 4]\n");
}

#[test]
fn square_of_a_large_integer_does_not_wrap() {
    assert_eq!(succeeds(&["square", "100000"]), "[10000000000]\n");
}

#[test]
fn square_takes_the_device_option() {
    assert_eq!(succeeds(&["square", "3", "--device", "cpu"]), "[9]\n");
}

#[test]
fn run_on_the_cpu_reports_decision_device_and_result() {
    let report = succeeds(&["run", "--op", "square", "--reduce", "sum", "--n", "1000", "--device", "cpu"]);
    for expected in ["decision:   cpu: policy is cpu", "ran on:     cpu", "fallback:   none", "result:", "GB/s"] {
        assert!(report.contains(expected), "no {expected:?} in:\n{report}");
    }
}

#[test]
fn run_gives_the_same_sum_on_any_thread_count() {
    let result_line = |threads: &str| {
        let args = ["run", "--reduce", "sum", "--n", "1e5", "--device", "cpu", "--threads", threads, "--repeat", "1"];
        succeeds(&args).lines().find(|line| line.starts_with("result:")).map(str::to_owned)
    };
    let one = result_line("1");
    assert!(one.is_some());
    assert_eq!(one, result_line("2"));
    assert_eq!(one, result_line("3"));
}

#[test]
fn run_of_a_map_shows_its_first_values() {
    let report = succeeds(&["run", "--op", "add:1", "--n", "3", "--dtype", "u32", "--device", "cpu"]);
    assert!(report.contains("result:     3 values: ["), "{report}");
}

#[test]
fn run_on_the_gpu_when_an_adapter_exists() {
    if !gpu_available("run_on_the_gpu_when_an_adapter_exists") {
        return;
    }
    let report = succeeds(&["run", "--n", "1000", "--device", "gpu", "--op", "square"]);
    assert!(report.contains("ran on:     gpu"), "{report}");
    assert!(report.contains("fallback:   none"), "{report}");
}

#[test]
fn devices_reports_policy_and_threads() {
    let report = succeeds(&["devices"]);
    assert!(report.contains("policy: auto"), "{report}");
    assert!(report.contains("cpu: "), "{report}");
    assert!(report.contains("GPU adapters"), "{report}");
}

#[test]
fn calibrate_measures_caches_and_prints_the_model() {
    let dir = std::env::temp_dir().join(format!("swath-cli-calibrate-{}", std::process::id()));
    let output = swath(&["calibrate", "--device", "cpu"]).env("SWATH_CACHE_DIR", &dir).output().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("cpu:        ") && report.contains("GB/s"), "{report}");
    assert!(report.contains(&format!("cached in:  {}", dir.display())), "{report}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn run_splits_a_job_between_gpu_and_cpu_under_the_both_policy() {
    if !gpu_available("run_splits_a_job_between_gpu_and_cpu_under_the_both_policy") {
        return;
    }
    let args = ["run", "--op", "square", "--reduce", "max", "--n", "1e7", "--repeat", "1"];
    let both = succeeds(&[&args[..], &["--device", "both"]].concat());
    assert!(both.contains("decision:   gpu+cpu: policy is both"), "{both}");
    assert!(both.contains("ran on:     gpu+cpu"), "{both}");
    let cpu = succeeds(&[&args[..], &["--device", "cpu"]].concat());
    let result = |report: &str| report.lines().find(|l| l.starts_with("result:")).map(str::to_string);
    assert_eq!(result(&both), result(&cpu), "the same maximum on both paths");
}

#[test]
fn help_names_every_command() {
    let help = succeeds(&["--help"]);
    for command in ["square", "devices", "run", "calibrate", "check"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn a_word_is_not_a_number() {
    rejects(&mut swath(&["square", "abc"]), 2, "invalid value 'abc'");
}

#[test]
fn an_unknown_op_lists_the_known_ones() {
    rejects(&mut swath(&["run", "--op", "bogus"]), 2, "expected square, abs");
}

#[test]
fn run_needs_an_op_or_a_reduction() {
    rejects(&mut swath(&["run"]), 2, "--op <OP>|--expr <EXPR>|--reduce <REDUCE>");
}

#[test]
fn an_unknown_dtype_lists_the_known_ones() {
    rejects(&mut swath(&["run", "--op", "square", "--dtype", "f16"]), 2, "f32, f64, i32 or u32");
}

#[test]
fn a_float_op_on_integers_is_a_swath_error() {
    rejects(&mut swath(&["run", "--op", "sqrt", "--dtype", "i32", "--n", "10"]), 1, "sqrt is not defined for i32");
}

#[test]
fn a_bad_swath_device_is_reported() {
    rejects(swath(&["square", "1"]).env("SWATH_DEVICE", "bogus"), 1, "expected auto, cpu, gpu or both");
}

#[test]
fn run_evaluates_an_expression_fused_into_a_sum_on_both_paths() {
    let args = ["run", "--expr", "x*x + 1", "--reduce", "sum", "--n", "100000", "--repeat", "1"];
    let on_cpu = succeeds(&[&args[..], &["--device", "cpu"]].concat());
    assert!(on_cpu.contains("map `x * x + 1` fused into reduce sum"), "{on_cpu}");
    assert!(on_cpu.contains("ran on:     cpu"), "{on_cpu}");
    let result = |report: &str| report.lines().find(|l| l.starts_with("result:")).map(str::to_string);
    if gpu_available("run_evaluates_an_expression_fused_into_a_sum_on_both_paths") {
        let on_gpu = succeeds(&[&args[..], &["--device", "gpu"]].concat());
        assert!(on_gpu.contains("ran on:     gpu"), "{on_gpu}");
        assert_eq!(result(&on_gpu), result(&on_cpu), "the same sum on both paths");
    }
    let zipped = succeeds(&["run", "--expr", "select(a > b, a - b, 0) * c", "--n", "1000", "--device", "cpu"]);
    for name in ["input a:", "input b:", "input c:"] {
        assert!(zipped.contains(name), "{zipped}");
    }
}

#[test]
fn run_rejects_a_malformed_or_ill_typed_expression_before_generating_data() {
    rejects(&mut swath(&["run", "--expr", "x * (1 +", "--n", "1e12"]), 2, "line 1, column 9");
    rejects(&mut swath(&["run", "--expr", "sqrt(x)", "--dtype", "i32", "--n", "1e12"]), 1, "floats only");
    rejects(&mut swath(&["run", "--expr", "x", "--op", "square"]), 2, "cannot be used with");
}

/// The message quotes a short excerpt of a long expression, once.
#[test]
fn a_long_bad_expression_gets_a_short_message() {
    let long = format!("x + {}q", "9".repeat(100_000));
    let result = output(&mut swath(&["run", "--expr", &long, "--n", "10"]));
    let errors = stderr(&result);
    assert_eq!(result.status.code(), Some(2), "{errors}");
    assert!(errors.len() < 400 && errors.contains("column 100005"), "{} bytes: {errors}", errors.len());
}

#[test]
fn an_expression_may_start_with_a_minus() {
    let out = succeeds(&["run", "--expr", "-x + 1", "--n", "5", "--device", "cpu"]);
    assert!(out.contains("map `-x + 1`"), "{out}");
}

/// Without any usable driver, `swath devices` says which piece is missing.
#[test]
fn devices_diagnoses_a_missing_vulkan_driver() {
    let missing = "/nonexistent/swath_icd.json";
    for variable in ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"] {
        let result = output(swath(&["devices"]).env_remove("VK_DRIVER_FILES").env(variable, missing));
        let out = stdout(&result);
        assert!(out.contains("none found, so every job runs on the CPU"), "{out}");
        assert!(out.contains(&format!("{variable} names files that do not exist: {missing}")), "{out}");
        assert!(out.contains("probably:"), "{out}");
    }
}

/// A job that stays on the CPU does not open the GPU, so the driver prints nothing.
#[test]
fn a_small_job_prints_only_its_result() {
    let result = output(swath(&["square", "1", "2", "3"]).env_remove("XDG_RUNTIME_DIR"));
    assert!(result.status.success());
    assert_eq!(stdout(&result), "[1, 4, 9]\n");
    assert_eq!(String::from_utf8_lossy(&result.stderr), "", "no driver noise");
}

#[test]
fn run_computes_every_primitive_and_reports_it_like_any_job() {
    let on = |device: &str, args: &[&str]| {
        let common = ["run", "--n", "5000", "--device", device, "--repeat", "1", "--dtype", "i32"];
        succeeds(&[&common[..], args].concat())
    };
    let mut devices = vec!["cpu"];
    if gpu_available("run_computes_every_primitive_and_reports_it_like_any_job") {
        devices.push("gpu");
    }
    let result = |report: &str, key: &str| {
        report.lines().find(|line| line.starts_with(key)).map(str::to_owned).unwrap_or_default()
    };
    let cases: [&[&str]; 6] = [
        &["--scan", "max"],
        &["--scan", "sum", "--exclusive"],
        &["--filter", "x % 3 == 0"],
        &["--filter-indices", "x > 500 && i % 2 == 0"],
        &["--argmax", "--expr", "x % 7"],
        &["--histogram", "10", "--range", "0:1000"],
    ];
    for case in cases {
        let reports: Vec<String> = devices.iter().map(|device| on(device, case)).collect();
        for (device, report) in devices.iter().zip(&reports) {
            for expected in [format!("ran on:     {device}"), "fallback:   none".into(), "GB/s".into()] {
                assert!(report.contains(&expected), "{case:?}: no {expected:?} in:\n{report}");
            }
        }
        // The same values on both devices, and for argmax the same index.
        let firsts: Vec<String> = reports.iter().map(|r| result(r, "result:") + &result(r, "value:")).collect();
        assert!(firsts.windows(2).all(|pair| pair[0] == pair[1]), "{case:?}: {firsts:?}");
    }
    let report = on("cpu", &["--argmin"]);
    assert!(result(&report, "result:").len() > "result:".len() && report.contains("value:"), "{report}");
}

#[test]
fn a_bad_primitive_is_a_clear_error() {
    rejects(&mut swath(&["run", "--filter", "x * 2", "--n", "10"]), 1, "not a condition");
    rejects(&mut swath(&["run", "--histogram", "0", "--range", "0:1", "--n", "10"]), 1, "bins");
    rejects(&mut swath(&["run", "--histogram", "4", "--range", "1:0", "--n", "10"]), 1, "lo < hi");
    rejects(&mut swath(&["run", "--argmax", "--n", "0"]), 1, "argmax");
    rejects(&mut swath(&["run", "--histogram", "4", "--n", "10"]), 2, "--range");
}

/// The self-test of a machine's GPU, as CI runs it on lavapipe: every group passes, on the GPU.
#[test]
fn check_quick_passes_on_the_gpu() {
    if !gpu_available("check_quick_passes_on_the_gpu") {
        return;
    }
    let report = succeeds(&["check", "--quick"]);
    assert!(report.starts_with("adapter:  "), "{report}");
    assert!(report.contains("software adapter") || report.contains("hardware adapter"), "{report}");
    assert!(!report.contains("FAIL"), "{report}");
    let summary = report.lines().last().unwrap_or_default();
    assert!(summary.starts_with("check: ") && summary.contains(" groups ok, 0 failed, "), "{report}");
    for group in ["ok    map f32 square (5 lengths)", "ok    scan i32 exclusive sum", "ok    bincount u32"] {
        assert!(report.contains(group), "no {group:?} in:\n{report}");
    }
}

/// A flipped bit in one GPU result fails the check, and the report names the group, the length, the
/// element, its input and both values.
#[test]
fn check_names_a_corrupted_result() {
    if !gpu_available("check_names_a_corrupted_result") {
        return;
    }
    let mut command = swath(&["check", "--quick", "--only", "map f32", "--corrupt", "map f32 neg"]);
    let result = output(&mut command);
    let report = stdout(&result);
    assert_eq!(result.status.code(), Some(1), "{report}\n{}", stderr(&result));
    let failures: Vec<&str> = report.lines().filter(|line| line.starts_with("FAIL")).collect();
    assert_eq!(failures.len(), 1, "{report}");
    let expected = ["FAIL  map f32 neg n=1", ": index 0 input ", " -> gpu ", " cpu ", "(bits 0x"];
    assert!(expected.iter().all(|part| failures[0].contains(part)), "{report}");
    assert!(report.contains("ok    map f32 square") && report.contains(" 1 failed, "), "{report}");
    assert!(stderr(&result).contains("groups failed"), "{}", stderr(&result));
    assert!(!succeeds(&["check", "--help"]).contains("--corrupt"), "--corrupt is hidden");
}

/// Without any adapter there is nothing to check, and the check says so and fails.
#[test]
fn check_without_an_adapter_fails_clearly() {
    let missing = "/nonexistent/swath_icd.json";
    let mut command = swath(&["check", "--quick"]);
    command.env_remove("VK_DRIVER_FILES").env("VK_ICD_FILENAMES", missing);
    rejects(&mut command, 1, "no GPU adapter: nothing to check");
}
