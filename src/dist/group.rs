//! One rank's membership of a job: the c10d process group, its heartbeat, and
//! the collectives the trainer uses, each turning a failure into an error that
//! names the rank that is gone.
use super::ffi::{RawGroup, Rendezvous};
use super::liveness::{self, Heartbeat};
use super::{JobEnv, JoinOptions};
use crate::error::{Error, Result};
use std::time::Duration;
use tch::{Kind, Tensor};

/// Elements per all-reduce: large tensors go in buckets of 16 Mi elements
/// (64 MiB of f32), so no single message is huge and Gloo's buffers stay bounded.
const BUCKET: i64 = 1 << 24;

pub struct Group {
    // Fields drop in order: the heartbeat stops before the group (and, on
    // rank 0, the store its client talks to) goes.
    _heartbeat: Heartbeat,
    raw: RawGroup,
    env: JobEnv,
    backend: &'static str,
    timeout: Duration,
}

impl Group {
    /// Joins the job `env` describes: waits (up to `opts.timeout`) for every
    /// rank to reach the rendezvous, then connects the backend.
    pub fn join(env: &JobEnv, opts: JoinOptions, cuda: bool) -> Result<Self> {
        if !super::available() {
            return Err(Error::Distributed(format!(
                "RANK/WORLD_SIZE are set (rank {} of {}) but this genrec was built without c10d: run scripts/setup.sh (it installs libgloo-dev) and rebuild",
                env.rank, env.world
            )));
        }
        let backend = opts.backend.resolve(cuda);
        if backend == "nccl" && !cuda {
            return Err(Error::Distributed(
                "--dist-backend nccl needs training on CUDA; use gloo on the CPU".into(),
            ));
        }
        let prefix = store_prefix(env);
        let at = rendezvous(
            env,
            &prefix,
            env.rank == 0 && !env.agent_store,
            opts.timeout,
        );
        let raw = RawGroup::new(backend, &at, env.rank, env.world).map_err(|e| {
            Error::Distributed(format!(
                "rank {} of {} could not join the job at {}:{} with {backend} within {} s: {e}",
                env.rank,
                env.world,
                env.master_addr,
                env.master_port,
                opts.timeout.as_secs()
            ))
        })?;
        let heartbeat = Heartbeat::start(&at, env.rank)
            .map_err(|e| Error::Distributed(format!("rank {}: {e}", env.rank)))?;
        Ok(Self {
            _heartbeat: heartbeat,
            raw,
            env: env.clone(),
            backend,
            timeout: opts.timeout,
        })
    }

    pub fn rank(&self) -> usize {
        self.env.rank
    }

    pub fn world(&self) -> usize {
        self.env.world
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The error for a failed collective: what failed, c10d's words, and
    /// which rank is gone.
    fn failed(&self, what: &str, err: String) -> Error {
        let prefix = store_prefix(&self.env);
        let at = rendezvous(&self.env, &prefix, false, self.timeout);
        let who = liveness::diagnose(&at, &self.env);
        Error::Distributed(format!(
            "rank {} of {}: {what} failed: {who} [{}: {err}]",
            self.env.rank, self.env.world, self.backend
        ))
    }

    /// Sums `t` over all ranks, in place (contiguous; bucketed when large).
    pub fn all_reduce_sum(&self, t: &Tensor, what: &str) -> Result<()> {
        let flat = t.view([-1]);
        let n = flat.size()[0];
        let mut start = 0;
        while start < n {
            let len = BUCKET.min(n - start);
            self.raw
                .allreduce_sum(&flat.narrow(0, start, len))
                .map_err(|e| self.failed(what, e))?;
            start += len;
        }
        Ok(())
    }

    /// Copies rank `root`'s `t` into every rank's `t`, in place.
    pub fn broadcast(&self, t: &Tensor, root: usize, what: &str) -> Result<()> {
        self.raw
            .broadcast(t, root, 0)
            .map_err(|e| self.failed(what, e))
    }

    /// Rank 0's value of `x` on every rank.
    pub fn broadcast_f64s(&self, x: &mut [f64], what: &str) -> Result<()> {
        self.broadcast_f64s_within(x, what, self.timeout)
    }

    /// As [`Group::broadcast_f64s`], waiting up to `timeout` (for a rank 0
    /// that is busy alone, e.g. validating, longer than one collective).
    pub fn broadcast_f64s_within(
        &self,
        x: &mut [f64],
        what: &str,
        timeout: Duration,
    ) -> Result<()> {
        let t = Tensor::from_slice(x).to_device(self.control_device());
        self.raw
            .broadcast(&t, 0, timeout.as_millis() as i64)
            .map_err(|e| self.failed(what, e))?;
        let back: Vec<f64> = Vec::try_from(t.to_device(tch::Device::Cpu))
            .map_err(|e| Error::Distributed(format!("{what}: {e}")))?;
        x.copy_from_slice(&back);
        Ok(())
    }

    /// Where small control tensors live: NCCL only moves CUDA tensors.
    pub fn control_device(&self) -> tch::Device {
        if self.backend == "nccl" {
            tch::Device::Cuda(self.env.local_rank)
        } else {
            tch::Device::Cpu
        }
    }

    /// Checks that every rank holds the same bytes in `t` as rank 0 (e.g.
    /// the weights after a step) and returns their SHA-256; a rank whose
    /// bytes differ ends with an error saying so.
    pub fn check_identical(&self, t: &Tensor, what: &str) -> Result<String> {
        let digest = sha256_of(t)?;
        let words = |hex: &str| -> Vec<f64> {
            (0..hex.len() / 8)
                .map(|i| u32::from_str_radix(&hex[8 * i..8 * i + 8], 16).map_or(-1.0, f64::from))
                .collect()
        };
        let mine = words(&digest);
        let mut lead = mine.clone();
        self.broadcast_f64s(&mut lead, what)?;
        if lead != mine {
            return Err(Error::Distributed(format!(
                "rank {}: {what} differ from rank 0's (sha256 {digest})",
                self.env.rank
            )));
        }
        Ok(digest)
    }
}

/// The job's keys in the store: one namespace per launch attempt.
fn store_prefix(env: &JobEnv) -> String {
    format!("genrec/attempt_{}", env.attempt)
}

/// SHA-256 of a tensor's bytes (as stored, row-major), hex.
pub fn sha256_of(t: &Tensor) -> Result<String> {
    let host = t.to_device(tch::Device::Cpu).contiguous().view([-1]);
    let bytes: Vec<u8> = Vec::try_from(host.view_dtype(Kind::Uint8))
        .map_err(|e| Error::Distributed(format!("reading a tensor's bytes: {e}")))?;
    Ok(crate::util::hash::sha256_hex(&bytes))
}
/// The job's store as `env` names it, under `prefix`; hosted here when
/// `host_store`.
fn rendezvous<'a>(
    env: &'a JobEnv,
    prefix: &'a str,
    host_store: bool,
    timeout: Duration,
) -> Rendezvous<'a> {
    Rendezvous {
        host: &env.master_addr,
        port: env.master_port,
        prefix,
        host_store,
        agent_store: env.agent_store,
        timeout_ms: timeout.as_millis() as i64,
    }
}
