//! The demo set-up on a real database: every plan shows every status, and a second run adds
//! nothing.

use super::*;
use healthplan_store::testing::{postgres_test_url, TestDatabase};
use healthplan_store::{Store, StoreConfig};

async fn story(store: Store) {
    let app = App::open(store.clone()).await.unwrap();
    let report = setup(&app, "test").await.unwrap();
    assert_eq!(report.plans.len(), 3);
    assert!(
        report.synthetic_values > 1000,
        "{}",
        report.synthetic_values
    );
    let caps = app.local_caps("test");
    let settings = Settings::default();
    rounds_are_fillable_and_the_reported_years_approved(&app, &caps).await;
    // Between them the plans show every verdict (a plan whose target year has come shows
    // only achieved and missed).
    let mut seen = std::collections::BTreeSet::new();
    for (id, title) in &report.plans {
        let run = app
            .evaluate_plan(&caps.reader(), *id, LAST_YEAR, &settings)
            .await
            .unwrap();
        assert!(run.synthetic, "{title}: demo values are marked synthetic");
        seen.extend(run.evaluation.results.iter().map(|r| r.status));
        let count = |f: &dyn Fn(Status) -> bool| {
            run.evaluation
                .results
                .iter()
                .filter(|r| f(r.status))
                .count()
        };
        // Plans whose targets come after the data show every kind of progress; targets
        // whose year has come are achieved or missed.
        let open = run
            .evaluation
            .results
            .iter()
            .any(|r| r.headline_year.is_some_and(|y| y > LAST_YEAR));
        let mut want: Vec<(&str, &dyn Fn(Status) -> bool)> =
            vec![("achieved", &|s| s == Status::Achieved)];
        if open {
            want.push(("on track", &|s| s == Status::OnTrack));
            want.push(("lagging", &|s| s == Status::Moderate));
            want.push(("off track", &|s| {
                matches!(s, Status::Insufficient | Status::MovingAway)
            }));
        } else {
            want.push(("missed", &|s| s == Status::Missed));
        }
        // Each indicator of the plan's own area takes the next kind in turn (a plan of a
        // few small counts cannot show them all).
        let kinds = if run.plan.indicators.len() >= 4 * want.len() {
            want.len()
        } else {
            1
        };
        let shown: Vec<&str> = want
            .iter()
            .filter(|(_, f)| count(*f) > 0)
            .map(|(name, _)| *name)
            .collect();
        assert!(shown.len() >= kinds, "{title}: only {shown:?}");
        assert!(
            run.evaluation.areas.len() > 1,
            "{title}: sub-areas evaluated"
        );
        // Task completion comes from the approved demo task reports.
        let completion = run.evaluation.task_completion.as_ref().unwrap();
        assert!(completion.iter().any(|c| c.completed > 0), "{title}");
    }
    for (name, f) in [
        (
            "achieved",
            &(|s| s == Status::Achieved) as &dyn Fn(Status) -> bool,
        ),
        ("on track", &|s| s == Status::OnTrack),
        ("lagging", &|s| s == Status::Moderate),
        ("off track", &|s| {
            matches!(s, Status::Insufficient | Status::MovingAway)
        }),
        ("missed", &|s| s == Status::Missed),
    ] {
        assert!(seen.iter().any(|s| f(*s)), "no indicator is {name}");
    }
    // Accounts for every role, able to sign in with the printed password.
    for a in ACCOUNTS {
        let hash = app
            .store()
            .user_password_hash(a.username)
            .await
            .unwrap()
            .unwrap();
        assert!(healthplan_access::password::verify_password(
            a.password, &hash
        ));
    }
    // One plan is published, so the public pages show something.
    let summaries = app.store().list_plans(&caps.reader()).await.unwrap();
    assert_eq!(
        summaries
            .iter()
            .filter(|s| s.status == healthplan_core::PlanStatus::Published)
            .count(),
        1
    );
    let before = app.store().row_counts().await.unwrap();
    let again = setup(&app, "test").await.unwrap();
    assert_eq!(again.synthetic_values, 0);
    let after = app.store().row_counts().await.unwrap();
    let without_audit = |c: &[(String, i64)]| {
        c.iter()
            .filter(|(t, _)| t != "audit_log")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(without_audit(&after), without_audit(&before));
}

#[tokio::test]
async fn demo_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path(), None))
        .await
        .unwrap();
    story(store).await;
}

#[tokio::test]
async fn demo_on_postgres() {
    let Some(server) = postgres_test_url() else {
        eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL story skipped");
        return;
    };
    let db = TestDatabase::create(&server).await.unwrap();
    let store = Store::open(&StoreConfig::new("unused", Some(db.url.clone())))
        .await
        .unwrap();
    story(store.clone()).await;
    store.close().await;
    db.remove().await.unwrap();
}

