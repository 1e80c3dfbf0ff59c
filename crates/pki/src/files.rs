//! Writing key and certificate files atomically with the right modes, and
//! reading files that may be absent.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Mode of private keys, tokens and kubeconfigs.
pub const PRIVATE_MODE: u32 = 0o600;
/// Mode of certificates and public keys.
pub const PUBLIC_MODE: u32 = 0o644;

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a secret file (key, token, kubeconfig) readable by its owner only
/// (0600), atomically: a temporary file in the same directory is written,
/// synced and renamed over `path`, so readers see the old or the new
/// content, never a part. Missing parent directories are made (0700).
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, text.as_bytes(), PRIVATE_MODE)
}

/// Writes a public file (certificate, public key) with mode 0644,
/// atomically as [`write_private`] does.
pub fn write_public(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, text.as_bytes(), PUBLIC_MODE)
}

/// Writes `data` to `path` through a temporary file with `mode`.
pub(crate) fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("create directory", dir))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::InvalidFile {
            path: path.to_path_buf(),
            reason: "not a file name".into(),
        })?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .map_err(io("create", &tmp))?;
        // The mode given to open is reduced by the umask, and an old
        // temporary file keeps its mode: set it outright.
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io("set permissions of", &tmp))?;
        file.write_all(data).map_err(io("write", &tmp))?;
        file.sync_all().map_err(io("sync", &tmp))?;
        fs::rename(&tmp, path).map_err(io("rename into", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable; failing to sync a directory is not
    // worth failing the write for.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The content of `path`, or `None` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::InvalidFile {
                path: path.to_path_buf(),
                reason: "not UTF-8 text".into(),
            }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

/// The content of `path`, which must exist.
pub(crate) fn read(path: &Path) -> Result<String> {
    read_optional(path)?.ok_or_else(|| {
        io("read", path)(std::io::Error::new(
            ErrorKind::NotFound,
            "No such file or directory",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn writes_with_modes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("a/b/x.key");
        write_private(&key, "one").unwrap();
        assert_eq!(fs::read_to_string(&key).unwrap(), "one");
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        write_private(&key, "two").unwrap();
        assert_eq!(fs::read_to_string(&key).unwrap(), "two");

        let cert = dir.path().join("x.crt");
        write_public(&cert, "cert").unwrap();
        assert_eq!(mode(&cert), 0o644);
        // A file that was public becomes private when rewritten so.
        write_private(&cert, "secret").unwrap();
        assert_eq!(mode(&cert), 0o600);
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn reading_absent_and_present_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        assert_eq!(read_optional(&path).unwrap(), None);
        let err = read(&path).unwrap_err();
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        fs::write(&path, b"\xff\xfe").unwrap();
        assert!(matches!(
            read_optional(&path),
            Err(Error::InvalidFile { .. })
        ));
        fs::write(&path, "ok").unwrap();
        assert_eq!(read(&path).unwrap(), "ok");
    }

    #[test]
    fn write_into_a_file_path_fails_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "x").unwrap();
        let err = write_private(&file.join("sub"), "y").unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
