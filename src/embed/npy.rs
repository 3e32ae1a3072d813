//! Minimal reader for NumPy `.npy` matrices (version 1–3 headers, little-endian
//! f32 or f64, C order, 2-D): users' own embeddings.
use crate::error::{Error, IoContext, Result};
use std::path::Path;
use tch::{Kind, Tensor};

pub fn read_f32_matrix(path: &Path) -> Result<Tensor> {
    let bytes = std::fs::read(path).at(path)?;
    let bad = |m: &str| Error::input(path, None, format!("not a supported .npy file: {m}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("missing magic"));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("unknown version")),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + hlen)
            .ok_or_else(|| bad("truncated header"))?,
    )
    .map_err(|_| bad("header is not text"))?;
    let field = |name: &str| -> Option<&str> {
        let i = header.find(&format!("'{name}'"))?;
        let rest = &header[i + name.len() + 2..];
        Some(rest[rest.find(':')? + 1..].trim_start())
    };
    let descr = field("descr").ok_or_else(|| bad("no descr"))?;
    let kind = if descr.starts_with("'<f4'") {
        Kind::Float
    } else if descr.starts_with("'<f8'") {
        Kind::Double
    } else {
        return Err(bad("dtype must be little-endian float32 or float64"));
    };
    if field("fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(bad(
            "Fortran order is not supported (save with np.ascontiguousarray)",
        ));
    }
    let shape_s = field("shape").ok_or_else(|| bad("no shape"))?;
    let inner = &shape_s[1..shape_s.find(')').ok_or_else(|| bad("bad shape"))?];
    let shape: Vec<i64> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>().map_err(|_| bad("bad shape")))
        .collect::<Result<_>>()?;
    if shape.len() != 2 {
        return Err(bad("expected a 2-D array"));
    }
    let data = &bytes[start + hlen..];
    let need = (shape[0] * shape[1]) as usize * kind.elt_size_in_bytes();
    if data.len() != need {
        return Err(bad("data size does not match the shape"));
    }
    Ok(Tensor::from_data_size(data, &shape, kind).to_kind(Kind::Float))
}
