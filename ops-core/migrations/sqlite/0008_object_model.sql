-- Schema 8: what the network gate and the maintainer need to know of the objects ops work on.
--   networks.vxid                        the VXLAN id: the bridge is br-vxlan-{vxid:06x}; NULL for a network
--                                        registered before it (it is not checked until it has one)
--   networks.provide_dhcp, provide_dns   whether dnsmasq must run for it on the network node
--   instances.node_uuid                  the hypervisor an instance is placed on
--   network_interfaces.instance_uuid,    what an interface joins: a hypervisor maintains the networks of
--   network_interfaces.network_uuid      the instances placed on it, through their interfaces

ALTER TABLE networks ADD COLUMN vxid BIGINT;
ALTER TABLE networks ADD COLUMN provide_dhcp BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE networks ADD COLUMN provide_dns BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX IF NOT EXISTS ux_networks_vxid ON networks (vxid);
ALTER TABLE instances ADD COLUMN node_uuid VARCHAR(36);
CREATE INDEX IF NOT EXISTS ix_instances_node ON instances (node_uuid);
ALTER TABLE network_interfaces ADD COLUMN instance_uuid VARCHAR(36);
ALTER TABLE network_interfaces ADD COLUMN network_uuid VARCHAR(36);
CREATE INDEX IF NOT EXISTS ix_network_interfaces_instance ON network_interfaces (instance_uuid);
CREATE INDEX IF NOT EXISTS ix_network_interfaces_network ON network_interfaces (network_uuid);
