//! The race simulator: the plan's success criterion as a number.
//!
//! A seeded, deterministic interleaving of network creations, op enqueues on the same networks, worker
//! pickups and completions (in any order, as separate queues allow), bridge failures and maintainer passes,
//! run against a real store. At each pass two gates are asked the same question at the same moment:
//!
//! - the **legacy** gate, Shaken Fist's `is_okay()` before the plan: it reads the op that the single pointer
//!   `last_cluster_operation` names, and leaves the network alone only if *that* op is in flight — kept
//!   here, and only here, as the baseline;
//! - the **targets** gate: the real [`Maintainer`](ops_core::network::Maintainer) (in a dry run), which asks
//!   [`has_pending`](ops_core::Store::has_pending) of every target row.
//!
//! A **spurious recreate** is a gate deciding to recreate a network while an op targeting it is in flight.
//! The legacy gate makes them through both races the plan names: the latest-only race (an earlier op still
//! queued while a later op on the same network completed) and the forgotten-call race (a call site that
//! forgot to set the pointer). The targets gate must make none, on every seed — and must still repair
//! every network that is broken with nothing in flight.

mod world;

use std::ops::ControlFlow;

use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;
use serde::Serialize;

use ops_core::{NetworkId, Store, StoreError};

pub use world::{NAMESPACE, SimNetwork, SimOp, Verdict, Work, World};

/// How big each seed's run is.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SimOptions {
    /// Networks created per seed, each with its first instance on the hypervisor.
    pub networks: usize,
    /// Random steps per seed after the networks are created.
    pub steps: usize,
    /// The share of create ops whose call site forgets to set the legacy pointer.
    pub forget_rate: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            networks: 3,
            steps: 40,
            forget_rate: 0.25,
        }
    }
}

/// What one seed's run counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Ops enqueued.
    pub ops: u64,
    /// Maintainer passes.
    pub passes: u64,
    /// Recreates the legacy gate decided while an op was in flight on the network.
    pub legacy_spurious: u64,
    /// Recreates the targets gate decided while an op was in flight on the network.
    pub targets_spurious: u64,
    /// Recreates the legacy gate decided for networks broken with nothing in flight.
    pub legacy_repairs: u64,
    /// Recreates the targets gate decided for networks broken with nothing in flight.
    pub targets_repairs: u64,
    /// Networks broken with nothing in flight that the targets gate did not repair.
    pub targets_missed: u64,
}

/// What a run over many seeds counted: the sums of the seeds' reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SimReport {
    /// Seeds run.
    pub seeds: u64,
    /// The first seed; the others follow it.
    pub first_seed: u64,
    /// Ops enqueued.
    pub ops: u64,
    /// Maintainer passes.
    pub passes: u64,
    /// Spurious recreates by the legacy gate.
    pub legacy_spurious: u64,
    /// Spurious recreates by the targets gate: zero is the plan's success criterion.
    pub targets_spurious: u64,
    /// Seeds on which the legacy gate made at least one spurious recreate.
    pub seeds_with_legacy_spurious: u64,
    /// Seeds on which the targets gate made at least one.
    pub seeds_with_targets_spurious: u64,
    /// Rightful repairs by the legacy gate.
    pub legacy_repairs: u64,
    /// Rightful repairs by the targets gate.
    pub targets_repairs: u64,
    /// Broken idle networks the targets gate left unrepaired.
    pub targets_missed: u64,
}

impl SimReport {
    fn add(&mut self, seed: &SeedReport) {
        self.seeds += 1;
        self.ops += seed.ops;
        self.passes += seed.passes;
        self.legacy_spurious += seed.legacy_spurious;
        self.targets_spurious += seed.targets_spurious;
        self.seeds_with_legacy_spurious += u64::from(seed.legacy_spurious > 0);
        self.seeds_with_targets_spurious += u64::from(seed.targets_spurious > 0);
        self.legacy_repairs += seed.legacy_repairs;
        self.targets_repairs += seed.targets_repairs;
        self.targets_missed += seed.targets_missed;
    }
}

