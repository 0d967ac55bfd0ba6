//! Reading the workspace's own sources, for the tests that audit them (`gate_audit.rs`, `sql_audit.rs`).

use std::path::{Path, PathBuf};

/// The workspace's root directory.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ops-core sits in the workspace")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, relative to the workspace root, with its code lines (comments left out).
pub(crate) fn sources(root: &Path, dir: &str, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(dir))
        .expect("read a source directory")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let relative = path
            .strip_prefix(root)
            .expect("under the root")
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            sources(root, &relative, out);
        } else if relative.ends_with(".rs") {
            let text = std::fs::read_to_string(&path).expect("read a source file");
            let code: String = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .map(|line| format!("{line}\n"))
                .collect();
            out.push((relative, code));
        }
    }
}
