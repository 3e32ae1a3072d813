//! What genrec needs of CUDA that tch does not bind: peak memory as
//! libtorch's caching allocator counts it (`torch.cuda.max_memory_allocated`),
//! and CUDA graphs (NVIDIA's stream capture, as `torch.cuda.graph`): the kernels
//! a piece of libtorch work queues are recorded once and then relaunched as
//! one graph, so a training step of a few thousand small kernels costs one
//! launch instead of a few thousand (each also crossing tch's C API). tch does
//! not bind libtorch's `at::cuda::CUDAGraph`; `shim.cpp`, compiled by
//! `build.rs` when libtorch has CUDA and CUDA's headers are present, does.
//! The rules are libtorch's: work is captured on a side stream, captured code
//! must not read values back to the host or change tensor shapes, and a
//! replay reads and writes exactly the tensors the capture used. `trace`
//! records libtorch's Kineto profiler (operations and kernels) to a file.
pub mod trace;

use crate::error::{Error, Result};
use std::ffi::{c_char, c_void, CStr};
use tch::Device;

#[cfg(genrec_cuda)]
extern "C" {
    fn genrec_graph_free_str(s: *mut c_char);
    fn genrec_graph_new(device: i32, err: *mut *mut c_char) -> *mut c_void;
    fn genrec_graph_free(g: *mut c_void);
    fn genrec_graph_enter(g: *mut c_void, err: *mut *mut c_char) -> i32;
    fn genrec_graph_leave(g: *mut c_void, err: *mut *mut c_char) -> i32;
    fn genrec_graph_capture_begin(g: *mut c_void, err: *mut *mut c_char) -> i32;
    fn genrec_graph_capture_end(g: *mut c_void, err: *mut *mut c_char) -> i32;
    fn genrec_graph_replay(g: *mut c_void, err: *mut *mut c_char) -> i32;
    fn genrec_cuda_peak_allocated(device: i32, out: *mut i64, err: *mut *mut c_char) -> i32;
}

#[cfg(not(genrec_cuda))]
mod absent {
    //! Stand-ins with the shim's signatures for a build without it: a graph
    //! is never made (`CudaGraph::new` says why), so the others never run.
    use std::ffi::{c_char, c_void};
    pub unsafe extern "C" fn genrec_graph_free_str(_: *mut c_char) {}
    pub unsafe extern "C" fn genrec_graph_new(_: i32, _: *mut *mut c_char) -> *mut c_void {
        std::ptr::null_mut()
    }
    pub unsafe extern "C" fn genrec_graph_free(_: *mut c_void) {}
    pub unsafe extern "C" fn genrec_graph_enter(_: *mut c_void, _: *mut *mut c_char) -> i32 {
        -1
    }
    pub unsafe extern "C" fn genrec_graph_leave(_: *mut c_void, _: *mut *mut c_char) -> i32 {
        -1
    }
    pub unsafe extern "C" fn genrec_graph_capture_begin(
        _: *mut c_void,
        _: *mut *mut c_char,
    ) -> i32 {
        -1
    }
    pub unsafe extern "C" fn genrec_graph_capture_end(_: *mut c_void, _: *mut *mut c_char) -> i32 {
        -1
    }
    pub unsafe extern "C" fn genrec_graph_replay(_: *mut c_void, _: *mut *mut c_char) -> i32 {
        -1
    }
    pub unsafe extern "C" fn genrec_cuda_peak_allocated(
        _: i32,
        _: *mut i64,
        _: *mut *mut c_char,
    ) -> i32 {
        -1
    }
}
#[cfg(not(genrec_cuda))]
use absent::*;

const NOT_BUILT: &str = "this genrec was built without CUDA graphs (its libtorch has no CUDA, or CUDA's headers were missing at build time: run scripts/setup.sh and rebuild)";

/// Whether this build can capture CUDA graphs (a GPU is still needed).
pub fn built_in() -> bool {
    cfg!(genrec_cuda)
}

