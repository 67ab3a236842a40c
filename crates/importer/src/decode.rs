//! Bytes → text. UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK, and .docx.

use crate::{ImportError, Warning, MAX_INPUT_BYTES};

pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
    pub warnings: Vec<Warning>,
}

pub fn decode(bytes: &[u8], file_name: &str) -> Result<Decoded, ImportError> {
    let file = file_name.to_string();
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ImportError::TooLarge {
            file,
            size: bytes.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::Empty { file });
    }
    let lower = file_name.to_lowercase();
    if bytes.starts_with(b"PK\x03\x04") || lower.ends_with(".docx") {
        use crate::docx::DocxError;
        let text = crate::docx::extract_text(bytes).map_err(|e| match e {
            DocxError::Unreadable(reason) => ImportError::Docx {
                file: file.clone(),
                reason,
            },
            DocxError::Bomb(e) => ImportError::Bomb {
                file: file.clone(),
                zh: e.zh(),
                en: e.en(),
            },
            DocxError::TooMuchText => ImportError::TooMuch {
                file: file.clone(),
                what: crate::Counted::TextBytes,
            },
        })?;
        return Ok(Decoded {
            text,
            encoding: "docx",
            warnings: Vec::new(),
        });
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(ImportError::NotText {
            file,
            reason: "an old binary Word .doc; save it as .docx / 请另存为 .docx".into(),
        });
    }
    let (text, encoding) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        match std::str::from_utf8(rest) {
            Ok(s) => (s.to_string(), "utf-8"),
            Err(e) => return Err(bad_utf8(file, rest, e)),
        }
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (cow, _, had_errors) = encoding_rs::UTF_16LE.decode(bytes);
        if had_errors {
            return Err(ImportError::NotText {
                file,
                reason: "invalid UTF-16".into(),
            });
        }
        (cow.into_owned(), "utf-16")
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => (s.to_string(), "utf-8"),
            Err(e) => {
                match encoding_rs::GB18030
                    .decode_without_bom_handling_and_without_replacement(bytes)
                {
                    Some(s) => (s.into_owned(), "gb18030"),
                    None => return Err(bad_utf8(file, bytes, e)),
                }
            }
        }
    };
    // Text documents do not hold NUL or many other control characters.
    let controls = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        .count();
    if text.contains('\0') || controls * 100 > text.chars().count().max(1) {
        return Err(ImportError::NotText {
            file,
            reason: format!("{controls} control characters; this looks like binary data"),
        });
    }
    let mut warnings = Vec::new();
    if encoding == "gb18030" {
        warnings.push(Warning {
            line: None,
            message: "read as GB18030/GBK (not UTF-8) / 按 GB18030 编码读取".into(),
        });
    }
    Ok(Decoded {
        text,
        encoding,
        warnings,
    })
}

fn bad_utf8(file: String, bytes: &[u8], e: std::str::Utf8Error) -> ImportError {
    let at = e.valid_up_to();
    let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    ImportError::NotText {
        file,
        reason: format!(
            "line {line}, byte {at}: neither UTF-8 nor GB18030 / 既不是 UTF-8 也不是 GB18030 编码"
        ),
    }
}
