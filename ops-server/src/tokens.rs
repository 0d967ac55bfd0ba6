//! Access tokens: JWTs signed with HMAC-SHA256 (`HS256`), as Shaken Fist issues them. The subject is
//! `<namespace>:<key name>` and the `nonce` claim is the key's: the server compares it with the stored key
//! at every request, so a key deleted or replaced ends its tokens without a list of them.
//!
//! Only `HS256` is ever accepted, whatever a token's header says: the header is checked to name it, and
//! the signature is computed here, so `alg: none` or a public-key algorithm cannot be slipped in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The fewest bytes a signing secret may have: as many as the hash's output, as RFC 7518 asks of `HS256`.
pub const MIN_SECRET_LEN: usize = 32;

/// What a token says about its holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// `<namespace>:<key name>`.
    pub sub: String,
    /// Who issued it: [`TokenIssuer`]'s issuer.
    pub iss: String,
    /// The nonce of the key it was issued for.
    pub nonce: String,
    /// Issued at, in unix seconds.
    pub iat: u64,
    /// Not valid before, in unix seconds.
    pub nbf: u64,
    /// Not valid from, in unix seconds.
    pub exp: u64,
    /// What it may do; absent means everything, as in Shaken Fist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

impl Claims {
    /// The namespace and key name of the subject; `None` when it is not `<namespace>:<key name>`.
    pub fn subject(&self) -> Option<(&str, &str)> {
        self.sub.split_once(':')
    }
}

/// Why a token was refused. Every one is answered 401.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// The header names another algorithm than `HS256`.
    #[error("token algorithm `{0}` is not accepted; only HS256 is")]
    Algorithm(String),
    /// The signature is not this server's.
    #[error("token signature verification failed")]
    Signature,
    /// Another issuer's token.
    #[error("token issued by `{0}`, not this server")]
    Issuer(String),
    /// Past its expiry.
    #[error("token has expired")]
    Expired,
    /// Before its `nbf`.
    #[error("token is not valid yet")]
    NotYetValid,
}

/// The signing secret, kept out of `Debug` output and logs.
#[derive(Clone)]
pub struct TokenSecret(Vec<u8>);

impl TokenSecret {
    /// A secret from bytes; fewer than [`MIN_SECRET_LEN`] is refused.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, SecretTooShort> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_LEN {
            return Err(SecretTooShort { len: bytes.len() });
        }
        Ok(TokenSecret(bytes))
    }
}

/// Why a secret file could not give a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretFileError {
    /// It could not be read or created.
    #[error("cannot use the secret file {path}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Others than its owner may read it.
    #[error("the secret file {path} may be read by others than its owner; `chmod 600` it")]
    Readable {
        /// The file.
        path: std::path::PathBuf,
    },
    /// It holds too short a secret.
    #[error("the secret file {path} holds too short a secret")]
    TooShort {
        /// The file.
        path: std::path::PathBuf,
        /// How short.
        #[source]
        source: SecretTooShort,
    },
    /// No random bytes for a new secret.
    #[error("cannot make a secret for {path}")]
    Random {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: crate::keys::KeyError,
    },
}

