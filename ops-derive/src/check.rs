//! Rules that need the whole item: required keys, the name rule, declared targets, the queue's node, and
//! the syntactic half of the field checks. The type-level half is generated code: a bound per field, which
//! also sees through aliases and user types; the syntactic half gives the common mistakes a message that
//! names the field.

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

use crate::ast::{Container, DataItem, Field};
use crate::attr::{OPERATION_EXAMPLE, Queue, Reason, Role};
use crate::ctxt::Ctxt;

/// The typed ids of ops-core that name targetable objects.
const TARGET_IDS: [&str; 6] = [
    "InstanceId",
    "NetworkId",
    "ArtifactId",
    "BlobId",
    "InterfaceId",
    "AgentOperationId",
];

/// Single-element wrappers the plain-type check looks through: `#[target] Option<Vec<String>>` is a string.
const WRAPPERS: [&str; 11] = [
    "Option",
    "Vec",
    "VecDeque",
    "LinkedList",
    "BinaryHeap",
    "BTreeSet",
    "HashSet",
    "Box",
    "Arc",
    "Rc",
    "Cow",
];

/// Where a field sits: on the operation itself, or inside a type the operation holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Operation,
    Nested,
}

/// Types that are obviously not typed ids; anything else is left to the type-level check.
const PLAIN_TYPES: [&str; 8] = ["String", "str", "Uuid", "u32", "u64", "i32", "i64", "bool"];

pub(crate) fn check(cx: &Ctxt, cont: &Container<'_>) {
    check_required_keys(cx, cont);
    check_name(cx, cont);
    if cont.is_struct() {
        check_targets_declared(cx, cont);
        check_queue_node(cx, cont);
        for field in &cont.fields {
            check_field_type(cx, field, Place::Operation);
        }
    }
}

/// The rules for a type derived with `#[derive(OpData)]`: the same field rules, where ids are context.
pub(crate) fn check_data(cx: &Ctxt, item: &DataItem<'_>) {
    for field in item.fields() {
        check_field_type(cx, field, Place::Nested);
    }
}

/// `name`, `tasks` and `queue` have no default: an op must say what it is, what it does and where it runs.
fn check_required_keys(cx: &Ctxt, cont: &Container<'_>) {
    let attrs = &cont.attrs;
    let Some(attribute) = &attrs.attribute else {
        cx.error(
            cont.ident,
            "missing `#[operation(...)]`: an operation needs at least `name`, `tasks` and `queue`",
            format!("add `{OPERATION_EXAMPLE}`"),
        );
        return;
    };
    if attrs.bare {
        return;
    }
    let missing: Vec<String> = ["name", "tasks", "queue"]
        .into_iter()
        .filter(|key| !attrs.keys_given.iter().any(|given| given == key))
        .map(|key| format!("`{key}`"))
        .collect();
    let keys = match missing.as_slice() {
        [] => return,
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    cx.error(
        attribute,
        format!("`#[operation]` is missing {keys}"),
        format!("write `{OPERATION_EXAMPLE}`"),
    );
}

/// Operation names are the ObjectType values of Shaken Fist: snake_case, ending in `_op`.
fn check_name(cx: &Ctxt, cont: &Container<'_>) {
    let Some(name) = &cont.attrs.name else { return };
    let value = &name.value;
    let snake = !value.is_empty()
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !snake || !value.ends_with("_op") || value == "_op" {
        let error = syn::Error::new(
            name.span,
            format!(
                "operation name `{value}` must be snake_case and end in `_op`\nhelp: write e.g. `name = \"node_inst_op\"`"
            ),
        );
        cx.syn_error(error);
    }
}

/// An op with no `#[target]` would never guard anything: it must say `untargeted` on purpose. A field with
/// both attributes, or an id field reported as a forgotten target, may be the missing target: that error
/// already says what to do.
fn check_targets_declared(cx: &Ctxt, cont: &Container<'_>) {
    let maybe_target = |field: &&Field<'_>| {
        field.role == Role::Conflict
            || (field.role == Role::Unannotated && !named_ids(field.ty).is_empty())
    };
    if cont.fields.iter().any(|field| maybe_target(&field)) {
        return;
    }
    let has_targets = cont.with_role(Role::Target).next().is_some();
    match (has_targets, cont.attrs.untargeted) {
        (false, None) => cx.error(
            cont.ident,
            "an operation must declare its targets: no field has `#[target]`",
            "mark the fields of the objects it acts on with `#[target]`, or write `#[operation(untargeted, ...)]` \
             for an operation that acts on no object",
        ),
        (true, Some(span)) => cx.syn_error(syn::Error::new(
            span,
            "`untargeted` conflicts with the `#[target]` fields of this operation\nhelp: remove `untargeted`",
        )),
        _ => {}
    }
}

