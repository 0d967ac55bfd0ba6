//! Exit codes: one meaning each, the same in every subcommand.

use std::process::ExitCode;

use ops_core::StoreError;

use crate::CliError;

/// The table `--help` shows and docs/operator_guide/cli.md repeats.
pub(crate) const TABLE: &str = "\
Exit codes:
  0  success
  1  the operation failed (a query failed, an op or object not found, a file not written)
  2  bad input or usage (unknown type, bad uuid, malformed JSON, an invalid database URL, ...)
  3  the database is unreachable or refused the connection
  4  the database schema is missing, behind, half-applied or newer than this build: run or upgrade
     `opsctl migrate`";

/// The exit code of a failed command.
pub(crate) fn code(error: &CliError) -> ExitCode {
    ExitCode::from(match error {
        CliError::Input(_) => 2,
        CliError::Failed(_) => 1,
        CliError::Store(store) => store_code(store),
    })
}

fn store_code(error: &StoreError) -> u8 {
    match error {
        StoreError::InvalidUrl { .. } | StoreError::InvalidName { .. } => 2,
        error if error.is_unreachable() => 3,
        StoreError::SchemaMissing
        | StoreError::SchemaBehind { .. }
        | StoreError::SchemaTooNew { .. }
        | StoreError::SchemaDirty { .. } => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_code() {
        let cases = [
            (StoreError::SchemaMissing, 4),
            (StoreError::SchemaTooNew { found: 9, known: 8 }, 4),
            (
                StoreError::SchemaBehind {
                    found: 2,
                    needed: 8,
                },
                4,
            ),
            (StoreError::SchemaDirty { version: 2 }, 4),
            (
                StoreError::InvalidUrl {
                    url: "x".to_owned(),
                    reason: "no scheme".to_owned(),
                },
                2,
            ),
            (StoreError::OpNotFound(ops_core::OpId::new_v4()), 1),
        ];
        for (error, expected) in cases {
            assert_eq!(store_code(&error), expected, "{error}");
        }
    }
}
