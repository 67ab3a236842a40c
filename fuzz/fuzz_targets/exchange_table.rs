//! Any bytes as the value table (CSV text, an .xlsx sheet) and as a mapping table: refused or
//! read, never a panic; a CSV that reads writes out and reads back to the same values.
#![no_main]

use healthplan_exchange::table::{read_csv, read_xlsx_table, write_csv};
use healthplan_exchange::{Limits, Mapping, Options};
use libfuzzer_sys::fuzz_target;

include!("exchange_common.rs");

fuzz_target!(|data: &[u8]| {
    let rules = rules();
    let _ = read_xlsx_table(data, &rules, Options::default(), &Limits::default());
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Mapping::from_csv(text);
    for text in [
        text.to_string(),
        format!("element,area_code,period,value,numerator,denominator,status,comment\n{text}"),
    ] {
        if let Ok(import) = read_csv(&text, &rules, Options { skip_bad_rows: true }) {
            let again = read_csv(&write_csv(&import.values), &rules, Options { skip_bad_rows: true })
                .expect("written CSV reads back");
            assert_eq!(again.values, import.values);
        }
    }
});
