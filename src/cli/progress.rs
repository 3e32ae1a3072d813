//! Progress for the CLI behind the library's `Progress` trait: an indicatif
//! bar on a terminal; plain lines when stderr is a file or a pipe (`nohup`, a
//! scheduler's log), as Hugging Face's Trainer and Lightning print them — one
//! per status message (each logging step of training), one at least every 30 s
//! of steady work, one per note (a validation, a decision) and one at the end.
//! The plain lines go to the command's log file in both cases
//! (`genrec::util::log`).
use genrec::progress::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Steady work prints a plain line at least this often.
const PLAIN_EVERY: Duration = Duration::from_secs(30);

pub struct Bar {
    pb: ProgressBar,
    /// Plain lines instead of a bar.
    plain: bool,
    state: Mutex<Plain>,
}

struct Plain {
    phase: String,
    message: String,
    last: Instant,
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Bar {
    /// A bar on a terminal, plain lines otherwise.
    pub fn new() -> Self {
        Self::with_plain(!std::io::stderr().is_terminal())
    }

    pub fn with_plain(plain: bool) -> Self {
        let target = if plain {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr_with_hz(5)
        };
        Self {
            pb: ProgressBar::with_draw_target(Some(0), target),
            plain,
            state: Mutex::new(Plain {
                phase: String::new(),
                message: String::new(),
                last: Instant::now(),
            }),
        }
    }

    /// `<phase> 200/3000 (6.7 %) 12.4/s elapsed 0:00:16 eta 0:03:45 | <message>`
    fn plain_line(&self, st: &Plain) -> String {
        let pos = self.pb.position();
        let len = self.pb.length().unwrap_or(0);
        let secs = self.pb.elapsed().as_secs_f64();
        let mut s = format!("{} {pos}", st.phase);
        if len > 0 {
            s.push_str(&format!(
                "/{len} ({:.1} %)",
                100.0 * pos as f64 / len as f64
            ));
        }
        if secs > 0.0 {
            s.push_str(&format!(" {:.1}/s", pos as f64 / secs));
        }
        s.push_str(&format!(" elapsed {}", hms(secs)));
        if len > 0 && pos > 0 && pos < len {
            s.push_str(&format!(
                " eta {}",
                hms(secs * (len - pos) as f64 / pos as f64)
            ));
        }
        if !st.message.is_empty() {
            s.push_str(" | ");
            s.push_str(&st.message);
        }
        s
    }

    /// The plain line of now: on standard error when there is no bar, and
    /// in the log file either way.
    fn print_plain(&self, st: &mut Plain) {
        let line = self.plain_line(st);
        if self.plain {
            eprintln!("{line}");
        }
        genrec::util::log::line(&line);
        st.last = Instant::now();
    }
}

fn hms(secs: f64) -> String {
    let s = secs.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl Progress for Bar {
    fn start(&self, total: u64, message: &str) {
        self.pb.reset();
        self.pb.set_length(total);
        let style = if total > 0 {
            ProgressStyle::with_template("{prefix:.bold} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta}) {msg}")
        } else {
            ProgressStyle::with_template(
                "{prefix:.bold} [{elapsed_precise}] {spinner} {pos} ({per_sec}) {msg}",
            )
        };
        self.pb.set_style(style.expect("static template"));
        self.pb.set_prefix(message.to_string());
        self.pb.set_message("");
        self.pb.set_position(0);
        let mut st = self.state.lock().expect("progress state");
        st.phase = message.to_string();
        st.message.clear();
        st.last = Instant::now();
    }
    fn inc(&self, n: u64) {
        self.pb.inc(n);
        let mut st = self.state.lock().expect("progress state");
        if st.last.elapsed() >= PLAIN_EVERY {
            self.print_plain(&mut st);
        }
    }
    fn set_message(&self, m: String) {
        if !self.plain {
            self.pb.set_message(m.clone());
        }
        let mut st = self.state.lock().expect("progress state");
        st.message = m;
        self.print_plain(&mut st);
    }
    fn note(&self, line: &str) {
        if self.plain {
            eprintln!("{line}");
        } else {
            self.pb.suspend(|| eprintln!("{line}"));
        }
        genrec::util::log::line(line);
    }
    fn finish(&self) {
        if !self.plain {
            self.pb.finish();
        }
        let mut st = self.state.lock().expect("progress state");
        st.message = "done".into();
        self.print_plain(&mut st);
    }
}
