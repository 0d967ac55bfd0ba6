//! [`Host`]: what the gate reads of the machine it runs on, read-only — a real Linux implementation and a
//! simulated one.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use crate::NetworkId;

/// `IFF_UP` in `/sys/class/net/<name>/flags`: the interface is administratively up (`ip link ... up`).
const IFF_UP: u64 = 0x1;

/// The machine a maintainer runs on, as far as the network gate looks at it. Read-only: the gate never
/// changes the host; repairs are ops, run by workers.
pub trait Host: Send + Sync {
    /// Whether this machine is the network node, which runs dnsmasq for the networks that want it.
    fn is_network_node(&self) -> bool;

    /// Whether the network interface `name` (a bridge such as `br-vxlan-00002a`) exists and is up;
    /// `Ok(false)` when it does not exist.
    fn interface_up(&self, name: &str) -> io::Result<bool>;

    /// Whether a dnsmasq process serves `network`.
    fn dnsmasq_running(&self, network: NetworkId) -> io::Result<bool>;
}

/// The real host: interfaces from `/sys/class/net`, processes from `/proc`.
///
/// A network's dnsmasq is a process whose program is `dnsmasq` and one of whose arguments names the
/// network's uuid, as Shaken Fist starts it (its configuration and pid files live in a directory named
/// after the network).
#[derive(Clone, Debug)]
pub struct LinuxHost {
    sys_class_net: PathBuf,
    proc: PathBuf,
    network_node: bool,
}

impl LinuxHost {
    /// The machine this runs on; `network_node` says whether it is the network node.
    pub fn new(network_node: bool) -> Self {
        LinuxHost::with_roots("/sys/class/net", "/proc", network_node)
    }

    /// A host read from other directories laid out as `/sys/class/net` and `/proc` are (a container's,
    /// or a test's).
    pub fn with_roots(
        sys_class_net: impl Into<PathBuf>,
        proc: impl Into<PathBuf>,
        network_node: bool,
    ) -> Self {
        LinuxHost {
            sys_class_net: sys_class_net.into(),
            proc: proc.into(),
            network_node,
        }
    }
}

impl Host for LinuxHost {
    fn is_network_node(&self) -> bool {
        self.network_node
    }

