//! Measures the analytics start-up load from a real store:
//! `cargo run --release -p healthplan-app --example startup -- 1000000 [postgres://…]
//! [--data-dir DIR] [--compare]`.
//! Stores a province (1 + 21 cities + 126 counties + 1 638 towns + villages) and N monthly
//! values through the store's bulk import, then times `App::open` (read every value + build).
//! `--data-dir DIR` keeps the SQLite file in DIR and skips the import when it already holds
//! N values, so the load alone can be measured (e.g. its peak RSS) run after run.
//! `--compare` also times the store's `all_data_values` (a whole `Vec<DataValue>`) after
//! the load, for reference; leave it off when measuring memory.

use healthplan_app::App;
use healthplan_core::{
    Aggregation, Area, AreaCode, AreaLevel, DataElement, DataValue, Period, Value, ValueType,
};
use healthplan_store::{Store, StoreConfig};
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut positional, mut data_dir, mut compare) = (Vec::new(), None, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data-dir" => data_dir = Some(args.next().ok_or("--data-dir needs a directory")?),
            "--compare" => compare = true,
            _ => positional.push(a),
        }
    }
    let mut positional = positional.into_iter();
    let n: usize = positional.next().map_or(Ok(1_000_000), |s| s.parse())?;
    let temp = tempfile::tempdir()?;
    let dir = data_dir.map_or_else(|| temp.path().to_path_buf(), std::path::PathBuf::from);
    let store = Store::open(&StoreConfig::new(&dir, positional.next())).await?;
    let bench = healthplan_access::Caps::local(healthplan_app::load_policy(&store).await?, "bench");
    let stored = store
        .row_counts()
        .await?
        .into_iter()
        .find(|(t, _)| t == "data_values")
        .map_or(0, |(_, c)| c as usize);

    let gd = Area::new(AreaCode::parse("440000")?, "省", AreaLevel::Province, None)?;
    let mut areas = vec![gd.clone()];
    let mut villages = Vec::new();
    for c in 1..=21 {
        let city = Area::new(
            AreaCode::parse(&format!("44{c:02}00"))?,
            "市",
            AreaLevel::City,
            Some(&gd),
        )?;
        areas.push(city.clone());
        for k in 1..=6 {
            let county = Area::new(
                AreaCode::parse(&format!("44{c:02}{k:02}"))?,
                "县",
                AreaLevel::County,
                Some(&city),
            )?;
            areas.push(county.clone());
            for t in 1..=13 {
                let tc = format!("44{c:02}{k:02}{t:03}");
                let town = Area::new(AreaCode::parse(&tc)?, "镇", AreaLevel::Town, Some(&county))?;
                areas.push(town.clone());
                for v in 1..=16 {
                    let vil = Area::new(
                        AreaCode::parse(&format!("{tc}{v:03}"))?,
                        "村",
                        AreaLevel::Village,
                        Some(&town),
                    )?;
                    villages.push(vil.code.clone());
                    areas.push(vil);
                }
            }
        }
    }
    let t = Instant::now();
    if stored >= n {
        println!("reusing {stored} stored values in {}", store.location());
        return measure(&store, areas.len(), stored, t.elapsed(), compare).await;
    }
    store
        .import_areas(&bench.registry_admin().expect("local"), &areas)
        .await?;
    let elements = 10usize;
    for e in 0..elements {
        let el = DataElement::new(
            &format!("DE{e:02}"),
            "指标",
            ValueType::Number,
            Aggregation::Sum,
        )?;
        store
            .put_data_elements(&bench.registry_admin().expect("local"), &[el])
            .await?;
    }
    // Values spread over villages × 60 months × elements.
    let batch = 100_000;
    let mut done = 0;
    while done < n {
        let vals: Vec<DataValue> = (done..(done + batch).min(n))
            .map(|i| {
                let m = i % 60;
                let vil = (i / 60) % villages.len();
                let e = i / 60 / villages.len() % elements;
                let p = Period::Month(2020 + (m / 12) as i32, (m % 12) as u8 + 1);
                DataValue::new(
                    &format!("DE{e:02}"),
                    villages[vil].clone(),
                    p,
                    Value::Number {
                        value: (i % 1000) as f64,
                    },
                )
            })
            .collect::<Result<_, _>>()?;
        store
            .import_data_values(&bench.bulk_writer().expect("local"), &vals)
            .await?;
        done += vals.len();
    }
    let import = t.elapsed();
    measure(&store, areas.len(), n, import, compare).await
}

async fn measure(
    store: &Store,
    areas: usize,
    n: usize,
    import: std::time::Duration,
    compare: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let app = App::open(store.clone()).await?;
    let open = t.elapsed();
    let r = app.load_report();
    println!(
        "{} store: {} areas, {} values (import {:.1?}); App::open streamed {} values and built every aggregate in {:.2?} ({:.0} values/s)",
        store.backend(),
        areas,
        n,
        import,
        r.values,
        open,
        r.values as f64 / open.as_secs_f64(),
    );
    if compare {
        // The streaming read alone, to split the load between store and engine.
        let t = Instant::now();
        let scan = store
            .for_each_numeric_value(&mut |_| std::ops::ControlFlow::Continue(()))
            .await?;
        println!(
            "for comparison, for_each_numeric_value alone read {} values in {:.2?}",
            scan.numeric,
            t.elapsed()
        );
        // The materialising bulk read, for reference (it holds every value at once).
        let t = Instant::now();
        let bench =
            healthplan_access::Caps::local(healthplan_app::load_policy(store).await?, "bench");
        let all = store
            .list_data_values(&bench.reader(), &Default::default())
            .await?
            .len();
        println!(
            "for comparison, all_data_values read {all} values in {:.2?}",
            t.elapsed()
        );
    }
    drop(app);
    store.close().await;
    Ok(())
}