/// The most MiB libtorch has had allocated on `device` so far
/// (`torch.cuda.max_memory_allocated`); None off CUDA or without the shim.
pub fn peak_allocated_mb(device: Device) -> Option<f64> {
    let Device::Cuda(index) = device else {
        return None;
    };
    let (mut bytes, mut err) = (0i64, std::ptr::null_mut());
    // SAFETY: `bytes` is written only on success; `err` is set only on failure.
    let rc = unsafe { genrec_cuda_peak_allocated(index as i32, &mut bytes, &mut err) };
    status(rc, err, "reading peak memory").ok()?;
    Some(bytes as f64 / (1024.0 * 1024.0))
}

/// libtorch's message for a failed call (or why there is none).
pub(crate) fn status(rc: i32, err: *mut c_char, what: &str) -> Result<()> {
    if rc == 0 {
        return Ok(());
    }
    let msg = if err.is_null() {
        NOT_BUILT.to_string()
    } else {
        // SAFETY: a non-null `err` is a NUL-terminated string the shim malloc'ed.
        let s = unsafe { CStr::from_ptr(err) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: freed once, by the allocator that made it.
        unsafe { genrec_graph_free_str(err) };
        s
    };
    Err(Error::Other(format!("CUDA shim: {what}: {msg}")))
}

/// One CUDA graph with its side stream, owned.
pub struct CudaGraph {
    ptr: *mut c_void,
    captured: bool,
}

impl CudaGraph {
    /// An empty graph for `device` (a CUDA device).
    pub fn new(device: Device) -> Result<Self> {
        let Device::Cuda(index) = device else {
            return Err(Error::Other(format!(
                "CUDA graphs need a CUDA device, not {device:?}"
            )));
        };
        let mut err = std::ptr::null_mut();
        // SAFETY: the shim allocates the graph or sets `err`.
        let ptr = unsafe { genrec_graph_new(index as i32, &mut err) };
        if ptr.is_null() {
            status(-1, err, "creating a graph")?;
        }
        Ok(Self {
            ptr,
            captured: false,
        })
    }

    fn call(
        &self,
        f: unsafe extern "C" fn(*mut c_void, *mut *mut c_char) -> i32,
        what: &str,
    ) -> Result<()> {
        let mut err = std::ptr::null_mut();
        // SAFETY: `ptr` is a live graph of the shim; `err` is set only on failure.
        let rc = unsafe { f(self.ptr, &mut err) };
        status(rc, err, what)
    }

    /// Runs `f` with the graph's side stream current (the warm-up runs
    /// before a capture: libtorch's lazy set-up must not happen inside one).
    pub fn on_side_stream<T>(&self, f: impl FnOnce() -> T) -> Result<T> {
        self.call(genrec_graph_enter, "entering the side stream")?;
        let out = f();
        self.call(genrec_graph_leave, "leaving the side stream")?;
        Ok(out)
    }

    /// Records the CUDA work `f` queues, without running it; [`replay`]
    /// runs it. A graph is captured once. `f` panicking (libtorch refused
    /// an operation during capture) ends the capture and is an error.
    ///
    /// [`replay`]: CudaGraph::replay
    pub fn capture<T>(&mut self, f: impl FnOnce() -> T) -> Result<T> {
        if self.captured {
            return Err(Error::Other("CUDA graph: already captured".into()));
        }
        self.call(genrec_graph_enter, "entering the side stream")?;
        if let Err(e) = self.call(genrec_graph_capture_begin, "beginning the capture") {
            let _ = self.call(genrec_graph_leave, "leaving the side stream");
            return Err(e);
        }
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let ended = self.call(genrec_graph_capture_end, "ending the capture");
        self.call(genrec_graph_leave, "leaving the side stream")?;
        let out = out.map_err(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            Error::Other(format!("CUDA graph: the captured work failed: {msg}"))
        })?;
        ended?;
        self.captured = true;
        Ok(out)
    }

    /// Runs the captured work on the current stream.
    pub fn replay(&self) -> Result<()> {
        if !self.captured {
            return Err(Error::Other("CUDA graph: replay before capture".into()));
        }
        self.call(genrec_graph_replay, "replaying")
    }
}

impl Drop for CudaGraph {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from genrec_graph_new and is freed once.
        unsafe { genrec_graph_free(self.ptr) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graph_needs_a_cuda_device() {
        let e = CudaGraph::new(Device::Cpu).err().expect("refused");
        assert!(e.to_string().contains("CUDA device"), "{e}");
    }
}
