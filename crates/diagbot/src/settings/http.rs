//! `[http]`: where the API listens, its token, and how long a request may take.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use diagbot_core::config::units::Human;
use diagbot_core::config::{ConfigError, Locator};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::secret::{read_token, Secret};

/// The port diagbot listens on by default (on 127.0.0.1).
pub const DEFAULT_PORT: u16 = 9187;

/// `[http]` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawHttp {
    /// Address and port.
    pub listen: Spanned<String>,
    /// A bearer token every request must carry.
    pub token: Spanned<String>,
    /// A file holding the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<Spanned<PathBuf>>,
    /// Requests running longer get 408.
    pub request_timeout: Human<Duration>,
    /// Host names requests may use besides the listen address and
    /// `localhost`, when no token is set (against DNS rebinding).
    pub allowed_hosts: Vec<Spanned<String>>,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            listen: Spanned::new(0..0, format!("127.0.0.1:{DEFAULT_PORT}")),
            token: Spanned::new(0..0, String::new()),
            token_file: None,
            request_timeout: Human(Duration::from_secs(30)),
            allowed_hosts: Vec::new(),
        }
    }
}

/// The HTTP API's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// Where it listens.
    pub listen: SocketAddr,
    /// The bearer token (empty: none needed).
    pub token: Secret,
    /// Where the token was read from, when from a file.
    pub token_file: Option<PathBuf>,
    /// Requests running longer get 408.
    pub request_timeout: Duration,
    /// Host names allowed besides the listen address and `localhost`
    /// (lower case), when no token is set.
    pub allowed_hosts: Vec<String>,
}

impl RawHttp {
    /// Checks the section: an address, a token when not on loopback.
    pub fn check(&self, at: &Locator) -> Result<HttpSettings, ConfigError> {
        let listen: SocketAddr = self.listen.get_ref().parse().map_err(|e| {
            at.error(
                self.listen.span(),
                "http.listen",
                format!(
                    "{:?} is not an address such as 127.0.0.1:{DEFAULT_PORT}: {e}",
                    self.listen.get_ref()
                ),
            )
        })?;
        let file = self.token_file.as_ref();
        let token = read_token(self.token.get_ref(), file.map(|f| f.get_ref().as_path())).map_err(
            |(key, problem)| {
                let span = match key {
                    "token_file" => file.map_or(self.token.span(), Spanned::span),
                    _ => self.token.span(),
                };
                at.error(span, &format!("http.{key}"), problem)
            },
        )?;
        if !listen.ip().is_loopback() && token.is_empty() {
            return Err(at.error(
                self.listen.span(),
                "http.listen",
                format!("{listen} is not a loopback address: set http.token (or http.token_file) so that requests need it"),
            ));
        }
        let mut allowed_hosts = Vec::new();
        for host in &self.allowed_hosts {
            let name = host.get_ref().trim().to_ascii_lowercase();
            let fine = !name.is_empty()
                && name.len() <= 253
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !fine {
                return Err(at.error(
                    host.span(),
                    "http.allowed_hosts",
                    format!(
                        "{:?} is not a host name such as diagbot.example (letters, digits, dots and dashes; no port)",
                        host.get_ref()
                    ),
                ));
            }
            allowed_hosts.push(name);
        }
        Ok(HttpSettings {
            listen,
            token,
            token_file: file.map(|f| f.get_ref().clone()),
            request_timeout: self.request_timeout.0.max(Duration::from_millis(100)),
            allowed_hosts,
        })
    }
}

impl From<&HttpSettings> for RawHttp {
    /// A token read from a file is written as that file; one given inline is
    /// not written at all (see `settings::print`).
    fn from(h: &HttpSettings) -> Self {
        RawHttp {
            listen: Spanned::new(0..0, h.listen.to_string()),
            token: Spanned::new(0..0, String::new()),
            token_file: h.token_file.clone().map(|f| Spanned::new(0..0, f)),
            request_timeout: Human(h.request_timeout),
            allowed_hosts: h
                .allowed_hosts
                .iter()
                .map(|n| Spanned::new(0..0, n.clone()))
                .collect(),
        }
    }
}
