use super::*;
use healthplan_core::{Area, AreaLevel};

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

fn tree() -> Vec<Area> {
    let gd = Area::new(code("440000"), "广东省", AreaLevel::Province, None).unwrap();
    let sz = Area::new(code("440300"), "深圳市", AreaLevel::City, Some(&gd)).unwrap();
    let gm = Area::new(code("440311"), "光明区", AreaLevel::County, Some(&sz)).unwrap();
    let ps = Area::new(code("440310"), "坪山区", AreaLevel::County, Some(&sz)).unwrap();
    let st = Area::new(code("440311001"), "光明街道", AreaLevel::Town, Some(&gm)).unwrap();
    let yf = Area::new(code("445300"), "云浮市", AreaLevel::City, Some(&gd)).unwrap();
    vec![gd, sz, gm, ps, st, yf]
}

fn policy() -> Arc<Policy> {
    let mut r = Responsibilities::default();
    r.add_element("DE1", "市卫生健康局");
    r.add_element("DE2", "市教育局");
    r.add_task(
        1,
        "t1",
        &["区教育局".to_string(), "区卫生健康局".to_string()],
    );
    Policy::new(&tree(), r)
}

fn user(role: Role, area: &str, departments: &[&str]) -> User {
    User::new(
        "u1",
        "U",
        vec![Grant {
            role,
            area: code(area),
            departments: departments.iter().map(|d| d.to_string()).collect(),
        }],
    )
    .unwrap()
}

#[test]
fn subtrees() {
    let p = policy();
    let a = p.areas();
    assert!(a.is_within(&code("440311001"), &code("440300")));
    assert!(a.is_within(&code("440300"), &code("440300")));
    assert!(!a.is_within(&code("440300"), &code("440311")));
    assert!(!a.is_within(&code("445300"), &code("440300")));
    assert!(
        !a.is_within(&code("999999"), &code("999999")),
        "unknown areas"
    );
    assert_eq!(a.subtree(&code("440311")).len(), 2);
    assert_eq!(
        a.ancestors(&code("440311001")),
        vec![code("440311"), code("440300"), code("440000")]
    );
}

#[test]
fn reporter_writes_only_its_areas_and_departments() {
    let p = policy();
    let caps = p.caps(
        &user(Role::Reporter, "440311", &["区卫生健康局"]),
        Via::Session,
    );
    let w = caps.value_writer().expect("a reporter writes values");
    assert!(w.check("DE1", &code("440311")).is_ok());
    assert!(w.check("DE1", &code("440311001")).is_ok(), "below its area");
    let other_area = w.check("DE1", &code("440310")).unwrap_err();
    assert!(other_area.zh.contains("坪山区"), "{other_area:?}");
    let other_dept = w.check("DE2", &code("440311")).unwrap_err();
    assert!(other_dept.en.contains("departments"), "{other_dept:?}");
    assert!(w.check("UNLINKED", &code("440311")).is_err());
    assert!(caps.reviewer().is_none());
    assert!(caps.plan_editor().is_none());
    assert!(caps.user_admin().is_none());
    assert!(caps.bulk_writer().is_none());
    let pw = caps.progress_writer().unwrap();
    assert!(pw.check(1, "t1", &code("440311")).is_ok());
    assert!(pw.check(1, "t2", &code("440311")).is_err());
}

#[test]
fn reporter_without_departments_writes_every_element_of_its_areas() {
    let p = policy();
    let caps = p.caps(&user(Role::Reporter, "440311", &[]), Via::Session);
    let w = caps.value_writer().unwrap();
    assert!(w.check("DE2", &code("440311")).is_ok());
    assert!(w.check("UNLINKED", &code("440311")).is_ok());
    assert!(w.check("DE2", &code("440300")).is_err());
}

#[test]
fn planner_reviews_and_edits_in_its_subtree_only() {
    let p = policy();
    let caps = p.caps(&user(Role::Planner, "440300", &[]), Via::Token(7));
    assert_eq!(caps.actor(), "u1 (token 7)");
    assert!(caps.value_writer().is_none());
    let r = caps.reviewer().unwrap();
    assert!(r.check_area(&code("440311")).is_ok());
    assert!(r.check_area(&code("445300")).is_err());
    let e = caps.plan_editor().unwrap();
    assert!(e.check_optional_area(Some(&code("440300"))).is_ok());
    assert!(e.check_optional_area(None).is_err());
}

