//! History: a page of one conversation as the user sees it.
use roam_domain::{
    roaming::{Direction, HistoryPage, HistoryQuery},
    store::StoreError,
    user::UserId,
};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};

use super::side;
use crate::rows::{MESSAGE_COLUMNS, engine, id_column, message_from_row, sql_bound, sql_count};

/// A page of history; `None` when the user has no side of the conversation (for a group or
/// chat room: not a member).
///
/// The statement is built from the query's filters (which ones are set, and how many content
/// types); its text is the statement cache's key, so each shape is prepared once.
pub(crate) fn history(
    c: &Connection,
    user: &UserId,
    q: &HistoryQuery,
) -> Result<Option<HistoryPage>, StoreError> {
    let Some(side) = side(c, user, &q.target).map_err(engine)? else {
        return Ok(None);
    };
    let newest_first = q.direction == Direction::NewestFirst;
    let mut args: Vec<Value> = vec![
        Value::Integer(side.conv),
        Value::Integer(side.start),
        Value::Text(user.as_str().to_owned()),
    ];
    let mut sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE conv_id = ?1 AND seq > ?2 AND kind = 0 \
         AND NOT EXISTS (SELECT 1 FROM deleted_messages d WHERE d.user_id = ?3 AND d.conv_id = m.conv_id AND d.seq = m.seq)"
    );
    if let Some(from) = q.from {
        let seq: Option<i64> = match id_column(from) {
            Some(id) => c
                .prepare_cached("SELECT seq FROM messages WHERE id = ?1 AND conv_id = ?2")
                .and_then(|mut st| st.query_row(params![id, side.conv], |r| r.get(0)))
                .optional()
                .map_err(engine)?,
            None => None,
        };
        let seq = seq.ok_or(StoreError::MessageNotFound(from))?;
        args.push(Value::Integer(seq));
        sql += &format!(
            " AND seq {} ?{}",
            if newest_first { "<" } else { ">" },
            args.len()
        );
    }
    if !q.content_types.is_empty() {
        let first = args.len() + 1;
        args.extend(q.content_types.iter().map(|t| Value::Text(t.clone())));
        let marks: Vec<String> = (first..=args.len()).map(|i| format!("?{i}")).collect();
        sql += &format!(" AND content_type IN ({})", marks.join(","));
    }
    if let Some(t) = q.start_ms {
        args.push(Value::Integer(sql_bound(t)));
        sql += &format!(" AND ts_ms >= ?{}", args.len());
    }
    if let Some(t) = q.end_ms {
        args.push(Value::Integer(sql_bound(t)));
        sql += &format!(" AND ts_ms <= ?{}", args.len());
    }
    if let Some(u) = &q.sender {
        args.push(Value::Text(u.as_str().to_owned()));
        sql += &format!(" AND from_user = ?{}", args.len());
    }
    let limit = q.limit.get();
    args.push(Value::Integer(sql_count(limit + 1)));
    sql += &format!(
        " ORDER BY seq {} LIMIT ?{}",
        if newest_first { "DESC" } else { "ASC" },
        args.len()
    );
    let mut stmt = c.prepare_cached(&sql).map_err(engine)?;
    let mut messages = stmt
        .query_map(params_from_iter(args), message_from_row)
        .map_err(engine)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(engine)?;
    let is_last = messages.len() <= limit;
    messages.truncate(limit);
    Ok(Some(HistoryPage { messages, is_last }))
}
