//! Safetensors I/O with metadata (the only weight format genrec reads or writes:
//! no pickle). Reading checks names strictly so a wrong file is a clear error.
use crate::error::{Error, IoContext, Result};
use crate::util::fsx::write_atomic;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use tch::{Kind, Tensor};

fn kind_of(d: Dtype) -> Option<Kind> {
    Some(match d {
        Dtype::BOOL => Kind::Bool,
        Dtype::U8 => Kind::Uint8,
        Dtype::I8 => Kind::Int8,
        Dtype::I16 => Kind::Int16,
        Dtype::I32 => Kind::Int,
        Dtype::I64 => Kind::Int64,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F16 => Kind::Half,
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        _ => return None,
    })
}

fn dtype_of(k: Kind) -> Option<Dtype> {
    Some(match k {
        Kind::Bool => Dtype::BOOL,
        Kind::Uint8 => Dtype::U8,
        Kind::Int8 => Dtype::I8,
        Kind::Int16 => Dtype::I16,
        Kind::Int => Dtype::I32,
        Kind::Int64 => Dtype::I64,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Half => Dtype::F16,
        Kind::Float => Dtype::F32,
        Kind::Double => Dtype::F64,
        _ => return None,
    })
}

/// A safetensors file read into CPU tensors, with its metadata.
pub struct StFile {
    pub tensors: BTreeMap<String, Tensor>,
    pub metadata: HashMap<String, String>,
}

impl StFile {
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).at(path)?;
        Self::from_bytes(path, &bytes)
    }

    /// Reads the file and also returns the sha256 of its bytes (one read, not two).
    pub fn read_with_sha256(path: &Path) -> Result<(Self, String)> {
        let bytes = std::fs::read(path).at(path)?;
        Ok((
            Self::from_bytes(path, &bytes)?,
            crate::util::hash::sha256_hex(&bytes),
        ))
    }

    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self> {
        let bad = |m: String| Error::input(path, None, m);
        let (_, meta) = SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            let kind = kind_of(view.dtype()).ok_or_else(|| {
                bad(format!(
                    "tensor `{name}` has unsupported dtype {:?}",
                    view.dtype()
                ))
            })?;
            let shape: Vec<i64> = view.shape().iter().map(|&s| s as i64).collect();
            tensors.insert(name, Tensor::from_data_size(view.data(), &shape, kind));
        }
        Ok(Self {
            tensors,
            metadata: meta.metadata().clone().unwrap_or_default(),
        })
    }

    pub fn get(&self, path: &Path, name: &str) -> Result<&Tensor> {
        self.tensors
            .get(name)
            .ok_or_else(|| Error::input(path, None, format!("missing tensor `{name}`")))
    }

    pub fn take(&mut self, path: &Path, name: &str) -> Result<Tensor> {
        self.tensors
            .remove(name)
            .ok_or_else(|| Error::input(path, None, format!("missing tensor `{name}`")))
    }
}

/// Writes named tensors (moved to CPU, made contiguous) with string metadata, atomically.
pub fn write(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    write_atomic(path, &to_bytes(tensors, metadata)?)
}

/// The file [`write`] writes, as bytes (for a caller that also hashes them).
pub fn to_bytes(
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let raw = raw_tensors(tensors)?;
    let views = views_of(&raw)?;
    let bytes = safetensors::tensor::serialize(views, None::<HashMap<String, String>>)
        .map_err(|e| Error::Other(e.to_string()))?;
    with_metadata(bytes, metadata)
}

/// A tensor as the safetensors format holds it: name, little-endian bytes
/// (copied to the CPU, contiguous), dtype, shape.
type Raw = (String, Vec<u8>, Dtype, Vec<usize>);

fn raw_tensors(tensors: &[(String, Tensor)]) -> Result<Vec<Raw>> {
    tensors
        .iter()
        .map(|(name, t)| {
            let t = t.to_device(tch::Device::Cpu).contiguous();
            let dtype = dtype_of(t.kind()).ok_or_else(|| {
                Error::Other(format!("tensor `{name}`: unsupported kind {:?}", t.kind()))
            })?;
            let mut data = vec![0u8; t.numel() * t.kind().elt_size_in_bytes()];
            t.copy_data_u8(&mut data, t.numel());
            let shape = t.size().iter().map(|&s| s as usize).collect();
            Ok((name.clone(), data, dtype, shape))
        })
        .collect()
}

fn views_of(raw: &[Raw]) -> Result<Vec<(String, TensorView<'_>)>> {
    raw.iter()
        .map(|(name, data, dtype, shape)| {
            TensorView::new(*dtype, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::Other(format!("tensor `{name}`: {e}")))
        })
        .collect()
}

