//! What the server's tests share: a server on a free loopback port over a test's store, called as any
//! client calls it.
#![allow(dead_code)]

use std::time::Duration;

use ops_core::Store;
use ops_server::tokens::{TokenIssuer, TokenSecret};
use ops_server::{Server, ServerOptions};

/// The issuer every test server signs with: tests mint tokens of their own with it (expired, scoped).
pub(crate) fn issuer() -> TokenIssuer {
    TokenIssuer::new(
        TokenSecret::new(b"the tests' token signing secret, 32+ bytes".to_vec()).expect("a secret"),
        "ops-server",
        Duration::from_secs(900),
    )
}

/// A server running in the background; stopped (gracefully) when dropped or by [`Running::stop`].
pub(crate) struct Running {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), ops_server::ServerError>>>,
}

impl Running {
    /// `base` + `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Asks the server to stop and waits until it has.
    pub(crate) async fn stop(mut self) -> Result<(), ops_server::ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("the server task"),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a server over `store` on a free loopback port.
pub(crate) async fn serve(store: Store) -> Running {
    serve_with(store, ServerOptions::default()).await
}

/// [`serve`] with `options`.
pub(crate) async fn serve_with(store: Store, options: ServerOptions) -> Running {
    let server = Server::bind(
        store,
        issuer(),
        "127.0.0.1:0".parse().expect("an address"),
        options,
    )
    .await
    .expect("bind a free port");
    let base = format!("http://{}", server.local_addr().expect("its address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    Running {
        base,
        stop: Some(stop),
        task: Some(task),
    }
}

/// A status and the JSON body of an answer.
pub(crate) async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let response = reqwest::get(url).await.expect("an answer");
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// A key made for `key_name` of `namespace` (created when missing) at bcrypt's least cost; the key.
pub(crate) async fn key_for(store: &Store, namespace: &str, key_name: &str) -> String {
    if !store.namespace_exists(namespace).await.expect("look") {
        store
            .create_namespace(namespace)
            .await
            .expect("create the namespace");
    }
    let issued = ops_server::keys::issue_with_cost(namespace, key_name, 4).expect("a key");
    store
        .add_namespace_key(&issued.stored)
        .await
        .expect("store the key");
    issued.key
}

/// `POST /auth` with `body`: the status and the JSON answer.
pub(crate) async fn auth(server: &Running, body: serde_json::Value) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(server.url("/auth"))
        .json(&body)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// A bearer token for a new key of `namespace`, through `POST /auth`.
pub(crate) async fn token_for(
    server: &Running,
    store: &Store,
    namespace: &str,
    key_name: &str,
) -> String {
    let key = key_for(store, namespace, key_name).await;
    let (status, body) = auth(
        server,
        serde_json::json!({"namespace": namespace, "key": key}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("a token").to_owned()
}

/// `GET path` with `token` as bearer: the status and the JSON answer.
pub(crate) async fn get_as(server: &Running, token: &str, path: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// A network of `namespace`, registered, each with a VXLAN id of its own.
pub(crate) async fn network_of(store: &Store, namespace: &str) -> ops_core::NetworkId {
    static VXID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(7);
    let network = ops_core::NetworkId::new_v4();
    let vxid = VXID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    store
        .create_object(&ops_core::NewObject::network(
            network, "web", namespace, vxid,
        ))
        .await
        .expect("register the network");
    network
}

/// A queued `net_op` on `network` with `task`, depending on `depends_on`.
pub(crate) async fn net_op(
    store: &Store,
    network: ops_core::NetworkId,
    task: ops_schemas::ops::NetTask,
    depends_on: &[ops_core::OpId],
) -> ops_core::OpId {
    let mut enqueue = ops_schemas::ops::NetOp {
        network_uuid: network,
        node_uuid: None,
        floating_address: None,
        inner_address: None,
    }
    .enqueue(store)
    .priority(ops_core::Priority::UserWaiting)
    .task(task);
    for op in depends_on {
        enqueue = enqueue.depends_on(ops_core::Dependency::on::<ops_schemas::ops::NetOp>(*op));
    }
    enqueue.await.expect("enqueue")
}

/// A token for a new key of `namespace` whose claims carry `scopes`.
pub(crate) async fn scoped_token(
    store: &Store,
    namespace: &str,
    key_name: &str,
    scopes: &[&str],
) -> String {
    key_for(store, namespace, key_name).await;
    let nonce = store
        .namespace_key(namespace, key_name)
        .await
        .expect("read the key")
        .expect("the key")
        .nonce;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    issuer().sign(&ops_server::tokens::Claims {
        sub: format!("{namespace}:{key_name}"),
        iss: "ops-server".to_owned(),
        nonce,
        iat: now,
        nbf: now,
        exp: now + 60,
        scopes: Some(scopes.iter().map(|s| (*s).to_owned()).collect()),
    })
}
