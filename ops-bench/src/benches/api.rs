//! `api_load`: the API server under concurrent clients on loopback. One op read
//! (`GET /clusteroperations/net_op/<uuid>`, token checked against its key each time) by each of
//! [`CLIENTS`] clients on a keep-alive connection of its own, a fixed number of requests in all; each
//! request's latency, and every answer that is not 200 counted as an error. Reported with no bar.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ops_core::{NetworkId, NewObject, Store};
use ops_server::tokens::{TokenIssuer, TokenSecret};
use ops_server::{Server, ServerOptions};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::sample::{Samples, ratio};
use crate::{BenchError, Outcome, Profile};

/// Clients at once.
const CLIENTS: usize = 16;

fn failed(what: &str, error: impl std::fmt::Display) -> BenchError {
    BenchError::Task(format!("{what}: {error}"))
}

/// One keep-alive HTTP/1.1 connection: a request out, its status and body back.
struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Connection {
    async fn open(addr: std::net::SocketAddr) -> Result<Connection, BenchError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| failed("connecting to the server", e))?;
        stream
            .set_nodelay(true)
            .map_err(|e| failed("setting no delay", e))?;
        Ok(Connection {
            stream: BufReader::new(stream),
            host: addr.to_string(),
        })
    }

    async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> Result<(u16, String), BenchError> {
        let auth = token
            .map(|token| format!("Authorization: Bearer {token}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        let io = |e| failed("talking to the server", e);
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .map_err(io)?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await.map_err(io)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| failed("reading the status line", format!("{line:?}")))?;
        let mut length = 0;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.map_err(io)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0_u8; length];
        self.stream.read_exact(&mut body).await.map_err(io)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

pub(super) async fn load(store: &Store, profile: &Profile) -> Result<Outcome, BenchError> {
    // The scene: a namespace, its key, a network of it and an op on the network.
    store.create_namespace("bench").await?;
    let key = ops_server::keys::issue_with_cost("bench", "load", 4)
        .map_err(|e| failed("making a key", e))?;
    store.add_namespace_key(&key.stored).await?;
    let network = NetworkId::new_v4();
    store
        .create_object(&NewObject::network(network, "bench", "bench", 0x4242))
        .await?;
    let op = crate::sample_ops::net_op(store, network).await?;

    let secret = TokenSecret::new(b"api_load bench's own signing secret".to_vec())
        .map_err(|e| failed("the secret", e))?;
    let tokens = TokenIssuer::new(secret, "ops-server", Duration::from_secs(3600));
    let mut options = ServerOptions::default();
    options.auth_rate = ops_server::AuthRate {
        burst: u32::MAX,
        every: Duration::from_millis(1),
    };
    let server = Server::bind(store.clone(), tokens, ([127, 0, 0, 1], 0).into(), options)
        .await
        .map_err(|e| failed("starting the server", e))?;
    let addr = server.local_addr().map_err(|e| failed("its address", e))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));

    let body = serde_json::json!({"namespace": "bench", "key": key.key}).to_string();
    let (status, answer) = Connection::open(addr)
        .await?
        .request("POST", "/auth", None, &body)
        .await?;
    let token: String = serde_json::from_str::<serde_json::Value>(&answer)
        .ok()
        .and_then(|answer| answer["access_token"].as_str().map(str::to_owned))
        .ok_or_else(|| failed("authenticating", format!("{status} {answer}")))?;
    let token = Arc::new(token);
    let path = Arc::new(format!("/clusteroperations/net_op/{op}"));

    let per_client = (profile.api_requests / CLIENTS).max(1);
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (token, path) = (Arc::clone(&token), Arc::clone(&path));
        clients.spawn(async move {
            let mut connection = Connection::open(addr).await?;
            let mut latencies = Vec::with_capacity(per_client);
            let mut errors = 0_usize;
            for _ in 0..per_client {
                let at = Instant::now();
                let (status, _) = connection.request("GET", &path, Some(&token), "").await?;
                latencies.push(at.elapsed());
                errors += usize::from(status != 200);
            }
            Ok::<_, BenchError>((latencies, errors))
        });
    }
    let mut samples = Samples::new();
    let mut errors = 0;
    while let Some(client) = clients.join_next().await {
        let (latencies, failed_requests) = client.map_err(super::joined)??;
        latencies
            .into_iter()
            .for_each(|latency| samples.push(latency));
        errors += failed_requests;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    serving
        .await
        .map_err(super::joined)?
        .map_err(|e| failed("serving", e))?;
    Ok(Outcome::new("api_load", super::backend(store))
        .figure("clients", CLIENTS)
        .figure("requests", samples.len())
        .figure("errors", errors)
        .figure(
            "requests_per_sec",
            ratio(samples.len() as f64, elapsed.as_secs_f64()),
        )
        .figure("latency_p50_ms", samples.median_us() / 1000.0)
        .figure("latency_p99_ms", samples.p99_us() / 1000.0))
}
