//! `swath run --input` and `--output`: .npy and raw files in, .npy out, checked against values computed
//! here; and every kind of bad file refused with exit status 2, a message naming it, and nothing left
//! behind. All on the CPU: the GPU paths are tested elsewhere.

use npyz::WriterBuilder;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{Command, Output};
use tempfile::TempDir;

/// `swath run ARGS --device cpu --repeat 1` in `dir`, isolated from the caller's policy and log level.
fn swath_run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swath"))
        .arg("run")
        .args(args)
        .args(["--device", "cpu", "--repeat", "1"])
        .current_dir(dir)
        .env_remove("SWATH_DEVICE")
        .env_remove("SWATH_LOG")
        .output()
        .expect("the swath binary can be started")
}

/// Runs `args` in `dir`, checks that it succeeded and returns stdout.
fn succeeds(dir: &Path, args: &[&str]) -> String {
    let result = swath_run(dir, args);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "swath run {args:?} failed: {:?}\n{stderr}", result.status);
    String::from_utf8_lossy(&result.stdout).into_owned()
}

/// Runs `args` in `dir` and checks that it fails with status 2 and no panic, that stderr names `file`
/// and mentions `hint`, and that the directory holds what it held before: no output, no temporary file.
fn refused(dir: &Path, args: &[&str], file: &str, hint: &str) {
    let before = listing(dir);
    let result = swath_run(dir, args);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "swath run {args:?}: stderr {stderr}");
    assert!(!stderr.contains("panicked"), "swath run {args:?} panicked: {stderr}");
    assert!(stderr.contains(file), "swath run {args:?}: stderr should name {file:?}, got: {stderr}");
    assert!(stderr.contains(hint), "swath run {args:?}: stderr should mention {hint:?}, got: {stderr}");
    assert_eq!(listing(dir), before, "swath run {args:?} left files behind");
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(dir).expect("the scratch directory can be listed");
    let mut names: Vec<String> =
        entries.map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn scratch() -> TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Saves `values` as a .npy array of `shape`, element type `descr` (such as `<f4`), in `order`.
fn save<T: npyz::Serialize + Copy>(path: &Path, descr: &str, shape: &[u64], order: npyz::Order, values: &[T]) {
    let dtype = npyz::DType::Plain(descr.parse().expect("a numpy type string"));
    let file = BufWriter::new(File::create(path).expect("the .npy file can be created"));
    let mut writer = npyz::WriteOptions::new()
        .dtype(dtype)
        .shape(shape)
        .order(order)
        .writer(file)
        .begin_nd()
        .expect("the .npy header can be written");
    writer.extend(values.iter().copied()).expect("the values can be written");
    writer.finish().expect("the .npy file can be finished");
}

/// Saves `values` as a 1-D little-endian .npy array.
fn save_1d<T: npyz::Serialize + Copy>(path: &Path, descr: &str, values: &[T]) {
    save(path, descr, &[values.len() as u64], npyz::Order::C, values);
}

/// Writes a .npy file (version 1.0) by hand: header `dict` then `payload`, for headers npyz would not
/// write.
fn handmade(path: &Path, dict: &str, payload: &[u8]) {
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((dict.len() as u16).to_le_bytes());
    bytes.extend(dict.as_bytes());
    bytes.extend(payload);
    std::fs::write(path, bytes).expect("the file can be written");
}

/// The shape, type string and values of a .npy file.
fn load<T: npyz::Deserialize>(path: &Path) -> (Vec<u64>, String, Vec<T>) {
    let file = BufReader::new(File::open(path).expect("the output exists"));
    let npy = npyz::NpyFile::new(file).expect("the output is a .npy file");
    let (shape, descr) = (npy.shape().to_vec(), npy.dtype().descr());
    (shape, descr, npy.into_vec().expect("the output's values can be read"))
}

/// The value of the report's `result:` line.
fn result_value(report: &str) -> &str {
    let line = report.lines().find(|line| line.starts_with("result:")).expect("a result line");
    line.trim_start_matches("result:").trim()
}

