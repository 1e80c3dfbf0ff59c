//! Encryption at rest, as a store in front of the store: values of the
//! resources the encryption configuration names are encrypted on every
//! write and decrypted on every read and watch event, so nothing above
//! (handlers, watch caches) sees ciphertext and nothing below (the
//! embedded store's files, etcd) sees plaintext. Upstream does the same in
//! its storage layer's value transformers.
//!
//! The store key is the authenticated context of each value (AES-GCM's
//! additional data), so a ciphertext copied under another key does not
//! decrypt. Transactions that compare *values* would compare ciphertext;
//! the API server compares revisions only.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ironclad_store::{
    Error, KeyValue, LeaseGrant, Op, OpResponse, RangeRequest, RangeResponse, Result, Status,
    Store, Txn, TxnResponse, WatchRequest, WatchStream,
};

use crate::encryption::Transformers;
use crate::objects::ROOT;

/// A store whose configured resources are encrypted at rest.
pub struct EncryptedStore {
    inner: Arc<dyn Store>,
    transformers: Arc<Transformers>,
}

impl EncryptedStore {
    /// Encrypts `inner`'s values as `transformers` says.
    pub fn new(inner: Arc<dyn Store>, transformers: Arc<Transformers>) -> EncryptedStore {
        EncryptedStore {
            inner,
            transformers,
        }
    }
}

/// The (group, resource) an object key belongs to:
/// `/registry/<group or core>/<plural>/...`.
fn group_resource(key: &[u8]) -> Option<(&str, &str)> {
    let key = std::str::from_utf8(key).ok()?.strip_prefix(ROOT)?;
    let mut parts = key.splitn(3, '/');
    let group = parts.next()?;
    let resource = parts.next()?;
    parts.next()?;
    Some((if group == "core" { "" } else { group }, resource))
}

fn encrypt(t: &Transformers, key: &[u8], value: Bytes) -> Result<Bytes> {
    let Some((group, resource)) = group_resource(key) else {
        return Ok(value);
    };
    let Some(tr) = t.for_resource(group, resource) else {
        return Ok(value);
    };
    tr.encrypt(&value, key)
        .map(Bytes::from)
        .map_err(|e| Error::backend(format!("encrypt {}", String::from_utf8_lossy(key)), e))
}

fn decrypt(t: &Transformers, kv: &mut KeyValue) -> Result<()> {
    let Some((group, resource)) = group_resource(&kv.key) else {
        return Ok(());
    };
    let Some(tr) = t.for_resource(group, resource) else {
        return Ok(());
    };
    if kv.value.is_empty() {
        return Ok(());
    }
    let d = tr
        .decrypt(&kv.value, &kv.key)
        .map_err(|e| Error::backend(format!("decrypt {}", String::from_utf8_lossy(&kv.key)), e))?;
    kv.value = Bytes::from(d.plain);
    Ok(())
}

fn decrypt_all(t: &Transformers, kvs: &mut [KeyValue]) -> Result<()> {
    kvs.iter_mut().try_for_each(|kv| decrypt(t, kv))
}

fn encrypt_ops(t: &Transformers, ops: Vec<Op>) -> Result<Vec<Op>> {
    ops.into_iter()
        .map(|op| match op {
            Op::Put {
                key,
                value,
                lease,
                prev_kv,
            } => Ok(Op::Put {
                value: encrypt(t, &key, value)?,
                key,
                lease,
                prev_kv,
            }),
            other => Ok(other),
        })
        .collect()
}

#[async_trait]
impl Store for EncryptedStore {
    async fn range(&self, req: RangeRequest) -> Result<RangeResponse> {
        let mut resp = self.inner.range(req).await?;
        decrypt_all(&self.transformers, &mut resp.kvs)?;
        Ok(resp)
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse> {
        let txn = Txn {
            compare: txn.compare,
            success: encrypt_ops(&self.transformers, txn.success)?,
            failure: encrypt_ops(&self.transformers, txn.failure)?,
        };
        let mut resp = self.inner.txn(txn).await?;
        for r in &mut resp.responses {
            match r {
                OpResponse::Range(rr) => decrypt_all(&self.transformers, &mut rr.kvs)?,
                OpResponse::Put(p) => {
                    if let Some(kv) = &mut p.prev_kv {
                        decrypt(&self.transformers, kv)?;
                    }
                }
                OpResponse::Delete(d) => decrypt_all(&self.transformers, &mut d.prev_kvs)?,
            }
        }
        Ok(resp)
    }

    async fn watch(&self, req: WatchRequest) -> Result<WatchStream> {
        let t = self.transformers.clone();
        Ok(self.inner.watch(req).await?.map_responses(move |mut resp| {
            for ev in &mut resp.events {
                decrypt(&t, &mut ev.kv)?;
                if let Some(prev) = &mut ev.prev_kv {
                    decrypt(&t, prev)?;
                }
            }
            Ok(resp)
        }))
    }

    async fn lease_grant(&self, ttl: i64) -> Result<LeaseGrant> {
        self.inner.lease_grant(ttl).await
    }

    async fn lease_keep_alive(&self, id: i64) -> Result<i64> {
        self.inner.lease_keep_alive(id).await
    }

    async fn lease_revoke(&self, id: i64) -> Result<()> {
        self.inner.lease_revoke(id).await
    }

    async fn compact(&self, revision: ironclad_store::Revision) -> Result<()> {
        self.inner.compact(revision).await
    }

    async fn status(&self) -> Result<Status> {
        self.inner.status().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_resources() {
        assert_eq!(
            group_resource(b"/registry/core/secrets/ns/s"),
            Some(("", "secrets"))
        );
        assert_eq!(
            group_resource(b"/registry/apps/deployments/ns/d"),
            Some(("apps", "deployments"))
        );
        assert_eq!(group_resource(b"/registry/core/secrets"), None);
        assert_eq!(group_resource(b"/ironclad/election/server"), None);
    }
}
