//! Kineto traces (what `torch.profiler` records) of libtorch work: every
//! operation with its host time and, on CUDA, every kernel it launched with
//! its device time, written as a Chrome trace. tch binds no profiler; the
//! shim (`trace.cpp`, built with the CUDA-graph shim) calls libtorch's
//! `torch::autograd::profiler`. `genrec-bench train --trace` uses it to say
//! which kernels a training step's device time goes to
//! (`benches/trace_summary.py` sums them by name).
use super::status;
use crate::error::Result;
use std::ffi::{c_char, CString};
use std::path::Path;
use tch::Device;

#[cfg(genrec_cuda)]
extern "C" {
    fn genrec_trace_start(cuda: i32, err: *mut *mut c_char) -> i32;
    fn genrec_trace_stop(path: *const c_char, err: *mut *mut c_char) -> i32;
}

#[cfg(not(genrec_cuda))]
mod absent {
    //! Stand-ins for a build without the shim: starting says why.
    use std::ffi::c_char;
    pub unsafe extern "C" fn genrec_trace_start(_: i32, _: *mut *mut c_char) -> i32 {
        -1
    }
    pub unsafe extern "C" fn genrec_trace_stop(_: *const c_char, _: *mut *mut c_char) -> i32 {
        -1
    }
}
#[cfg(not(genrec_cuda))]
use absent::*;

/// A trace being recorded on this thread; [`Trace::save`] ends it.
pub struct Trace {
    done: bool,
}

impl Trace {
    /// Starts recording libtorch's operations (and CUDA kernels when
    /// `device` is a CUDA device). One trace at a time.
    pub fn start(device: Device) -> Result<Self> {
        let mut err = std::ptr::null_mut();
        // SAFETY: `err` is set only on failure.
        let rc = unsafe { genrec_trace_start(i32::from(device.is_cuda()), &mut err) };
        status(rc, err, "starting a trace")?;
        Ok(Self { done: false })
    }

    /// Stops recording and writes the Chrome trace to `path`.
    pub fn save(mut self, path: &Path) -> Result<()> {
        self.done = true;
        let c = CString::new(path.to_string_lossy().as_bytes()).map_err(|_| {
            crate::error::Error::Other(format!("{}: a NUL in the path", path.display()))
        })?;
        let mut err = std::ptr::null_mut();
        // SAFETY: `c` is a NUL-terminated path; `err` is set only on failure.
        let rc = unsafe { genrec_trace_stop(c.as_ptr(), &mut err) };
        status(rc, err, &format!("writing the trace {}", path.display()))
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        if !self.done {
            let mut err = std::ptr::null_mut();
            // SAFETY: ends the recording; an error string, if any, is freed by `status`.
            let rc = unsafe { genrec_trace_stop(c"/dev/null".as_ptr(), &mut err) };
            let _ = status(rc, err, "dropping a trace");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Kind, Tensor};

    #[test]
    fn a_trace_records_the_operations_run_inside_it() {
        if !super::super::built_in() {
            let e = Trace::start(Device::Cpu).err().expect("not built");
            assert!(e.to_string().contains("built without"), "{e}");
            return;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("trace.json");
        let before = Tensor::ones([64, 64], (Kind::Float, Device::Cpu));
        let _ = before.matmul(&before);
        let t = Trace::start(Device::Cpu).expect("start");
        assert!(Trace::start(Device::Cpu).is_err(), "one trace at a time");
        let x = Tensor::ones([64, 64], (Kind::Float, Device::Cpu));
        let _ = x.matmul(&x).relu();
        t.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("written");
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let names: Vec<&str> = v["traceEvents"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert!(names.contains(&"aten::relu"), "{names:?}");
        assert!(names.contains(&"aten::matmul"), "{names:?}");
        assert_eq!(
            names.iter().filter(|n| **n == "aten::matmul").count(),
            1,
            "only the work inside"
        );
    }
}
