//! The bulk path of seeding: for large seeds (millions of messages, where `append` at a few
//! thousand a second takes an hour), the history conversations' messages after their first
//! are inserted with plain SQL, then the aggregate columns are recomputed from the rows.
//!
//! The store has already made each conversation's first message (so the `conversations` and
//! `user_conversations` rows exist exactly as `append` makes them). The rows inserted here are
//! the ones `append` would make for a device's chat message: ids from `roam_domain::id`'s
//! generator continuing after the newest stored id (strictly increasing, time-ordered, `ts_ms`
//! their time), seqs gap-free per conversation, `ord` the running activity count. Then
//! `conversations` (last seq/ms, chat count, newest chat) and `user_conversations` (`sent`,
//! the list's `sort_key`) are set from aggregates over `messages`, by the rules `append`
//! keeps. Durability is off meanwhile (a crash mid-seed just means seeding again).
use std::{path::Path, time::Instant};

use anyhow::Context;
use bytes::Bytes;
use rand::Rng;
use roam_domain::{
    conversation::Target,
    id::{IdGenerator, MessageId},
    message::MessageKind,
    user::UserId,
};
use rusqlite::{Connection, params};

/// Rows per transaction.
const BATCH: u64 = 250_000;

/// One history conversation's place: its row id, the next seq, its activity count so far.
struct Conv {
    id: i64,
    next_seq: u64,
    ord: u64,
    /// (sender, encoded target, payload) for the a→b and b→a messages.
    sides: [(String, String, Bytes); 2],
}

/// What [`fill`] added: messages per conversation, and sampled (conversation, id) cursors.
pub type Filled = (Vec<u64>, Vec<(usize, u64)>);

/// Inserts messages `from..to` of the round-robin over `pairs` (message `k` goes to
/// conversation `k % n`, a→b on even rounds, b→a on odd ones, as `seed` orders them) into
/// `db`, then fixes the aggregates. Returns the messages added per conversation and sampled
/// (conversation, id) cursors (one in `keep_one_in`).
pub fn fill(
    db: &Path,
    pairs: &[(UserId, UserId)],
    resource: &str,
    payload: impl Fn(&str, &str) -> Bytes,
    (from, to): (u64, u64),
    keep_one_in: u64,
) -> anyhow::Result<Filled> {
    let began = Instant::now();
    let mut c = Connection::open(db)?;
    // Out of WAL (needs no other connection) into no journal at all.
    c.execute_batch("PRAGMA journal_mode=DELETE;")?;
    let mode: String = c.query_row("PRAGMA journal_mode=OFF", [], |r| r.get(0))?;
    if mode != "off" {
        eprintln!("seed (bulk): journal mode stays {mode} (slower)");
    }
    c.execute_batch(
        "PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY;",
    )?;
    let mut convs = pairs
        .iter()
        .map(|(a, b)| conv(&c, a, b, &payload))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let newest: u64 = c.query_row("SELECT MAX(id) FROM messages", [], |r| r.get(0))?;
    let ids = IdGenerator::new(0);
    ids.resume_after(MessageId(newest));

    let n = u64::try_from(pairs.len().max(1))?;
    let mut added = vec![0u64; pairs.len()];
    let mut samples = Vec::new();
    let mut rng = rand::rng();
    let kind = MessageKind::Chat.code();
    let mut k = from;
    while k < to {
        let end = (k + BATCH).min(to);
        let tx = c.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO messages (conv_id, seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity, ord, content_type, client_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, 'txt', NULL)",
            )?;
            for k in k..end {
                let i = usize::try_from(k % n)?;
                let cv = &mut convs[i];
                let (sender, target, body) = &cv.sides[usize::from((k / n) % 2 == 1)];
                let id = ids.next();
                cv.ord += 1;
                insert.execute(params![
                    cv.id,
                    cv.next_seq,
                    id.0,
                    sender,
                    resource,
                    target,
                    kind,
                    id.timestamp_ms(),
                    &body[..],
                    cv.ord
                ])?;
                cv.next_seq += 1;
                added[i] += 1;
                if rng.random_range(0..keep_one_in) == 0 {
                    samples.push((i, id.0));
                }
            }
        }
        tx.commit()?;
        k = end;
        eprintln!(
            "seed (bulk): {} of {} messages ({:.0}/s)",
            k - from,
            to - from,
            (k - from) as f64 / began.elapsed().as_secs_f64()
        );
    }
    fix_aggregates(&c).context("fixing the aggregate columns")?;
    c.execute_batch("PRAGMA journal_mode=WAL;")?;
    eprintln!("seed (bulk): done in {:.1}s", began.elapsed().as_secs_f64());
    Ok((added, samples))
}

