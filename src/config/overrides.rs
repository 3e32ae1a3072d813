//! `--set section.key=value` overrides, applied to the TOML tree before it is
//! read into the typed configuration (so unknown keys are still refused).
use crate::error::{Error, Result};

/// `section.key=value`: the value is parsed as TOML (number, bool, string,
/// array), falling back to a plain string.
pub(super) fn apply_override(root: &mut toml::Value, o: &str) -> Result<()> {
    let (path, raw) = o
        .split_once('=')
        .ok_or_else(|| Error::Config(format!("--set `{o}`: expected section.key=value")))?;
    let keys: Vec<&str> = path.trim().split('.').collect();
    let parsed: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut cur = root;
    for (i, k) in keys.iter().enumerate() {
        let table = cur.as_table_mut().ok_or_else(|| {
            Error::Config(format!(
                "--set `{o}`: `{}` is not a section",
                keys[..i].join(".")
            ))
        })?;
        if i + 1 == keys.len() {
            table.insert(k.to_string(), parsed);
            return Ok(());
        }
        cur = table
            .entry(k.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    Ok(())
}
