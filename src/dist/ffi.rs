//! The extern "C" surface of `c10d_shim.cpp`, wrapped so that each call returns
//! a `Result` with c10d's own message. Without the shim (no Gloo headers at
//! build time) every call says so.
use crate::error::Error;
use std::ffi::{c_char, c_void, CStr, CString};
use tch::Tensor;

/// `GenrecJoin` of the shim: how to join a job.
#[repr(C)]
pub struct JoinSpec {
    backend: *const c_char,
    host: *const c_char,
    prefix: *const c_char,
    port: i32,
    rank: i32,
    world: i32,
    host_store: i32,
    agent_store: i32,
    timeout_ms: i64,
}

#[cfg(genrec_c10d)]
extern "C" {
    fn genrec_c10d_has_nccl() -> i32;
    fn genrec_c10d_free_str(s: *mut c_char);
    fn genrec_c10d_new(spec: *const JoinSpec, err: *mut *mut c_char) -> *mut c_void;
    fn genrec_c10d_free(g: *mut c_void);
    fn genrec_c10d_allreduce_sum(g: *mut c_void, t: *mut c_void, err: *mut *mut c_char) -> i32;
    fn genrec_c10d_broadcast(
        g: *mut c_void,
        t: *mut c_void,
        root: i32,
        timeout_ms: i64,
        err: *mut *mut c_char,
    ) -> i32;
    fn genrec_c10d_store_connect(
        host: *const c_char,
        port: i32,
        prefix: *const c_char,
        timeout_ms: i64,
        err: *mut *mut c_char,
    ) -> *mut c_void;
    fn genrec_c10d_store_free(s: *mut c_void);
    fn genrec_c10d_store_add(
        s: *mut c_void,
        key: *const c_char,
        delta: i64,
        out: *mut i64,
        err: *mut *mut c_char,
    ) -> i32;
}

#[cfg(not(genrec_c10d))]
mod absent {
    //! Stand-ins with the shim's signatures, for a build without it: every
    //! call fails without a message, which `take_err` turns into "not built".
    use super::JoinSpec;
    use std::ffi::{c_char, c_void};
    pub unsafe fn genrec_c10d_has_nccl() -> i32 {
        0
    }
    pub unsafe fn genrec_c10d_free_str(_: *mut c_char) {}
    pub unsafe fn genrec_c10d_new(_: *const JoinSpec, _: *mut *mut c_char) -> *mut c_void {
        std::ptr::null_mut()
    }
    pub unsafe fn genrec_c10d_free(_: *mut c_void) {}
    pub unsafe fn genrec_c10d_allreduce_sum(
        _: *mut c_void,
        _: *mut c_void,
        _: *mut *mut c_char,
    ) -> i32 {
        -1
    }
    pub unsafe fn genrec_c10d_broadcast(
        _: *mut c_void,
        _: *mut c_void,
        _: i32,
        _: i64,
        _: *mut *mut c_char,
    ) -> i32 {
        -1
    }
    pub unsafe fn genrec_c10d_store_connect(
        _: *const c_char,
        _: i32,
        _: *const c_char,
        _: i64,
        _: *mut *mut c_char,
    ) -> *mut c_void {
        std::ptr::null_mut()
    }
    pub unsafe fn genrec_c10d_store_free(_: *mut c_void) {}
    pub unsafe fn genrec_c10d_store_add(
        _: *mut c_void,
        _: *const c_char,
        _: i64,
        _: *mut i64,
        _: *mut *mut c_char,
    ) -> i32 {
        -1
    }
}
#[cfg(not(genrec_c10d))]
use absent::*;

const NOT_BUILT: &str = "this genrec was built without c10d (Gloo's headers were missing at build time: run scripts/setup.sh, which installs libgloo-dev, then rebuild)";

