//! The one place that chooses the device, seeds libtorch and sets threads.
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::Device;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// CUDA when a GPU is visible, else CPU
    #[default]
    Auto,
    Cpu,
    Cuda,
}

/// Resolves a device choice; `Cuda` without a usable GPU is an error.
pub fn device(choice: DeviceChoice) -> Result<Device> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Auto => Ok(if tch::Cuda::is_available() {
            Device::Cuda(0)
        } else {
            Device::Cpu
        }),
        DeviceChoice::Cuda => {
            if tch::Cuda::is_available() {
                Ok(Device::Cuda(0))
            } else {
                Err(Error::Config(
                    "--device cuda: no CUDA device is available to libtorch".into(),
                ))
            }
        }
    }
}

/// Seeds libtorch's generators (CPU and CUDA). Everything else takes its RNG explicitly.
pub fn seed(seed: u64) {
    tch::manual_seed(seed as i64);
}

/// Sets libtorch's intra-op threads (None: libtorch's default, one per core).
pub fn set_threads(threads: Option<usize>) {
    if let Some(t) = threads {
        tch::set_num_threads(t as i32);
    }
}

/// Waits for the work queued on `device` (nothing to wait for on the CPU); for timing.
pub fn synchronize(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

pub fn describe(device: Device) -> String {
    match device {
        Device::Cpu => format!("cpu ({} threads)", tch::get_num_threads()),
        Device::Cuda(i) => format!("cuda:{i}"),
        d => format!("{d:?}"),
    }
}

/// Keeps freed memory in the process instead of returning it to the kernel
/// after every large tensor: libtorch's CPU tensors come from glibc malloc,
/// which by default maps and unmaps big blocks each time, so every training
/// step paid for the kernel zeroing fresh pages (measured: ~17 % of a step).
/// Call once at start-up, before any tensor work.
pub fn tune_allocator() {
    // SAFETY: mallopt only adjusts glibc's allocator parameters.
    unsafe {
        // No mmap for large blocks (the threshold itself caps at 32 MiB, below
        // a training step's largest activations), and no trimming of the heap.
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

/// Serialises the unit tests that seed or draw from libtorch's global
/// generator: the test harness runs them on parallel threads, and a draw
/// between another test's `manual_seed` and its own would make a seeded
/// result differ.
#[cfg(test)]
pub(crate) fn global_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
