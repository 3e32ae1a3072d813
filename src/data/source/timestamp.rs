//! Interaction times as the generic JSONL format may carry them: a number
//! (any unit; only the order matters), or a calendar date or date-time in
//! the ISO 8601 forms that exported catalogues use (`2016-03-09`,
//! `2016-03-09 00:44:42`, `2016-03-09T00:44:42.5Z`, `…+02:00`), read as
//! seconds since 1970-01-01 UTC with the proleptic Gregorian calendar; and
//! spreadsheet dates with slashes (`12/1/2010 8:26`), month or day first as
//! the file's own dates show ([`SlashDates`]).
use super::RawInteraction;
use crate::data::lines::TextFile;
use crate::error::Result;

/// The time `s` stands for, in its own unit (a number) or in seconds since
/// 1970 (a date); `None` when it is neither.
pub(super) fn parse(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(x) = s.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim_start())),
        None => (s, None),
    };
    let days = date_days(date)?;
    let secs = match rest {
        None | Some("") => 0.0,
        Some(t) => time_seconds(t)?,
    };
    Some(days as f64 * 86_400.0 + secs)
}

/// A date written `A/B/YYYY` (and an optional time after a space): its two
/// first numbers and the rest from the year on.
fn slash_parts(s: &str) -> Option<(i64, i64, &str)> {
    let s = s.trim();
    let mut it = s.splitn(3, '/');
    let (a, b, rest) = (it.next()?, it.next()?, it.next()?);
    let year = rest.split([' ', 'T']).next()?;
    (a.len() <= 2 && b.len() <= 2 && year.len() == 4 && digits(year).is_some()).then_some((
        digits(a)?,
        digits(b)?,
        rest,
    ))
}

/// The interactions whose times are slash dates, kept aside until the
/// file's own dates tell whether the month or the day comes first.
#[derive(Default)]
pub(super) struct SlashDates(Vec<Slashed>);

/// A kept slash date: its interaction, line, two first numbers, text and
/// where the year starts in it.
struct Slashed {
    index: usize,
    line: usize,
    a: i64,
    b: i64,
    text: String,
    year_at: usize,
}

impl SlashDates {
    /// Keeps `s` for interaction `index` (line `line`) where it is a slash date.
    pub(super) fn keep(&mut self, index: usize, line: usize, s: &str) -> bool {
        let Some((a, b, rest)) = slash_parts(s) else {
            return false;
        };
        let text = s.trim().to_string();
        let year_at = text.len() - rest.len();
        self.0.push(Slashed {
            index,
            line,
            a,
            b,
            text,
            year_at,
        });
        true
    }

    /// Sets the kept interactions' times: day first where some first number
    /// is above 12, month first where some second one is; an error where
    /// both are (naming a line of each) or neither (the order cannot be told).
    pub(super) fn resolve(self, f: &TextFile, out: &mut [RawInteraction]) -> Result<()> {
        let day = self.0.iter().find(|d| d.a > 12);
        let month = self.0.iter().find(|d| d.b > 12);
        let day_first = match (day, month) {
            (Some(d), Some(m)) => return Err(f.err(m.line, format!(
                "the slash dates disagree: `{}` has its month first, line {}'s `{}` its day first (write them as YYYY-MM-DD)", m.text, d.line, d.text))),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => match self.0.first() {
                Some(d) => return Err(f.err(d.line, format!(
                    "`{}` and the file's other slash dates could be month/day or day/month: none has a number above 12 to tell (write them as YYYY-MM-DD)", d.text))),
                None => return Ok(()),
            },
        };
        for d in &self.0 {
            let (m, day) = if day_first { (d.b, d.a) } else { (d.a, d.b) };
            let rest = &d.text[d.year_at..]; // the year and any time after it
            out[d.index].timestamp =
                parse(&format!("{}-{m:02}-{day:02}{}", &rest[..4], &rest[4..])).ok_or_else(
                    || {
                        f.err(
                            d.line,
                            format!(
                                "`{}` is not a real date (read as {} first)",
                                d.text,
                                if day_first { "day" } else { "month" }
                            ),
                        )
                    },
                )?;
        }
        Ok(())
    }
}

