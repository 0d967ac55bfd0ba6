"""Drives the real shakenfist-client 0.8.3, unmodified, against `opsctl serve`.

Run by opsctl/tests/shakenfist_client.rs inside a virtualenv holding the client from PyPI. The server URL,
namespace and key come from the client's own environment variables (SHAKENFIST_API_URL,
SHAKENFIST_NAMESPACE, SHAKENFIST_KEY); the seeded ids from OPS_SEED, a JSON object. Every step prints
one `ok ...` line; the first failure raises, and the Rust test shows the traceback.
"""

import json
import os

from shakenfist_client import apiclient

seed = json.loads(os.environ['OPS_SEED'])
network = seed['network']
first, second, failing = seed['first_op'], seed['second_op'], seed['failing_op']

# Constructing the client fetches the capabilities page; authentication happens on the first call.
client = apiclient.Client(async_strategy=apiclient.ASYNC_PAUSE)
for capability in ('get-cluster-operations', 'cluster-operation-chain', 'cluster-operations-by-target',
                   'network-clusteroperations', 'network-delete-async', 'object-pending-operations'):
    assert client.check_capability(capability), capability
print('ok capabilities')

view = client.get_cluster_operation('net_op', second)
assert view['operation_type'] == 'net_op' and view['uuid'] == second, view
assert view['tasks'] == ['network_update_dnsmasq'], view
assert view['network_uuid'] == network, view
print('ok get_cluster_operation')

chain = client.get_cluster_operation_chain(second)
assert [op['uuid'] for op in chain] == [second, first], chain
print('ok get_cluster_operation_chain')

listed = client.list_cluster_operations_for_target('network', network)
assert [op['uuid'] for op in listed] == [failing, second, first], listed
print('ok list_cluster_operations_for_target')

# The client has no method for an object's own listing; its request machinery (auth, errors) does it.
everything = client._request_url('GET', f'/networks/{network}/clusteroperations?all=true').json()
assert [op['uuid'] for op in everything] == [failing, second, first], everything
print('ok network clusteroperations')

net = client.get_network(network)
assert net['uuid'] == network and 'has_pending_operations' in net, net
assert net['last_cluster_operation']['op_type'] == 'net_op', net
print('ok get_network')

# A network deleted asynchronously: 202 with the op, polled until `opsctl worker` completes it.
done = client.delete_network(network)
assert done['state'] == 'complete' and done['tasks'] == ['network_destroy'], done
print('ok delete_network')

# An op a worker fails (its hard dependency does not exist) surfaces as ClusterOperationFailed.
try:
    client._poll_cluster_operation('net_op', failing, timeout=60, interval=0.2)
    raise AssertionError('no ClusterOperationFailed')
except apiclient.ClusterOperationFailed as e:
    assert e.op_uuid == failing and e.op_view['state'] == 'error', e.op_view
print('ok ClusterOperationFailed')

# Another namespace's op is forbidden, and the client says so its own way.
try:
    client.get_cluster_operation('net_op', seed['foreign_op'])
    raise AssertionError('a foreign op was shown')
except apiclient.UnauthorizedException:
    pass
print('ok foreign op forbidden')
