//! CronJob schedules as upstream evaluates them (robfig/cron v3's
//! `ParseStandard` and `Schedule.Next`): five fields (minute, hour, day of
//! month, month, day of week) with lists, ranges, steps and names, the
//! `@yearly`…`@hourly` descriptors, `@every <duration>`, and a `TZ=` or
//! `CRON_TZ=` prefix. Day of month and day of week are ORed unless either
//! is `*`, as in Vixie cron.
//!
//! Written here rather than taken from a crate: the `cron` crate wants a
//! seconds field and has its own day-matching rules, and the Kubernetes
//! behaviour (star bits, step handling, the five-year search limit, DST
//! handling) is robfig's, which this follows. The syntax (fields to
//! bit sets, with the validation's messages) is `ironclad_api`'s; this
//! module adds time zones and the search for the next activation.

use std::time::Duration;

use ironclad_api::validation::cron::{self, STAR, bits};

use k8s_openapi::jiff::Timestamp;
use k8s_openapi::jiff::civil::date;
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{ToSpan, Zoned};

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Spec(Spec),
    /// `@every`: a fixed delay, whole seconds, at least one.
    Every(Duration),
}

#[derive(Debug, Clone)]
struct Spec {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    tz: TimeZone,
}

// === impl Schedule ===

impl Schedule {
    /// Parses `spec`, in `tz` unless it names its own zone.
    pub fn parse(spec: &str, tz: TimeZone) -> Result<Schedule, String> {
        let mut spec = spec.trim();
        if spec.is_empty() {
            return Err("empty spec string".into());
        }
        let mut tz = tz;
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            let (prefix, rest) = spec.split_once(' ').unwrap_or((spec, ""));
            let name = prefix.split_once('=').map_or("", |(_, n)| n);
            tz = load_zone(name).map_err(|e| format!("provided bad location {name}: {e}"))?;
            spec = rest.trim();
        }
        if let Some(d) = spec.strip_prefix('@') {
            return descriptor(d, spec, tz);
        }
        let fields: Vec<&str> = spec.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected exactly 5 fields, found {}: [{}]",
                fields.len(),
                fields.join(" ")
            ));
        }
        let mut bits = [0u64; 5];
        for (i, f) in fields.iter().enumerate() {
            bits[i] = cron::field_bits(f, i)?;
        }
        Ok(Schedule {
            kind: Kind::Spec(Spec {
                minute: bits[0],
                hour: bits[1],
                dom: bits[2],
                month: bits[3],
                dow: bits[4],
                tz,
            }),
        })
    }

    /// The first activation strictly after `t` (`None` if none within
    /// five years, as for "30 2 31 2 *").
    pub fn next(&self, t: Timestamp) -> Option<Timestamp> {
        match &self.kind {
            Kind::Every(d) => {
                let whole = t.checked_sub(k8s_openapi::jiff::SignedDuration::from_nanos(
                    i64::from(t.subsec_nanosecond()),
                ));
                let d = k8s_openapi::jiff::SignedDuration::try_from(*d).ok()?;
                whole.ok()?.checked_add(d).ok()
            }
            Kind::Spec(s) => s.next(t),
        }
    }
}

/// A time zone by IANA name ("" and "UTC" are UTC).
pub fn load_zone(name: &str) -> Result<TimeZone, String> {
    match name {
        "" | "UTC" => Ok(TimeZone::UTC),
        "Local" => Ok(TimeZone::system()),
        _ => TimeZone::get(name).map_err(|_| format!("unknown time zone {name}")),
    }
}

