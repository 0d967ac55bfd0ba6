//! The dashboard in a real browser: Debian's headless Chromium, driven through ChromeDriver (W3C
//! WebDriver), against `opsctl serve` on a database seeded through opsctl as an operator would seed it.
//! It logs in with the form, finds a network by name, checks what matters on each page (the busy banner,
//! the pending op, the timeline in the order `opsctl history` gives, the latest op as `opsctl latest`
//! gives it, an op's dependency and error report, the queues, the maintainer's pass), that the keyboard
//! reaches the content first, and saves screenshots at 1280 px and at phone width into
//! docs/operator_guide/dashboard/, which the guide shows.
//!
//! `.ci/run` installs `chromium` and `chromium-driver` when they are missing; elsewhere, without them, the
//! test says so and passes only when `CI` is unset.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use support::{
    Background, ScratchDir, enqueue_net_op_through as enqueue, json, network_through as network,
    opsctl_at, spawn_serve, stdout,
};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// WebDriver's codes of the Tab and Enter keys.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// The key of an element reference in WebDriver's answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session in headless Chromium.
struct Browser {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    session: String,
    _driver: Background,
    _profile: ScratchDir,
}

impl Browser {
    /// ChromeDriver on a free port, and a session in a headless Chromium with a new, empty profile, the
    /// flags that keep it off the network it would otherwise call home to.
    fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Background(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver"),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while runtime
            .block_on(http.get(format!("{base}/status")).send())
            .is_err()
        {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = ScratchDir::new("dashboard-chromium-profile");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1280,900",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let answer: Value = runtime.block_on(async {
            http.post(format!("{base}/session"))
                .json(&capabilities)
                .send()
                .await
                .expect("a session")
                .json()
                .await
                .expect("JSON")
        });
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        Browser {
            runtime,
            http,
            session: format!("{base}/session/{session}"),
            _driver: driver,
            _profile: profile,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let answer: Value = self.runtime.block_on(async {
            let mut request = self.http.request(method, &url);
            if let Some(body) = body {
                request = request.json(&body);
            }
            request
                .send()
                .await
                .expect("chromedriver answers")
                .json()
                .await
                .expect("JSON")
        });
        if answer["value"].get("error").is_some() {
            panic!("{path}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})));
    }

    fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .as_str()
            .expect("a url")
            .to_owned()
    }

    fn find(&self, css: &str) -> String {
        let element = self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        element[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {element}"))
            .to_owned()
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        );
    }

    /// Clicks the element `css` matches, then waits until the page it leads to is loaded.
    fn click(&self, css: &str) {
        let element = self.find(css);
        self.run("window.__leaving = true; return null;");
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.run("return window.__leaving !== true && document.readyState === 'complete';")
            != true
        {
            assert!(
                Instant::now() < deadline,
                "no page loaded after clicking {css}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `script` (a function body) in the page; what it returns.
    fn run(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    fn text(&self, css: &str) -> String {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.innerText : null;",
            json!(css)
        );
        self.run(&script)
            .as_str()
            .unwrap_or_else(|| {
                let page = self.run("return document.body ? document.body.innerText : '';");
                panic!("nothing matches {css} on {}: {page}", self.url())
            })
            .to_owned()
    }

    /// The `data-op` of every element `css` matches, in document order.
    fn ops(&self, css: &str) -> Vec<String> {
        let script = format!(
            "return Array.from(document.querySelectorAll({})).map(e => e.dataset.op);",
            json!(css)
        );
        serde_json::from_value(self.run(&script)).expect("a list")
    }

    fn press(&self, key: &str) {
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(
                json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                    {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
                ]}]}),
            ),
        );
    }

    /// The window's width; its height fits the page (measured at that width in a short window, so
    /// that the page's height is its content's), so that a screenshot shows all of it.
    fn screenshot(&self, name: &str, width: u32) {
        self.resize(width, 400);
        let height = self
            .run(
                "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;",
            )
            .as_u64()
            .unwrap_or(900)
            .min(6000);
        self.resize(width, height);
        let png = self.call(reqwest::Method::GET, "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64"))
            .expect("a PNG");
        std::fs::create_dir_all(screenshots()).expect("the screenshot folder");
        std::fs::write(screenshots().join(format!("{name}.png")), png).expect("the screenshot");
        self.resize(1280, 900);
    }

    fn resize(&self, width: u32, height: u64) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// Whether the page, at `width`, needs no sideways scrolling (its tables scroll on their own).
    fn fits(&self, width: u32) -> bool {
        self.resize(width, 900);
        let fits =
            self.run("return document.documentElement.scrollWidth <= window.innerWidth;") == true;
        self.resize(1280, 900);
        fits
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .runtime
            .block_on(self.http.delete(&self.session).send());
    }
}

