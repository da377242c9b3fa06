//! Where partner pushes may go. A `notify_url` is an absolute `https` URL
//! of a public host, with no `user:password@`: the service sends signed
//! requests to it from inside the cloud, so a loopback, link-local (the
//! metadata service), private, multicast or unspecified address would let
//! a partner aim our server at our own network. Checked when a partner is
//! created and again before every push; the sender also checks every
//! address a name resolves to (so DNS cannot rebind it) and never follows
//! redirects. A development setting allows `http` and local addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// What a refused URL's delivery attempt records (no detail of the target).
pub const REFUSED_PRIVATE: &str = "refused: private address";

/// Why a `notify_url` may not be pushed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotifyRefusal {
    #[error("must be https")]
    PlainHttp,
    #[error("must not carry user:password@ (partners authenticate by signature)")]
    Credentials,
    #[error(
        "must name a public host, not a loopback, link-local, private, multicast or unspecified address"
    )]
    PrivateHost,
}

impl NotifyRefusal {
    /// The delivery record's words for it.
    pub fn as_delivery_error(self) -> &'static str {
        match self {
            Self::PlainHttp => "refused: plain http",
            Self::Credentials => "refused: credentials in notify_url",
            Self::PrivateHost => REFUSED_PRIVATE,
        }
    }
}

/// Checks a parsed `notify_url` against the policy; `allow_local` (for
/// development) lets `http` through and this machine's loopback, never a
/// private, link-local or shared address (the server may run on a cloud
/// machine), and never credentials.
pub fn check_notify_url(url: &Url, allow_local: bool) -> Result<(), NotifyRefusal> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(NotifyRefusal::Credentials);
    }
    let reachable = |ip: IpAddr| is_public(ip) || (allow_local && is_loopback(ip));
    let allowed = match url.host() {
        Some(Host::Ipv4(ip)) => reachable(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => reachable(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => !is_local_name(name) || (allow_local && is_loopback_name(name)),
        None => false,
    };
    if !allowed {
        Err(NotifyRefusal::PrivateHost)
    } else if url.scheme() != "https" && !allow_local {
        Err(NotifyRefusal::PlainHttp)
    } else {
        Ok(())
    }
}

/// This machine's own address (127.0.0.0/8, ::1, or IPv4 loopback in IPv6).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

fn is_loopback_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Names that always mean this machine or its network.
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.ends_with(".local")
        || name.ends_with(".internal")
}

/// Whether an address is on the public internet: not loopback,
/// link-local, private, shared (CGNAT), multicast, broadcast, unspecified
/// or reserved, including IPv4 written inside IPv6 (mapped, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        // Shared address space (RFC 6598) and IETF protocol assignments.
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        // Benchmarking (RFC 2544) and the old 6to4 relay anycast.
        || (a == 198 && (18..20).contains(&b))
        || (a == 192 && b == 88 && ip.octets()[2] == 99))
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let seg = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address;
    // local-use NAT64 (64:ff9b:1::/48) is never public.
    if seg[..3] == [0x64, 0xff9b, 1] {
        return false;
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let o = ip.octets();
        return public_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if seg[0] == 0x2002 {
        let o = ip.octets();
        return public_v4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local (fc00::/7), link-local (fe80::/10) and the old
        // site-local (fec0::/10).
        || (seg[0] & 0xfe00) == 0xfc00
        || (seg[0] & 0xffc0) == 0xfe80
        || (seg[0] & 0xffc0) == 0xfec0
        // IPv4-compatible (::/96) and documentation (2001:db8::/32).
        || seg[..6] == [0, 0, 0, 0, 0, 0]
        || (seg[0] == 0x2001 && seg[1] == 0x0db8))
}

/// A stored URL as it may be shown: without any `user:password@` that a
/// partner created before the rule was given.
pub fn shown_notify_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.as_str().trim_end_matches('/').to_owned()
        }
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, allow_local: bool) -> Result<(), NotifyRefusal> {
        check_notify_url(&Url::parse(raw).unwrap(), allow_local)
    }

    #[test]
    fn only_public_https_hosts_without_credentials_pass() {
        assert_eq!(check("https://hub.example.net/evcs", false), Ok(()));
        assert_eq!(check("https://8.8.8.8/evcs", false), Ok(()));
        assert_eq!(check("https://[2606:4700::1111]/evcs", false), Ok(()));
        assert_eq!(
            check("http://hub.example.net/evcs", false),
            Err(NotifyRefusal::PlainHttp)
        );
        assert_eq!(
            check("https://user:pw@hub.example.net/", false),
            Err(NotifyRefusal::Credentials)
        );
        assert_eq!(
            check("http://user:pw@127.0.0.1/", true),
            Err(NotifyRefusal::Credentials),
            "the development setting never allows credentials"
        );
        assert_eq!(check("http://127.0.0.1:8080/evcs", true), Ok(()));
        assert_eq!(check("http://localhost:8080/evcs", true), Ok(()));
        assert_eq!(check("http://[::1]:8080/evcs", true), Ok(()));
        assert_eq!(check("http://hub.example.net/evcs", true), Ok(()));
    }

    #[test]
    fn the_development_setting_allows_loopback_only() {
        for raw in [
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://192.168.1.1/",
            "http://[fe80::1]/",
            "http://metadata.google.internal/",
            "http://printer.local/",
        ] {
            assert_eq!(check(raw, true), Err(NotifyRefusal::PrivateHost), "{raw}");
        }
    }

    #[test]
    fn every_way_of_writing_a_local_address_is_refused() {
        for raw in [
            "https://127.0.0.1/",
            "https://0x7f000001/",
            "https://2130706433/",
            "https://127.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::]/",
            "https://224.0.0.1/",
            "https://[ff02::1]/",
            "https://[fc00::1]/",
            "https://[fe80::1]/",
            "https://[64:ff9b::a00:1]/",
            "https://[2002:c0a8:101::]/",
            "https://[fec0::1]/",
            "https://[64:ff9b:1::a00:1]/",
            "https://192.88.99.1/",
            "https://localhost/",
            "https://api.localhost/",
            "https://metadata.google.internal/",
            "https://printer.local/",
        ] {
            assert_eq!(check(raw, false), Err(NotifyRefusal::PrivateHost), "{raw}");
        }
    }

    #[test]
    fn credentials_are_not_shown() {
        assert_eq!(
            shown_notify_url("https://user:secret@hub.example.net/evcs"),
            "https://hub.example.net/evcs"
        );
        assert_eq!(
            shown_notify_url("https://hub.example.net/evcs"),
            "https://hub.example.net/evcs"
        );
    }
}
