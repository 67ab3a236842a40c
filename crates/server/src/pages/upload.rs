//! Uploaded files: reading one field of a multipart form, and what evidence may be.

use crate::error::ApiError;
use axum::extract::Multipart;
use axum::http::StatusCode;

/// The bytes and file name of the multipart field `name`.
pub async fn file_field(form: &mut Multipart, name: &str) -> Result<(String, Vec<u8>), ApiError> {
    let bad = |e: String| {
        ApiError::bad_request(
            format!("上传内容无法读取：{e}"),
            format!("the upload cannot be read: {e}"),
        )
        .field(name)
    };
    while let Some(field) = form.next_field().await.map_err(|e| bad(e.body_text()))? {
        if field.name() != Some(name) {
            continue;
        }
        let file_name = field
            .file_name()
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "upload".into());
        let bytes = field.bytes().await.map_err(|e| bad(e.body_text()))?;
        if bytes.is_empty() {
            return Err(ApiError::invalid(
                name,
                format!("{file_name}：文件为空"),
                format!("{file_name}: the file is empty"),
            ));
        }
        return Ok((file_name, bytes.to_vec()));
    }
    Err(ApiError::invalid(
        name,
        format!("请选择要上传的文件（字段 {name}）"),
        format!("no file in the form field {name:?}"),
    ))
}

/// The types evidence may have: (extension, content type, leading bytes).
const EVIDENCE: &[(&str, &str, &[u8])] = &[
    ("pdf", "application/pdf", b"%PDF"),
    ("png", "image/png", b"\x89PNG"),
    ("jpg", "image/jpeg", b"\xFF\xD8\xFF"),
    ("jpeg", "image/jpeg", b"\xFF\xD8\xFF"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        b"PK\x03\x04",
    ),
    ("doc", "application/msword", b"\xD0\xCF\x11\xE0"),
    ("xls", "application/vnd.ms-excel", b"\xD0\xCF\x11\xE0"),
    ("txt", "text/plain; charset=utf-8", b""),
];

/// The content type of an evidence file, or why it is refused (type or size).
pub fn evidence_type(name: &str, bytes: &[u8], max: usize) -> Result<&'static str, ApiError> {
    if bytes.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("{name}：文件超过 {} MB 上限", max / (1024 * 1024)),
            format!("{name}: larger than the {} MB limit", max / (1024 * 1024)),
        )
        .field("file"));
    }
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    let refused = || {
        ApiError::invalid(
            "file",
            format!("{name}：只接受 PDF、图片（PNG/JPG）、Word、Excel 或文本文件"),
            format!("{name}: only PDF, PNG/JPG images, Word, Excel or text files are accepted"),
        )
    };
    let (_, ct, magic) = EVIDENCE
        .iter()
        .find(|(e, _, _)| *e == ext)
        .ok_or_else(refused)?;
    let text_ok = magic.is_empty() && std::str::from_utf8(bytes).is_ok();
    if text_ok || (!magic.is_empty() && bytes.starts_with(magic)) {
        Ok(ct)
    } else {
        Err(ApiError::invalid(
            "file",
            format!("{name}：文件内容与扩展名 .{ext} 不符"),
            format!("{name}: the content is not a .{ext} file"),
        ))
    }
}

/// `Content-Disposition` for a download, with the name encoded for any browser.
pub fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_checked_by_name_content_and_size() {
        assert_eq!(
            evidence_type("a.pdf", b"%PDF-1.7", 100).unwrap(),
            "application/pdf"
        );
        assert!(
            evidence_type("a.pdf", b"MZ\x90", 100).is_err(),
            "an .exe renamed"
        );
        assert!(evidence_type("a.exe", b"MZ", 100).is_err());
        assert!(evidence_type("a.txt", &[0xff, 0xfe, 0x00], 100).is_err());
        assert_eq!(
            evidence_type("b.pdf", &[b'%'; 200], 100)
                .unwrap_err()
                .status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            attachment("会议 纪要.pdf"),
            "attachment; filename=\"_____.pdf\"; filename*=UTF-8''%E4%BC%9A%E8%AE%AE%20%E7%BA%AA%E8%A6%81.pdf"
        );
    }
}
