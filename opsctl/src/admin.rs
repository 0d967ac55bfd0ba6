//! `opsctl namespace`, `opsctl key` and `opsctl object`: what an administrator sets up before the API
//! server lets anyone in, and the objects its callers ask about.

use ops_core::{
    ArtifactId, BlobId, InstanceId, InterfaceId, NetworkId, NewObject, NodeId, ObjectType, Store,
    StoreError,
};
use serde_json::json;

use crate::CliError;
use crate::cli::{KeyCommand, NamespaceCommand, ObjectCommand, ObjectCreateArgs};
use crate::output::outln;

/// Runs an `opsctl namespace` command.
pub(crate) async fn namespace(
    store: &Store,
    command: NamespaceCommand,
    json: bool,
) -> Result<(), CliError> {
    match command {
        NamespaceCommand::Create { name } => {
            store.create_namespace(&name).await?;
            if json {
                outln!("{}", json!({"namespace": name}));
            } else {
                outln!("namespace {name} created");
            }
        }
        NamespaceCommand::List => {
            let names = store.namespaces().await?;
            if json {
                outln!("{}", json!({"namespaces": names}));
            } else {
                for name in names {
                    outln!("{name}");
                }
            }
        }
    }
    Ok(())
}

/// Runs an `opsctl key` command. A new key is printed alone on standard output (`--json`: with its
/// namespace and name), so that a script can keep it: it is never shown again.
pub(crate) async fn key(store: &Store, command: KeyCommand, json: bool) -> Result<(), CliError> {
    match command {
        KeyCommand::Create {
            namespace,
            key_name,
            replace,
        } => {
            // The names are checked before bcrypt spends a fifth of a second on the hash.
            ops_core::NamespaceKey::check_name("namespace", &namespace)?;
            ops_core::NamespaceKey::check_name("key name", &key_name)?;
            let issued = ops_server::keys::issue(&namespace, &key_name)
                .map_err(|e| CliError::Failed(ops_core::ErrorChain(&e).to_string()))?;
            if replace {
                store.replace_namespace_key(&issued.stored).await?;
            } else {
                store.add_namespace_key(&issued.stored).await?;
            }
            if json {
                outln!(
                    "{}",
                    json!({"namespace": namespace, "key_name": key_name, "key": issued.key})
                );
            } else {
                outln!("{}", issued.key);
            }
        }
        KeyCommand::Delete {
            namespace,
            key_name,
        } => {
            store.delete_namespace_key(&namespace, &key_name).await?;
            if json {
                outln!(
                    "{}",
                    json!({"namespace": namespace, "key_name": key_name, "deleted": true})
                );
            } else {
                outln!("key {key_name} of namespace {namespace} deleted");
            }
        }
        KeyCommand::List { namespace } => {
            if !store.namespace_exists(&namespace).await? {
                return Err(StoreError::NamespaceNotFound(namespace).into());
            }
            let keys = store.namespace_keys(&namespace).await?;
            if json {
                let keys: Vec<_> = keys
                    .iter()
                    .map(|key| json!({"key_name": key.key_name, "created_at": key.created_at}))
                    .collect();
                outln!("{}", json!({"namespace": namespace, "keys": keys}));
            } else {
                for key in keys {
                    outln!("{}", key.key_name);
                }
            }
        }
    }
    Ok(())
}

/// Runs an `opsctl object` command.
pub(crate) async fn object(
    store: &Store,
    command: ObjectCommand,
    json: bool,
) -> Result<(), CliError> {
    match command {
        ObjectCommand::Create(args) => {
            let new = new_object(&args)?;
            store.create_object(&new).await?;
            let object = new.object;
            if json {
                outln!(
                    "{}",
                    json!({"object_type": object.object_type, "uuid": object.uuid, "namespace": new.namespace})
                );
            } else {
                outln!("{object} created in namespace {}", new.namespace);
            }
        }
    }
    Ok(())
}

/// The object `args` describe; a flag its type does not take, or a required one missing, is an error.
fn new_object(args: &ObjectCreateArgs) -> Result<NewObject, CliError> {
    const TYPES: &str = "instance, network, artifact, blob, interface or node";
    let object_type: ObjectType = args.object_type.parse().map_err(|_| {
        CliError::Input(format!(
            "unknown object type `{}`; expected {TYPES}",
            args.object_type
        ))
    })?;
    let flags = [
        ("--vxid", args.vxid.is_some(), ObjectType::Network),
        ("--node", args.node.is_some(), ObjectType::Instance),
        ("--instance", args.instance.is_some(), ObjectType::Interface),
        ("--network", args.network.is_some(), ObjectType::Interface),
    ];
    if let Some((flag, _, owner)) = flags
        .iter()
        .find(|(_, given, owner)| *given && *owner != object_type)
    {
        return Err(CliError::Input(format!(
            "{flag} is for {owner}s only, not {object_type}s"
        )));
    }
    let missing = |flag: &str| CliError::Input(format!("{object_type}s need {flag}"));
    let uuid = args.uuid.unwrap_or_else(uuid::Uuid::new_v4);
    let (name, namespace) = (args.name.as_str(), args.namespace.as_str());
    Ok(match object_type {
        ObjectType::Instance => NewObject::instance(
            InstanceId::from(uuid),
            name,
            namespace,
            args.node.map(NodeId::from),
        ),
        ObjectType::Network => NewObject::network(
            NetworkId::from(uuid),
            name,
            namespace,
            args.vxid.ok_or_else(|| missing("--vxid"))?,
        ),
        ObjectType::Artifact => NewObject::artifact(ArtifactId::from(uuid), name, namespace),
        ObjectType::Blob => NewObject::blob(BlobId::from(uuid), name, namespace),
        ObjectType::Interface => NewObject::interface(
            InterfaceId::from(uuid),
            name,
            namespace,
            InstanceId::from(args.instance.ok_or_else(|| missing("--instance"))?),
            NetworkId::from(args.network.ok_or_else(|| missing("--network"))?),
        ),
        ObjectType::Node if args.namespace == ops_core::SYSTEM_NAMESPACE => {
            NewObject::node(NodeId::from(uuid), name)
        }
        ObjectType::Node => {
            return Err(CliError::Input(
                "nodes are always in namespace system".to_owned(),
            ));
        }
        other => {
            return Err(CliError::Input(format!(
                "opsctl does not register {other}s; expected {TYPES}"
            )));
        }
    })
}
