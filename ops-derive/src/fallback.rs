//! What is emitted beside the errors of a rejected derive (thiserror's `fallback.rs`, clap's dummies): an
//! impl of the trait and the `enqueue` method, so code that uses the op reports nothing but the real errors.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Container;
use crate::expand::enqueue_method;

pub(crate) fn fallback(cont: &Container<'_>) -> TokenStream {
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

                fn family() -> ::ops_core::Family {
                    ::core::unreachable!()
                }
            }

            #enqueue
        };
    }
}
