//! Opening an uploaded .xlsx safely: size, zip structure and unpacked sizes are checked
//! before calamine reads anything.

use crate::check::Cell;
use crate::error::ExchangeError;
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// Bounds on an uploaded workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The file itself.
    pub max_file: usize,
    /// All entries unpacked, by their declared sizes and by what they actually unpack to.
    pub max_unpacked: u64,
    pub max_entries: usize,
    /// Unpacked / packed size of any entry that unpacks to more than 1 MiB.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        let a = healthplan_archive::Limits::default();
        Limits {
            max_file: 20 * 1024 * 1024,
            max_unpacked: a.max_unpacked,
            max_entries: a.max_entries,
            max_ratio: a.max_ratio,
        }
    }
}

fn not_xlsx(zh: impl Into<String>, en: impl Into<String>) -> ExchangeError {
    ExchangeError::NotXlsx {
        zh: zh.into(),
        en: en.into(),
    }
}

fn bomb(zh: impl Into<String>, en: impl Into<String>) -> ExchangeError {
    ExchangeError::ZipBomb {
        zh: zh.into(),
        en: en.into(),
    }
}

/// Refuses what is not a workbook of reasonable size, saying what it looks like instead.
pub(crate) fn guard(bytes: &[u8], limits: &Limits) -> Result<(), ExchangeError> {
    if bytes.len() > limits.max_file {
        return Err(ExchangeError::TooLarge {
            size: bytes.len(),
            limit: limits.max_file,
        });
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            not_xlsx(
                "这是旧版 .xls 或加密的工作簿，请在 Excel 中另存为 .xlsx（不加密码）",
                "this is an old .xls or an encrypted workbook; save it as .xlsx without a password",
            )
        } else if bytes.starts_with(b"%PDF") {
            not_xlsx("这是 PDF 文件", "this is a PDF file")
        } else if std::str::from_utf8(bytes).is_ok() {
            not_xlsx(
                "这是文本文件（CSV？），请按 CSV 导入",
                "this is a text file (CSV?); import it as CSV",
            )
        } else {
            not_xlsx("文件不是 zip 压缩包", "the file is not a zip archive")
        });
    }
    let archive = healthplan_archive::Limits {
        max_unpacked: limits.max_unpacked,
        max_entries: limits.max_entries,
        max_ratio: limits.max_ratio,
    };
    let zip = healthplan_archive::open(bytes, &archive).map_err(|e| {
        if e.is_bomb() {
            bomb(e.zh(), e.en())
        } else {
            not_xlsx(e.zh(), e.en())
        }
    })?;
    if !healthplan_archive::contains(&zip, "xl/workbook.xml") {
        return Err(not_xlsx(
            "压缩包里没有 xl/workbook.xml（是 .docx 或其他压缩包？）",
            "no xl/workbook.xml inside (a .docx or another archive?)",
        ));
    }
    Ok(())
}

/// A workbook that passed [`guard`].
pub(crate) fn open<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<Xlsx<Cursor<&'a [u8]>>, ExchangeError> {
    guard(bytes, limits)?;
    Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        not_xlsx(
            format!("无法读取工作簿（{e}）"),
            format!("cannot read the workbook ({e})"),
        )
    })
}

/// Every sheet name, for messages.
pub(crate) fn sheet_list(wb: &Xlsx<Cursor<&[u8]>>) -> String {
    wb.sheet_names().join("、")
}

/// The used range of a sheet, or a clear error when it is missing.
pub(crate) fn range(
    wb: &mut Xlsx<Cursor<&[u8]>>,
    sheet: &str,
) -> Result<calamine::Range<Data>, ExchangeError> {
    if !wb.sheet_names().iter().any(|s| s == sheet) {
        return Err(ExchangeError::WrongSheet {
            expected: sheet.to_string(),
            found: sheet_list(wb),
        });
    }
    wb.worksheet_range(sheet).map_err(|e| {
        not_xlsx(
            format!("无法读取工作表“{sheet}”（{e}）"),
            format!("cannot read sheet {sheet} ({e})"),
        )
    })
}