fn descriptor(d: &str, spec: &str, tz: TimeZone) -> Result<Schedule, String> {
    let all = |min: u32, max: u32| bits(min, max, 1) | STAR;
    let one = |n: u32| 1u64 << n;
    let (minute, hour, dom, month, dow) = match d {
        "yearly" | "annually" => (one(0), one(0), one(1), one(1), all(0, 6)),
        "monthly" => (one(0), one(0), one(1), all(1, 12), all(0, 6)),
        "weekly" => (one(0), one(0), all(1, 31), all(1, 12), one(0)),
        "daily" | "midnight" => (one(0), one(0), all(1, 31), all(1, 12), all(0, 6)),
        "hourly" => (one(0), all(0, 23), all(1, 31), all(1, 12), all(0, 6)),
        _ => {
            let Some(dur) = d.strip_prefix("every ") else {
                return Err(format!("unrecognized descriptor: {spec}"));
            };
            let nanos = cron::go_duration(dur.trim())
                .map_err(|e| format!("failed to parse duration {spec}: {e}"))?;
            // Whole seconds, at least one (robfig's `Every`).
            let secs = (nanos / 1e9).floor().max(1.0);
            return Ok(Schedule {
                kind: Kind::Every(Duration::from_secs_f64(secs)),
            });
        }
    };
    Ok(Schedule {
        kind: Kind::Spec(Spec {
            minute,
            hour,
            dom,
            month,
            dow,
            tz,
        }),
    })
}

// === impl Spec ===

fn has(bits: u64, n: i64) -> bool {
    u32::try_from(n).is_ok_and(|n| n < 63 && bits & (1u64 << n) != 0)
}