#[test]
fn a_map_reads_a_npy_file_and_writes_its_result_as_npy() {
    let dir = scratch();
    let x: Vec<f32> = (0..1000).map(|k| k as f32 * 0.25 - 100.0).collect();
    save_1d(&dir.path().join("x.npy"), "<f4", &x);
    let report = succeeds(dir.path(), &["--op", "square", "--input", "x.npy", "--output", "y.npy"]);
    assert!(report.contains("over 1000 f32 elements"), "{report}");
    assert!(report.contains("input:      x.npy: 1000 f32 (read in "), "{report}");
    assert!(report.contains("output:     y.npy: 1000 f32 (.npy, written in "), "{report}");
    let (shape, descr, y) = load::<f32>(&dir.path().join("y.npy"));
    assert_eq!((shape, descr.as_str()), (vec![1000], "'<f4'"));
    assert_eq!(y, x.iter().map(|v| v * v).collect::<Vec<_>>());
    assert_eq!(listing(dir.path()), ["x.npy", "y.npy"], "no temporary file is left");
}

#[cfg(unix)]
#[test]
fn the_output_gets_the_permissions_of_any_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    save_1d(&dir.path().join("x.npy"), "<f4", &[1.0f32, 2.0]);
    succeeds(dir.path(), &["--op", "abs", "--input", "x.npy", "--output", "y.npy"]);
    let mode = |name: &str| std::fs::metadata(dir.path().join(name)).expect("the file exists").permissions().mode();
    assert_eq!(mode("y.npy"), mode("x.npy"), "as File::create makes them, not owner-only");
}

#[test]
fn a_fused_map_reduce_reads_its_input_and_prints_the_value() {
    let dir = scratch();
    let x: Vec<i32> = (0..5000).map(|k| k % 100 - 50).collect();
    save_1d(&dir.path().join("x.npy"), "<i4", &x);
    let report = succeeds(dir.path(), &["--op", "square", "--reduce", "sum", "--input", "x.npy"]);
    let expected: i32 = x.iter().map(|v| v * v).sum();
    assert_eq!(result_value(&report), expected.to_string(), "{report}");
}

#[test]
fn an_expression_over_two_named_inputs_is_read_and_written() {
    let dir = scratch();
    let a: Vec<f64> = (0..777).map(|k| k as f64 * 0.5).collect();
    let b: Vec<f64> = (0..777).map(|k| 3.0 - k as f64 * 0.25).collect();
    save_1d(&dir.path().join("a.npy"), "<f8", &a);
    save_1d(&dir.path().join("b.npy"), "<f8", &b);
    let args = ["--expr", "a * b + 1", "--input", "b=b.npy", "--input", "a=a.npy", "--output", "out.npy"];
    let report = succeeds(dir.path(), &args);
    assert!(report.contains("input a:    a.npy: 777 f64"), "{report}");
    assert!(report.contains("input b:    b.npy: 777 f64"), "{report}");
    let (shape, descr, out) = load::<f64>(&dir.path().join("out.npy"));
    assert_eq!((shape, descr.as_str()), (vec![777], "'<f8'"));
    let expected: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a * b + 1.0).collect();
    assert_eq!(out, expected);

    let summed =
        succeeds(dir.path(), &["--expr", "a * b", "--reduce", "sum", "--input", "a=a.npy", "--input", "b=b.npy"]);
    let expected: f64 = a.iter().zip(&b).map(|(a, b)| a * b).sum();
    let value: f64 = result_value(&summed).parse().expect("a number");
    assert!((value - expected).abs() <= 1e-9 * expected.abs(), "{value} vs {expected}");
}

#[test]
fn an_expression_starting_with_a_minus_maps_an_unnamed_file() {
    let dir = scratch();
    let x: Vec<f32> = (0..100).map(|k| k as f32 / 8.0).collect();
    save_1d(&dir.path().join("x.npy"), "<f4", &x);
    succeeds(dir.path(), &["--expr", "-x + 1", "--input", "x.npy", "--output", "y.npy"]);
    let (_, _, y) = load::<f32>(&dir.path().join("y.npy"));
    assert_eq!(y, x.iter().map(|v| -v + 1.0).collect::<Vec<_>>());
}

