//! Namespaces and their API keys (schema 12): who may call the API server. The store keeps a key's bcrypt
//! hash and nonce, never the key; hashing and checking keys is the server's.

use super::dialect::sql;
use super::retry::{retried, with_retry};
use super::{Store, now, with_backend};
use crate::StoreError;

/// Whether namespace `$name` exists, read on `$conn` (a pool or a transaction); `?` on the driver's error.
macro_rules! namespace_exists {
    ($conn:expr, $dialect:expr, $name:expr) => {
        sqlx::query(sql!($dialect, "SELECT 1 FROM namespaces WHERE name = ?"))
            .bind($name)
            .fetch_optional($conn)
            .await?
            .is_some()
    };
}

/// One key of a namespace, as stored.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NamespaceKey {
    /// The namespace it authenticates as.
    pub namespace: String,
    /// Its name within the namespace; a token's subject is `<namespace>:<key_name>`.
    pub key_name: String,
    /// The key's bcrypt hash.
    pub key_hash: String,
    /// Named in every token issued for the key: replacing or deleting the key changes or removes it, and
    /// so ends those tokens.
    pub nonce: String,
    /// When it was stored, in unix seconds.
    pub created_at: f64,
}

impl NamespaceKey {
    /// The longest namespace or key name (the columns are `VARCHAR(255)`).
    pub const MAX_NAME_LEN: usize = 255;

