//! Against DNS rebinding: without a token, a web page the operator opens
//! elsewhere could point a name of its own at 127.0.0.1 and read the API and
//! the dashboard through the browser. The browser sends that name as
//! `Host`, so a request is answered only when its `Host` names this daemon:
//! the listen address, `localhost`, or a name in `http.allowed_hosts`.

use std::net::SocketAddr;

/// Whether `host` (the request's `Host` header, `None` without one) names
/// the daemon listening on `listen`. A request without `Host` comes from no
/// browser (HTTP/1.0 tools) and is let through.
pub fn names_this_daemon(host: Option<&str>, listen: SocketAddr, allowed: &[String]) -> bool {
    let Some(host) = host else { return true };
    let name = without_port(host.trim()).to_ascii_lowercase();
    let listen_ip = listen.ip().to_string();
    name == "localhost" || name == listen_ip || allowed.contains(&name)
}

/// `127.0.0.1:9187` → `127.0.0.1`, `[::1]:9187` → `::1`, `name` → `name`.
fn without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listen_address_localhost_and_configured_names_pass_and_others_do_not() {
        let v4: SocketAddr = "127.0.0.1:9187".parse().unwrap_or_else(|_| unreachable!());
        let v6: SocketAddr = "[::1]:9187".parse().unwrap_or_else(|_| unreachable!());
        let allowed = ["diagbot.lan".to_string()];
        for host in [
            "127.0.0.1:9187",
            "127.0.0.1",
            "localhost:9187",
            "LOCALHOST",
            "diagbot.lan:80",
        ] {
            assert!(names_this_daemon(Some(host), v4, &allowed), "{host}");
        }
        for host in [
            "rebind.example",
            "rebind.example:9187",
            "127.0.0.1.rebind.example",
            "[::1]:9187",
            "",
        ] {
            assert!(!names_this_daemon(Some(host), v4, &allowed), "{host}");
        }
        assert!(names_this_daemon(Some("[::1]:9187"), v6, &[]));
        assert!(names_this_daemon(None, v4, &[]), "no Host: not a browser");
    }
}
