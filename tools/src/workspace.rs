//! Where things are: the workspace root, the system description, outputs.

use std::path::{Path, PathBuf};

/// The default description, relative to the workspace root.
pub const DEFAULT_SYSTEM: &str = "partitions/system.toml";

/// The workspace root: the nearest ancestor of the current directory with
/// `partitions/system.toml` or a `Cargo.toml` naming `[workspace]` and a
/// `partitions/` folder.
pub fn root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .find(|dir| dir.join("partitions").is_dir() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
}

/// The description to use: the one given, or the workspace's default.
pub fn system_path(given: Option<PathBuf>) -> Result<PathBuf, String> {
    match given {
        Some(p) => Ok(p),
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| format!("cannot read the current directory: {e}"))?;
            cwd.ancestors()
                .map(|dir| dir.join(DEFAULT_SYSTEM))
                .find(|p| p.is_file())
                .map(|p| p.strip_prefix(&cwd).map(Path::to_path_buf).unwrap_or(p))
                .ok_or_else(|| {
                    format!("no {DEFAULT_SYSTEM} in this directory or any parent; pass the path of a system description")
                })
        }
    }
}
