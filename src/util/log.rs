//! The command's log file: what a command prints (its progress as plain
//! lines, its notes and results) is also appended, each line stamped with
//! the UTC time, to a file beside what it writes — `train.log` in the run
//! directory, `evaluate.log` beside the results — so a run started on a
//! terminal leaves the same record as one under `nohup` (Hugging Face's
//! Trainer and Lightning keep theirs the same way). Lines printed before the
//! command knows where its output goes are held and written when it opens
//! the file ([`to`]); a command that never opens one writes nothing. The
//! command line prints through [`say!`](crate::say) (standard output) and
//! [`tell!`](crate::tell) (standard error).
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Lines held until a file is opened, at most this many (the rest dropped).
const HELD: usize = 10_000;

enum Sink {
    Held(Vec<String>),
    File(PathBuf, std::fs::File),
}

static LOG: Mutex<Option<Sink>> = Mutex::new(None);

/// Appends `line` (stamped) to the log file, or holds it until one is opened.
pub fn line(line: &str) {
    let mut g = LOG.lock().unwrap_or_else(|e| e.into_inner());
    let stamped = format!("{} {line}", clock(now()));
    match g.get_or_insert_with(|| Sink::Held(Vec::new())) {
        Sink::Held(v) if v.len() < HELD => v.push(stamped),
        Sink::Held(_) => {}
        // A full disk must not stop the command: the terminal has the line.
        Sink::File(_, f) => {
            let _ = writeln!(f, "{stamped}");
        }
    }
}

/// From now on the log is `path` (appended to; its directory created), with
/// a header naming the command and the lines held so far. A command that
/// moves on to another run (`train -d`: the generator, then the verifier)
/// calls it again: the first file is closed, the next one opened.
pub fn to(path: &Path) -> std::io::Result<()> {
    let mut g = LOG.lock().unwrap_or_else(|e| e.into_inner());
    if matches!(&*g, Some(Sink::File(p, _)) if p == path) {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let args: Vec<String> = std::env::args().collect();
    writeln!(f, "== {} UTC: {}", date_time(now()), args.join(" "))?;
    if let Some(Sink::Held(held)) = g.take() {
        for l in held {
            writeln!(f, "{l}")?;
        }
    }
    *g = Some(Sink::File(path.to_path_buf(), f));
    Ok(())
}

/// After the directory `from` was renamed (a run moved aside): a log file
/// that lay in it goes on at its old path, in a new directory there.
pub fn follow_move(from: &Path) {
    let path = match &*LOG.lock().unwrap_or_else(|e| e.into_inner()) {
        Some(Sink::File(p, _)) if p.starts_with(from) => p.clone(),
        _ => return,
    };
    *LOG.lock().unwrap_or_else(|e| e.into_inner()) = None;
    to_or_warn(&path);
}

/// [`to`], a failure said on standard error rather than ending the command.
pub fn to_or_warn(path: &Path) {
    if let Err(e) = to(path) {
        eprintln!("no log file: {}: {e}", path.display());
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `HH:MM:SS` of a Unix time (UTC).
fn clock(secs: u64) -> String {
    let s = secs % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `YYYY-MM-DD HH:MM:SS` of a Unix time (UTC), by the proleptic Gregorian
/// calendar (days to civil date as in Hinnant's `civil_from_days`).
fn date_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {}", clock(secs))
}

/// Prints `line` on standard output (`stderr`: standard error) and appends
/// it to the log file: what [`say!`](crate::say) and [`tell!`](crate::tell)
/// do with their formatted line.
pub fn echo(line: &str, stderr: bool) {
    match stderr {
        true => eprintln!("{line}"),
        false => println!("{line}"),
    }
    self::line(line);
}

/// `println!`, the line also going to the command's log file.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => { $crate::util::log::echo(&format!($($t)*), false) };
}

/// `eprintln!`, the line also going to the command's log file.
#[macro_export]
macro_rules! tell {
    ($($t:tt)*) => { $crate::util::log::echo(&format!($($t)*), true) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_unix_times() {
        assert_eq!(date_time(0), "1970-01-01 00:00:00");
        assert_eq!(date_time(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(date_time(1_796_512_062), "2026-12-05 23:07:42");
        assert_eq!(date_time(4_107_542_399), "2100-02-28 23:59:59");
    }

    #[test]
    fn held_lines_reach_the_file_and_later_ones_follow() {
        let t = tempfile::tempdir().unwrap();
        line("before the file");
        let first = t.path().join("a/run.log");
        to(&first).unwrap();
        line("after");
        let second = t.path().join("b.log");
        to(&second).unwrap();
        line("in the second");
        let a = std::fs::read_to_string(&first).unwrap();
        let lines: Vec<&str> = a.lines().collect();
        assert!(
            lines[0].starts_with("== ") && lines[0].contains(" UTC: "),
            "{a}"
        );
        assert!(lines[1].ends_with(" before the file"), "{a}");
        assert!(lines[2].ends_with(" after"), "{a}");
        assert!(!a.contains("in the second"), "{a}");
        let b = std::fs::read_to_string(&second).unwrap();
        assert!(b.lines().nth(1).unwrap().ends_with(" in the second"), "{b}");
        // A stamp is the time of day.
        let stamp = &lines[1][..8];
        assert_eq!(stamp.as_bytes()[2], b':');
        assert_eq!(stamp.as_bytes()[5], b':');
    }
}
