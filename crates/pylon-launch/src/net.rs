//! What the guest may do on the network: nothing (the default), everything
//! (`--allow-net`), or talk to the services named on the command line
//! (`--allow-net=HOST:PORT,…`).
//!
//! Grants name services, not guest operations: the launcher resolves each HOST itself
//! when the run starts, and wasmtime's per-address check then admits exactly those
//! addresses, whatever the guest's own lookups answer. Name lookups stay on under a
//! grant so that the guest can resolve the names it was granted (a lookup is traffic to
//! the host's resolver, which README says). Without `--allow-net` at all the guest
//! still has its own loopback ([`NetPolicy`] says why).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Mutex;

use wasmtime_wasi::sockets::SocketAddrUse;

use crate::LaunchError;

/// The guest's network access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NetAccess {
    /// No socket and no name lookup.
    #[default]
    Denied,
    /// `--allow-net`: TCP and UDP to any address, and name lookups.
    All,
    /// `--allow-net=HOST:PORT,…`: these services only, and name lookups.
    Only(Vec<NetGrant>),
}

/// One `HOST:PORT` of `--allow-net=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetGrant {
    /// A name, an IPv4 address, or an IPv6 address without its brackets.
    pub host: String,
    pub port: u16,
}

impl NetAccess {
    /// Adds one `--allow-net` option: `value` is `None` for the bare flag.
    pub(crate) fn add_option(&mut self, value: Option<&str>) -> Result<(), LaunchError> {
        let Some(list) = value else {
            *self = NetAccess::All;
            return Ok(());
        };
        let mut grants = Vec::new();
        for item in list.split(',') {
            let grant = parse_grant(item.trim())
                .map_err(|reason| LaunchError::invalid("--allow-net", item, &reason))?;
            grants.push(grant);
        }
        match self {
            NetAccess::All => {}
            NetAccess::Only(existing) => existing.extend(grants),
            NetAccess::Denied => *self = NetAccess::Only(grants),
        }
        Ok(())
    }
}

fn parse_grant(item: &str) -> Result<NetGrant, String> {
    if item.is_empty() {
        return Err("expected HOST:PORT (e.g. example.org:443, 127.0.0.1:8080, [::1]:8443)".into());
    }
    let (host, port) = if let Some(rest) = item.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address in brackets needs its closing `]`")?;
        let port = after
            .strip_prefix(':')
            .ok_or("expected `:PORT` after the bracketed address")?;
        host.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("`{host}` is not an IPv6 address"))?;
        (host, port)
    } else {
        let (host, port) = item
            .rsplit_once(':')
            .ok_or("expected HOST:PORT (a port is required)")?;
        if host.contains(':') {
            return Err("write an IPv6 address in brackets: [ADDRESS]:PORT".into());
        }
        (host, port)
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("`{port}` is not a port (1-65535)"))?;
    Ok(NetGrant {
        host: host.to_string(),
        port,
    })
}

/// The per-address check of a run that is not `--allow-net` (everything): the granted
/// services, resolved when the run starts, and the guest's own loopback listeners.
///
/// Loopback within the guest is always allowed, grant or not: CPython on WASI builds
/// `socket.socketpair()` from a TCP listener on 127.0.0.1 and a connection to it, and
/// every asyncio event loop starts with one. So a guest may listen on a loopback
/// address with an ephemeral port, and connect to a loopback port it listens on; it
/// reaches nothing of the host that way (a host program on the same machine could
/// connect to such a listener, as to any loopback port).
#[derive(Debug, Default)]
pub struct NetPolicy {
    granted: HashSet<(IpAddr, u16)>,
    /// Loopback addresses the guest has listened on (kept after it closes them: the
    /// check sees no close).
    guest_listeners: Mutex<HashSet<(IpAddr, u16)>>,
}

impl NetPolicy {
    /// No grant: only the guest's own loopback (`--allow-net` absent).
    pub fn denied() -> NetPolicy {
        NetPolicy::default()
    }

    /// Resolves every grant; a name that does not resolve is an error naming it.
    pub fn granting(grants: &[NetGrant]) -> Result<NetPolicy, LaunchError> {
        let mut granted = HashSet::new();
        for g in grants {
            let spec = format!("{}:{}", g.host, g.port);
            let addrs = (g.host.as_str(), g.port).to_socket_addrs().map_err(|e| {
                LaunchError::invalid(
                    "--allow-net",
                    &spec,
                    &format!("cannot resolve `{}`: {e}", g.host),
                )
            })?;
            let resolved: Vec<_> = addrs.map(key).collect();
            if resolved.is_empty() {
                return Err(LaunchError::invalid(
                    "--allow-net",
                    &spec,
                    &format!("`{}` resolves to no address", g.host),
                ));
            }
            granted.extend(resolved);
        }
        Ok(NetPolicy {
            granted,
            guest_listeners: Mutex::default(),
        })
    }

