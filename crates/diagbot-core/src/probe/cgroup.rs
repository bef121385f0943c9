//! A cgroup's memory: use, limit and OOM kills, from cgroup v2
//! (`memory.current`, `memory.max`, `memory.events`) or the v1 memory
//! controller (`memory.usage_in_bytes`, `memory.limit_in_bytes`,
//! `memory.oom_control`), under a configurable `/sys` root.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ProbeError;

/// v1 writes "no limit" as a number near `i64::MAX`, rounded to pages.
const V1_UNLIMITED_FROM: u64 = 1 << 62;

/// One cgroup's memory, in bytes; a figure whose file could not be read is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CgroupMemory {
    /// `/system.slice/bot.service`.
    pub path: String,
    /// 1 or 2.
    pub version: u8,
    /// Use charged to the cgroup, page cache included.
    pub current_bytes: Option<u64>,
    /// The limit; `None` when there is none.
    pub limit_bytes: Option<u64>,
    /// OOM kills inside the cgroup (v2 `memory.events`, v1 `memory.oom_control`,
    /// the latter since kernel 4.13).
    pub oom_kills: Option<u64>,
    /// The PIDs in the cgroup itself (`cgroup.procs`).
    #[serde(skip_serializing, default)]
    pub procs: Vec<u32>,
}

/// Reads the memory files of cgroup `path`: v2 at `sys_root/fs/cgroup/PATH`,
/// else v1 at `sys_root/fs/cgroup/memory/PATH`.
pub fn read(sys_root: &Path, path: &str) -> Result<CgroupMemory, ProbeError> {
    let relative = path.trim_start_matches('/');
    let base = sys_root.join("fs/cgroup");
    let v2 = base.join(relative);
    if v2.join("memory.current").is_file() {
        return Ok(CgroupMemory {
            path: path.to_string(),
            version: 2,
            current_bytes: number(&v2.join("memory.current")),
            limit_bytes: std::fs::read_to_string(v2.join("memory.max"))
                .ok()
                .and_then(|t| t.trim().parse().ok()),
            oom_kills: std::fs::read_to_string(v2.join("memory.events"))
                .ok()
                .and_then(|t| keyed(&t, "oom_kill")),
            procs: procs(&v2),
        });
    }
    let v1 = base.join("memory").join(relative);
    if v1.join("memory.usage_in_bytes").is_file() {
        return Ok(CgroupMemory {
            path: path.to_string(),
            version: 1,
            current_bytes: number(&v1.join("memory.usage_in_bytes")),
            limit_bytes: number(&v1.join("memory.limit_in_bytes"))
                .filter(|&l| l < V1_UNLIMITED_FROM),
            oom_kills: std::fs::read_to_string(v1.join("memory.oom_control"))
                .ok()
                .and_then(|t| keyed(&t, "oom_kill")),
            procs: {
                // systemd keeps its own v1 hierarchy, which holds every process of the unit.
                let named = base.join("systemd").join(relative);
                let p = procs(&named);
                if p.is_empty() {
                    procs(&v1)
                } else {
                    p
                }
            },
        });
    }
    Err(ProbeError::NoCgroupMemory {
        cgroup: path.to_string(),
        base,
        v2,
        v1,
    })
}

fn number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `oom_kill 3` in a `key value` file.
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

fn procs(dir: &Path) -> Vec<u32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn v2_use_limit_and_oom_kills() {
        let dir = tempfile::tempdir().unwrap();
        let cg = "fs/cgroup/system.slice/bot.service";
        write(dir.path(), &format!("{cg}/memory.current"), "576716800\n");
        write(dir.path(), &format!("{cg}/memory.max"), "943718400\n");
        write(
            dir.path(),
            &format!("{cg}/memory.events"),
            "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n",
        );
        write(dir.path(), &format!("{cg}/cgroup.procs"), "908\n912\n");
        let m = read(dir.path(), "/system.slice/bot.service").unwrap();
        assert_eq!(m.version, 2);
        assert_eq!(m.current_bytes, Some(576_716_800));
        assert_eq!(m.limit_bytes, Some(943_718_400));
        assert_eq!(m.oom_kills, Some(2));
        assert_eq!(m.procs, vec![908, 912]);
    }

    #[test]
    fn v2_without_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "fs/cgroup/a/memory.current", "100\n");
        write(dir.path(), "fs/cgroup/a/memory.max", "max\n");
        assert_eq!(read(dir.path(), "/a").unwrap().limit_bytes, None);
    }

    #[test]
    fn v1_as_on_this_machine() {
        let dir = tempfile::tempdir().unwrap();
        let cg = "fs/cgroup/memory/process_api/x";
        write(
            dir.path(),
            &format!("{cg}/memory.usage_in_bytes"),
            "5242880\n",
        );
        write(
            dir.path(),
            &format!("{cg}/memory.limit_in_bytes"),
            "9223372036854771712\n",
        );
        write(
            dir.path(),
            &format!("{cg}/memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
        );
        write(dir.path(), &format!("{cg}/cgroup.procs"), "7\n");
        let m = read(dir.path(), "/process_api/x").unwrap();
        assert_eq!(m.version, 1);
        assert_eq!(m.limit_bytes, None, "the v1 'unlimited' number is no limit");
        assert_eq!(m.oom_kills, Some(1));
        assert_eq!(m.procs, vec![7]);
    }

    #[test]
    fn missing_files_say_where_they_were_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path(), "/nope.service").unwrap_err().to_string();
        assert!(e.contains("nope.service") && e.contains("v1"), "{e}");
    }
}
