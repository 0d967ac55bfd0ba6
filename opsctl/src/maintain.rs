//! `opsctl maintain`: the network maintainer of this node, against the configured database and the real
//! host.

use std::sync::Arc;

use ops_core::network::{
    LinuxHost, MaintainError, Maintainer, MaintainerOptions, PassReport, Role,
};
use ops_core::{NodeId, Store};
use ops_schemas::ShakenFistRepairs;

use crate::CliError;
use crate::cli::MaintainArgs;

/// Runs passes as `args` asks — one, or one every interval until SIGINT/SIGTERM — printing each.
pub(crate) async fn run(store: Store, args: &MaintainArgs, json: bool) -> Result<(), CliError> {
    let node = NodeId::from(args.node);
    let role = if args.network_node {
        Role::NetworkNode(node)
    } else {
        Role::Hypervisor(node)
    };
    let mut options = MaintainerOptions::default().dry_run(args.dry_run);
    options.queue_depth_threshold = args.queue_depth_threshold;
    options.settle = args.settle;
    options.cooldown = args.cooldown;
    options.breaker_after = args.breaker_after;
    let host = Arc::new(LinuxHost::new(args.network_node));
    let maintainer = Maintainer::new(store, host, role, ShakenFistRepairs).options(options);
    let stop = crate::signal::wait_for_signal();
    tokio::pin!(stop);
    loop {
        match maintainer.pass().await {
            Ok(report) if json => {
                crate::output::outln!("{}", serde_json::to_value(&report).unwrap_or_default())
            }
            Ok(report) => crate::output::out!("{}", render(&report)),
            // One pass: its failure is the command's. Repeated passes ride it out, as the daemon does.
            Err(error) if args.once => return Err(failure(error)),
            Err(error) => eprintln!("error: {}", ops_core::ErrorChain(&error)),
        }
        if args.once {
            return Ok(());
        }
        tokio::select! {
            () = &mut stop => return Ok(()),
            () = tokio::time::sleep(args.interval) => {}
        }
    }
}

fn failure(error: MaintainError) -> CliError {
    match error {
        MaintainError::Store(store) => CliError::Store(store),
        other => CliError::Failed(ops_core::ErrorChain(&other).to_string()),
    }
}

/// A pass as a few lines: the counts, then each repair.
fn render(report: &PassReport) -> String {
    let (would, delete) = if report.dry_run {
        ("would repair", "would delete")
    } else {
        ("repaired", "deleted")
    };
    if report.skipped_for_queue_depth {
        return format!(
            "pass skipped: {} ops in this node's network queues\n",
            report.queue_depth
        );
    }
    let mut out = format!(
        "{} networks: {} okay, {} busy (an operation in flight), {} settling, {} not checked, \
         {} cooling down, {} left to an operator, {would} {}, {delete} {}\n",
        report.networks,
        report.okay,
        report.busy.len(),
        report.settling.len(),
        report.unknown.len(),
        report.cooling_down.len(),
        report.breaker_open.len(),
        report.repaired.len(),
        report.deleted.len(),
    );
    for repaired in &report.repaired {
        out += &format!(
            "  {would} network {}: {}\n",
            repaired.network, repaired.health
        );
    }
    for refused in &report.refused {
        out += &format!(
            "  refused network {}: {}\n",
            refused.network, refused.reason
        );
    }
    for deleted in &report.deleted {
        out += &format!(
            "  {delete} network {}: {}\n",
            deleted.network, deleted.health
        );
    }
    out
}
