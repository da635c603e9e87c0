//! All-or-nothing output: every file of a command is rendered in memory first, then written to a
//! temporary name in its folder and renamed into place, so a failure leaves no half-written file.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes every `(path, contents)`; on any error, removes what this call created.
pub fn write_all(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> Result<()> {
        for (path, data) in files {
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create folder {}", dir.display()))?;
            let name = path.file_name().context("output path has no file name")?;
            let tmp = dir.join(format!(
                ".{}.tmp-{}",
                name.to_string_lossy(),
                std::process::id()
            ));
            std::fs::write(&tmp, data)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            staged.push((tmp, path.clone()));
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    for (tmp, path) in &staged {
        std::fs::rename(tmp, path)
            .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))?;
    }
    Ok(())
}
