//! Which address a request comes from, for the login rate limiter and audit entries: the TCP
//! peer, unless the peer is a trusted proxy (`trusted_proxies`, static setting). Then the
//! client is the rightmost address of `X-Forwarded-For` that is not itself a trusted proxy:
//! each proxy appends the address it received the request from, so everything left of the
//! first untrusted hop was written by someone we do not trust and is ignored. From an untrusted
//! peer the header is ignored whole, so a client cannot pick the address it is counted under.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// Most `X-Forwarded-For` entries examined, from the right (a chain of proxies is short).
const FORWARDED_ENTRIES_MAX: usize = 32;

/// An address block: `10.0.0.0/8`, `::1/128`, or a bare address (a /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("trusted proxy {text:?}: not an IP address or CIDR block"))?;
        let network = network.to_canonical();
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| format!("trusted proxy {text:?}: prefix must be 0..={width}"))?,
        };
        Ok(Cidr { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                prefix_matches(&network.octets(), &address.octets(), self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                prefix_matches(&network.octets(), &address.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn prefix_matches(network: &[u8], address: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    if network[..full] != address[..full] {
        return false;
    }
    let bits = prefix % 8;
    if bits == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - bits);
    network[full] & mask == address[full] & mask
}

/// The client address of a request that arrived from `peer` with `headers`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |address: IpAddr| trusted.iter().any(|cidr| cidr.contains(address));
    if !is_trusted(peer) {
        return peer;
    }
    // Every X-Forwarded-For line, in order, as one list; read from the right.
    let lines: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    let mut client = peer;
    let entries = lines
        .iter()
        .rev()
        .flat_map(|line| line.rsplit(','))
        .take(FORWARDED_ENTRIES_MAX);
    for entry in entries {
        let Some(address) = parse_forwarded(entry) else {
            // Garbage from a hop we trusted so far: the last good address stands.
            break;
        };
        client = address;
        if !is_trusted(address) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly `[v6]` or with a port.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address.to_canonical());
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<IpAddr>().ok())
        .map(|address| address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_match() {
        let block = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(block.contains(ip("10.1.200.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(
            Cidr::parse("127.0.0.1")
                .unwrap()
                .contains(ip("::ffff:127.0.0.1"))
        );
        assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(!Cidr::parse("::/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("proxy.local").is_err());
        assert!(Cidr::parse("10.0.0.0/x").is_err());
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let spoofed = headers(&["1.2.3.4"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &spoofed, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client_ip(ip("10.0.0.5"), &spoofed, &trusted), ip("1.2.3.4"));
        assert_eq!(client_ip(ip("10.0.0.5"), &spoofed, &[]), ip("10.0.0.5"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // The client put a fake address first; our proxies appended the real one and theirs.
        let chain = headers(&["6.6.6.6, 198.51.100.7", "10.0.0.9"]);
        assert_eq!(
            client_ip(ip("10.0.0.5"), &chain, &trusted),
            ip("198.51.100.7")
        );
        // Every hop trusted: the leftmost.
        let inner = headers(&["10.3.3.3, 10.0.0.9"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &inner, &trusted), ip("10.3.3.3"));
        // Garbage stops the walk at the last good address.
        let garbage = headers(&["198.51.100.7, junk, 10.0.0.9"]);
        assert_eq!(
            client_ip(ip("10.0.0.5"), &garbage, &trusted),
            ip("10.0.0.9")
        );
        let ported = headers(&["[2001:db8::1]:4711"]);
        assert_eq!(
            client_ip(ip("10.0.0.5"), &ported, &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_ip(ip("10.0.0.5"), &HeaderMap::new(), &trusted),
            ip("10.0.0.5")
        );
    }
}