impl Spec {
    fn day_matches(&self, t: &Zoned) -> bool {
        let dom = has(self.dom, i64::from(t.day()));
        let dow = has(self.dow, i64::from(t.weekday().to_sunday_zero_offset()));
        if self.dom & STAR != 0 || self.dow & STAR != 0 {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// robfig's `SpecSchedule.Next`, field by field, wrapping around to
    /// re-check the larger fields when a smaller one overflows.
    fn next(&self, after: Timestamp) -> Option<Timestamp> {
        let tz = self.tz.clone();
        let at = |y: i16, m: i8, d: i8, h: i8| -> Option<Zoned> {
            date(y, m, d).at(h, 0, 0, 0).to_zoned(tz.clone()).ok()
        };
        // The upcoming whole second.
        let whole = after
            .checked_sub(k8s_openapi::jiff::SignedDuration::from_nanos(i64::from(
                after.subsec_nanosecond(),
            )))
            .ok()?;
        let mut t = whole.checked_add(1.second()).ok()?.to_zoned(tz.clone());
        let mut added = false;
        let year_limit = t.year() + 5;
        'wrap: loop {
            if t.year() > year_limit {
                return None;
            }
            while !has(self.month, i64::from(t.month())) {
                if !added {
                    added = true;
                    t = at(t.year(), t.month(), 1, 0)?;
                }
                t = t.checked_add(1.month()).ok()?;
                if t.month() == 1 {
                    continue 'wrap;
                }
            }
            while !self.day_matches(&t) {
                if !added {
                    added = true;
                    t = at(t.year(), t.month(), t.day(), 0)?;
                }
                t = t.checked_add(1.day()).ok()?;
                // A day whose midnight DST skipped starts later: go back
                // to the start of that day.
                if t.hour() != 0 {
                    t = t.start_of_day().ok()?;
                }
                if t.day() == 1 {
                    continue 'wrap;
                }
            }
            while !has(self.hour, i64::from(t.hour())) {
                if !added {
                    added = true;
                    t = t
                        .with()
                        .minute(0)
                        .second(0)
                        .subsec_nanosecond(0)
                        .build()
                        .ok()?;
                }
                t = t.checked_add(1.hour()).ok()?;
                if t.hour() == 0 {
                    continue 'wrap;
                }
            }
            while !has(self.minute, i64::from(t.minute())) {
                if !added {
                    added = true;
                    t = t.with().second(0).subsec_nanosecond(0).build().ok()?;
                }
                t = t.checked_add(1.minute()).ok()?;
                if t.minute() == 0 {
                    continue 'wrap;
                }
            }
            // Seconds: only 0 matches.
            while t.second() != 0 {
                if !added {
                    added = true;
                    t = t.with().subsec_nanosecond(0).build().ok()?;
                }
                t = t.checked_add(1.second()).ok()?;
                if t.second() == 0 {
                    continue 'wrap;
                }
            }
            return Some(t.timestamp());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn next(spec: &str, after: &str) -> String {
        Schedule::parse(spec, TimeZone::UTC)
            .unwrap()
            .next(ts(after))
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn every_minute_and_steps() {
        assert_eq!(
            next("* * * * *", "2024-05-01T10:00:00Z"),
            "2024-05-01T10:01:00Z"
        );
        assert_eq!(
            next("* * * * *", "2024-05-01T10:00:30.5Z"),
            "2024-05-01T10:01:00Z"
        );
        assert_eq!(
            next("*/15 * * * *", "2024-05-01T10:16:00Z"),
            "2024-05-01T10:30:00Z"
        );
        assert_eq!(
            next("5/20 * * * *", "2024-05-01T10:46:00Z"),
            "2024-05-01T11:05:00Z"
        );
        assert_eq!(
            next("0 0 * * *", "2024-12-31T23:59:00Z"),
            "2025-01-01T00:00:00Z"
        );
    }

    #[test]
    fn names_descriptors_and_day_rules() {
        // 2024-05-01 is a Wednesday.
        assert_eq!(
            next("0 9 * * mon-fri", "2024-05-03T10:00:00Z"),
            "2024-05-06T09:00:00Z"
        );
        assert_eq!(
            next("30 2 * JAN,jul SUN", "2024-05-01T00:00:00Z"),
            "2024-07-07T02:30:00Z"
        );
        // Day of month OR day of week when neither is a star.
        assert_eq!(
            next("0 0 15 * fri", "2024-05-01T00:00:00Z"),
            "2024-05-03T00:00:00Z"
        );
        assert_eq!(
            next("@hourly", "2024-05-01T10:00:00Z"),
            "2024-05-01T11:00:00Z"
        );
        assert_eq!(
            next("@weekly", "2024-05-01T10:00:00Z"),
            "2024-05-05T00:00:00Z"
        );
        assert_eq!(
            next("@yearly", "2024-05-01T10:00:00Z"),
            "2025-01-01T00:00:00Z"
        );
        assert_eq!(
            next("@every 90s", "2024-05-01T10:00:00.7Z"),
            "2024-05-01T10:01:30Z"
        );
        assert_eq!(next("0 0 30 2 *", "2024-05-01T00:00:00Z"), "", "never");
    }

    #[test]
    fn time_zones() {
        // 09:00 in New York (EDT, UTC-4) is 13:00 UTC.
        assert_eq!(
            next("TZ=America/New_York 0 9 * * *", "2024-05-01T00:00:00Z"),
            "2024-05-01T13:00:00Z"
        );
        let ny = load_zone("America/New_York").unwrap();
        let s = Schedule::parse("0 9 * * *", ny).unwrap();
        assert_eq!(
            s.next(ts("2024-01-10T00:00:00Z")).unwrap().to_string(),
            "2024-01-10T14:00:00Z"
        );
        // 02:30 does not exist on 2024-03-10 in New York.
        let s = Schedule::parse("30 2 * * *", load_zone("America/New_York").unwrap()).unwrap();
        assert_eq!(
            s.next(ts("2024-03-10T05:00:00Z")).unwrap().to_string(),
            "2024-03-11T06:30:00Z"
        );
        assert!(load_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn errors_match_validation() {
        for bad in [
            "* * * *",
            "60 * * * *",
            "*/0 * * * *",
            "x * * * *",
            "@often",
            "",
        ] {
            let ours = Schedule::parse(bad, TimeZone::UTC).unwrap_err();
            let api = ironclad_api::validation::cron::parse_schedule(bad).unwrap_err();
            assert_eq!(ours, api, "{bad}");
        }
    }
}