    /// Whether the guest may use `addr` for `usage`.
    pub fn admits(&self, addr: SocketAddr, usage: SocketAddrUse) -> bool {
        let addr = key(addr);
        let granted = self.granted.contains(&addr);
        let loopback = addr.0.is_loopback();
        match usage {
            // A client socket's own end: the wildcard address with an ephemeral port,
            // which connect (TCP) and the first send (UDP) take implicitly; a loopback
            // address with an ephemeral port (the guest's own listener). Binding a
            // granted address serves on it.
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                granted || (addr.1 == 0 && (addr.0.is_unspecified() || loopback))
            }
            // On a granted address, or on loopback (the guest's own socket pairs).
            SocketAddrUse::TcpListen => {
                if loopback && addr.1 != 0 {
                    self.listeners().insert(addr);
                    return true;
                }
                granted
            }
            // Whoever connects to a listener the guest was allowed to open.
            SocketAddrUse::TcpAccept => true,
            SocketAddrUse::TcpConnect => granted || (loopback && self.listeners().contains(&addr)),
            SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => granted,
        }
    }

    fn listeners(&self) -> std::sync::MutexGuard<'_, HashSet<(IpAddr, u16)>> {
        // The set stays consistent whatever a panicking holder did (one insert).
        self.guest_listeners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An address as compared with the grants: an IPv4-mapped IPv6 address is its IPv4
/// address (a dual-stack socket connects to `::ffff:127.0.0.1`), scope and flow ignored.
fn key(addr: SocketAddr) -> (IpAddr, u16) {
    (addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(list: &str) -> Vec<NetGrant> {
        let mut access = NetAccess::Denied;
        access.add_option(Some(list)).unwrap();
        match access {
            NetAccess::Only(g) => g,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn grant_syntax() {
        let g = grants("example.org:443, 127.0.0.1:8080,[::1]:8443");
        assert_eq!(
            g[0],
            NetGrant {
                host: "example.org".into(),
                port: 443
            }
        );
        assert_eq!(
            g[1],
            NetGrant {
                host: "127.0.0.1".into(),
                port: 8080
            }
        );
        assert_eq!(
            g[2],
            NetGrant {
                host: "::1".into(),
                port: 8443
            }
        );
        for bad in [
            "",
            "host",
            "host:",
            "host:0",
            "host:70000",
            ":80",
            "::1:80",
            "[::1]",
            "[nope]:80",
            "a:1,",
        ] {
            let mut access = NetAccess::Denied;
            assert!(access.add_option(Some(bad)).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn options_accumulate_and_the_bare_flag_wins() {
        let mut access = NetAccess::Denied;
        access.add_option(Some("a:1")).unwrap();
        access.add_option(Some("b:2")).unwrap();
        assert_eq!(
            access,
            NetAccess::Only(vec![
                NetGrant {
                    host: "a".into(),
                    port: 1
                },
                NetGrant {
                    host: "b".into(),
                    port: 2
                },
            ])
        );
        access.add_option(None).unwrap();
        access.add_option(Some("c:3")).unwrap();
        assert_eq!(access, NetAccess::All);
    }

    #[test]
    fn granted_addresses_only() {
        let set = NetPolicy::granting(&grants("127.0.0.1:8080,[::1]:8443")).unwrap();
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:8080".parse().unwrap();
        let other_port: SocketAddr = "127.0.0.1:8081".parse().unwrap();
        let v6: SocketAddr = "[::1]:8443".parse().unwrap();
        assert!(set.admits(v4, SocketAddrUse::TcpConnect));
        assert!(set.admits(mapped, SocketAddrUse::TcpConnect));
        assert!(set.admits(v6, SocketAddrUse::UdpSend));
        assert!(!set.admits(other_port, SocketAddrUse::TcpConnect));
        assert!(!set.admits(other_port, SocketAddrUse::UdpReceive));
        // The implicit bind of a client socket, not a server on an ephemeral port.
        assert!(set.admits("0.0.0.0:0".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(set.admits("[::]:0".parse().unwrap(), SocketAddrUse::UdpBind));
        assert!(!set.admits("0.0.0.0:0".parse().unwrap(), SocketAddrUse::TcpListen));
        assert!(!set.admits("0.0.0.0:8080".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(!set.admits("0.0.0.0:8081".parse().unwrap(), SocketAddrUse::TcpListen));
        assert!(set.admits(v4, SocketAddrUse::TcpBind));
        assert!(set.admits(v4, SocketAddrUse::TcpListen));
    }

    #[test]
    fn the_guests_own_loopback_only_without_a_grant() {
        let p = NetPolicy::denied();
        let host_service: SocketAddr = "127.0.0.1:5432".parse().unwrap();
        assert!(!p.admits(host_service, SocketAddrUse::TcpConnect));
        // socketpair(): bind 127.0.0.1:0, listen (the check sees the real port), connect.
        assert!(p.admits("127.0.0.1:0".parse().unwrap(), SocketAddrUse::TcpBind));
        let own: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert!(!p.admits(own, SocketAddrUse::TcpConnect));
        assert!(p.admits(own, SocketAddrUse::TcpListen));
        assert!(p.admits("0.0.0.0:0".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(p.admits(own, SocketAddrUse::TcpConnect));
        assert!(p.admits(
            "[::ffff:127.0.0.1]:40001".parse().unwrap(),
            SocketAddrUse::TcpConnect
        ));
        assert!(!p.admits(host_service, SocketAddrUse::TcpConnect));
        // Not on other interfaces, not a fixed port of its choosing, no UDP.
        assert!(!p.admits("0.0.0.0:0".parse().unwrap(), SocketAddrUse::TcpListen));
        assert!(!p.admits("10.0.0.1:0".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(!p.admits("127.0.0.1:8080".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(!p.admits(own, SocketAddrUse::UdpSend));
    }

    #[test]
    fn names_are_resolved_by_the_launcher() {
        let set = NetPolicy::granting(&grants("localhost:9")).unwrap();
        assert!(set.admits("127.0.0.1:9".parse().unwrap(), SocketAddrUse::TcpConnect));
        let err = NetPolicy::granting(&grants("no-such-host.invalid:80")).unwrap_err();
        assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
    }
}
