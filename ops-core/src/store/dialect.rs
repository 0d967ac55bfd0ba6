//! What differs between SQLite, MariaDB and PostgreSQL: placeholders, parameter limits, how a transaction
//! that writes begins, and which errors mean "try the whole transaction again".

use std::sync::OnceLock;

/// One of the three supported SQL dialects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3 (bundled), the embedded default.
    Sqlite,
    /// MariaDB ≥ 10.6 with InnoDB, through sqlx's MySQL driver (`mysql://` and `mariadb://` URLs both work).
    MariaDb,
    /// PostgreSQL ≥ 14.
    Postgres,
}

impl Dialect {
    /// The name used in messages and test output.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::MariaDb => "mariadb",
            Dialect::Postgres => "postgres",
        }
    }

    /// How many bind parameters one statement may carry, with headroom: SQLite's bundled build allows
    /// 32766, MariaDB's protocol and PostgreSQL's allow 65535.
    pub(crate) const fn max_params(self) -> usize {
        match self {
            Dialect::Sqlite => 32_000,
            Dialect::MariaDb | Dialect::Postgres => 65_000,
        }
    }

    /// The statement that opens a writing transaction. SQLite takes the write lock up front (`IMMEDIATE`):
    /// a deferred transaction that upgrades its lock can fail with `SQLITE_BUSY` without the busy handler
    /// ever waiting.
    pub(crate) const fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::MariaDb | Dialect::Postgres => "BEGIN",
        }
    }

    /// Whether a failed transaction may succeed if run again from the start: a deadlock, a serialization
    /// failure, a lock wait timeout or a busy SQLite database.
    pub(crate) fn is_retryable(self, error: &sqlx::Error) -> bool {
        let Some(db) = error.as_database_error() else {
            return matches!(error, sqlx::Error::PoolTimedOut);
        };
        match self {
            Dialect::Sqlite => {
                // Extended result codes keep the primary code in the low byte.
                let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
                matches!(
                    code & 0xff,
                    5 /* SQLITE_BUSY */ | 6 /* SQLITE_LOCKED */
                )
            }
            Dialect::MariaDb => {
                let number = db
                    .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .map(|e| e.number());
                // 1213 deadlock (also Galera's certification failure), 1205 lock wait timeout.
                matches!(number, Some(1213 | 1205)) || db.code().as_deref() == Some("40001")
            }
            Dialect::Postgres => matches!(db.code().as_deref(), Some("40001" | "40P01")),
        }
    }

    /// Renders a statement written with `?` placeholders for this dialect. PostgreSQL numbers them (`$1`);
    /// the rendering is done once per call site and kept in `cache`.
    pub(crate) fn render(
        self,
        sql: &'static str,
        cache: &'static OnceLock<String>,
    ) -> &'static str {
        match self {
            Dialect::Sqlite | Dialect::MariaDb => sql,
            Dialect::Postgres => cache.get_or_init(|| number_placeholders(sql)).as_str(),
        }
    }
}

/// `?` → `$1`, `$2`, ... where `?` is a placeholder: not inside a string literal (`'?'`), a quoted
/// identifier (`"a?"`, `` `a?` ``) or a `--` comment, and not PostgreSQL's `?|` / `?&` operators. (The
/// bare `?` jsonb operator cannot be told from a placeholder; our statements write `jsonb_exists` instead.)
fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, comment, c) {
            (None, false, '\'' | '"' | '`') => quote = Some(c),
            (Some(open), _, _) if c == open => quote = None,
            (None, false, '-') if chars.peek() == Some(&'-') => comment = true,
            (None, true, '\n') => comment = false,
            (None, false, '?') if !matches!(chars.peek(), Some('|' | '&')) => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// A statement with `?` placeholders, rendered for the dialect once per call site. The text must be a
/// constant (a literal or `concat!` of literals): the rendering is cached per call site, so text that could
/// differ between calls is refused at compile time.
macro_rules! sql {
    ($dialect:expr, $text:expr) => {{
        const TEXT: &str = $text;
        static POSTGRES: ::std::sync::OnceLock<String> = ::std::sync::OnceLock::new();
        $crate::store::dialect::Dialect::render($dialect, TEXT, &POSTGRES)
    }};
}
pub(crate) use sql;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_numbered_outside_strings() {
        assert_eq!(
            number_placeholders("SELECT 1 FROM t WHERE a = ? AND b = '?' AND c IN (?, ?)"),
            "SELECT 1 FROM t WHERE a = $1 AND b = '?' AND c IN ($2, $3)"
        );
    }

    #[test]
    fn placeholders_inside_identifiers_comments_and_operators_are_left_alone() {
        assert_eq!(
            number_placeholders(
                "SELECT \"why?\", `how?` FROM t -- any ?\nWHERE a = ? AND j ?| ARRAY['x'] AND j ?& ARRAY['y'] AND b = ?"
            ),
            "SELECT \"why?\", `how?` FROM t -- any ?\nWHERE a = $1 AND j ?| ARRAY['x'] AND j ?& ARRAY['y'] AND b = $2"
        );
        // A doubled quote inside a literal closes and reopens it: still inside.
        assert_eq!(
            number_placeholders("SELECT 'it''s ?' WHERE a = ?"),
            "SELECT 'it''s ?' WHERE a = $1"
        );
    }

    #[test]
    fn other_dialects_keep_question_marks() {
        static CACHE: OnceLock<String> = OnceLock::new();
        assert_eq!(Dialect::Sqlite.render("a = ?", &CACHE), "a = ?");
        assert_eq!(Dialect::MariaDb.render("a = ?", &CACHE), "a = ?");
        assert_eq!(Dialect::Postgres.render("a = ?", &CACHE), "a = $1");
    }
}