#[test]
fn viewer_reads_its_subtree_and_plans_above_it() {
    let p = policy();
    let caps = p.caps(&user(Role::Viewer, "440311", &[]), Via::Session);
    assert!(caps.value_writer().is_none() && caps.reviewer().is_none());
    let r = caps.reader();
    assert!(r.area(&code("440311001")));
    assert!(!r.area(&code("440300")));
    assert!(
        r.plan(Some(&code("440300")), PlanStatus::Draft),
        "the city plan"
    );
    assert!(!r.plan(Some(&code("445300")), PlanStatus::Published));
    assert!(!r.plan(None, PlanStatus::Published));
}

#[test]
fn public_reads_published_plans_only() {
    let p = policy();
    let caps = p.public();
    assert!(!caps.is_signed_in());
    let r = caps.reader();
    assert!(r.is_public());
    assert!(r.plan(Some(&code("440300")), PlanStatus::Published));
    assert!(!r.plan(Some(&code("440300")), PlanStatus::Confirmed));
    assert!(!r.area(&code("440300")));
    assert!(caps.value_writer().is_none() && caps.self_service().is_none());
}

#[test]
fn disabled_users_have_no_rights() {
    let p = policy();
    let mut u = user(Role::Admin, "440000", &[]);
    u.disabled = true;
    let caps = p.caps(&u, Via::Session);
    assert!(!caps.is_signed_in() && caps.user_admin().is_none());
}

#[test]
fn admin_and_local_do_everything() {
    let p = policy();
    for caps in [
        p.caps(&user(Role::Admin, "440300", &[]), Via::Session),
        Caps::local(p.clone(), "cli:root"),
    ] {
        assert!(caps.is_admin());
        assert!(caps.user_admin().is_some() && caps.bulk_writer().is_some());
        let w = caps.value_writer().unwrap();
        assert!(w.check("DE2", &code("445300")).is_ok());
        assert!(caps
            .plan_editor()
            .unwrap()
            .check_optional_area(None)
            .is_ok());
        assert!(caps.reader().is_all());
    }
}

#[test]
fn planners_and_admins_edit_the_mapping_table_others_do_not() {
    let p = policy();
    let planner = p.caps(&user(Role::Planner, "440311", &[]), Via::Session);
    assert_eq!(planner.mapping_editor().unwrap().actor(), "u1");
    assert!(Caps::local(p.clone(), "cli:op").mapping_editor().is_some());
    for role in [Role::Reporter, Role::Viewer] {
        let caps = p.caps(&user(role, "440000", &[]), Via::Session);
        assert!(caps.mapping_editor().is_none(), "{role:?}");
    }
    assert!(p.public().mapping_editor().is_none());
}

/// A department's variant name (an alias) means the department: in a grant and in a plan.
#[test]
fn a_variant_department_name_resolves_through_its_alias() {
    let mut r = Responsibilities::default();
    r.add_element("DE3", "市文化广电旅游体育局");
    r.add_element("DE4", "市教育局");
    let grant = user(Role::Reporter, "440300", &["市文广旅体局"]);
    // Without the alias the names differ: refused.
    let plain = Policy::new(&tree(), r.clone());
    let w = plain.caps(&grant, Via::Session).value_writer().unwrap();
    assert!(w.check("DE3", &code("440300")).is_err());
    let p = Policy::with_aliases(
        &tree(),
        r,
        &[(
            "市文化广电旅游体育局".to_string(),
            "市文广旅体局".to_string(),
        )],
    );
    assert_eq!(
        p.department_key("深圳市文化广电旅游体育局"),
        p.department_key("市文广旅体局")
    );
    let w = p.caps(&grant, Via::Session).value_writer().unwrap();
    assert!(w.check("DE3", &code("440300")).is_ok());
    assert!(
        w.check("DE4", &code("440300")).is_err(),
        "other departments stay out"
    );
}
