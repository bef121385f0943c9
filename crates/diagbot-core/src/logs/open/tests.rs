use std::os::unix::fs::symlink;
use std::process::Command;

use super::*;

fn file_of(opened: Result<Opened, OpenError>) -> OpenedFile {
    match opened {
        Ok(Opened::File(f)) => f,
        other => panic!("not a file: {other:?}"),
    }
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn a_regular_file_opens_with_its_identity_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "hello\n").unwrap();
    let f = file_of(open_path(&path, None));
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(f.id, (meta.dev(), meta.ino()));
    assert_eq!(f.size, 6);
}

#[test]
fn a_symlink_is_not_followed_even_to_a_readable_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), "root:x\n").unwrap();
    let link = dir.path().join("app.log");
    symlink(dir.path().join("secret"), &link).unwrap();
    let err = open_path(&link, None).unwrap_err();
    assert!(err.reason.contains("symbolic link"), "{err:?}");
    assert!(!err.resource);
}

/// A FIFO without a writer: the open returns at once (no wait for a writer)
/// and the FIFO is not read.
#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("app.log");
    mkfifo(&fifo);
    let err = open_path(&fifo, None).unwrap_err();
    assert!(err.reason.contains("FIFO"), "{err:?}");
    let root = open_path(dir.path(), None).unwrap();
    let Opened::Dir(fd, _) = root else {
        panic!("not a directory")
    };
    let err = open_at(fd.as_fd(), OsStr::new("app.log"), None).unwrap_err();
    assert!(err.reason.contains("FIFO"), "{err:?}");
}

#[test]
fn a_device_is_refused() {
    let err = open_path(Path::new("/dev/null"), None).unwrap_err();
    assert!(err.reason.contains("device"), "{err:?}");
}

#[test]
fn another_file_under_the_listed_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), "a\n").unwrap();
    std::fs::write(dir.path().join("b.log"), "b\n").unwrap();
    let listed = std::fs::metadata(dir.path().join("a.log")).unwrap();
    std::fs::rename(dir.path().join("b.log"), dir.path().join("a.log")).unwrap();
    let Opened::Dir(fd, _) = open_path(dir.path(), None).unwrap() else {
        panic!("not a directory")
    };
    let err = open_at(
        fd.as_fd(),
        OsStr::new("a.log"),
        Some((listed.dev(), listed.ino())),
    )
    .unwrap_err();
    assert!(err.reason.contains("changed while opening"), "{err:?}");
}

/// Below a configured path, a directory swapped for a symlink is not
/// crossed: the path check is the open itself.
#[test]
fn below_the_anchor_no_symlink_is_crossed() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let secret = dir.path().join("etc");
    std::fs::create_dir_all(logs.join("sub")).unwrap();
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(logs.join("sub/app.log"), "fine\n").unwrap();
    std::fs::write(secret.join("app.log"), "root:x\n").unwrap();
    let wanted = logs.join("sub/app.log");
    assert_eq!(file_of(open_path(&wanted, Some(&logs))).size, 5);

    std::fs::rename(logs.join("sub"), logs.join("old")).unwrap();
    symlink(&secret, logs.join("sub")).unwrap();
    let err = open_path(&wanted, Some(&logs)).unwrap_err();
    assert!(err.reason.contains("symbolic link"), "{err:?}");
    // Without the anchor only the last component is protected: the anchor is what makes the rest safe.
    assert_eq!(file_of(open_path(&wanted, None)).size, 7);
}

#[test]
fn running_out_of_descriptors_is_a_resource_error() {
    let e = std::io::Error::from_raw_os_error(24); // EMFILE
    assert!(resource_error(&e));
    assert!(OpenError::io(&e).resource);
    assert!(!resource_error(&std::io::Error::from_raw_os_error(2)));
}
