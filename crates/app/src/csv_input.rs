//! Shared CSV reading for every CSV import: one header convention and one error wording.

use crate::AppError;

fn input(message: String) -> AppError {
    AppError::Input(message)
}

/// A trimming reader over `text` and its header, lower-cased, without a byte-order mark.
pub fn open<'a>(
    name: &str,
    text: &'a str,
) -> Result<(csv::Reader<&'a [u8]>, Vec<String>), AppError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = rdr
        .headers()
        .map_err(|e| error(name, e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    Ok((rdr, header))
}

/// A CSV error with the file name, line and field where the reader knows them.
pub fn error(name: &str, e: csv::Error) -> AppError {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos: Some(pos),
            expected_len,
            len,
        } => input(format!(
            "{name} line {}: the row has {len} fields but the header has {expected_len}",
            pos.line()
        )),
        csv::ErrorKind::Utf8 {
            pos: Some(pos),
            err,
        } => input(format!(
            "{name} line {}, field {}: not UTF-8 text",
            pos.line(),
            err.field() + 1
        )),
        _ => input(format!("{name}: {e}")),
    }
}
