//! What the server's tests share: a server on a free loopback port over a test's store, called as any
//! client calls it.
#![allow(dead_code)]

use ops_core::Store;
use ops_server::{Server, ServerOptions};

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
    let server = Server::bind(store, "127.0.0.1:0".parse().expect("an address"), options)
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
