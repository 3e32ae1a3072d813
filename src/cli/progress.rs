//! indicatif progress bars behind the library's `Progress` trait.
use genrec::progress::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bar(ProgressBar);

impl Bar {
    pub fn new() -> Self {
        let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(5));
        Self(pb)
    }
}

impl Progress for Bar {
    fn start(&self, total: u64, message: &str) {
        self.0.reset();
        self.0.set_length(total);
        let style = if total > 0 {
            ProgressStyle::with_template("{prefix:.bold} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta}) {msg}")
        } else {
            ProgressStyle::with_template("{prefix:.bold} [{elapsed_precise}] {spinner} {pos} {msg}")
        };
        self.0.set_style(style.expect("static template"));
        self.0.set_prefix(message.to_string());
        self.0.set_position(0);
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn set_message(&self, m: String) {
        self.0.set_message(m);
    }
    fn finish(&self) {
        self.0.finish();
    }
}
