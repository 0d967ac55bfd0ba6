//! Every command's `--json` output parses, as one JSON object per line, with exactly the fields that
//! docs/operator_guide/cli.md lists for it: the doc cannot drift from the output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use support::{ScratchDir, opsctl_in, stdout};

mod support;

/// The documented top-level fields of each command's JSON, from the guide's table.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operator_guide/cli.md"),
    )
    .expect("read the CLI guide");
    let table = guide
        .split("## JSON output")
        .nth(1)
        .expect("the guide has a JSON section");
    let mut fields = BTreeMap::new();
    for line in table.lines().filter(|line| line.starts_with("| `")) {
        let mut cells = line.split('|').skip(1);
        let command = cells
            .next()
            .expect("a command cell")
            .trim()
            .trim_matches('`')
            .to_owned();
        let listed = cells.next().expect("a fields cell");
        // Nested fields are listed in parentheses: only the top level is compared.
        let mut depth = 0;
        let top: String = listed
            .chars()
            .filter(|c| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0 && *c != ')'
            })
            .collect();
        let names = top
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        fields.insert(command, names);
    }
    fields
}

/// Runs opsctl with `--json` on the test's SQLite file; every line of its output parsed.
fn opsctl(dir: &Path, args: &[&str]) -> Vec<Value> {
    let out = stdout(
        opsctl_in(dir)
            .args(["--json", "--database-url", "sqlite://json.db"])
            .args(args)
            .assert(),
    );
    out.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{args:?}: {e}: {line}")))
        .collect()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_output_has_the_documented_fields() {
    let scratch = ScratchDir::new("opsctl-json");
    let dir = scratch.path().to_owned();
    let documented = documented();
    let mut seen = BTreeMap::new();
    seen.insert("migrate", opsctl(&dir, &["migrate"]));

    let store = ops_core::Store::connect(&format!("sqlite://{}", dir.join("json.db").display()))
        .await
        .unwrap();
    let network = ops_core::NetworkId::new_v4();
    store
        .create_object(&ops_core::NewObject::network(network, "n", "ns", 0xabcdef))
        .await
        .unwrap();
    store.close().await;
    let network = network.to_string();
    let body = dir.join("op.json");
    std::fs::write(&body, format!(r#"{{"network_uuid": "{network}"}}"#)).unwrap();
    let enqueued = opsctl(
        &dir,
        &[
            "enqueue",
            "net_op",
            body.to_str().unwrap(),
            "--priority",
            "background",
            "--task",
            "network_deploy",
        ],
    );
    let op = enqueued[0]["op_uuid"].as_str().unwrap().to_owned();
    seen.insert("enqueue", enqueued);
    seen.insert("show", opsctl(&dir, &["show", &op]));
    seen.insert("pending", opsctl(&dir, &["pending", "network", &network]));
    seen.insert("latest", opsctl(&dir, &["latest", "network", &network]));
    seen.insert("history", opsctl(&dir, &["history", "network", &network]));
    seen.insert("view", opsctl(&dir, &["view", "network", &network]));
    let node = uuid::Uuid::new_v4().to_string();
    seen.insert(
        "maintain",
        opsctl(
            &dir,
            &["maintain", "--node", &node, "--network-node", "--once"],
        ),
    );
    seen.insert(
        "worker",
        opsctl(&dir, &["worker", "--queues", "networknode", "--drain"]),
    );
    seen.insert("prune", opsctl(&dir, &["prune", "--dry-run"]));
    seen.insert("simulate", opsctl(&dir, &["simulate", "--seeds", "1"]));
    seen.insert(
        "bench",
        opsctl(&dir, &["bench", "--smoke", "--only", "enqueue_vs_raw"]),
    );
    seen.insert(
        "schema",
        opsctl(
            &dir,
            &["schema", "--out", dir.join("schemas").to_str().unwrap()],
        ),
    );

    seen.insert(
        "namespace create",
        opsctl(&dir, &["namespace", "create", "team-a"]),
    );
    seen.insert("namespace list", opsctl(&dir, &["namespace", "list"]));
    seen.insert(
        "key create",
        opsctl(&dir, &["key", "create", "team-a", "deploy"]),
    );
    seen.insert("key list", opsctl(&dir, &["key", "list", "team-a"]));
    seen.insert(
        "key delete",
        opsctl(&dir, &["key", "delete", "team-a", "deploy"]),
    );
    seen.insert(
        "object create",
        opsctl(&dir, &["object", "create", "artifact", "--name", "image"]),
    );

    let commands: BTreeSet<String> = seen.keys().map(|c| (*c).to_owned()).collect();
    assert_eq!(
        commands,
        documented.keys().cloned().collect(),
        "every documented command is run here"
    );
    for (command, lines) in &seen {
        assert_eq!(lines.len(), 1, "{command}: one JSON object");
        let actual = keys(&lines[0]);
        let listed = &documented[*command];
        if *command == "view" || *command == "bench" {
            // Documented as the common fields; each object type, or bench, adds its own.
            assert!(
                listed.is_subset(&actual),
                "{command}: {listed:?} not all in {actual:?}"
            );
        } else {
            assert_eq!(
                &actual, listed,
                "{command}: the output's fields and the guide's differ"
            );
        }
    }
}
