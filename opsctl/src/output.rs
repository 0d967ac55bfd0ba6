//! Standard output. A reader that goes away early (`opsctl bench --json | head -1`) ends opsctl quietly,
//! as it ends any Unix tool, instead of the panic `println!` gives on a closed pipe.

use std::io::Write;

/// Writes `text` to standard output.
pub(crate) fn write(text: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_fmt(text).and_then(|()| out.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Standard output is gone some other way (a full disk): nothing more can be said on it.
        tracing::error!(%error, "cannot write to standard output");
        std::process::exit(1);
    }
}

/// `println!` through [`write()`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`write()`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};
