//! Upstream's cell formatting helpers: human durations, label maps, label
//! selectors and container lists.

use chrono::{DateTime, TimeDelta, Utc};
use ironclad_api::selector::{LabelSelector, Operator, Requirement};
use serde_json::Value;

use crate::value::{array_at, at, map_at, str_at};

/// Upstream's `duration.HumanDuration`: about two significant figures
/// (`45s`, `3m2s`, `10m`, `5h3m`, `2d5h`, `45d`, `2y30d`, `9y`).
pub fn human_duration(d: TimeDelta) -> String {
    // Go durations are nanoseconds in an i64, saturating on overflow.
    let nanos = d.num_nanoseconds().unwrap_or(if d < TimeDelta::zero() {
        i64::MIN
    } else {
        i64::MAX
    });
    const SECOND: i64 = 1_000_000_000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;
    let seconds = nanos / SECOND;
    // A couple of seconds of clock skew still reads as "now".
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = nanos / MINUTE;
    if minutes < 10 {
        let s = (nanos / SECOND) % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = nanos / HOUR;
    if hours < 8 {
        let m = (nanos / MINUTE) % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        format!("{hours}h{m}m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        format!("{}d{h}h", hours / 24)
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        format!("{}y{dy}d", hours / 24 / 365)
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// Time since a timestamp, or `<unknown>` without one.
pub(crate) fn since(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match t {
        Some(t) => human_duration(now - t),
        None => "<unknown>".to_string(),
    }
}

/// Upstream's `labels.FormatLabels`: `k=v` pairs sorted by key, or
/// `<none>`.
pub(crate) fn format_labels(v: &Value, path: &[&str]) -> String {
    let pairs: Vec<String> = map_at(v, path)
        .map(|m| {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            keys.into_iter()
                .map(|k| {
                    format!(
                        "{k}={}",
                        m.get(k).and_then(Value::as_str).unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        "<none>".to_string()
    } else {
        pairs.join(",")
    }
}

/// Upstream's `LabelSelectorAsSelector` on a selector in its JSON shape:
/// absent selects nothing, empty everything; None when invalid.
pub(crate) fn label_selector(sel: Option<&Value>) -> Option<LabelSelector> {
    let Some(sel) = sel.filter(|s| !s.is_null()) else {
        return Some(LabelSelector::nothing());
    };
    let mut requirements = Vec::new();
    if let Some(labels) = map_at(sel, &["matchLabels"]) {
        for (k, v) in labels {
            let value = v.as_str()?.to_string();
            requirements.push(Requirement::new(k.clone(), Operator::Equals, vec![value]).ok()?);
        }
    }
    for expr in array_at(sel, &["matchExpressions"]) {
        let op = match str_at(expr, &["operator"]) {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            _ => return None,
        };
        let values = array_at(expr, &["values"])
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<String>>>()?;
        requirements.push(Requirement::new(str_at(expr, &["key"]), op, values).ok()?);
    }
    Some(LabelSelector::from_requirements(requirements))
}

/// Upstream's `metav1.FormatLabelSelector`: the selector's string,
/// `<none>` when empty, `<error>` when invalid.
pub(crate) fn format_label_selector(v: &Value, path: &[&str]) -> String {
    match label_selector(at(v, path)) {
        None => "<error>".to_string(),
        Some(s) if s.to_string().is_empty() => "<none>".to_string(),
        Some(s) => s.to_string(),
    }
}

/// Upstream's `layoutContainerCells`: container names and images, each
/// joined with commas.
pub(crate) fn containers(pod_spec: Option<&Value>) -> (String, String) {
    let containers = pod_spec.map_or(&[][..], |s| array_at(s, &["containers"]));
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

/// `"%s + %d more..."` lists (at most three shown), `<unset>` when empty.
pub(crate) fn list_with_more(list: &[String], count: usize) -> String {
    const MAX: usize = 3;
    let shown = &list[..list.len().min(MAX)];
    let ret = shown.join(",");
    if count > MAX {
        return format!("{ret} + {} more...", count - MAX);
    }
    if ret.is_empty() {
        "<unset>".to_string()
    } else {
        ret
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(secs: i64) -> String {
        human_duration(TimeDelta::seconds(secs))
    }

    #[test]
    fn human_durations_match_upstream() {
        let cases = [
            (-5, "<invalid>"),
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (45, "45s"),
            (119, "119s"),
            (120, "2m"),
            (182, "3m2s"),
            (599, "9m59s"),
            (600, "10m"),
            (179 * 60 + 59, "179m"),
            (3 * 3600, "3h"),
            (5 * 3600 + 3 * 60, "5h3m"),
            (8 * 3600, "8h"),
            (47 * 3600 + 59 * 60, "47h"),
            (48 * 3600, "2d"),
            (53 * 3600, "2d5h"),
            (7 * 86400 + 23 * 3600, "7d23h"),
            (8 * 86400, "8d"),
            (45 * 86400, "45d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (760 * 86400, "2y30d"),
            (8 * 365 * 86400, "8y"),
            (20 * 365 * 86400 + 86400 * 100, "20y"),
        ];
        for (secs, want) in cases {
            assert_eq!(d(secs), want, "{secs}s");
        }
        assert_eq!(human_duration(TimeDelta::milliseconds(-1500)), "0s");
        assert_eq!(human_duration(TimeDelta::milliseconds(1999)), "1s");
        assert_eq!(human_duration(TimeDelta::MAX), "292y");
        assert_eq!(human_duration(TimeDelta::MIN), "<invalid>");
        let now = Utc::now();
        assert_eq!(since(None, now), "<unknown>");
        assert_eq!(since(Some(now - TimeDelta::seconds(90)), now), "90s");
    }

    #[test]
    fn labels_and_selectors() {
        let v = json!({"l": {"b": "2", "a": "1"}, "e": {}});
        assert_eq!(format_labels(&v, &["l"]), "a=1,b=2");
        assert_eq!(format_labels(&v, &["e"]), "<none>");
        assert_eq!(format_labels(&v, &["missing"]), "<none>");

        let sel = json!({"s": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
        }});
        assert_eq!(format_label_selector(&sel, &["s"]), "app=web,tier in (a,b)");
        assert_eq!(format_label_selector(&json!({"s": {}}), &["s"]), "<none>");
        assert_eq!(format_label_selector(&json!({}), &["s"]), "<none>");
        let bad = json!({"s": {"matchExpressions": [{"key": "k", "operator": "Gt"}]}});
        assert_eq!(format_label_selector(&bad, &["s"]), "<error>");
        assert!(label_selector(None).is_some_and(|s| s.is_nothing()));
    }

    #[test]
    fn lists_and_containers() {
        let spec =
            json!({"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y"}]});
        assert_eq!(containers(Some(&spec)), ("a,b".into(), "x:1,y".into()));
        assert_eq!(containers(None), (String::new(), String::new()));
        let l: Vec<String> = ["1", "2", "3", "4"].iter().map(|s| s.to_string()).collect();
        assert_eq!(list_with_more(&l, 5), "1,2,3 + 2 more...");
        assert_eq!(list_with_more(&l[..2], 2), "1,2");
        assert_eq!(list_with_more(&[], 0), "<unset>");
    }
}