    /// Checks a namespace or key name: 1 to [`MAX_NAME_LEN`](Self::MAX_NAME_LEN) ASCII letters, digits,
    /// `-`, `_` and `.`. Names go into URL paths and into a token's subject after a `:`, so nothing else
    /// is allowed.
    pub fn check_name(what: &'static str, name: &str) -> Result<(), StoreError> {
        let invalid = |reason: &str| StoreError::InvalidName {
            what,
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        if name.is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.len() > Self::MAX_NAME_LEN {
            return Err(invalid(&format!(
                "it is longer than {} characters",
                Self::MAX_NAME_LEN
            )));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(invalid(&format!(
                "`{}` is not a letter, digit, `-`, `_` or `.`",
                bad.escape_default()
            )));
        }
        Ok(())
    }

    /// A key to store: `created_at` is set when it is written.
    pub fn new(
        namespace: impl Into<String>,
        key_name: impl Into<String>,
        key_hash: impl Into<String>,
        nonce: impl Into<String>,
    ) -> Self {
        NamespaceKey {
            namespace: namespace.into(),
            key_name: key_name.into(),
            key_hash: key_hash.into(),
            nonce: nonce.into(),
            created_at: 0.0,
        }
    }
}

#[derive(sqlx::FromRow)]
struct RawKey {
    namespace: String,
    key_name: String,
    key_hash: String,
    nonce: String,
    created_at: f64,
}

impl From<RawKey> for NamespaceKey {
    fn from(raw: RawKey) -> Self {
        NamespaceKey {
            namespace: raw.namespace,
            key_name: raw.key_name,
            key_hash: raw.key_hash,
            nonce: raw.nonce,
            created_at: raw.created_at,
        }
    }
}

impl Store {
    /// Creates a namespace. A name already taken, or not a valid name ([`NamespaceKey::check_name`]), is
    /// an error and writes nothing.
    pub async fn create_namespace(&self, name: &str) -> Result<(), StoreError> {
        NamespaceKey::check_name("namespace", name)?;
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    if namespace_exists!(&mut *tx, dialect, name) {
                        return Ok(Err(StoreError::NamespaceExists(name.to_owned())));
                    }
                    sqlx::query(sql!(
                        dialect,
                        "INSERT INTO namespaces (name, created_at) VALUES (?, ?)"
                    ))
                    .bind(name)
                    .bind(now())
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(Ok(()))
                })
                .await
            }
        });
        retried(outcome, || format!("creating namespace {name}"))
    }

    /// Every namespace, by name.
    pub async fn namespaces(&self) -> Result<Vec<String>, StoreError> {
        with_backend!(match self {
            (pool, _dialect) => {
                sqlx::query_scalar("SELECT name FROM namespaces ORDER BY name")
                    .fetch_all(pool)
                    .await
            }
        })
        .map_err(StoreError::query(|| "listing namespaces"))
    }

    /// Whether a namespace exists.
    pub async fn namespace_exists(&self, name: &str) -> Result<bool, StoreError> {
        with_backend!(match self {
            (pool, dialect) => {
                async { Ok::<_, sqlx::Error>(namespace_exists!(pool, dialect, name)) }.await
            }
        })
        .map_err(StoreError::query(|| {
            format!("looking for namespace {name}")
        }))
    }

    /// Stores a new key of an existing namespace. A namespace that does not exist, a key name it has
    /// already, or an invalid name is an error and writes nothing.
    pub async fn add_namespace_key(&self, key: &NamespaceKey) -> Result<(), StoreError> {
        self.write_key(key, KeyWrite::Add).await
    }

    /// Replaces an existing key's hash and nonce (a rotation): tokens issued for the old key stop working.
    /// A key that does not exist is an error and writes nothing.
    pub async fn replace_namespace_key(&self, key: &NamespaceKey) -> Result<(), StoreError> {
        self.write_key(key, KeyWrite::Replace).await
    }

    async fn write_key(&self, key: &NamespaceKey, write: KeyWrite) -> Result<(), StoreError> {
        NamespaceKey::check_name("namespace", &key.namespace)?;
        NamespaceKey::check_name("key name", &key.key_name)?;
        let (namespace, key_name) = (key.namespace.as_str(), key.key_name.as_str());
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    if !namespace_exists!(&mut *tx, dialect, namespace) {
                        return Ok(Err(StoreError::NamespaceNotFound(namespace.to_owned())));
                    }
                    let exists = sqlx::query(sql!(
                        dialect,
                        "SELECT 1 FROM namespace_keys WHERE namespace = ? AND key_name = ?"
                    ))
                    .bind(namespace)
                    .bind(key_name)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
                    let written = match (write, exists) {
                        (KeyWrite::Add, true) => Err(StoreError::KeyExists {
                            namespace: namespace.to_owned(),
                            key_name: key_name.to_owned(),
                        }),
                        (KeyWrite::Replace, false) => Err(StoreError::KeyNotFound {
                            namespace: namespace.to_owned(),
                            key_name: key_name.to_owned(),
                        }),
                        (KeyWrite::Add, false) => Ok(sql!(
                            dialect,
                            "INSERT INTO namespace_keys (key_hash, nonce, created_at, namespace, key_name) \
                             VALUES (?, ?, ?, ?, ?)"
                        )),
                        (KeyWrite::Replace, true) => Ok(sql!(
                            dialect,
                            "UPDATE namespace_keys SET key_hash = ?, nonce = ?, created_at = ? \
                             WHERE namespace = ? AND key_name = ?"
                        )),
                    };
                    let statement = match written {
                        Ok(statement) => statement,
                        Err(refused) => return Ok(Err(refused)),
                    };
                    sqlx::query(statement)
                        .bind(key.key_hash.as_str())
                        .bind(key.nonce.as_str())
                        .bind(now())
                        .bind(namespace)
                        .bind(key_name)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(Ok(()))
                })
                .await
            }
        });
        retried(outcome, || {
            format!("storing key {key_name} of namespace {namespace}")
        })
    }

    /// A namespace's key; `None` when the namespace has no key of that name.
    pub async fn namespace_key(
        &self,
        namespace: &str,
        key_name: &str,
    ) -> Result<Option<NamespaceKey>, StoreError> {
        let row: Option<RawKey> = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_as(sql!(
                    dialect,
                    "SELECT namespace, key_name, key_hash, nonce, created_at FROM namespace_keys \
                     WHERE namespace = ? AND key_name = ?"
                ))
                .bind(namespace)
                .bind(key_name)
                .fetch_optional(pool)
                .await
            }
        })
        .map_err(StoreError::query(|| {
            format!("reading key {key_name} of namespace {namespace}")
        }))?;
        Ok(row.map(NamespaceKey::from))
    }

    /// A namespace's keys, by name.
    pub async fn namespace_keys(&self, namespace: &str) -> Result<Vec<NamespaceKey>, StoreError> {
        let rows: Vec<RawKey> = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_as(sql!(
                    dialect,
                    "SELECT namespace, key_name, key_hash, nonce, created_at FROM namespace_keys \
                     WHERE namespace = ? ORDER BY key_name"
                ))
                .bind(namespace)
                .fetch_all(pool)
                .await
            }
        })
        .map_err(StoreError::query(|| {
            format!("listing the keys of namespace {namespace}")
        }))?;
        Ok(rows.into_iter().map(NamespaceKey::from).collect())
    }

    /// Deletes a key: tokens issued for it stop working. A key that does not exist is an error.
    pub async fn delete_namespace_key(
        &self,
        namespace: &str,
        key_name: &str,
    ) -> Result<(), StoreError> {
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    let deleted = sqlx::query(sql!(
                        dialect,
                        "DELETE FROM namespace_keys WHERE namespace = ? AND key_name = ?"
                    ))
                    .bind(namespace)
                    .bind(key_name)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if deleted == 0 {
                        return Ok(Err(StoreError::KeyNotFound {
                            namespace: namespace.to_owned(),
                            key_name: key_name.to_owned(),
                        }));
                    }
                    tx.commit().await?;
                    Ok(Ok(()))
                })
                .await
            }
        });
        retried(outcome, || {
            format!("deleting key {key_name} of namespace {namespace}")
        })
    }
}

/// Whether a key is new or replaces one.
#[derive(Clone, Copy)]
enum KeyWrite {
    Add,
    Replace,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_letters_digits_and_three_marks() {
        for good in [
            "system",
            "team-a",
            "ns_1",
            "a.b",
            &"x".repeat(NamespaceKey::MAX_NAME_LEN),
        ] {
            NamespaceKey::check_name("namespace", good).unwrap();
        }
        for (bad, reason) in [
            ("", "it is empty"),
            ("a:b", "`:` is not a letter, digit, `-`, `_` or `.`"),
            ("a/b", "`/` is not a letter, digit, `-`, `_` or `.`"),
            ("a b", "` ` is not a letter, digit, `-`, `_` or `.`"),
            ("é", "`\\u{e9}` is not a letter, digit, `-`, `_` or `.`"),
            ("a\0", "`\\u{0}` is not a letter, digit, `-`, `_` or `.`"),
        ] {
            let error = NamespaceKey::check_name("namespace", bad).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("invalid namespace `{}`: {reason}", bad.escape_default()),
                "{bad:?}"
            );
        }
        let long = "x".repeat(NamespaceKey::MAX_NAME_LEN + 1);
        assert!(
            NamespaceKey::check_name("key name", &long)
                .unwrap_err()
                .to_string()
                .ends_with("it is longer than 255 characters")
        );
    }
}
