//! The peer bench at a tiny size, so that it cannot rot: it runs against every peer on the backends this
//! machine has, and prints one well-formed JSON line per comparison. No speed is asserted.

use std::process::Command;

#[test]
fn a_tiny_run_prints_every_comparison_as_json() {
    let postgres = std::env::var("OPS_TEST_POSTGRES_URL").ok();
    let backends = if postgres.is_some() {
        "postgres,sqlite"
    } else {
        "sqlite"
    };
    let output = Command::new(env!("CARGO_BIN_EXE_ops-peer-bench"))
        .args(["--tiny", "12", "--json", "--backends", backends])
        .output()
        .expect("the bench runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}: {stderr}",
        output.status
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    let mut expected = vec![("apalis", "sqlite")];
    if postgres.is_some() {
        expected.extend([("graphile_worker", "postgres"), ("apalis", "postgres")]);
    }
    for (peer, backend) in expected {
        let benches: Vec<&str> = lines
            .iter()
            .filter(|line| line["peer"] == peer && line["backend"] == backend)
            .filter_map(|line| line["bench"].as_str())
            .collect();
        assert_eq!(
            benches,
            [
                "peer_worker_throughput",
                "peer_enqueue_throughput",
                "peer_object_in_flight_query",
                "peer_enqueue_to_start_latency"
            ],
            "{peer} on {backend}: {stdout}"
        );
    }
    for line in &lines {
        for key in ["ours", "theirs", "ratio"] {
            assert!(
                line[key].as_f64().is_some_and(f64::is_finite),
                "{key} in {line}"
            );
        }
        assert!(line["unit"].is_string(), "{line}");
        // A line with a bar says whether it passed; one without says neither.
        assert_eq!(
            line.get("bar").is_some(),
            line.get("pass").is_some(),
            "{line}"
        );
    }
}

#[test]
fn only_the_phases_asked_for_run() {
    let output = Command::new(env!("CARGO_BIN_EXE_ops-peer-bench"))
        .args([
            "--tiny",
            "4",
            "--json",
            "--backends",
            "sqlite",
            "--only",
            "enqueue",
        ])
        .output()
        .expect("the bench runs");
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    let benches: Vec<String> = stdout
        .lines()
        .map(|line| {
            let line: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
            line["bench"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(benches, ["peer_enqueue_throughput"], "{stdout}");
}
