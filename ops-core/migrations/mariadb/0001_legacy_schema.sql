-- Schema 1: the legacy ops store, as it stood before the plan "Replace last_cluster_operation with a
-- cluster_operation_targets-driven check". Every object's latest op is one pointer,
-- object_metadata.last_cluster_operation_json, which every enqueuing caller had to remember to update.
-- Uuids are dashed lower-case text everywhere. MariaDB: InnoDB, utf8mb4 with binary collation so uuid and
-- type comparisons are exact.

CREATE TABLE IF NOT EXISTS object_states (
    object_type VARCHAR(64) NOT NULL,
    object_uuid VARCHAR(36) NOT NULL,
    state_value VARCHAR(32),
    update_time DOUBLE NOT NULL,
    message VARCHAR(255),
    PRIMARY KEY (object_type, object_uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS idx_object_states_type_state ON object_states (object_type, state_value);
CREATE INDEX IF NOT EXISTS idx_object_states_uuid ON object_states (object_uuid);

CREATE TABLE IF NOT EXISTS object_metadata (
    object_type VARCHAR(64) NOT NULL,
    object_uuid VARCHAR(36) NOT NULL,
    metadata_json LONGTEXT NOT NULL DEFAULT '{}',
    last_cluster_operation_json LONGTEXT,
    PRIMARY KEY (object_type, object_uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS cluster_operations (
    uuid VARCHAR(36) NOT NULL PRIMARY KEY,
    operation_type VARCHAR(64) NOT NULL,
    version BIGINT NOT NULL,
    created_at DOUBLE NOT NULL,
    node_uuid VARCHAR(36),
    instance_uuid VARCHAR(36),
    network_uuid VARCHAR(36),
    priority VARCHAR(32) NOT NULL,
    queue_name VARCHAR(255) NOT NULL,
    request_id VARCHAR(255),
    metadata_json LONGTEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS ix_cluster_ops_node ON cluster_operations (node_uuid);
CREATE INDEX IF NOT EXISTS ix_cluster_ops_instance ON cluster_operations (instance_uuid);
CREATE INDEX IF NOT EXISTS ix_cluster_ops_network ON cluster_operations (network_uuid);
CREATE INDEX IF NOT EXISTS ix_cluster_ops_type_created ON cluster_operations (operation_type, created_at);

CREATE TABLE IF NOT EXISTS cluster_operation_errors (
    op_uuid VARCHAR(36) NOT NULL PRIMARY KEY,
    error_report LONGTEXT NOT NULL,
    created_at DOUBLE NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS work_queue (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    queue_name VARCHAR(255) NOT NULL,
    scheduled_at DOUBLE NOT NULL,
    claimed_at DOUBLE,
    claimed_by VARCHAR(255),
    attempts BIGINT NOT NULL DEFAULT 0,
    payload LONGTEXT NOT NULL,
    created_at DOUBLE NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS ix_work_queue_ready ON work_queue (queue_name, claimed_at, scheduled_at);

CREATE TABLE IF NOT EXISTS events (
    event_uuid VARCHAR(36) NOT NULL PRIMARY KEY,
    event_type VARCHAR(32) NOT NULL,
    timestamp DOUBLE NOT NULL,
    fqdn VARCHAR(255) NOT NULL,
    duration DOUBLE,
    message LONGTEXT NOT NULL,
    extra LONGTEXT,
    request_id VARCHAR(255)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS event_objects (
    object_type VARCHAR(64) NOT NULL,
    object_uuid VARCHAR(36) NOT NULL,
    event_uuid VARCHAR(36) NOT NULL,
    PRIMARY KEY (object_type, object_uuid, event_uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX IF NOT EXISTS ix_event_objects_event ON event_objects (event_uuid);

-- The objects themselves, as a minimal registry.
CREATE TABLE IF NOT EXISTS instances (uuid VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, created_at DOUBLE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS networks (uuid VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, created_at DOUBLE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS artifacts (uuid VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, created_at DOUBLE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS blobs (uuid VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, created_at DOUBLE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS network_interfaces (uuid VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, created_at DOUBLE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS agent_operations (uuid VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, created_at DOUBLE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS nodes (uuid VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, created_at DOUBLE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