#[test]
fn an_unnamed_file_feeds_the_expressions_only_input() {
    let dir = scratch();
    save_1d(&dir.path().join("data.npy"), "<u4", &[1u32, 2, 3]);
    succeeds(dir.path(), &["--expr", "v * 10", "--input", "data.npy", "--output", "y.npy"]);
    assert_eq!(load::<u32>(&dir.path().join("y.npy")).2, [10, 20, 30]);
}

#[test]
fn an_n_dimensional_c_order_array_is_read_flattened() {
    let dir = scratch();
    let m: Vec<i32> = (1..=24).collect();
    save(&dir.path().join("m.npy"), "<i4", &[2, 3, 4], npyz::Order::C, &m);
    let report = succeeds(dir.path(), &["--op", "neg", "--input", "m.npy", "--output", "y.npy"]);
    assert!(report.contains("m.npy: 24 i32, shape (2, 3, 4) flattened"), "{report}");
    let (shape, _, y) = load::<i32>(&dir.path().join("y.npy"));
    assert_eq!(shape, [24], "the result is 1-D");
    assert_eq!(y, m.iter().map(|v| -v).collect::<Vec<_>>());
}

#[test]
fn a_raw_file_holds_values_of_dtype() {
    let dir = scratch();
    let x: Vec<f64> = (0..300).map(|k| k as f64 - 150.5).collect();
    let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.path().join("x.raw"), bytes).expect("the raw file can be written");
    let report = succeeds(dir.path(), &["--op", "abs", "--dtype", "f64", "--input", "x.raw", "--output", "y.npy"]);
    assert!(report.contains("x.raw: 300 f64, raw little-endian"), "{report}");
    let (_, descr, y) = load::<f64>(&dir.path().join("y.npy"));
    assert_eq!(descr, "'<f8'");
    assert_eq!(y, x.iter().map(|v| v.abs()).collect::<Vec<_>>());
}

#[test]
fn a_npy_file_is_known_by_its_first_bytes_whatever_its_name() {
    let dir = scratch();
    save_1d(&dir.path().join("x.data"), "<i4", &[4i32, -5, 6]);
    succeeds(dir.path(), &["--op", "abs", "--input", "x.data", "--output", "y.npy"]);
    assert_eq!(load::<i32>(&dir.path().join("y.npy")).2, [4, 5, 6]);
}

