//! A TCP proxy in front of a test's database server that the test can cut: every connection through it
//! reset at once and its port refusing new ones — the server gone, as far as the store can tell, without
//! stopping the server the other tests share. Or stall: every connection kept open and no byte moved
//! either way — a peer that went silent (a firewall that dropped the flow, a server frozen mid-reply).

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The proxy; [`ServerProxy::url`] is the database's URL through it. Dropped, it is cut.
pub struct ServerProxy {
    url: String,
    state: watch::Sender<State>,
}

/// What the proxy does with the bytes of its connections.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Forwarding,
    Stalled,
    Cut,
}

impl ServerProxy {
    /// Starts a proxy on a free local port to the server that `url` names; `url` is returned through it.
    ///
    /// # Panics
    /// When `url` names no `host:port`, or no local port can be had.
    pub(crate) async fn start(url: &str) -> ServerProxy {
        let (authority, replace) = authority(url);
        let server = authority.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port for the proxy");
        let local: SocketAddr = listener.local_addr().expect("the proxy's port");
        let (state, on_state) = watch::channel(State::Forwarding);
        tokio::spawn(accept(listener, server, on_state));
        ServerProxy {
            url: replace(&local.to_string()),
            state,
        }
    }

    /// The database's URL, through the proxy.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Resets every connection through the proxy and closes its port: from now on the server is gone.
    pub fn cut(&self) {
        self.state.send_replace(State::Cut);
    }

    /// Stops moving bytes on every connection through the proxy, new ones included, and keeps them all
    /// open: the server still there but silent, until the proxy is cut.
    pub fn stall(&self) {
        self.state.send_if_modified(|state| {
            let forwarding = *state == State::Forwarding;
            if forwarding {
                *state = State::Stalled;
            }
            forwarding
        });
    }
}

impl Drop for ServerProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// Accepts and forwards until cut; then the listener is dropped and the port refuses.
async fn accept(listener: TcpListener, server: String, on_state: watch::Receiver<State>) {
    loop {
        let mut cut = on_state.clone();
        let (client, _) = tokio::select! {
            _ = cut.wait_for(|state| *state == State::Cut) => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
        };
        tokio::spawn(forward(client, server.clone(), on_state.clone()));
    }
}

/// Copies both ways until either side closes or the proxy stalls or is cut. Stalled, it holds both ends
/// open and idle until the cut, which drops (resets) both.
async fn forward(mut client: TcpStream, server: String, mut on_state: watch::Receiver<State>) {
    let Ok(mut upstream) = TcpStream::connect(&server).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => return,
        _ = on_state.wait_for(|state| *state != State::Forwarding) => {}
    }
    let _ = on_state.wait_for(|state| *state == State::Cut).await;
    // A reset, not a polite close: the peer sees its connection die mid-conversation.
    let _ = client.set_zero_linger();
    let _ = upstream.set_zero_linger();
}

/// The `host:port` of `url` (`scheme://[user[:password]@]host:port/...`), and a function that puts
/// another one in its place.
fn authority(url: &str) -> (&str, impl Fn(&str) -> String + '_) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let start = start + rest.find('@').map_or(0, |i| i + 1);
    let end = start + url[start..].find(['/', '?']).unwrap_or(url.len() - start);
    let authority = &url[start..end];
    assert!(authority.contains(':'), "`{url}` names no host:port");
    (authority, move |other: &str| {
        format!("{}{other}{}", &url[..start], &url[end..])
    })
}

#[cfg(test)]
mod tests {
    use super::authority;

    #[test]
    fn the_authority_is_found_and_replaced_with_or_without_a_user() {
        let (found, replace) = authority("mysql://root@127.0.0.1:3306/test_db");
        assert_eq!(found, "127.0.0.1:3306");
        assert_eq!(replace("127.0.0.1:9"), "mysql://root@127.0.0.1:9/test_db");
        let (found, replace) = authority("postgres://127.0.0.1:5432/db?sslmode=disable");
        assert_eq!(found, "127.0.0.1:5432");
        assert_eq!(replace("h:1"), "postgres://h:1/db?sslmode=disable");
    }
}
