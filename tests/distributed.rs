//! `swath run --distributed` under `mpirun` (Open MPI): the same results as one process on any
//! number of ranks, maps gathered or written per rank, and failures that end every rank.
#![cfg(feature = "mpi")]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Longest a run may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(120);

fn swath(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_swath"));
    command.args(args).env_remove("SWATH_DEVICE").env_remove("SWATH_LOG");
    command
}

/// `mpirun` starting one program per `(ranks, args)` group (several groups: MPMD, `a : b`).
fn mpirun(groups: &[(usize, &[&str])]) -> Command {
    let mut command = Command::new("mpirun");
    command.args(["--allow-run-as-root", "--oversubscribe"]).env_remove("SWATH_DEVICE").env_remove("SWATH_LOG");
    for (index, (ranks, args)) in groups.iter().enumerate() {
        if index > 0 {
            command.arg(":");
        }
        command.args(["-np", &ranks.to_string(), env!("CARGO_BIN_EXE_swath")]).args(*args);
    }
    command
}

/// Runs `command` to the end, failing the test if it takes longer than `limit` (then it is killed).
fn bounded(command: &mut Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?} (is Open MPI's mpirun installed?): {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout is piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr is piped")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} hung: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output =
        Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() };
    (output, started.elapsed())
}

/// Runs `command`, checks that it succeeded, and returns stdout.
fn succeeds(command: &mut Command) -> String {
    let (output, _) = bounded(command, HANG);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{command:?} failed ({:?}): {stderr}", output.status);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `result:` line of a report.
fn result(report: &str) -> &str {
    report.lines().find(|line| line.starts_with("result:")).unwrap_or_else(|| panic!("no result line in:\n{report}"))
}

/// Runs `job` on one process and on each rank count, and checks that the result lines agree.
fn same_result_on(ranks: &[usize], job: &[&str]) {
    let mut single = vec!["--device", "cpu", "run", "--repeat", "1"];
    single.extend_from_slice(job);
    let expected = succeeds(&mut swath(&single));
    let mut distributed = vec!["--device", "cpu", "run", "--distributed", "--repeat", "1"];
    distributed.extend_from_slice(job);
    for &count in ranks {
        let report = succeeds(&mut mpirun(&[(count, &distributed)]));
        assert_eq!(result(&report), result(&expected), "{job:?} on {count} ranks:\n{report}");
        let rank_lines = report.lines().filter(|line| line.trim_start().starts_with("rank ")).count();
        assert_eq!(rank_lines, count, "one line per rank in:\n{report}");
    }
}

#[test]
fn f32_sum_of_squares_has_the_single_process_bits() {
    // Not a multiple of 3 * 4096: uneven shards, the last one ending in a short tile.
    same_result_on(&[2, 3], &["--op", "square", "--reduce", "sum", "--n", "1000003"]);
    // Two tiles for three ranks: rank 2 owns no element.
    same_result_on(&[3], &["--op", "square", "--reduce", "sum", "--n", "5000"]);
    // More than 2^24 elements per rank: whole blocks, and blocks split between ranks.
    same_result_on(&[2, 3], &["--op", "square", "--reduce", "sum", "--n", "40000003", "--seed", "7"]);
}

#[test]
fn integer_reductions_match_one_process() {
    same_result_on(&[3], &["--dtype", "i32", "--op", "square", "--reduce", "sum", "--n", "300001"]);
    same_result_on(&[2], &["--dtype", "u32", "--reduce", "max", "--n", "123457"]);
}

#[test]
fn a_map_is_gathered_on_rank_0() {
    same_result_on(&[3], &["--op", "sqrt", "--n", "20000"]);
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("swath-distributed-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory can be created");
    dir
}

fn write_f32(path: &Path, values: &[f32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("the input file can be written");
}

fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    bytes.chunks_exact(4).map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])).collect()
}

#[test]
fn ranks_read_their_part_of_a_file_and_write_their_part_of_a_map() {
    let dir = scratch("files");
    let input = dir.join("input.f32");
    let values: Vec<f32> = (0..30_001).map(|i| ((i * 7919) % 10_007) as f32 / 97.0 - 40.0).collect();
    write_f32(&input, &values);
    let input_arg = input.to_str().expect("a UTF-8 temporary path");

    let sum = swath::Engine::cpu().reduce(&values, swath::Reduce::Sum).expect("a sum of f32 runs");
    let args = ["--device", "cpu", "run", "--distributed", "--repeat", "1", "--reduce", "sum", "--input", input_arg];
    let report = succeeds(&mut mpirun(&[(3, &args)]));
    assert_eq!(result(&report), format!("result:     {sum}"));

    let out = dir.join("squares");
    let out_arg = out.to_str().expect("a UTF-8 temporary path");
    let args =
        ["--device", "cpu", "run", "--distributed", "--op", "square", "--input", input_arg, "--output-dir", out_arg];
    succeeds(&mut mpirun(&[(3, &args)]));
    let mut squares = Vec::new();
    for rank in 0..3 {
        squares.extend(read_f32(&out.join(format!("part-{rank:05}.raw"))));
    }
    let expected: Vec<f32> = values.iter().map(|x| x * x).collect();
    assert_eq!(squares, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_rank_that_fails_stops_every_rank_with_its_message() {
    let dir = scratch("failure");
    let good = dir.join("good.f32");
    write_f32(&good, &[1.0; 10_000]);
    let missing = dir.join("missing.f32");
    let job = |path: &Path| {
        let path = path.to_str().expect("a UTF-8 temporary path").to_string();
        ["--device", "cpu", "run", "--distributed", "--reduce", "sum", "--input"]
            .map(String::from)
            .into_iter()
            .chain([path])
    };
    let good_args: Vec<String> = job(&good).collect();
    let missing_args: Vec<String> = job(&missing).collect();
    let good_args: Vec<&str> = good_args.iter().map(String::as_str).collect();
    let missing_args: Vec<&str> = missing_args.iter().map(String::as_str).collect();
    // Rank 0 reads a good file, rank 1 a missing one (MPMD: `mpirun -np 1 a : -np 1 b`).
    let (output, took) = bounded(&mut mpirun(&[(1, &good_args), (1, &missing_args)]), HANG);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a failing rank must fail the run: {stderr}");
    assert!(stderr.contains("error: rank 1 of 2: cannot read the length of"), "stderr: {stderr}");
    assert!(stderr.contains("missing.f32"), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_job_past_its_timeout_is_aborted_on_every_rank() {
    // A thousand runs over 2e6 sines: far longer than the 1 s timeout.
    let args = ["--device", "cpu", "run", "--distributed", "--op", "sin", "--reduce", "sum"];
    let args = [&args[..], &["--n", "2e6", "--repeat", "1000", "--timeout", "1"]].concat();
    let (output, took) = bounded(&mut mpirun(&[(2, &args)]), HANG);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(124), "stderr: {stderr}");
    assert!(stderr.contains("did not finish within 1 s; aborting every rank"), "stderr: {stderr}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
}