/// The message of a failed call: c10d's text, or why there is none.
fn take_err(err: *mut c_char) -> String {
    if err.is_null() {
        return NOT_BUILT.to_string();
    }
    // SAFETY: a non-null `err` is a NUL-terminated string the shim malloc'ed.
    let s = unsafe { CStr::from_ptr(err) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: freed once, by the allocator that made it.
    unsafe { genrec_c10d_free_str(err) };
    s
}

fn cstr(s: &str) -> std::result::Result<CString, String> {
    CString::new(s)
        .map_err(|_| Error::Distributed(format!("{s:?} contains a NUL byte")).to_string())
}

fn status(rc: i32, err: *mut c_char) -> std::result::Result<(), String> {
    if rc == 0 {
        Ok(())
    } else {
        Err(take_err(err))
    }
}

pub fn has_nccl() -> bool {
    // SAFETY: no arguments, no state.
    unsafe { genrec_c10d_has_nccl() == 1 }
}

/// A c10d process group (store + backend), owned.
pub struct RawGroup(*mut c_void);

/// A client connection to the job's store.
pub struct RawStore(*mut c_void);

// SAFETY: both handles point at C++ objects that c10d makes safe to use from
// another thread (TCPStore serialises its requests; a backend's collectives
// are issued from one thread at a time here: the owner's).
unsafe impl Send for RawGroup {}
unsafe impl Send for RawStore {}

/// Where a job's store is, whether this rank hosts it, its key namespace,
/// and how long to wait.
#[derive(Clone, Copy)]
pub struct Rendezvous<'a> {
    pub host: &'a str,
    pub port: u16,
    pub prefix: &'a str,
    pub host_store: bool,
    /// A launcher's agent hosts the store (shared with it: no registering).
    pub agent_store: bool,
    pub timeout_ms: i64,
}

impl RawGroup {
    pub fn new(
        backend: &str,
        at: &Rendezvous,
        rank: usize,
        world: usize,
    ) -> std::result::Result<Self, String> {
        let (b, h, p) = (cstr(backend)?, cstr(at.host)?, cstr(at.prefix)?);
        let spec = JoinSpec {
            backend: b.as_ptr(),
            host: h.as_ptr(),
            prefix: p.as_ptr(),
            port: i32::from(at.port),
            rank: rank as i32,
            world: world as i32,
            host_store: i32::from(at.host_store),
            agent_store: i32::from(at.agent_store),
            timeout_ms: at.timeout_ms,
        };
        let mut err = std::ptr::null_mut();
        // SAFETY: `spec` and its C strings live for the call; `err` receives an owned string or stays null.
        let g = unsafe { genrec_c10d_new(&spec, &mut err) };
        if g.is_null() {
            Err(take_err(err))
        } else {
            Ok(Self(g))
        }
    }

    pub fn allreduce_sum(&self, t: &Tensor) -> std::result::Result<(), String> {
        let mut err = std::ptr::null_mut();
        // SAFETY: `t` is a live at::Tensor owned by tch; the shim only copies its handle.
        let rc = unsafe { genrec_c10d_allreduce_sum(self.0, t.as_ptr() as *mut c_void, &mut err) };
        status(rc, err)
    }

    /// Rank `root`'s `t` into every rank's, waiting up to `timeout_ms` (0: the group's timeout).
    pub fn broadcast(
        &self,
        t: &Tensor,
        root: usize,
        timeout_ms: i64,
    ) -> std::result::Result<(), String> {
        let mut err = std::ptr::null_mut();
        // SAFETY: as in `allreduce_sum`.
        let rc = unsafe {
            genrec_c10d_broadcast(
                self.0,
                t.as_ptr() as *mut c_void,
                root as i32,
                timeout_ms,
                &mut err,
            )
        };
        status(rc, err)
    }
}

impl Drop for RawGroup {
    fn drop(&mut self) {
        // SAFETY: made by genrec_c10d_new, freed once.
        unsafe { genrec_c10d_free(self.0) }
    }
}

impl RawStore {
    pub fn connect(at: &Rendezvous) -> std::result::Result<Self, String> {
        let (h, p) = (cstr(at.host)?, cstr(at.prefix)?);
        let mut err = std::ptr::null_mut();
        // SAFETY: as in `RawGroup::new`.
        let s = unsafe {
            genrec_c10d_store_connect(
                h.as_ptr(),
                i32::from(at.port),
                p.as_ptr(),
                at.timeout_ms,
                &mut err,
            )
        };
        if s.is_null() {
            Err(take_err(err))
        } else {
            Ok(Self(s))
        }
    }

    /// Adds `delta` to the counter `key`; its new value.
    pub fn add(&self, key: &str, delta: i64) -> std::result::Result<i64, String> {
        let k = cstr(key)?;
        let (mut out, mut err) = (0i64, std::ptr::null_mut());
        // SAFETY: as in `RawGroup::new`; `out` is written on success.
        let rc = unsafe { genrec_c10d_store_add(self.0, k.as_ptr(), delta, &mut out, &mut err) };
        status(rc, err).map(|()| out)
    }
}

impl Drop for RawStore {
    fn drop(&mut self) {
        // SAFETY: made by genrec_c10d_store_connect, freed once.
        unsafe { genrec_c10d_store_free(self.0) }
    }
}
