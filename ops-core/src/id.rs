//! Typed object ids, the sealed [`Target`] trait and the untyped [`ObjectRef`].
//!
//! Every id is a newtype over [`Uuid`] that serialises as the dashed string. The newtypes exist so that the
//! type checker, not a reviewer, knows which fields name which kind of object: only ids of targetable kinds
//! implement [`Target`], and [`NodeId`] deliberately does not.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The dashed uuid form the ids read from JSON and write, in either case, as a JSON Schema pattern: what
/// the schemas' `format: uuid` means, for validators that do not check formats.
const UUID_PATTERN: &str =
    "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";

/// `text` as a uuid if it is in the dashed 8-4-4-4-12 form.
fn parse_dashed(text: &str) -> Result<Uuid, String> {
    let dashed = text.len() == 36
        && text
            .char_indices()
            .all(|(at, c)| matches!(at, 8 | 13 | 18 | 23) == (c == '-'));
    match dashed.then(|| Uuid::try_parse(text)) {
        Some(Ok(uuid)) => Ok(uuid),
        _ => Err(format!(
            "`{text}` is not a uuid in the dashed form (8-4-4-4-12 hex digits)"
        )),
    }
}
use uuid::Uuid;

use crate::ObjectType;

mod sealed {
    pub trait Sealed {}
}

/// An id of some kind of object: its [`ObjectType`] and its uuid.
///
/// Implemented by every typed id in this module, targets and context alike.
pub trait ObjectId: Copy + sealed::Sealed {
    /// The kind of object this id names.
    const OBJECT_TYPE: ObjectType;

    /// The raw uuid.
    fn uuid(&self) -> Uuid;

    /// The untyped reference used by queries and storage.
    fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            object_type: Self::OBJECT_TYPE,
            uuid: self.uuid(),
        }
    }
}

/// An id of an object that a cluster operation may target.
///
/// Sealed: only the typed ids of ops-core implement it, so a target type is always one the store and the
/// gate know. [`NodeId`] does not implement it: a node is where an op runs, never what it acts on.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a cluster-operation target",
    label = "not a typed target id",
    note = "targets are InstanceId, NetworkId, ArtifactId, BlobId, InterfaceId or AgentOperationId",
    note = "a node is execution context, never a target; use #[context] for NodeId"
)]
pub trait Target: ObjectId {}

/// Declares a newtype over [`Uuid`]: constructors, conversions, parsing, and the dashed display form.
macro_rules! uuid_newtype {
    ($(#[$doc:meta])* $name:ident $(, $object_type:ident)?) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        /// Only the dashed form (either case), as the JSON Schemas publish it, so that a body an API
        /// consumer's validator refuses is refused here too. `FromStr` reads every form, for operators.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                parse_dashed(&text).map(Self).map_err(serde::de::Error::custom)
            }
        }

        impl $name {
            /// Wraps an existing uuid.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// A fresh random (v4) id.
            pub fn new_v4() -> Self {
                Self(Uuid::new_v4())
            }

            /// The raw uuid.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }

        /// A dashed uuid string, inlined so every schema reads `{"type": "string", "format": "uuid",
        /// "pattern": ...}` (the pattern for validators that do not check formats); a typed object id adds
        /// `"x-object-type"` (`"network"`, ...), so API consumers and tools reading the schema know which kind
        /// of object each uuid names.
        impl schemars::JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                #[allow(unused_mut)]
                let mut schema = schemars::json_schema!({
                    "type": "string",
                    "format": "uuid",
                    "pattern": UUID_PATTERN,
                });
                $(schema.insert("x-object-type".to_owned(), ObjectType::$object_type.as_str().into());)?
                schema
            }
        }
    };
}

/// Declares one typed object id: a [`uuid_newtype!`] that knows its [`ObjectType`], optionally a [`Target`].
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $object_type:ident $(, $target:ident)?) => {
        uuid_newtype!($(#[$doc])* $name, $object_type);

        impl sealed::Sealed for $name {}

        impl ObjectId for $name {
            const OBJECT_TYPE: ObjectType = ObjectType::$object_type;

            fn uuid(&self) -> Uuid {
                self.0
            }
        }

        $(impl $target for $name {})?

        impl From<$name> for ObjectRef {
            fn from(id: $name) -> ObjectRef {
                id.object_ref()
            }
        }
    };
}

typed_id!(
    /// The id of an instance (virtual machine).
    InstanceId, Instance, Target
);
typed_id!(
    /// The id of a network.
    NetworkId, Network, Target
);
typed_id!(
    /// The id of an artifact.
    ArtifactId, Artifact, Target
);
typed_id!(
    /// The id of a blob.
    BlobId, Blob, Target
);
typed_id!(
    /// The id of a network interface.
    InterfaceId, Interface, Target
);
typed_id!(
    /// The id of an agent operation.
    AgentOperationId, AgentOperation, Target
);
typed_id!(
    /// The id of a node. Execution context: deliberately **not** a [`Target`].
    NodeId, Node
);

uuid_newtype!(
    /// The id of a cluster operation.
    ///
    /// Its [`ObjectType`] is the operation's type (`net_op`, ...), which the id alone does not know, so it is
    /// not an [`ObjectId`].
    OpId
);

/// An untyped reference to an object: its type and uuid.
///
/// This is what the store reads and writes. Typed code builds it from an id (`ObjectRef::from(network_id)`);
/// code that gets the type at run time (a CLI, an API) uses [`ObjectRef::target`], which accepts only
/// targetable types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The kind of object.
    pub object_type: ObjectType,
    /// Its uuid.
    pub uuid: Uuid,
}

