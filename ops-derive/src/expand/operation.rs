//! `#[derive(ClusterOperation)]`: the `ClusterOperation` impl and the `enqueue` builder method. Every field's
//! type is named through the trait its role needs, which is the type-level half of the field checks.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use crate::ast::Container;
use crate::attr::{Family, Queue, Reason, Role};
use crate::check;
use crate::expand::{Stages, add_context};
use crate::fallback;

/// Parse, validate, expand; on any error, every error plus a fallback impl.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    Stages {
        read: Container::from_ast,
        check: check::check,
        expand,
        fallback: fallback::operation,
    }
    .run(input)
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

    let target_fields = cont.with_role(Role::Target).map(|field| {
        let (field_name, ty) = (field.name(), field.ty);
        quote_spanned!(ty.span()=> (#field_name, <#ty as ::ops_core::__private::TargetField>::OBJECT_TYPE))
    });
    // A const that fails to evaluate, spanned on the field, when one `#[target]` field holds two kinds of id:
    // its `x-targets` entry names one kind.
    let one_kind = cont.with_role(Role::Target).map(|field| {
        let ty = field.ty;
        quote_spanned!(ty.span()=>
            const _: () = if let ::ops_core::__private::TargetKinds::Mixed(_) =
                <#ty as ::ops_core::__private::TargetField>::KINDS
            {
                ::core::panic!("a `#[target]` field holds ids of one kind of object; declare one `#[target]` field per kind");
            };
        )
    });
    let context_fields = cont.with_role(Role::Context).map(|field| field.name());
    let context_reasons = cont.with_role(Role::Context).filter_map(|field| {
        let Reason::Given(reason) = &field.reason else {
            return None;
        };
        let name = field.name();
        Some(quote!((#name, #reason)))
    });
    let add_targets = cont.with_role(Role::Target).map(|field| {
        let (member, ty) = (&field.member, field.ty);
        quote_spanned!(ty.span()=>
            <#ty as ::ops_core::__private::TargetField>::add_targets(&self.#member, &mut __ops_targets);
        )
    });
    // Also the forgotten-target check: a field without an attribute is walked as `OpData`, which no object
    // id implements, at any depth.
    let add_context_ids = cont.fields.iter().filter_map(|field| {
        let member = &field.member;
        add_context(field, &quote!(&self.#member))
    });
    let queue_target = match attrs.queue.as_ref().map(|queue| queue.value) {
        Some(Queue::Node) => {
            let field = cont.field("node_uuid");
            let ty = field.map(|field| field.ty);
            quote_spanned!(ty.span()=> ::ops_core::__private::QueueNode::queue_target(&self.node_uuid))
        }
        Some(Queue::NodeOrNetworkNode) => {
            let ty = cont.field("node_uuid").map(|field| field.ty);
            quote_spanned!(ty.span()=> ::ops_core::__private::NodeOrNetworkNode::queue_target(&self.node_uuid))
        }
        Some(Queue::NetworkNode) => quote!(::ops_core::QueueTarget::NetworkNode),
        Some(Queue::Any) | None => quote!(::ops_core::QueueTarget::Any),
    };
    let family = match (
        attrs.queue.as_ref().map(|queue| queue.value),
        attrs.family.as_ref().map(|family| family.value),
    ) {
        (Some(Queue::NodeOrNetworkNode), _) => {
            // Spanned like `queue_target` above, so a wrong `node_uuid` type is one error, not two.
            let ty = cont.field("node_uuid").map(|field| field.ty);
            quote_spanned!(ty.span()=> ::ops_core::__private::NodeOrNetworkNode::family(&self.node_uuid))
        }
        (_, Some(Family::Network)) => quote!(::ops_core::Family::Network),
        (_, Some(Family::ClusterOperation) | None) => quote!(::ops_core::Family::ClusterOperation),
    };
    let coalescing = attrs.coalesce.as_ref().map(|path| {
        quote_spanned!(path.span()=>
            fn coalescing(&self, tasks: &[Self::Task]) -> ::core::option::Option<::ops_core::CoalesceKey> {
                #path(self, tasks)
            }
        )
    });
    let enqueue = enqueue_method(cont);

    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, unused_variables, clippy::all, clippy::pedantic)]
        const _: () = {
            #[automatically_derived]
            impl ::ops_core::ClusterOperation for #ident {
                const OP_TYPE: &'static ::core::primitive::str = #name;
                const VERSION: ::core::primitive::u32 = #version;
                const TARGET_FIELDS: &'static [(&'static ::core::primitive::str, ::ops_core::ObjectType)] =
                    &[#(#target_fields),*];
                const CONTEXT_FIELDS: &'static [&'static ::core::primitive::str] = &[#(#context_fields),*];
                const CONTEXT_REASONS: &'static [(&'static ::core::primitive::str, &'static ::core::primitive::str)] =
                    &[#(#context_reasons),*];
                type Task = #tasks;

                fn targets(&self) -> ::ops_core::TargetSet {
                    let mut __ops_targets = ::ops_core::TargetSet::new();
                    #(#add_targets)*
                    __ops_targets
                }

                fn context(&self) -> ::ops_core::ContextSet {
                    let mut __ops_context_set = ::ops_core::ContextSet::new();
                    let __ops_context = &mut __ops_context_set;
                    #(#add_context_ids)*
                    __ops_context_set
                }

                fn queue_target(&self) -> ::ops_core::QueueTarget {
                    #queue_target
                }

                fn family(&self) -> ::ops_core::Family {
                    #family
                }

                #coalescing

                fn only_derive_is_allowed_to_implement_this_trait() {}
            }

            #enqueue

            #(#one_kind)*
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
