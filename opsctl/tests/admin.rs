//! `opsctl namespace`, `opsctl key` and `opsctl object` on every backend: what an administrator sets up
//! before the API server lets anyone in. Refusals exit with one line and write nothing.

mod support;

use ops_testkit::backend_tests;
use support::{json, one_line_error, opsctl_on, row_counts, stdout};

backend_tests! {
    async fn namespaces_are_created_once_and_listed(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        assert_eq!(stdout(opsctl_on(db).args(["namespace", "create", "team-a"]).assert()), "namespace team-a created\n");
        assert_eq!(json(opsctl_on(db).args(["--json", "namespace", "create", "team-b"]).assert()), serde_json::json!({"namespace": "team-b"}));
        assert_eq!(stdout(opsctl_on(db).args(["namespace", "list"]).assert()), "system\nteam-a\nteam-b\n");
        assert_eq!(
            json(opsctl_on(db).args(["--json", "namespace", "list"]).assert()),
            serde_json::json!({"namespaces": ["system", "team-a", "team-b"]})
        );
        let before = row_counts(db).await;
        let again = one_line_error(opsctl_on(db).args(["namespace", "create", "team-a"]).assert(), 1);
        assert_eq!(again, "error: namespace team-a exists already");
        let bad = one_line_error(opsctl_on(db).args(["namespace", "create", "team a"]).assert(), 2);
        assert_eq!(bad, "error: invalid namespace `team a`: ` ` is not a letter, digit, `-`, `_` or `.`");
        assert_eq!(row_counts(db).await, before);
    }

    async fn a_key_is_printed_once_and_stored_as_a_hash(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        opsctl_on(db).args(["namespace", "create", "team-a"]).assert().success();
        let key = stdout(opsctl_on(db).args(["key", "create", "team-a", "deploy"]).assert());
        let key = key.trim_end();
        assert_eq!(key.len(), 43, "{key}");
        let store = db.store().await;
        let stored = store.namespace_key("team-a", "deploy").await.unwrap().expect("the key");
        assert!(stored.key_hash.starts_with("$2b$12$"), "{}", stored.key_hash);
        assert!(ops_server::keys::matches(&stored, key));

        // Replaced: a new key, hash and nonce; the old key no longer matches.
        let replaced = json(opsctl_on(db).args(["--json", "key", "create", "team-a", "deploy", "--replace"]).assert());
        assert_eq!((replaced["namespace"].as_str(), replaced["key_name"].as_str()), (Some("team-a"), Some("deploy")));
        let new_key = replaced["key"].as_str().expect("the key");
        let now = store.namespace_key("team-a", "deploy").await.unwrap().expect("the key");
        assert_ne!(now.nonce, stored.nonce);
        assert!(ops_server::keys::matches(&now, new_key));
        assert!(!ops_server::keys::matches(&now, key));
        store.close().await;

        let before = row_counts(db).await;
        let taken = one_line_error(opsctl_on(db).args(["key", "create", "team-a", "deploy"]).assert(), 1);
        assert_eq!(taken, "error: namespace team-a has a key named deploy already");
        let missing = one_line_error(opsctl_on(db).args(["key", "create", "team-b", "deploy"]).assert(), 1);
        assert_eq!(missing, "error: namespace team-b not found");
        let absent = one_line_error(opsctl_on(db).args(["key", "create", "team-a", "ci", "--replace"]).assert(), 1);
        assert_eq!(absent, "error: namespace team-a has no key named ci");
        let bad = one_line_error(opsctl_on(db).args(["key", "create", "team-a", "a:b"]).assert(), 2);
        assert_eq!(bad, "error: invalid key name `a:b`: `:` is not a letter, digit, `-`, `_` or `.`");
        assert_eq!(row_counts(db).await, before);
    }

    async fn keys_are_listed_by_name_and_deleted(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        for name in ["deploy", "backup"] {
            opsctl_on(db).args(["key", "create", "system", name]).assert().success();
        }
        assert_eq!(stdout(opsctl_on(db).args(["key", "list", "system"]).assert()), "backup\ndeploy\n");
        let listed = json(opsctl_on(db).args(["--json", "key", "list", "system"]).assert());
        assert_eq!(listed["keys"].as_array().map(Vec::len), Some(2), "{listed}");
        assert!(!listed.to_string().contains("$2b$"), "a hash listed: {listed}");
        assert_eq!(
            stdout(opsctl_on(db).args(["key", "delete", "system", "deploy"]).assert()),
            "key deploy of namespace system deleted\n"
        );
        assert_eq!(stdout(opsctl_on(db).args(["key", "list", "system"]).assert()), "backup\n");
        let again = one_line_error(opsctl_on(db).args(["key", "delete", "system", "deploy"]).assert(), 1);
        assert_eq!(again, "error: namespace system has no key named deploy");
        let unknown = one_line_error(opsctl_on(db).args(["key", "list", "team-z"]).assert(), 1);
        assert_eq!(unknown, "error: namespace team-z not found");
    }

    async fn objects_are_registered_with_what_their_type_needs(db: &TestDb) {
        opsctl_on(db).arg("migrate").assert().success();
        const NETWORK: &str = "8d6ae5c6-0d5e-4a7c-9d3e-51a4e8b2b0f1";
        let created = stdout(
            opsctl_on(db).args(["object", "create", "network", "--name", "web", "--namespace", "team-a", "--uuid", NETWORK, "--vxid", "42"]).assert(),
        );
        assert_eq!(created, format!("network {NETWORK} created in namespace team-a\n"));
        let view = json(opsctl_on(db).args(["--json", "view", "network", NETWORK]).assert());
        assert_eq!((view["name"].as_str(), view["namespace"].as_str(), view["vxlan_id"].as_u64()), (Some("web"), Some("team-a"), Some(42)));
        let instance = json(opsctl_on(db).args(["--json", "object", "create", "instance", "--name", "vm1"]).assert());
        assert_eq!(instance["namespace"], "system");
        assert_eq!(instance["object_type"], "instance");

        let before = row_counts(db).await;
        let cases: [(&[&str], &str); 5] = [
            (&["network", "--name", "x"], "error: networks need --vxid"),
            (&["artifact", "--name", "x", "--vxid", "1"], "error: --vxid is for networks only, not artifacts"),
            (&["interface", "--name", "x", "--network", NETWORK], "error: interfaces need --instance"),
            (&["node", "--name", "x", "--namespace", "team-a"], "error: nodes are always in namespace system"),
            (&["cluster", "--name", "x"], "error: unknown object type `cluster`; expected instance, network, artifact, blob, interface or node"),
        ];
        for (args, message) in cases {
            let error = one_line_error(opsctl_on(db).args(["object", "create"]).args(args).assert(), 2);
            assert_eq!(error, message, "{args:?}");
        }
        let taken = one_line_error(
            opsctl_on(db).args(["object", "create", "network", "--name", "web", "--uuid", NETWORK, "--vxid", "43"]).assert(),
            1,
        );
        assert_eq!(taken, format!("error: network {NETWORK} exists already"));
        assert_eq!(row_counts(db).await, before);
    }
}
