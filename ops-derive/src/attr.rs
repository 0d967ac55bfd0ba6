//! Parsing `#[operation(...)]` on the struct and `#[target]` / `#[context]` on its fields.
//!
//! Every malformed, unknown or repeated key is recorded in the [`Ctxt`] and parsing goes on, so one compile
//! reports every bad attribute of the item.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitInt, LitStr, Path};

use crate::ctxt::Ctxt;

/// The keys `#[operation(...)]` accepts, in the order the help lines show them.
pub(crate) const OPERATION_KEYS: &str = "name, version, tasks, queue, family, untargeted, coalesce";

/// The full form, for `help:` lines.
pub(crate) const OPERATION_EXAMPLE: &str =
    "#[operation(name = \"node_inst_op\", version = 1, tasks = NodeInstTask, queue = node)]";

/// Where an op's work is queued: `queue = node | any | network_node | node_or_network_node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queue {
    Node,
    Any,
    NetworkNode,
    /// Shaken Fist's `net_op` routing: the node in `node_uuid` (on its `network` family), else the
    /// network node.
    NodeOrNetworkNode,
}

/// The queue family: `family = clusteroperation | network`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    ClusterOperation,
    Network,
}

/// A parsed value and the tokens it came from, so later checks can point at them.
pub(crate) struct WithSpan<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// What `#[operation(...)]` said; `None` for keys it did not give.
#[derive(Default)]
pub(crate) struct OperationAttrs {
    pub(crate) name: Option<WithSpan<String>>,
    pub(crate) version: Option<WithSpan<u32>>,
    pub(crate) tasks: Option<Path>,
    pub(crate) queue: Option<WithSpan<Queue>>,
    pub(crate) family: Option<WithSpan<Family>>,
    pub(crate) untargeted: Option<Span>,
    /// `coalesce = path::to::fn`: the function that gives an enqueue's coalescing key, if any.
    pub(crate) coalesce: Option<Path>,
    /// The first `#[operation]` attribute, for errors about missing keys.
    pub(crate) attribute: Option<Attribute>,
    /// Every key written, valid or not: a key given with a bad value is not also "missing".
    pub(crate) keys_given: Vec<String>,
    /// `#[operation]` without parentheses was found (and reported).
    pub(crate) bare: bool,
}

/// Stores a key's value; a key given twice is recorded at its second occurrence (serde's `Attr::set`). A
/// `None` value (already reported as malformed) still counts as given.
fn set<T>(cx: &Ctxt, path: &Path, key: &str, slot: &mut Option<T>, value: Option<T>) {
    if slot.is_some() {
        cx.error(
            path,
            format!("duplicate `#[operation]` key `{key}`"),
            format!("give `{key}` once: `{OPERATION_EXAMPLE}`"),
        );
    }
    if value.is_some() {
        *slot = value;
    }
}

/// One of `choices` by name; any other word is recorded, listing the choices, and gives `None`.
fn keyword<T: Copy>(
    cx: &Ctxt,
    ident: &Ident,
    key: &str,
    choices: &[(&str, T)],
    help: &str,
) -> Option<WithSpan<T>> {
    let word = ident.to_string();
    match choices.iter().find(|(name, _)| *name == word) {
        Some((_, value)) => Some(WithSpan {
            value: *value,
            span: ident.span(),
        }),
        None => {
            let names = choices
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ");
            cx.error(
                ident,
                format!("unknown {key} `{word}`; expected one of: {names}"),
                help,
            );
            None
        }
    }
}

