//! Logging in and out, and [`Viewer`]: who a page is shown to, from the session cookie.
//!
//! The login form posts `namespace` and `key` to `/auth`, which checks them as it checks the API's JSON
//! (the same rate limit, the same answers) and, for a form, sets the token as an HttpOnly,
//! SameSite=Strict cookie scoped to `/dashboard` and sends the browser on. A form posted from another
//! site (its `Origin` or `Referer` not this host) is refused, so no page elsewhere can log a browser in
//! or out; SameSite keeps the cookie off every request another site starts.

use std::net::SocketAddr;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{PageError, layout};
use crate::auth::{Caller, RateLimited, issue_token, rate_limited};
use crate::server::AppState;

/// The cookie that carries the session's token.
const COOKIE: &str = "ops_session";

/// Where a login goes when it was asked for nowhere in particular.
const HOME: &str = "/dashboard";

/// Who a dashboard page is shown to: the caller its session cookie names. A request without a valid
/// session is sent to the login page, to come back after.
pub(crate) struct Viewer(pub(crate) Caller);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let back = parts
            .uri
            .path_and_query()
            .map_or(HOME, |path| path.as_str())
            .to_owned();
        let to_login = |ended: bool| {
            let mut login = format!("/dashboard/login?next={}", encode(&back));
            if ended {
                login.push_str("&ended=1");
            }
            Redirect::to(&login).into_response()
        };
        let Some(token) = cookie(&parts.headers, COOKIE) else {
            return Err(to_login(false));
        };
        match Caller::from_token(state, token).await {
            Ok(caller) => Ok(Viewer(caller)),
            Err(error) if error.status == StatusCode::UNAUTHORIZED => Err(to_login(true)),
            Err(error) => Err(PageError::from(error).into_response()),
        }
    }
}

impl Viewer {
    /// Refused, for a viewer other than `system` (`what` holds every namespace's work), or whose token
    /// lacks `clusteroperation.read`.
    pub(crate) fn system_only(&self, what: &str) -> Result<(), PageError> {
        if !self.0.is_system() {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                format!("only the system namespace sees {what}"),
            ));
        }
        Ok(self.0.require_scope(crate::auth::CLUSTER_OPERATION_READ)?)
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// `text` percent-encoded for a query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Where to go after logging in: a dashboard path, never another site (`//host`) or another part of
/// this one, and nothing a `Location` header cannot carry as it is (spaces, control characters).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if (next == HOME
                || next.starts_with("/dashboard/")
                || next.starts_with("/dashboard?"))
                && !next.contains("//")
                && !next.contains('\\')
                && next.bytes().all(|byte| byte.is_ascii_graphic()) =>
        {
            next
        }
        _ => HOME,
    }
}

/// Whether a request's body is an HTML form: the login form's post to `/auth`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|kind| kind.to_str().ok())
        .is_some_and(|kind| kind.starts_with("application/x-www-form-urlencoded"))
}

/// Whether a form post comes from a page of this host: its `Origin` (or, without one, its `Referer`)
/// names the host it was sent to — the `Host` header, or behind a proxy that rewrites it, the
/// `X-Forwarded-Host` the proxy sets (a cross-site form cannot set either). A post naming neither
/// `Origin` nor `Referer` is not a browser's cross-site post.
fn same_origin(headers: &HeaderMap) -> bool {
    let header = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    let hosts = [
        header(header::HOST.as_str()),
        header("x-forwarded-host").map(|hosts| hosts.split(',').next().unwrap_or("").trim()),
    ];
    let sender = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|value| value.to_str().unwrap_or(""));
    let Some(sender) = sender else {
        return true;
    };
    let authority = sender
        .strip_prefix("http://")
        .or_else(|| sender.strip_prefix("https://"))
        .map(|rest| rest.split('/').next().unwrap_or(""));
    authority.is_some_and(|authority| hosts.contains(&Some(authority)))
}

fn cross_site() -> Response {
    PageError::new(
        StatusCode::FORBIDDEN,
        "this form was sent from another site; log in from the dashboard's own page",
    )
    .into_response()
}

/// The login form's fields.
#[derive(Deserialize)]
struct LoginForm {
    namespace: String,
    key: String,
    next: Option<String>,
}

