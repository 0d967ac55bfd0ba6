//! [`Ctxt`]: collects every error of one derive, so the user sees them all in one compile (serde's way).

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// The errors found so far. Dropping it without [`Ctxt::check`] is a bug in this crate and panics.
pub(crate) struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error at `tokens`, with a `help:` line showing the correct form.
    pub(crate) fn error<T: ToTokens>(&self, tokens: T, message: impl Display, help: impl Display) {
        self.push(syn::Error::new_spanned(
            tokens,
            format!("{message}\nhelp: {help}"),
        ));
    }

    /// Records an error syn produced while parsing.
    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.push(error);
    }

    fn push(&self, error: syn::Error) {
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(error);
        }
    }

    /// All recorded errors folded into one, or `Ok` when there are none.
    pub(crate) fn check(self) -> Result<(), syn::Error> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        let mut errors = errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("ops-derive bug: a Ctxt was dropped without checking it for errors");
        }
    }
}
