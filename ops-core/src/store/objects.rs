//! Registering objects, moving their states, and reading them back: the registry tables (`networks`,
//! `instances`, ...) joined with `object_states`.

use serde_json::json;
use uuid::Uuid;

use super::dialect::sql;
use super::retry::{retried, with_retry};
use super::steps::{OpEvent, Steps};
use super::{Store, now, with_backend};
use crate::{
    InstanceId, Network, NetworkId, NewObject, NodeId, ObjectDetails, ObjectRecord, ObjectRef,
    ObjectState, ObjectType, StoreError,
};

/// How [`Store::select_objects`] finds objects.
#[derive(Clone, Copy)]
enum Lookup<'a> {
    /// By id.
    Uuid(Uuid),
    /// By name, in one namespace or in all.
    Name {
        name: &'a str,
        namespace: Option<&'a str>,
    },
}

/// The registry table of an object type; `None` for types the store keeps no registry of.
fn registry_table(object_type: ObjectType) -> Option<&'static str> {
    Some(match object_type {
        ObjectType::Instance => "instances",
        ObjectType::Network => "networks",
        ObjectType::Artifact => "artifacts",
        ObjectType::Blob => "blobs",
        ObjectType::Interface => "network_interfaces",
        ObjectType::Node => "nodes",
        ObjectType::AgentOperation => "agent_operations",
        _ => return None,
    })
}

/// The columns every object read gives, named as [`RawObject`]'s fields; `r` is the registry row and `s`
/// its state row. The registry tables without a column of [`RawObject`] give NULL for it.
macro_rules! object_columns {
    () => {
        "r.uuid, r.name, r.namespace, r.created_at, s.state_value AS state, s.update_time AS state_updated, \
         s.message AS state_message"
    };
}

/// A network read with its state: `object_columns!()` and the network's own.
macro_rules! network_select {
    () => {
        concat!(
            "SELECT ",
            object_columns!(),
            ", r.vxid, r.provide_dhcp, r.provide_dns FROM networks r \
             LEFT JOIN object_states s ON s.object_type = 'network' AND s.object_uuid = r.uuid"
        )
    };
}

/// The object states a maintainer looks at a network in (Shaken Fist's `ACTIVE_STATES`), as SQL.
macro_rules! active_sql {
    () => {
        "('initial', 'creating', 'created', 'error', 'delete-wait')"
    };
}

#[derive(sqlx::FromRow)]
struct RawObject {
    uuid: String,
    name: String,
    namespace: String,
    created_at: f64,
    state: Option<String>,
    state_updated: Option<f64>,
    state_message: Option<String>,
    #[sqlx(default)]
    vxid: Option<i64>,
    #[sqlx(default)]
    provide_dhcp: Option<bool>,
    #[sqlx(default)]
    provide_dns: Option<bool>,
    #[sqlx(default)]
    node_uuid: Option<String>,
    #[sqlx(default)]
    instance_uuid: Option<String>,
    #[sqlx(default)]
    network_uuid: Option<String>,
}

impl RawObject {
    fn into_record(self, object_type: ObjectType) -> Result<ObjectRecord, StoreError> {
        let uuid = parse_uuid("uuid", &self.uuid)?;
        let state = self.state.as_deref().map(parse_object_state).transpose()?;
        let optional = |column: &'static str, value: Option<String>| {
            value
                .as_deref()
                .map(|value| parse_uuid(column, value))
                .transpose()
        };
        let details = match object_type {
            ObjectType::Network => ObjectDetails::Network {
                vxid: self
                    .vxid
                    .map(|vxid| {
                        u32::try_from(vxid).map_err(|_| StoreError::CorruptRow {
                            table: "networks",
                            column: "vxid",
                            value: vxid.to_string(),
                        })
                    })
                    .transpose()?,
                provide_dhcp: self.provide_dhcp.unwrap_or(false),
                provide_dns: self.provide_dns.unwrap_or(false),
            },
            ObjectType::Instance => ObjectDetails::Instance {
                node: optional("node_uuid", self.node_uuid)?.map(NodeId::from),
            },
            ObjectType::Interface => ObjectDetails::Interface {
                instance: optional("instance_uuid", self.instance_uuid)?.map(InstanceId::from),
                network: optional("network_uuid", self.network_uuid)?.map(NetworkId::from),
            },
            _ => ObjectDetails::None,
        };
        Ok(ObjectRecord {
            object: ObjectRef { object_type, uuid },
            name: self.name,
            namespace: self.namespace,
            created_at: self.created_at,
            state,
            state_updated: self.state_updated,
            state_message: self.state_message,
            details,
        })
    }
}