/// A cell as the checker takes it. Dates and errors become text, so they are refused as
/// numbers with what was in the cell.
pub(crate) fn cell(d: Option<&Data>) -> Cell {
    match d {
        None | Some(Data::Empty) => Cell::Empty,
        Some(Data::Int(i)) => Cell::Number(*i as f64),
        Some(Data::Float(x)) => Cell::Number(*x),
        Some(Data::Bool(b)) => Cell::Bool(*b),
        Some(Data::String(s)) => Cell::text(s),
        Some(Data::DateTime(dt)) => Cell::Text(format!("日期 {dt}")),
        Some(Data::DateTimeIso(s) | Data::DurationIso(s)) => Cell::Text(s.clone()),
        Some(Data::Error(e)) => Cell::Text(format!("#{e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        healthplan_archive::zip_of(entries)
    }

    fn message(r: Result<(), ExchangeError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn refuses_what_is_not_a_workbook() {
        let l = Limits::default();
        assert!(message(guard(b"element,area\n", &l)).contains("这是文本文件（CSV？）"));
        assert!(message(guard(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0], &l)).contains("旧版 .xls"));
        assert!(message(guard(b"%PDF-1.7", &l)).contains("PDF"));
        assert!(message(guard(&[0xFF, 0xFE, 0x00], &l)).contains("不是 zip"));
        assert!(message(guard(b"PK\x03\x04garbage", &l)).contains("压缩包损坏"));
        let docx = zip_with(&[("word/document.xml", b"<w/>")]);
        assert!(message(guard(&docx, &l)).contains("xl/workbook.xml"));
        let big = Limits { max_file: 10, ..l };
        assert!(message(guard(&docx, &big)).contains("文件过大"));
    }

    #[test]
    fn refuses_zip_bombs_by_ratio_total_and_count() {
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let bomb = zip_with(&[
            ("xl/workbook.xml", b"<w/>"),
            ("xl/worksheets/sheet1.xml", &zeros),
        ]);
        let e = message(guard(&bomb, &Limits::default()));
        assert!(e.contains("压缩炸弹") && e.contains("压缩比"), "{e}");
        let l = Limits {
            max_ratio: u64::MAX,
            max_unpacked: 1024 * 1024,
            ..Limits::default()
        };
        assert!(message(guard(&bomb, &l)).contains("解压后"));
        let l = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        assert!(message(guard(&bomb, &l)).contains("个文件"));
    }

    /// An entry whose header understates its size is caught when unpacked.
    #[test]
    fn refuses_entries_that_unpack_past_their_declared_size() {
        let data = vec![b'a'; 5000];
        let mut z = zip_with(&[("xl/workbook.xml", b"<w/>"), ("xl/big.xml", &data)]);
        // Patch the declared size (local header and central directory) to 100.
        let name = b"xl/big.xml";
        let mut patched = 0;
        let mut i = 0;
        while i + 4 <= z.len() {
            let sig = &z[i..i + 4];
            let (size_at, name_len_at, name_at) = if sig == b"PK\x03\x04" {
                (i + 22, i + 26, i + 30)
            } else if sig == b"PK\x01\x02" {
                (i + 24, i + 28, i + 46)
            } else {
                i += 1;
                continue;
            };
            let n = u16::from_le_bytes([z[name_len_at], z[name_len_at + 1]]) as usize;
            if z.get(name_at..name_at + n) == Some(&name[..]) {
                z[size_at..size_at + 4].copy_from_slice(&100u32.to_le_bytes());
                patched += 1;
            }
            i += 4;
        }
        assert_eq!(patched, 2);
        let e = message(guard(&z, &Limits::default()));
        assert!(e.contains("声明 100 字节") || e.contains("损坏"), "{e}");
    }
}
