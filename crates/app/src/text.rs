//! Text files as people save them.

use crate::AppError;

/// Text of a CSV as saved by a person: UTF-8 (with or without BOM), or GB18030 — what a
/// Chinese Excel writes by default.
pub fn decode_text(name: &str, bytes: &[u8]) -> Result<String, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, _, bad) = encoding_rs::GB18030.decode(bytes);
    if bad {
        return Err(AppError::Input(format!(
            "{name}: neither UTF-8 nor GB18030 text / 文件编码无法识别"
        )));
    }
    Ok(text.into_owned())
}
