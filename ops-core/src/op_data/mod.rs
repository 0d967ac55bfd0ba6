//! [`OpData`]: the proof that a type holds no object id its operation did not declare.
//!
//! The derive's forgotten-target check is **deny by default**, as zerocopy's and bytemuck's derives prove
//! their properties: a bound per field, never a list of offenders. A field of an operation with neither
//! `#[target]` nor `#[context]` compiles only when its type implements [`OpData`], and
//!
//! - plain std types (numbers, `bool`, `char`, strings, durations, times, addresses, paths), `uuid::Uuid`
//!   (an untyped uuid names no object), raw JSON (`serde_json::Value`: an id written into it has lost its type,
//!   as it has in a `String`), `url::Url` (feature `url`) and ops-core's own plain types implement it;
//! - every std container, pointer, map (key and value), tuple, array and slice implements it exactly when
//!   what it holds does;
//! - a user's own struct or enum implements it through `#[derive(OpData)]`, which applies the same rule to
//!   its own fields: their ids must be marked `#[context]` (with a reason for a targetable kind);
//! - the typed ids ([`NetworkId`](crate::NetworkId), [`NodeId`](crate::NodeId), ...) never implement it.
//!
//! So `HashSet<NetworkId>`, `Arc<NetworkId>`, `[NetworkId; 2]`, `(NetworkId, u8)`, a map with ids on either
//! side, a newtype or a nested struct that holds one, and an alias of any of them all fail to compile
//! unannotated, and a container nobody listed cannot open a hole: it is not `OpData` until someone proves it.
//!
//! The two annotated roles have structural traits of their own, hidden in `__private` because only
//! generated code names them: `ContextField` (any ids, all linked to the op's audit event as context) and
//! `TargetField` (target ids at one or more positions, the rest plain data).

mod std_impls;

use crate::{
    AgentOperationId, ArtifactId, BlobId, ContextSet, InstanceId, InterfaceId, NetworkId, NodeId,
    ObjectId, ObjectType, TargetSet,
};

/// Data that holds no object id except those its own type declares `#[context]`.
///
/// This is the bound on every field of an operation that has neither `#[target]` nor `#[context]`: the
/// compiler, not a reviewer, proves that such a field cannot hide an object the gate must know about. Derive
/// it on your own types with `#[derive(OpData)]`; the derive checks their fields by the same rule:
///
/// ```
/// use ops_core::{ArtifactId, OpData};
///
/// #[derive(OpData)]
/// struct SnapshotRequest {
///     disk: String,
///     #[context(reason = "where the snapshot is recorded; the op acts on the instance")]
///     artifact_uuid: ArtifactId,
/// }
/// ```
///
/// Implemented only by the derive and by ops-core: a hand-written impl would assert the property without
/// proof. For a foreign type that you cannot derive it on, mark the field `#[plain]`, which states the same
/// claim visibly at the field.
#[diagnostic::on_unimplemented(
    message = "forgotten target: `{Self}` may hold an object id, and this field has neither `#[target]` nor `#[context]`",
    label = "not known to hold no object id",
    note = "help: add `#[target]` if the operation acts on these objects, `#[context]` if they only say where or \
            with what it works, or `#[derive(OpData)]` on a type of your own that holds none"
)]
pub trait OpData {
    /// Adds the ids this value holds in `#[context]` fields, at any depth, to `out`; plain data adds none.
    #[doc(hidden)]
    fn add_context_ids(&self, out: &mut ContextSet);

    /// A hand-written impl fails without this, and its name says why: the trait is a promise the derive
    /// checks, field by field (zerocopy's convention).
    #[doc(hidden)]
    fn only_derive_is_allowed_to_implement_this_trait();
}

/// What a `#[context]` field may hold: object ids of any kind, plain data, and containers of them; every id
/// found is linked to the op's audit event as context.
#[diagnostic::on_unimplemented(
    message = "`#[context]` field of type `{Self}`: the derive cannot see which object ids it holds",
    label = "neither an object id nor `OpData`",
    note = "help: `#[derive(OpData)]` on your type, marking its id fields `#[context]`"
)]
pub trait ContextField {
    /// `Yes` when an id of a targetable kind occurs at any position (ids inside a type deriving `OpData`
    /// are not counted: that type's own derive checked them). A `#[context]` field holding one must give a
    /// reason, so that context is never a silent way out of `#[target]`.
    type Targetable: Holds;

    /// Adds every id held to `out`.
    fn add_context(&self, out: &mut ContextSet);
}

/// The bound on a `#[context]` field without a reason: its type holds no targetable id (`T::Targetable` is
/// `No`, the only implementor).
#[diagnostic::on_unimplemented(
    message = "`#[context]` field of type `{T}` holds a targetable object id: say why it is not a target",
    label = "a targetable id marked context without a reason",
    note = "help: `#[target]` if the operation acts on it; otherwise `#[context(reason = \"...\")]`, which the \
            op's schema carries"
)]
pub trait ReasonlessContext<T: ?Sized> {}

#[diagnostic::do_not_recommend]
impl<T: ?Sized> ReasonlessContext<T> for No {}

