//! The derives' model of their input: an operation (a named-field struct with `#[operation]` keys), or a
//! nested data type (any struct or enum), and the role of every field.

use syn::{Data, DeriveInput, Fields, Generics, Ident, Member, Type, Visibility};

use crate::attr::{self, OperationAttrs, Reason, Role};
use crate::ctxt::Ctxt;

/// The operation struct being derived.
pub(crate) struct Container<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) attrs: OperationAttrs,
    pub(crate) fields: Vec<Field<'a>>,
    /// The user's item, for errors that point at it.
    pub(crate) original: &'a DeriveInput,
}

/// One field of an operation or of a nested type.
pub(crate) struct Field<'a> {
    /// `self.#member`: the field's name, or its index in a tuple struct or variant.
    pub(crate) member: Member,
    pub(crate) ty: &'a Type,
    pub(crate) role: Role,
    /// `#[context(reason = "...")]`: why a targetable id is not a target.
    pub(crate) reason: Reason,
}

impl Field<'_> {
    /// The name errors show: the field's name, or its index.
    pub(crate) fn name(&self) -> String {
        match &self.member {
            Member::Named(ident) => ident.to_string(),
            Member::Unnamed(index) => index.index.to_string(),
        }
    }
}

/// Reads the fields of a struct or variant, whatever their shape.
fn fields<'a>(cx: &Ctxt, fields: &'a Fields) -> Vec<Field<'a>> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let attrs = attr::field_attrs(cx, &field.attrs);
            Field {
                member: match &field.ident {
                    Some(ident) => Member::Named(ident.clone()),
                    None => Member::Unnamed(index.into()),
                },
                ty: &field.ty,
                role: attrs.role,
                reason: attrs.reason,
            }
        })
        .collect()
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
                Fields::Named(_) => fields(cx, &data.fields),
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

    pub(crate) fn field(&self, name: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|field| field.name() == name)
    }

    pub(crate) fn with_role(&self, role: Role) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(move |field| field.role == role)
    }
}

/// A type used inside an operation, derived with `#[derive(OpData)]`.
pub(crate) struct DataItem<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a Generics,
    pub(crate) shape: Shape<'a>,
}

/// A struct's fields, or an enum's variants; a union is reported and read as no fields at all.
pub(crate) enum Shape<'a> {
    Struct(Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
    Union,
}

/// One variant of an enum.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) fields: Vec<Field<'a>>,
}

impl<'a> DataItem<'a> {
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> DataItem<'a> {
        let shape = match &input.data {
            Data::Struct(data) => Shape::Struct(fields(cx, &data.fields)),
            Data::Enum(data) => Shape::Enum(
                data.variants
                    .iter()
                    .map(|variant| Variant {
                        ident: &variant.ident,
                        fields: fields(cx, &variant.fields),
                    })
                    .collect(),
            ),
            Data::Union(data) => {
                cx.error(
                    data.union_token,
                    "`#[derive(OpData)]` needs a struct or an enum, not a union",
                    "a union's active field is unknown, so its ids cannot be walked; use an enum",
                );
                Shape::Union
            }
        };
        DataItem {
            ident: &input.ident,
            generics: &input.generics,
            shape,
        }
    }

    /// Every field of every variant.
    pub(crate) fn fields(&self) -> Box<dyn Iterator<Item = &Field<'a>> + '_> {
        match &self.shape {
            Shape::Struct(fields) => Box::new(fields.iter()),
            Shape::Enum(variants) => Box::new(variants.iter().flat_map(|variant| &variant.fields)),
            Shape::Union => Box::new(std::iter::empty()),
        }
    }
}