/// Days from 1970-01-01 to `YYYY-MM-DD`, checked to be a real date.
fn date_days(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (digits(y)?, digits(m)?, digits(d)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Whole years since 1970, then the months of this year, then the day.
    let leaps_before = |y: i64| (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
    let year_days = 365 * (y - 1970) + leaps_before(y) - leaps_before(1970);
    let before_month: i64 = month_days[..(m - 1) as usize].iter().sum();
    Some(year_days + before_month + d - 1)
}

/// Seconds into the day of `HH:MM[:SS[.fff]]` with an optional zone (`Z`,
/// `±HH:MM`, `±HHMM`), shifted to UTC.
fn time_seconds(t: &str) -> Option<f64> {
    let (clock, zone) = match t.find(['Z', 'z', '+', '-']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let mut parts = clock.split(':');
    let h: i64 = digits(parts.next()?)?;
    let m: i64 = digits(parts.next()?)?;
    let s: f64 = match parts.next() {
        Some(s) if s.len() >= 2 && s.as_bytes()[..2].iter().all(u8::is_ascii_digit) => {
            s.parse().ok()?
        }
        Some(_) => return None,
        None => 0.0,
    };
    if parts.next().is_some() || h > 23 || m > 59 || !(0.0..61.0).contains(&s) {
        return None;
    }
    let offset = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let hm = z[1..].replace(':', "");
            if hm.len() != 4 {
                return None;
            }
            let (oh, om): (i64, i64) = (digits(&hm[..2])?, digits(&hm[2..])?);
            sign * (oh * 3600 + om * 60)
        }
    };
    Some((h * 3600 + m * 60 - offset) as f64 + s)
}

/// A string of ASCII digits as a number.
fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn numbers_stay_as_they_are() {
        assert_eq!(parse("1457484282"), Some(1457484282.0));
        assert_eq!(parse(" 3.5 "), Some(3.5));
        assert_eq!(parse("inf"), None);
    }

    #[test]
    fn dates_are_seconds_since_1970_utc() {
        // Checked against `date -u -d … +%s`.
        assert_eq!(parse("1970-01-01"), Some(0.0));
        assert_eq!(parse("2016-03-09 00:44:42"), Some(1457484282.0));
        assert_eq!(parse("2016-03-09T00:44:42Z"), Some(1457484282.0));
        assert_eq!(parse("2016-03-09T02:44:42+02:00"), Some(1457484282.0));
        assert_eq!(parse("2016-03-08T19:44:42-0500"), Some(1457484282.0));
        assert_eq!(parse("2000-02-29"), Some(951782400.0));
        assert_eq!(parse("1969-12-31T23:59:59"), Some(-1.0));
        assert_eq!(parse("2024-12-31T23:59:59.5Z"), Some(1735689599.5));
    }

    #[test]
    fn slash_dates_split_into_their_numbers() {
        use super::slash_parts;
        assert_eq!(slash_parts("12/1/2010 8:26"), Some((12, 1, "2010 8:26")));
        assert_eq!(slash_parts("01/02/2016"), Some((1, 2, "2016")));
        for s in ["2016/03/09", "1/2/16", "a/1/2016", "1/2", "123/1/2016"] {
            assert_eq!(slash_parts(s), None, "{s}");
        }
    }

    #[test]
    fn what_is_not_a_date_is_refused() {
        for s in [
            "soon",
            "2016-13-01",
            "2019-02-29",
            "2016-03-09T25:00",
            "16-03-09",
            "2016/03/09",
            "2016-03-09T00:44:42+2",
            "2016-03-09 00",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
    }
}