#[test]
fn element_types_swath_does_not_run_on_are_refused_by_name() {
    let dir = scratch();
    let path = |name: &str| dir.path().join(name);
    save_1d(&path("big.npy"), ">f4", &[1.0f32, 2.0]);
    save_1d(&path("long.npy"), "<i8", &[1i64, 2]);
    save_1d(&path("flags.npy"), "|b1", &[true, false]);
    handmade(&path("half.npy"), "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", &[0; 4]);
    handmade(&path("objects.npy"), "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"\x80\x02N.");
    for (file, hint) in [
        ("big.npy", "big-endian"),
        ("long.npy", "<i8"),
        ("flags.npy", "|b1"),
        ("half.npy", "<f2"),
        ("objects.npy", "Python objects"),
    ] {
        refused(dir.path(), &["--op", "abs", "--input", file, "--output", "y.npy"], file, hint);
    }
}

#[test]
fn fortran_order_and_headers_that_lie_are_refused() {
    let dir = scratch();
    let path = |name: &str| dir.path().join(name);
    save(&path("fortran.npy"), "<f4", &[2, 3], npyz::Order::Fortran, &[0.0f32; 6]);
    save_1d(&path("cut.npy"), "<f4", &[1.0f32; 100]);
    let cut = File::options().write(true).open(path("cut.npy")).expect("the file opens");
    cut.set_len(std::fs::metadata(path("cut.npy")).expect("its size").len() - 4).expect("the file shrinks");
    handmade(&path("short.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }", &[0; 40]);
    handmade(&path("long.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", &[0; 40]);
    let mut endless = b"\x93NUMPY\x02\x00".to_vec();
    endless.extend(u32::MAX.to_le_bytes());
    endless.extend(b"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }");
    std::fs::write(path("endless.npy"), endless).expect("the file can be written");
    std::fs::write(path("text.npy"), "a,b\n1,2\n").expect("the file can be written");
    for (file, hint) in [
        ("fortran.npy", "Fortran"),
        ("cut.npy", "truncated"),
        ("short.npy", "truncated"),
        ("long.npy", "longer than its header says"),
        ("endless.npy", "truncated"),
        ("text.npy", "not a .npy file"),
    ] {
        refused(dir.path(), &["--expr", "x + 1", "--input", file, "--output", "y.npy"], file, hint);
    }
}

#[test]
fn files_that_do_not_fit_the_command_line_are_refused() {
    let dir = scratch();
    let path = |name: &str| dir.path().join(name);
    save_1d(&path("a.npy"), "<f4", &[1.0f32; 10]);
    save_1d(&path("b.npy"), "<f4", &[1.0f32; 11]);
    save_1d(&path("c.npy"), "<f8", &[1.0f64; 10]);
    std::fs::write(path("odd.raw"), [0u8; 10]).expect("the file can be written");
    std::fs::create_dir(path("folder.npy")).expect("the directory can be made");
    fn map<'a>(inputs: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["--expr", "a + b"];
        for input in inputs {
            args.extend(["--input", input]);
        }
        args.extend(["--output", "y.npy"]);
        args
    }
    refused(dir.path(), &map(&["a=a.npy", "b=b.npy"]), "b.npy", "different lengths");
    refused(dir.path(), &map(&["a=a.npy", "b=c.npy"]), "c.npy", "different element types");
    refused(dir.path(), &map(&["a=a.npy", "b=absent.npy"]), "absent.npy", "does not exist");
    refused(dir.path(), &map(&["a=a.npy", "b=folder.npy"]), "folder.npy", "is a directory");
    refused(dir.path(), &map(&["a=a.npy"]), "--input b=FILE", "reads b");
    refused(dir.path(), &map(&["a=a.npy", "b.npy"]), "b.npy", "name the input");
    refused(dir.path(), &map(&["a=a.npy", "b=b.npy", "c=c.npy"]), "c.npy", "reads no input c");
    refused(dir.path(), &["--op", "abs", "--input", "a.npy", "--dtype", "f64"], "a.npy", "--dtype is f64");
    refused(dir.path(), &["--op", "abs", "--input", "odd.raw"], "odd.raw", "whole number of f32 values");
    refused(dir.path(), &["--op", "abs", "--input", "a.npy", "--input", "b.npy"], "--input", "one --input");
}

#[test]
fn outputs_that_cannot_be_written_are_refused_before_the_job_runs() {
    let dir = scratch();
    save_1d(&dir.path().join("x.npy"), "<f4", &[1.0f32, 2.0]);
    std::fs::create_dir(dir.path().join("out")).expect("the directory can be made");
    refused(dir.path(), &["--op", "abs", "--input", "x.npy", "--output", "out"], "out", "is a directory");
    refused(
        dir.path(),
        &["--op", "abs", "--input", "x.npy", "--output", "missing/y.npy"],
        "missing",
        "cannot be created",
    );
    refused(dir.path(), &["--reduce", "sum", "--input", "x.npy", "--output", "y.npy"], "--output", "--reduce");
    refused(dir.path(), &["--op", "abs", "--input", "x.npy", "--n", "5"], "--input", "--n");
}

#[test]
fn a_failed_run_leaves_an_existing_output_as_it_was() {
    let dir = scratch();
    save_1d(&dir.path().join("x.npy"), "<f4", &[1.0f32, 2.0]);
    save_1d(&dir.path().join("y.npy"), "<f4", &[7.0f32]);
    let before = std::fs::read(dir.path().join("y.npy")).expect("y.npy reads");
    refused(dir.path(), &["--op", "abs", "--input", "x.npy", "--dtype", "i32", "--output", "y.npy"], "x.npy", "i32");
    assert_eq!(std::fs::read(dir.path().join("y.npy")).expect("y.npy reads"), before);
    let mut file = File::options().append(true).open(dir.path().join("x.npy")).expect("x.npy opens");
    file.write_all(&[0; 4]).expect("x.npy grows");
    refused(dir.path(), &["--op", "abs", "--input", "x.npy", "--output", "y.npy"], "x.npy", "longer than");
    assert_eq!(std::fs::read(dir.path().join("y.npy")).expect("y.npy reads"), before);
}
