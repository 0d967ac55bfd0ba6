//! `#[derive(OpData)]`: the `OpData` and `ContextField` impls of a nested struct or enum, whose bodies walk
//! its `#[context]` ids and, by naming each field's type through its trait, check every field.

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::{DeriveInput, Generics, Ident, WherePredicate};

use crate::ast::{DataItem, Field, Shape};
use crate::check;
use crate::expand::{Stages, add_context, field_trait};
use crate::fallback;

/// Parse, validate, expand; on any error, every error plus a fallback impl.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    Stages {
        read: DataItem::from_ast,
        check: check::check_data,
        expand,
        fallback: fallback::op_data,
    }
    .run(input)
}

fn expand(item: &DataItem<'_>) -> TokenStream {
    let ident = item.ident;
    let generics = with_field_bounds(item);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let body = match &item.shape {
        Shape::Struct(fields) => {
            let walks = fields.iter().filter_map(|field| {
                let member = &field.member;
                add_context(field, &quote!(&self.#member))
            });
            quote! { #(#walks)* }
        }
        Shape::Enum(variants) if variants.is_empty() => quote! { match *self {} },
        Shape::Enum(variants) => {
            let arms = variants.iter().map(|variant| {
                let name = variant.ident;
                let bindings: Vec<Ident> = (0..variant.fields.len())
                    .map(|index| format_ident!("__ops_field_{}", index))
                    .collect();
                // One walk per field; a field without one is matched as `_`.
                let (patterns, walks): (Vec<TokenStream>, Vec<TokenStream>) = variant
                    .fields
                    .iter()
                    .zip(&bindings)
                    .map(|(field, binding)| {
                        let member = &field.member;
                        match add_context(field, &quote!(#binding)) {
                            Some(walk) => (quote!(#member: #binding), walk),
                            None => (quote!(#member: _), TokenStream::new()),
                        }
                    })
                    .unzip();
                // `Self::V { 0: a, 1: _ }` matches tuple variants too, and `Self::V {}` unit variants.
                quote! { Self::#name { #(#patterns,)* } => { #(#walks)* } }
            });
            quote! { match self { #(#arms)* } }
        }
        Shape::Union => TokenStream::new(),
    };
    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications, unused_variables, clippy::all, clippy::pedantic)]
        const _: () = {
            // do_not_recommend: an error about `Vec<Pair<NetworkId>>` names that type, not this impl.
            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #impl_generics ::ops_core::OpData for #ident #ty_generics #where_clause {
                fn add_context_ids(&self, __ops_context: &mut ::ops_core::ContextSet) {
                    #body
                }

                fn only_derive_is_allowed_to_implement_this_trait() {}
            }

            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #impl_generics ::ops_core::__private::ContextField for #ident #ty_generics #where_clause {
                // Its own fields were checked by this derive, reasons included.
                type Targetable = ::ops_core::__private::No;

                fn add_context(&self, __ops_context: &mut ::ops_core::ContextSet) {
                    <Self as ::ops_core::OpData>::add_context_ids(self, __ops_context)
                }
            }
        };
    }
}

/// The item's generics plus, for every field whose type mentions a type parameter, the bound its role
/// needs (`Vec<T>: OpData`), as serde bounds only the fields that use a parameter. Fields of concrete types
/// are checked by the impl's body instead, where the error lands on the field.
fn with_field_bounds(item: &DataItem<'_>) -> Generics {
    let mut generics = item.generics.clone();
    let params: Vec<&Ident> = item
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    if params.is_empty() {
        return generics;
    }
    let bounds: Vec<WherePredicate> = item
        .fields()
        .filter(|field| mentions_any(field, &params))
        .filter_map(|field| -> Option<WherePredicate> {
            let (ty, field_trait) = (field.ty, field_trait(field)?);
            Some(syn::parse_quote!(#ty: #field_trait))
        })
        .collect();
    generics.make_where_clause().predicates.extend(bounds);
    generics
}

/// Whether the field's type names one of the type parameters.
fn mentions_any(field: &Field<'_>, params: &[&Ident]) -> bool {
    fn walk(tokens: TokenStream, params: &[&Ident]) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => params.iter().any(|param| **param == ident),
            TokenTree::Group(group) => walk(group.stream(), params),
            TokenTree::Punct(_) | TokenTree::Literal(_) => false,
        })
    }
    let ty = field.ty;
    walk(quote!(#ty), params)
}
