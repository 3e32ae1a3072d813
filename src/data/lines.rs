//! Reading text input line by line with errors that name the file and line:
//! empty files, CRLF or LF endings, an optional UTF-8 BOM, the encodings
//! exports use (`data::encoding`: lines that are not UTF-8 read as
//! Windows-1252, and said so), and
//! gzip read through (catalogues are published as `.jsonl.gz`: Amazon Reviews
//! 2023, Google Local); other compressions are named in the error.
use crate::error::{Error, IoContext, Result};
use std::io::Read;
use std::path::Path;

/// A text file split into lines (1-based line numbers, line endings removed,
/// blank lines kept so numbering matches what an editor shows).
pub struct TextFile {
    pub path: std::path::PathBuf,
    text: String,
}

impl TextFile {
    /// Reads the whole file, decompressing gzip (told by its first bytes,
    /// whatever the name; line numbers are then the decompressed text's);
    /// fails on a missing file, an empty file (no non-whitespace content),
    /// a file that is not text (`data::encoding`) or another compression
    /// (naming it).
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = decompressed(path, std::fs::read(path).at(path)?)?;
        let decoded = super::encoding::decode(path, bytes)?;
        if let [first, ..] = decoded.windows_1252_lines[..] {
            crate::tell!(
                "note: {}: {} line(s) are not UTF-8 and were read as Windows-1252 \
                 (Latin-1), the first line {first}; if the file has another encoding, \
                 convert it first (`iconv -f <its encoding> -t utf-8`)",
                path.display(),
                decoded.windows_1252_lines.len()
            );
        }
        let text = decoded.text;
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

    /// The whole text (BOM removed).
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn err(&self, line: usize, msg: impl Into<String>) -> Error {
        Error::input(&self.path, Some(line), msg)
    }
}

/// The file's bytes, gunzipped where they start with gzip's magic (every
/// member of a concatenated gzip file, as `cat a.gz b.gz` writes it).
fn decompressed(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>> {
    let other = |name: &str, tool: &str| {
        Err(Error::input(
            path,
            None,
            format!(
                "the file is {name}-compressed; genrec reads plain or gzip-compressed text \
                 (decompress it first: `{tool} {}`)",
                path.display()
            ),
        ))
    };
    match raw.as_slice() {
        [0x1f, 0x8b, ..] => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(raw.as_slice())
                .read_to_end(&mut out)
                .map_err(|e| {
                    Error::input(
                        path,
                        None,
                        format!("starts as gzip but does not decompress: {e} (a cut download?)"),
                    )
                })?;
            Ok(out)
        }
        [0x28, 0xb5, 0x2f, 0xfd, ..] => other("zstd", "unzstd"),
        [b'B', b'Z', b'h', ..] => other("bzip2", "bunzip2 -k"),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => other("xz", "unxz -k"),
        [b'P', b'K', 3, 4, ..] => other("zip", "unzip"),
        _ => Ok(raw),
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
    fn binary_is_named() {
        // (Lines read as Windows-1252 are told to the log, which unit tests
        // share: `data::encoding`'s tests and tests/prepare.rs cover them.)
        let e = tf(b"ok\nfine\n\x00\x01").err().unwrap().to_string();
        assert!(e.contains(":3:") && e.contains("NUL"), "{e}");
    }
    fn gzip(parts: &[&[u8]]) -> Vec<u8> {
        use std::io::Write;
        let mut out = Vec::new();
        for p in parts {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(p).unwrap();
            out.extend(e.finish().unwrap());
        }
        out
    }
    #[test]
    fn gzip_is_read_through_every_member() {
        let f = tf(&gzip(&[b"a\r\nb\n", b"c\n"])).unwrap();
        assert_eq!(
            f.lines().collect::<Vec<_>>(),
            vec![(1, "a"), (2, "b"), (3, "c")]
        );
        // Line numbers are the decompressed text's.
        let e = tf(&gzip(&[b"ok\n\x00\n"])).err().unwrap().to_string();
        assert!(e.contains(":2:") && e.contains("NUL"), "{e}");
    }
    #[test]
    fn cut_gzip_and_other_compressions_are_named() {
        let whole = gzip(&[b"some line of text\n".repeat(50).as_slice()]);
        let e = tf(&whole[..whole.len() / 2]).err().unwrap().to_string();
        assert!(e.contains("gzip") && e.contains("f.txt"), "{e}");
        let e = tf(&[0x28, 0xb5, 0x2f, 0xfd, 1, 2])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("zstd") && e.contains("unzstd"), "{e}");
        let e = tf(b"BZh91AY&SY").err().unwrap().to_string();
        assert!(e.contains("bzip2"), "{e}");
    }
    #[test]
    fn empty_file() {
        let e = tf(b"  \n").err().unwrap().to_string();
        assert!(e.contains("empty"), "{e}");
    }
}
