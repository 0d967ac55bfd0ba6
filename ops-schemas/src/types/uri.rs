//! [`Uri`]: a URI as RFC 3986 writes it, the grammar JSON Schema's `"format": "uri"` names.
//!
//! Why not `url::Url`: that is the WHATWG URL Standard, the browsers' parser, which repairs what it reads
//! (it takes backticks, spaces and backslashes, and rewrites the text), while a consumer's schema validator
//! holds a URL field to RFC 3986. One field read two ways would let a body through the one and not the other,
//! so the field reads RFC 3986 exactly and keeps the text as it came. A handler that fetches it parses it with
//! whatever client it uses.

use std::fmt;
use std::net::Ipv6Addr;
use std::ops::Deref;
use std::str::FromStr;

use ops_core::OpData;
use serde::{Deserialize, Deserializer, Serialize};

/// An absolute URI (RFC 3986 §3: a scheme, `:`, then the rest), at most [`Uri::MAX_LENGTH`] characters,
/// kept verbatim. A URI is ASCII by definition: anything else must be percent-encoded.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, OpData)]
#[serde(transparent)]
pub struct Uri(String);

impl Uri {
    /// The longest URI a field holds: RFC 9110 §4.1 asks every HTTP sender and recipient to handle at least
    /// 8,000 octets, so no fetchable URL is refused, and nothing larger reaches the database.
    pub const MAX_LENGTH: usize = 8000;

    /// Checks `value` against RFC 3986's `URI` rule and the length limit.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidUri> {
        let value = value.into();
        if value.len() > Self::MAX_LENGTH {
            return Err(InvalidUri::TooLong {
                length: value.len(),
                max: Self::MAX_LENGTH,
            });
        }
        if !is_uri(&value) {
            return Err(InvalidUri::Syntax(value));
        }
        Ok(Uri(value))
    }

    /// The URI, as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scheme, as given (RFC 3986 compares schemes without regard to case).
    pub fn scheme(&self) -> &str {
        self.0.split_once(':').map_or("", |(scheme, _)| scheme)
    }
}

impl Deref for Uri {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Uri {
    type Err = InvalidUri;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uri::new(s)
    }
}

impl<'de> Deserialize<'de> for Uri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Uri::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Uri {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Uri".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "uri", "maxLength": Uri::MAX_LENGTH})
    }
}

/// A string a [`Uri`] field refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidUri {
    /// Longer than [`Uri::MAX_LENGTH`].
    #[error("a URI of {length} characters is longer than the maximum of {max}")]
    TooLong {
        /// The characters given.
        length: usize,
        /// The characters allowed.
        max: usize,
    },
    /// Not a URI by RFC 3986.
    #[error(
        "`{0}` is not a URI (RFC 3986): expected `scheme:` and then only URI characters, \
         with anything else percent-encoded"
    )]
    Syntax(String),
}

/// RFC 3986 §3: `URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]`. The scheme holds no `:`, the
/// hier-part no `?` or `#`, the query no `#`: so the first of each is the delimiter.
fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (hier_part, query) = rest.split_once('?').unwrap_or((rest, ""));
    is_scheme(scheme)
        && is_hier_part(hier_part)
        && runs_of(query, is_query_char)
        && runs_of(fragment, is_query_char)
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
fn is_scheme(scheme: &str) -> bool {
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `hier-part = "//" authority path-abempty / path-absolute / path-rootless / path-empty`. After an
/// authority the path is empty or starts at a `/`; without one, the three path forms together are any run
/// of path characters that does not start with `//` (which would have been an authority).
fn is_hier_part(hier_part: &str) -> bool {
    match hier_part.strip_prefix("//") {
        Some(rest) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            is_authority(authority) && runs_of(path, is_path_char)
        }
        None => runs_of(hier_part, is_path_char),
    }
}

