//! Data-parallel jobs across processes and machines on PyTorch's own
//! distributed engine, c10d (Li et al. 2020, "PyTorch Distributed"): a TCPStore
//! rendezvous hosted by rank 0, then a Gloo (CPU) or NCCL (GPU) process group,
//! built by the C++ shim in `c10d_shim.cpp` (tch does not bind c10d). A
//! process is one rank of a job when the launcher's standard variables are set
//! (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`, `MASTER_PORT`, as
//! `torchrun`, Slurm wrappers and Kubernetes indexed jobs set them); without
//! them everything runs in one process exactly as before. This layer only
//! moves tensors; what is sharded and reduced is the trainer's business.
mod ffi;
mod group;
mod liveness;

pub use group::{sha256_of, Group};

use crate::error::{Error, Result};
use std::time::Duration;

/// Which c10d backend carries the collectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BackendChoice {
    /// NCCL when training on CUDA, Gloo on the CPU
    #[default]
    Auto,
    /// Gloo: CPU tensors (CUDA tensors go through the host)
    Gloo,
    /// NCCL: CUDA tensors, one GPU per rank
    Nccl,
}

impl BackendChoice {
    /// The backend's c10d name for training on CUDA (`cuda`) or the CPU.
    pub fn resolve(self, cuda: bool) -> &'static str {
        match self {
            Self::Auto if cuda => "nccl",
            Self::Auto | Self::Gloo => "gloo",
            Self::Nccl => "nccl",
        }
    }
}

/// This process's place in a job, from the launcher's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEnv {
    pub rank: usize,
    pub world: usize,
    /// The rank's index on its machine (its GPU when training on CUDA).
    pub local_rank: usize,
    pub master_addr: String,
    pub master_port: u16,
    /// The launcher's agent hosts the store at MASTER_ADDR:MASTER_PORT
    /// (torchrun: `TORCHELASTIC_USE_AGENT_STORE=True`); otherwise rank 0 does.
    pub agent_store: bool,
    /// The launcher's restart count (`TORCHELASTIC_RESTART_COUNT`): each
    /// attempt keeps its keys apart in the store.
    pub attempt: u32,
}

/// How a job is joined: the backend and how long a collective may wait.
#[derive(Debug, Clone, Copy)]
pub struct JoinOptions {
    pub backend: BackendChoice,
    /// How long joining, or one collective, may wait for the other ranks
    /// before the job ends with an error.
    pub timeout: Duration,
}

impl JobEnv {
    /// The job this process belongs to: `None` when `WORLD_SIZE` is unset (a
    /// single process), an error naming the variable when one is missing or
    /// malformed.
    pub fn from_env() -> Result<Option<Self>> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`JobEnv::from_env`], reading variables through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let Some(world) = get("WORLD_SIZE") else {
            return Ok(None);
        };
        let num = |k: &str, v: Option<String>| -> Result<usize> {
            let v = v.ok_or_else(|| {
                Error::Distributed(format!("WORLD_SIZE is set but {k} is not; a launcher (torchrun, srun, a Kubernetes indexed job) sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT together"))
            })?;
            v.trim().parse().map_err(|_| {
                Error::Distributed(format!("{k}={v:?}: expected a non-negative integer"))
            })
        };
        let world = num("WORLD_SIZE", Some(world))?;
        let rank = num("RANK", get("RANK"))?;
        let local_rank = match get("LOCAL_RANK") {
            Some(v) => num("LOCAL_RANK", Some(v))?,
            None => 0,
        };
        let master_addr = get("MASTER_ADDR").ok_or_else(|| {
            Error::Distributed(
                "WORLD_SIZE is set but MASTER_ADDR is not (the host of rank 0)".into(),
            )
        })?;
        let port = num("MASTER_PORT", get("MASTER_PORT"))?;
        if world == 0 || rank >= world {
            return Err(Error::Distributed(format!(
                "RANK={rank} with WORLD_SIZE={world}: need 0 ≤ RANK < WORLD_SIZE"
            )));
        }
        let master_port = u16::try_from(port)
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| Error::Distributed(format!("MASTER_PORT={port}: not a TCP port")))?;
        let attempt = match get("TORCHELASTIC_RESTART_COUNT") {
            Some(v) => num("TORCHELASTIC_RESTART_COUNT", Some(v))? as u32,
            None => 0,
        };
        Ok(Some(Self {
            rank,
            world,
            local_rank,
            master_addr,
            master_port,
            agent_store: get("TORCHELASTIC_USE_AGENT_STORE")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            attempt,
        }))
    }
}

/// Whether this build carries the c10d shim (it does when Gloo's headers were
/// found at build time; `scripts/setup.sh` installs them).
pub fn available() -> bool {
    cfg!(genrec_c10d)
}

/// Whether this build carries the NCCL backend.
pub fn has_nccl() -> bool {
    ffi::has_nccl()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<Option<JobEnv>> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        JobEnv::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn the_launcher_variables_make_a_rank_and_their_absence_one_process() {
        assert_eq!(env(&[]).unwrap(), None);
        let full = [
            ("WORLD_SIZE", "4"),
            ("RANK", "3"),
            ("LOCAL_RANK", "1"),
            ("MASTER_ADDR", "node0"),
            ("MASTER_PORT", "29500"),
        ];
        let j = env(&full).unwrap().unwrap();
        assert_eq!((j.rank, j.world, j.local_rank), (3, 4, 1));
        assert_eq!((j.master_addr.as_str(), j.master_port), ("node0", 29500));
        assert!(!j.agent_store && j.attempt == 0, "rank 0 hosts the store");
        let mut torchrun = full.to_vec();
        torchrun.extend([
            ("TORCHELASTIC_USE_AGENT_STORE", "True"),
            ("TORCHELASTIC_RESTART_COUNT", "2"),
        ]);
        let j = env(&torchrun).unwrap().unwrap();
        assert!(j.agent_store && j.attempt == 2, "torchrun's agent hosts it");
        let msg = |pairs: &[(&str, &str)]| env(pairs).unwrap_err().to_string();
        assert!(msg(&full[..1]).contains("RANK is not"));
        assert!(msg(&[full[0], ("RANK", "4"), full[3], full[4]]).contains("RANK < WORLD_SIZE"));
        assert!(
            msg(&[full[0], full[1], full[3], ("MASTER_PORT", "x")]).contains("MASTER_PORT=\"x\"")
        );
        assert!(msg(&[full[0], full[1], full[4]]).contains("MASTER_ADDR"));
        assert_eq!(BackendChoice::Auto.resolve(true), "nccl");
        assert_eq!(BackendChoice::Auto.resolve(false), "gloo");
    }
}
