//! What a leaf certificate may be used for.

use rcgen::ExtendedKeyUsagePurpose;

/// The extended key usage of a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Usage {
    /// TLS server authentication only (serving certificates).
    Server,
    /// TLS client authentication only (users and components talking to
    /// the API server).
    Client,
    /// Both, e.g. for a component that serves and calls.
    ServerAndClient,
}

impl Usage {
    /// Whether the certificate may authenticate a TLS server.
    pub fn server(self) -> bool {
        matches!(self, Usage::Server | Usage::ServerAndClient)
    }

    /// Whether the certificate may authenticate a TLS client.
    pub fn client(self) -> bool {
        matches!(self, Usage::Client | Usage::ServerAndClient)
    }

    /// The extendedKeyUsage purposes to write.
    pub(crate) fn purposes(self) -> Vec<ExtendedKeyUsagePurpose> {
        let mut out = Vec::new();
        if self.server() {
            out.push(ExtendedKeyUsagePurpose::ServerAuth);
        }
        if self.client() {
            out.push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_follow_usage() {
        assert_eq!(
            Usage::Server.purposes(),
            [ExtendedKeyUsagePurpose::ServerAuth]
        );
        assert_eq!(
            Usage::Client.purposes(),
            [ExtendedKeyUsagePurpose::ClientAuth]
        );
        assert_eq!(
            Usage::ServerAndClient.purposes(),
            [
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth
            ]
        );
    }
}
