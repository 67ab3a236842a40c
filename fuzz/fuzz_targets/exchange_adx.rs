//! Any bytes as ADX XML: refused or read, never a panic; what reads writes out and reads
//! back to the same set of values.
#![no_main]

use healthplan_exchange::adx::{read_adx, write_adx};
use healthplan_exchange::{Mapping, Options};
use libfuzzer_sys::fuzz_target;

include!("exchange_common.rs");

fuzz_target!(|data: &[u8]| {
    let (rules, map) = (rules(), Mapping::new());
    if let Ok(import) = read_adx(data, &map, &rules, Options { skip_bad_rows: true }) {
        let xml = write_adx(&import.values, &map, None).expect("identity mapping");
        let mut again = read_adx(xml.as_bytes(), &map, &rules, Options::default())
            .expect("reads back")
            .values;
        let mut want = import.values;
        let key = |v: &healthplan_core::DataValue| (v.element.clone(), v.area.clone(), v.period);
        again.sort_by_key(key);
        want.sort_by_key(key);
        assert_eq!(again, want);
    }
});