/// The file `bytes` (written without metadata) with `metadata` first in its
/// header, keys sorted: the layout the safetensors crate writes, except that
/// the crate writes a `HashMap`'s keys in the process's random order, so that
/// a file with two or more keys differed from run to run.
fn with_metadata(bytes: Vec<u8>, metadata: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let bad = || Error::Other("safetensors: a malformed header".into());
    let n = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .ok_or_else(bad)?;
    let header = bytes.get(8..8 + n).ok_or_else(bad)?;
    let header = &header[..header.iter().rposition(|&b| b != b' ').ok_or_else(bad)? + 1];
    let rest = header
        .strip_prefix(b"{")
        .and_then(|r| r.strip_suffix(b"}"))
        .ok_or_else(bad)?;
    let meta = serde_json::to_string(metadata).map_err(|e| Error::Other(e.to_string()))?;
    let mut h = format!("{{\"__metadata__\":{meta}").into_bytes();
    if !rest.is_empty() {
        h.push(b',');
        h.extend_from_slice(rest);
    }
    h.push(b'}');
    h.resize(h.len().div_ceil(8) * 8, b' ');
    let mut out = Vec::with_capacity(8 + h.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(&bytes[8 + n..]);
    Ok(out)
}

/// Copies `tensors` into the var store's variables by name. Every variable must
/// be present with the same shape; names in `ignore` may be extra; any other
/// extra name is an error (a sign of a wrong or mismatched file).
pub fn load_into(
    vs: &tch::nn::VarStore,
    file: &mut StFile,
    path: &Path,
    ignore: &[&str],
) -> Result<()> {
    let mut vars = vs.variables();
    let mut names: Vec<String> = vars.keys().cloned().collect();
    names.sort();
    let _guard = tch::no_grad_guard();
    for name in &names {
        let src = file.take(path, name)?;
        let dst = vars.get_mut(name).expect("name from the same map");
        if src.size() != dst.size() {
            return Err(Error::input(
                path,
                None,
                format!(
                    "tensor `{name}` has shape {:?}, expected {:?}",
                    src.size(),
                    dst.size()
                ),
            ));
        }
        dst.copy_(&src.to_kind(dst.kind()));
    }
    let extra: Vec<&String> = file
        .tensors
        .keys()
        .filter(|k| !ignore.iter().any(|i| k.ends_with(i)))
        .collect();
    if !extra.is_empty() {
        return Err(Error::input(
            path,
            None,
            format!("unexpected tensors for this model: {:?}", extra),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensors() -> Vec<(String, Tensor)> {
        vec![
            ("b".into(), Tensor::from_slice(&[1.0f32, 2.0, 3.0])),
            ("a".into(), Tensor::from_slice(&[7i64, 8])),
        ]
    }

    #[test]
    fn files_with_several_metadata_keys_are_byte_identical_and_read_back() {
        let d = tempfile::tempdir().unwrap();
        let meta: BTreeMap<String, String> = (0..6)
            .map(|i| (format!("key{i}"), format!("value {i}")))
            .collect();
        let first = d.path().join("0.safetensors");
        write(&first, &tensors(), &meta).unwrap();
        let bytes = std::fs::read(&first).unwrap();
        for i in 1..8 {
            let p = d.path().join(format!("{i}.safetensors"));
            write(&p, &tensors(), &meta).unwrap();
            assert_eq!(std::fs::read(&p).unwrap(), bytes, "write {i}");
        }
        let f = StFile::read(&first).unwrap();
        assert_eq!(f.metadata.len(), 6);
        assert_eq!(f.metadata["key3"], "value 3");
        let b = f.get(&first, "b").unwrap();
        assert_eq!(Vec::<f32>::try_from(b).unwrap(), vec![1.0, 2.0, 3.0]);
        // The safetensors crate's own reader takes it too.
        SafeTensors::deserialize(&bytes).unwrap();
    }

    #[test]
    fn one_key_gives_the_bytes_the_safetensors_crate_writes() {
        let d = tempfile::tempdir().unwrap();
        for meta in [
            BTreeMap::from([("t".to_string(), "40".to_string())]),
            BTreeMap::new(),
        ] {
            let p = d.path().join("x.safetensors");
            write(&p, &tensors(), &meta).unwrap();
            let raw = raw_tensors(&tensors()).unwrap();
            let crate_meta: HashMap<String, String> = meta.clone().into_iter().collect();
            let want =
                safetensors::tensor::serialize(views_of(&raw).unwrap(), Some(crate_meta)).unwrap();
            assert_eq!(std::fs::read(&p).unwrap(), want, "{meta:?}");
        }
    }
}
