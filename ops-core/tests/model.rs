//! A property test on every backend: random sequences of enqueues, state moves and hard deletes, checked
//! after every step against an in-memory model of what `has_pending`, `latest` and `pending` must say.

mod support;

use std::collections::BTreeSet;

use ops_core::{
    InstanceId, NetworkId, ObjectId, ObjectRef, OpId, OpRef, OpState, Priority, Store, StoreError,
};
use ops_testkit::{Backend, TestDb, check_property};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::{MixedOp, NetTask};

/// How many objects one case plays with: enough for overlap, few enough for collisions.
const OBJECTS: usize = 5;

#[derive(Clone, Debug)]
enum Action {
    /// Enqueue an op targeting these objects (indexes into the case's objects).
    Enqueue(BTreeSet<usize>),
    /// Move the n-th op (modulo) to a state; illegal moves must be refused.
    Transition(usize, OpState),
    /// Hard-delete the n-th op (modulo); in-flight ops must be refused.
    HardDelete(usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => prop::collection::btree_set(0..OBJECTS, 1..=3).prop_map(Action::Enqueue),
        4 => (any::<usize>(), prop::sample::select(OpState::ALL.to_vec())).prop_map(|(i, s)| Action::Transition(i, s)),
        1 => any::<usize>().prop_map(Action::HardDelete),
    ]
}

/// What the store must hold: every live op, in enqueue order, with its targets and state.
#[derive(Default)]
struct Model {
    ops: Vec<(OpId, BTreeSet<ObjectRef>, OpState)>,
}

impl Model {
    fn latest(&self, object: &ObjectRef) -> Option<OpId> {
        self.ops
            .iter()
            .rev()
            .find(|(_, targets, _)| targets.contains(object))
            .map(|(id, _, _)| *id)
    }

    fn pending(&self, object: &ObjectRef) -> Vec<OpId> {
        self.ops
            .iter()
            .filter(|(_, targets, state)| targets.contains(object) && state.is_in_flight())
            .map(|(id, _, _)| *id)
            .collect()
    }
}

async fn run_case(store: &Store, actions: Vec<Action>) -> Result<(), TestCaseError> {
    // Fresh objects per case, so cases sharing one database never see each other's ops.
    let objects: Vec<ObjectRef> = (0..OBJECTS)
        .map(|i| {
            if i % 2 == 0 {
                NetworkId::new_v4().object_ref()
            } else {
                InstanceId::new_v4().object_ref()
            }
        })
        .collect();
    let mut model = Model::default();
    for action in actions {
        match action {
            Action::Enqueue(indexes) => {
                let chosen: BTreeSet<ObjectRef> = indexes.iter().map(|&i| objects[i]).collect();
                let op = MixedOp {
                    network_uuids: indexes
                        .iter()
                        .filter(|i| *i % 2 == 0)
                        .map(|&i| objects[i].uuid.into())
                        .collect(),
                    instance_uuids: indexes
                        .iter()
                        .filter(|i| *i % 2 == 1)
                        .map(|&i| objects[i].uuid.into())
                        .collect(),
                };
                let id = op
                    .enqueue(store)
                    .priority(Priority::Background)
                    .task(NetTask::NetworkDeploy)
                    .await;
                let id = id.map_err(|e| TestCaseError::fail(e.to_string()))?;
                model.ops.push((id, chosen, OpState::Queued));
            }
            Action::Transition(n, to) if !model.ops.is_empty() => {
                let n = n % model.ops.len();
                let (id, _, from) = model.ops[n];
                let result = store.transition(id, to, None).await;
                if from.check_transition(to).is_ok() {
                    prop_assert_eq!(
                        result.map_err(|e| TestCaseError::fail(e.to_string()))?,
                        from
                    );
                    model.ops[n].2 = to;
                } else {
                    prop_assert!(
                        matches!(result, Err(StoreError::IllegalTransition { .. })),
                        "{from} -> {to}"
                    );
                }
            }
            Action::HardDelete(n) if !model.ops.is_empty() => {
                let n = n % model.ops.len();
                let (id, _, state) = model.ops[n];
                let result = store.hard_delete_op(id).await;
                if state.is_in_flight() {
                    prop_assert!(
                        matches!(result, Err(StoreError::OpInFlight { .. })),
                        "hard-deleted an in-flight op"
                    );
                } else {
                    result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    model.ops.remove(n);
                }
            }
            Action::Transition(..) | Action::HardDelete(_) => {}
        }
        for object in &objects {
            let fail = |e: StoreError| TestCaseError::fail(e.to_string());
            let pending: Vec<OpId> = store
                .pending(*object)
                .await
                .map_err(fail)?
                .iter()
                .map(|op| op.op_uuid)
                .collect();
            prop_assert_eq!(&pending, &model.pending(object), "pending on {}", object);
            prop_assert_eq!(
                store.has_pending(*object).await.map_err(fail)?,
                !pending.is_empty()
            );
            let latest = store
                .latest(*object)
                .await
                .map_err(fail)?
                .map(|OpRef { op_uuid, .. }| op_uuid);
            prop_assert_eq!(latest, model.latest(object), "latest on {}", object);
        }
        let busy = store
            .filter_pending(&objects)
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected: BTreeSet<ObjectRef> = objects
            .iter()
            .filter(|o| !model.pending(o).is_empty())
            .copied()
            .collect();
        prop_assert_eq!(busy, expected);
    }
    Ok(())
}

/// One case: a fresh sequence of actions on the run's database.
async fn actions_match_the_model(
    _: &TestDb,
    store: &Store,
    actions: Vec<Action>,
) -> Result<(), TestCaseError> {
    run_case(store, actions).await
}

fn check_against_model(backend: Backend, cases: u32) {
    let actions = prop::collection::vec(action(), 1..24);
    check_property(backend, cases, actions, actions_match_the_model);
}

#[test]
fn sqlite_matches_the_model() {
    check_against_model(Backend::Sqlite, 48);
}

#[test]
fn mariadb_matches_the_model() {
    check_against_model(Backend::MariaDb, 24);
}

#[test]
fn postgres_matches_the_model() {
    check_against_model(Backend::Postgres, 24);
}