impl TokenSecret {
    /// The secret in `path` (its text, without surrounding whitespace), or, when there is no such file, a
    /// new random one written to it, readable by its owner only. Several servers sharing a database share
    /// the secret by sharing the file (or `OPS_SERVER_SECRET`). A file others may read is refused.
    pub fn load_or_create(path: &std::path::Path) -> Result<TokenSecret, SecretFileError> {
        use std::io::Write as _;
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let io = |source| SecretFileError::Io {
            path: path.to_owned(),
            source,
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(mut file) => {
                let secret =
                    crate::keys::new_secret_text().map_err(|source| SecretFileError::Random {
                        path: path.to_owned(),
                        source,
                    })?;
                file.write_all(format!("{secret}\n").as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(io)?;
                tracing::info!(path = %path.display(), "made a new token signing secret");
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(io(error)),
        }
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(SecretFileError::Readable {
                path: path.to_owned(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        TokenSecret::new(text.trim().as_bytes().to_vec()).map_err(|source| {
            SecretFileError::TooShort {
                path: path.to_owned(),
                source,
            }
        })
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(***)")
    }
}

/// A signing secret shorter than [`MIN_SECRET_LEN`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the token signing secret has {len} bytes; at least {MIN_SECRET_LEN} are needed")]
pub struct SecretTooShort {
    /// Its length.
    pub len: usize,
}

/// Issues and checks tokens with one secret and issuer.
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    secret: TokenSecret,
    issuer: String,
    lifetime: Duration,
}

/// The header of every token issued; compared as JSON when checking, not as text.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

impl TokenIssuer {
    /// An issuer named `issuer` (the `iss` claim) whose tokens last `lifetime`.
    pub fn new(secret: TokenSecret, issuer: impl Into<String>, lifetime: Duration) -> Self {
        TokenIssuer {
            secret,
            issuer: issuer.into(),
            lifetime,
        }
    }

    /// How long its tokens last.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A token for `namespace:key_name` bound to the key's `nonce`, valid from `now` for the lifetime.
    pub fn issue(&self, namespace: &str, key_name: &str, nonce: &str, now: SystemTime) -> String {
        let now = unix_seconds(now);
        let claims = Claims {
            sub: format!("{namespace}:{key_name}"),
            iss: self.issuer.clone(),
            nonce: nonce.to_owned(),
            iat: now,
            nbf: now,
            exp: now.saturating_add(self.lifetime.as_secs()),
            scopes: None,
        };
        self.sign(&claims)
    }

    /// `claims` signed as they are: for [`issue`](Self::issue), and for tests that need unusual claims.
    pub fn sign(&self, claims: &Claims) -> String {
        // Serialising these claims cannot fail: strings, integers and a list of strings.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&signing_input).finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The claims of `token` when it is this issuer's, signed with this secret, and valid at `now`.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: serde_json::Value = decode_json(header)?;
        match header.get("alg").and_then(serde_json::Value::as_str) {
            Some("HS256") => {}
            Some(other) => return Err(TokenError::Algorithm(other.to_owned())),
            None => return Err(TokenError::Malformed),
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let signed = &token[..header_and_payload_len(token)];
        self.mac(signed)
            .verify_slice(&signature)
            .map_err(|_| TokenError::Signature)?;
        let claims: Claims = decode_json(payload)?;
        if claims.iss != self.issuer {
            return Err(TokenError::Issuer(claims.iss));
        }
        let now = unix_seconds(now);
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        if now < claims.nbf {
            return Err(TokenError::NotYetValid);
        }
        if claims.subject().is_none() {
            return Err(TokenError::Malformed);
        }
        Ok(claims)
    }

    fn mac(&self, signing_input: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length; the secret's length is checked when it is made.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(signing_input.as_bytes());
        mac
    }
}

/// The length of `header.payload` in a token of three parts.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> TokenIssuer {
        TokenIssuer::new(
            TokenSecret::new([7_u8; 32]).unwrap(),
            "ops-server",
            Duration::from_secs(900),
        )
    }

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn an_issued_token_verifies_until_it_expires() {
        let token = issuer().issue("team-a", "deploy", "nonce-1", at(1_000));
        let claims = issuer().verify(&token, at(1_000)).unwrap();
        assert_eq!(claims.subject(), Some(("team-a", "deploy")));
        assert_eq!(
            (claims.iss.as_str(), claims.nonce.as_str()),
            ("ops-server", "nonce-1")
        );
        assert_eq!(
            (claims.iat, claims.nbf, claims.exp, claims.scopes),
            (1_000, 1_000, 1_900, None)
        );
        assert!(issuer().verify(&token, at(1_899)).is_ok());
        assert_eq!(issuer().verify(&token, at(1_900)), Err(TokenError::Expired));
        assert_eq!(
            issuer().verify(&token, at(999)),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn another_secret_or_issuer_is_refused() {
        let token = issuer().issue("team-a", "deploy", "nonce-1", at(1_000));
        let other = TokenIssuer::new(
            TokenSecret::new([8_u8; 32]).unwrap(),
            "ops-server",
            Duration::from_secs(900),
        );
        assert_eq!(other.verify(&token, at(1_000)), Err(TokenError::Signature));
        let elsewhere = TokenIssuer::new(
            TokenSecret::new([7_u8; 32]).unwrap(),
            "elsewhere",
            Duration::from_secs(900),
        );
        assert_eq!(
            elsewhere.verify(&token, at(1_000)),
            Err(TokenError::Issuer("ops-server".to_owned()))
        );
    }

    #[test]
    fn a_changed_payload_breaks_the_signature() {
        let token = issuer().issue("team-a", "deploy", "nonce-1", at(1_000));
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims: Claims = decode_json(parts[1]).unwrap();
        claims.sub = "system:deploy".to_owned();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()),
            parts[2]
        );
        assert_eq!(
            issuer().verify(&forged, at(1_000)),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let token = issuer().issue("system", "admin", "n", at(1_000));
        let payload = token.split('.').nth(1).unwrap();
        for (alg, expected) in [
            ("none", TokenError::Algorithm("none".to_owned())),
            ("HS512", TokenError::Algorithm("HS512".to_owned())),
            ("RS256", TokenError::Algorithm("RS256".to_owned())),
        ] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            for signature in ["", "c2ln"] {
                let forged = format!("{header}.{payload}.{signature}");
                assert_eq!(
                    issuer().verify(&forged, at(1_000)),
                    Err(expected.clone()),
                    "{alg} {signature:?}"
                );
            }
        }
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let token = issuer().issue("system", "admin", "n", at(1_000));
        let no_subject = issuer().sign(&Claims {
            sub: "nobody".to_owned(),
            iss: "ops-server".to_owned(),
            nonce: "n".to_owned(),
            iat: 1_000,
            nbf: 1_000,
            exp: 2_000,
            scopes: None,
        });
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "not base64!.x.y",
            &format!("{token}."),
            &token.replacen('.', "", 1),
            &no_subject,
        ] {
            assert_eq!(
                issuer().verify(bad, at(1_000)),
                Err(TokenError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn scopes_are_kept_when_given() {
        let claims = Claims {
            sub: "team-a:ro".to_owned(),
            iss: "ops-server".to_owned(),
            nonce: "n".to_owned(),
            iat: 1_000,
            nbf: 1_000,
            exp: 2_000,
            scopes: Some(vec!["instance.read".to_owned()]),
        };
        assert_eq!(
            issuer().verify(&issuer().sign(&claims), at(1_000)),
            Ok(claims)
        );
    }

    #[test]
    fn a_secret_file_is_made_once_for_its_owner_and_kept() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("ops-server-secret-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("secret");
        let made = TokenSecret::load_or_create(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = TokenSecret::load_or_create(&path).unwrap();
        assert_eq!(made.0, again.0);
        assert_eq!(made.0.len(), 43);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let readable = TokenSecret::load_or_create(&path).unwrap_err();
        assert!(
            matches!(readable, SecretFileError::Readable { .. }),
            "{readable:?}"
        );
        std::fs::write(&path, "short\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let short = TokenSecret::load_or_create(&path).unwrap_err();
        assert!(
            matches!(short, SecretFileError::TooShort { .. }),
            "{short:?}"
        );
        let missing_dir = TokenSecret::load_or_create(&dir.join("no/such/dir/secret")).unwrap_err();
        assert!(
            matches!(missing_dir, SecretFileError::Io { .. }),
            "{missing_dir:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_short_secret_is_refused_and_a_secret_is_never_printed() {
        assert_eq!(
            TokenSecret::new([1_u8; 31]).unwrap_err().to_string(),
            "the token signing secret has 31 bytes; at least 32 are needed"
        );
        let secret = TokenSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
        assert_eq!(format!("{secret:?}"), "TokenSecret(***)");
        let issuer = TokenIssuer::new(secret, "x", Duration::from_secs(1));
        assert!(!format!("{issuer:?}").contains("0123456789"));
    }
}