impl OperationAttrs {
    /// Parses every `#[operation(...)]` of the item; other attributes are left alone.
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut parsed = OperationAttrs::default();
        for attr in attrs
            .iter()
            .filter(|attr| attr.path().is_ident("operation"))
        {
            if parsed.attribute.is_none() {
                parsed.attribute = Some(attr.clone());
            }
            if let syn::Meta::Path(path) = &attr.meta {
                cx.error(
                    path,
                    "`#[operation]` needs its keys in parentheses",
                    format!("write `{OPERATION_EXAMPLE}`"),
                );
                parsed.bare = true;
                continue;
            }
            let result = attr.parse_nested_meta(|meta| {
                let key = meta.path.get_ident().map(Ident::to_string).unwrap_or_default();
                parsed.keys_given.push(key.clone());
                match key.as_str() {
                    // name = "node_inst_op"
                    "name" => {
                        let Some(lit) = parse_value::<LitStr>(cx, &meta, "name = \"node_inst_op\"")? else { return Ok(()) };
                        let name = WithSpan { value: lit.value(), span: lit.span() };
                        set(cx, &meta.path, "name", &mut parsed.name, Some(name));
                    }
                    // version = 3
                    "version" => {
                        let Some(lit) = parse_value::<LitInt>(cx, &meta, "version = 1")? else { return Ok(()) };
                        let value = match lit.base10_parse::<u32>() {
                            Ok(value) if value >= 1 => value,
                            _ => {
                                cx.error(&lit, "`version` must be a whole number from 1 up", "write `version = 1`");
                                1
                            }
                        };
                        set(cx, &meta.path, "version", &mut parsed.version, Some(WithSpan { value, span: lit.span() }));
                    }
                    // tasks = NodeInstTask
                    "tasks" => {
                        let Some(path) = parse_value::<Path>(cx, &meta, "tasks = NodeInstTask")? else { return Ok(()) };
                        set(cx, &meta.path, "tasks", &mut parsed.tasks, Some(path));
                    }
                    // queue = node | any | network_node | node_or_network_node
                    "queue" => {
                        let Some(ident) = parse_value::<Ident>(cx, &meta, "queue = node")? else { return Ok(()) };
                        let queue = keyword(
                            cx,
                            &ident,
                            "queue",
                            &[
                                ("node", Queue::Node),
                                ("any", Queue::Any),
                                ("network_node", Queue::NetworkNode),
                                ("node_or_network_node", Queue::NodeOrNetworkNode),
                            ],
                            "write `queue = node` (the node in `node_uuid`), `queue = any`, `queue = network_node`, or \
                             `queue = node_or_network_node` (the node's network queue when `node_uuid` is set)",
                        );
                        set(cx, &meta.path, "queue", &mut parsed.queue, queue);
                    }
                    // family = clusteroperation | network
                    "family" => {
                        let Some(ident) = parse_value::<Ident>(cx, &meta, "family = network")? else { return Ok(()) };
                        let family = keyword(
                            cx,
                            &ident,
                            "family",
                            &[("clusteroperation", Family::ClusterOperation), ("network", Family::Network)],
                            "write `family = network`, or leave it out for `clusteroperation`",
                        );
                        set(cx, &meta.path, "family", &mut parsed.family, family);
                    }
                    // coalesce = net_op_coalescing
                    "coalesce" => {
                        let Some(path) = parse_value::<Path>(cx, &meta, "coalesce = my_op_coalescing")? else { return Ok(()) };
                        set(cx, &meta.path, "coalesce", &mut parsed.coalesce, Some(path));
                    }
                    // untargeted
                    "untargeted" => {
                        if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                            cx.error(&meta.path, "`untargeted` takes no value", "write `#[operation(untargeted, ...)]`");
                            skip_value(&meta)?;
                        }
                        set(cx, &meta.path, "untargeted", &mut parsed.untargeted, Some(meta.path.span()));
                    }
                    _ => {
                        let shown = quote::ToTokens::to_token_stream(&meta.path).to_string().replace(' ', "");
                        cx.error(
                            &meta.path,
                            format!("unknown `#[operation]` key `{shown}`; accepted keys: {OPERATION_KEYS}"),
                            format!("write `{OPERATION_EXAMPLE}`"),
                        );
                        skip_value(&meta)?;
                    }
                }
                Ok(())
            });
            if let Err(error) = result {
                cx.syn_error(error);
            }
        }
        parsed
    }
}

/// Parses `= value`. A malformed value is recorded, with the expected form, and skipped: `None`, and
/// parsing goes on with the next key.
fn parse_value<T: syn::parse::Parse>(
    cx: &Ctxt,
    meta: &syn::meta::ParseNestedMeta<'_>,
    form: &str,
) -> syn::Result<Option<T>> {
    let key = meta
        .path
        .get_ident()
        .map(Ident::to_string)
        .unwrap_or_default();
    if !meta.input.peek(syn::Token![=]) {
        cx.error(
            &meta.path,
            format!("malformed `#[operation]` key `{key}`: expected `= value`"),
            format!("write `{form}`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let value = meta.value()?;
    let fork = value.fork();
    match fork.parse::<T>() {
        Ok(_) => value.parse::<T>().map(Some),
        Err(error) => {
            let bad: proc_macro2::TokenTree = value.parse()?;
            cx.error(
                &bad,
                format!("malformed `#[operation]` key `{key}`: {error}"),
                format!("write `{form}`"),
            );
            while !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                meta.input.parse::<proc_macro2::TokenTree>()?;
            }
            Ok(None)
        }
    }
}

/// Consumes whatever follows an unknown or malformed key, so parsing can go on to the next key.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<proc_macro2::TokenTree>()?;
        while !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
            meta.input.parse::<proc_macro2::TokenTree>()?;
        }
    } else if meta.input.peek(syn::token::Paren) {
        let _ignored: proc_macro2::TokenTree = meta.input.parse()?;
    }
    Ok(())
}

