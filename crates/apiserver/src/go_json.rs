//! Decoding configuration files as Go's encoding/json does where serde
//! differs.

use serde::{Deserialize, Deserializer};

/// Go decodes `null` as the zero value; serde only defaults missing fields.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
