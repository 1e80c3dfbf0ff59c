//! Removes a field named by a path such as `spec.containers[0].foo` (the
//! form unknown-field detection reports) from an object.

use serde_json::Value;

enum Step {
    Key(String),
    Index(usize),
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in path.trim_start_matches('.').split('.') {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            steps.push(Step::Key(name.to_string()));
        }
        let mut rest = rest;
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            steps.push(Step::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        }
    }
    Some(steps)
}

/// Removes the field at `path`; does nothing if it is not there.
pub fn remove_path(obj: &mut Value, path: &str) {
    let Some(steps) = parse(path) else { return };
    let Some((last, parents)) = steps.split_last() else {
        return;
    };
    let mut cur = obj;
    for s in parents {
        let next = match s {
            Step::Key(k) => cur.get_mut(k.as_str()),
            Step::Index(i) => cur.get_mut(*i),
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match (last, cur) {
        (Step::Key(k), Value::Object(m)) => {
            m.remove(k);
        }
        (Step::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn removes_nested_fields() {
        let mut o = json!({"bogus": 1, "spec": {"containers": [{"name": "a", "foo": 2}]}});
        remove_path(&mut o, "bogus");
        remove_path(&mut o, "spec.containers[0].foo");
        remove_path(&mut o, "spec.containers[5].foo");
        remove_path(&mut o, "spec.[x");
        assert_eq!(o, json!({"spec": {"containers": [{"name": "a"}]}}));
    }
}
