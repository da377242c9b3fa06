//! Builds the template's function binaries with cargo and finds them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Builds `binaries` in `profile` from the workspace at `workspace`, and
/// returns the directory they are in.
pub async fn build(
    workspace: &Path,
    binaries: &[String],
    profile: &str,
) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = tokio::process::Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--profile",
            profile,
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for binary in binaries {
        command.args(["--bin", binary]);
    }
    let out = command
        .output()
        .await
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build failed ({})", out.status));
    }
    let mut dir = None;
    let mut found = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let name = message["target"]["name"].as_str().unwrap_or_default();
        if message["reason"] == "compiler-artifact"
            && binaries.iter().any(|b| b == name)
            && let Some(path) = message["executable"].as_str().map(PathBuf::from)
        {
            dir = path.parent().map(Path::to_path_buf);
            found.insert(name.to_owned());
        }
    }
    match dir {
        Some(dir) if found.len() == binaries.len() => Ok(dir),
        _ => Err(format!("cargo built {found:?}, not all of {binaries:?}")),
    }
}