/// Where the guide's screenshots live.
fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operator_guide/dashboard")
}

fn json_out(command: &mut assert_cmd::Command) -> Value {
    json(command.assert())
}

fn drain(dir: &Path, url: &str) {
    opsctl_at(dir, url)
        .args([
            "worker",
            "--queues",
            "networknode",
            "--drain",
            "--worker-id",
            "worker-1",
        ])
        .assert()
        .success();
}

#[test]
fn the_dashboard_in_headless_chromium() {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        let reason =
            format!("{CHROMIUM} and {CHROMEDRIVER} are needed (Debian: chromium, chromium-driver)");
        assert!(std::env::var_os("CI").is_none(), "{reason}");
        eprintln!("skipped: {reason}");
        return;
    }
    let dir = ScratchDir::new("opsctl-dashboard-browser");
    let path = dir.path();
    let url = format!("sqlite://{}", path.join("ops.db").display());
    let url = url.as_str();
    opsctl_at(path, url).arg("migrate").assert().success();
    let key = stdout(
        opsctl_at(path, url)
            .args(["key", "create", "system", "operator"])
            .assert(),
    )
    .trim_end()
    .to_owned();

    // A network with a story: two ops done (the second waited for the first), one failed (it waited for
    // an op that never existed), and one still queued, which makes it busy. Another network, idle.
    let web = network(path, url, "web", "team-a", 0x10);
    let deploy = enqueue(path, url, &web, "network_deploy", &[]);
    let dnsmasq = enqueue(
        path,
        url,
        &web,
        "network_update_dnsmasq",
        &[format!("net_op:{deploy}")],
    );
    let mesh = enqueue(
        path,
        url,
        &web,
        "network_ensure_mesh",
        &["net_op:00000000-0000-4000-8000-000000000000".to_owned()],
    );
    drain(path, url);
    let queued = enqueue(path, url, &web, "network_deploy", &[]);
    let db = network(path, url, "db", "team-a", 0x11);
    // One maintainer pass on the network node: no bridge exists on this machine, so the idle network is
    // repaired and the busy one left alone.
    opsctl_at(path, url)
        .args([
            "maintain",
            "--network-node",
            "--node",
            "6a5c3e2d-1b1a-4f4e-8d8c-7b7a69584736",
            "--once",
            "--settle",
            "0s",
        ])
        .assert()
        .success();

    let history = json_out(opsctl_at(path, url).args(["--json", "history", "network", &web]));
    let history: Vec<String> = history["ops"]
        .as_array()
        .expect("ops")
        .iter()
        .map(|op| op["op_uuid"].as_str().expect("a uuid").to_owned())
        .collect();
    assert_eq!(
        history,
        [
            queued.clone(),
            mesh.clone(),
            dnsmasq.clone(),
            deploy.clone()
        ]
    );
    let latest = json_out(opsctl_at(path, url).args(["--json", "latest", "network", &web]));
    let pending = json_out(opsctl_at(path, url).args(["--json", "pending", "network", &web]));
    let pending: Vec<&str> = pending["pending"]
        .as_array()
        .expect("pending")
        .iter()
        .map(|op| op["op_uuid"].as_str().expect("a uuid"))
        .collect();
    assert_eq!(pending, [queued.as_str()]);

    let (server, addr) = spawn_serve(path, &[], url, &path.join("secret"));
    let _server = Background(server);
    let base = format!("http://{addr}");
    let browser = Browser::start();

    // Not logged in: the login page, which comes back to where the viewer was going.
    browser.go(&format!("{base}/dashboard/queues"));
    assert!(
        browser
            .url()
            .starts_with(&format!("{base}/dashboard/login?next=")),
        "{}",
        browser.url()
    );
    browser.screenshot("login", 1280);
    browser.type_into("#namespace", "system");
    browser.type_into("#key", "not the key");
    browser.click("form.login button");
    assert!(
        browser
            .text("#login-error")
            .contains("not one of the namespace's keys")
    );
    browser.type_into("#key", &key);
    browser.click("form.login button");
    assert_eq!(browser.url(), format!("{base}/dashboard/queues"));

    // The keyboard reaches the skip link first, and the skip link the content.
    browser.go(&format!("{base}/dashboard"));
    browser.press(TAB);
    assert_eq!(
        browser.run("return document.activeElement.innerText;"),
        "Skip to the content"
    );
    browser.press(ENTER);
    assert_eq!(browser.run("return document.activeElement.id;"), "main");

    // Find the busy network by its name.
    browser.type_into("#ref", "web");
    browser.click("form.lookup button");
    assert_eq!(
        browser.url(),
        format!("{base}/dashboard/objects/network/{web}")
    );
    assert_eq!(
        browser.run("return document.querySelector('#gate').dataset.gate;"),
        "busy"
    );
    assert!(
        browser
            .text("#gate")
            .starts_with("Busy — 1 operation in flight"),
        "{}",
        browser.text("#gate")
    );
    assert_eq!(browser.ops("#pending-ops tbody tr"), [queued.as_str()]);
    assert_eq!(
        browser.ops("#history-ops tbody tr"),
        history,
        "the timeline in opsctl history's order"
    );
    assert_eq!(
        browser.ops("#latest-op"),
        [latest["last_cluster_operation"]["op_uuid"]
            .as_str()
            .expect("latest")]
    );
    let done_row = browser.text(&format!("#history-ops tr[data-op='{deploy}']"));
    assert!(
        done_row.contains("complete") && done_row.contains("worker-1"),
        "{done_row}"
    );
    browser.screenshot("object", 1280);
    browser.screenshot("object-phone", 390);
    assert!(
        browser.fits(390),
        "the object page scrolls sideways at phone width"
    );

    // The idle network, repaired by the maintainer's pass: its repair is now in flight, so it is busy too;
    // its page tells the repair's op.
    browser.go(&format!("{base}/dashboard/objects/network/{db}"));
    assert_eq!(
        browser.ops("#history-ops tbody tr").len(),
        2,
        "the recreate and the mesh check"
    );

    // The op that waited for another: its tree names the one it depends on.
    browser.go(&format!("{base}/dashboard/ops/{dnsmasq}"));
    assert!(browser.text("#op-state").starts_with("complete"));
    assert_eq!(browser.ops("#chain-tree li li"), [deploy.as_str()]);
    assert!(browser.text("#target-list").contains(&web));
    browser.screenshot("op", 1280);

    // The failed op: its error report, and its dependency no longer (never) stored.
    browser.go(&format!("{base}/dashboard/ops/{mesh}"));
    assert!(browser.text("#op-state").starts_with("error"));
    assert!(browser.text("#chain-tree").contains("no longer stored"));
    assert!(browser.find("#error").len() > 1);
    browser.screenshot("op-error", 1280);

    // The queues: the one op waiting on the network node's user_waiting queue, and the repairs.
    browser.go(&format!("{base}/dashboard/queues"));
    let table = browser.text("#queue-table");
    assert!(
        table.contains("networknode-clusteroperation-user_waiting"),
        "{table}"
    );
    assert!(
        browser.text("#error-rate").starts_with("33.3 %"),
        "{}",
        browser.text("#error-rate")
    );
    browser.screenshot("queues", 1280);

    // The maintainer: the busy network left alone, the idle one repaired.
    browser.go(&format!("{base}/dashboard/maintainer"));
    assert_eq!(
        browser.text("[id^='busy-']").trim(),
        format!("network {web}")
    );
    assert_eq!(
        browser.text("[id^='repaired-']").trim(),
        format!("network {db}")
    );
    browser.screenshot("maintainer", 1280);

    // Logging out ends the session.
    browser.click("form.logout button");
    browser.go(&format!("{base}/dashboard/queues"));
    assert!(
        browser
            .url()
            .starts_with(&format!("{base}/dashboard/login")),
        "{}",
        browser.url()
    );
}
