//! Timing: lap clocks (waiting for the device when profiling), the training
//! step's phases, percentiles of latencies.
use genrec::runtime;
use std::time::Instant;

pub(crate) fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Seconds per training phase, summed over the timed steps (`--profile`).
#[derive(Default)]
pub(crate) struct Phases {
    pub(crate) build: f64,
    pub(crate) copy: f64,
    pub(crate) forward: f64,
    pub(crate) backward: f64,
    pub(crate) clip: f64,
    pub(crate) optimizer: f64,
}

/// Lap times; with `sync`, each lap first waits for the device, so a phase's
/// time is its GPU time (at the price of the overlap a real run has).
pub(crate) struct Clock {
    device: tch::Device,
    sync: bool,
    last: Instant,
}

impl Clock {
    pub(crate) fn new(device: tch::Device, sync: bool) -> Self {
        Self {
            device,
            sync,
            last: Instant::now(),
        }
    }
    pub(crate) fn lap(&mut self) -> f64 {
        if self.sync {
            runtime::synchronize(self.device);
        }
        let now = Instant::now();
        let s = (now - self.last).as_secs_f64();
        self.last = now;
        s
    }
}
