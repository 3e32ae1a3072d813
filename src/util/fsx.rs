//! Atomic output: files and directories are written under a temporary name and
//! renamed into place when complete, so a crash or a bad input never leaves a
//! partial artifact where a complete one is expected.
use crate::error::{Error, IoContext, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (temporary sibling, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).at(parent)?;
    }
    let tmp = tmp_sibling(path);
    {
        let mut f = std::fs::File::create(&tmp).at(&tmp)?;
        f.write_all(bytes).at(&tmp)?;
        f.sync_all().at(&tmp)?;
    }
    std::fs::rename(&tmp, path).at(path)
}

/// Moves `dir` aside to `<dir>.replaced-<unix time>` (kept, not deleted)
/// and returns where it went.
pub fn move_aside(dir: &Path) -> Result<PathBuf> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let aside = dir.with_file_name(format!("{name}.replaced-{secs}"));
    std::fs::rename(dir, &aside).at(dir)?;
    crate::util::log::follow_move(dir);
    Ok(aside)
}

/// Writes `v` as pretty JSON with a final newline, atomically.
pub fn write_json<T: serde::Serialize + ?Sized>(path: &Path, v: &T) -> Result<()> {
    let mut s = serde_json::to_vec_pretty(v).map_err(|e| Error::Other(e.to_string()))?;
    s.push(b'\n');
    write_atomic(path, &s)
}

fn tmp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// A directory being built under a temporary name next to its final place.
/// `commit` moves it into place (replacing an older one); dropping it without
/// committing removes the partial directory.
pub struct StagedDir {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl StagedDir {
    pub fn new(dest: &Path) -> Result<Self> {
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).at(parent)?;
        let tmp = tmp_sibling(dest);
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).at(&tmp)?;
        }
        std::fs::create_dir(&tmp).at(&tmp)?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
            committed: false,
        })
    }

    /// Path of a file inside the staged directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }

    pub fn commit(self) -> Result<()> {
        self.commit_with(false)
    }

    /// [`commit`](Self::commit) that keeps every entry of the replaced
    /// directory the new one does not have (e.g. `prepare` keeps embeddings
    /// and indexes; the hashes they record say whether they still fit).
    pub fn commit_keeping_others(self) -> Result<()> {
        self.commit_with(true)
    }

    fn commit_with(mut self, keep_others: bool) -> Result<()> {
        if self.dest.exists() {
            if !self.dest.is_dir() {
                return Err(Error::Other(format!(
                    "{} exists and is not a directory",
                    self.dest.display()
                )));
            }
            let old = self.dest.with_file_name(format!(
                ".{}.old-{}",
                self.dest.file_name().unwrap_or_default().to_string_lossy(),
                std::process::id()
            ));
            std::fs::rename(&self.dest, &old).at(&self.dest)?;
            std::fs::rename(&self.tmp, &self.dest).at(&self.dest)?;
            self.committed = true;
            if keep_others {
                for e in std::fs::read_dir(&old).at(&old)? {
                    let e = e.at(&old)?;
                    let to = self.dest.join(e.file_name());
                    if !to.exists() {
                        std::fs::rename(e.path(), &to).at(&e.path())?;
                    }
                }
            }
            std::fs::remove_dir_all(&old).at(&old)?;
        } else {
            std::fs::rename(&self.tmp, &self.dest).at(&self.dest)?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn staged_dir_is_removed_unless_committed() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        {
            let s = StagedDir::new(&dest).unwrap();
            std::fs::write(s.path("a"), b"x").unwrap();
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
        let s = StagedDir::new(&dest).unwrap();
        std::fs::write(s.path("a"), b"y").unwrap();
        s.commit().unwrap();
        assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"y");
        // Replacing an existing directory.
        let s = StagedDir::new(&dest).unwrap();
        std::fs::write(s.path("b"), b"z").unwrap();
        s.commit().unwrap();
        assert!(!dest.join("a").exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn commit_keeping_others_replaces_only_what_was_rebuilt() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        std::fs::create_dir_all(dest.join("index")).unwrap();
        std::fs::write(dest.join("index/codes"), b"c").unwrap();
        std::fs::write(dest.join("data"), b"old").unwrap();
        std::fs::write(dest.join("emb"), b"e").unwrap();
        let s = StagedDir::new(&dest).unwrap();
        std::fs::write(s.path("data"), b"new").unwrap();
        s.commit_keeping_others().unwrap();
        assert_eq!(std::fs::read(dest.join("data")).unwrap(), b"new");
        assert_eq!(std::fs::read(dest.join("emb")).unwrap(), b"e");
        assert_eq!(std::fs::read(dest.join("index/codes")).unwrap(), b"c");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
