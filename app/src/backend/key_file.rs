//! The console's secret keys live in files outside the database (the token key, the audit key):
//! 32 random bytes in base64, created once with mode 0600, so that a copy of the database alone
//! neither opens the tokens nor lets the audit log be re-sealed.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;

pub const KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{what} key file {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{what} key file {path} must hold {KEY_BYTES} bytes in base64")]
    Malformed { what: &'static str, path: String },
    #[error("{what} key file {path} does not exist")]
    Missing { what: &'static str, path: String },
}

/// Fresh random key bytes.
pub fn generate() -> [u8; KEY_BYTES] {
    let mut bytes = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Reads the key file of `what` ("token", "audit"); `None` when it does not exist.
pub fn load(what: &'static str, path: &Path) -> Result<Option<[u8; KEY_BYTES]>, KeyFileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => B64
            .decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .map(Some)
            .ok_or_else(|| KeyFileError::Malformed {
                what,
                path: path.display().to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyFileError::Io {
            what,
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Reads the key file, creating it (mode 0600, its folder too) with a random key when it does not
/// exist yet. Returns the key and whether it was created.
pub fn load_or_create(
    what: &'static str,
    path: &Path,
) -> Result<([u8; KEY_BYTES], bool), KeyFileError> {
    if let Some(bytes) = load(what, path)? {
        return Ok((bytes, false));
    }
    let bytes = generate();
    let io = |source| KeyFileError::Io {
        what,
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    write_private(path, format!("{}\n", B64.encode(bytes)).as_bytes()).map_err(io)?;
    Ok((bytes, true))
}

/// Creates the file; refuses to replace one that exists (two processes starting at once must not
/// each write a key of their own).
#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("vpos-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("some.key");
        assert!(load("test", &path).expect("absent").is_none());
        let (first, created) = load_or_create("test", &path).expect("create");
        assert!(created);
        let (second, created) = load_or_create("test", &path).expect("read");
        assert!(!created);
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").expect("overwrite");
        assert!(matches!(
            load_or_create("test", &path),
            Err(KeyFileError::Malformed { .. })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
