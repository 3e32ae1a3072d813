//! A text file's bytes as text, in the encodings exports are written in:
//! UTF-8 (with or without a byte-order mark), UTF-16 with its byte-order
//! mark (Excel's "Unicode Text"), and lines in Windows-1252 (Latin-1 and
//! the characters Windows puts at 0x80–0x9F), as spreadsheets and older
//! databases on Windows write them: Book-Crossing's `BX-Books.csv`, and 17
//! lines of its ratings file. Each line that is not valid UTF-8 is read as
//! Windows-1252, where every byte is a character, so nothing is lost; the
//! caller is told how many such lines there were and the first. The WHATWG
//! Encoding Standard's `windows-1252` table is the reference: its five
//! undefined bytes map to the C1 controls of the same number. A file with
//! NUL bytes and no UTF-16 mark is not text, and that is an error.
use crate::error::{Error, Result};
use std::path::Path;

/// The text, and the lines read as Windows-1252 (1-based numbers).
pub struct Decoded {
    pub text: String,
    pub windows_1252_lines: Vec<usize>,
}

/// Windows-1252's characters for 0x80–0x9F (from 0xA0 it is Latin-1,
/// which is Unicode's first 256 code points).
const CP1252_HIGH: [char; 32] = [
    '\u{20ac}', '\u{81}', '\u{201a}', '\u{192}', '\u{201e}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2c6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8d}', '\u{17d}', '\u{8f}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2dc}', '\u{2122}', '\u{161}', '\u{203a}', '\u{153}', '\u{9d}', '\u{17e}', '\u{178}',
];

/// `bytes` (already decompressed) as text; see the module's description.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<Decoded> {
    let whole = |text| Decoded {
        text,
        windows_1252_lines: Vec::new(),
    };
    match bytes.as_slice() {
        [0xff, 0xfe, rest @ ..] => return utf16(path, rest, u16::from_le_bytes).map(whole),
        [0xfe, 0xff, rest @ ..] => return utf16(path, rest, u16::from_be_bytes).map(whole),
        [b'P', b'A', b'R', b'1', ..] => {
            return Err(Error::input(
                path,
                None,
                "this is a Parquet file; genrec reads text (write it as JSON Lines, e.g. \
                 pandas' `df.to_json(path, orient=\"records\", lines=True)`, or as CSV)",
            ))
        }
        _ => {}
    }
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(Error::input(
            path,
            Some(line),
            "a NUL byte: this is not a text file (or it is UTF-16 without a byte-order \
             mark: convert it with `iconv -f utf-16 -t utf-8`)",
        ));
    }
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => return Ok(whole(text)),
        Err(e) => e.into_bytes(),
    };
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    let mut windows_1252_lines = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            text.push('\n');
        }
        match std::str::from_utf8(line) {
            Ok(l) => text.push_str(l),
            Err(_) => {
                windows_1252_lines.push(i + 1);
                text.extend(line.iter().map(|&b| windows_1252(b)));
            }
        }
    }
    Ok(Decoded {
        text,
        windows_1252_lines,
    })
}

/// One byte's character in Windows-1252.
pub(crate) fn windows_1252(b: u8) -> char {
    match b {
        0x80..=0x9f => CP1252_HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// UTF-16 text after its byte-order mark, in the byte order `unit` reads.
fn utf16(path: &Path, rest: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String> {
    let bad = |what: &str| {
        Error::input(
            path,
            None,
            format!("starts with UTF-16's byte-order mark but {what}"),
        )
    };
    if !rest.len().is_multiple_of(2) {
        return Err(bad("has an odd number of bytes (a cut file?)"));
    }
    let units = rest.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<std::result::Result<String, _>>()
        .map_err(|e| {
            bad(&format!(
                "holds an unpaired surrogate {:#06x}",
                e.unpaired_surrogate()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    fn dec(bytes: &[u8]) -> Result<Decoded> {
        decode(Path::new("f.csv"), bytes.to_vec())
    }
    #[test]
    fn utf8_is_read_as_it_is() {
        let d = dec("a;é\nb;€\n".as_bytes()).unwrap();
        assert_eq!(d.text, "a;é\nb;€\n");
        assert!(d.windows_1252_lines.is_empty());
    }
    #[test]
    fn lines_that_are_not_utf8_are_read_as_windows_1252() {
        // Line 2 is Latin-1 (é = 0xe9), line 3 Windows' curly quotes and the
        // euro sign, line 4 UTF-8 and left as it is.
        let d = dec(b"id;name\n1;Caf\xe9\n2;\x93Quoted\x94 \x80 5\n3;Caf\xc3\xa9\n").unwrap();
        assert_eq!(
            d.text,
            "id;name\n1;Café\n2;\u{201c}Quoted\u{201d} € 5\n3;Café\n"
        );
        assert_eq!(d.windows_1252_lines, vec![2, 3]);
        // Every byte is a character: the five undefined ones too.
        assert_eq!(
            dec(b"\x81\x8d\x8f\x90\x9d\xff")
                .unwrap()
                .text
                .chars()
                .count(),
            6
        );
    }
    #[test]
    fn utf16_with_its_mark_is_read() {
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("a\tb\nü\t€\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(dec(&le).unwrap().text, "a\tb\nü\t€\n");
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain("x\ny".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(dec(&be).unwrap().text, "x\ny");
        let e = dec(&le[..le.len() - 1]).err().unwrap().to_string();
        assert!(e.contains("UTF-16") && e.contains("odd"), "{e}");
    }
    #[test]
    fn binary_files_are_named() {
        let e = dec(b"ok\n\x00\x01\x02").err().unwrap().to_string();
        assert!(e.contains(":2:") && e.contains("NUL"), "{e}");
        let e = dec(b"PAR1\x15\x04").err().unwrap().to_string();
        assert!(e.contains("Parquet"), "{e}");
    }
}