impl ObjectRef {
    /// A reference to an object that operations may target; any other type is an error, so a typo such as
    /// `node` for a network cannot silently query nothing.
    pub fn target(object_type: ObjectType, uuid: Uuid) -> Result<ObjectRef, NotATargetType> {
        if object_type.is_target() {
            Ok(ObjectRef { object_type, uuid })
        } else {
            Err(NotATargetType(object_type))
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.object_type, self.uuid.hyphenated())
    }
}

/// An object type that cluster operations never target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` objects are never cluster-operation targets; expected one of: {list}", list = target_type_list())]
pub struct NotATargetType(pub ObjectType);

fn target_type_list() -> String {
    ObjectType::TARGETS
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "5a3bd8c4-1e1f-4c55-9d3b-7d0f1c2b8a11";

    #[test]
    fn ids_serialise_as_the_dashed_string() {
        let id: NetworkId = RAW.parse().unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{RAW}\""));
        assert_eq!(
            serde_json::from_str::<NetworkId>(&format!("\"{RAW}\"")).unwrap(),
            id
        );
        assert_eq!(id.to_string(), RAW);
        let op: OpId = RAW.parse().unwrap();
        assert_eq!(serde_json::to_string(&op).unwrap(), format!("\"{RAW}\""));
    }

    #[test]
    fn an_operator_may_type_an_undashed_id_and_it_is_written_dashed() {
        let id: InstanceId = RAW.replace('-', "").parse().unwrap();
        assert_eq!(id.to_string(), RAW);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{RAW}\""));
    }

    #[test]
    fn json_reads_the_dashed_form_only_as_the_schemas_say() {
        let id: BlobId = serde_json::from_str(&format!("\"{}\"", RAW.to_uppercase())).unwrap();
        assert_eq!(id.to_string(), RAW);
        for other in [
            RAW.replace('-', ""),
            format!("{{{RAW}}}"),
            format!("urn:uuid:{RAW}"),
        ] {
            let error = serde_json::from_str::<BlobId>(&format!("\"{other}\"")).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("is not a uuid in the dashed form"),
                "{other}: {error}"
            );
        }
    }

    #[test]
    fn malformed_ids_are_rejected() {
        assert!("not-a-uuid".parse::<NodeId>().is_err());
        assert!(serde_json::from_str::<ArtifactId>("\"12345\"").is_err());
        assert!(serde_json::from_str::<ArtifactId>("42").is_err());
    }

    #[test]
    fn each_id_knows_its_object_type() {
        let uuid = Uuid::parse_str(RAW).unwrap();
        assert_eq!(
            InstanceId::from(uuid).object_ref().object_type,
            ObjectType::Instance
        );
        assert_eq!(
            NetworkId::from(uuid).object_ref().object_type,
            ObjectType::Network
        );
        assert_eq!(
            ArtifactId::from(uuid).object_ref().object_type,
            ObjectType::Artifact
        );
        assert_eq!(
            BlobId::from(uuid).object_ref().object_type,
            ObjectType::Blob
        );
        assert_eq!(
            InterfaceId::from(uuid).object_ref().object_type,
            ObjectType::Interface
        );
        assert_eq!(
            AgentOperationId::from(uuid).object_ref().object_type,
            ObjectType::AgentOperation
        );
        assert_eq!(
            NodeId::from(uuid).object_ref().object_type,
            ObjectType::Node
        );
        assert_eq!(ObjectRef::from(InstanceId::from(uuid)).uuid, uuid);
    }

    #[test]
    fn runtime_refs_accept_only_target_types() {
        let uuid = Uuid::parse_str(RAW).unwrap();
        assert!(ObjectRef::target(ObjectType::Network, uuid).is_ok());
        let err = ObjectRef::target(ObjectType::Node, uuid).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`node` objects are never cluster-operation targets; expected one of: \
             instance, network, artifact, blob, interface, agentoperation"
        );
    }

    #[test]
    fn ids_have_the_uuid_json_schema() {
        let schema = schemars::schema_for!(NetworkId);
        assert_eq!(schema.get("type"), Some(&serde_json::json!("string")));
        assert_eq!(schema.get("format"), Some(&serde_json::json!("uuid")));
    }

    #[test]
    fn object_refs_serialise_with_type_and_uuid() {
        let r = ObjectRef::from(NetworkId::from(Uuid::parse_str(RAW).unwrap()));
        assert_eq!(
            serde_json::to_value(r).unwrap(),
            serde_json::json!({"object_type": "network", "uuid": RAW})
        );
        assert_eq!(r.to_string(), format!("network {RAW}"));
    }
}
