//! Rules that need the whole item: required keys, the name rule, declared targets, the queue's node, and
//! the syntactic half of the forgotten-target check (the type-level half is generated code).

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

use crate::ast::{Container, Field};
use crate::attr::{OPERATION_EXAMPLE, Queue, Role};
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

/// Wrappers the checks look through: `Option<Vec<NetworkId>>` holds network ids.
const WRAPPERS: [&str; 4] = ["Option", "Vec", "BTreeSet", "Box"];

/// Types that are obviously not typed ids; anything else is left to the type-level check.
const PLAIN_TYPES: [&str; 8] = ["String", "str", "Uuid", "u32", "u64", "i32", "i64", "bool"];

pub(crate) fn check(cx: &Ctxt, cont: &Container<'_>) {
    check_required_keys(cx, cont);
    check_name(cx, cont);
    if cont.is_struct() {
        check_targets_declared(cx, cont);
        check_queue_node(cx, cont);
        for field in &cont.fields {
            check_field_type(cx, field);
        }
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
        field.role == Role::Conflict || (field.role == Role::Plain && plainly_an_id(field.ty))
    };
    if cont.fields.iter().any(|field| maybe_target(&field)) {
        return;
    }
    let has_targets = cont.targets().next().is_some();
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

/// `queue = node` reads the node from `node_uuid`, which must be there and be context.
fn check_queue_node(cx: &Ctxt, cont: &Container<'_>) {
    let Some(queue) = &cont.attrs.queue else {
        return;
    };
    if queue.value != Queue::Node {
        return;
    }
    if !cont.fields.iter().any(|field| field.ident == "node_uuid") {
        cx.syn_error(syn::Error::new(
            queue.span,
            "`queue = node` needs a `node_uuid` field to name the node\nhelp: add `#[context] node_uuid: NodeId`, \
             or choose `queue = any` or `queue = network_node`",
        ));
    }
}

/// The syntactic checks of a field's type: the common mistakes get a message that names the field.
fn check_field_type(cx: &Ctxt, field: &Field<'_>) {
    let inner = innermost(field.ty);
    let name = field.ident;
    match field.role {
        Role::Target if inner.as_deref() == Some("NodeId") => cx.error(
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
        Role::Plain if inner.as_deref().is_some_and(|ty| TARGET_IDS.contains(&ty) || ty == "NodeId") => {
            let (attribute, why) = if inner.as_deref() == Some("NodeId") {
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
        _ => {}
    }
}

/// The last path segment of a type, looking through `Option`, `Vec`, `BTreeSet` and `Box`.
pub(crate) fn innermost(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    let name = segment.ident.to_string();
    if WRAPPERS.contains(&name.as_str())
        && let PathArguments::AngleBracketed(args) = &segment.arguments
        && let Some(GenericArgument::Type(inner)) = args.args.first()
    {
        return innermost(inner);
    }
    Some(name)
}

/// Whether the syntactic check already reported this plain field (then the type-level probe is skipped).
pub(crate) fn plainly_an_id(ty: &Type) -> bool {
    innermost(ty).is_some_and(|ty| TARGET_IDS.contains(&ty.as_str()) || ty == "NodeId")
}
