//! A resource as the encryption configuration names it (`secrets`,
//! `deployments.apps`, `*.apps`, `*.`, `*.*`): upstream's
//! `schema.ParseGroupResource`.

/// A group and a resource; either may be `*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct GroupResource {
    /// The API group ("" for core).
    pub group: String,
    /// The resource (plural, lower case).
    pub resource: String,
}

impl GroupResource {
    /// A group and resource.
    pub fn new(group: &str, resource: &str) -> GroupResource {
        GroupResource {
            group: group.to_string(),
            resource: resource.to_string(),
        }
    }

    /// Splits at the first dot: the resource before it, the group after it
    /// (`secrets` is core, `*.` is every core resource).
    pub fn parse(text: &str) -> GroupResource {
        match text.split_once('.') {
            Some((resource, group)) => GroupResource::new(group, resource),
            None => GroupResource::new("", text),
        }
    }

    /// Every resource of the same group (`*.<group>`).
    pub fn any_in_group(&self) -> GroupResource {
        GroupResource::new(&self.group, "*")
    }

    /// Every resource of every group (`*.*`).
    pub fn any() -> GroupResource {
        GroupResource::new("*", "*")
    }

    /// How the configuration file spells it (upstream's `grYAMLString`).
    pub fn yaml_string(&self) -> String {
        if self.group.is_empty() {
            if self.resource == "*" {
                "*.".to_string()
            } else {
                self.resource.clone()
            }
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_like_the_file() {
        for (text, group, resource) in [
            ("secrets", "", "secrets"),
            ("deployments.apps", "apps", "deployments"),
            (
                "pandas.awesome.bears.example",
                "awesome.bears.example",
                "pandas",
            ),
            ("*.apps", "apps", "*"),
            ("*.", "", "*"),
            ("*.*", "*", "*"),
            ("*", "", "*"),
        ] {
            let gr = GroupResource::parse(text);
            assert_eq!((gr.group.as_str(), gr.resource.as_str()), (group, resource));
        }
        assert_eq!(GroupResource::parse("secrets").yaml_string(), "secrets");
        assert_eq!(GroupResource::parse("*.").yaml_string(), "*.");
        assert_eq!(GroupResource::parse("*").yaml_string(), "*.");
        assert_eq!(GroupResource::parse("*.apps").yaml_string(), "*.apps");
        assert_eq!(GroupResource::any().yaml_string(), "*.*");
    }
}