/// What a `#[context]` field without a reason may hold: a [`ContextField`] with no targetable id
/// ([`ReasonlessContext`]). Generated code walks such a field through it, so that a type that is not even a
/// `ContextField` gets that one error (this message, rustc reporting the root), and one holding a
/// targetable id gets the reason error.
#[diagnostic::on_unimplemented(
    message = "`#[context]` field of type `{Self}`: the derive cannot see which object ids it holds",
    label = "neither an object id nor `OpData`",
    note = "help: `#[derive(OpData)]` on your type, marking its id fields `#[context]`"
)]
pub trait ReasonlessContextField {
    /// Adds every id held to `out`.
    fn add_context(&self, out: &mut ContextSet);
}

impl<T> ReasonlessContextField for T
where
    T: ContextField + ?Sized,
    T::Targetable: ReasonlessContext<T>,
{
    fn add_context(&self, out: &mut ContextSet) {
        ContextField::add_context(self, out);
    }
}

/// Type-level booleans for [`TargetPart::HoldsTarget`], so that a tuple or a map holds targets when any of
/// its parts does.
pub trait Holds {
    /// `Yes` when either side holds a target.
    type Or<B: Holds>: Holds;
}

/// Holds at least one target id.
pub enum Yes {}

/// Holds no target id.
pub enum No {}

impl Holds for Yes {
    type Or<B: Holds> = Yes;
}

impl Holds for No {
    type Or<B: Holds> = B;
}

/// Which kinds of target ids a [`TargetPart`] holds, known at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKinds {
    /// No target id: plain data.
    Nothing,
    /// Ids of this kind only.
    One(ObjectType),
    /// Ids of more than one kind, the first of which is given; the derive refuses such a field.
    Mixed(ObjectType),
}

impl TargetKinds {
    /// The kinds held by a composite of two parts.
    pub const fn and(self, other: TargetKinds) -> TargetKinds {
        use TargetKinds::{Mixed, Nothing, One};
        match (self, other) {
            (Nothing, kinds) | (kinds, Nothing) => kinds,
            (One(a), One(b)) if a as u32 == b as u32 => One(a),
            (One(first) | Mixed(first), _) => Mixed(first),
        }
    }
}

/// One part of a `#[target]` field: a target id, plain data, or a container of parts.
pub trait TargetPart {
    /// Whether a target id occurs at any position.
    type HoldsTarget: Holds;
    /// The kinds of the target ids held.
    const KINDS: TargetKinds;

    /// Adds every target id held to `out`.
    fn add_targets(&self, out: &mut TargetSet);
}

/// What a `#[target]` field may hold: target ids of one kind, alone or at any position of a container, map
/// or tuple whose other parts are plain data.
#[diagnostic::on_unimplemented(
    message = "`#[target]` field of type `{Self}`: a target must be a typed object id",
    label = "not a typed target id",
    note = "a target is an InstanceId, NetworkId, ArtifactId, BlobId, InterfaceId or AgentOperationId, alone or \
            in a std container, map or tuple; a node is execution context, never a target",
    note = "help: use a typed id (`#[target] instance_uuid: InstanceId`); mark a `NodeId` or plain data \
            `#[context]`"
)]
pub trait TargetField {
    /// The kinds of target ids held: the derive refuses `Mixed`, so every target field names one kind.
    const KINDS: TargetKinds;
    /// The kind of object the field's ids name, for the op's `TARGET_FIELDS`.
    const OBJECT_TYPE: ObjectType;

    /// Adds every target id held to `out`.
    fn add_targets(&self, out: &mut TargetSet);
}

#[diagnostic::do_not_recommend]
impl<T: TargetPart<HoldsTarget = Yes> + ?Sized> TargetField for T {
    const KINDS: TargetKinds = T::KINDS;
    const OBJECT_TYPE: ObjectType = match T::KINDS {
        TargetKinds::One(object_type) | TargetKinds::Mixed(object_type) => object_type,
        TargetKinds::Nothing => {
            panic!("ops-core bug: a TargetPart holds a target but names no object type")
        }
    };

    fn add_targets(&self, out: &mut TargetSet) {
        TargetPart::add_targets(self, out);
    }
}

/// Target ids are target parts and context; they are never [`OpData`].
macro_rules! target_ids {
    ($($id:ident),*) => {
        $(
            #[diagnostic::do_not_recommend]
            impl TargetPart for $id {
                type HoldsTarget = Yes;
                const KINDS: TargetKinds = TargetKinds::One(<$id as ObjectId>::OBJECT_TYPE);

                fn add_targets(&self, out: &mut TargetSet) {
                    out.insert(*self);
                }
            }

            #[diagnostic::do_not_recommend]
            impl ContextField for $id {
                type Targetable = Yes;

                fn add_context(&self, out: &mut ContextSet) {
                    out.insert(*self);
                }
            }
        )*
    };
}
target_ids!(
    InstanceId,
    NetworkId,
    ArtifactId,
    BlobId,
    InterfaceId,
    AgentOperationId
);

/// A node is context only: no [`TargetPart`], so `#[target]` on a node does not compile.
#[diagnostic::do_not_recommend]
impl ContextField for NodeId {
    type Targetable = No;

    fn add_context(&self, out: &mut ContextSet) {
        out.insert(*self);
    }
}
