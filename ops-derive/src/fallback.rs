//! What is emitted beside the errors of a rejected derive (thiserror's `fallback.rs`, clap's dummies): impls
//! of the traits (and an op's `enqueue` method), so code that uses the type reports nothing but the real
//! errors.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::{Container, DataItem, Shape};
use crate::expand::operation::enqueue_method;

/// For `#[derive(ClusterOperation)]`.
pub(crate) fn operation(cont: &Container<'_>) -> TokenStream {
    // A generic item cannot get a meaningful impl, and a union cannot be (de)serialised, which the trait
    // requires: their own error is all the user needs.
    if !cont.original.generics.params.is_empty()
        || matches!(cont.original.data, syn::Data::Union(_))
    {
        return TokenStream::new();
    }
    let ident = cont.ident;
    let name = cont
        .attrs
        .name
        .as_ref()
        .map_or_else(String::new, |name| name.value.clone());
    let task = match &cont.attrs.tasks {
        Some(tasks) => quote!(#tasks),
        None => quote!(::ops_core::__private::FallbackTask),
    };
    let enqueue = enqueue_method(cont);
    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications, unreachable_code, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl ::ops_core::ClusterOperation for #ident {
                const OP_TYPE: &'static ::core::primitive::str = #name;
                const VERSION: ::core::primitive::u32 = 1;
                const TARGET_FIELDS: &'static [(&'static ::core::primitive::str, ::ops_core::ObjectType)] = &[];
                const CONTEXT_FIELDS: &'static [&'static ::core::primitive::str] = &[];
                const CONTEXT_REASONS: &'static [(&'static ::core::primitive::str, &'static ::core::primitive::str)] = &[];
                type Task = #task;

                fn targets(&self) -> ::ops_core::TargetSet {
                    ::core::unreachable!()
                }

                fn context(&self) -> ::ops_core::ContextSet {
                    ::core::unreachable!()
                }

                fn queue_target(&self) -> ::ops_core::QueueTarget {
                    ::core::unreachable!()
                }

                fn family(&self) -> ::ops_core::Family {
                    ::core::unreachable!()
                }

                fn only_derive_is_allowed_to_implement_this_trait() {}
            }

            #enqueue
        };
    }
}

/// Beside the errors: impls with the item's own generics and no body, so that uses of the type report
/// nothing but the real errors. A union gets none: its own error is all there is to say.
pub(crate) fn op_data(item: &DataItem<'_>) -> TokenStream {
    if matches!(item.shape, Shape::Union) {
        return TokenStream::new();
    }
    let ident = item.ident;
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    let unreachable = quote!(::core::unreachable!());
    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications, unreachable_code, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::ops_core::OpData for #ident #ty_generics #where_clause {
                fn add_context_ids(&self, _: &mut ::ops_core::ContextSet) {
                    #unreachable
                }

                fn only_derive_is_allowed_to_implement_this_trait() {}
            }

            #[automatically_derived]
            impl #impl_generics ::ops_core::__private::ContextField for #ident #ty_generics #where_clause {
                type Targetable = ::ops_core::__private::No;

                fn add_context(&self, _: &mut ::ops_core::ContextSet) {
                    #unreachable
                }
            }
        };
    }
}