    fn interface_up(&self, name: &str) -> io::Result<bool> {
        if name.is_empty() || name.contains(['/', '\0']) || name == "." || name == ".." {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{name}` is not an interface name"),
            ));
        }
        let flags = match std::fs::read_to_string(self.sys_class_net.join(name).join("flags")) {
            Ok(flags) => flags,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(error) => return Err(error),
        };
        let hex = flags.trim().trim_start_matches("0x");
        let flags = u64::from_str_radix(hex, 16).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unreadable flags `{}` of interface {name}", flags.trim()),
            )
        })?;
        Ok(flags & IFF_UP != 0)
    }

    fn dnsmasq_running(&self, network: NetworkId) -> io::Result<bool> {
        let network = network.to_string();
        for entry in std::fs::read_dir(&self.proc)? {
            let entry = entry?;
            let is_pid = entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit()));
            if !is_pid {
                continue;
            }
            // A process may end while the table is read: it is simply not running.
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let mut args = cmdline.split(|b| *b == 0).map(String::from_utf8_lossy);
            let is_dnsmasq = args
                .next()
                .is_some_and(|program| program.rsplit('/').next() == Some("dnsmasq"));
            if is_dnsmasq && args.any(|arg| arg.contains(&network)) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// A host in memory, driven by a simulator or a test: interfaces come and go, dnsmasq starts and stops.
#[derive(Debug, Default)]
pub struct SimulatedHost {
    network_node: bool,
    interfaces: Mutex<HashMap<String, bool>>,
    dnsmasq: Mutex<HashSet<NetworkId>>,
}

impl SimulatedHost {
    /// An empty host: no interfaces, no dnsmasq.
    pub fn new(network_node: bool) -> Self {
        SimulatedHost {
            network_node,
            ..SimulatedHost::default()
        }
    }

    /// Creates (or changes) interface `name`, up or down.
    pub fn set_interface(&self, name: &str, up: bool) {
        lock(&self.interfaces).insert(name.to_owned(), up);
    }

    /// Removes interface `name`.
    pub fn remove_interface(&self, name: &str) {
        lock(&self.interfaces).remove(name);
    }

    /// Starts (`true`) or stops the dnsmasq of `network`.
    pub fn set_dnsmasq(&self, network: NetworkId, running: bool) {
        let mut dnsmasq = lock(&self.dnsmasq);
        if running {
            dnsmasq.insert(network);
        } else {
            dnsmasq.remove(&network);
        }
    }
}

impl Host for SimulatedHost {
    fn is_network_node(&self) -> bool {
        self.network_node
    }

    fn interface_up(&self, name: &str) -> io::Result<bool> {
        Ok(lock(&self.interfaces).get(name).copied().unwrap_or(false))
    }

    fn dnsmasq_running(&self, network: NetworkId) -> io::Result<bool> {
        Ok(lock(&self.dnsmasq).contains(&network))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update is one insert or remove: a panic elsewhere cannot leave the map half-changed.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `/sys/class/net` and `/proc` in a temporary directory.
    struct FakeRoot(PathBuf);

    impl FakeRoot {
        fn new() -> Self {
            let root = std::env::temp_dir().join(format!("ops-host-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(root.join("net")).unwrap();
            std::fs::create_dir_all(root.join("proc")).unwrap();
            FakeRoot(root)
        }

        fn interface(&self, name: &str, flags: &str) {
            let dir = self.0.join("net").join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("flags"), flags).unwrap();
        }

        fn process(&self, pid: u32, args: &[&str]) {
            let dir = self.0.join("proc").join(pid.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("cmdline"), args.join("\0") + "\0").unwrap();
        }

        fn host(&self) -> LinuxHost {
            LinuxHost::with_roots(self.0.join("net"), self.0.join("proc"), true)
        }
    }

    impl Drop for FakeRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn an_interface_is_up_when_its_up_flag_is_set() {
        let root = FakeRoot::new();
        root.interface("br-vxlan-00002a", "0x1003\n");
        root.interface("br-vxlan-00002b", "0x1002\n");
        root.interface("broken", "up\n");
        let host = root.host();
        assert!(host.interface_up("br-vxlan-00002a").unwrap());
        assert!(!host.interface_up("br-vxlan-00002b").unwrap());
        assert!(!host.interface_up("br-vxlan-missing").unwrap());
        assert_eq!(
            host.interface_up("broken").unwrap_err().to_string(),
            "unreadable flags `up` of interface broken"
        );
        assert_eq!(
            host.interface_up("../etc").unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn a_networks_dnsmasq_is_a_dnsmasq_process_naming_the_network() {
        let root = FakeRoot::new();
        let (served, other) = (NetworkId::new_v4(), NetworkId::new_v4());
        let conf = format!("--conf-file=/srv/shakenfist/dhcp/{served}/config");
        root.process(1, &["/sbin/init"]);
        root.process(40, &["/usr/sbin/dnsmasq", "--keep-in-foreground", &conf]);
        // Names the other network, but is not dnsmasq.
        root.process(
            41,
            &[
                "/usr/bin/tail",
                &format!("/srv/shakenfist/dhcp/{other}/log"),
            ],
        );
        std::fs::create_dir_all(root.0.join("proc").join("self")).unwrap();
        let host = root.host();
        assert!(host.dnsmasq_running(served).unwrap());
        assert!(!host.dnsmasq_running(other).unwrap());
    }

    #[test]
    fn the_real_proc_and_sys_can_be_read() {
        // On any Linux machine: the loopback interface is up, and no dnsmasq serves a fresh uuid.
        let host = LinuxHost::new(false);
        assert!(host.interface_up("lo").unwrap());
        assert!(!host.dnsmasq_running(NetworkId::new_v4()).unwrap());
    }

    #[test]
    fn a_simulated_host_does_what_it_is_told() {
        let host = SimulatedHost::new(false);
        let network = NetworkId::new_v4();
        assert!(!host.interface_up("br").unwrap());
        host.set_interface("br", true);
        host.set_dnsmasq(network, true);
        assert!(host.interface_up("br").unwrap() && host.dnsmasq_running(network).unwrap());
        host.set_interface("br", false);
        host.set_dnsmasq(network, false);
        assert!(!host.interface_up("br").unwrap() && !host.dnsmasq_running(network).unwrap());
        host.remove_interface("br");
        assert!(!host.is_network_node());
    }
}
