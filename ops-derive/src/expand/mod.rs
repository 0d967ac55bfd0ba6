//! Code generation for both derives. Everything sits in `const _: () = { ... };` and names ops-core by
//! absolute path (`::ops_core::...`), so nothing leaks into or depends on the user's scope; the hygiene test
//! shadows the prelude to prove it.

pub(crate) mod op_data;
pub(crate) mod operation;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use crate::ast::Field;
use crate::attr::{Reason, Role};
use crate::ctxt::Ctxt;

/// One derive's stages: read the model, check it, then expand it; on any error, every error plus the
/// fallback, so that code using the type reports nothing else.
pub(crate) struct Stages<'a, M> {
    pub(crate) read: fn(&Ctxt, &'a DeriveInput) -> M,
    pub(crate) check: fn(&Ctxt, &M),
    pub(crate) expand: fn(&M) -> TokenStream,
    pub(crate) fallback: fn(&M) -> TokenStream,
}

impl<'a, M> Stages<'a, M> {
    pub(crate) fn run(&self, input: &'a DeriveInput) -> TokenStream {
        let cx = Ctxt::new();
        let model = (self.read)(&cx, input);
        (self.check)(&cx, &model);
        match cx.check() {
            Ok(()) => (self.expand)(&model),
            Err(errors) => {
                let errors = errors.to_compile_error();
                let fallback = (self.fallback)(&model);
                quote! { #errors #fallback }
            }
        }
    }
}

/// The trait a field's type is named through, by its role — the type-level half of the field checks:
///
/// - `#[context]`: `ContextField` (ids, plain data, `OpData` types, containers of them), and without a
///   `reason` `ReasonlessContextField`, which also refuses a targetable id;
/// - no attribute: `OpData`, which no object id is: the deny-by-default forgotten-target check;
/// - `#[plain]` (the user's word) and `#[target]` (walked into the targets) have none here.
pub(crate) fn field_trait(field: &Field<'_>) -> Option<TokenStream> {
    match field.role {
        Role::Context if matches!(field.reason, Reason::None) => {
            Some(quote!(::ops_core::__private::ReasonlessContextField))
        }
        Role::Context => Some(quote!(::ops_core::__private::ContextField)),
        Role::Unannotated => Some(quote!(::ops_core::OpData)),
        Role::Target | Role::Plain | Role::Conflict => None,
    }
}

/// The statement that adds a field's context ids to `__ops_context` through its [`field_trait`], spanned on
/// the field's type so that rustc's error lands there. `OpData` also walks the `#[context]` ids of nested
/// types.
pub(crate) fn add_context(field: &Field<'_>, value: &TokenStream) -> Option<TokenStream> {
    let ty = field.ty;
    let field_trait = field_trait(field)?;
    let method = match field.role {
        Role::Unannotated => quote!(add_context_ids),
        _ => quote!(add_context),
    };
    Some(quote_spanned!(ty.span()=>
        <#ty as #field_trait>::#method(#value, __ops_context);
    ))
}
