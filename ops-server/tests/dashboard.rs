//! The dashboard's pages on every backend, called as a browser calls them (a form login, a cookie, no
//! redirects followed): the session and its protections, the object page's gate banner (failing closed),
//! pending ops, latest op and history, the op page, the queues and maintainer pages, and the namespace
//! rules on each.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ops_core::network::{Maintainer, Role, SimulatedHost};
use ops_core::worker::{OpError, Worker};
use ops_core::{InstanceId, InterfaceId};
use ops_core::{NetworkId, NodeId, ObjectState, OpId, OpState, QueueTarget, Store};
use ops_schemas::ShakenFistRepairs;
use ops_schemas::ops::{NetOp, NetTask, NodeInstNetIfaceOp, NodeInstNetIfaceTask};
use ops_testkit::backend_tests;
use support::{Running, key_for, net_op, network_of, serve};

/// A client that shows each answer as it comes: redirects are not followed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// An answer: status, `Location`, `Set-Cookie`, the header named `header`, body.
struct Answer {
    status: u16,
    location: Option<String>,
    cookie: Option<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn answer(response: reqwest::Response) -> Answer {
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("ASCII").to_owned())
    };
    let (location, cookie) = (
        header(reqwest::header::LOCATION),
        header(reqwest::header::SET_COOKIE),
    );
    Answer {
        status: response.status().as_u16(),
        location,
        cookie,
        headers: response.headers().clone(),
        body: response.text().await.expect("a body"),
    }
}

/// `fields` as a form body.
fn form_body(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).expect("a form")
}

/// The login form posted to `/auth` from the dashboard's own page.
async fn post_login(server: &Running, namespace: &str, key: &str, next: &str) -> Answer {
    let response = browser()
        .post(server.url("/auth"))
        .header("origin", &server.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("namespace", namespace),
            ("key", key),
            ("next", next),
        ]))
        .send()
        .await
        .expect("an answer");
    answer(response).await
}

/// Logs in as a new key of `namespace`: the `name=value` of the session cookie.
async fn log_in(server: &Running, store: &Store, namespace: &str) -> String {
    let key = key_for(
        store,
        namespace,
        &format!("dashboard-{}", uuid::Uuid::new_v4()),
    )
    .await;
    let login = post_login(server, namespace, &key, "/dashboard").await;
    assert_eq!(login.status, 303, "{}", login.body);
    let cookie = login.cookie.expect("a session cookie");
    cookie.split(';').next().expect("name=value").to_owned()
}

/// `GET path` with the session `cookie` (none when empty).
async fn get(server: &Running, cookie: &str, path: &str) -> Answer {
    let mut request = browser().get(server.url(path));
    if !cookie.is_empty() {
        request = request.header("cookie", cookie);
    }
    answer(request.send().await.expect("an answer")).await
}

/// The `data-op` values in `html` after `marker` and before the next `</table>`, in order.
fn ops_in(html: &str, marker: &str) -> Vec<String> {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let rest = &html[start..];
    let rest = &rest[..rest.find("</table>").unwrap_or(rest.len())];
    rest.split("data-op=\"")
        .skip(1)
        .map(|part| part[..36].to_owned())
        .collect()
}