/// The stored state of conversation a ↔ b (made by its first message through the store).
fn conv(
    c: &Connection,
    a: &UserId,
    b: &UserId,
    payload: &impl Fn(&str, &str) -> Bytes,
) -> anyhow::Result<Conv> {
    let (id, last_seq, chat_count): (i64, u64, u64) = c
        .query_row(
            "SELECT cv.id, cv.last_seq, cv.chat_count FROM user_conversations uc \
             JOIN conversations cv ON cv.id = uc.conv_id WHERE uc.user_id = ?1 AND uc.target = ?2",
            params![a.as_str(), Target::User(b.clone()).encode()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .with_context(|| format!("the conversation {a} ↔ {b} (its first message)"))?;
    let side = |from: &UserId, to: &UserId| {
        (
            from.as_str().to_owned(),
            Target::User(to.clone()).encode(),
            payload(from.as_str(), to.as_str()),
        )
    };
    Ok(Conv {
        id,
        next_seq: last_seq + 1,
        ord: chat_count,
        sides: [side(a, b), side(b, a)],
    })
}

/// Sets the aggregate columns `append` keeps from the rows of `messages`: each
/// conversation's last seq and ms, activity count and newest activity (seq, ms, id); each
/// side's `sent` (its user's activity messages) and, for a single chat side whose
/// conversation has activity after its hidden range, its list position (`sort_key`, the
/// newest activity's id).
fn fix_aggregates(c: &Connection) -> rusqlite::Result<()> {
    let began = Instant::now();
    c.execute_batch(
        "BEGIN;
         WITH agg AS (SELECT conv_id, MAX(seq) AS last_seq, SUM(activity) AS chats,
                             MAX(CASE WHEN activity = 1 THEN seq ELSE 0 END) AS last_chat_seq
                      FROM messages GROUP BY conv_id)
         UPDATE conversations SET last_seq = agg.last_seq, chat_count = agg.chats,
                last_chat_seq = agg.last_chat_seq
           FROM agg WHERE agg.conv_id = conversations.id;
         UPDATE conversations SET
           last_ms = (SELECT m.ts_ms FROM messages m WHERE m.conv_id = conversations.id AND m.seq = conversations.last_seq),
           last_chat_ms = COALESCE((SELECT m.ts_ms FROM messages m WHERE m.conv_id = conversations.id AND m.seq = conversations.last_chat_seq), 0),
           last_chat_id = COALESCE((SELECT m.id FROM messages m WHERE m.conv_id = conversations.id AND m.seq = conversations.last_chat_seq), 0)
         WHERE last_seq > 0;
         WITH agg AS (SELECT conv_id, from_user, SUM(activity) AS sent FROM messages
                      GROUP BY conv_id, from_user)
         UPDATE user_conversations SET sent = agg.sent
           FROM agg WHERE agg.conv_id = user_conversations.conv_id
                      AND agg.from_user = user_conversations.user_id;
         UPDATE user_conversations SET sort_key = cv.last_chat_id
           FROM conversations cv WHERE cv.id = user_conversations.conv_id
                AND user_conversations.kind = 0 AND cv.last_chat_seq > user_conversations.hidden_to;
         COMMIT;",
    )?;
    eprintln!(
        "seed (bulk): aggregates in {:.1}s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}
