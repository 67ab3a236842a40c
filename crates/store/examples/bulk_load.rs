//! Measures a bulk load and the analytics start-up read:
//! `cargo run --release -p healthplan-store --example bulk_load -- 20000 [postgres://…]`.

use healthplan_core::{Area, AreaCode, AreaLevel, DataValue, Period, Value};
use healthplan_store::{Store, StoreConfig};
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(20_000), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&StoreConfig::new(dir.path(), args.next())).await?;

    let gd = Area::new(
        AreaCode::parse("440000")?,
        "广东省",
        AreaLevel::Province,
        None,
    )?;
    let caps = healthplan_access::Caps::local(
        healthplan_access::Policy::new(&[], Default::default()),
        "bench",
    );
    let mut areas = vec![gd.clone()];
    for i in 1..=20 {
        let code = AreaCode::parse(&format!("44{i:02}00"))?;
        areas.push(Area::new(
            code,
            &format!("市{i}"),
            AreaLevel::City,
            Some(&gd),
        )?);
    }
    store
        .import_areas(&caps.registry_admin().expect("local"), &areas)
        .await?;

    let values: Vec<DataValue> = (0..n)
        .map(|i| {
            let area = areas[1 + i % 20].code.clone();
            let period = Period::Month(2000 + (i / 20 / 12 % 100) as i32, (i / 20 % 12) as u8 + 1);
            let element = format!("E{}", i / (20 * 12 * 100));
            DataValue::new(&element, area, period, Value::Number { value: i as f64 })
        })
        .collect::<Result<_, _>>()?;

    let t = Instant::now();
    let c = store
        .import_data_values(&caps.bulk_writer().expect("local"), &values)
        .await?;
    let load = t.elapsed();
    let t = Instant::now();
    let all = store
        .list_data_values(&caps.reader(), &Default::default())
        .await?;
    let read = t.elapsed();
    assert_eq!(all.len(), c.inserted);
    println!(
        "{} backend: imported {} values (+{} audit rows) in one transaction in {:.2?} ({:.0}/s); all_data_values read {} in {:.2?} ({:.0}/s)",
        store.backend(),
        c.inserted,
        c.inserted,
        load,
        n as f64 / load.as_secs_f64(),
        all.len(),
        read,
        all.len() as f64 / read.as_secs_f64()
    );
    store.close().await;
    Ok(())
}
