//! Progress bars of long commands: drawn on standard error only when it is a terminal, so a command piped
//! or run by a script prints nothing but its one-line summary.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps (0 when not known yet) described by `unit` ("migrations", "seeds"), or `None` when
/// standard error is not a terminal.
pub(crate) fn bar(len: u64, unit: &str) -> Option<ProgressBar> {
    std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| terminal_bar(len, unit))
}

/// A bar whether or not standard error is a terminal: for a caller that has checked already.
pub(crate) fn terminal_bar(len: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {unit}, {{msg}}"))
    {
        bar.set_style(style);
    }
    bar
}
