//! Command-line values: durations (`20s`, `5m`, `1h`, `250ms`, plain seconds) and
//! percentages (`80`, `80%`).

use switchboard::Millis;

/// A non-negative duration from the command line, kept in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duration {
    secs: f64,
}

impl Duration {
    /// Seconds, as typed (`1.5m` is 90.0).
    pub fn secs(self) -> f64 {
        self.secs
    }

    /// Whole milliseconds, rounded to the nearest.
    pub fn millis(self) -> Millis {
        Millis((self.secs * 1000.0).round() as u64)
    }
}

/// Parses `20s`, `5m`, `1h`, `250ms` or a plain number of seconds (`20`, `2.5`).
///
/// Used as a clap value parser, so the message is what the user sees after
/// `invalid value '…' for '--threshold <DURATION>':`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}`: write e.g. 20s, 5m, 1h, 250ms or plain seconds"
            ));
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("expected a duration such as 20s, 5m, 1h, 250ms or plain seconds, got `{t}`")
    })?;
    let secs = value * scale;
    // A u64 of milliseconds holds about 584 million years; refuse anything near that.
    if !secs.is_finite() || secs > 1e12 {
        return Err(format!("`{t}` is too long a duration"));
    }
    Ok(Duration { secs })
}

/// Parses a percentage: `80`, `80%`, `99.5 %`, strictly between 0 and 100, returned as a
/// share (`0.8`).
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let number = t.strip_suffix('%').unwrap_or(t).trim();
    let pct: f64 = number
        .parse()
        .map_err(|_| format!("expected a percentage such as 80 or 80%, got `{t}`"))?;
    if pct > 0.0 && pct <= 100.0 {
        Ok(pct / 100.0)
    } else {
        Err(format!(
            "a percentage is above 0 and at most 100, got `{t}`"
        ))
    }
}

/// Parses a rate per hour: a finite number ≥ 0.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "expected contacts per hour, a number >= 0, got `{t}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let s = |t: &str| parse_duration(t).map(Duration::secs);
        assert_eq!(s("20s"), Ok(20.0));
        assert_eq!(s("20"), Ok(20.0));
        assert_eq!(s("5m"), Ok(300.0));
        assert_eq!(s("1h"), Ok(3600.0));
        assert_eq!(s("1.5m"), Ok(90.0));
        assert_eq!(s(" 250ms "), Ok(0.25));
        assert_eq!(s("0"), Ok(0.0));
        assert_eq!(
            parse_duration("1.5s").map(Duration::millis),
            Ok(Millis(1500))
        );
        for bad in [
            "",
            "s",
            "-5s",
            "5 minutes",
            "5d",
            "1e3",
            "1..2s",
            "9999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn percentages_and_rates() {
        assert_eq!(parse_percent("80"), Ok(0.8));
        assert_eq!(parse_percent("80%"), Ok(0.8));
        assert_eq!(parse_percent("100 %"), Ok(1.0));
        for bad in ["0", "-5", "101", "abc", "NaN"] {
            assert!(parse_percent(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_rate("100"), Ok(100.0));
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("inf").is_err());
    }
}
