//! The real `shakenfist-client` 0.8.3 from PyPI, unmodified, against `opsctl serve` on each backend, while
//! `opsctl worker` runs the ops: authentication, one op, a chain, ops by target, a network's ops, a network
//! view, an asynchronous network delete waited for, and `ClusterOperationFailed` for an op the worker
//! fails. The client's steps are in `shakenfist_client/drive.py`.
//!
//! It needs `python3 -m venv` and PyPI (or a pip mirror); `.ci/run` has both. Elsewhere, without them, it
//! says so and passes only when `CI` is unset.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::{
    Background, ScratchDir, enqueue_net_op_through, network_through, opsctl_at, spawn_opsctl,
    spawn_serve, stdout,
};

/// The client's version: the one DOMAIN.md §10 describes.
const CLIENT: &str = "shakenfist-client==0.8.3";

/// A virtualenv with the client in `dir`; `None` (with the reason) when this machine cannot make one.
fn virtualenv(dir: &Path) -> Result<std::path::PathBuf, String> {
    let venv = dir.join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output();
    match made {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            return Err(format!(
                "python3 -m venv failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Err(error) => return Err(format!("no python3: {error}")),
    }
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", CLIENT])
        .output()
        .map_err(|error| format!("cannot run pip: {error}"))?;
    if !installed.status.success() {
        return Err(format!(
            "pip install {CLIENT} failed: {}",
            String::from_utf8_lossy(&installed.stderr)
        ));
    }
    Ok(venv.join("bin/python"))
}

#[test]
fn the_real_shakenfist_client_works_against_opsctl_serve_on_sqlite() {
    let dir = ScratchDir::new("opsctl-shakenfist-client");
    let url = format!("sqlite://{}", dir.path().join("ops.db").display());
    drive_the_client(&dir, &url);
}

#[test]
fn the_real_shakenfist_client_works_against_opsctl_serve_on_postgres() {
    on_a_server(ops_testkit::Backend::Postgres);
}

#[test]
fn the_real_shakenfist_client_works_against_opsctl_serve_on_mariadb() {
    on_a_server(ops_testkit::Backend::MariaDb);
}

/// [`drive_the_client`] on a fresh test database of `backend`.
fn on_a_server(backend: ops_testkit::Backend) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(ops_testkit::run_on(backend, |db| async move {
        let url = db.url().to_owned();
        tokio::task::spawn_blocking(move || {
            let dir = ScratchDir::new("opsctl-shakenfist-client-server");
            drive_the_client(&dir, &url);
        })
        .await
        .expect("the client's run");
        db
    }));
}

/// Seeds the database at `url` through opsctl, serves it, runs a worker, and drives the client.
fn drive_the_client(dir: &ScratchDir, url: &str) {
    let python = match virtualenv(dir.path()) {
        Ok(python) => python,
        Err(reason) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: {reason}");
            return;
        }
        Err(reason) => panic!("{reason}"),
    };
    let path = dir.path();
    opsctl_at(path, url).arg("migrate").assert().success();
    opsctl_at(path, url)
        .args(["namespace", "create", "team-a"])
        .assert()
        .success();
    let key = stdout(
        opsctl_at(path, url)
            .args(["key", "create", "team-a", "client"])
            .assert(),
    )
    .trim_end()
    .to_owned();

    let ours = network_through(path, url, "web", "team-a", 0x10);
    let first = enqueue_net_op_through(path, url, &ours, "network_deploy", &[]);
    let second = enqueue_net_op_through(
        path,
        url,
        &ours,
        "network_update_dnsmasq",
        &[format!("net_op:{first}")],
    );
    let failing = enqueue_net_op_through(
        path,
        url,
        &ours,
        "network_ensure_mesh",
        &["net_op:00000000-0000-4000-8000-000000000000".to_owned()],
    );
    let theirs = network_through(path, url, "web", "team-b", 0x11);
    let foreign = enqueue_net_op_through(path, url, &theirs, "network_deploy", &[]);

    let secret = path.join("secret");
    let (server, addr) = spawn_serve(path, &[], url, &secret);
    let _server = Background(server);
    let base = format!("http://{addr}");
    let _worker = Background(spawn_opsctl(
        &[
            "--database-url",
            url,
            "worker",
            "--queues",
            "networknode",
            "--poll-interval",
            "100ms",
        ],
        path,
    ));

    let seed = serde_json::json!({
        "network": ours, "first_op": first, "second_op": second, "failing_op": failing, "foreign_op": foreign,
    });
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shakenfist_client/drive.py");
    let output = Command::new(python)
        .arg(driver)
        .current_dir(path)
        .env("HOME", path)
        .env("SHAKENFIST_API_URL", &base)
        .env("SHAKENFIST_NAMESPACE", "team-a")
        .env("SHAKENFIST_KEY", &key)
        .env("OPS_SEED", seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run the driver");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the client's steps failed:\n{printed}"
    );
    let steps: Vec<&str> = printed
        .lines()
        .filter(|line| line.starts_with("ok "))
        .collect();
    assert_eq!(
        steps,
        [
            "ok capabilities",
            "ok get_cluster_operation",
            "ok get_cluster_operation_chain",
            "ok list_cluster_operations_for_target",
            "ok network clusteroperations",
            "ok get_network",
            "ok delete_network",
            "ok ClusterOperationFailed",
            "ok foreign op forbidden",
        ],
        "{printed}"
    );
}
