//! Which rank of a job is gone. Each rank bumps a counter in the job's store
//! (`genrec/alive/<rank>`) twice a second from a background thread; when a
//! collective fails, the rank that noticed reads the counters twice, a few
//! beats apart, and names the ranks whose counters stood still. The store
//! lives in rank 0's process, so an unreachable store means rank 0 is gone.
use super::ffi::{RawStore, Rendezvous};
use super::JobEnv;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const BEAT: Duration = Duration::from_millis(500);
/// How long a rank's counter must stand still for it to count as gone.
const SILENCE: Duration = Duration::from_secs(3);

fn key(rank: usize) -> String {
    format!("genrec/alive/{rank}")
}

/// The background thread that shows this rank is alive; stopped on drop.
pub struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    pub fn start(at: &Rendezvous, rank: usize) -> Result<Self, String> {
        let store = RawStore::connect(at)?;
        store.add(&key(rank), 1)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("genrec-heartbeat-{rank}"))
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(BEAT);
                    if store.add(&key(rank), 1).is_err() {
                        break; // the store is gone: rank 0's error path says so
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Which of the other ranks are gone, in words, as seen by this rank.
pub fn diagnose(at: &Rendezvous, env: &JobEnv) -> String {
    let (world, me) = (env.world, env.rank);
    let short = Rendezvous {
        timeout_ms: 5_000,
        ..*at
    };
    let gone_store = || {
        match env.agent_store {
        false => format!(
            "rank 0 is gone (the job's store, which rank 0 hosts at {}:{}, does not answer)",
            at.host, at.port
        ),
        true => format!(
            "the job's store at {}:{} (the launcher's agent) does not answer: the launcher or its machine is gone",
            at.host, at.port
        ),
    }
    };
    let Ok(store) = RawStore::connect(&short) else {
        return gone_store();
    };
    let read = || -> Option<Vec<i64>> { (0..world).map(|r| store.add(&key(r), 0).ok()).collect() };
    let Some(before) = read() else {
        return gone_store();
    };
    std::thread::sleep(SILENCE);
    let Some(after) = read() else {
        return gone_store();
    };
    let silent: Vec<String> = (0..world)
        .filter(|&r| r != me && before[r] == after[r])
        .map(|r| r.to_string())
        .collect();
    match silent.len() {
        0 => "every other rank still shows signs of life: a rank failed with an error of its own (see its log), or the collective outlived --dist-timeout".into(),
        1 => format!("rank {} is gone (no sign of life for {} s: its process ended or hangs)", silent[0], SILENCE.as_secs()),
        _ => format!("ranks {} are gone (no sign of life for {} s: their processes ended or hang)", silent.join(", "), SILENCE.as_secs()),
    }
}
