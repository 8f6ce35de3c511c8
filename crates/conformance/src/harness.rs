//! The suite as libtest-mimic trials: one per test, named `concern::what_it_checks`.
use std::{future::Future, process::ExitCode, sync::Arc};

use libtest_mimic::{Arguments, Trial};

use crate::{
    deletes, delivery,
    engine::{Engine, Fresh},
    events, groups, history, ids, list, model,
    prelude::Store,
    users,
};

/// Runs the whole suite against `engine`, taking the usual test arguments (a name filter,
/// `--list`, `--test-threads`, …) from the command line. The `main` of an engine's
/// `harness = false` test target.
pub fn run(engine: impl Engine) -> ExitCode {
    run_with(engine, Vec::new())
}

/// [`run`], plus the engine's own tests (what only that engine has: its files, its migrations).
pub fn run_with(engine: impl Engine, extra: Vec<Trial>) -> ExitCode {
    let args = Arguments::from_args();
    let mut all = trials(engine);
    all.extend(extra);
    libtest_mimic::run(&args, all).exit_code()
}

/// Every test of the suite, against `engine`.
pub fn trials<E: Engine>(engine: E) -> Vec<Trial> {
    let on = Suite(Arc::new(engine));
    vec![
        // users and tokens
        on.store("users::insert_all_or_none", users::insert_all_or_none),
        on.store("users::tokens_and_passwords", users::tokens_and_passwords),
        on.store(
            "users::listed_in_id_order_by_pages",
            users::listed_in_id_order_by_pages,
        ),
        on.store(
            "users::a_user_registered_again_does_not_inherit_old_messages",
            users::a_user_registered_again_does_not_inherit_old_messages,
        ),
        on.store(
            "users::a_deleted_user_leaves_every_group_they_were_in",
            users::a_deleted_user_leaves_every_group_they_were_in,
        ),
        // delivery to devices
        on.store(
            "delivery::sequences_are_per_conversation_without_gaps",
            delivery::sequences_are_per_conversation_without_gaps,
        ),
        on.store(
            "delivery::devices_are_owed_what_they_have_not_acked_but_never_their_own_sends",
            delivery::devices_are_owed_what_they_have_not_acked_but_never_their_own_sends,
        ),
        on.store(
            "delivery::a_new_device_gets_only_what_no_device_took",
            delivery::a_new_device_gets_only_what_no_device_took,
        ),
        on.store(
            "delivery::a_send_repeated_under_the_same_client_id_is_stored_once",
            delivery::a_send_repeated_under_the_same_client_id_is_stored_once,
        ),
        on.store(
            "delivery::acks_name_a_message_by_id_and_map_to_its_position",
            delivery::acks_name_a_message_by_id_and_map_to_its_position,
        ),
        on.store(
            "delivery::an_ack_answers_the_position_the_store_owes_from",
            delivery::an_ack_answers_the_position_the_store_owes_from,
        ),
        // groups
        on.store(
            "groups::members_get_messages_from_their_joining_on",
            groups::members_get_messages_from_their_joining_on,
        ),
        on.store(
            "groups::one_message_is_owed_to_every_member_of_a_big_group",
            groups::one_message_is_owed_to_every_member_of_a_big_group,
        ),
        // the conversation list
        on.store(
            "list::newest_first_with_arithmetic_unread",
            list::newest_first_with_arithmetic_unread,
        ),
        on.store(
            "list::pins_are_limited_and_newest_first",
            list::pins_are_limited_and_newest_first,
        ),
        // history
        on.store(
            "history::pages_both_ways_without_repeats",
            history::pages_both_ways_without_repeats,
        ),
        on.store(
            "history::filters_by_type_sender_and_time",
            history::filters_by_type_sender_and_time,
        ),
        on.store(
            "history::a_group_shows_a_member_only_what_came_after_joining",
            history::a_group_shows_a_member_only_what_came_after_joining,
        ),
        // one-way deletes
        on.store(
            "deletes::before_a_time_hides_only_for_the_deleting_user",
            deletes::before_a_time_hides_only_for_the_deleting_user,
        ),
        on.store(
            "deletes::all_conversations_with_their_history",
            deletes::all_conversations_with_their_history,
        ),
        // a write and the events it causes, committed together
        on.store(
            "events::the_events_of_a_write_are_stored_by_it_in_order",
            events::the_events_of_a_write_are_stored_by_it_in_order,
        ),
        on.store(
            "events::a_failed_write_records_no_events",
            events::a_failed_write_records_no_events,
        ),
        on.store(
            "events::deleting_a_user_destroys_their_groups_with_the_events_in_one_write",
            events::deleting_a_user_destroys_their_groups_with_the_events_in_one_write,
        ),
        // server ids and sequence numbers
        on.store(
            "ids::concurrent_appends_to_one_conversation_share_commits_and_keep_order",
            ids::concurrent_appends_to_one_conversation_share_commits_and_keep_order,
        ),
        on.store(
            "ids::unique_and_ordered_across_concurrent_conversations",
            ids::unique_and_ordered_across_concurrent_conversations,
        ),
        on.store(
            "ids::sequences_gap_free_in_id_order_under_concurrent_writers",
            ids::sequences_gap_free_in_id_order_under_concurrent_writers,
        ),
        on.store(
            "ids::carry_the_time_of_the_append",
            ids::carry_the_time_of_the_append,
        ),
        on.fresh(
            "ids::data_survives_a_restart_and_ids_continue_above_it",
            ids::data_survives_a_restart_and_ids_continue_above_it::<E>,
        ),
        on.fresh(
            "ids::keep_increasing_across_many_restarts",
            ids::keep_increasing_across_many_restarts::<E>,
        ),
        // the use-cases against a model
        on.model("model::roaming_matches_the_model"),
    ]
}

/// Makes trials that each get a fresh place of one engine.
struct Suite<E>(Arc<E>);

impl<E: Engine> Suite<E> {
    /// A test on a new, empty store.
    fn store<F, Fut>(&self, name: &str, test: F) -> Trial
    where
        F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let engine = self.0.clone();
        async_trial(name, move || async move {
            let fresh = Fresh::new(engine).await;
            test(fresh.open().await).await;
        })
    }

    /// A test that opens (and reopens) its store itself.
    fn fresh<F, Fut>(&self, name: &str, test: F) -> Trial
    where
        F: FnOnce(Fresh<E>) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let engine = self.0.clone();
        async_trial(
            name,
            move || async move { test(Fresh::new(engine).await).await },
        )
    }

    /// The model-based test: many cases, each on a new, empty store.
    fn model(&self, name: &str) -> Trial {
        let engine = self.0.clone();
        Trial::test(name, move || model::run(engine))
    }
}

/// A trial that runs `test` to completion on a runtime of its own (two worker threads, so
/// that tests of concurrent writers have real parallelism). A panic fails the trial.
pub fn async_trial<F, Fut>(name: impl Into<String>, test: F) -> Trial
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    Trial::test(name, move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(test());
        Ok(())
    })
}
