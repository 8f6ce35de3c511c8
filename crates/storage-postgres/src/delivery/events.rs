//! The events of a write that may run more than once (PostgreSQL may abort a transaction as a
//! deadlock's victim; `crate::rows::transaction!` then runs it again).
use roam_domain::{
    id::IdGenerator,
    message::NewMessage,
    store::{Committed, Events, StoreError},
};

use super::append_all;
use crate::rows::Tx;

/// A write's [`Events`] function, called at most once: a run of the write after the first
/// reuses the messages it made, if that run's outcome is the same; an outcome that differs
/// (another writer changed what the write saw) is an error rather than events that do not
/// match the change.
pub(crate) struct OnceEvents<T> {
    f: Option<Events<T>>,
    made: Option<(T, Vec<NewMessage>)>,
}

impl<T: Clone + PartialEq> OnceEvents<T> {
    pub(crate) fn new(f: Events<T>) -> OnceEvents<T> {
        OnceEvents {
            f: Some(f),
            made: None,
        }
    }

    /// The events of `value`.
    fn messages(&mut self, value: &T) -> Result<Vec<NewMessage>, StoreError> {
        if let Some(f) = self.f.take() {
            let messages = f(value);
            self.made = Some((value.clone(), messages.clone()));
            return Ok(messages);
        }
        match &self.made {
            Some((made_for, messages)) if made_for == value => Ok(messages.clone()),
            _ => Err(StoreError::Engine(
                "a write ran again after a deadlock with another outcome: not done".into(),
            )),
        }
    }

    /// Appends the events of `value` in the write's transaction (see
    /// [`super::with_events`]).
    pub(crate) async fn append(
        &mut self,
        tx: &Tx<'_>,
        ids: &IdGenerator,
        value: T,
    ) -> Result<Committed<T>, StoreError> {
        let messages = self.messages(&value)?;
        append_all(tx, ids, value, messages).await
    }
}
