//! External views: what Shaken Fist's API shows of an object, in the same shape, so existing consumers
//! keep working.
//!
//! Instances, networks and artifacts carry `last_cluster_operation` — `{"op_type", "op_uuid"}` of the
//! newest target row for the object, **whatever the op's state**, or `null` (decision 1 of the plan: the
//! external meaning is unchanged, only its source moved from the single pointer to the targets table).
//! Blobs, interfaces and nodes never had it and do not get it.

use serde::Serialize;
use uuid::Uuid;

use crate::{
    InstanceId, NetworkId, NodeId, ObjectDetails, ObjectRecord, ObjectRef, ObjectState, ObjectType,
    OpRef, Store, StoreError,
};

/// An object's external view, by type; serialises to the view's JSON object.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ExternalView {
    /// An instance's.
    Instance(InstanceView),
    /// A network's.
    Network(NetworkView),
    /// An artifact's.
    Artifact(ArtifactView),
    /// A blob's.
    Blob(BlobView),
    /// An interface's.
    Interface(InterfaceView),
    /// A node's.
    Node(NodeView),
}

/// An instance's external view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceView {
    /// Its id.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its state.
    pub state: Option<ObjectState>,
    /// The hypervisor it is placed on.
    pub node: Option<NodeId>,
    /// Why it is in `error`; `null` otherwise.
    pub error_message: Option<String>,
    /// The newest op that targeted it, in any state.
    pub last_cluster_operation: Option<OpRef>,
}

/// A network's external view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkView {
    /// Its id.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its state.
    pub state: Option<ObjectState>,
    /// Its VXLAN id.
    pub vxlan_id: Option<u32>,
    /// dnsmasq serves DHCP for it.
    pub provide_dhcp: bool,
    /// dnsmasq serves DNS for it.
    pub provide_dns: bool,
    /// Why it is in `error`; `null` otherwise.
    pub error_message: Option<String>,
    /// The newest op that targeted it, in any state.
    pub last_cluster_operation: Option<OpRef>,
}

/// An artifact's external view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArtifactView {
    /// Its id.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its state.
    pub state: Option<ObjectState>,
    /// The newest op that targeted it, in any state.
    pub last_cluster_operation: Option<OpRef>,
}

/// A blob's external view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlobView {
    /// Its id.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its state.
    pub state: Option<ObjectState>,
}

/// An interface's external view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InterfaceView {
    /// Its id.
    pub uuid: Uuid,
    /// Its device name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its state.
    pub state: Option<ObjectState>,
    /// The instance it belongs to.
    pub instance_uuid: Option<InstanceId>,
    /// The network it joins.
    pub network_uuid: Option<NetworkId>,
}

/// A node's external view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeView {
    /// Its id.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: Option<ObjectState>,
}

impl Store {
    /// The external view of `object`; `None` when it is not registered, or of a type with no view.
    pub async fn external_view(
        &self,
        object: ObjectRef,
    ) -> Result<Option<ExternalView>, StoreError> {
        let Some(record) = self.object(object).await? else {
            return Ok(None);
        };
        let last_cluster_operation = match object.object_type {
            ObjectType::Instance | ObjectType::Network | ObjectType::Artifact => {
                self.latest(object).await?
            }
            _ => None,
        };
        Ok(view(record, last_cluster_operation))
    }
}

fn view(record: ObjectRecord, last_cluster_operation: Option<OpRef>) -> Option<ExternalView> {
    let error_message = match record.state {
        Some(ObjectState::Error) => record.state_message.clone(),
        _ => None,
    };
    let ObjectRecord {
        object,
        name,
        namespace,
        state,
        details,
        ..
    } = record;
    let uuid = object.uuid;
    Some(match (object.object_type, details) {
        (ObjectType::Instance, ObjectDetails::Instance { node }) => {
            ExternalView::Instance(InstanceView {
                uuid,
                name,
                namespace,
                state,
                node,
                error_message,
                last_cluster_operation,
            })
        }
        (
            ObjectType::Network,
            ObjectDetails::Network {
                vxid,
                provide_dhcp,
                provide_dns,
            },
        ) => ExternalView::Network(NetworkView {
            uuid,
            name,
            namespace,
            state,
            vxlan_id: vxid,
            provide_dhcp,
            provide_dns,
            error_message,
            last_cluster_operation,
        }),
        (ObjectType::Artifact, _) => ExternalView::Artifact(ArtifactView {
            uuid,
            name,
            namespace,
            state,
            last_cluster_operation,
        }),
        (ObjectType::Blob, _) => ExternalView::Blob(BlobView {
            uuid,
            name,
            namespace,
            state,
        }),
        (ObjectType::Interface, ObjectDetails::Interface { instance, network }) => {
            ExternalView::Interface(InterfaceView {
                uuid,
                name,
                namespace,
                state,
                instance_uuid: instance,
                network_uuid: network,
            })
        }
        (ObjectType::Node, _) => ExternalView::Node(NodeView { uuid, name, state }),
        _ => return None,
    })
}
