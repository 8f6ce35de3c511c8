use super::*;

fn g(id: &str) -> GroupId {
    GroupId::parse(id).unwrap()
}

fn users(ids: &[&str]) -> Vec<UserId> {
    ids.iter().map(|u| UserId::parse(u).unwrap()).collect()
}

fn names(list: &[UserId]) -> Vec<&str> {
    list.iter().map(|u| u.as_str()).collect()
}

#[test]
fn a_list_read_once_is_answered_from_memory() {
    let r = Rosters::default();
    let ticket = r.get(&g("g1")).unwrap_err();
    let list = r.fill(&g("g1"), ticket, users(&["amy", "bob"]));
    assert_eq!(names(&list), ["amy", "bob"]);
    assert_eq!(names(&r.get(&g("g1")).unwrap()), ["amy", "bob"]);
    assert!(r.get(&g("g2")).is_err(), "another group is not kept");
    assert_eq!(r.ids(), 2);
}

/// Joins, leaves, kicks and destroys all run as a write of the group's scope.
#[test]
fn a_membership_write_of_the_group_bypasses_its_list_while_in_flight_and_drops_it_after() {
    let r = Rosters::default();
    let t = r.get(&g("g1")).unwrap_err();
    r.fill(&g("g1"), t, users(&["amy", "bob"]));
    let t = r.get(&g("g2")).unwrap_err();
    r.fill(&g("g2"), t, users(&["cat"]));

    let write = r.writing(Scope::Group(g("g1")));
    let during = r.get(&g("g1")).expect_err("in flight: read the store");
    assert!(r.get(&g("g2")).is_ok(), "other groups are not affected");
    // A store read during the write is answered but not kept: it may predate the commit.
    let list = r.fill(&g("g1"), during, users(&["amy", "bob", "dan"]));
    assert_eq!(names(&list), ["amy", "bob", "dan"]);
    assert!(r.get(&g("g1")).is_err());
    drop(write);

    let after = r.get(&g("g1")).expect_err("the write dropped the list");
    r.fill(&g("g1"), after, users(&["amy", "dan"]));
    assert_eq!(names(&r.get(&g("g1")).unwrap()), ["amy", "dan"]);
    assert_eq!(names(&r.get(&g("g2")).unwrap()), ["cat"]);
    assert_eq!(r.ids(), 3);
}

#[test]
fn a_store_read_that_a_write_overtook_is_not_kept() {
    let r = Rosters::default();
    let ticket = r.get(&g("g1")).unwrap_err();
    // The write begins and commits after the lookup, while the reader's read may have run
    // before its commit.
    drop(r.writing(Scope::Group(g("g1"))));
    r.fill(&g("g1"), ticket, users(&["amy"]));
    assert!(
        r.get(&g("g1")).is_err(),
        "a read that may be stale is not kept"
    );
}

#[test]
fn a_write_still_in_flight_at_fill_time_keeps_nothing() {
    let r = Rosters::default();
    let ticket = r.get(&g("g1")).unwrap_err();
    let write = r.writing(Scope::Group(g("g1")));
    r.fill(&g("g1"), ticket, users(&["amy"]));
    assert!(r.get(&g("g1")).is_err());
    drop(write);
    assert!(r.get(&g("g1")).is_err());
}

#[test]
fn overlapping_writes_of_one_group_bypass_it_until_the_last_ends() {
    let r = Rosters::default();
    let first = r.writing(Scope::Group(g("g1")));
    let second = r.writing(Scope::Group(g("g1")));
    drop(first);
    let t = r.get(&g("g1")).unwrap_err();
    r.fill(&g("g1"), t, users(&["amy"]));
    assert!(
        r.get(&g("g1")).is_err(),
        "the second write is still in flight"
    );
    drop(second);
    let t = r.get(&g("g1")).unwrap_err();
    r.fill(&g("g1"), t, users(&["amy"]));
    assert!(r.get(&g("g1")).is_ok());
}

/// A user's deletion takes them out of every group and destroys the ones they own.
#[test]
fn a_write_of_every_group_bypasses_and_drops_every_list() {
    let r = Rosters::default();
    for id in ["g1", "g2"] {
        let t = r.get(&g(id)).unwrap_err();
        r.fill(&g(id), t, users(&["amy", "bob"]));
    }
    let write = r.writing(Scope::All);
    assert!(r.get(&g("g1")).is_err());
    assert!(r.get(&g("g2")).is_err());
    let t = r.get(&g("g3")).unwrap_err();
    r.fill(&g("g3"), t, users(&["cat"]));
    assert!(
        r.get(&g("g3")).is_err(),
        "no list is kept during a user's deletion"
    );
    drop(write);
    assert!(r.get(&g("g1")).is_err());
    assert!(r.get(&g("g2")).is_err());
    assert_eq!(r.ids(), 0);
}

#[test]
fn memory_stays_under_the_bound_by_dropping_whole_lists() {
    let r = Rosters::default();
    let half = MAX_IDS / 2 + 1;
    let many = |n: usize| -> Vec<UserId> {
        (0..n)
            .map(|i| UserId::parse(&format!("u{i}")).unwrap())
            .collect()
    };
    let t = r.get(&g("g1")).unwrap_err();
    r.fill(&g("g1"), t, many(half));
    let t = r.get(&g("g2")).unwrap_err();
    r.fill(&g("g2"), t, many(half));
    assert!(r.ids() <= MAX_IDS);
    assert!(r.get(&g("g2")).is_ok(), "the newest list is kept");
    assert!(r.get(&g("g1")).is_err(), "an older one made room");
    // A list larger than the whole budget is answered, never kept.
    let t = r.get(&g("g3")).unwrap_err();
    assert_eq!(r.fill(&g("g3"), t, many(MAX_IDS + 1)).len(), MAX_IDS + 1);
    assert!(r.get(&g("g3")).is_err());
    assert!(r.get(&g("g2")).is_ok());
}
