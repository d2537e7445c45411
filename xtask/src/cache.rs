//! Where downloaded packages, the unpacked guest root and built images live.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The harness cache: survives between runs so only the first run downloads.
#[derive(Debug, Clone)]
pub struct Cache {
    pub dir: PathBuf,
}

impl Cache {
    /// `$XFS_HEALER_VM_CACHE`, else `$XDG_CACHE_HOME/xfs-healer-vm`, else
    /// `~/.cache/xfs-healer-vm`.
    pub fn locate() -> Result<Cache> {
        let dir = if let Some(dir) = std::env::var_os("XFS_HEALER_VM_CACHE") {
            PathBuf::from(dir)
        } else if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME") {
            PathBuf::from(xdg).join("xfs-healer-vm")
        } else if let Some(home) = std::env::var_os("HOME") {
            PathBuf::from(home).join(".cache/xfs-healer-vm")
        } else {
            bail!("set XFS_HEALER_VM_CACHE: neither XDG_CACHE_HOME nor HOME is set");
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating cache directory {}", dir.display()))?;
        Ok(Cache { dir })
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

/// The repository root (the parent of the xtask crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}
