//! The generated code: the `ClusterOperation` impl, the `enqueue` builder method, and the type-level
//! assertions on every field.
//!
//! Everything sits in `const _: () = { ... };` and names ops-core by absolute path (`::ops_core::...`), so
//! nothing leaks into or depends on the user's scope; the hygiene test shadows the prelude to prove it.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use crate::ast::Container;
use crate::attr::{Family, Queue};
use crate::check;
use crate::ctxt::Ctxt;
use crate::fallback;

/// Parse, validate, expand; on any error, every error plus a fallback impl.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    check::check(&cx, &cont);
    match cx.check() {
        Ok(()) => expand(&cont),
        Err(errors) => {
            let errors = errors.to_compile_error();
            let fallback = fallback::fallback(&cont);
            quote! { #errors #fallback }
        }
    }
}

fn expand(cont: &Container<'_>) -> TokenStream {
    let ident = cont.ident;
    let attrs = &cont.attrs;
    let name = attrs
        .name
        .as_ref()
        .map(|name| name.value.clone())
        .unwrap_or_default();
    let version = attrs.version.as_ref().map_or(1, |version| version.value);
    let tasks = &attrs.tasks;

    let target_fields = cont.targets().map(|field| {
        let (field_name, ty) = (field.ident.to_string(), field.ty);
        quote_spanned!(ty.span()=> (#field_name, <#ty as ::ops_core::__private::TargetField>::OBJECT_TYPE))
    });
    let context_fields = cont.contexts().map(|field| field.ident.to_string());
    let add_targets = cont.targets().map(|field| {
        let (member, ty) = (field.ident, field.ty);
        quote_spanned!(ty.span()=>
            <#ty as ::ops_core::__private::TargetField>::add_targets(&self.#member, &mut __ops_targets);
        )
    });
    let add_context = cont.contexts().map(|field| {
        let member = field.ident;
        quote! {
            (&&::ops_core::__private::ContextProbe(&self.#member)).add_context(&mut __ops_context);
        }
    });
    // A field without #[target] or #[context] must not hold an object id: `kind()` resolves to the id branch
    // when it does, and `assert_plain_field` then fails with the forgotten-target message, spanned on the
    // field's name. Fields the syntactic check already reported are skipped to avoid a second error.
    let assert_plain = cont
        .fields
        .iter()
        .filter(|field| field.role == crate::attr::Role::Plain && !check::plainly_an_id(field.ty))
        .map(|field| {
            let ty = field.ty;
            quote_spanned!(field.ident.span()=>
                ::ops_core::__private::assert_plain_field((&&::ops_core::__private::Probe::<#ty>::new()).kind());
            )
        });
    let queue_target = match attrs.queue.as_ref().map(|queue| queue.value) {
        Some(Queue::Node) => {
            let field = cont.fields.iter().find(|field| field.ident == "node_uuid");
            let ty = field.map(|field| field.ty);
            quote_spanned!(ty.span()=> ::ops_core::__private::QueueNode::queue_target(&self.node_uuid))
        }
        Some(Queue::NetworkNode) => quote!(::ops_core::QueueTarget::NetworkNode),
        Some(Queue::Any) | None => quote!(::ops_core::QueueTarget::Any),
    };
    let family = match attrs.family.as_ref().map(|family| family.value) {
        Some(Family::Network) => quote!(::ops_core::Family::Network),
        Some(Family::ClusterOperation) | None => quote!(::ops_core::Family::ClusterOperation),
    };
    let enqueue = enqueue_method(cont);

    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all, clippy::pedantic)]
        const _: () = {
            #[automatically_derived]
            impl ::ops_core::ClusterOperation for #ident {
                const OP_TYPE: &'static ::core::primitive::str = #name;
                const VERSION: ::core::primitive::u32 = #version;
                const TARGET_FIELDS: &'static [(&'static ::core::primitive::str, ::ops_core::ObjectType)] =
                    &[#(#target_fields),*];
                const CONTEXT_FIELDS: &'static [&'static ::core::primitive::str] = &[#(#context_fields),*];
                type Task = #tasks;

                fn targets(&self) -> ::ops_core::TargetSet {
                    let mut __ops_targets = ::ops_core::TargetSet::new();
                    #(#add_targets)*
                    __ops_targets
                }

                fn context(&self) -> ::ops_core::ContextSet {
                    #[allow(unused_imports)]
                    use ::ops_core::__private::{ViaContextId as _, ViaContextValue as _};
                    let mut __ops_context = ::ops_core::ContextSet::new();
                    #(#add_context)*
                    __ops_context
                }

                fn queue_target(&self) -> ::ops_core::QueueTarget {
                    #queue_target
                }

                fn family() -> ::ops_core::Family {
                    #family
                }
            }

            #enqueue

            #[allow(dead_code)]
            fn __ops_assert_plain_fields() {
                #[allow(unused_imports)]
                use ::ops_core::__private::{ViaObjectId as _, ViaPlainValue as _};
                #(#assert_plain)*
            }
        };
    }
}

/// The inherent `enqueue` method, with the struct's own visibility: the only public way to enqueue it.
pub(crate) fn enqueue_method(cont: &Container<'_>) -> TokenStream {
    let ident = cont.ident;
    let vis = cont.vis;
    quote! {
        #[automatically_derived]
        impl #ident {
            /// Starts enqueueing this operation: choose its priority (required) and tasks, then `.await` it.
            /// The op, its state, its work-queue row, one target row per `#[target]` and the audit event
            /// are written in one transaction.
            #vis fn enqueue(self, store: &::ops_core::Store) -> ::ops_core::Enqueue<'_, Self> {
                ::ops_core::__private::enqueue(store, self)
            }
        }
    }
}
