//! Logs: the library crates log through `tracing`; opsctl prints them on standard error, never on standard
//! output, so `--json` output stays one clean document.

use tracing_subscriber::EnvFilter;

/// The level `-v` / `-q` ask for: warnings by default.
fn level(verbose: u8, quiet: u8) -> &'static str {
    match (verbose, quiet) {
        (0, 0) => "warn",
        (0, 1) => "error",
        (0, _) => "off",
        (1, _) => "info",
        (2, _) => "debug",
        _ => "trace",
    }
}

/// Starts logging to standard error. `RUST_LOG`, when set, decides what is logged. `bench` fills tables
/// with statements of thousands of rows that sqlx reports as slow, statement text and all: for it, sqlx's
/// per-statement log is kept to errors unless `-v` asks for more.
pub(crate) fn init(verbose: u8, quiet: u8, bench: bool) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::new(directives),
        _ if bench && verbose == 0 => {
            EnvFilter::new(format!("{},sqlx::query=error", level(verbose, quiet)))
        }
        _ => EnvFilter::new(level(verbose, quiet)),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    use super::level;

    #[test]
    fn each_flag_moves_the_level_one_step() {
        assert_eq!(level(0, 0), "warn");
        assert_eq!(level(0, 1), "error");
        assert_eq!(level(0, 2), "off");
        assert_eq!(level(1, 0), "info");
        assert_eq!(level(2, 0), "debug");
        assert_eq!(level(3, 0), "trace");
    }
}
