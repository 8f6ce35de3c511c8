//! What an engine gives the suite: empty places for stores, and stores opened there.
use std::{future::Future, sync::Arc};

use crate::prelude::{Store, StoreError};

/// A storage engine under test.
///
/// Every test gets a place of its own, empty (SQLite: a new temporary directory; PostgreSQL: a
/// new schema or database), so tests run in parallel and never see each other's data. Tests
/// that check what survives a restart open the same place a second time, after dropping every
/// handle of the first opening.
pub trait Engine: Send + Sync + 'static {
    /// Where one test's data lives. Dropping it may remove the data (a temporary directory
    /// does); the suite drops it only after the last store opened there.
    type Place: Send + Sync + 'static;

    /// A new, empty place.
    fn place(&self) -> impl Future<Output = Result<Self::Place, StoreError>> + Send;

    /// Opens (creating the schema if needed) the store kept at `place`. Opened again after
    /// the previous store was dropped, it must see everything that store committed, as a
    /// server restarting on the same data does.
    fn open(
        &self,
        place: &Self::Place,
    ) -> impl Future<Output = Result<Arc<dyn Store>, StoreError>> + Send;
}

/// One test's own place, for tests that restart the store: [`Fresh::open`] as often as needed,
/// dropping the previous store first.
pub struct Fresh<E: Engine> {
    engine: Arc<E>,
    place: E::Place,
}

impl<E: Engine> Fresh<E> {
    /// A new, empty place of `engine`.
    pub async fn new(engine: Arc<E>) -> Fresh<E> {
        let place = engine.place().await.expect("the engine makes a place");
        Fresh { engine, place }
    }

    /// The store kept here: empty the first time, the same data after a restart.
    pub async fn open(&self) -> Arc<dyn Store> {
        self.engine
            .open(&self.place)
            .await
            .expect("the engine opens a store")
    }
}
