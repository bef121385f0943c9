"""The packaged configuration for a benchmark's daemon: `diagbot config
example` with its log paths pointed at a temp dir and its listen address
at a free port on 127.0.0.1, and an environment without the caller's
MIMALLOC_* and DIAGBOT_* variables (the binary's own defaults)."""
import os
import socket
import subprocess


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def packaged_config(binary, logs, config):
    """Writes the example configuration, watching `logs`, to `config`; returns its port."""
    example = subprocess.run([binary, "config", "example"], check=True,
                             capture_output=True, text=True).stdout
    port = free_port()
    text = (example
            .replace('paths = ["/var/log"]', f'paths = ["{logs}"]', 1)
            .replace('listen = "127.0.0.1:9187"', f'listen = "127.0.0.1:{port}"', 1))
    assert f'"{logs}"' in text and str(port) in text, "the example's defaults moved"
    with open(config, "w") as f:
        f.write(text)
    return port


def own_defaults_env():
    """The environment without the MIMALLOC_* and DIAGBOT_* variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MIMALLOC_", "DIAGBOT_"))}
