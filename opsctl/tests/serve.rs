//! `opsctl serve` as an operator runs it: it says where it listens, answers, and stops cleanly on SIGTERM
//! or SIGINT. What it serves is tested in ops-server's own tests.

mod support;

use std::io::{Read, Write};

use support::{ScratchDir, opsctl_in, spawn_serve};

/// The status line of `GET path` on `addr`, over plain HTTP/1.1.
fn status_of(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn serve_says_where_it_listens_answers_and_stops_on_a_signal() {
    for signal in ["-TERM", "-INT"] {
        let dir = ScratchDir::new("opsctl-serve");
        opsctl_in(dir.path()).arg("migrate").assert().success();
        let url = format!("sqlite://{}", dir.path().join("ops.db").display());
        let secret = dir.path().join("secret");
        let (mut child, addr) = spawn_serve(dir.path(), &[], &url, &secret);
        assert_eq!(status_of(&addr, "/readyz"), "HTTP/1.1 200 OK");
        assert_eq!(status_of(&addr, "/nothing"), "HTTP/1.1 404 Not Found");
        assert_eq!(
            status_of(
                &addr,
                "/clusteroperations/net_op/00000000-0000-4000-8000-000000000000"
            ),
            "HTTP/1.1 401 Unauthorized"
        );
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600,
            "the secret file"
        );
        let killed = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{signal}: {status:?}");
        assert!(
            std::net::TcpStream::connect(&addr).is_err(),
            "{signal}: still listening"
        );
    }
}

#[test]
fn serve_refuses_a_database_without_the_schema() {
    let dir = ScratchDir::new("opsctl-serve-unmigrated");
    let output = opsctl_in(dir.path())
        .args([
            "--database-url",
            "sqlite::memory:",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .assert()
        .code(4)
        .get_output()
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: the database has no ops schema; run `opsctl migrate` first\n"
    );
    assert!(output.stdout.is_empty());
    assert!(dir.files().is_empty(), "{:?}", dir.files());
}

#[test]
fn serve_refuses_a_short_secret() {
    let dir = ScratchDir::new("opsctl-serve-secret");
    opsctl_in(dir.path()).arg("migrate").assert().success();
    let output = opsctl_in(dir.path())
        .env("OPS_SERVER_SECRET", "too short")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: OPS_SERVER_SECRET: the token signing secret has 9 bytes; at least 32 are needed\n"
    );
    assert_eq!(dir.files(), ["ops.db"], "no secret file made");
}

/// The answer to `request` (a whole HTTP/1.1 request) sent to `addr`.
fn exchange(addr: &str, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn keys_and_tokens_are_never_logged_even_at_trace_level() {
    let dir = ScratchDir::new("opsctl-serve-logs");
    opsctl_in(dir.path()).arg("migrate").assert().success();
    let key = String::from_utf8(
        opsctl_in(dir.path())
            .args(["key", "create", "system", "admin"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    let key = key.trim_end();
    let url = format!("sqlite://{}", dir.path().join("ops.db").display());
    let secret = dir.path().join("secret");
    let (child, addr) = spawn_serve(dir.path(), &["-vvv"], &url, &secret);
    let body = format!(r#"{{"namespace": "system", "key": "{key}"}}"#);
    let answer = exchange(
        &addr,
        &format!(
            "POST /auth HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let token = answer
        .split("\"access_token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no token in {answer}"))
        .to_owned();
    let answer = exchange(
        &addr,
        &format!(
            "GET /clusteroperations/net_op/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    // The dashboard's form login, and a page with its cookie.
    let form = format!("namespace=system&key={key}&next=%2Fdashboard%2Fqueues");
    let login = exchange(
        &addr,
        &format!(
            "POST /auth HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    let cookie = login
        .split("set-cookie: ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no cookie in {login}"))
        .to_owned();
    let page = exchange(
        &addr,
        &format!(
            "GET /dashboard/queues HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let session_token = cookie.trim_start_matches("ops_session=").to_owned();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let output = child.wait_with_output().expect("wait");
    let logged = String::from_utf8_lossy(&output.stderr);
    assert!(
        logged.contains("token issued"),
        "trace logging is on: {logged}"
    );
    assert!(!logged.contains(key), "the key was logged");
    assert!(!logged.contains(&token), "the token was logged");
    assert!(
        !logged.contains(&session_token),
        "the session's token was logged"
    );
    for token in [&token, &session_token] {
        assert!(
            !logged.contains(token.split('.').nth(2).unwrap()),
            "a token's signature was logged"
        );
    }
}
