//! The client identities of the cluster's own components, as upstream
//! names them.

/// A client certificate identity: file stem under `DIR/pki`, user name and
/// groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Files `<file_stem>.crt` and `<file_stem>.key`.
    pub file_stem: &'static str,
    /// The certificate's CN: the user name.
    pub common_name: &'static str,
    /// The certificate's O values: the groups.
    pub groups: &'static [&'static str],
}

impl ClientIdentity {
    /// The groups as owned strings.
    pub fn groups(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.to_string()).collect()
    }
}

/// The cluster administrator (`DIR/admin.kubeconfig`): in `system:masters`,
/// which the authorizer lets do anything.
pub const ADMIN: ClientIdentity = ClientIdentity {
    file_stem: "admin",
    common_name: "system:admin",
    groups: &["system:masters"],
};

/// The controller manager, bound to `system:kube-controller-manager`.
pub const CONTROLLER_MANAGER: ClientIdentity = ClientIdentity {
    file_stem: "controller-manager",
    common_name: "system:kube-controller-manager",
    groups: &[],
};

/// The scheduler, bound to `system:kube-scheduler`.
pub const SCHEDULER: ClientIdentity = ClientIdentity {
    file_stem: "scheduler",
    common_name: "system:kube-scheduler",
    groups: &[],
};

/// kube-proxy, bound to `system:node-proxier`.
pub const KUBE_PROXY: ClientIdentity = ClientIdentity {
    file_stem: "kube-proxy",
    common_name: "system:kube-proxy",
    groups: &[],
};
