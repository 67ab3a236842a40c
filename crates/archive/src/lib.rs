//! Uploaded zip archives (.xlsx workbooks, .docx documents) opened with bounds, so a small
//! file cannot make the server unpack gigabytes: the number of entries, each entry's
//! expansion ratio, the declared total and what the entries really unpack to are checked before
//! anything is parsed, and an entry read past its bound is refused, never cut short. Pure: bytes
//! in memory, no I/O.

use std::io::{Cursor, Read};

/// Bounds on one archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// All entries unpacked, by their declared sizes and by what they actually unpack to.
    pub max_unpacked: u64,
    pub max_entries: usize,
    /// Unpacked / packed size of any entry that unpacks to more than [`RATIO_FLOOR`].
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_unpacked: 200 * 1024 * 1024,
            max_entries: 10_000,
            max_ratio: 200,
        }
    }
}

/// Entries smaller than this are not held to the ratio (tiny XML compresses very well).
pub const RATIO_FLOOR: u64 = 1024 * 1024;

/// Why an archive was refused. [`ArchiveError::is_bomb`] tells a damaged file from one built
/// to expand; `zh`/`en` give the reason in each language without the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("damaged archive ({0})")]
    Damaged(String),
    #[error("{count} entries, at most {max}")]
    TooManyEntries { count: usize, max: usize },
    #[error("{name} has a ratio of {ratio}:1, at most {max}:1")]
    Ratio { name: String, ratio: u64, max: u64 },
    #[error("{total} bytes unpacked, at most {max}")]
    Unpacked { total: u64, max: u64 },
    #[error("{name} declares {declared} bytes but unpacks to more")]
    Understated { name: String, declared: u64 },
    #[error("{name} unpacks to more than {max} bytes")]
    EntryTooLarge { name: String, max: u64 },
    #[error("no {0} inside")]
    Missing(String),
}

impl ArchiveError {
    /// Built to expand (or lying about its sizes), rather than damaged or incomplete.
    pub fn is_bomb(&self) -> bool {
        !matches!(self, ArchiveError::Damaged(_) | ArchiveError::Missing(_))
    }

    pub fn zh(&self) -> String {
        match self {
            ArchiveError::Damaged(e) => format!("压缩包损坏（{e}）"),
            ArchiveError::TooManyEntries { count, max } => {
                format!("包含 {count} 个文件，上限 {max}")
            }
            ArchiveError::Ratio { name, ratio, max } => {
                format!("{name} 压缩比 {ratio}:1，上限 {max}:1")
            }
            ArchiveError::Unpacked { total, max } => format!("解压后 {total} 字节，上限 {max}"),
            ArchiveError::Understated { name, declared } => {
                format!("{name} 声明 {declared} 字节，实际解压超过声明")
            }
            ArchiveError::EntryTooLarge { name, max } => {
                format!("{name} 解压后超过 {max} 字节")
            }
            ArchiveError::Missing(name) => format!("压缩包里没有 {name}"),
        }
    }

    pub fn en(&self) -> String {
        self.to_string()
    }
}

pub type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// Opens `bytes` as a zip archive within `limits`. Declared sizes are checked first, then every
/// entry is unpacked (to nowhere, never past its declared size plus one byte) to catch headers
/// that understate.
pub fn open<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Archive<'a>, ArchiveError> {
    let damaged = |e: zip::result::ZipError| ArchiveError::Damaged(e.to_string());
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    if zip.len() > limits.max_entries {
        return Err(ArchiveError::TooManyEntries {
            count: zip.len(),
            max: limits.max_entries,
        });
    }
    let mut declared_total: u64 = 0;
    let mut sizes = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(damaged)?;
        let (size, packed) = (f.size(), f.compressed_size());
        if size > RATIO_FLOOR && size / packed.max(1) > limits.max_ratio {
            return Err(ArchiveError::Ratio {
                name: String::from_utf8_lossy(f.name_raw()).into_owned(),
                ratio: size / packed.max(1),
                max: limits.max_ratio,
            });
        }
        declared_total = declared_total.saturating_add(size);
        sizes.push(size);
    }
    if declared_total > limits.max_unpacked {
        return Err(ArchiveError::Unpacked {
            total: declared_total,
            max: limits.max_unpacked,
        });
    }
    for (i, declared) in sizes.into_iter().enumerate() {
        let f = zip.by_index(i).map_err(damaged)?;
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        let mut limited = f.take(declared.saturating_add(1));
        let actual = std::io::copy(&mut limited, &mut std::io::sink())
            .map_err(|e| ArchiveError::Damaged(format!("{name}: {e}")))?;
        if actual != declared {
            return Err(ArchiveError::Understated { name, declared });
        }
    }
    Ok(zip)
}