/// `authority = [ userinfo "@" ] host [ ":" port ]`, `host = IP-literal / IPv4address / reg-name`, `port =
/// *DIGIT`. Neither the host nor the port holds `@`, so the first one ends the userinfo. (Every
/// `IPv4address` is also a `reg-name`, so it needs no rule of its own.)
fn is_authority(authority: &str) -> bool {
    let (userinfo, host_port) = authority.split_once('@').unwrap_or(("", authority));
    let (host_ok, port) = match host_port.strip_prefix('[') {
        Some(literal) => match literal.split_once(']') {
            Some((address, after)) => (is_ip_literal(address), after),
            None => return false,
        },
        None => {
            let end = host_port.find(':').unwrap_or(host_port.len());
            let (host, port) = host_port.split_at(end);
            (runs_of(host, is_reg_name_char), port)
        }
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok && runs_of(userinfo, |b| is_reg_name_char(b) || b == b':')
}

/// The inside of `IP-literal = "[" ( IPv6address / IPvFuture ) "]"`, with `IPvFuture = "v" 1*HEXDIG "." 1*(
/// unreserved / sub-delims / ":" )` (the `v` in either case: ABNF strings ignore case). The standard
/// library's IPv6 parser reads exactly RFC 3986's `IPv6address`.
fn is_ip_literal(address: &str) -> bool {
    if let Some(future) = address.strip_prefix(['v', 'V']) {
        return future.split_once('.').is_some_and(|(version, rest)| {
            !version.is_empty()
                && version.bytes().all(|b| b.is_ascii_hexdigit())
                && !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| is_unreserved(b) || is_sub_delim(b) || b == b':')
        });
    }
    address.parse::<Ipv6Addr>().is_ok()
}

/// Whether `text` is made of characters `allowed` and percent-encodings (`"%" HEXDIG HEXDIG`).
fn runs_of(text: &str, allowed: impl Fn(u8) -> bool) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if b == b'%' {
            let encoded = bytes.get(at + 1..at + 3);
            if !encoded.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            at += 3;
        } else if allowed(b) {
            at += 1;
        } else {
            return false;
        }
    }
    true
}

/// `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="`
fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// `reg-name = *( unreserved / pct-encoded / sub-delims )`, less the percent-encodings `runs_of` reads.
fn is_reg_name_char(b: u8) -> bool {
    is_unreserved(b) || is_sub_delim(b)
}

/// `pchar` (`unreserved / pct-encoded / sub-delims / ":" / "@"`) or the `/` between segments.
fn is_path_char(b: u8) -> bool {
    is_reg_name_char(b) || matches!(b, b':' | b'@' | b'/')
}

/// `query = fragment = *( pchar / "/" / "?" )`
fn is_query_char(b: u8) -> bool {
    is_path_char(b) || b == b'?'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_uris_an_artifact_fetch_is_given() {
        for good in [
            "https://images.example.org/debian-12.qcow2",
            "http://10.0.0.5:8080/images/cirros.img?sig=a%2Fb#part",
            "http://[fd00::1]/x",
            "http://[::ffff:192.0.2.1]:80/",
            "http://[v7.fe80::1]/",
            "http://user:pass@host/",
            "sf://upload/system/cirros",
            "urn:isbn:0451450523",
            "a:",
            "file:///var/lib/images/x",
            "http://:80/",
        ] {
            assert!(Uri::new(good).is_ok(), "{good}");
        }
        assert_eq!(
            Uri::new("HTTPS://Example.org").unwrap().scheme(),
            "HTTPS",
            "kept as given"
        );
    }

    #[test]
    fn refuses_what_rfc_3986_refuses() {
        for bad in [
            "",
            "images.example.org/x",
            "1http://x/",
            "https://i```mag.example/",
            "http://exa mple.org/",
            "http://example.org/a b",
            "http://example.org\\x",
            "http://example.org/%zz",
            "http://example.org/%4",
            "http://host:8o/",
            "http://[fd00::1/",
            "http://[fd00::g]/",
            "http://[v.x]/",
            "http://[vf.]/",
            "http://[v7.fe80::1%25eth0]/",
            "http://a@b@c/",
            "http://héllo.example/",
            "http://example.org/#a#b",
            "http://x/\u{0}",
        ] {
            assert!(matches!(Uri::new(bad), Err(InvalidUri::Syntax(_))), "{bad}");
        }
    }

    #[test]
    fn refuses_more_than_the_maximum_and_keeps_the_text() {
        let long = format!("http://x/{}", "a".repeat(Uri::MAX_LENGTH));
        assert!(matches!(
            Uri::new(long),
            Err(InvalidUri::TooLong { max: 8000, .. })
        ));
        let verbatim = "HTTP://Example.ORG:0080/a/../b";
        let uri: Uri = serde_json::from_value(serde_json::json!(verbatim)).unwrap();
        assert_eq!(serde_json::to_value(&uri).unwrap(), verbatim);
        let err = serde_json::from_value::<Uri>(serde_json::json!("no scheme")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`no scheme` is not a URI (RFC 3986)"),
            "{err}"
        );
    }
}
