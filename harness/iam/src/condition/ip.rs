//! IpAddress / NotIpAddress: IPv4 and IPv6 CIDR blocks; a bare address is a /32 (or /128).

use ipnet::IpNet;
use std::net::IpAddr;

pub(crate) fn parse_net(s: &str) -> Option<IpNet> {
    if s.contains('/') {
        s.parse::<IpNet>().ok()
    } else {
        s.parse::<IpAddr>().ok().map(IpNet::from)
    }
}

/// The request side is an address; a CIDR there is accepted too and must lie inside the block.
/// `None` when it is neither.
pub(crate) fn parse_request(request_value: &str) -> Option<IpNet> {
    match request_value.parse::<IpAddr>() {
        Ok(ip) => Some(IpNet::from(ip)),
        Err(_) => request_value.parse::<IpNet>().ok(),
    }
}

#[cfg(test)]
fn contains(net: &IpNet, request_value: &str) -> bool {
    parse_request(request_value).is_some_and(|r| net.contains(&r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_v6_and_bare_addresses() {
        let n = parse_net("203.0.113.0/24").unwrap();
        assert!(contains(&n, "203.0.113.1"));
        assert!(!contains(&n, "198.51.100.1"));
        assert!(!contains(&n, "not-an-ip"));
        let v6 = parse_net("2001:DB8:1234:5678::/64").unwrap();
        assert!(contains(&v6, "2001:db8:1234:5678::1"));
        assert!(!contains(&v6, "203.0.113.1"));
        let bare = parse_net("203.0.113.7").unwrap();
        assert!(contains(&bare, "203.0.113.7"));
        assert!(!contains(&bare, "203.0.113.8"));
        assert!(parse_net("203.0.113.0/33").is_none());
    }
}
