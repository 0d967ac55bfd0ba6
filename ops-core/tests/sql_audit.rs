//! Every value reaches the database as a bound parameter, never as SQL text: a string field holding SQL is
//! stored verbatim and never executed. sqlx already refuses a runtime string as a query unless it is
//! wrapped in `AssertSqlSafe`; what it cannot see is SQL text assembled for a `QueryBuilder` (`new` takes
//! any string, `push` anything printable). This test reads the sources and holds each such place to
//! literals, or to an identifier from the reviewed list below. A new one fails it until it is reviewed and
//! added here.

use std::ops::Not;

mod source_files;

use source_files::{sources, workspace_root};

/// The crates whose sources talk to a database.
const AUDITED: [&str; 5] = [
    "ops-core/src",
    "ops-schemas/src",
    "ops-sim/src",
    "opsctl/src",
    "ops-bench/src",
];

/// The runtime strings passed to `AssertSqlSafe`, each reviewed: `(file, count)`.
const ASSERTED: [(&str, usize); 2] = [
    // `SELECT COUNT(*) FROM {from}`: `from` is one of the store's own table names.
    ("ops-core/src/store/schema.rs", 1),
    // `CREATE` / `DROP DATABASE ops_bench_<random hex>`, a name the bench made.
    ("ops-bench/src/scratch.rs", 1),
];

/// The names interpolated into a `QueryBuilder::new(format!(...))`, each reviewed: `(file, name)`. Every
/// one is a table or column name from a constant list in the same function.
const INTERPOLATED: [(&str, &str); 14] = [
    // MariaDB's primary-key hint on the work queue (`by_id`), and the join keyword that keeps its order
    // (`STRAIGHT_JOIN` there): constants per dialect.
    ("ops-core/src/store/claim.rs", "hint"),
    ("ops-core/src/store/complete.rs", "hint"),
    ("ops-core/src/store/complete.rs", "join"),
    ("ops-core/src/store/complete.rs", "join"),
    ("ops-core/src/store/objects.rs", "table"),
    // The registry's columns, then the type's own (`extra`: a constant per object type) and its table.
    ("ops-core/src/store/objects.rs", "object_columns!()"),
    ("ops-core/src/store/objects.rs", "extra"),
    ("ops-core/src/store/objects.rs", "table"),
    ("ops-core/src/store/prune.rs", "table"),
    ("ops-core/src/store/prune.rs", "uuid_column"),
    ("ops-core/src/store/prune.rs", "table"),
    // The third pass's two tables: the pass records' links, then the records.
    ("ops-core/src/store/prune.rs", "table"),
    // The same hint.
    ("ops-core/src/store/work.rs", "hint"),
    ("ops-core/src/store/work.rs", "hint"),
];

fn audited() -> Vec<(String, String)> {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in AUDITED {
        sources(&root, dir, &mut files);
    }
    files
}

/// The text after each occurrence of `needle`, skipping whitespace.
fn after<'a>(code: &'a str, needle: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    code.match_indices(needle)
        .map(move |(at, _)| code[at + needle.len()..].trim_start())
}

/// The identifier just before a `.push(` at byte `at`, or `None` when the call is chained onto another
/// call's result (`b.push_bind(x).push(" AND ...")`) and so on a query builder.
fn receiver(code: &str, at: usize) -> Option<&str> {
    let before = &code[..at];
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let name = &before[start..];
    (!name.is_empty()).then_some(name)
}

/// Whether an argument is SQL text fixed at compile time.
fn is_literal(argument: &str) -> bool {
    argument.starts_with('"')
        || argument.starts_with("r\"")
        || argument.starts_with("r#\"")
        || argument.starts_with("sql!(")
        || argument.starts_with("concat!(")
}

#[test]
fn only_the_reviewed_runtime_strings_are_asserted_safe() {
    let found: Vec<(String, usize)> = audited()
        .into_iter()
        .filter_map(|(file, code)| {
            let n = code.matches("AssertSqlSafe(").count();
            (n > 0).then_some((file, n))
        })
        .collect();
    let expected: Vec<(String, usize)> = ASSERTED
        .iter()
        .map(|(file, n)| ((*file).to_owned(), *n))
        .collect();
    assert_eq!(
        found, expected,
        "a runtime string became SQL: review it and update ASSERTED"
    );
}

/// The text up to the parenthesis that closes the one already open, and what follows it.
fn to_close(text: &str) -> (&str, &str) {
    let mut depth = 0;
    let mut quoted = false;
    let mut previous = ' ';
    for (at, c) in text.char_indices() {
        match c {
            '"' if previous != '\\' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth == 0 => return (&text[..at], &text[at + 1..]),
            ')' if !quoted => depth -= 1,
            _ => {}
        }
        previous = c;
    }
    (text, "")
}