fn parse_uuid(column: &'static str, value: &str) -> Result<Uuid, StoreError> {
    value.parse().map_err(|_| StoreError::CorruptRow {
        table: "objects",
        column,
        value: value.to_owned(),
    })
}

fn parse_object_state(value: &str) -> Result<ObjectState, StoreError> {
    value.parse().map_err(|_| StoreError::CorruptRow {
        table: "object_states",
        column: "state_value",
        value: value.to_owned(),
    })
}

impl Store {
    /// Registers an object: its registry row and its first state (`initial`; `created` for a node), with a
    /// `mutate` event, in one transaction. An object that exists already is an error, and nothing is written.
    pub async fn create_object(&self, new: &NewObject) -> Result<(), StoreError> {
        let object = new.object;
        let Some(table) = registry_table(object.object_type) else {
            return Err(StoreError::InvalidObject {
                object,
                reason: "the store keeps no registry of this type".to_owned(),
            });
        };
        let matches = matches!(
            (&new.details, object.object_type),
            (ObjectDetails::Network { .. }, ObjectType::Network)
                | (ObjectDetails::Instance { .. }, ObjectType::Instance)
                | (ObjectDetails::Interface { .. }, ObjectType::Interface)
                | (
                    ObjectDetails::None,
                    ObjectType::Artifact
                        | ObjectType::Blob
                        | ObjectType::Node
                        | ObjectType::AgentOperation
                )
        );
        if !matches {
            return Err(StoreError::InvalidObject {
                object,
                reason: format!("its details are not a {}'s", object.object_type),
            });
        }
        let uuid = object.uuid.hyphenated().to_string();
        let (uuid, first) = (uuid.as_str(), ObjectState::first(object.object_type));
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let at = now();
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    let exists = sqlx::query(sql!(
                        dialect,
                        "SELECT 1 FROM object_states WHERE object_type = ? AND object_uuid = ?"
                    ))
                    .bind(object.object_type.as_str())
                    .bind(uuid)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if exists.is_some() {
                        return Ok(Err(StoreError::ObjectExists(object)));
                    }
                    let (name, namespace) = (new.name.as_str(), new.namespace.as_str());
                    let inserted = match &new.details {
                        ObjectDetails::Network { vxid, provide_dhcp, provide_dns } => sqlx::query(sql!(
                            dialect,
                            "INSERT INTO networks (uuid, name, namespace, created_at, vxid, provide_dhcp, provide_dns) \
                             VALUES (?, ?, ?, ?, ?, ?, ?)"
                        ))
                        .bind(uuid)
                        .bind(name)
                        .bind(namespace)
                        .bind(at)
                        .bind(vxid.map(i64::from))
                        .bind(*provide_dhcp)
                        .bind(*provide_dns)
                        .execute(&mut *tx)
                        .await,
                        ObjectDetails::Instance { node } => sqlx::query(sql!(
                            dialect,
                            "INSERT INTO instances (uuid, name, namespace, created_at, node_uuid) VALUES (?, ?, ?, ?, ?)"
                        ))
                        .bind(uuid)
                        .bind(name)
                        .bind(namespace)
                        .bind(at)
                        .bind(node.map(|node| node.to_string()))
                        .execute(&mut *tx)
                        .await,
                        ObjectDetails::Interface { instance, network } => sqlx::query(sql!(
                            dialect,
                            "INSERT INTO network_interfaces (uuid, name, namespace, created_at, instance_uuid, network_uuid) \
                             VALUES (?, ?, ?, ?, ?, ?)"
                        ))
                        .bind(uuid)
                        .bind(name)
                        .bind(namespace)
                        .bind(at)
                        .bind(instance.map(|id| id.to_string()))
                        .bind(network.map(|id| id.to_string()))
                        .execute(&mut *tx)
                        .await,
                        ObjectDetails::None => {
                            let mut insert = sqlx::QueryBuilder::new(format!(
                                "INSERT INTO {table} (uuid, name, namespace, created_at) VALUES ("
                            ));
                            let mut values = insert.separated(", ");
                            values.push_bind(uuid).push_bind(name).push_bind(namespace).push_bind(at);
                            insert.push(")");
                            insert.build().execute(&mut *tx).await
                        }
                    };
                    match inserted {
                        Ok(_) => {}
                        Err(error) if error.as_database_error().is_some_and(|e| e.is_unique_violation()) => {
                            let reason = match &new.details {
                                ObjectDetails::Network { vxid: Some(vxid), .. } => {
                                    format!("its registry row, or VXLAN id {vxid}, is taken")
                                }
                                _ => "its registry row exists".to_owned(),
                            };
                            return Ok(Err(StoreError::InvalidObject { object, reason }));
                        }
                        Err(error) => return Err(error),
                    }
                    sqlx::query(sql!(
                        dialect,
                        "INSERT INTO object_states (object_type, object_uuid, state_value, update_time, message) \
                         VALUES (?, ?, ?, ?, NULL)"
                    ))
                    .bind(object.object_type.as_str())
                    .bind(uuid)
                    .bind(first.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                    let extra = json!({"attribute": "state", "value": first, "update_time": at});
                    let event = OpEvent { event_type: "mutate", message: "set attribute", extra, timestamp: at };
                    tx.record_object_event(dialect, self.host_name(), object, event).await?;
                    tx.commit().await?;
                    Ok(Ok(()))
                })
                .await
            }
        });
        retried(outcome, || format!("registering {object}"))
    }

    /// Moves an object to `to`, checked against its type's state machine, with an optional message (an
    /// error's reason) and a `mutate` event; returns the state it left. Setting the current state again
    /// changes nothing.
    pub async fn set_object_state(
        &self,
        object: ObjectRef,
        to: ObjectState,
        message: Option<&str>,
    ) -> Result<ObjectState, StoreError> {
        let uuid = object.uuid.hyphenated().to_string();
        let uuid = uuid.as_str();
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let at = now();
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    let select = match dialect {
                        super::Dialect::Sqlite => sql!(
                            dialect,
                            "SELECT state_value FROM object_states WHERE object_type = ? AND object_uuid = ?"
                        ),
                        super::Dialect::MariaDb | super::Dialect::Postgres => sql!(
                            dialect,
                            "SELECT state_value FROM object_states WHERE object_type = ? AND object_uuid = ? FOR UPDATE"
                        ),
                    };
                    let current: Option<Option<String>> = sqlx::query_scalar(select)
                        .bind(object.object_type.as_str())
                        .bind(uuid)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(Some(current)) = current else {
                        return Ok(Err(StoreError::ObjectNotFound(object)));
                    };
                    let from = match parse_object_state(&current) {
                        Ok(from) => from,
                        Err(error) => return Ok(Err(error)),
                    };
                    if from == to {
                        return Ok(Ok(from));
                    }
                    let allowed = from
                        .successors(object.object_type)
                        .is_some_and(|next| next.contains(&to));
                    if !allowed {
                        return Ok(Err(StoreError::IllegalObjectTransition { object, from, to }));
                    }
                    sqlx::query(sql!(
                        dialect,
                        "UPDATE object_states SET state_value = ?, update_time = ?, message = ? \
                         WHERE object_type = ? AND object_uuid = ?"
                    ))
                    .bind(to.as_str())
                    .bind(at)
                    .bind(message)
                    .bind(object.object_type.as_str())
                    .bind(uuid)
                    .execute(&mut *tx)
                    .await?;
                    let extra = json!({"attribute": "state", "value": to, "update_time": at, "message": message});
                    let event = OpEvent { event_type: "mutate", message: "set attribute", extra, timestamp: at };
                    tx.record_object_event(dialect, self.host_name(), object, event).await?;
                    tx.commit().await?;
                    Ok(Ok(from))
                })
                .await
            }
        });
        retried(outcome, || format!("moving {object} to {to}"))
    }

    /// Records an event about an object (a `status` line such as the maintainer's "recreating not okay
    /// network on hypervisor", or an `audit` line), linked to it.
    pub async fn record_object_event(
        &self,
        object: ObjectRef,
        event_type: &'static str,
        message: &str,
        extra: serde_json::Value,
    ) -> Result<(), StoreError> {
        let extra = &extra;
        let outcome = with_backend!(match self {
            (pool, dialect) => {
                with_retry(&self.retries, dialect, || async move {
                    let _turn = self.write_turn().await;
                    let mut tx = pool.begin_with(dialect.begin_write()).await?;
                    let event = OpEvent {
                        event_type,
                        message,
                        extra: extra.clone(),
                        timestamp: now(),
                    };
                    tx.record_object_event(dialect, self.host_name(), object, event)
                        .await?;
                    tx.commit().await?;
                    Ok(Ok(()))
                })
                .await
            }
        });
        retried(outcome, || format!("recording an event about {object}"))
    }

    /// An object's registry row and state; `None` when it is not registered.
    pub async fn object(&self, object: ObjectRef) -> Result<Option<ObjectRecord>, StoreError> {
        let found = self
            .select_objects(object.object_type, Lookup::Uuid(object.uuid))
            .await
            .map_err(StoreError::query(|| format!("reading {object}")))?;
        found
            .into_iter()
            .next()
            .map(|row| row.into_record(object.object_type))
            .transpose()
    }

    /// The objects of `object_type` named `name`, in `namespace` when given (in every one otherwise), by
    /// uuid: Shaken Fist's API takes a name where it takes a uuid, and names are not unique.
    pub async fn objects_named(
        &self,
        object_type: ObjectType,
        name: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<ObjectRecord>, StoreError> {
        self.select_objects(object_type, Lookup::Name { name, namespace })
            .await
            .map_err(StoreError::query(|| {
                format!("looking for a {object_type} named {name}")
            }))?
            .into_iter()
            .map(|row| row.into_record(object_type))
            .collect()
    }

    /// The registry rows and states of `object_type`'s objects that `lookup` finds, by uuid.
    async fn select_objects(
        &self,
        object_type: ObjectType,
        lookup: Lookup<'_>,
    ) -> Result<Vec<RawObject>, sqlx::Error> {
        let Some(table) = registry_table(object_type) else {
            return Ok(Vec::new());
        };
        let extra = match object_type {
            ObjectType::Network => ", r.vxid, r.provide_dhcp, r.provide_dns",
            ObjectType::Instance => ", r.node_uuid",
            ObjectType::Interface => ", r.instance_uuid, r.network_uuid",
            _ => "",
        };
        with_backend!(match self {
            (pool, _dialect) => {
                let mut select = sqlx::QueryBuilder::new(format!(
                    concat!(
                        "SELECT ",
                        object_columns!(),
                        "{} FROM {} r LEFT JOIN object_states s ON s.object_type = "
                    ),
                    extra, table
                ));
                select
                    .push_bind(object_type.as_str())
                    .push(" AND s.object_uuid = r.uuid WHERE ");
                match lookup {
                    Lookup::Uuid(uuid) => {
                        select
                            .push("r.uuid = ")
                            .push_bind(uuid.hyphenated().to_string());
                    }
                    Lookup::Name { name, namespace } => {
                        select.push("r.name = ").push_bind(name.to_owned());
                        if let Some(namespace) = namespace {
                            select
                                .push(" AND r.namespace = ")
                                .push_bind(namespace.to_owned());
                        }
                        select.push(" ORDER BY r.uuid");
                    }
                }
                select.build_query_as().fetch_all(pool).await
            }
        })
    }

    /// A network with its state; `None` when it is not registered.
    pub async fn network(&self, id: NetworkId) -> Result<Option<Network>, StoreError> {
        Ok(self.object(id.into()).await?.and_then(Network::from_record))
    }

    /// The networks a maintainer on the network node looks at: every network in an active state
    /// (`initial`, `creating`, `created`, `error`, `delete-wait`), by id.
    pub async fn active_networks(&self) -> Result<Vec<Network>, StoreError> {
        let rows: Vec<RawObject> = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_as(sql!(
                    dialect,
                    concat!(
                        network_select!(),
                        " WHERE s.state_value IN ",
                        active_sql!(),
                        " ORDER BY r.uuid"
                    )
                ))
                .fetch_all(pool)
                .await
            }
        })
        .map_err(StoreError::query(|| {
            "reading the active networks".to_owned()
        }))?;
        networks(rows)
    }

    /// The networks a maintainer on hypervisor `node` looks at: the active networks that an interface (not
    /// deleted) of a `created` instance placed on `node` joins, by id.
    pub async fn networks_of_node(&self, node: NodeId) -> Result<Vec<Network>, StoreError> {
        let rows: Vec<RawObject> = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_as(sql!(
                    dialect,
                    concat!(
                        network_select!(),
                        " WHERE s.state_value IN ",
                        active_sql!(),
                        " AND r.uuid IN (SELECT i.network_uuid FROM network_interfaces i \
                         JOIN instances n ON n.uuid = i.instance_uuid \
                         JOIN object_states si ON si.object_type = 'instance' AND si.object_uuid = n.uuid \
                         LEFT JOIN object_states sf ON sf.object_type = 'interface' AND sf.object_uuid = i.uuid \
                         WHERE n.node_uuid = ? AND si.state_value = 'created' \
                         AND (sf.state_value IS NULL OR sf.state_value <> 'deleted')) ORDER BY r.uuid"
                    )
                ))
                .bind(node.to_string())
                .fetch_all(pool)
                .await
            }
        })
        .map_err(StoreError::query(|| format!("reading the networks of node {node}")))?;
        networks(rows)
    }

    /// How many interfaces that are not deleted join `network`: a `delete-wait` network is deleted once
    /// it has none.
    pub async fn live_interfaces(&self, network: NetworkId) -> Result<u64, StoreError> {
        let count: i64 = with_backend!(match self {
            (pool, dialect) => {
                sqlx::query_scalar(sql!(
                    dialect,
                    "SELECT COUNT(*) FROM network_interfaces i LEFT JOIN object_states s \
                     ON s.object_type = 'interface' AND s.object_uuid = i.uuid \
                     WHERE i.network_uuid = ? AND (s.state_value IS NULL OR s.state_value <> 'deleted')"
                ))
                .bind(network.to_string())
                .fetch_one(pool)
                .await
            }
        })
        .map_err(StoreError::query(|| format!("counting the interfaces of network {network}")))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

fn networks(rows: Vec<RawObject>) -> Result<Vec<Network>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let record = row.into_record(ObjectType::Network)?;
            Ok(Network::from_record(record))
        })
        .filter_map(Result::transpose)
        .collect()
}