/// What a field is to its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// `#[target]`: an object the op acts on.
    Target,
    /// `#[context]`: where or with what the op runs (the node, an address, ...).
    Context,
    /// Neither: plain data, which the compiler must prove holds no object id (`OpData`).
    Unannotated,
    /// `#[plain]`: plain data by the user's word, for a foreign type the compiler cannot check.
    Plain,
    /// More than one of the above, which was reported; no later check looks at it, so it is reported once.
    Conflict,
}

/// The field attributes, in the order conflicts are reported.
const FIELD_ATTRIBUTES: [(&str, Role); 3] = [
    ("target", Role::Target),
    ("context", Role::Context),
    ("plain", Role::Plain),
];

/// The reason a `#[context]` field gives for a targetable id: `#[context(reason = "...")]`.
pub(crate) enum Reason {
    /// None given.
    None,
    /// A non-empty reason.
    Given(LitStr),
    /// Written wrong, which was reported; no later check asks for a reason again.
    Malformed,
}

/// What the field attributes said: the role, and the reason a `#[context]` field gave.
pub(crate) struct FieldAttrs {
    pub(crate) role: Role,
    pub(crate) reason: Reason,
}

/// Reads `#[target]` / `#[context]` / `#[plain]` on one field; more than one is recorded as an error.
pub(crate) fn field_attrs(cx: &Ctxt, attrs: &[Attribute]) -> FieldAttrs {
    let mut reason = Reason::None;
    let role = field_role(cx, attrs, &mut reason);
    FieldAttrs { role, reason }
}

/// `#[context(reason = "...")]`: a non-empty reason, once; anything else is recorded (and the reason is then
/// `Malformed`, so that no follow-on error asks for one).
fn context_reason(cx: &Ctxt, attr: &Attribute, reason: &mut Reason) {
    const FORM: &str = "#[context(reason = \"the snapshot's destination, not what it acts on\")]";
    if let syn::Meta::NameValue(_) = attr.meta {
        cx.error(
            attr,
            "`#[context]` takes its reason in parentheses",
            format!("write `{FORM}`"),
        );
        *reason = Reason::Malformed;
        return;
    }
    let result = attr.parse_nested_meta(|meta| {
        if !meta.path.is_ident("reason") {
            let shown = quote::ToTokens::to_token_stream(&meta.path)
                .to_string()
                .replace(' ', "");
            cx.error(
                &meta.path,
                format!("unknown `#[context]` key `{shown}`; the only key is `reason`"),
                format!("write `{FORM}`"),
            );
            *reason = Reason::Malformed;
            return skip_value(&meta);
        }
        let Some(lit) = parse_value::<LitStr>(cx, &meta, FORM)? else {
            *reason = Reason::Malformed;
            return Ok(());
        };
        if lit.value().trim().is_empty() {
            cx.error(
                &lit,
                "the `reason` of `#[context]` is empty",
                format!("say why the id is not a target: `{FORM}`"),
            );
            *reason = Reason::Malformed;
        } else if matches!(reason, Reason::Given(_)) {
            cx.error(
                &meta.path,
                "duplicate `#[context]` key `reason`",
                "give one reason",
            );
        } else {
            *reason = Reason::Given(lit);
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
        *reason = Reason::Malformed;
    }
}

fn field_role(cx: &Ctxt, attrs: &[Attribute], reason: &mut Reason) -> Role {
    let mut found: Vec<(&Attribute, Role)> = Vec::new();
    for attr in attrs {
        let Some(&(name, role)) = FIELD_ATTRIBUTES
            .iter()
            .find(|(name, _)| attr.path().is_ident(name))
        else {
            continue;
        };
        if role == Role::Context {
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                context_reason(cx, attr, reason);
            }
        } else if !matches!(attr.meta, syn::Meta::Path(_)) {
            cx.error(
                attr,
                format!("`#[{name}]` takes no arguments"),
                format!("write `#[{name}]` alone on the field"),
            );
        }
        if found.iter().any(|(_, seen)| *seen == role) {
            cx.error(
                attr,
                format!("duplicate `#[{name}]` attribute"),
                format!("write `#[{name}]` once"),
            );
            continue;
        }
        found.push((attr, role));
    }
    match found.as_slice() {
        [] => Role::Unannotated,
        [(_, role)] => *role,
        [.., (second, _)] => {
            if found.iter().any(|(_, role)| *role == Role::Plain) {
                cx.error(
                    second,
                    "conflicting attributes: `#[plain]` says the field holds no object id, so it cannot also be \
                     `#[target]` or `#[context]`",
                    "keep `#[target]` or `#[context]` if the field holds object ids, `#[plain]` only if it holds none",
                );
            } else {
                cx.error(
                    second,
                    "conflicting attributes: a field is either `#[target]` or `#[context]`, not both",
                    "keep `#[target]` if the operation acts on this object, `#[context]` if it only says where it runs",
                );
            }
            Role::Conflict
        }
    }
}