/// `queue = node` and `queue = node_or_network_node` read the node from `node_uuid`, which must be there;
/// the second picks the family itself, so `family` cannot be given with it.
fn check_queue_node(cx: &Ctxt, cont: &Container<'_>) {
    let Some(queue) = &cont.attrs.queue else {
        return;
    };
    match queue.value {
        Queue::Node if cont.field("node_uuid").is_none() => cx.syn_error(syn::Error::new(
            queue.span,
            "`queue = node` needs a `node_uuid` field to name the node\nhelp: add `#[context] node_uuid: NodeId`, \
             or choose `queue = any` or `queue = network_node`",
        )),
        Queue::NodeOrNetworkNode => {
            if cont.field("node_uuid").is_none() {
                cx.syn_error(syn::Error::new(
                    queue.span,
                    "`queue = node_or_network_node` needs a `node_uuid` field to name the node\nhelp: add \
                     `#[context] node_uuid: Option<NodeId>`, or choose `queue = network_node`",
                ));
            }
            if let Some(family) = &cont.attrs.family {
                cx.syn_error(syn::Error::new(
                    family.span,
                    "`family` cannot be set with `queue = node_or_network_node`: the route picks it (`network` \
                     on the node, `clusteroperation` on the network node)\nhelp: remove `family`",
                ));
            }
        }
        _ => {}
    }
}

/// The syntactic checks of a field's type: the common mistakes get a message that names the field.
fn check_field_type(cx: &Ctxt, field: &Field<'_>, place: Place) {
    let ids = named_ids(field.ty);
    let inner = innermost(field.ty);
    let name = field.name();
    match field.role {
        // #[target] inside a type the operation holds
        Role::Target if place == Place::Nested => cx.error(
            field.ty,
            format!(
                "`#[target]` on `{name}` inside a nested type: an operation's targets are its own fields"
            ),
            "declare the id as a `#[target]` field of the operation, or mark it `#[context(reason = \"...\")]` here",
        ),
        Role::Target if ids.iter().any(|id| id == "NodeId") => cx.error(
            field.ty,
            format!("`#[target]` on `{name}`: a node is execution context, never a target; use `#[context]`"),
            format!("write `#[context] {name}: NodeId`"),
        ),
        Role::Target if inner.as_deref().is_some_and(|ty| PLAIN_TYPES.contains(&ty)) => cx.error(
            field.ty,
            format!(
                "`#[target]` on `{name}`: a target must be a typed object id, not `{}`",
                field.ty.to_token_stream().to_string().replace(' ', "")
            ),
            format!("use a typed id such as `#[target] {name}: InstanceId`, or `#[context]` for plain data"),
        ),
        Role::Unannotated if place == Place::Nested && !ids.is_empty() => {
            let attribute = if only_nodes(&ids) {
                "#[context]"
            } else {
                "#[context(reason = \"...\")]"
            };
            cx.error(
                field.ty,
                format!(
                    "forgotten context: field `{name}` of a nested type holds an object id (`{}`) but has no `#[context]`",
                    ids[0]
                ),
                format!(
                    "add `{attribute}`: ids inside a nested type are context of the operation; a target belongs on a \
                     `#[target]` field of the operation itself: `{attribute} {name}: ...`"
                ),
            );
        }
        Role::Unannotated if !ids.is_empty() => {
            let (attribute, why) = if only_nodes(&ids) {
                ("#[context]", "a node is execution context")
            } else {
                ("#[target]", "the operation acts on this object")
            };
            cx.error(
                field.ty,
                format!("forgotten target: field `{name}` holds an object id but has neither `#[target]` nor `#[context]`"),
                format!("add `{attribute}` ({why}): `{attribute} {name}: ...`"),
            );
        }
        Role::Context if matches!(field.reason, Reason::None) && !only_nodes(&ids) => cx.error(
            field.ty,
            format!(
                "`#[context]` on `{name}`, which holds a targetable object id (`{}`): say why it is not a target",
                ids.iter().find(|id| *id != "NodeId").map_or("", String::as_str)
            ),
            format!(
                "`#[target]` if the operation acts on it; otherwise `#[context(reason = \"...\")] {name}: ...`"
            ),
        ),
        Role::Context if !ids.is_empty() && only_nodes(&ids) => {
            if let Reason::Given(reason) = &field.reason {
                cx.error(
                    reason,
                    format!("`#[context]` on `{name}` needs no reason: a node is never a target"),
                    format!("write `#[context] {name}: NodeId`"),
                );
            }
        }
        Role::Plain if !ids.is_empty() => cx.error(
            field.ty,
            format!(
                "`#[plain]` on `{name}`: its type names an object id (`{}`), which `#[plain]` would hide from the gate",
                ids[0]
            ),
            "use `#[target]` or `#[context]`; `#[plain]` is only for a foreign type that holds no object id",
        ),
        _ => {}
    }
}