#[test]
fn generation_is_deterministic_and_consistent_across_levels() {
    let imported = healthplan_importer::import_text(BUNDLED_PLANS[2].1, "p.txt").unwrap();
    let mut doc = imported.plan;
    prepare_plan(&mut doc, AreaLevel::City).unwrap();
    for (k, ind) in doc.indicators.iter_mut().enumerate() {
        ind.element = Some(format!("E{k}"));
        assert!(ind.lead_department().is_some_and(|l| l.starts_with('市')));
    }
    // A city, two districts, three streets under the first.
    let code = |c: &str| AreaCode::parse(c).unwrap();
    let root = code("445300");
    let areas = [
        (root.clone(), None),
        (code("445302"), Some(root.clone())),
        (code("445303"), Some(root.clone())),
        (code("445302001"), Some(code("445302"))),
        (code("445302002"), Some(code("445302"))),
        (code("445302003"), Some(code("445302"))),
    ];
    let s = Settings::default();
    let a = synthetic_values(&doc, &root, &areas, 7, &s);
    let b = synthetic_values(&doc, &root, &areas, 7, &s);
    assert_eq!(a, b);
    assert_eq!(a.len(), doc.indicators.len() * areas.len() * 6);
    assert!(a
        .iter()
        .all(|v| v.synthetic && v.status == ValueStatus::Approved));
    let value = |e: &str, area: &AreaCode, year: i32| {
        a.iter()
            .find(|v| v.element == e && v.area == *area && v.period == Period::Year(year))
            .map(|v| match v.value {
                Value::Number { value } => value,
                _ => panic!("a number"),
            })
            .unwrap()
    };
    let mut checked = [0, 0, 0];
    for ind in &doc.indicators {
        let e = ind.element.as_deref().unwrap();
        for year in FIRST_YEAR..=LAST_YEAR {
            for (parent, kids) in [(&root, &areas[1..3]), (&areas[1].0, &areas[3..6])] {
                let p = value(e, parent, year);
                let kids: Vec<f64> = kids.iter().map(|(c, _)| value(e, c, year)).collect();
                let (lo, hi) = kids
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
                        (l.min(*x), h.max(*x))
                    });
                if counts_whole(ind) {
                    assert!(
                        kids.iter().chain([&p]).all(|x| x.fract() == 0.0),
                        "{}",
                        ind.name
                    );
                    checked[0] += 1;
                }
                if ind.applies_to() == AppliesTo::PlanArea {
                    let sum: f64 = kids.iter().sum();
                    assert!((sum - p).abs() < 1e-6, "{}: {p} ≠ Σ{kids:?}", ind.name);
                    checked[1] += 1;
                } else {
                    assert!(
                        lo - 1e-9 <= p && p <= hi + 1e-9,
                        "{}: {p} outside {kids:?}",
                        ind.name
                    );
                    checked[2] += 1;
                }
            }
        }
    }
    assert!(checked.iter().all(|n| *n > 0), "{checked:?}");
}

/// Every open round collects a year its areas can fill (no value of it approved or even
/// entered), inside the plan's period when the period runs past the data, while the years the
/// reports read stay approved.
async fn rounds_are_fillable_and_the_reported_years_approved(app: &App, caps: &Caps) {
    let store = app.store();
    let rounds = store.list_rounds(&caps.reader()).await.unwrap();
    assert_eq!(rounds.len(), 3, "a round per plan");
    for round in rounds.iter().filter(|r| r.open) {
        let doc = store.plan(&caps.reader(), round.plan_id).await.unwrap();
        let Period::Year(year) = round.period else {
            panic!("a yearly round: {}", round.period)
        };
        assert!(year > LAST_YEAR, "{}: after the approved data", round.title);
        if let Some([start, end]) = doc.period.filter(|p| p[1] > LAST_YEAR) {
            assert!(
                (start..=end).contains(&year),
                "{}: {year} inside {start}–{end}",
                round.title
            );
        }
        let elements: Vec<String> = doc
            .indicators
            .iter()
            .filter_map(|i| i.element.clone())
            .collect();
        for area in &round.areas {
            let filter = |period| DataValueFilter {
                elements: elements.clone(),
                area: Some(area.clone()),
                period: Some(period),
                ..Default::default()
            };
            let open = store
                .list_data_values(&caps.reader(), &filter(round.period))
                .await
                .unwrap();
            assert!(
                open.is_empty(),
                "{}: {area} has nothing entered yet",
                round.title
            );
            let reported = store
                .list_data_values(&caps.reader(), &filter(Period::Year(LAST_YEAR)))
                .await
                .unwrap();
            assert!(
                !reported.is_empty(),
                "{}: {area} has {LAST_YEAR} data",
                round.title
            );
            assert!(
                reported.iter().all(|v| v.status == ValueStatus::Approved),
                "{}: {area}'s {LAST_YEAR} values are approved",
                round.title
            );
        }
    }
}