/// A simulation that could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The store failed.
    #[error("the simulation's store failed")]
    Store(#[from] StoreError),
    /// An op could not be enqueued.
    #[error("the simulation could not enqueue an op")]
    Enqueue(#[source] Box<ops_core::EnqueueError>),
    /// The maintainer's pass failed.
    #[error("the maintainer's pass failed")]
    Maintain(#[source] Box<ops_core::network::MaintainError>),
    /// A network the simulation created is gone from the store.
    #[error("network {0} vanished from the store")]
    Vanished(NetworkId),
}

/// Runs `seeds` seeds from `first_seed` on `store` (a migrated store; each seed adds its own objects and
/// ops, in the `ops-sim` namespace, and leaves them deleted), calling `progress` after each.
///
/// `progress` returning [`ControlFlow::Break`] stops the run there, between two seeds, so nothing a seed
/// made is left live (an interrupted command stops this way); the report counts the seeds that ran.
pub async fn simulate(
    store: &Store,
    first_seed: u64,
    seeds: u64,
    options: SimOptions,
    mut progress: impl FnMut(&SeedReport) -> ControlFlow<()>,
) -> Result<SimReport, SimError> {
    let mut report = SimReport {
        first_seed,
        ..SimReport::default()
    };
    for seed in first_seed..first_seed.saturating_add(seeds) {
        let run = run_seed(store, seed, options).await?;
        report.add(&run);
        if progress(&run).is_break() {
            break;
        }
    }
    Ok(report)
}

/// One seed's run: the same seed always makes the same choices, and so the same counts.
pub async fn run_seed(
    store: &Store,
    seed: u64,
    options: SimOptions,
) -> Result<SeedReport, SimError> {
    let mut rng = XorShiftRng::seed_from_u64(seed);
    let mut world = World::new(store).await?;
    let mut report = SeedReport {
        seed,
        ..SeedReport::default()
    };
    for _ in 0..options.networks {
        let forget = rng.random_bool(options.forget_rate);
        world.add_network(forget).await?;
    }
    for _ in 0..options.steps {
        let roll = rng.random_range(0..100u32);
        let queued: Vec<usize> = indexes(&world, ops_core::OpState::Queued);
        let executing: Vec<usize> = indexes(&world, ops_core::OpState::Executing);
        match roll {
            // A user hot-plugs an interface: quick work that a later pickup may finish first.
            0..20 => {
                let network = rng.random_range(0..world.networks().len());
                world.enqueue(network, Work::HotPlug, false).await?;
            }
            20..45 if !queued.is_empty() => {
                let pick = queued[rng.random_range(0..queued.len())];
                world.start(pick).await?;
            }
            45..70 if !executing.is_empty() => {
                let pick = executing[rng.random_range(0..executing.len())];
                world.complete(pick).await?;
            }
            // A bridge breaks on its own, with its create done: a real repair for both gates.
            70..74 => {
                let network = rng.random_range(0..world.networks().len());
                let creating = world
                    .ops()
                    .iter()
                    .any(|op| op.network == network && op.work == Work::CreateOnHypervisor);
                if !creating && world.bridge_up(network) {
                    world.break_bridge(network);
                }
            }
            _ => {
                report.passes += 1;
                for verdict in world.pass().await? {
                    count(&mut report, &verdict);
                }
            }
        }
    }
    report.ops = world.enqueued();
    world.finish().await?;
    Ok(report)
}

fn indexes(world: &World, state: ops_core::OpState) -> Vec<usize> {
    world
        .ops()
        .iter()
        .enumerate()
        .filter(|(_, op)| op.state == state)
        .map(|(index, _)| index)
        .collect()
}

fn count(report: &mut SeedReport, verdict: &Verdict) {
    let idle = verdict.in_flight.is_empty();
    report.legacy_spurious += u64::from(verdict.legacy_spurious());
    report.targets_spurious += u64::from(verdict.targets_spurious());
    report.legacy_repairs += u64::from(verdict.legacy_recreates && idle);
    report.targets_repairs += u64::from(verdict.targets_recreates && idle);
    report.targets_missed += u64::from(verdict.targets_missed());
}
