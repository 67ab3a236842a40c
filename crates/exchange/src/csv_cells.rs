//! CSV as the product writes and reads it. A cell a spreadsheet would run as a formula
//! (starting `=`, `+`, `-`, `@`, tab or CR, OWASP's list) is written with a leading `'`, and
//! that quote is taken off again on reading, so export → import still gives back every
//! comment. Numbers are left alone: `-5` is a value, not a formula.

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell needs the quote: it starts like a formula, or it starts with a quote that
/// reading would otherwise take off.
fn needs_quote(cell: &str) -> bool {
    if cell.parse::<f64>().is_ok() {
        return false;
    }
    match cell.strip_prefix('\'') {
        Some(rest) => needs_quote(rest),
        None => cell.starts_with(TRIGGERS),
    }
}

/// The cell as written.
pub(crate) fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_quote(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The cell as it was before [`neutralise`].
pub(crate) fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

/// Rows as CSV text, every cell neutralised.
pub(crate) fn to_csv<'a>(rows: impl IntoIterator<Item = Vec<&'a str>>) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = w.write_record(row.iter().map(|c| neutralise(c).into_owned()));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_quoted_and_numbers_are_not() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("-5", "-5"),
            ("+3.5", "+3.5"),
            ("正常", "正常"),
            ("'quoted'", "'quoted'"),
        ] {
            assert_eq!(neutralise(cell), written, "{cell:?}");
            assert_eq!(restore(written), cell, "{written:?}");
        }
    }

    proptest! {
        #[test]
        fn restore_undoes_neutralise(cell in "['=+@\\-\t\r]{0,3}.{0,8}") {
            let written = neutralise(&cell);
            prop_assert_eq!(restore(&written), cell.as_str());
        }
    }
}
