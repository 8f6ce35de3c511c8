//! The store level: the storage calls themselves, as the service makes them.

use roam_domain::{
    conversation::Target,
    id::MessageId,
    roaming::{
        Direction, HistoryPage, HistoryQuery, ListCursor, ListFilter, ListPage, ListQuery,
        MAX_PAGE, PageSize,
    },
    store::{RoamingStore, StoreError},
    user::UserId,
};
use roam_storage_sqlite::{Options, SqliteStore};

use crate::{
    measure::{Sample, alternate},
    seed::{Db, Seeded},
};

fn list_query(after: Option<ListCursor>) -> ListQuery {
    ListQuery {
        filter: ListFilter::All {
            include_empty: false,
        },
        limit: PageSize::parse(i64::try_from(MAX_PAGE).unwrap()).unwrap(),
        after,
    }
}

fn history_query(talker: &UserId, from: Option<MessageId>) -> HistoryQuery {
    HistoryQuery {
        target: Target::User(talker.clone()),
        from,
        direction: Direction::NewestFirst,
        limit: PageSize::parse(i64::try_from(MAX_PAGE).unwrap()).unwrap(),
        content_types: vec![],
        start_ms: None,
        end_ms: None,
        sender: None,
    }
}

/// The store call of a list page of `s`'s lister.
fn list<'a>(
    store: &'a SqliteStore,
    s: &Seeded,
    after: Option<ListCursor>,
) -> impl AsyncFnMut() -> Result<ListPage, StoreError> + 'a {
    let (user, query) = (s.lister.clone(), list_query(after));
    async move || store.conversations(&user, &query).await
}

/// The store call of a history page of `s`'s reader.
fn history<'a>(
    store: &'a SqliteStore,
    s: &Seeded,
    from: Option<MessageId>,
) -> impl AsyncFnMut() -> Result<Option<HistoryPage>, StoreError> + 'a {
    let (user, query) = (s.reader.clone(), history_query(&s.talker, from));
    async move || store.history(&user, &query).await
}

/// Measures the operations through the store, baseline and target alternating. The list's
/// second page of the target is compared with the baseline's (only) first page.
pub async fn measure_store(base: &Db, big: &Db, iters: usize) -> Vec<Sample> {
    let bs = SqliteStore::open(&base.path(), Options::default()).unwrap();
    let gs = SqliteStore::open(&big.path(), Options::default()).unwrap();
    let (b, g) = (&base.seeded, &big.seeded);
    for (name, store, s) in [("baseline", &bs, b), ("target", &gs, g)] {
        let first = store.conversations(&s.lister, &list_query(None)).await;
        let items = first.unwrap().items;
        println!(
            "  {name} list page 1: {} conversations ({} unread, {} pinned, {} marked, {} groups)",
            items.len(),
            items.iter().filter(|c| c.unread > 0).count(),
            items.iter().filter(|c| c.pinned_ms.is_some()).count(),
            items.iter().filter(|c| c.marks.0 != 0).count(),
            items
                .iter()
                .filter(|c| matches!(c.target, Target::Group(_)))
                .count(),
        );
    }
    let cursor = gs
        .conversations(&g.lister, &list_query(None))
        .await
        .unwrap()
        .next
        .expect("a second page: more than 50 conversations");
    let list_len =
        |want: usize| move |p: Result<ListPage, _>| assert_eq!(p.unwrap().items.len(), want);
    let mut out = Vec::new();
    for after in [None, Some(cursor)] {
        let page = if after.is_some() { 1 } else { 0 };
        out.push(
            alternate(
                iters,
                list(&bs, b, None),
                list_len(base.page_len(0)),
                list(&gs, g, after),
                list_len(big.page_len(page)),
            )
            .await,
        );
    }
    let full = |p: Result<Option<HistoryPage>, _>| {
        assert_eq!(p.unwrap().unwrap().messages.len(), MAX_PAGE)
    };
    for mid in [false, true] {
        out.push(
            alternate(
                iters,
                history(&bs, b, mid.then_some(b.mid)),
                full,
                history(&gs, g, mid.then_some(g.mid)),
                full,
            )
            .await,
        );
    }
    out
}
