//! `opsctl demo`: the race the plan removes, shown step by step on an embedded SQLite file.

use std::fmt::Write;
use std::path::Path;

use ops_core::{ObjectRef, StoreOptions};
use ops_sim::{Verdict, Work, World};

use crate::{CliError, render};

/// One maintainer pass of the script, as a table row.
struct Row {
    what: &'static str,
    network: &'static str,
    verdict: Verdict,
}

/// Runs the scripted scenario and prints what each gate decided at each pass.
pub(crate) async fn run(file: &Path) -> Result<(), CliError> {
    let url = format!("sqlite://{}", file.display());
    let store = StoreOptions::new(&url)
        .create_if_missing(true)
        .connect()
        .await?;
    store.migrate().await?;
    let failed =
        |error: ops_sim::SimError| CliError::Failed(ops_core::ErrorChain(&error).to_string());
    let mut world = World::new(&store).await.map_err(failed)?;
    let mut rows = Vec::new();

    // Network A, created for its first instance here: a deploy op, then the create op that builds the
    // bridge on this hypervisor. The deploy runs; the create waits in its queue.
    let a = world.add_network(false).await.map_err(failed)?;
    run_first(&mut world, a, Work::Deploy)
        .await
        .map_err(failed)?;
    let pass = world.pass().await.map_err(failed)?;
    rows.push(Row {
        what: "deploy ran; create op still queued",
        network: "A",
        verdict: pass[a].clone(),
    });

    // A user hot-plugs an interface on A: enqueued after the create op, it runs at once on another queue.
    world
        .enqueue(a, Work::HotPlug, false)
        .await
        .map_err(failed)?;
    run_first(&mut world, a, Work::HotPlug)
        .await
        .map_err(failed)?;
    let pass = world.pass().await.map_err(failed)?;
    rows.push(Row {
        what: "later hot-plug op finished first",
        network: "A",
        verdict: pass[a].clone(),
    });
    // What opsctl shows of A at this moment: the latest op is done, yet an op is in flight.
    let network_a = ObjectRef::from(world.networks()[a].id);
    let at_step_2 = format!(
        "{}\n{}",
        render::latest(network_a, store.latest(network_a).await?.as_ref()),
        render::pending(network_a, &store.pending(network_a).await?)
    );

    // Network B: the create op's call site forgets to set the pointer, which still names the deploy op.
    let b = world.add_network(true).await.map_err(failed)?;
    run_first(&mut world, b, Work::Deploy)
        .await
        .map_err(failed)?;
    let pass = world.pass().await.map_err(failed)?;
    rows.push(Row {
        what: "create op forgot to set the pointer",
        network: "B",
        verdict: pass[b].clone(),
    });

    // The workers get to the create ops: the bridges come up.
    for network in [a, b] {
        run_first(&mut world, network, Work::CreateOnHypervisor)
            .await
            .map_err(failed)?;
    }
    let pass = world.pass().await.map_err(failed)?;
    rows.push(Row {
        what: "create ops ran: bridges up",
        network: "A",
        verdict: pass[a].clone(),
    });

    // A's bridge breaks with nothing in flight: a real repair, for both gates.
    world.break_bridge(a);
    let pass = world.pass().await.map_err(failed)?;
    rows.push(Row {
        what: "bridge broke, nothing in flight",
        network: "A",
        verdict: pass[a].clone(),
    });

    let network_b = ObjectRef::from(world.networks()[b].id);
    let mut out = format!(
        "opsctl demo, on {}\n\n\
         A hypervisor looks after network A ({}) and network B ({}).\n\
         Each maintainer pass asks two gates whether to recreate a network whose bridge is missing:\n  \
         legacy gate:  leave it alone if the op that last_cluster_operation names is in flight\n  \
         targets gate: leave it alone if any op in flight targets it (has_pending)\n\n",
        file.display(),
        network_a.uuid,
        network_b.uuid
    );
    out += "#  what happened                         net  ops in flight         legacy gate           targets gate\n";
    let (mut legacy_spurious, mut targets_spurious) = (0, 0);
    for (index, row) in rows.iter().enumerate() {
        legacy_spurious += u64::from(row.verdict.legacy_spurious());
        targets_spurious += u64::from(row.verdict.targets_spurious());
        let in_flight = if row.verdict.in_flight.is_empty() {
            "none".to_owned()
        } else {
            row.verdict
                .in_flight
                .iter()
                .map(|work| short(*work))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "{:<3}{:<38}{:<5}{:<22}{:<22}{}",
            index + 1,
            row.what,
            row.network,
            in_flight,
            decision(row.verdict.legacy_recreates, &row.verdict),
            decision(row.verdict.targets_recreates, &row.verdict),
        );
    }
    let _ = writeln!(
        out,
        "\nspurious recreates: legacy gate {legacy_spurious}, targets gate {targets_spurious}. \
         Both repaired the bridge that really broke.\n\n\
         At step 2, `opsctl latest` and `opsctl pending` said of network A:\n"
    );
    out += &at_step_2;
    out += "\nIts history now (`opsctl history network ...`):\n";
    out += &render::history(network_a, &store.history(network_a, None, 10).await?);
    out += "\nThe same race over random interleavings: opsctl simulate --seeds 100\n";
    crate::output::out!("{out}");
    store.close().await;
    Ok(())
}

/// Starts and completes the first unfinished op of `work` on `network`.
async fn run_first(world: &mut World, network: usize, work: Work) -> Result<(), ops_sim::SimError> {
    if let Some(index) = world
        .ops()
        .iter()
        .position(|op| op.network == network && op.work == work)
    {
        world.start(index).await?;
        world.complete(index).await?;
    }
    Ok(())
}

fn short(work: Work) -> &'static str {
    match work {
        Work::Deploy => "deploy",
        Work::CreateOnHypervisor => "create",
        Work::HotPlug => "hot-plug",
    }
}

fn decision(recreates: bool, verdict: &Verdict) -> &'static str {
    match (recreates, verdict.in_flight.is_empty()) {
        (false, _) => "leave alone",
        (true, true) => "recreate (right)",
        (true, false) => "RECREATE (spurious)",
    }
}
