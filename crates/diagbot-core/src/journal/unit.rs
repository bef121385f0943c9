//! systemd unit names, checked before they reach `journalctl`: a name is
//! passed as one argument, and one that is not a unit name (a space, an
//! `=`, a second match such as `foo _UID=0`) is refused, never passed on.

/// The longest unit name systemd accepts (`UNIT_NAME_MAX`).
const UNIT_NAME_MAX: usize = 255;

/// The suffixes systemd gives unit types; a name without one is a service,
/// as `journalctl -u` reads it.
const UNIT_TYPES: [&str; 11] = [
    "service",
    "socket",
    "device",
    "mount",
    "automount",
    "swap",
    "target",
    "path",
    "timer",
    "slice",
    "scope",
];

/// Why a unit name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a systemd unit name: {why}")]
pub struct BadUnit {
    /// The name as given.
    pub name: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// The full name of the unit `name` means: `crypto-bot` is
/// `crypto-bot.service`, as `journalctl -u crypto-bot` reads it; a name with
/// a unit type keeps it. Only the characters systemd allows in unit names
/// (letters, digits, `:-_.\@`), and no glob.
pub fn unit_name(name: &str) -> Result<String, BadUnit> {
    let bad = |why| BadUnit {
        name: name.to_string(),
        why,
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b))
    {
        return Err(bad(
            "only letters, digits and : - _ . \\ @ may stand in one (see systemd-escape)",
        ));
    }
    if name.starts_with(['.', '-']) {
        return Err(bad("it may not start with '.' or '-'"));
    }
    let typed = name
        .rsplit_once('.')
        .is_some_and(|(stem, kind)| !stem.is_empty() && UNIT_TYPES.contains(&kind));
    let full = if typed {
        name.to_string()
    } else {
        format!("{name}.service")
    };
    if full.len() > UNIT_NAME_MAX {
        return Err(bad("it is longer than 255 bytes"));
    }
    if full.starts_with('@') || full.contains("@.") && !full.ends_with("@.service") {
        return Err(bad("a template needs a name before '@'"));
    }
    Ok(full)
}

/// The unit names in `names`, full, sorted and without repeats: one
/// question however they were written.
pub fn unit_names<S: AsRef<str>>(names: &[S]) -> Result<Vec<String>, BadUnit> {
    let mut units = names
        .iter()
        .map(|n| unit_name(n.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    units.sort();
    units.dedup();
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_is_a_service_and_a_typed_one_keeps_its_type() {
        assert_eq!(unit_name("crypto-bot").unwrap(), "crypto-bot.service");
        assert_eq!(
            unit_name("crypto-bot.service").unwrap(),
            "crypto-bot.service"
        );
        assert_eq!(unit_name("backup.timer").unwrap(), "backup.timer");
        assert_eq!(unit_name("getty@tty1").unwrap(), "getty@tty1.service");
        assert_eq!(unit_name("app.v2").unwrap(), "app.v2.service");
    }

    #[test]
    fn a_second_match_or_an_option_cannot_be_smuggled_in() {
        for name in [
            "foo _UID=0",
            "foo\n_UID=0",
            "_UID=0",
            "-o",
            "--directory=/",
            "foo*",
            "",
            ".service",
            "a\u{e9}",
        ] {
            let refused = unit_name(name).unwrap_err();
            assert_eq!(refused.name, name);
            assert!(refused.to_string().contains("not a systemd unit name"));
        }
        assert!(unit_name(&"a".repeat(250)).is_err());
    }

    #[test]
    fn names_are_one_question_however_written() {
        assert_eq!(
            unit_names(&["web", "bot.service", "bot"]).unwrap(),
            ["bot.service", "web.service"]
        );
    }
}