/// The `<ul id="{id}">` list in `html`.
fn list(html: &str, id: &str) -> String {
    let start = html
        .find(&format!(r#"<ul id="{id}">"#))
        .unwrap_or_else(|| panic!("no {id} in {html}"));
    html[start..]
        .split("</ul>")
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn complete(store: &Store, op: OpId) {
    store
        .transition(op, OpState::Executing, None)
        .await
        .expect("start");
    store
        .transition(op, OpState::Complete, None)
        .await
        .expect("finish");
}

backend_tests! {
    /// Pages send a visitor without a session to the login form, which comes back after; the form sets an
    /// HttpOnly, SameSite=Strict cookie for the dashboard alone; bad keys get the form again with the
    /// API's status; a post from another site is refused; logging out, or the key's deletion, ends the
    /// session. The API still answers JSON logins, and never takes the cookie for a bearer token.
    async fn a_session_is_a_form_login_and_a_strict_cookie(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let key = key_for(&store, "system", "operator").await;

        let anonymous = get(&server, "", "/dashboard/queues?refresh=10").await;
        assert_eq!(anonymous.status, 303);
        assert_eq!(anonymous.location.as_deref(), Some("/dashboard/login?next=/dashboard/queues%3Frefresh%3D10"));
        let network = NetworkId::new_v4();
        for page in [
            "/dashboard".to_owned(),
            "/dashboard/objects?type=network&ref=web".to_owned(),
            format!("/dashboard/objects/network/{network}"),
            format!("/dashboard/ops/{}", OpId::new_v4()),
            "/dashboard/maintainer".to_owned(),
        ] {
            let answer = get(&server, "", &page).await;
            assert_eq!(answer.status, 303, "{page}");
            assert!(answer.location.unwrap().starts_with("/dashboard/login?next=/dashboard"), "{page}");
        }
        let stylesheet = get(&server, "", "/dashboard/style.css").await;
        assert_eq!(stylesheet.headers.get("content-type").unwrap(), "text/css; charset=utf-8");
        assert!(stylesheet.body.contains(":focus-visible"));
        let form = get(&server, "", "/dashboard/login?next=/dashboard/queues").await;
        assert_eq!(form.status, 200);
        assert!(form.body.contains(r#"<form class="login" method="post" action="/auth">"#), "{}", form.body);
        assert!(form.body.contains(r#"name="next" value="/dashboard/queues""#));
        let csp = form.headers.get("content-security-policy").expect("a policy").to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(form.headers.get("x-content-type-options").unwrap(), "nosniff");

        let wrong = post_login(&server, "system", "not-the-key", "/dashboard").await;
        assert_eq!((wrong.status, wrong.cookie.is_none()), (401, true));
        assert!(wrong.body.contains("the key is not one of the namespace&#39;s keys")
            || wrong.body.contains("the key is not one of the namespace's keys"), "{}", wrong.body);
        let nowhere = post_login(&server, "no-such-namespace", &key, "/dashboard").await;
        assert_eq!((nowhere.status, nowhere.cookie.is_none()), (404, true));
        let empty = post_login(&server, "system", "", "/dashboard").await;
        assert_eq!(empty.status, 400);

        let cross_site = browser()
            .post(server.url("/auth"))
            .header("origin", "http://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[("namespace", "system"), ("key", key.as_str())]))
            .send()
            .await
            .unwrap();
        let cross_site = answer(cross_site).await;
        assert_eq!((cross_site.status, cross_site.cookie.is_none()), (403, true));

        let login = post_login(&server, "system", &key, "/dashboard/queues").await;
        assert_eq!((login.status, login.location.as_deref()), (303, Some("/dashboard/queues")));
        let set_cookie = login.cookie.expect("a cookie");
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard", "Max-Age=900"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
        let elsewhere = post_login(&server, "system", &key, "https://evil.example/").await;
        assert_eq!(elsewhere.location.as_deref(), Some("/dashboard"), "never sent off the dashboard");
        let unsendable = post_login(&server, "system", &key, "/dashboard/\r\nset-cookie: x=1").await;
        assert_eq!(unsendable.location.as_deref(), Some("/dashboard"), "no header can be injected");
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let home = get(&server, &cookie, "/dashboard").await;
        assert_eq!(home.status, 200);
        assert!(home.body.contains("Find an object") && home.body.contains("Log out"));

        // The cookie is no bearer token: the API refuses a request that carries only it.
        let (op_type, op) = ("net_op", net_op(&store, network_of(&store, "system").await, NetTask::NetworkDeploy, &[]).await);
        let api = get(&server, &cookie, &format!("/clusteroperations/{op_type}/{op}")).await;
        assert_eq!(api.status, 401);
        // JSON logins answer as before.
        let (status, body) = support::auth(&server, serde_json::json!({"namespace": "system", "key": key})).await;
        assert_eq!((status, body["token_type"].as_str()), (200, Some("Bearer")));

        let logout_elsewhere = browser().post(server.url("/dashboard/logout")).header("cookie", &cookie)
            .header("origin", "http://evil.example").send().await.unwrap();
        assert_eq!(logout_elsewhere.status().as_u16(), 403);
        let logout = browser().post(server.url("/dashboard/logout")).header("cookie", &cookie)
            .header("origin", &server.base).send().await.unwrap();
        let logout = answer(logout).await;
        assert_eq!((logout.status, logout.location.as_deref()), (303, Some("/dashboard/login")));
        assert!(logout.cookie.unwrap().contains("Max-Age=0"));

        store.delete_namespace_key("system", "operator").await.unwrap();
        let ended = get(&server, &cookie, "/dashboard").await;
        assert_eq!(ended.status, 303);
        assert!(ended.location.unwrap().ends_with("&ended=1"));
        server.stop().await.unwrap();
    }

    /// The object page: the gate's banner (busy while an op is in flight, idle after), the pending ops,
    /// the latest op and the history, newest first, as the store answers them; found by name; paged.
    async fn the_object_page_shows_the_gate_pending_latest_and_history(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let cookie = log_in(&server, &store, "system").await;
        let network = network_of(&store, "team-a").await;
        let first = net_op(&store, network, NetTask::NetworkDeploy, &[]).await;
        complete(&store, first).await;
        let second = net_op(&store, network, NetTask::NetworkUpdateDnsmasq, &[first]).await;
        let path = format!("/dashboard/objects/network/{network}");

        let page = get(&server, &cookie, &path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(r#"data-gate="busy""#), "{}", page.body);
        assert_eq!(ops_in(&page.body, r#"id="pending-ops""#), [second.to_string()]);
        assert_eq!(ops_in(&page.body, r#"id="history-ops""#), [second.to_string(), first.to_string()]);
        assert!(page.body.contains(&format!(r#"id="latest-op" data-op="{second}""#)));
        let history = store.history(network, None, 50).await.unwrap();
        let page_two = get(&server, &cookie, &format!("{path}?before={}", history.ops[0].sequence_number)).await;
        assert_eq!(ops_in(&page_two.body, r#"id="history-ops""#), [first.to_string()]);
        assert!(page_two.body.contains(&format!(r#"href="{path}">Newest"#)));

        complete(&store, second).await;
        let idle = get(&server, &cookie, &path).await;
        assert!(idle.body.contains(r#"data-gate="idle""#), "{}", idle.body);
        assert!(idle.body.contains("No operation is in flight"));

        let found = get(&server, &cookie, "/dashboard/objects?type=network&ref=web").await;
        assert_eq!((found.status, found.location.as_deref()), (303, Some(path.as_str())));
        let by_uuid = get(&server, &cookie, &format!("/dashboard/objects?type=network&ref={network}")).await;
        assert_eq!(by_uuid.location.as_deref(), Some(path.as_str()));
        for missing in [
            format!("/dashboard/objects/network/{}", NetworkId::new_v4()),
            "/dashboard/objects/network/not-a-uuid".to_owned(),
            format!("/dashboard/objects/ipam/{network}"),
            "/dashboard/objects?type=network&ref=nothing-named-so".to_owned(),
        ] {
            let answer = get(&server, &cookie, &missing).await;
            assert_eq!(answer.status, 404, "{missing}");
            assert!(answer.body.starts_with("<!DOCTYPE html>"), "an HTML page: {}", answer.body);
        }
        server.stop().await.unwrap();
    }

    /// When the store cannot answer the gate's question, the banner says "unknown — treated as busy",
    /// as the maintainer treats it.
    async fn the_object_page_fails_closed(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let cookie = log_in(&server, &store, "system").await;
        let network = network_of(&store, "team-a").await;
        net_op(&store, network, NetTask::NetworkDeploy, &[]).await;
        db.execute("DROP TABLE in_flight_targets").await;
        let page = get(&server, &cookie, &format!("/dashboard/objects/network/{network}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(r#"data-gate="unknown""#), "{}", page.body);
        assert!(page.body.contains("Unknown — treated as busy"));
        server.stop().await.unwrap();
    }

    /// The op page: tasks, targets linking to their pages, the events, what it depends on, and the error
    /// report of one the worker failed.
    async fn the_op_page_tells_the_ops_story(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let cookie = log_in(&server, &store, "system").await;
        let network = network_of(&store, "team-a").await;
        let first = net_op(&store, network, NetTask::NetworkDeploy, &[]).await;
        let second = net_op(&store, network, NetTask::NetworkUpdateDnsmasq, &[first]).await;
        let failing = net_op(&store, network, NetTask::NetworkEnsureMesh, &[]).await;
        Worker::builder(store.clone())
            .serve(QueueTarget::NetworkNode)
            .poll_interval(Duration::from_millis(20))
            .max_attempts(1)
            .worker_id("dashboard-worker")
            .handle(move |_op: NetOp, ctx: ops_core::OpContext<NetTask>| {
                let outcome = if ctx.op_id() == failing { Err(OpError::failed("the mesh is torn")) } else { Ok(()) };
                std::future::ready(outcome)
            })
            .build()
            .unwrap()
            .drain()
            .await
            .unwrap();

        let page = get(&server, &cookie, &format!("/dashboard/ops/{second}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for expected in [
            "<code>network_update_dnsmasq</code>",
            &format!(r#"href="/dashboard/objects/network/{network}""#),
            &format!(r#"<li data-op="{first}"><em>depends on</em>"#),
            "<code>dashboard-worker</code>",
            "state executing: claimed by worker dashboard-worker",
        ] {
            assert!(page.body.contains(expected), "{expected} in {}", page.body);
        }
        assert!(!page.body.contains("Error report"));
        let failed = get(&server, &cookie, &format!("/dashboard/ops/{failing}")).await;
        assert!(failed.body.contains("Error report") && failed.body.contains("the mesh is torn"), "{}", failed.body);
        assert_eq!(get(&server, &cookie, &format!("/dashboard/ops/{}", OpId::new_v4())).await.status, 404);
        assert_eq!(get(&server, &cookie, "/dashboard/ops/not-a-uuid").await.status, 404);
        server.stop().await.unwrap();
    }

    /// The queues page counts each queue's waiting and running ops and reloads itself when asked; the
    /// maintainer page shows the latest pass's busy and repaired networks.
    async fn the_queues_and_maintainer_pages(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let cookie = log_in(&server, &store, "system").await;
        let empty = get(&server, &cookie, "/dashboard/queues").await;
        assert!(empty.body.contains("Every queue is empty") && !empty.body.contains("http-equiv"), "{}", empty.body);
        let host = Arc::new(SimulatedHost::new(true));
        let busy = network_of(&store, "team-a").await;
        let broken = network_of(&store, "team-a").await;
        for network in [busy, broken] {
            store.set_object_state(network.into(), ObjectState::Created, None).await.unwrap();
        }
        db.execute("UPDATE object_states SET update_time = update_time - 3600").await;
        net_op(&store, busy, NetTask::NetworkDeploy, &[]).await;
        net_op(&store, busy, NetTask::NetworkDeploy, &[]).await;

        let queues = get(&server, &cookie, "/dashboard/queues?refresh=1").await;
        assert!(queues.body.contains("networknode-clusteroperation-user_waiting"), "{}", queues.body);
        assert!(queues.body.contains(r#"<span class="figure" id="waiting">2</span>"#), "{}", queues.body);
        assert!(queues.body.contains(r#"<meta http-equiv="refresh" content="2">"#), "clamped to 2 s");
        assert!(queues.body.contains(r#"<a href="/dashboard/queues" aria-current="page">Queues</a>"#), "{}", queues.body);
        assert!(queues.body.contains(r#"role="region" aria-label="Queues by priority" tabindex="0""#));

        let none = get(&server, &cookie, "/dashboard/maintainer").await;
        assert!(none.body.contains(r#"id="no-passes""#), "{}", none.body);
        let node = NodeId::new_v4();
        Maintainer::new(store.clone(), host, Role::NetworkNode(node), ShakenFistRepairs).pass().await.unwrap();
        let page = get(&server, &cookie, "/dashboard/maintainer").await;
        assert_eq!(page.status, 200);
        assert!(list(&page.body, &format!("busy-{node}")).contains(&busy.to_string()));
        assert!(list(&page.body, &format!("repaired-{node}")).contains(&broken.to_string()));
        assert!(!page.body.contains("stale-"), "a pass of moments ago is no cause for alarm");

        // A second node's maintainer, whose last pass is ten minutes old: both nodes have their section,
        // and the silent one a warning.
        let quiet = NodeId::new_v4();
        Maintainer::new(store.clone(), Arc::new(SimulatedHost::new(true)), Role::NetworkNode(quiet), ShakenFistRepairs)
            .pass().await.unwrap();
        db.execute(&format!(
            "UPDATE events SET timestamp = timestamp - 600 WHERE event_uuid IN \
             (SELECT event_uuid FROM event_objects WHERE object_uuid = '{quiet}')"
        )).await;
        let page = get(&server, &cookie, "/dashboard/maintainer").await;
        assert!(list(&page.body, &format!("busy-{node}")).contains(&busy.to_string()));
        assert!(list(&page.body, &format!("busy-{quiet}")).contains(&busy.to_string()));
        assert!(page.body.contains(&format!(r#"id="stale-{quiet}""#)), "{}", page.body);
        assert!(!page.body.contains(&format!(r#"id="stale-{node}""#)));
        server.stop().await.unwrap();
    }

    /// Another namespace than `system` sees its own objects and their ops only, and neither the queues nor
    /// the maintainer's passes; `system` sees everything.
    async fn namespaces_apply_on_every_page(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let team_a = log_in(&server, &store, "team-a").await;
        let system = log_in(&server, &store, "system").await;
        let ours = network_of(&store, "team-a").await;
        let theirs = network_of(&store, "team-b").await;
        let our_op = net_op(&store, ours, NetTask::NetworkDeploy, &[]).await;
        let their_op = net_op(&store, theirs, NetTask::NetworkDeploy, &[]).await;

        let status = |cookie: &str, path: String| {
            let (server, cookie) = (&server, cookie.to_owned());
            async move { get(server, &cookie, &path).await.status }
        };
        assert_eq!(status(&team_a, format!("/dashboard/objects/network/{ours}")).await, 200);
        assert_eq!(status(&team_a, format!("/dashboard/objects/network/{theirs}")).await, 404);
        assert_eq!(status(&team_a, format!("/dashboard/ops/{our_op}")).await, 200);
        assert_eq!(status(&team_a, format!("/dashboard/ops/{their_op}")).await, 403);
        assert_eq!(status(&team_a, "/dashboard/queues".to_owned()).await, 403);
        assert_eq!(status(&team_a, "/dashboard/maintainer".to_owned()).await, 403);
        let found = get(&server, &team_a, "/dashboard/objects?type=network&ref=web").await;
        assert_eq!(found.location, Some(format!("/dashboard/objects/network/{ours}")), "its own web, not team-b's");
        for path in [
            format!("/dashboard/objects/network/{theirs}"),
            format!("/dashboard/ops/{their_op}"),
            "/dashboard/queues".to_owned(),
            "/dashboard/maintainer".to_owned(),
        ] {
            assert_eq!(status(&system, path.clone()).await, 200, "{path}");
        }
        server.stop().await.unwrap();
    }

    /// Ops that also target another namespace's objects are not shown to a namespace (only counted, as
    /// the gate counts them), nor are ops it waits for that are another namespace's; `system` sees them.
    async fn another_namespaces_ops_stay_hidden(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let team_a = log_in(&server, &store, "team-a").await;
        let system = log_in(&server, &store, "system").await;
        let ours = network_of(&store, "team-a").await;
        let theirs = network_of(&store, "team-b").await;
        let their_op = net_op(&store, theirs, NetTask::NetworkDeploy, &[]).await;
        let our_op = net_op(&store, ours, NetTask::NetworkUpdateDnsmasq, &[their_op]).await;
        let mixed = NodeInstNetIfaceOp {
            node_uuid: NodeId::new_v4(),
            instance_uuid: InstanceId::new_v4(),
            network_uuid: ours,
            interface_uuid: InterfaceId::new_v4(),
        }
        .enqueue(&store)
        .priority(ops_core::Priority::UserWaiting)
        .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
        .await
        .unwrap();

        let path = format!("/dashboard/objects/network/{ours}");
        let page = get(&server, &team_a, &path).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Busy</strong> — 2 operations in flight"), "the gate counts both: {}", page.body);
        assert_eq!(ops_in(&page.body, r#"id="pending-ops""#), [our_op.to_string()]);
        assert_eq!(ops_in(&page.body, r#"id="history-ops""#), [our_op.to_string()]);
        assert!(page.body.contains("1 more operation, which also target another namespace&#39;s objects, is not shown")
            || page.body.contains("1 more operation, which also target another namespace's objects, is not shown"), "{}", page.body);
        assert!(page.body.contains("An operation that also targets another namespace"));
        assert!(!page.body.contains(&mixed.to_string()));
        let seen_by_system = get(&server, &system, &path).await;
        assert_eq!(ops_in(&seen_by_system.body, r#"id="history-ops""#), [mixed.to_string(), our_op.to_string()]);
        assert!(!seen_by_system.body.contains("not shown"));

        let op_page = get(&server, &team_a, &format!("/dashboard/ops/{our_op}")).await;
        assert_eq!(op_page.status, 200);
        assert!(op_page.body.contains("an operation of another namespace"), "{}", op_page.body);
        // The op's own record names what it waits for (its events keep its wire form); the tree shows
        // nothing of the other namespace's op: no link, no state.
        assert!(!op_page.body.contains(&format!("/dashboard/ops/{their_op}")));
        assert!(!op_page.body.contains(&format!(r#"data-op="{their_op}""#)));
        let op_page = get(&server, &system, &format!("/dashboard/ops/{our_op}")).await;
        assert!(op_page.body.contains(&format!(r#"<li data-op="{their_op}">"#)), "{}", op_page.body);
        server.stop().await.unwrap();
    }

    /// A session's token keeps its scopes: the object page needs the object type's read scope and
    /// `clusteroperation.read`, as the API's matching endpoints do.
    async fn a_tokens_scopes_apply_to_the_pages(db: &TestDb) {
        let store = db.migrated_store().await;
        let server = serve(store.clone()).await;
        let network = network_of(&store, "system").await;
        let op = net_op(&store, network, NetTask::NetworkDeploy, &[]).await;
        let object = format!("/dashboard/objects/network/{network}");
        let op_page = format!("/dashboard/ops/{op}");
        for (key_name, scopes, object_status, op_status, queues_status) in [
            ("networks-only", &["network.read"][..], 403, 403, 403),
            ("ops-only", &["clusteroperation.read"][..], 403, 200, 200),
            ("both", &["network.read", "clusteroperation.read"][..], 200, 200, 200),
        ] {
            let token = support::scoped_token(&store, "system", key_name, scopes).await;
            let cookie = format!("ops_session={token}");
            assert_eq!(get(&server, &cookie, &object).await.status, object_status, "{key_name}");
            assert_eq!(get(&server, &cookie, &op_page).await.status, op_status, "{key_name}");
            assert_eq!(get(&server, &cookie, "/dashboard/queues").await.status, queues_status, "{key_name}");
        }
        server.stop().await.unwrap();
    }
}
