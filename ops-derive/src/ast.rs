//! The derive's model of the input: a named-field struct, its `#[operation]` keys and its fields' roles.

use syn::{Data, DeriveInput, Fields, Ident, Type, Visibility};

use crate::attr::{self, OperationAttrs, Role};
use crate::ctxt::Ctxt;

/// The struct being derived.
pub(crate) struct Container<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) attrs: OperationAttrs,
    pub(crate) fields: Vec<Field<'a>>,
    /// The user's item, for errors that point at it.
    pub(crate) original: &'a DeriveInput,
}

/// One named field.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) role: Role,
}

const SHAPE_HELP: &str = "declare the operation as `struct NodeInstOp { #[context] node_uuid: NodeId, \
                          #[target] instance_uuid: InstanceId }`";

impl<'a> Container<'a> {
    /// Reads the item. Shape errors (not a struct, tuple fields, generics) are recorded and give an empty
    /// field list, so the attributes are still checked in the same compile.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Container<'a> {
        let attrs = OperationAttrs::from_attrs(cx, &input.attrs);
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named
                    .named
                    .iter()
                    .filter_map(|field| {
                        let role = attr::field_role(cx, &field.attrs);
                        field.ident.as_ref().map(|ident| Field {
                            ident,
                            ty: &field.ty,
                            role,
                        })
                    })
                    .collect(),
                Fields::Unnamed(_) | Fields::Unit => {
                    cx.error(
                        &input.ident,
                        "`#[derive(ClusterOperation)]` needs a struct with named fields, not a tuple or unit struct",
                        SHAPE_HELP,
                    );
                    Vec::new()
                }
            },
            Data::Enum(data) => {
                cx.error(
                    data.enum_token,
                    "`#[derive(ClusterOperation)]` needs a struct with named fields, not an enum",
                    SHAPE_HELP,
                );
                Vec::new()
            }
            Data::Union(data) => {
                cx.error(
                    data.union_token,
                    "`#[derive(ClusterOperation)]` needs a struct with named fields, not a union",
                    SHAPE_HELP,
                );
                Vec::new()
            }
        };
        if !input.generics.params.is_empty() {
            cx.error(
                &input.generics,
                "`#[derive(ClusterOperation)]` does not support generic parameters: an operation is one concrete \
                 wire type",
                "remove the parameters and name the concrete types of the fields",
            );
        }
        Container {
            ident: &input.ident,
            vis: &input.vis,
            attrs,
            fields,
            original: input,
        }
    }

    pub(crate) fn is_struct(&self) -> bool {
        matches!(&self.original.data, Data::Struct(data) if matches!(data.fields, Fields::Named(_)))
    }

    pub(crate) fn targets(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields
            .iter()
            .filter(|field| field.role == Role::Target)
    }

    pub(crate) fn contexts(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields
            .iter()
            .filter(|field| field.role == Role::Context)
    }
}
