//! The content-hashed name an asset is served under (shared with `build.rs`, which names
//! the files when it compresses them): `app.css` → `app.<12 hex digits of SHA-256>.css`, so a
//! changed file gets a new name and browsers may keep every name for a year.

use sha2::{Digest, Sha256};

pub fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{}.{hex}{}", &name[..dot], &name[dot..]),
        _ => format!("{name}.{hex}"),
    }
}