/// Splits at the commas outside parentheses and string literals.
fn arguments(text: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quoted, mut previous) =
        (Vec::new(), String::new(), 0, false, ' ');
    for c in text.chars() {
        match c {
            '"' if previous != '\\' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(current.trim().to_owned());
                current.clear();
                previous = c;
                continue;
            }
            _ => {}
        }
        current.push(c);
        previous = c;
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_owned());
    }
    parts
}

/// What a `format!(...)` (the text after `format!(`) puts into its SQL: each `{name}`, each `{}`'s
/// argument, and each macro spliced into a `concat!` template.
fn interpolations(format: &str) -> Vec<String> {
    let (inside, _) = to_close(format);
    let mut args = arguments(inside).into_iter();
    let template = args.next().unwrap_or_default();
    let mut found = Vec::new();
    let pieces = match template.strip_prefix("concat!(") {
        Some(concat) => arguments(to_close(concat).0),
        None => vec![template],
    };
    for piece in pieces {
        if !piece.starts_with('"') {
            found.push(piece);
            continue;
        }
        let mut rest = piece.as_str();
        while let Some(open) = rest.find('{') {
            if rest[open + 1..].starts_with('{') {
                rest = &rest[open + 2..];
                continue;
            }
            let close = rest[open..].find('}').expect("a closed interpolation") + open;
            let name = &rest[open + 1..close];
            found.push(if name.is_empty() {
                args.next().unwrap_or_default()
            } else {
                name.to_owned()
            });
            rest = &rest[close + 1..];
        }
    }
    found
}

#[test]
fn query_builders_start_from_literals_or_reviewed_identifiers() {
    let mut interpolated = Vec::new();
    for (file, code) in audited() {
        for start in after(&code, "QueryBuilder::new(") {
            match start.strip_prefix("format!(") {
                Some(format) => {
                    interpolated.extend(
                        interpolations(format)
                            .into_iter()
                            .map(|name| (file.clone(), name)),
                    );
                }
                None => assert!(
                    is_literal(start),
                    "{file}: a QueryBuilder starts from a runtime string: {}",
                    start.lines().next().unwrap_or_default()
                ),
            }
        }
    }
    let expected: Vec<(String, String)> = INTERPOLATED
        .iter()
        .map(|(file, name)| ((*file).to_owned(), (*name).to_owned()))
        .collect();
    assert_eq!(
        interpolated, expected,
        "SQL text is interpolated somewhere new: if it is an identifier from a constant, add it to \
         INTERPOLATED; a value must be bound instead"
    );
}

#[test]
fn the_audit_reads_interpolations_as_the_compiler_does() {
    assert_eq!(
        interpolations(r#""DELETE FROM {table} WHERE {col} IN (""#),
        ["table", "col"]
    );
    assert_eq!(
        interpolations("concat!(\"SELECT \", cols!(), \"{} FROM {} r\"), extra, table)"),
        ["cols!()", "extra", "table"]
    );
    assert_eq!(interpolations(r#""SELECT '{{}}' FROM {t}", t = x)"#), ["t"]);
}

/// The names a file gives its query builders: `let mut b = sqlx::QueryBuilder::new(...)`, the
/// `separated` lists made from them, and the rows of `push_values` closures (`|mut row, ...|`).
fn builders(code: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("let mut ") {
        let rest = &code[at + "let mut ".len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let statement = &rest[..rest.find(';').unwrap_or(rest.len())];
        let value = statement[end..]
            .trim_start()
            .trim_start_matches('=')
            .trim_start();
        if value.contains("QueryBuilder::new(") || value.contains(".separated(") {
            names.push(&rest[..end]);
        }
    }
    for (at, _) in code.match_indices("|mut ") {
        let rest = &code[at + "|mut ".len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        names.push(&rest[..end]);
    }
    names
}

#[test]
fn what_is_pushed_onto_a_query_builder_is_sql_text_fixed_at_compile_time() {
    let mut offenders = Vec::new();
    let mut checked = 0;
    for (file, code) in audited() {
        let builders = builders(&code);
        for (at, _) in code.match_indices(".push(") {
            // A push onto a named builder, or chained onto a builder's call (`.push_bind(x).push(...)`,
            // `)` or a line break before it); `collection.push(value)` on a Vec is not SQL.
            let on_builder = match receiver(&code, at) {
                Some(name) => builders.contains(&name),
                None => builders.is_empty().not(),
            };
            if !on_builder {
                continue;
            }
            checked += 1;
            let argument = code[at + ".push(".len()..].trim_start();
            if !is_literal(argument) {
                offenders.push(format!(
                    "{file}: .push({}",
                    argument.lines().next().unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "runtime text pushed onto a query builder; bind it with push_bind: {offenders:#?}"
    );
    // The audit sees the pushes it is about (the store's IN lists, the bench's fills).
    assert!(
        checked >= 20,
        "only {checked} pushes onto query builders found"
    );
}
