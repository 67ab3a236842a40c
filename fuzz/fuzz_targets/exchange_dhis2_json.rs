//! Any bytes as DHIS2 dataValueSets JSON: refused or read, never a panic; what reads writes
//! out and reads back to the same values.
#![no_main]

use healthplan_exchange::dhis2::{read_json, write_json};
use healthplan_exchange::{Mapping, Options};
use libfuzzer_sys::fuzz_target;

include!("exchange_common.rs");

fuzz_target!(|data: &[u8]| {
    let (rules, map) = (rules(), Mapping::new());
    if let Ok(import) = read_json(data, &map, &rules, Options { skip_bad_rows: true }) {
        let json = write_json(&import.values, &map, None).expect("identity mapping");
        let again = read_json(json.as_bytes(), &map, &rules, Options::default()).expect("reads back");
        assert_eq!(again.values, import.values);
    }
});
