//! The configuration file `itx report` builds (`configs/default.toml`): every block with its
//! parameters, plus how much random verification each gets.
use std::path::Path;

use anyhow::{bail, Context, Result};
use hdl::blocks::Config;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    verify: VerifySettings,
    #[serde(rename = "block")]
    blocks: Vec<Entry>,
}

/// `[verify]`: random samples per block and the seed.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct VerifySettings {
    pub random: usize,
    pub seed: u64,
}

impl Default for VerifySettings {
    fn default() -> Self {
        VerifySettings {
            random: 20_000,
            seed: 1,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    #[serde(default)]
    set: toml::Table,
}

/// A parsed configuration file.
pub struct ReportConfig {
    pub verify: VerifySettings,
    pub blocks: Vec<Config>,
}

/// Reads and checks the whole file: TOML errors carry the line and column, parameter errors name
/// the entry.
pub fn read(path: &Path) -> Result<ReportConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration {}", path.display()))?;
    let file: File =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e))?;
    if file.blocks.is_empty() {
        bail!("{}: no [[block]] entries", path.display());
    }
    let mut blocks = Vec::new();
    for (i, e) in file.blocks.iter().enumerate() {
        let mut sets = Vec::new();
        for (k, v) in &e.set {
            let v = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => bail!(
                    "{}: block {} (`{}`): parameter `{k}` has unsupported value {other}",
                    path.display(),
                    i + 1,
                    e.name
                ),
            };
            sets.push((k.clone(), v));
        }
        let c = Config::new(&e.name, &sets)
            .with_context(|| format!("{}: [[block]] number {}", path.display(), i + 1))?;
        blocks.push(c);
    }
    Ok(ReportConfig {
        verify: file.verify,
        blocks,
    })
}
