//! The MapLibre styles of `tiles/styles/` (`light.json` for desks, `dark.json` for the
//! command-center screen), read by name.

use std::path::{Path, PathBuf};

/// Why a style could not be given.
#[derive(Debug, thiserror::Error)]
pub enum StyleError {
    /// A name with anything but lower-case letters, digits, `-` and `_`.
    #[error("{0:?} is not a style name (lower-case letters, digits, - and _)")]
    Name(String),
    /// No such style file.
    #[error("no style {name} in {dir}")]
    Missing {
        /// The name asked for.
        name: String,
        /// The styles folder.
        dir: PathBuf,
    },
    /// The file could not be read.
    #[error("could not read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{path} is not JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
}

/// The style `name` (without `.json`) from the folder `dir`, parsed (so a broken file is an
/// error here, not in the browser).
pub fn load(dir: &Path, name: &str) -> Result<serde_json::Value, StyleError> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(StyleError::Name(name.to_owned()));
    }
    let path = dir.join(format!("{name}.json"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StyleError::Missing {
                name: name.to_owned(),
                dir: dir.to_owned(),
            })
        }
        Err(source) => return Err(StyleError::Io { path, source }),
    };
    serde_json::from_str(&text).map_err(|source| StyleError::Json { path, source })
}
