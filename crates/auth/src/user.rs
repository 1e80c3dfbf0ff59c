//! Who a request is: upstream's `user.Info`, and the well-known user and
//! group names the API server and the bootstrap policy refer to.

use std::collections::BTreeMap;

/// The group every authenticated request is in.
pub const AUTHENTICATED: &str = "system:authenticated";
/// The group of anonymous requests.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// The user of anonymous requests.
pub const ANONYMOUS: &str = "system:anonymous";
/// The group whose members may do anything, whatever the authorizers say.
pub const MASTERS: &str = "system:masters";
/// The group of kubelets.
pub const NODES: &str = "system:nodes";
/// The prefix of a kubelet's user name (`system:node:<node>`).
pub const NODE_PREFIX: &str = "system:node:";
/// The group of every service account.
pub const SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
/// The prefix of a service account's user name
/// (`system:serviceaccount:<namespace>:<name>`).
pub const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";
/// The group of bootstrap (join) tokens.
pub const BOOTSTRAPPERS: &str = "system:bootstrappers";
/// The controller-manager's user.
pub const KUBE_CONTROLLER_MANAGER: &str = "system:kube-controller-manager";
/// The scheduler's user.
pub const KUBE_SCHEDULER: &str = "system:kube-scheduler";
/// kube-proxy's user.
pub const KUBE_PROXY: &str = "system:kube-proxy";
/// The API server's own user (loopback requests it makes to itself).
pub const APISERVER: &str = "system:apiserver";

/// An authenticated (or anonymous) identity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    /// The user name (`alice`, `system:node:n1`, ...).
    pub name: String,
    /// A unique ID, where the authenticator has one (service accounts).
    pub uid: String,
    /// The groups, including `system:authenticated` for authenticated users.
    pub groups: Vec<String>,
    /// Extra attributes (service-account tokens: the pod's name and uid,
    /// the credential ID).
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// A user with these groups; adds `system:authenticated` if missing.
    pub fn authenticated(name: impl Into<String>, groups: &[&str]) -> UserInfo {
        let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.to_string());
        }
        UserInfo {
            name: name.into(),
            groups,
            ..Default::default()
        }
    }

    /// The anonymous user.
    pub fn anonymous() -> UserInfo {
        UserInfo {
            name: ANONYMOUS.to_string(),
            groups: vec![UNAUTHENTICATED.to_string()],
            ..Default::default()
        }
    }

    /// Whether the user is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// The node name of a kubelet identity (`system:node:<name>` in
    /// `system:nodes`), as upstream's `NodeIdentifier` reads it.
    pub fn node_name(&self) -> Option<&str> {
        let name = self.name.strip_prefix(NODE_PREFIX)?;
        (!name.is_empty() && self.in_group(NODES)).then_some(name)
    }

    /// The namespace and name of a service-account identity.
    pub fn service_account(&self) -> Option<(&str, &str)> {
        let rest = self.name.strip_prefix(SERVICE_ACCOUNT_PREFIX)?;
        let (ns, name) = rest.split_once(':')?;
        (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_and_service_account_names() {
        let n = UserInfo::authenticated("system:node:n1", &[NODES]);
        assert_eq!(n.node_name(), Some("n1"));
        assert!(n.in_group(AUTHENTICATED));
        let not_in_group = UserInfo::authenticated("system:node:n1", &[]);
        assert_eq!(not_in_group.node_name(), None);
        let sa = UserInfo::authenticated("system:serviceaccount:ns:default", &[]);
        assert_eq!(sa.service_account(), Some(("ns", "default")));
        assert_eq!(
            UserInfo::authenticated("system:serviceaccount:ns", &[]).service_account(),
            None
        );
    }
}