/// Whether every id a type names is a node (which is never a target, so needs no reason as context).
fn only_nodes(ids: &[String]) -> bool {
    ids.iter().all(|id| id == "NodeId")
}

/// The last path segment of a type, looking through single-element wrappers (`Option`, `Vec`, `Box`, ...).
fn innermost(ty: &Type) -> Option<String> {
    match ty {
        Type::Group(group) => innermost(&group.elem),
        Type::Paren(paren) => innermost(&paren.elem),
        Type::Path(path) => {
            let segment = path.path.segments.last()?;
            let name = segment.ident.to_string();
            if WRAPPERS.contains(&name.as_str())
                && let PathArguments::AngleBracketed(args) = &segment.arguments
                && let Some(inner) = args.args.iter().find_map(|arg| match arg {
                    GenericArgument::Type(inner) => Some(inner),
                    _ => None,
                })
            {
                return innermost(inner);
            }
            Some(name)
        }
        _ => None,
    }
}

/// The object id types a type names anywhere in its syntax (`HashMap<String, (NetworkId, u8)>` names
/// `NetworkId`), in order. `PhantomData<_>` holds no value and is not looked into. An alias or a user type
/// hides its ids from this; the generated bound per field catches those.
pub(crate) fn named_ids(ty: &Type) -> Vec<String> {
    let mut ids = Vec::new();
    collect_ids(ty, &mut ids);
    ids
}

fn collect_ids(ty: &Type, ids: &mut Vec<String>) {
    match ty {
        Type::Group(group) => collect_ids(&group.elem, ids),
        Type::Paren(paren) => collect_ids(&paren.elem, ids),
        Type::Array(array) => collect_ids(&array.elem, ids),
        Type::Slice(slice) => collect_ids(&slice.elem, ids),
        Type::Reference(reference) => collect_ids(&reference.elem, ids),
        Type::Ptr(pointer) => collect_ids(&pointer.elem, ids),
        Type::Tuple(tuple) => tuple.elems.iter().for_each(|elem| collect_ids(elem, ids)),
        Type::Path(path) => {
            let Some(last) = path.path.segments.last() else {
                return;
            };
            let name = last.ident.to_string();
            if name == "PhantomData" {
                return;
            }
            if TARGET_IDS.contains(&name.as_str()) || name == "NodeId" {
                ids.push(name);
            }
            for segment in &path.path.segments {
                if let PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let GenericArgument::Type(inner) = arg {
                            collect_ids(inner, ids);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}
