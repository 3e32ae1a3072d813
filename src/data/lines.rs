//! Reading text input line by line with errors that name the file and line:
//! invalid UTF-8, empty files, CRLF or LF endings, an optional UTF-8 BOM.
use crate::error::{Error, IoContext, Result};
use std::path::Path;

/// A text file split into lines (1-based line numbers, line endings removed,
/// blank lines kept so numbering matches what an editor shows).
pub struct TextFile {
    pub path: std::path::PathBuf,
    text: String,
}

impl TextFile {
    /// Reads the whole file; fails on a missing file, an empty file (no
    /// non-whitespace content) or invalid UTF-8 (naming the line).
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).at(path)?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let bad = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                let line = bytes[..bad].iter().filter(|&&b| b == b'\n').count() + 1;
                let col = bad
                    - bytes[..bad]
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |p| p + 1)
                    + 1;
                return Err(Error::input(
                    path,
                    Some(line),
                    format!("invalid UTF-8 at byte {col} of the line (expected UTF-8 text)"),
                ));
            }
        };
        let text = text
            .strip_prefix('\u{feff}')
            .map(str::to_owned)
            .unwrap_or(text);
        if text.trim().is_empty() {
            return Err(Error::input(
                path,
                None,
                "the file is empty (expected data rows)",
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
            text,
        })
    }

    /// All lines with their 1-based numbers; `\r\n` and `\n` both end a line.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        // The text after a final newline is an empty pseudo-line, not a line.
        let body = self.text.strip_suffix('\n').unwrap_or(&self.text);
        body.split('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
    }

    /// Non-blank lines only.
    pub fn data_lines(&self) -> impl Iterator<Item = (usize, &str)> {
        self.lines().filter(|(_, l)| !l.trim().is_empty())
    }

    pub fn err(&self, line: usize, msg: impl Into<String>) -> Error {
        Error::input(&self.path, Some(line), msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn tf(bytes: &[u8]) -> Result<TextFile> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.txt");
        std::fs::write(&p, bytes).unwrap();
        TextFile::read(&p)
    }
    #[test]
    fn crlf_and_lf() {
        let f = tf(b"a b\r\nc\n\nd").unwrap();
        let v: Vec<_> = f.lines().collect();
        assert_eq!(v, vec![(1, "a b"), (2, "c"), (3, ""), (4, "d")]);
        let f = tf(b"a\r\nb\r\n").unwrap();
        assert_eq!(f.lines().collect::<Vec<_>>(), vec![(1, "a"), (2, "b")]);
    }
    #[test]
    fn invalid_utf8_names_line() {
        let e = tf(b"ok\nfine\nbad \xff here\n").err().unwrap().to_string();
        assert!(e.contains(":3:") && e.contains("invalid UTF-8"), "{e}");
    }
    #[test]
    fn empty_file() {
        let e = tf(b"  \n").err().unwrap().to_string();
        assert!(e.contains("empty"), "{e}");
    }
}