/// Whether the archive holds an entry called `name`.
pub fn contains(zip: &Archive, name: &str) -> bool {
    zip.index_for_name(name).is_some()
}

/// The bytes of entry `name`, refused (not cut short) when it unpacks to more than `max`.
pub fn read(zip: &mut Archive, name: &str, max: u64) -> Result<Vec<u8>, ArchiveError> {
    let entry = match zip.by_name(name) {
        Ok(e) => e,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(ArchiveError::Missing(name.to_string()))
        }
        Err(e) => return Err(ArchiveError::Damaged(e.to_string())),
    };
    let mut out = Vec::new();
    entry
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| ArchiveError::Damaged(format!("{name}: {e}")))?;
    if out.len() as u64 > max {
        return Err(ArchiveError::EntryTooLarge {
            name: name.to_string(),
            max,
        });
    }
    Ok(out)
}

/// A deflated zip archive of `entries` (name, bytes), in memory: for tests that build
/// workbooks, documents and bombs.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        // Writing to memory fails only on a duplicate name, which tests do not write.
        if w.start_file(*name, opts).is_ok() {
            let _ = w.write_all(data);
        }
    }
    w.finish().map(Cursor::into_inner).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        zip_of(entries)
    }

    #[test]
    fn bombs_are_refused_by_ratio_total_and_count() {
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let bomb = zip_with(&[("a.xml", b"<w/>"), ("b.xml", &zeros)]);
        let e = open(&bomb, &Limits::default()).unwrap_err();
        assert!(
            matches!(e, ArchiveError::Ratio { .. }) && e.is_bomb(),
            "{e}"
        );
        assert!(e.zh().contains("压缩比"), "{}", e.zh());
        let l = Limits {
            max_ratio: u64::MAX,
            max_unpacked: 1024 * 1024,
            ..Limits::default()
        };
        assert!(matches!(
            open(&bomb, &l).unwrap_err(),
            ArchiveError::Unpacked { .. }
        ));
        let l = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        assert!(matches!(
            open(&bomb, &l).unwrap_err(),
            ArchiveError::TooManyEntries { count: 2, max: 1 }
        ));
        let e = open(b"PK\x03\x04garbage", &Limits::default()).unwrap_err();
        assert!(!e.is_bomb() && e.zh().contains("损坏"), "{e}");
    }

    #[test]
    fn an_entry_past_its_bound_is_refused_not_cut() {
        let text = vec![b'a'; 5000];
        let z = zip_with(&[("word/document.xml", &text)]);
        let mut zip = open(&z, &Limits::default()).unwrap();
        assert!(contains(&zip, "word/document.xml"));
        assert_eq!(
            read(&mut zip, "word/document.xml", 5000).unwrap().len(),
            5000
        );
        let e = read(&mut zip, "word/document.xml", 4999).unwrap_err();
        assert_eq!(
            e,
            ArchiveError::EntryTooLarge {
                name: "word/document.xml".into(),
                max: 4999
            }
        );
        assert!(matches!(
            read(&mut zip, "nothing.xml", 10).unwrap_err(),
            ArchiveError::Missing(_)
        ));
    }
}
