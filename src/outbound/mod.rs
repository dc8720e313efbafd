//! The one way the server fetches from the network: media fetch, webhooks, WebSub pings and
//! cache purges all go through [`Guard`].
//!
//! - **Where**: http and https only, no credentials in the URL; the host is resolved once and
//!   every address it has is checked, then the connection goes to that checked address (no
//!   second lookup a DNS trick could change). Loopback, private ranges, link-local (cloud
//!   metadata at 169.254.169.254), carrier-grade NAT, multicast, documentation and other
//!   special ranges are refused unless the guard allows private addresses (operators' own
//!   receivers: `[outbound] allow_private`, `[webhooks] allow_private`, purge targets).
//! - **Redirects** are followed by hand, up to a limit, and each hop is checked as the first was.
//! - **Limits**: a connect and a whole-request timeout, and a largest body, read in chunks so
//!   an oversized answer is refused without being held whole.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::{Method, Url};

/// What a fetch may do.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Allow loopback, private and link-local addresses (a receiver on this host or LAN).
    pub allow_private: bool,
    /// Private addresses allowed one by one (`[outbound] allow`), when not all of them are.
    pub allow: Vec<IpAddr>,
    /// The setting that would allow a refused private address, named in the refusal.
    pub allowed_by: &'static str,
    /// Redirects followed (0: a redirect is the answer).
    pub max_redirects: usize,
    /// The whole request, connection included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Largest body read from the answer.
    pub max_bytes: usize,
    pub user_agent: &'static str,
}

impl Default for Guard {
    fn default() -> Self {
        Self {
            allow_private: false,
            allow: Vec::new(),
            allowed_by: "[outbound] allow = [\"ADDRESS\"] (or allow_private = true)",
            max_redirects: 5,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_bytes: 8 << 20,
            user_agent: concat!("Gazette/", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The address that answered (after redirects).
    pub url: Url,
}

/// Whether an address is never a public server: this host, private networks, link-local,
/// carrier-grade NAT, multicast, documentation, benchmarking and reserved ranges.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || a == 100 && (64..128).contains(&b) // carrier-grade NAT
                || a == 192 && b == 0 && v4.octets()[2] == 0 // IETF protocol assignments
                || a == 198 && (18..20).contains(&b) // benchmarking
                || a >= 240 // reserved
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
                || first == 0x0064 && v6.segments()[1] == 0xff9b // NAT64: an IPv4 address inside
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
                || v6.to_ipv4().is_some_and(|v4| v6.segments()[..6].iter().all(|s| *s == 0) && is_private(IpAddr::V4(v4)))
        }
    }
}

/// Checks a URL as given: http(s), a host, no credentials.
pub fn check_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url.trim()).map_err(|e| format!("{url:?} is not a URL ({e})."))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} is not an http:// or https:// address."));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host."));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("Put no user name or password in the URL.".into());
    }
    Ok(parsed)
}

impl Guard {
    /// Resolves the URL's host and returns the address to connect to, or why not.
    pub async fn address(&self, url: &Url) -> Result<SocketAddr, String> {
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| format!("the host {host} could not be found ({e})"))?
            .collect();
        let first = addrs.first().copied().ok_or_else(|| format!("the host {host} has no address"))?;
        if !self.allow_private
            && let Some(bad) = addrs.iter().find(|a| is_private(a.ip()) && !self.allow.contains(&a.ip()))
        {
            return Err(format!(
                "{host} is at {}, a private or local address; the server fetches only from public \
                 addresses unless the configuration allows it: {}",
                bad.ip(),
                self.allowed_by
            ));
        }
        Ok(first)
    }

    /// GET `url`, following redirects (each hop checked).
    pub async fn get(&self, url: &str) -> Result<Answer, String> {
        self.send(Method::GET, url, Vec::new(), Vec::new()).await
    }

    /// Sends a request with headers and a body (redirects are followed only by GET).
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> Result<Answer, String> {
        crate::websub::install_tls();
        let mut url = check_url(url)?;
        let mut hops = 0;
        loop {
            let addr = self.address(&url).await?;
            let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
            let client = reqwest::Client::builder()
                .resolve(&host, addr)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout.min(self.timeout))
                .user_agent(self.user_agent)
                .build()
                .map_err(|e| format!("could not make an HTTP client: {e}"))?;
            let mut request = client.request(method.clone(), url.clone());
            for (name, value) in &headers {
                request = request.header(*name, value);
            }
            if !body.is_empty() || method == Method::POST {
                request = request.body(body.clone());
            }
            let mut response = request.send().await.map_err(|e| describe(&e, self.timeout))?;
            let status = response.status();
            if status.is_redirection()
                && method == Method::GET
                && let Some(location) = response.headers().get(reqwest::header::LOCATION)
            {
                if hops >= self.max_redirects {
                    return Err(format!("more than {} redirects", self.max_redirects));
                }
                let location =
                    location.to_str().map_err(|_| "a redirect to an unreadable address".to_owned())?;
                let next = url.join(location).map_err(|e| format!("a redirect to {location:?} ({e})"))?;
                url = check_url(next.as_str())?;
                hops += 1;
                continue;
            }
            if response.content_length().is_some_and(|n| n > self.max_bytes as u64) {
                return Err(too_large(
                    response.content_length().unwrap_or_default() as usize,
                    self.max_bytes,
                ));
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e, self.timeout))? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > self.max_bytes {
                    return Err(too_large(bytes.len(), self.max_bytes));
                }
            }
            return Ok(Answer { status: status.as_u16(), content_type, body: bytes, url });
        }
    }
}

fn too_large(len: usize, max: usize) -> String {
    if max >= 1 << 20 {
        format!("larger than the limit ({} MB or more; the limit is {} MB)", len.div_ceil(1 << 20), max >> 20)
    } else {
        format!("larger than the limit ({len} bytes or more; the limit is {max} bytes)")
    }
}

/// The innermost cause says what happened (a refused connection, an unknown host).
fn describe(err: &reqwest::Error, timeout: Duration) -> String {
    let mut cause = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let what = if err.is_timeout() {
        format!("no answer within {} s", timeout.as_secs())
    } else if err.is_connect() {
        "could not connect to the server".to_owned()
    } else {
        "the request failed".to_owned()
    };
    if cause.is_empty() { what } else { format!("{what} ({cause})") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_ranges_are_private() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "ff02::1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_before_any_lookup() {
        assert!(check_url("ftp://example.com/x").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("https://user:pw@example.com/").is_err());
        assert!(check_url("http://").is_err());
        assert!(check_url("https://example.com/a.png").is_ok());
    }

    #[tokio::test]
    async fn private_hosts_are_refused_in_every_spelling() {
        let guard = Guard::default();
        for url in [
            "http://127.0.0.1/",
            "http://localhost/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://017700000001/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://0/",
        ] {
            let err = guard.get(url).await.expect_err(url);
            assert!(err.contains("private or local"), "{url}: {err}");
        }
    }
}