/// `POST /auth` with the login form: on success, the session cookie and a redirect to where the viewer
/// was going; otherwise the form again, with why, and the status the API would answer.
pub(crate) async fn log_in(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if !same_origin(headers) {
        return cross_site();
    }
    if let Some(RateLimited { retry_after }) = rate_limited(state, peer) {
        let mut response = form_again(
            StatusCode::TOO_MANY_REQUESTS,
            RateLimited::MESSAGE,
            "",
            None,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return response;
    }
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(body) else {
        return form_again(
            StatusCode::BAD_REQUEST,
            "the form needs a namespace and a key",
            "",
            None,
        );
    };
    let next = form.next.as_deref();
    if form.namespace.is_empty() || form.key.is_empty() {
        return form_again(
            StatusCode::BAD_REQUEST,
            "enter a namespace and a key",
            &form.namespace,
            next,
        );
    }
    match issue_token(state, peer, form.namespace.clone(), form.key).await {
        Ok(token) => {
            let secure = headers
                .get("x-forwarded-proto")
                .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
            let cookie = format!(
                "{COOKIE}={token}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={}{}",
                state.tokens.lifetime().as_secs(),
                if secure { "; Secure" } else { "" }
            );
            let mut response = Redirect::to(safe_next(next)).into_response();
            if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => form_again(error.status, &error.message, &form.namespace, next),
    }
}

fn form_again(status: StatusCode, message: &str, namespace: &str, next: Option<&str>) -> Response {
    let body = login_form(Some(message), namespace, next);
    (status, layout::page("Log in", None, body)).into_response()
}

/// `GET /dashboard/login`'s query.
#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    ended: Option<String>,
}

/// `GET /dashboard/login`: the form.
pub(crate) async fn login_page(Query(query): Query<LoginQuery>) -> Markup {
    let notice = query
        .ended
        .is_some()
        .then_some("your session ended; log in again");
    layout::page(
        "Log in",
        None,
        login_form(notice, "", query.next.as_deref()),
    )
}

fn login_form(notice: Option<&str>, namespace: &str, next: Option<&str>) -> Markup {
    html! {
        h1 { "Log in" }
        @if let Some(notice) = notice {
            p.notice role="alert" id="login-error" { (notice) }
        }
        form.login method="post" action="/auth" {
            input type="hidden" name="next" value=(safe_next(next));
            p {
                label for="namespace" { "Namespace" }
                input #namespace name="namespace" type="text" required autocomplete="username"
                    autofocus value=(namespace) aria-describedby=[notice.map(|_| "login-error")];
            }
            p {
                label for="key" { "Key" }
                input #key name="key" type="password" required autocomplete="current-password"
                    aria-describedby=[notice.map(|_| "login-error")];
            }
            p { button type="submit" { "Log in" } }
        }
        p.hint { "A key made with " code { "opsctl key create" } ". The same namespaces and keys as the API's." }
    }
}

/// `POST /dashboard/logout`: forgets the session cookie.
pub(crate) async fn log_out(State(_state): State<AppState>, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return cross_site();
    }
    let mut response = Redirect::to("/dashboard/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "ops_session=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dashboard_paths_are_followed_after_login() {
        for next in [
            "/dashboard",
            "/dashboard/queues",
            "/dashboard/objects?type=network&ref=a",
        ] {
            assert_eq!(safe_next(Some(next)), next);
        }
        for next in [
            "//evil.example/dashboard",
            "https://evil.example",
            "/auth",
            "/dashboard//x",
            "/dashboardx",
            "/dashboard/\r\nSet-Cookie: x=1",
            "/dashboard/é",
            "/dashboard/\\\\x",
        ] {
            assert_eq!(safe_next(Some(next)), HOME, "{next}");
        }
        assert_eq!(safe_next(None), HOME);
    }

    #[test]
    fn a_form_from_another_site_is_told_apart() {
        let headers = |pairs: &[(header::HeaderName, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
            }
            map
        };
        let host = (header::HOST, "127.0.0.1:8080");
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::REFERER, "http://127.0.0.1:8080/dashboard/login")
        ])));
        assert!(same_origin(&headers(std::slice::from_ref(&host))));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "null")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::REFERER, "http://127.0.0.1:8080.evil.example/")
        ])));
        // Behind a proxy that sends its own Host, the public one comes in X-Forwarded-Host.
        let proxied = |origin: &str| {
            headers(&[
                host.clone(),
                (
                    header::HeaderName::from_static("x-forwarded-host"),
                    "ops.example.com",
                ),
                (header::ORIGIN, origin),
            ])
        };
        assert!(same_origin(&proxied("https://ops.example.com")));
        assert!(!same_origin(&proxied("https://evil.example")));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; ops_session=tok.en; b=2"),
        );
        assert_eq!(cookie(&headers, COOKIE), Some("tok.en"));
        assert_eq!(cookie(&HeaderMap::new(), COOKIE), None);
    }
}
